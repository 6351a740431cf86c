"""«Родители»: a parent (законный представитель) and the pupil they are linked to, one row per
link: a parent of two pupils has two rows, recognised as one person by the same name and details.
The pupil is named by name and class (and date of birth, where two of a class share a name): one
of this import's pupils, or one enrolled in that class already. A link the school already has is
recognised."""

from __future__ import annotations

from uuid import UUID

from ejournal import commands as c
from ejournal.exchange.cells import day, name_key
from ejournal.exchange.files import Cell
from ejournal.exchange.people import Details, Kind, Person
from ejournal.exchange.plan import ClassRef, Plan
from ejournal.exchange.setup import SchoolSetup
from ejournal.exchange.sheet import PERSON, Column, Row, SheetKind
from ejournal.exchange.sheets.common import BIRTH_DATE, EMAIL, PHONE, details, name_parts
from ejournal.exchange.sheets.pupils import pupil_key
from ejournal.ledger.domain import Guardianship

PUPIL = Column("pupil", "Ученик", ("pupil", "student", "ребенок", "фио ученика"), required=True)
PUPIL_CLASS = Column("pupil_class", "Класс ученика", ("pupil class", "класс"), required=True)
PUPIL_BIRTH_DATE = Column("pupil_birth_date", "Дата рождения ученика", ("pupil birth date",))


def plan_parents(rows: list[Row], plan: Plan) -> None:
    seen: dict[tuple[UUID, UUID], int] = {}
    for row in rows:
        full_name = row.full_name()
        given = details(row)
        child = _child(row, plan)
        if full_name is None or child is None or row.bad:
            continue
        parent = _parent(row, plan, full_name, given)
        if parent is None:
            continue
        pair = (child, parent.person_id)
        if pair in seen:
            row.problem(None, f"эта связь уже указана в строке {seen[pair]}")
            continue
        seen[pair] = row.ref.row
        guardianship = plan.ledger.find(
            Guardianship.create_id(
                school_id=plan.school_id, year_start=plan.year_start, student_id=child
            ),
            Guardianship,
        )
        if guardianship is not None and parent.person_id in guardianship.parent_ids:
            plan.counted(applied=False)
            continue
        link = c.LinkParent(
            actor=plan.actor,
            school_id=plan.school_id,
            year_start=plan.year_start,
            student_id=child,
            parent_id=parent.person_id,
        )
        plan.run(row, link, column=PUPIL.key, needs=[child, parent.person_id])
        plan.counted(applied=True)


def _child(row: Row, plan: Plan) -> UUID | None:
    klass = plan.school_class(row, PUPIL_CLASS.key)
    written = row.text(PUPIL.key, required=True)
    birth = row.read(PUPIL_BIRTH_DATE.key, day)
    if klass is None or not written:
        return None
    if pupil_key(klass, written) in plan.spoiled:
        row.bad = True
        return None
    found = [
        p
        for p in plan.people.matches(Kind.PUPIL, written, Details(birth_date=birth))
        if plan.placement(p.person_id) == klass.class_id
    ]
    if len(found) == 1:
        return found[0].person_id
    if found:
        row.problem(
            PUPIL.key,
            f"в классе {_written(klass)} несколько учеников с именем «{written}»: "
            "укажите дату рождения ученика",
        )
    else:
        row.problem(PUPIL.key, f"ученика «{written}» нет в классе {_written(klass)}")
    return None


def _written(klass: ClassRef) -> str:
    return klass.written


def _parent(row: Row, plan: Plan, full_name: str, given: Details) -> Person | None:
    """The parent: one of this sheet's earlier rows (another child), one the school holds, or
    new; None (and a problem) when several fit."""
    found = plan.people.matches(Kind.PARENT, full_name, given)
    here = [p for p in found if p.origin is not None and p.origin.sheet == row.ref.sheet]
    known = [p for p in found if not p.new]
    candidates = here or known
    if len(candidates) > 1:
        row.problem(None, f"несколько родителей с именем «{full_name}»: укажите e-mail или телефон")
        return None
    if candidates:
        candidates[0].kinds.add(Kind.PARENT)
        return candidates[0]
    if name_key(full_name) in plan.spoiled:
        row.bad = True
        return None
    return plan.new_person(row, full_name, given, Kind.PARENT)


def parent_rows(setup: SchoolSetup) -> list[list[Cell]]:
    placed = {
        m.student_id: setup.class_of(m.roster_id)
        for m in setup.rows.members
        if m.roster_id not in setup.groups
    }
    rows: list[list[Cell]] = []
    for student, parent in setup.rows.guardians:
        school_class = placed.get(student)
        person = setup.people.get(parent)
        pupil = setup.people.get(student)
        rows.append(
            [
                *name_parts(setup.name(parent)),
                None if person is None else person.details.birth_date,
                None if person is None else person.details.email,
                None if person is None else person.details.phone,
                setup.name(student),
                "" if school_class is None else f"{school_class.grade}{school_class.letter}",
                None if pupil is None else pupil.details.birth_date,
            ]
        )
    rows.sort(key=lambda r: (str(r[7]), str(r[6]), str(r[0]), str(r[1]), str(r[2])))
    return rows


PARENTS = SheetKind(
    name="parents",
    title="Родители",
    aliases=("parents", "guardians", "родитель", "законные представители"),
    columns=(*PERSON, BIRTH_DATE, EMAIL, PHONE, PUPIL, PUPIL_CLASS, PUPIL_BIRTH_DATE),
    order=50,
    plan=plan_parents,
    rows=parent_rows,
    widths=(18, 14, 18, 14, 28, 18, 32, 10, 14),
)
