"""«Ученики»: each pupil's class, name and date of birth, the groups they learn in
(«Английский язык: Группа 1; Информатика: Группа 2») and the day they join (the year's first day
if not given). A group named for the first time is formed for the class and subject.

A pupil the school already holds is recognised by name and date of birth: one already in this
class is left as they are (a new group is still joined), one in no class this year is enrolled,
one in another class is refused (a transfer is a withdrawal first). Two rows of the same class
with the same name and no date of birth to tell them apart are refused.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from uuid import UUID

from ejournal import commands as c
from ejournal.exchange.cells import CellError, day, name_key, text
from ejournal.exchange.files import Cell
from ejournal.exchange.people import Details, Kind, Person
from ejournal.exchange.plan import ClassRef, Plan
from ejournal.exchange.setup import SchoolSetup
from ejournal.exchange.sheet import PERSON, Column, Row, SheetKind
from ejournal.exchange.sheets.common import BIRTH_DATE, CLASS, name_parts
from ejournal.ledger.domain import Group

GROUPS = Column("groups", "Группы", ("groups", "подгруппы"))
ENROLLED_ON = Column(
    "enrolled_on", "Дата зачисления", ("enrolled on", "зачислен", "с какого числа")
)


def group_list(value: Cell) -> list[tuple[str, str]]:
    """«Предмет: группа» pairs, separated by «;»."""
    pairs = []
    for part in text(value).split(";"):
        if not part.strip():
            continue
        subject, colon, group = part.partition(":")
        if not colon or not subject.strip() or not group.strip():
            raise CellError(f"группа записывается как «Предмет: Группа», а не «{part.strip()}»")
        pairs.append((subject.strip(), group.strip()))
    return pairs


def pupil_key(klass: ClassRef, full_name: str) -> str:
    """How a parent's row names a pupil: class and name (for rows passed over)."""
    return f"{klass.written}:{name_key(full_name)}"


def plan_pupils(rows: list[Row], plan: Plan) -> None:
    for row in rows:
        klass = plan.school_class(row, CLASS.key)
        full_name = row.full_name()
        birth = row.read(BIRTH_DATE.key, day)
        on = row.read(ENROLLED_ON.key, day) or plan.first_day
        groups = _groups(row, plan)
        if klass is None or full_name is None or row.bad:
            if klass is not None and full_name is not None:
                plan.spoiled.add(pupil_key(klass, full_name))
            continue
        pupil = _pupil(row, plan, klass, full_name, Details(birth_date=birth))
        if pupil is None:
            plan.spoiled.add(pupil_key(klass, full_name))
            continue
        applied = False
        if plan.placement(pupil.person_id) != klass.class_id:
            enrol = c.EnrolStudent(
                actor=plan.actor, class_id=klass.class_id, student_id=pupil.person_id, on=on
            )
            plan.run(row, enrol, column=CLASS.key, needs=[klass.class_id])
            plan.placed[pupil.person_id] = klass.class_id
            applied = True
        for subject_id, name in groups:
            applied |= _join(row, plan, klass, subject_id, name, pupil.person_id, on)
        plan.counted(applied=applied)


def _groups(row: Row, plan: Plan) -> list[tuple[UUID, str]]:
    found = []
    for subject, name in row.read(GROUPS.key, group_list) or ():
        subject_id = plan.subjects.get(name_key(subject))
        if subject_id is None:
            row.problem(GROUPS.key, f"предмета «{subject}» нет в учебном году")
        else:
            found.append((subject_id, name))
    return found


def _pupil(row: Row, plan: Plan, klass: ClassRef, full_name: str, given: Details) -> Person | None:
    """The pupil the row names: recognised, or new; None (and a problem) if it cannot tell."""
    found = plan.people.matches(Kind.PUPIL, full_name, given)
    for person in found:
        if person.new and plan.placed.get(person.person_id) == klass.class_id:
            assert person.origin is not None
            row.problem(
                None,
                f"ученик уже указан в строке {person.origin.row}; если это разные ученики, "
                "укажите даты рождения",
            )
            return None
    known = [p for p in found if not p.new]
    if len(known) > 1:
        here = [p for p in known if plan.placement(p.person_id) == klass.class_id]
        if len(here) != 1:
            row.problem(
                None,
                f"в школе несколько учеников с именем «{full_name}»: укажите дату рождения",
            )
            return None
        known = here
    if known:
        pupil = known[0]
        placed = plan.placement(pupil.person_id)
        if placed is not None and placed != klass.class_id:
            elsewhere = plan.class_aggregate(placed)
            where = elsewhere.name if elsewhere is not None else "другой школы"
            row.problem(
                CLASS.key,
                f"ученик уже зачислен в класс {where}; если это другой ученик, укажите дату "
                "рождения",
            )
            return None
        return pupil
    return plan.new_person(row, full_name, given, Kind.PUPIL)


def _join(
    row: Row, plan: Plan, klass: ClassRef, subject_id: UUID, name: str, student: UUID, on: date
) -> bool:
    """Plan the pupil's joining the group (formed first if new); whether anything is run."""
    group_id, exists = plan.group(klass.class_id, subject_id, name)
    if not exists:
        form = c.FormGroup(
            actor=plan.actor, class_id=klass.class_id, subject_id=subject_id, name=name
        )
        plan.run(row, form, column=GROUPS.key, needs=[klass.class_id, subject_id])
        plan.create(row, group_id)
    else:
        group = plan.ledger.find(group_id, Group)
        if group is not None and group.members.current(student) is not None:
            return False
    join = c.AddGroupMember(actor=plan.actor, group_id=group_id, student_id=student, on=on)
    plan.run(row, join, column=GROUPS.key, needs=[group_id, student])
    return True


def pupil_rows(setup: SchoolSetup) -> list[list[Cell]]:
    groups: dict[UUID, list[str]] = defaultdict(list)
    for member in setup.rows.members:
        group = setup.groups.get(member.roster_id)
        if group is not None:
            groups[member.student_id].append(
                f"{setup.subject_name(group.subject_id)}: {group.name}"
            )
    rows: list[list[Cell]] = []
    for school_class in setup.classes:
        members = [m for m in setup.rows.members if m.roster_id == school_class.id]
        members.sort(key=lambda m: (name_key(setup.name(m.student_id)), m.student_id.hex))
        for member in members:
            person = setup.people.get(member.student_id)
            rows.append(
                [
                    f"{school_class.grade}{school_class.letter}",
                    *name_parts(setup.name(member.student_id)),
                    None if person is None else person.details.birth_date,
                    "; ".join(groups.get(member.student_id, ())),
                    member.starts_on,
                ]
            )
    return rows


PUPILS = SheetKind(
    name="pupils",
    title="Ученики",
    aliases=("pupils", "students", "учащиеся", "обучающиеся", "ученик", "список учеников"),
    columns=(CLASS, *PERSON, BIRTH_DATE, GROUPS, ENROLLED_ON),
    order=40,
    plan=plan_pupils,
    rows=pupil_rows,
    widths=(8, 18, 14, 18, 14, 36, 16),
)
