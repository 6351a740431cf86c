"""Writing a generated school year through the commands, week by week, resumably.

Each school is written in units of work (``Ledger.unit_of_work``): its accounts (system log), its
year's setup, then one unit per school week and one for the June exams and final marks. A unit is
one transaction, so the ledger only ever holds whole units; every unit draws its random numbers
from its own generator, seeded by the seed, the school and the unit. A run that was stopped
therefore resumes by asking the ledger which units are already there and writes the rest exactly
as an uninterrupted run would have: the same events, times and log entries.

Within a unit every command runs its handler with all its checks; the commands of a week are run
in the order of their (simulated) times, with the clock set to each.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypedDict, TypeVar
from uuid import UUID

from ejournal import commands as c
from ejournal.generator import calendar as cal
from ejournal.generator.curriculum import (
    EXAM_SUBJECTS,
    LITERATURE,
    NO_HOMEWORK,
    PE,
    RUSSIAN,
    UNMARKED,
    plan_topics,
)
from ejournal.generator.spec import ClassSpec, LessonChange, RosterSpec, SchoolSpec, new_id
from ejournal.ledger.actor import SYSTEM_ACTOR, Actor
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import (
    Account,
    AttestationRecord,
    Lesson,
    School,
    SchoolClass,
    SchoolYear,
    TeachingAssignment,
)
from ejournal.ledger.domain.plan import ThematicPlan
from ejournal.ledger.domain.values import AttendanceCode, PeriodScheme, PlanItem
from ejournal.ledger.logs import SYSTEM_LOG, school_log_id
from ejournal.ledger.recorders import EVENTS_TABLE

DAY_ABSENCE = 0.045
"""The chance a student misses a whole day (ill, or away with or without a reason)."""
LESSON_ABSENCE = 0.025
"""The chance a student who came to school is late for a lesson or misses it."""
MARKS_PER_PERIOD = 5
"""Lesson marks per student, subject and quarter that a teacher aims at (schools use 3–7)."""
WRITTEN_PER_PERIOD = 2
"""Written works (самостоятельная, контрольная, сочинение) per subject and quarter."""
CORRECTED = 0.01
CANCELLED = 0.003
COMMENTED = 0.01

HOMEWORK = (
    ("Выучить правило, выполнить упражнения", "с. {p}–{q}", "упр. {a}, {b}"),
    ("Решить задачи", "с. {p}", "№ {a}, {b}, {c}"),
    ("Прочитать параграф, ответить на вопросы", "§ {n}, с. {p}–{q}", "вопросы 1–4"),
    ("Выполнить упражнения в рабочей тетради", "с. {p}", "упр. {a}, {b}"),
    ("Повторить пройденное, подготовиться к проверочной работе", "§ {n}", ""),
)
COMMENTS = (
    "Активно работал на уроке.",
    "Не подготовил домашнее задание.",
    "Отлично ответил у доски.",
    "Отвлекался на уроке, требуется внимание родителей.",
)
MESSAGES = (
    "Прошу обратить внимание на выполнение домашних заданий: два задания не выполнены.",
    "Приглашаю на родительское собрание в пятницу в 17:00.",
    "Ваш ребёнок хорошо проявил себя на олимпиаде, поздравляю.",
)
R = TypeVar("R")

CORRECTION_REASON = "Техническая ошибка при вводе отметки"
CANCEL_REASON = "Отметка выставлена не тому ученику"


@dataclass(slots=True)
class Counts:
    """What the generator recorded (commands it ran, lessons, marks …)."""

    commands: int = 0
    lessons: int = 0
    marks: int = 0
    attendance_codes: int = 0
    homework: int = 0
    period_marks: int = 0
    planned: int = 0
    """Lessons the timetable scheduled (the lessons held are ``lessons``)."""
    units: int = 0
    skipped_units: int = 0

    def add(self, other: Counts) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass(frozen=True, slots=True)
class _Step:
    """One command of a unit at the moment it is recorded, and the count it adds to."""

    at: datetime
    command: c.Command[object]
    counts: str | None = None
    """The ``Counts`` field the command adds ``amount`` to, if any."""
    amount: int = 1


class _Agenda:
    """The commands of one unit, played in the order of their moments; commands at the same
    moment keep the order in which they were planned."""

    def __init__(self) -> None:
        self._steps: list[_Step] = []

    def __bool__(self) -> bool:
        return bool(self._steps)

    def add(
        self,
        at: datetime,
        command: c.Command[object],
        counts: str | None = None,
        amount: int = 1,
    ) -> None:
        self._steps.append(_Step(at, command, counts, amount))

    def in_order(self) -> list[_Step]:
        return sorted(self._steps, key=lambda step: step.at)  # a stable sort keeps the plan order


class _Whose(TypedDict):
    """Whose attestation mark it is, and who sets it (п. 2.8)."""

    actor: Actor
    roster_id: UUID
    subject_id: UUID
    student_id: UUID


def moment(day: date, clock_time: time, minutes: float = 0) -> datetime:
    """``clock_time`` on ``day`` in the school's zone plus ``minutes``, on the server clock."""
    start = datetime.combine(day, clock_time, cal.TIME_ZONE)
    return (start + timedelta(minutes=minutes)).astimezone(UTC)


