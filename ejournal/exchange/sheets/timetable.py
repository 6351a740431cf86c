"""«Расписание»: the classes' timetables (п. 2.2), a row per weekly lesson: the class, the day of
the week («понедельник», «пн» or 1), the lesson's number in the class's bell schedule, the
subject, the group (empty: the whole class; «ИУП: Фамилия Имя Отчество» for a pupil's individual
curriculum), the teacher (by full name, as on «Сотрудники»), the room, and the day the timetable
is in force from («Действует с»; the year's first day if not given).

The rows of one class and one date are one version of its timetable, set by one ``SetTimetable``,
which plans the class's lessons from that date to the end of the year. A version the class
already has, entry for entry, is recognised: nothing is recorded, no lesson changes.

What the rows tell on their own is checked here, every bad row reported: the cells, what they
name, the lesson in the class's bell schedule, the teacher's assignment (on «Нагрузка» or the
school's), two lessons of the class or one teacher twice at one time. A bad row leaves its whole
version out (a partial version would cancel lessons). The command checks the rest: a teacher whom
another class's timetable has at that time, the date. Its refusal names an entry («вторник,
7-й урок: …») and is reported on that entry's row, or on the version's first row when it names
none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from ejournal import commands as c
from ejournal.commands.timetable import WEEKDAYS, where
from ejournal.exchange.cells import CellError, day, header_key, name_key, text, whole
from ejournal.exchange.files import Cell
from ejournal.exchange.people import Details, Kind, Person
from ejournal.exchange.plan import ClassRef, Place, Plan
from ejournal.exchange.setup import SchoolSetup
from ejournal.exchange.sheet import Column, Row, SheetKind
from ejournal.exchange.sheets.assignments import TEACHER, roster_of
from ejournal.exchange.sheets.common import CLASS, GROUP, SUBJECT
from ejournal.ledger.domain import (
    IndividualCurriculum,
    TeachingAssignment,
    Timetable,
    TimetableEntry,
)
from ejournal.ledger.domain.timetable import SATURDAY
from ejournal.projections.setup import WeeklyLesson

WEEKDAY = Column("weekday", "День недели", ("weekday", "day", "день"), required=True)
SLOT = Column(
    "slot", "№ урока", ("lesson", "lesson number", "slot", "урок", "номер урока"), required=True
)
ROOM = Column("room", "Кабинет", ("room", "каб", "аудитория"))
EFFECTIVE_FROM = Column(
    "effective_from", "Действует с", ("effective from", "с какого числа", "дата начала")
)

CURRICULUM = "ИУП"
"""«Группа» of a lesson of a pupil's individual curriculum: «ИУП: Фамилия Имя Отчество»."""

_DAY_NAMES = {
    **{header_key(name): number for number, name in WEEKDAYS.items()},
    **{short: n for n, short in enumerate(("пн", "вт", "ср", "чт", "пт", "сб", "вс"), start=1)},
}
_SUNDAY = 7

_REFUSED_COLUMNS = {
    "timetable.date_outside_year": EFFECTIVE_FROM.key,
    "timetable.before_previous": EFFECTIVE_FROM.key,
    "timetable.invalid_weekday": WEEKDAY.key,
    "timetable.unknown_slot": SLOT.key,
    "timetable.slot_taken": SLOT.key,
    "timetable.roster_not_of_class": GROUP.key,
    "timetable.subject_not_of_roster": SUBJECT.key,
    "timetable.teacher_not_assigned": TEACHER.key,
    "timetable.teacher_busy": TEACHER.key,
}
"""The column a refusal of ``SetTimetable`` concerns."""


def weekday(value: Cell) -> int:
    """An ISO weekday of lessons: «понедельник» … «суббота», «пн» … «сб», or 1 … 6."""
    written = text(value)
    number = _DAY_NAMES.get(header_key(written))
    if number is None and written.isdigit():
        number = int(written)
    if number == _SUNDAY:
        raise CellError("в воскресенье уроков нет")
    if number is None or not 1 <= number <= SATURDAY:
        raise CellError(
            f"день недели — от понедельника до субботы (пн … сб или 1 … 6), а не «{written}»"
        )
    return number


