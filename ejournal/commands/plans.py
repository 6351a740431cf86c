"""The calendar-thematic plan (КТП) of a roster's subject (п. 2.6): its numbered items, each a topic
and its hours, that lessons' topics follow.

The subject's teacher imports the plan of a roster they teach; the head or a deputy may import it
for them. A new import replaces the items as a whole, recorded in the school year's log.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from ejournal.commands._access import (
    authorise_teaching,
    check_roster_subject,
    class_of,
    load_roster,
    non_blank,
    principal,
    teaches,
    writable_year,
    year_log,
)
from ejournal.commands.base import Command
from ejournal.commands.errors import refuse
from ejournal.ledger.actor import ADMINISTRATION
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import ThematicPlan
from ejournal.ledger.domain.values import PlanItem

MAX_PLAN_HOURS = 10


@dataclass(frozen=True, kw_only=True, slots=True)
class ImportKtp(Command[UUID]):
    """Import (or replace) the КТП of a roster's subject; returns the plan's ID."""

    roster_id: UUID
    subject_id: UUID
    items: tuple[PlanItem, ...]


def _whole(value: object) -> bool:
    """An int that is not a bool (True is no number of hours)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _plan_items(items: tuple[PlanItem, ...]) -> tuple[PlanItem, ...]:
    """The items with their topics trimmed, ordered by number; raises ``InvalidInput``."""
    if not items:
        raise refuse("plan.invalid_items", detail="нет ни одного пункта")
    cleaned = []
    for item in items:
        number, hours = item.number, item.hours
        if not _whole(number) or number < 1:
            raise refuse("plan.invalid_items", detail=f"номер пункта {number!r}")
        if not _whole(hours) or not 1 <= hours <= MAX_PLAN_HOURS:
            raise refuse("plan.invalid_items", detail=f"часы пункта {number}")
        topic = non_blank(item.topic)
        if not topic:
            raise refuse("plan.invalid_items", detail=f"нет темы пункта {number}")
        cleaned.append(PlanItem(number, topic, hours))
    numbers = [i.number for i in cleaned]
    if len(set(numbers)) != len(numbers):
        raise refuse("plan.invalid_items", detail="номера пунктов повторяются")
    return tuple(sorted(cleaned, key=lambda i: i.number))


def handle_import_ktp(cmd: ImportKtp, ledger: Ledger) -> UUID:
    """Import the roster's КТП in the subject (п. 2.6), or replace its items."""
    who = principal(ledger, cmd.actor)
    roster = load_roster(ledger, cmd.roster_id)
    school_id = roster.school_id
    year = writable_year(ledger, school_id, roster.year_start)
    check_roster_subject(year, roster, cmd.subject_id)
    # The teacher of the subject plans it (п. 2.6); the administration may load plans for them.
    admin = who.role(ADMINISTRATION, school_id)
    if teaches(ledger, who, roster, cmd.subject_id, None) or admin is None:
        school_class = class_of(ledger, roster)
        role = authorise_teaching(ledger, who, roster, school_class, cmd.subject_id, None)
    else:
        role = admin
    items = _plan_items(cmd.items)
    plan_id = ThematicPlan.create_id(roster_id=roster.id, subject_id=cmd.subject_id)
    plan = ledger.find(plan_id, ThematicPlan)
    if plan is None:
        plan = ThematicPlan.import_items(
            school_id=school_id,
            year_start=roster.year_start,
            roster_id=roster.id,
            subject_id=cmd.subject_id,
            items=items,
            at=ledger.clock(),
        )
    else:
        plan.replace(items, at=ledger.clock())
    ledger.record(plan, log_id=year_log(school_id, roster.year_start), actor=cmd.actor, role=role)
    return plan.id
