"""«КТП»: the calendar-thematic plan (п. 2.6), one row per item: the class (and group), the
subject, the item's number («№ урока»), its topic and hours (1 if not given). The rows of one
class's (or group's) subject are one plan: imported whole, replacing the plan there was; a plan
the same as the one there is is recognised."""

from __future__ import annotations

from collections import defaultdict
from functools import partial
from uuid import UUID

from ejournal import commands as c
from ejournal.commands.plans import MAX_PLAN_HOURS
from ejournal.exchange.cells import whole
from ejournal.exchange.files import Cell
from ejournal.exchange.plan import Plan
from ejournal.exchange.setup import SchoolSetup
from ejournal.exchange.sheet import Column, Row, SheetKind
from ejournal.exchange.sheets.assignments import roster_of
from ejournal.exchange.sheets.common import CLASS, GROUP, SUBJECT
from ejournal.ledger.domain import ThematicPlan
from ejournal.ledger.domain.values import PlanItem

NUMBER = Column(
    "number", "№ урока", ("№", "номер урока", "номер", "lesson", "number"), required=True
)
TOPIC = Column("topic", "Тема", ("topic", "тема урока"), required=True)
HOURS = Column("hours", "Часы", ("hours", "кол во часов", "количество часов"))


def plan_plans(rows: list[Row], plan: Plan) -> None:
    plans: dict[tuple[UUID, UUID], list[tuple[Row, PlanItem]]] = defaultdict(list)
    spoiled: set[tuple[UUID, UUID]] = set()
    numbers: dict[tuple[UUID, UUID, int], int] = {}
    for row in rows:
        klass = plan.school_class(row, CLASS.key)
        subject_id = plan.subject(row, SUBJECT.key)
        number = row.read(NUMBER.key, whole, required=True)
        topic = row.text(TOPIC.key, required=True)
        hours = row.read(HOURS.key, partial(whole, most=MAX_PLAN_HOURS)) or 1
        if klass is None or subject_id is None:
            continue
        roster_id = roster_of(row, plan, klass, subject_id, row.text(GROUP.key))
        if roster_id is None:
            continue
        key = (roster_id, subject_id)
        if number is not None and (roster_id, subject_id, number) in numbers:
            earlier = numbers[roster_id, subject_id, number]
            row.problem(NUMBER.key, f"пункт № {number} этого КТП уже указан в строке {earlier}")
        if row.bad or number is None:
            spoiled.add(key)
            continue
        numbers[roster_id, subject_id, number] = row.ref.row
        plans[key].append((row, PlanItem(number, topic, hours)))
    for (roster_id, subject_id), items in plans.items():
        if (roster_id, subject_id) in spoiled:
            continue
        wanted = tuple(sorted((item for _, item in items), key=lambda i: i.number))
        existing = plan.ledger.find(
            ThematicPlan.create_id(roster_id=roster_id, subject_id=subject_id), ThematicPlan
        )
        same = existing is not None and tuple(existing.items.values()) == wanted
        if not same:
            first = min((row for row, _ in items), key=lambda r: r.ref.row)
            command = c.ImportKtp(
                actor=plan.actor, roster_id=roster_id, subject_id=subject_id, items=wanted
            )
            plan.run(first, command, column=TOPIC.key, needs=[roster_id, subject_id])
        for _ in items:
            plan.counted(applied=not same)


def plan_rows(setup: SchoolSetup) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for (roster_id, subject_id), items in setup.rows.plans.items():
        school_class = setup.class_of(roster_id)
        if school_class is None:
            continue
        group = setup.groups.get(roster_id)
        for item in items:
            rows.append(
                [
                    f"{school_class.grade}{school_class.letter}",
                    "" if group is None else group.name,
                    setup.subject_name(subject_id),
                    item.number,
                    item.topic,
                    item.hours,
                ]
            )
    return rows


PLANS = SheetKind(
    name="ktp",
    title="КТП",
    aliases=(
        "ktp",
        "plan",
        "plans",
        "календарно тематическое планирование",
        "тематическое планирование",
    ),
    columns=(CLASS, GROUP, SUBJECT, NUMBER, TOPIC, HOURS),
    order=70,
    plan=plan_plans,
    rows=plan_rows,
    widths=(8, 14, 28, 9, 70, 7),
)