@dataclass(slots=True)
class _Version:
    """The rows of one class and one date: a version of the class's timetable."""

    klass: ClassRef
    effective_from: date
    rows: list[Row] = field(default_factory=list)
    """Every row of the version, bad ones too, in the sheet's order."""
    lessons: list[tuple[Row, TimetableEntry]] = field(default_factory=list)

    def add(self, row: Row, entry: TimetableEntry | None) -> None:
        """The row's lesson, unless the class or its teacher has another at that time (as the
        command would refuse, but naming the other row)."""
        self.rows.append(row)
        if entry is None:
            return
        for other_row, other in self.lessons:
            if (other.weekday, other.slot) != (entry.weekday, entry.slot):
                continue
            rosters = {entry.roster_id, other.roster_id}
            if len(rosters) == 1 or self.klass.class_id in rosters:
                row.problem(SLOT.key, f"в это время у класса уже урок в строке {other_row.ref.row}")
                return
            if entry.teacher_id == other.teacher_id:
                reason = f"учитель в это время ведёт урок в строке {other_row.ref.row}"
                row.problem(TEACHER.key, reason)
                return
        self.lessons.append((row, entry))

    def plan(self, plan: Plan) -> None:
        """Set the version, unless a row is bad or the class has it already."""
        if not self.lessons or any(row.bad for row in self.rows):
            return
        entries = tuple(entry for _, entry in self.lessons)
        applied = not self._recorded(plan, entries)
        if applied:
            command = c.SetTimetable(
                actor=plan.actor,
                class_id=self.klass.class_id,
                effective_from=self.effective_from,
                entries=entries,
            )
            needs = {self.klass.class_id}
            for e in entries:
                needs |= {e.roster_id, e.subject_id, e.teacher_id, _assignment_id(e)}
            plan.run(self.rows[0], command, column=CLASS.key, needs=needs, locate=self.locate)
        for _ in self.lessons:
            plan.counted(applied=applied)

    def _recorded(self, plan: Plan, entries: tuple[TimetableEntry, ...]) -> bool:
        timetable = plan.ledger.find(Timetable.create_id(self.klass.class_id), Timetable)
        if timetable is None:
            return False
        same_date = (v for v in timetable.versions if v.effective_from == self.effective_from)
        version = next(same_date, None)
        return version is not None and set(version.entries) == set(entries)

    def locate(self, error: c.CommandError) -> list[Place]:
        """The rows of the lesson a refusal names («вторник, 7-й урок: …»); the version's first
        row when it names none. Two groups' rows of one time both stand for it: the refusal
        does not say which of them it is."""
        key = _REFUSED_COLUMNS.get(error.code)
        named = [row for row, entry in self.lessons if error.message.startswith(f"{where(entry)}:")]
        if named:
            return [(row.ref, row.header(key or SLOT.key)) for row in named]
        first = self.rows[0]
        return [(first.ref, None if key is None else first.header(key))]


def plan_timetable(rows: list[Row], plan: Plan) -> None:
    versions: dict[tuple[UUID, date], _Version] = {}
    for row in rows:
        klass = plan.school_class(row, CLASS.key)
        on = row.read(EFFECTIVE_FROM.key, day) or plan.first_day
        entry = _entry(row, plan, klass, on)
        if klass is not None:
            versions.setdefault((klass.class_id, on), _Version(klass, on)).add(row, entry)
    classes: dict[UUID, int] = {}
    for class_id, _ in versions:
        classes.setdefault(class_id, len(classes))
    # Classes in the sheet's order, each one's versions by date (one before the latest is refused).
    for key in sorted(versions, key=lambda k: (classes[k[0]], k[1])):
        versions[key].plan(plan)


def _entry(row: Row, plan: Plan, klass: ClassRef | None, on: date) -> TimetableEntry | None:
    """The row's lesson, if every cell is good and names what exists."""
    lesson_day = row.read(WEEKDAY.key, weekday, required=True)
    slot = row.read(SLOT.key, whole, required=True)
    subject_id = plan.subject(row, SUBJECT.key)
    teacher = plan.staff_member(row, TEACHER.key)
    room = row.text(ROOM.key)
    if klass is None or subject_id is None or teacher is None or row.bad:
        return None
    roster_id = _roster(row, plan, klass, subject_id)
    if lesson_day is None or slot is None or roster_id is None:
        return None
    entry = TimetableEntry(lesson_day, slot, roster_id, subject_id, teacher.person_id, room)
    if plan.year.bell_slot(_bell_schedule(plan, klass), slot) is None:
        row.problem(SLOT.key, f"в расписании звонков класса нет урока № {slot}")
    # A date outside the year is the version's, which the command refuses once.
    if on in plan.year.days and not _assigned(plan, entry, on):
        row.problem(TEACHER.key, _not_assigned(row, klass, teacher, on))
    return None if row.bad else entry


