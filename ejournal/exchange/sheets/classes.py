"""«Классы»: the year's classes («5А»), with their class teacher (by name, from the staff) and
their reporting periods (четверти, полугодия, триместры; by default half-years for grades 10–11
where the year has them, else quarters). A class already open is recognised; a new class teacher
named for it is assigned."""

from __future__ import annotations

from ejournal import commands as c
from ejournal.exchange.cells import CellError, header_key, text
from ejournal.exchange.files import Cell
from ejournal.exchange.plan import Plan
from ejournal.exchange.setup import SchoolSetup
from ejournal.exchange.sheet import Column, Row, SheetKind
from ejournal.exchange.sheets.common import CLASS
from ejournal.ledger.domain import SchoolYear
from ejournal.ledger.domain.values import PeriodScheme

CLASS_TEACHER = Column("class_teacher", "Классный руководитель", ("class teacher", "кл рук"))
PERIODS = Column("periods", "Периоды", ("periods", "учебные периоды", "аттестация по"))

SCHEME_WORDS = {
    PeriodScheme.QUARTERS: "четверти",
    PeriodScheme.HALF_YEARS: "полугодия",
    PeriodScheme.TRIMESTERS: "триместры",
}
_SCHEMES = {
    **{header_key(word): scheme for scheme, word in SCHEME_WORDS.items()},
    "четверть": PeriodScheme.QUARTERS,
    "полугодие": PeriodScheme.HALF_YEARS,
    "триместр": PeriodScheme.TRIMESTERS,
    **{header_key(scheme.value): scheme for scheme in PeriodScheme},
}


def scheme(value: Cell) -> PeriodScheme:
    found = _SCHEMES.get(header_key(value))
    if found is None:
        raise CellError(f"периоды — «четверти», «полугодия» или «триместры», а не «{text(value)}»")
    return found


def default_scheme(year: SchoolYear, grade: int) -> PeriodScheme:
    """Half-years for grades 10–11, quarters below, as far as the year defines them."""
    preferred = PeriodScheme.HALF_YEARS if grade >= 10 else PeriodScheme.QUARTERS
    if year.periods(preferred):
        return preferred
    return next((s for s in PeriodScheme if year.periods(s)), preferred)


def plan_classes(rows: list[Row], plan: Plan) -> None:
    seen: dict[str, int] = {}
    for row in rows:
        found = plan.class_written(row, CLASS.key)
        chosen = row.read(PERIODS.key, scheme)
        teacher = plan.staff_member(row, CLASS_TEACHER.key) if row.has(CLASS_TEACHER.key) else None
        if found is None or row.bad:
            if found is not None:
                plan.spoiled.add(found.written)
            continue
        if found.written in seen:
            row.problem(
                CLASS.key, f"класс {found.written} уже указан в строке {seen[found.written]}"
            )
            continue
        seen[found.written] = row.ref.row
        existing = plan.class_aggregate(found.class_id)
        if existing is not None and chosen is not None and chosen != existing.period_scheme:
            word = SCHEME_WORDS[PeriodScheme(existing.period_scheme)]
            row.problem(PERIODS.key, f"класс {found.written} уже открыт, периоды — {word}")
            continue
        applied = existing is None
        if existing is None:
            plan.create(row, found.class_id)
            command = c.OpenClass(
                actor=plan.actor,
                school_id=plan.school_id,
                year_start=plan.year_start,
                grade=found.grade,
                letter=found.letter,
                period_scheme=chosen or default_scheme(plan.year, found.grade),
            )
            plan.run(row, command, column=CLASS.key)
        if teacher is not None and (
            existing is None or existing.class_teacher_id != teacher.person_id
        ):
            assign = c.AssignClassTeacher(
                actor=plan.actor, class_id=found.class_id, teacher_id=teacher.person_id
            )
            plan.run(row, assign, column=CLASS_TEACHER.key, needs=[teacher.person_id])
            applied = True
        plan.counted(applied=applied)


def class_rows(setup: SchoolSetup) -> list[list[Cell]]:
    return [
        [
            f"{k.grade}{k.letter}",
            "" if k.class_teacher_id is None else setup.name(k.class_teacher_id),
            SCHEME_WORDS.get(PeriodScheme(k.period_scheme), k.period_scheme),
        ]
        for k in setup.classes
    ]


CLASSES = SheetKind(
    name="classes",
    title="Классы",
    aliases=("classes", "класс", "список классов"),
    columns=(CLASS, CLASS_TEACHER, PERIODS),
    order=30,
    plan=plan_classes,
    rows=class_rows,
    widths=(8, 36, 12),
)
