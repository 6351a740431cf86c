"""«Нагрузка»: who teaches which subject to which class or group (by the group's name), from
which day (the year's first day if not given). An assignment in force is recognised."""

from __future__ import annotations

from uuid import UUID

from ejournal import commands as c
from ejournal.exchange.cells import day, name_key
from ejournal.exchange.files import Cell
from ejournal.exchange.plan import ClassRef, Plan
from ejournal.exchange.setup import SchoolSetup
from ejournal.exchange.sheet import Column, Row, SheetKind
from ejournal.exchange.sheets.common import CLASS, GROUP, SUBJECT
from ejournal.ledger.domain import TeachingAssignment

TEACHER = Column("teacher", "Учитель", ("teacher", "фио учителя", "преподаватель"), required=True)
STARTS_ON = Column("starts_on", "Дата начала", ("starts on", "с какого числа", "с"))


def roster_of(row: Row, plan: Plan, klass: ClassRef, subject_id: UUID, group: str) -> UUID | None:
    """The class itself, or its group ``group`` in the subject (None and a problem if the group
    is neither formed nor formed by the import)."""
    if not group:
        return klass.class_id
    group_id, exists = plan.group(klass.class_id, subject_id, group)
    if exists:
        return group_id
    row.problem(
        GROUP.key,
        f"в классе {klass.written} нет группы «{group}» по этому предмету: укажите её в столбце "
        "«Группы» листа «Ученики»",
    )
    return None


def plan_assignments(rows: list[Row], plan: Plan) -> None:
    seen: dict[tuple[UUID, UUID, UUID], int] = {}
    for row in rows:
        teacher = plan.staff_member(row, TEACHER.key)
        klass = plan.school_class(row, CLASS.key)
        subject_id = plan.subject(row, SUBJECT.key)
        on = row.read(STARTS_ON.key, day) or plan.first_day
        if teacher is None or klass is None or subject_id is None or row.bad:
            continue
        roster_id = roster_of(row, plan, klass, subject_id, row.text(GROUP.key))
        if roster_id is None:
            continue
        key = (teacher.person_id, roster_id, subject_id)
        if key in seen:
            row.problem(None, f"эта нагрузка уже указана в строке {seen[key]}")
            continue
        seen[key] = row.ref.row
        assignment_id = TeachingAssignment.create_id(
            roster_id=roster_id, subject_id=subject_id, teacher_id=teacher.person_id
        )
        assignment = plan.ledger.find(assignment_id, TeachingAssignment)
        if assignment is not None and assignment.is_current:
            plan.counted(applied=False)
            continue
        plan.create(row, assignment_id)  # the timetable's lessons of the teacher need it
        command = c.AssignTeacher(
            actor=plan.actor,
            roster_id=roster_id,
            subject_id=subject_id,
            teacher_id=teacher.person_id,
            on=on,
        )
        plan.run(row, command, column=TEACHER.key, needs=[roster_id, subject_id, teacher.person_id])
        plan.counted(applied=True)


def assignment_rows(setup: SchoolSetup) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for teaching in setup.rows.teaching:
        school_class = setup.class_of(teaching.roster_id)
        group = setup.groups.get(teaching.roster_id)
        if school_class is None:
            continue  # an individual curriculum: not a sheet of this kind
        rows.append(
            [
                setup.name(teaching.teacher_id),
                f"{school_class.grade}{school_class.letter}",
                setup.subject_name(teaching.subject_id),
                "" if group is None else group.name,
                teaching.starts_on,
            ]
        )
    rows.sort(key=lambda r: (name_key(str(r[0])), str(r[1]), str(r[2]), str(r[3])))
    return rows


ASSIGNMENTS = SheetKind(
    name="assignments",
    title="Нагрузка",
    aliases=("assignments", "teaching", "учебная нагрузка", "распределение нагрузки"),
    columns=(TEACHER, CLASS, SUBJECT, GROUP, STARTS_ON),
    order=60,
    plan=plan_assignments,
    rows=assignment_rows,
    widths=(36, 8, 28, 14, 14),
)