def _roster(row: Row, plan: Plan, klass: ClassRef, subject_id: UUID) -> UUID | None:
    """The class, its group, or a pupil's individual curriculum the row's «Группа» names."""
    written = row.text(GROUP.key)
    prefix, colon, pupil = written.partition(":")
    if colon and header_key(prefix) == header_key(CURRICULUM):
        return _curriculum(row, plan, klass, subject_id, pupil.strip())
    return roster_of(row, plan, klass, subject_id, written)


def _curriculum(row: Row, plan: Plan, klass: ClassRef, subject_id: UUID, pupil: str) -> UUID | None:
    found = [
        p
        for p in plan.people.matches(Kind.PUPIL, pupil, Details())
        if plan.placement(p.person_id) == klass.class_id
    ]
    if len(found) > 1:
        row.problem(GROUP.key, f"в классе {klass.written} несколько учеников с именем «{pupil}»")
        return None
    if not found:
        row.problem(GROUP.key, f"ученика «{pupil}» нет в классе {klass.written}")
        return None
    curriculum_id = IndividualCurriculum.create_id(
        class_id=klass.class_id, student_id=found[0].person_id, subject_id=subject_id
    )
    if plan.ledger.find(curriculum_id, IndividualCurriculum) is None:
        row.problem(
            GROUP.key, f"у ученика «{pupil}» нет индивидуального учебного плана по этому предмету"
        )
        return None
    return curriculum_id


def _bell_schedule(plan: Plan, klass: ClassRef) -> str:
    """The class's bell schedule: the default for a class this import opens."""
    existing = plan.class_aggregate(klass.class_id)
    return c.DEFAULT_BELL_SCHEDULE if existing is None else existing.bell_schedule


def _assignment_id(entry: TimetableEntry) -> UUID:
    return TeachingAssignment.create_id(
        roster_id=entry.roster_id, subject_id=entry.subject_id, teacher_id=entry.teacher_id
    )


def _assigned(plan: Plan, entry: TimetableEntry, on: date) -> bool:
    """Whether the teacher teaches the subject to the roster on ``on``: assigned by the school,
    or on this import's «Нагрузка» (whose date the command checks)."""
    assignment_id = _assignment_id(entry)
    if assignment_id in plan.origins:
        return True
    found = plan.ledger.find(assignment_id, TeachingAssignment)
    return found is not None and found.active_on(on)


def _not_assigned(row: Row, klass: ClassRef, teacher: Person, on: date) -> str:
    group = row.text(GROUP.key)
    roster = klass.written + (f" ({group})" if group else "")
    return (
        f"{teacher.full_name} не ведёт «{row.text(SUBJECT.key)}» в {roster} на "
        f"{on:%d.%m.%Y}: добавьте это на лист «Нагрузка»"
    )


def timetable_rows(setup: SchoolSetup) -> list[list[Cell]]:
    """Every version of each class's timetable, a row per lesson, by class, date, day, lesson."""
    order = {k.id: n for n, k in enumerate(setup.classes)}
    lessons = [lesson for lesson in setup.rows.timetable if lesson.class_id in order]
    rows: list[tuple[tuple[object, ...], list[Cell]]] = []
    for lesson in lessons:
        klass = setup.classes[order[lesson.class_id]]
        group = _group(setup, lesson)
        key = (order[lesson.class_id], lesson.effective_from, lesson.weekday, lesson.slot)
        rows.append(
            (
                (*key, bool(group), name_key(group)),
                [
                    f"{klass.grade}{klass.letter}",
                    WEEKDAYS[lesson.weekday],
                    lesson.slot,
                    setup.subject_name(lesson.subject_id),
                    group,
                    setup.name(lesson.teacher_id),
                    lesson.room,
                    lesson.effective_from,
                ],
            )
        )
    rows.sort(key=lambda pair: pair[0])
    return [cells for _, cells in rows]


def _group(setup: SchoolSetup, lesson: WeeklyLesson) -> str:
    """«Группа» of the lesson: '' for the class, the group's name, or «ИУП: …»."""
    if lesson.student_id is not None:
        return f"{CURRICULUM}: {setup.name(lesson.student_id)}"
    group = setup.groups.get(lesson.roster_id)
    return "" if group is None else group.name


TIMETABLE = SheetKind(
    name="timetable",
    title="Расписание",
    aliases=("timetable", "schedule", "расписание уроков", "расписание занятий"),
    columns=(CLASS, WEEKDAY, SLOT, SUBJECT, GROUP, TEACHER, ROOM, EFFECTIVE_FROM),
    order=65,
    plan=plan_timetable,
    rows=timetable_rows,
    widths=(8, 14, 9, 28, 24, 36, 10, 14),
)
