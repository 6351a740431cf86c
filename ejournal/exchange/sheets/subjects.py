"""«Предметы»: the year's subjects, by name. A subject the year already has is recognised."""

from __future__ import annotations

from uuid import uuid4

from ejournal import commands as c
from ejournal.exchange.cells import name_key
from ejournal.exchange.files import Cell
from ejournal.exchange.plan import Plan
from ejournal.exchange.setup import SchoolSetup
from ejournal.exchange.sheet import Column, Row, SheetKind

NAME = Column("subject", "Предмет", ("subject", "название", "наименование"), required=True)


def plan_subjects(rows: list[Row], plan: Plan) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        name = row.text(NAME.key, required=True)
        if row.bad:
            continue
        key = name_key(name)
        if key in seen:
            row.problem(NAME.key, f"предмет «{name}» уже указан в строке {seen[key]}")
            continue
        seen[key] = row.ref.row
        if key in plan.subjects:
            plan.counted(applied=False)
            continue
        subject_id = uuid4()
        plan.subjects[key] = subject_id
        plan.create(row, subject_id)
        command = c.AddSubject(
            actor=plan.actor,
            school_id=plan.school_id,
            year_start=plan.year_start,
            name=name,
            subject_id=subject_id,
        )
        plan.run(row, command, column=NAME.key)
        plan.counted(applied=True)


def subject_rows(setup: SchoolSetup) -> list[list[Cell]]:
    return [[subject.name] for subject in setup.year.subjects.values()]


SUBJECTS = SheetKind(
    name="subjects",
    title="Предметы",
    aliases=("subjects", "предмет", "учебные предметы"),
    columns=(NAME,),
    order=10,
    plan=plan_subjects,
    rows=subject_rows,
    widths=(40,),
)