@dataclass(slots=True)
class _Marked:
    lesson_id: UUID
    mark_id: UUID
    value: int
    teacher: str
    day: date


@dataclass(frozen=True, slots=True)
class _Lesson:
    """One lesson of the week as planned: its roster, moment, КТП item, teacher and register."""

    lesson_id: UUID
    roster: RosterSpec
    week: tuple[date, ...]
    day: date
    slot: int
    position: int
    """The lesson's number in its roster's subject this year: its КТП item."""
    teacher: Actor
    teacher_login: str
    """Who teaches it: the roster's teacher, or a substitute."""
    subject_id: UUID
    codes: dict[UUID, str]
    present: list[UUID]

    def at(self, minutes: float) -> datetime:
        """``minutes`` after the lesson begins, on the server clock."""
        return moment(self.day, cal.BELLS[self.slot - 1].starts_at, minutes)


@dataclass
class SchoolRun:
    """One school's year: its units, and what each writes."""

    ledger: Ledger
    clock: ManualClock
    spec: SchoolSpec
    seed: int
    first_day: date = cal.FIRST_DAY
    last_day: date = cal.LAST_LESSON_DAY
    exams: bool = True
    timetable: bool = False
    """The year's lessons come from each class's timetable, set with the year; otherwise each
    teacher holds each lesson (``ScheduleLesson``)."""
    counts: Counts = field(default_factory=Counts)
    actors: dict[str, Actor] = field(default_factory=dict)
    _positions: dict[tuple[UUID, str], int] = field(default_factory=dict)
    _per_period: dict[tuple[str, str], float] = field(default_factory=dict)
    _subject_index: dict[str, int] = field(default_factory=dict)

    @property
    def log_id(self) -> str:
        return school_log_id(self.spec.school_id, cal.YEAR)

    def run(self, command: c.Command[R]) -> R:
        self.counts.commands += 1
        return c.handle(command, self.ledger)

    def weeks(self) -> list[tuple[date, ...]]:
        return list(cal.weeks(self.first_day, self.last_day))

    # --- what is already in the ledger ---------------------------------------------------------

    def accounts_done(self) -> bool:
        return self.ledger.find(self.spec.school_id, School) is not None

    def last_recorded(self) -> datetime | None:
        """When the last entry of the school's year log was recorded; None for an empty log."""
        with self.ledger.database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT recorded_at FROM {EVENTS_TABLE} WHERE log_id = ? ORDER BY idx DESC "
                "LIMIT 1",
                (self.log_id,),
            )
            row = cursor.fetchone()
        if row is None:
            return None
        return datetime.fromtimestamp(0, UTC) + timedelta(microseconds=int(row[0]))

    # --- accounts (system log) ------------------------------------------------------------------

    def set_up_accounts(self, at: datetime) -> None:
        """The school and its staff's accounts, roles and credentials, in the system log."""
        self.clock.set(at)
        spec = self.spec
        with self.ledger.unit_of_work():
            self.run(c.RegisterSchool(actor=SYSTEM_ACTOR, school_id=spec.school_id, name=spec.name))
            for staff in spec.staff:
                self.clock.advance(timedelta(seconds=1))
                account_id = self.run(
                    c.RegisterAccount(
                        actor=SYSTEM_ACTOR, login=staff.login, person_id=staff.person_id
                    )
                )
                # The service grants the administration's roles; the head those of the teachers.
                administration = staff.login in (spec.head, spec.deputy)
                grantor = SYSTEM_ACTOR if administration else self.actors[spec.head]
                for role in staff.roles:
                    self.run(
                        c.GrantRole(
                            actor=grantor,
                            account_id=account_id,
                            role=role,
                            school_id=spec.school_id,
                        )
                    )
                self.run(c.IssueCredentials(actor=SYSTEM_ACTOR, account_id=account_id))
                self.actors[staff.login] = c.actor_for(
                    self.ledger, account_id, session_id=staff.session_id
                )
        self.counts.units += 1

    def load_actors(self) -> None:
        for staff in self.spec.staff:
            if staff.login not in self.actors:
                self.actors[staff.login] = c.actor_for(
                    self.ledger, Account.create_id(login=staff.login), session_id=staff.session_id
                )

    # --- the year's setup (п. 2.2) ---------------------------------------------------------------

    def set_up_year(self) -> None:
        spec = self.spec
        head, deputy = self.actors[spec.head], self.actors[spec.deputy]
        school = spec.school_id
        year = cal.YEAR
        with self.ledger.unit_of_work():
            self.clock.set(moment(cal.SETUP_DAY, time(10, 0)))
            self.run(c.OpenSchoolYear(actor=head, school_id=school, year_start=year))
            for scheme, periods in (
                (PeriodScheme.QUARTERS, cal.QUARTERS),
                (PeriodScheme.HALF_YEARS, cal.HALF_YEARS),
            ):
                self.run(
                    c.DefinePeriods(
                        actor=deputy,
                        school_id=school,
                        year_start=year,
                        scheme=scheme,
                        periods=periods,
                    )
                )
            for name, starts_on, ends_on in cal.HOLIDAYS:
                self.clock.advance(timedelta(seconds=3))
                self.run(
                    c.DeclareHoliday(
                        actor=deputy,
                        school_id=school,
                        year_start=year,
                        name=name,
                        starts_on=starts_on,
                        ends_on=ends_on,
                    )
                )
            for name, subject_id in spec.subjects.items():
                self.clock.advance(timedelta(seconds=3))
                self.run(
                    c.AddSubject(
                        actor=deputy,
                        school_id=school,
                        year_start=year,
                        name=name,
                        subject_id=subject_id,
                    )
                )
            for name, weight, written in cal.WORK_TYPES:
                self.clock.advance(timedelta(seconds=3))
                self.run(
                    c.DefineWorkType(
                        actor=deputy,
                        school_id=school,
                        year_start=year,
                        name=name,
                        weight=weight,
                        written=written,
                        work_type_id=spec.work_types[name],
                    )
                )
            self.run(
                c.DefineBellSchedule(
                    actor=deputy, school_id=school, year_start=year, slots=cal.BELLS
                )
            )
            self.clock.set(moment(cal.SETUP_DAY + timedelta(days=1), time(9, 0)))
            for school_class in spec.classes:
                self._set_up_class(school_class)
            self.clock.set(moment(cal.SETUP_DAY + timedelta(days=4), time(15, 0)))
            self._import_plans()
            if self.timetable:
                self.clock.set(moment(cal.SETUP_DAY + timedelta(days=5), time(11, 0)))
                for school_class in spec.classes:
                    self.clock.advance(timedelta(minutes=10))
                    self._set_timetable(school_class)
        self.counts.units += 1

    def _set_timetable(self, spec: ClassSpec) -> None:
        """The deputy sets the class's timetable from the first day of lessons (п. 2.2)."""
        school = self.spec
        class_id = SchoolClass.create_id(
            school_id=school.school_id, year_start=cal.YEAR, grade=spec.grade, letter=spec.letter
        )
        entries = tuple(
            c.TimetableEntry(
                weekday,
                slot,
                roster.roster_id,
                school.subjects[subject],
                self._person(roster.teacher),
                school.room(spec.name, subject, roster.group),
            )
            for weekday, day in enumerate(spec.timetable, start=1)
            for slot, subject in enumerate(day, start=1)
            for roster in school.rosters[spec.name, subject]
        )
        change = self.run(
            c.SetTimetable(
                actor=self.actors[school.deputy],
                class_id=class_id,
                effective_from=self.first_day,
                entries=entries,
            )
        )
        self.counts.planned += change.scheduled

    def _set_up_class(self, spec: ClassSpec) -> None:
        deputy = self.actors[self.spec.deputy]
        self.clock.advance(timedelta(minutes=1))
        class_id = self.run(
            c.OpenClass(
                actor=deputy,
                school_id=self.spec.school_id,
                year_start=cal.YEAR,
                grade=spec.grade,
                letter=spec.letter,
                period_scheme=cal.scheme_of(spec.grade),
            )
        )
        teacher = next(s for s in self.spec.staff if s.login == spec.class_teacher)
        self.run(
            c.AssignClassTeacher(actor=deputy, class_id=class_id, teacher_id=teacher.person_id)
        )
        for student_id, parents in zip(spec.students, spec.parents, strict=True):
            self.clock.advance(timedelta(seconds=3))
            self.run(
                c.EnrolStudent(
                    actor=deputy, class_id=class_id, student_id=student_id, on=cal.FIRST_DAY
                )
            )
            for parent_id in parents:
                self.run(
                    c.LinkParent(
                        actor=deputy,
                        school_id=self.spec.school_id,
                        year_start=cal.YEAR,
                        student_id=student_id,
                        parent_id=parent_id,
                    )
                )
        for subject in dict.fromkeys(s for day in spec.timetable for s in day):
            for roster in self.spec.rosters[spec.name, subject]:
                if roster.group is not None:
                    group_id = self.run(
                        c.FormGroup(
                            actor=deputy,
                            class_id=class_id,
                            subject_id=self.spec.subjects[subject],
                            name=roster.group,
                        )
                    )
                    assert group_id == roster.roster_id
                    for student_id in roster.members:
                        self.clock.advance(timedelta(seconds=2))
                        self.run(
                            c.AddGroupMember(
                                actor=deputy,
                                group_id=group_id,
                                student_id=student_id,
                                on=cal.FIRST_DAY,
                            )
                        )
                self.clock.advance(timedelta(seconds=3))
                self.run(
                    c.AssignTeacher(
                        actor=deputy,
                        roster_id=roster.roster_id,
                        subject_id=self.spec.subjects[subject],
                        teacher_id=self._person(roster.teacher),
                        on=cal.FIRST_DAY,
                    )
                )

    def _person(self, login: str) -> UUID:
        return next(s.person_id for s in self.spec.staff if s.login == login)

    def _import_plans(self) -> None:
        # Each teacher loads the КТП of what they teach (п. 2.6), for the whole year.
        year_counts = self._lesson_counts(cal.FIRST_DAY, cal.LAST_LESSON_DAY)
        for (class_name, subject), rosters in self.spec.rosters.items():
            grade = rosters[0].grade
            first = self.spec.first_topics.get((class_name, subject), ())
            for roster in rosters:
                self.clock.advance(timedelta(seconds=20))
                count = max(year_counts.get((roster.roster_id, subject), 0), len(first), 1)
                topics = plan_topics(subject, grade, count, first)
                items = tuple(PlanItem(n, topic, 1) for n, topic in enumerate(topics, start=1))
                self.run(
                    c.ImportKtp(
                        actor=self.actors[roster.teacher],
                        roster_id=roster.roster_id,
                        subject_id=self.spec.subjects[subject],
                        items=items,
                    )
                )

    def _lessons(self, days: Iterable[date]) -> Iterator[tuple[date, ClassSpec, int, RosterSpec]]:
        for day in days:
            for school_class in self.spec.classes:
                for slot, subject in enumerate(school_class.timetable[day.weekday()], start=1):
                    for roster in self.spec.rosters[school_class.name, subject]:
                        yield day, school_class, slot, roster

    def _lesson_counts(self, first: date, last: date) -> dict[tuple[UUID, str], int]:
        counts: dict[tuple[UUID, str], int] = {}
        for days in cal.weeks(first, last):
            for _, _, _, roster in self._lessons(days):
                key = (roster.roster_id, roster.subject)
                counts[key] = counts.get(key, 0) + 1
        return counts

    # --- a school week ---------------------------------------------------------------------------

    def skip_week(self, days: tuple[date, ...]) -> None:
        """Advance the КТП positions past a week that is already in the ledger."""
        cancelled = {(x.class_name, x.on, x.slot) for x in self.spec.changes if not x.substitute}
        for day, school_class, slot, roster in self._lessons(days):
            if (school_class.name, day, slot) in cancelled:
                continue
            key = (roster.roster_id, roster.subject)
            self._positions[key] = self._positions.get(key, 0) + 1
        self.counts.skipped_units += 1

    def keep_week(self, days: tuple[date, ...]) -> None:
        """The week's lessons with their records, and the period marks of a period that ends."""
        rng = random.Random(f"{self.seed}:{self.spec.number}:week:{days[0].isoformat()}")
        agenda = _Agenda()
        marked: list[_Marked] = []
        changes = {(x.class_name, x.on, x.slot): x for x in self.spec.changes}
        for day in days:
            for school_class in self.spec.classes:
                away = self._away(rng, school_class, day)
                for slot, subject in enumerate(school_class.timetable[day.weekday()], start=1):
                    change = changes.get((school_class.name, day, slot))
                    for roster in self.spec.rosters[school_class.name, subject]:
                        teacher = self._decide(agenda, roster, day, slot, change)
                        if teacher is None:
                            continue
                        lesson = self._plan_lesson(rng, days, day, slot, roster, away, teacher)
                        self._keep_lesson(rng, agenda, marked, lesson)
            self._messages(rng, agenda, day)
        self._corrections(rng, agenda, marked)
        for school_class in self.spec.classes:
            self._period_marks(rng, agenda, school_class, days)
        attesting = any(
            cal.period_ending_in(days, cal.scheme_of(k.grade)) for k in self.spec.classes
        )
        self._play(agenda, self._working_set(days, attestation=attesting))

    def _decide(
        self, agenda: _Agenda, roster: RosterSpec, day: date, slot: int, change: LessonChange | None
    ) -> str | None:
        """Who teaches the lesson (a login), after the deputy's decision of the morning, if any
        (п. 2.2, 2.3): its own teacher, a substitute, or nobody (cancelled)."""
        if change is None:
            return roster.teacher
        lesson_id = Lesson.create_id(roster_id=roster.roster_id, on=day, slot=slot)
        deputy = self.actors[self.spec.deputy]
        at = moment(day, time(7, 45))
        if change.substitute is None:
            agenda.add(at, c.CancelLesson(actor=deputy, lesson_id=lesson_id, reason=change.reason))
            return None
        substitute = c.AssignSubstitute(
            actor=deputy,
            lesson_id=lesson_id,
            teacher_id=self._person(change.substitute),
            reason=change.reason,
        )
        agenda.add(at, substitute)
        return change.substitute

    def _play(self, agenda: _Agenda, working_set: Iterable[UUID]) -> None:
        """Run a unit's commands in one unit of work, the clock set to each one's moment."""
        with self.ledger.unit_of_work():
            self.ledger.prefetch(working_set)
            for step in agenda.in_order():
                self.clock.set(step.at)
                self.run(step.command)
                if step.counts is not None:
                    setattr(
                        self.counts, step.counts, getattr(self.counts, step.counts) + step.amount
                    )
        self.counts.units += 1

    def _working_set(self, days: Iterable[date], *, attestation: bool) -> Iterator[UUID]:
        """Every aggregate the week's commands read: one query instead of one each."""
        spec = self.spec
        yield spec.school_id
        yield SchoolYear.create_id(school_id=spec.school_id, year_start=cal.YEAR)
        for staff in spec.staff:
            yield Account.create_id(login=staff.login)
        for school_class in spec.classes:
            yield SchoolClass.create_id(
                school_id=spec.school_id,
                year_start=cal.YEAR,
                grade=school_class.grade,
                letter=school_class.letter,
            )
        person = {s.login: s.person_id for s in spec.staff}
        for rosters in spec.rosters.values():
            for roster in rosters:
                subject_id = spec.subjects[roster.subject]
                yield roster.roster_id
                yield ThematicPlan.create_id(roster_id=roster.roster_id, subject_id=subject_id)
                yield TeachingAssignment.create_id(
                    roster_id=roster.roster_id,
                    subject_id=subject_id,
                    teacher_id=person[roster.teacher],
                )
                if attestation:
                    for student in roster.members:
                        yield AttestationRecord.create_id(
                            school_id=spec.school_id,
                            year_start=cal.YEAR,
                            student_id=student,
                            subject_id=subject_id,
                        )
        for day, _, slot, roster in self._lessons(days):
            yield Lesson.create_id(roster_id=roster.roster_id, on=day, slot=slot)

    def _away(self, rng: random.Random, spec: ClassSpec, day: date) -> dict[UUID, str]:
        """Students who miss the whole day, with their code."""
        away = {}
        for student in spec.students:
            if rng.random() < DAY_ABSENCE:
                away[student] = rng.choices(("Б", "Н", "П"), (60, 25, 15))[0]
        return away

    def _plan_lesson(
        self,
        rng: random.Random,
        week: tuple[date, ...],
        day: date,
        slot: int,
        roster: RosterSpec,
        away: dict[UUID, str],
        teacher: str,
    ) -> _Lesson:
        """Which КТП item the lesson is, and who is absent from it; ``teacher`` teaches it."""
        key = (roster.roster_id, roster.subject)
        position = self._positions[key] = self._positions.get(key, 0) + 1
        codes = {s: away[s] for s in roster.members if s in away}
        for student in roster.members:
            if student not in codes and rng.random() < LESSON_ABSENCE:
                codes[student] = rng.choices(
                    (AttendanceCode.LATE.value, AttendanceCode.ABSENT.value), (60, 40)
                )[0]
        return _Lesson(
            lesson_id=Lesson.create_id(roster_id=roster.roster_id, on=day, slot=slot),
            roster=roster,
            week=week,
            day=day,
            slot=slot,
            position=position,
            teacher=self.actors[teacher],
            teacher_login=teacher,
            subject_id=self.spec.subjects[roster.subject],
            codes=codes,
            present=[s for s in roster.members if codes.get(s) in (None, "ОП")],
        )

    def _keep_lesson(
        self, rng: random.Random, agenda: _Agenda, marked: list[_Marked], lesson: _Lesson
    ) -> None:
        """The lesson held, its register, marks of answers or of a written work, homework and
        now and then a comment, each at its moment of the lesson (п. 2.5–2.7)."""
        roster = lesson.roster
        held: c.Command[object]
        if self.timetable:  # the timetable's lesson is there: its topic, from the КТП
            held = c.SetLessonTopic(
                actor=lesson.teacher, lesson_id=lesson.lesson_id, plan_item=lesson.position
            )
        else:
            held = c.ConductLesson(
                actor=lesson.teacher,
                roster_id=roster.roster_id,
                subject_id=lesson.subject_id,
                on=lesson.day,
                slot=lesson.slot,
                plan_item=lesson.position,
            )
        agenda.add(lesson.at(2), held, "lessons")
        agenda.add(
            lesson.at(5),
            c.RecordAttendance(
                actor=lesson.teacher, lesson_id=lesson.lesson_id, codes=lesson.codes
            ),
            "attendance_codes",
            len(lesson.codes),
        )
        graded = roster.grade >= 2 and roster.subject not in UNMARKED
        per_period = max(1.0, self._lessons_per_period(roster))
        written_every = max(2, round(per_period / WRITTEN_PER_PERIOD))
        # Written works fall on every ``written_every``-th lesson, at a phase of the roster's own.
        phase = roster.roster_id.int % written_every
        is_written = graded and bool(lesson.present) and lesson.position % written_every == phase
        if graded and lesson.present and not is_written:
            self._answers(rng, agenda, marked, lesson, per_period)
        if is_written:
            self._written_work(rng, agenda, lesson)
        if roster.grade >= 2 and roster.subject not in NO_HOMEWORK:
            self._homework(rng, agenda, lesson)
        if lesson.present and rng.random() < COMMENTED:
            comment = c.AddComment(
                actor=lesson.teacher,
                lesson_id=lesson.lesson_id,
                student_id=rng.choice(lesson.present),
                text=rng.choice(COMMENTS),
                comment_id=new_id(rng),
            )
            agenda.add(lesson.at(44), comment)

    def _answers(
        self,
        rng: random.Random,
        agenda: _Agenda,
        marked: list[_Marked],
        lesson: _Lesson,
        per_period: float,
    ) -> None:
        """Marks for answers during the lesson: enough that each student gets about
        ``MARKS_PER_PERIOD`` in a period, written works included."""
        roster = lesson.roster
        expected = max(0.0, (MARKS_PER_PERIOD - WRITTEN_PER_PERIOD)) * len(roster.members)
        expected /= per_period
        count = int(expected) + (rng.random() < expected - int(expected))
        count = min(max(count, 1), len(lesson.present))
        for student in rng.sample(lesson.present, k=count):
            value = self._mark(rng, student, roster.subject)
            mark_id = new_id(rng)
            answer = c.RecordMark(
                actor=lesson.teacher,
                lesson_id=lesson.lesson_id,
                student_id=student,
                value=value,
                work_type_id=self.spec.work_types[cal.ANSWER],
                mark_id=mark_id,
            )
            agenda.add(lesson.at(rng.randint(8, 42)), answer, "marks")
            marked.append(
                _Marked(lesson.lesson_id, mark_id, value, lesson.teacher_login, lesson.day)
            )

    def _written_work(self, rng: random.Random, agenda: _Agenda, lesson: _Lesson) -> None:
        """A written work of everyone present, marked on the day its checking ends: the next
        school day of the week, or the same day at the week's end (п. 2.5)."""
        later = [d for d in lesson.week if d > lesson.day]
        checked_on = later[0] if later else lesson.day
        work_type = self._written_type(rng, lesson.roster)
        marks = {s: self._mark(rng, s, lesson.roster.subject) for s in lesson.present}
        command = c.RecordClassWorkMarks(
            actor=lesson.teacher,
            lesson_id=lesson.lesson_id,
            work_type_id=self.spec.work_types[work_type],
            marks=marks,
            checked_on=checked_on,
            batch_id=new_id(rng),
        )
        agenda.add(
            moment(checked_on, time(16, 0), rng.randint(0, 120)), command, "marks", len(marks)
        )

    def _homework(self, rng: random.Random, agenda: _Agenda, lesson: _Lesson) -> None:
        """Homework with pages and tasks, due at the roster's next lesson day (п. 2.7)."""
        text, pages, tasks = rng.choice(HOMEWORK)
        p = rng.randint(5, 200)
        numbers = {"p": p, "q": p + 2, "n": lesson.position, "a": rng.randint(1, 300)}
        numbers |= {"b": numbers["a"] + 2, "c": numbers["a"] + 5}
        day = lesson.day
        due_on = next((d for d in lesson.week if d > day), day + timedelta(days=7 - day.weekday()))
        homework = c.AssignHomework(
            actor=lesson.teacher,
            lesson_id=lesson.lesson_id,
            text=text,
            pages=pages.format(**numbers),
            tasks=tasks.format(**numbers),
            due_on=due_on,
        )
        agenda.add(lesson.at(43), homework, "homework")

    def _lessons_per_period(self, roster: RosterSpec) -> float:
        """Lessons of the roster's subject in a quarter."""
        key = (roster.class_name, roster.subject)
        per_period = self._per_period.get(key)
        if per_period is None:
            timetable = next(k for k in self.spec.classes if k.name == roster.class_name).timetable
            hours = sum(day.count(roster.subject) for day in timetable)
            # Rates are per quarter (about 8.5 weeks), a half-year being two of them.
            per_period = self._per_period[key] = hours * 8.5
        return per_period

    def _written_type(self, rng: random.Random, roster: RosterSpec) -> str:
        if roster.subject in (RUSSIAN, LITERATURE) and roster.grade >= 10 and rng.random() < 0.3:
            return cal.ESSAY
        return cal.TEST if rng.random() < 0.4 else cal.CLASS_WORK

    def _mark(self, rng: random.Random, student: UUID, subject: str) -> int:
        ability = self.spec.ability.get(student, 3.9) + self._bias(student, subject)
        return min(5, max(2, round(rng.gauss(ability, 0.75))))

    def _bias(self, student: UUID, subject: str) -> float:
        # A student is better at some subjects than others: a fixed shift per subject.
        if not self._subject_index:
            self._subject_index.update((name, n) for n, name in enumerate(self.spec.subjects))
        index = self._subject_index.get(subject, 0)
        nibble = (student.int >> (4 * (index % 30))) & 0xF
        return (nibble - 7.5) / 15 * 0.8

    def _messages(self, rng: random.Random, agenda: _Agenda, day: date) -> None:
        # Now and then a class's Russian teacher writes to a student's parents (п. 1.5).
        for school_class in self.spec.classes:
            if rng.random() >= 0.1:
                continue
            rosters = self.spec.rosters.get((school_class.name, RUSSIAN))
            if not rosters:
                continue
            roster = rosters[0]
            message = c.SendMessageToParents(
                actor=self.actors[roster.teacher],
                roster_id=roster.roster_id,
                subject_id=self.spec.subjects[RUSSIAN],
                student_id=rng.choice(roster.members),
                text=rng.choice(MESSAGES),
                message_id=new_id(rng),
            )
            agenda.add(moment(day, time(15, 30), rng.randint(0, 60)), message)

    def _corrections(self, rng: random.Random, agenda: _Agenda, marked: list[_Marked]) -> None:
        """About 1 % of answer marks corrected and 0.3 % cancelled later that day (п. 1.4)."""
        for mark in marked:
            draw = rng.random()
            if draw < CORRECTED:
                value = mark.value - 1 if mark.value > 3 else mark.value + 1
                command: c.Command[object] = c.CorrectMark(
                    actor=self.actors[mark.teacher],
                    lesson_id=mark.lesson_id,
                    mark_id=mark.mark_id,
                    value=value,
                    reason=CORRECTION_REASON,
                )
            elif draw < CORRECTED + CANCELLED:
                command = c.CancelMark(
                    actor=self.actors[mark.teacher],
                    lesson_id=mark.lesson_id,
                    mark_id=mark.mark_id,
                    reason=CANCEL_REASON,
                )
            else:
                continue
            agenda.add(moment(mark.day, time(15, 30), rng.randint(0, 90)), command)

    # --- attestation (п. 2.8) ---------------------------------------------------------------------

    def _period_marks(
        self, rng: random.Random, agenda: _Agenda, spec: ClassSpec, days: tuple[date, ...]
    ) -> None:
        """In the last week of a period, on its last day, each teacher sets the period marks; at
        the end of the year the year marks as well."""
        if spec.grade < 2:
            return
        period = cal.period_ending_in(days, cal.scheme_of(spec.grade))
        if period is None:
            return
        day = max(d for d in days if d <= period.ends_on)
        year_end = period.ends_on == cal.LAST_LESSON_DAY
        for roster in self._rosters_of(spec):
            start = moment(day, time(15, 0), rng.randint(0, 120))
            for n, student in enumerate(roster.members):
                value = self._attestation(rng, student, roster.subject)
                whose = self._whose(roster, student)
                at = start + timedelta(seconds=20 * n)
                agenda.add(
                    at, c.SetPeriodMark(period=period.name, value=value, **whose), "period_marks"
                )
                if year_end:
                    agenda.add(
                        at + timedelta(seconds=10),
                        c.SetYearMark(value=value, **whose),
                        "period_marks",
                    )

    def _rosters_of(self, spec: ClassSpec) -> Iterator[RosterSpec]:
        """The class's rosters, subject by subject in the order of the timetable."""
        for subject in dict.fromkeys(s for day in spec.timetable for s in day):
            yield from self.spec.rosters[spec.name, subject]

    def _whose(self, roster: RosterSpec, student: UUID) -> _Whose:
        return _Whose(
            actor=self.actors[roster.teacher],
            roster_id=roster.roster_id,
            subject_id=self.spec.subjects[roster.subject],
            student_id=student,
        )

    def _attestation(self, rng: random.Random, student: UUID, subject: str) -> str:
        if subject in UNMARKED:
            return "зачёт"
        draw = rng.random()
        if draw < 0.004:
            return "Н/А"
        if subject == PE and draw < 0.015:
            return "ОСВ"
        ability = self.spec.ability.get(student, 3.9) + self._bias(student, subject)
        return str(min(5, max(2, round(ability + rng.gauss(0, 0.25)))))

    def keep_exams(self) -> None:
        """June: exam marks of grades 9 and 11 (ОГЭ, ЕГЭ), then their final marks."""
        rng = random.Random(f"{self.seed}:{self.spec.number}:exams")
        agenda = _Agenda()
        for spec in self.spec.classes:
            exam_subjects = EXAM_SUBJECTS.get(spec.grade)
            if exam_subjects is None:
                continue
            for roster in self._rosters_of(spec):
                for n, student in enumerate(roster.members):
                    whose = self._whose(roster, student)
                    value = self._attestation(rng, student, roster.subject)
                    if roster.subject in exam_subjects:
                        at = moment(cal.EXAM_DAY, time(11, 0), n * 0.5)
                        agenda.add(at, c.SetExamMark(value=value, **whose), "period_marks")
                    at = moment(cal.FINAL_DAY, time(10, 0), n * 0.5)
                    agenda.add(at, c.SetFinalMark(value=value, **whose), "period_marks")
        if agenda:
            self._play(agenda, self._working_set((), attestation=True))

    def has_exams(self) -> bool:
        return any(k.grade in EXAM_SUBJECTS for k in self.spec.classes)


def count_events(ledger: Ledger, log_id: str | None = None) -> int:
    with ledger.database.transaction(write=False) as cursor:
        if log_id is None:
            cursor.execute(f"SELECT COUNT(*) FROM {EVENTS_TABLE}")
        else:
            cursor.execute(f"SELECT COUNT(*) FROM {EVENTS_TABLE} WHERE log_id = ?", (log_id,))
        return int(cursor.fetchone()[0])


__all__ = ["SYSTEM_LOG", "Counts", "SchoolRun", "count_events", "moment"]
