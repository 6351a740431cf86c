"""The demo: a school set up and one school week of its journal, all through the commands.

``run_demo`` builds a school with a head, a deputy and eight teachers, classes 5«А» (quarters) and
10«Б» (half-years) of 25 students each with their parents, ten subjects, English in two groups per
class, work types with weights, a bell schedule and the КТП of every roster and subject. It then
keeps the journal of the week of 8–12 September 2025: each lesson is held with its topic from the
КТП, attendance (about 7 % of students not present), marks for answers, a class work marked the
day its checking ended, one correction, one cancellation, homework, a comment and a message to
parents.

The clock moves through the week, so every record has a realistic time; the demo sets it, and
expects an empty ledger. Everything, IDs included, follows from the seed: the same seed writes the
same ledger.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

import commands as c
from ledger.actor import SYSTEM_ACTOR, Actor, Role
from ledger.application import Ledger
from ledger.clock import ManualClock
from ledger.domain import Lesson, SchoolYear
from ledger.domain.values import AttendanceCode, BellSlot, PeriodScheme, PlanItem
from ledger.logs import school_log_id

R = TypeVar("R")

TIME_ZONE = ZoneInfo("Europe/Moscow")
YEAR = 2025
FIRST_DAY = date(2025, 9, 1)
SETUP_DAY = date(2025, 8, 25)
WEEK = tuple(date(2025, 9, 8) + timedelta(days=n) for n in range(5))
STUDENTS_PER_CLASS = 25
ABSENCE_RATE = 0.07

ANSWER = "Ответ на уроке"
CLASS_WORK = "Самостоятельная работа"
WORK_TYPES = (
    (ANSWER, 1, False),
    ("Домашняя работа", 1, False),
    (CLASS_WORK, 2, True),
    ("Контрольная работа", 3, True),
    ("Сочинение", 3, True),
)
BELLS = (
    BellSlot(1, time(8, 30), time(9, 15)),
    BellSlot(2, time(9, 25), time(10, 10)),
    BellSlot(3, time(10, 30), time(11, 15)),
    BellSlot(4, time(11, 35), time(12, 20)),
    BellSlot(5, time(12, 30), time(13, 15)),
    BellSlot(6, time(13, 25), time(14, 10)),
    BellSlot(7, time(14, 20), time(15, 5)),
)
QUARTERS = (
    c.PeriodSpec("I четверть", date(2025, 9, 1), date(2025, 10, 26)),
    c.PeriodSpec("II четверть", date(2025, 11, 5), date(2025, 12, 28)),
    c.PeriodSpec("III четверть", date(2026, 1, 12), date(2026, 3, 22)),
    c.PeriodSpec("IV четверть", date(2026, 4, 1), date(2026, 5, 26)),
)
HALF_YEARS = (
    c.PeriodSpec("1 полугодие", date(2025, 9, 1), date(2025, 12, 28)),
    c.PeriodSpec("2 полугодие", date(2026, 1, 12), date(2026, 5, 26)),
)
HOLIDAYS = (
    ("Осенние каникулы", date(2025, 10, 27), date(2025, 11, 4)),
    ("Зимние каникулы", date(2025, 12, 29), date(2026, 1, 11)),
    ("Весенние каникулы", date(2026, 3, 23), date(2026, 3, 31)),
    ("Летние каникулы", date(2026, 5, 27), date(2026, 8, 31)),
)

ENGLISH = "Английский язык"
PE = "Физическая культура"
TEACHERS = {
    # login: (subjects taught, class whose class teacher they are)
    "t.russkiy": (("Русский язык", "Литература"), "5А"),
    "t.matematika": (("Математика", "Алгебра", "Геометрия"), None),
    "t.angliyskiy1": ((ENGLISH,), None),
    "t.angliyskiy2": ((ENGLISH,), "10Б"),
    "t.istoriya": (("История",), None),
    "t.biologiya": (("Биология",), None),
    "t.fizika": (("Физика",), None),
    "t.fizkultura": ((PE,), None),
}
ENGLISH_GROUPS = (("Группа 1", "t.angliyskiy1"), ("Группа 2", "t.angliyskiy2"))

CLASSES = {
    "5А": (5, "А", PeriodScheme.QUARTERS),
    "10Б": (10, "Б", PeriodScheme.HALF_YEARS),
}
TIMETABLE = {
    "5А": (
        ("Русский язык", "Математика", ENGLISH, "Литература", PE),
        ("Математика", "Русский язык", "История", "Биология", ENGLISH),
        ("Русский язык", "Математика", "Литература", ENGLISH, PE),
        ("Математика", "Русский язык", "История", "Биология", "Литература"),
        ("Русский язык", "Математика", ENGLISH, PE, "Литература"),
    ),
    "10Б": (
        ("Алгебра", "Физика", "Русский язык", ENGLISH, "История", "Литература"),
        ("Геометрия", "Литература", ENGLISH, "Биология", "Алгебра", PE),
        ("Алгебра", "Русский язык", "Физика", "История", ENGLISH, "Литература"),
        ("Геометрия", "Алгебра", "Биология", "Литература", PE, "История"),
        ("Алгебра", "Физика", ENGLISH, "Русский язык", PE, "Геометрия"),
    ),
}
"""Subjects by weekday (Monday first) and lesson number."""

PLANS = {
    ("5А", "Русский язык"): (
        "Язык и общение",
        "Звуки и буквы. Произношение и правописание",
        "Орфограмма. Место орфограмм в словах",
        "Правописание проверяемых безударных гласных в корне слова",
        "Правописание непроверяемых безударных гласных в корне слова",
        "Правописание проверяемых согласных в корне слова",
    ),
    ("5А", "Литература"): (
        "Книга в жизни человека",
        "Русский фольклор. Малые жанры фольклора",
        "Сказка как вид народной прозы",
        "«Царевна-лягушка»: народная мораль в сказке",
    ),
    ("5А", "Математика"): (
        "Натуральные числа и шкалы. Обозначение натуральных чисел",
        "Отрезок. Длина отрезка. Треугольник",
        "Плоскость. Прямая. Луч",
        "Шкалы и координаты",
        "Меньше или больше",
        "Сложение натуральных чисел и его свойства",
    ),
    ("5А", ENGLISH): (
        "Школьные предметы",
        "Школьные принадлежности",
        "Числительные от 1 до 100",
        "Мой любимый предмет",
    ),
    ("5А", "История"): (
        "Что изучает история. Историческая хронология",
        "Древнейшие люди",
    ),
    ("5А", "Биология"): (
        "Биология — наука о живой природе",
        "Методы изучения природы",
    ),
    ("5А", PE): (
        "Техника безопасности на уроках физической культуры",
        "Бег на короткие дистанции",
        "Прыжок в длину с места",
    ),
    ("10Б", "Русский язык"): (
        "Слово о русском языке",
        "Лексика. Слово и его значение",
        "Многозначность слова",
    ),
    ("10Б", "Литература"): (
        "Русская литература XIX века в контексте мировой культуры",
        "А. С. Пушкин. Жизнь и творчество",
        "Лирика Пушкина: основные темы и мотивы",
        "Поэма «Медный всадник»",
    ),
    ("10Б", "Алгебра"): (
        "Целые и рациональные числа",
        "Действительные числа",
        "Бесконечно убывающая геометрическая прогрессия",
        "Арифметический корень натуральной степени",
        "Степень с рациональным показателем",
    ),
    ("10Б", "Геометрия"): (
        "Предмет стереометрии. Аксиомы стереометрии",
        "Некоторые следствия из аксиом",
        "Параллельные прямые в пространстве",
    ),
    ("10Б", ENGLISH): (
        "Свободное время подростков",
        "Увлечения и хобби",
        "Present Simple и Present Continuous",
        "Письмо другу",
    ),
    ("10Б", "История"): (
        "Мир накануне Первой мировой войны",
        "Россия в Первой мировой войне",
        "Великая российская революция: февраль 1917 года",
    ),
    ("10Б", "Биология"): (
        "Биология как комплекс наук о живой природе",
        "Уровни организации живой материи",
    ),
    ("10Б", "Физика"): (
        "Физика и научный метод познания",
        "Механическое движение. Система отсчёта",
        "Равномерное прямолинейное движение",
    ),
    ("10Б", PE): (
        "Техника безопасности. Лёгкая атлетика",
        "Бег 100 м",
        "Эстафетный бег",
    ),
}
"""The first КТП items of each class's subject (English: of each group)."""

HOMEWORK = (
    ("Выучить правило", "с. 12–13", "упр. 15, 17"),
    ("Решить задачи", "с. 21", "№ 45, 47, 52"),
    ("Прочитать параграф, ответить на вопросы", "§ 2, с. 10–14", "вопросы 1–4"),
    ("Выполнить упражнения", "с. 8", "упр. 3, 5"),
)


@dataclass(frozen=True, kw_only=True, slots=True)
class DemoSummary:
    """What the demo recorded, and where."""

    school_id: UUID
    year_id: UUID
    log_id: str
    """The school year's log (I1); schools and accounts are in the system log."""
    commands: int
    events: int
    lessons: int
    marks: int
    """Lesson marks recorded, including those later corrected or cancelled."""
    attendance_codes: int
    """Students not simply present (Н, Б, П, ОП) over all registers."""
    homework: int
    students: int

    def describe(self) -> str:
        """What the demo did, for the terminal."""
        return "\n".join(
            (
                f"Demo school {self.school_id}: {self.students} students, one week of lessons.",
                f"  {self.commands} commands -> {self.events} events in log {self.log_id}",
                f"  {self.lessons} lessons, {self.marks} marks, {self.attendance_codes} absences "
                f"and late arrivals, {self.homework} homework entries",
            )
        )


@dataclass(frozen=True, slots=True)
class _Roster:
    roster_id: UUID
    class_name: str
    subject: str
    teacher: str
    members: tuple[UUID, ...]


class _Demo:
    def __init__(self, ledger: Ledger, clock: ManualClock, seed: int) -> None:
        self.ledger = ledger
        self.clock = clock
        self.rng = random.Random(seed)
        self.commands = 0
        self.lessons = 0
        self.marks = 0
        self.attendance_codes = 0
        self.homework = 0
        self.actors: dict[str, Actor] = {}
        self.person: dict[str, UUID] = {}
        self.subjects: dict[str, UUID] = {}
        self.work_types: dict[str, UUID] = {}
        self.classes: dict[str, UUID] = {}
        self.students: dict[str, tuple[UUID, ...]] = {}
        self.rosters: dict[tuple[str, str], list[_Roster]] = {}
        self.plan_position: dict[tuple[UUID, str], int] = {}
        self.school_id = self.new_id()

    def new_id(self) -> UUID:
        return UUID(int=self.rng.getrandbits(128), version=4)

    def run(self, command: c.Command[R]) -> R:
        self.commands += 1
        return c.handle(command, self.ledger)

    def at(self, day: date, moment: time) -> None:
        self.clock.set(datetime.combine(day, moment, TIME_ZONE).astimezone(UTC))

    def tick(self, seconds: int = 3) -> None:
        self.clock.advance(timedelta(seconds=seconds))

    # Setting the school up, the week before school starts (п. 2.2).

    def set_up(self) -> None:
        self.at(SETUP_DAY, time(10, 0))
        self.run(
            c.RegisterSchool(
                actor=SYSTEM_ACTOR,
                school_id=self.school_id,
                name="МКОУ «Демонстрационная средняя общеобразовательная школа»",
            )
        )
        staff = {"direktor": (Role.HEAD,), "zavuch": (Role.DEPUTY,)}
        self.register_staff(staff, grantor=SYSTEM_ACTOR)
        teachers = {
            login: (Role.TEACHER, Role.CLASS_TEACHER) if class_name else (Role.TEACHER,)
            for login, (_, class_name) in TEACHERS.items()
        }
        self.register_staff(teachers, grantor=self.actors["direktor"])
        self.set_up_year()
        self.set_up_classes()
        self.set_up_plans()

    def register_staff(self, staff: Mapping[str, Sequence[Role]], grantor: Actor) -> None:
        for login, roles in staff.items():
            self.tick()
            person_id = self.new_id()
            account_id = self.run(
                c.RegisterAccount(actor=SYSTEM_ACTOR, login=login, person_id=person_id)
            )
            for role in roles:
                self.run(
                    c.GrantRole(
                        actor=grantor, account_id=account_id, role=role, school_id=self.school_id
                    )
                )
            self.run(c.IssueCredentials(actor=SYSTEM_ACTOR, account_id=account_id))
            self.person[login] = person_id
            self.actors[login] = c.actor_for(self.ledger, account_id, session_id=self.new_id())

    def set_up_year(self) -> None:
        head = self.actors["direktor"]
        deputy = self.actors["zavuch"]
        self.tick(600)
        self.run(c.OpenSchoolYear(actor=head, school_id=self.school_id, year_start=YEAR))
        self.run(
            c.DefinePeriods(
                actor=deputy,
                school_id=self.school_id,
                year_start=YEAR,
                scheme=PeriodScheme.QUARTERS,
                periods=QUARTERS,
            )
        )
        self.run(
            c.DefinePeriods(
                actor=deputy,
                school_id=self.school_id,
                year_start=YEAR,
                scheme=PeriodScheme.HALF_YEARS,
                periods=HALF_YEARS,
            )
        )
        for name, starts_on, ends_on in HOLIDAYS:
            self.tick()
            self.run(
                c.DeclareHoliday(
                    actor=deputy,
                    school_id=self.school_id,
                    year_start=YEAR,
                    name=name,
                    starts_on=starts_on,
                    ends_on=ends_on,
                )
            )
        subjects = dict.fromkeys(s for plan in TIMETABLE.values() for day in plan for s in day)
        for name in subjects:
            self.tick()
            self.subjects[name] = self.run(
                c.AddSubject(
                    actor=deputy,
                    school_id=self.school_id,
                    year_start=YEAR,
                    name=name,
                    subject_id=self.new_id(),
                )
            )
        for name, weight, written in WORK_TYPES:
            self.tick()
            self.work_types[name] = self.run(
                c.DefineWorkType(
                    actor=deputy,
                    school_id=self.school_id,
                    year_start=YEAR,
                    name=name,
                    weight=weight,
                    written=written,
                    work_type_id=self.new_id(),
                )
            )
        self.run(
            c.DefineBellSchedule(
                actor=deputy, school_id=self.school_id, year_start=YEAR, slots=BELLS
            )
        )

    def set_up_classes(self) -> None:
        deputy = self.actors["zavuch"]
        for class_name, (grade, letter, scheme) in CLASSES.items():
            self.at(SETUP_DAY + timedelta(days=1), time(11 if grade > 5 else 10, 0))
            class_id = self.run(
                c.OpenClass(
                    actor=deputy,
                    school_id=self.school_id,
                    year_start=YEAR,
                    grade=grade,
                    letter=letter,
                    period_scheme=scheme,
                )
            )
            self.classes[class_name] = class_id
            class_teacher = next(t for t, (_, cls) in TEACHERS.items() if cls == class_name)
            self.run(
                c.AssignClassTeacher(
                    actor=deputy, class_id=class_id, teacher_id=self.person[class_teacher]
                )
            )
            students = tuple(self.new_id() for _ in range(STUDENTS_PER_CLASS))
            self.students[class_name] = students
            for student_id in students:
                self.tick()
                self.run(
                    c.EnrolStudent(
                        actor=deputy, class_id=class_id, student_id=student_id, on=FIRST_DAY
                    )
                )
                for _ in range(self.rng.choice((1, 2, 2))):
                    self.run(
                        c.LinkParent(
                            actor=deputy,
                            school_id=self.school_id,
                            year_start=YEAR,
                            student_id=student_id,
                            parent_id=self.new_id(),
                        )
                    )
            self.set_up_rosters(class_name, class_id, students)

    def set_up_rosters(self, class_name: str, class_id: UUID, students: tuple[UUID, ...]) -> None:
        deputy = self.actors["zavuch"]
        subjects = dict.fromkeys(s for day in TIMETABLE[class_name] for s in day)
        for subject in subjects:
            if subject == ENGLISH:
                half = len(students) // 2 + 1
                for (group_name, teacher), members in zip(
                    ENGLISH_GROUPS, (students[:half], students[half:]), strict=True
                ):
                    group_id = self.run(
                        c.FormGroup(
                            actor=deputy,
                            class_id=class_id,
                            subject_id=self.subjects[ENGLISH],
                            name=group_name,
                        )
                    )
                    for student_id in members:
                        self.tick()
                        self.run(
                            c.AddGroupMember(
                                actor=deputy, group_id=group_id, student_id=student_id, on=FIRST_DAY
                            )
                        )
                    self.assign(_Roster(group_id, class_name, subject, teacher, members))
            else:
                teacher = next(t for t, (taught, _) in TEACHERS.items() if subject in taught)
                self.assign(_Roster(class_id, class_name, subject, teacher, students))

    def assign(self, roster: _Roster) -> None:
        self.tick()
        self.run(
            c.AssignTeacher(
                actor=self.actors["zavuch"],
                roster_id=roster.roster_id,
                subject_id=self.subjects[roster.subject],
                teacher_id=self.person[roster.teacher],
                on=FIRST_DAY,
            )
        )
        self.rosters.setdefault((roster.class_name, roster.subject), []).append(roster)

    def set_up_plans(self) -> None:
        # Each teacher loads the КТП of what they teach (п. 2.6), on the Friday before school.
        self.at(SETUP_DAY + timedelta(days=4), time(15, 0))
        for (class_name, subject), rosters in self.rosters.items():
            topics = PLANS[class_name, subject]
            items = tuple(PlanItem(n, topic, 1) for n, topic in enumerate(topics, start=1))
            for roster in rosters:
                self.tick(40)
                self.run(
                    c.ImportKtp(
                        actor=self.actors[roster.teacher],
                        roster_id=roster.roster_id,
                        subject_id=self.subjects[subject],
                        items=items,
                    )
                )
                self.plan_position[roster.roster_id, subject] = 0

    # One school week.

    def keep_week(self) -> None:
        recorded: list[tuple[UUID, UUID, int, str]] = []
        class_work: tuple[UUID, frozenset[UUID]] | None = None
        for weekday, day in enumerate(WEEK):
            actions: list[tuple[datetime, int, Callable[[], None]]] = []
            for class_name, plan in TIMETABLE.items():
                for slot, subject in enumerate(plan[weekday], start=1):
                    for roster in self.rosters[class_name, subject]:
                        is_class_work = (class_name, subject, weekday) == ("5А", "Математика", 2)
                        present = self.plan_lesson(
                            actions, roster, day, slot, recorded, answers=not is_class_work
                        )
                        if is_class_work:
                            lesson_id = Lesson.create_id(
                                roster_id=roster.roster_id, on=day, slot=slot
                            )
                            class_work = (lesson_id, present)
            if weekday == 1:
                self.plan_correction(actions, day, recorded)
            if weekday == 3 and class_work is not None:
                self.plan_class_work(actions, day, *class_work)
            for moment, _, action in sorted(actions, key=lambda a: (a[0], a[1])):
                self.clock.set(moment)
                action()

    def moment(self, day: date, clock_time: time, minutes: float) -> datetime:
        start = datetime.combine(day, clock_time, TIME_ZONE)
        return (start + timedelta(minutes=minutes)).astimezone(UTC)

    def plan_lesson(
        self,
        actions: list[tuple[datetime, int, Callable[[], None]]],
        roster: _Roster,
        day: date,
        slot: int,
        recorded: list[tuple[UUID, UUID, int, str]],
        *,
        answers: bool,
    ) -> frozenset[UUID]:
        """Put one lesson's records on the day's agenda; return who was present."""
        teacher = self.actors[roster.teacher]
        bell = BELLS[slot - 1]
        lesson_id = Lesson.create_id(roster_id=roster.roster_id, on=day, slot=slot)
        self.plan_position[roster.roster_id, roster.subject] += 1
        item = self.plan_position[roster.roster_id, roster.subject]
        codes = {
            student: self.rng.choices(
                (
                    AttendanceCode.ABSENT,
                    AttendanceCode.ILL,
                    AttendanceCode.EXCUSED,
                    AttendanceCode.LATE,
                ),
                (40, 30, 15, 15),
            )[0].value
            for student in roster.members
            if self.rng.random() < ABSENCE_RATE
        }
        present = frozenset(s for s in roster.members if codes.get(s) in (None, "ОП"))

        def add(minutes: float, action: Callable[[], None]) -> None:
            actions.append((self.moment(day, bell.starts_at, minutes), len(actions), action))

        def conduct() -> None:
            self.run(
                c.ConductLesson(
                    actor=teacher,
                    roster_id=roster.roster_id,
                    subject_id=self.subjects[roster.subject],
                    on=day,
                    slot=slot,
                    plan_item=item,
                )
            )
            self.lessons += 1

        add(2, conduct)
        add(5, lambda: self.record_attendance(teacher, lesson_id, codes))
        if answers:
            for student in self.rng.sample(sorted(present), k=self.rng.randint(2, 4)):
                value = self.rng.choices((5, 4, 3, 2), (35, 40, 20, 5))[0]
                mark_id = self.new_id()
                answer = partial(self.record_answer, teacher, lesson_id, student, value, mark_id)
                add(self.rng.randint(10, 40), answer)
                recorded.append((lesson_id, mark_id, value, roster.teacher))
        if roster.subject != PE:
            text, pages, tasks = self.rng.choice(HOMEWORK)
            due_on = day + timedelta(days=3 if day.weekday() == 4 else 1)
            add(43, lambda: self.assign_homework(teacher, lesson_id, text, pages, tasks, due_on))
        if (roster.class_name, roster.subject, day, slot) == ("5А", "Литература", WEEK[0], 4):
            add(44, lambda: self.comment(teacher, lesson_id, sorted(present)[0]))
        return present

    def record_attendance(self, teacher: Actor, lesson_id: UUID, codes: dict[UUID, str]) -> None:
        self.run(c.RecordAttendance(actor=teacher, lesson_id=lesson_id, codes=codes))
        self.attendance_codes += len(codes)

    def record_answer(
        self, teacher: Actor, lesson_id: UUID, student: UUID, value: int, mark_id: UUID
    ) -> None:
        self.run(
            c.RecordMark(
                actor=teacher,
                lesson_id=lesson_id,
                student_id=student,
                value=value,
                work_type_id=self.work_types[ANSWER],
                mark_id=mark_id,
            )
        )
        self.marks += 1

    def assign_homework(
        self, teacher: Actor, lesson_id: UUID, text: str, pages: str, tasks: str, due_on: date
    ) -> None:
        self.run(
            c.AssignHomework(
                actor=teacher,
                lesson_id=lesson_id,
                text=text,
                pages=pages,
                tasks=tasks,
                due_on=due_on,
            )
        )
        self.homework += 1

    def comment(self, teacher: Actor, lesson_id: UUID, student: UUID) -> None:
        self.run(
            c.AddComment(
                actor=teacher,
                lesson_id=lesson_id,
                student_id=student,
                text="Выразительно прочитал сказку наизусть, активно работал на уроке.",
                comment_id=self.new_id(),
            )
        )

    def plan_correction(
        self,
        actions: list[tuple[datetime, int, Callable[[], None]]],
        day: date,
        recorded: list[tuple[UUID, UUID, int, str]],
    ) -> None:
        """On Tuesday afternoon one Monday mark is corrected and another cancelled (п. 1.4)."""
        (corrected, cancelled) = recorded[:2]

        def correct() -> None:
            lesson_id, mark_id, value, teacher = corrected
            self.run(
                c.CorrectMark(
                    actor=self.actors[teacher],
                    lesson_id=lesson_id,
                    mark_id=mark_id,
                    value=value - 1 if value > 3 else value + 1,
                    reason="Техническая ошибка при вводе отметки",
                )
            )

        def cancel() -> None:
            lesson_id, mark_id, _, teacher = cancelled
            self.run(
                c.CancelMark(
                    actor=self.actors[teacher],
                    lesson_id=lesson_id,
                    mark_id=mark_id,
                    reason="Отметка выставлена не тому ученику",
                )
            )

        def message() -> None:
            teacher = next(t for t, (_, cls) in TEACHERS.items() if cls == "5А")
            (roster,) = self.rosters["5А", "Русский язык"]
            self.run(
                c.SendMessageToParents(
                    actor=self.actors[teacher],
                    roster_id=roster.roster_id,
                    subject_id=self.subjects["Русский язык"],
                    student_id=roster.members[3],
                    text="Прошу обратить внимание на выполнение домашних заданий по русскому "
                    "языку: два задания не выполнены.",
                    message_id=self.new_id(),
                )
            )

        for minutes, action in ((0, correct), (5, cancel), (20, message)):
            actions.append((self.moment(day, time(15, 30), minutes), len(actions), action))

    def plan_class_work(
        self,
        actions: list[tuple[datetime, int, Callable[[], None]]],
        day: date,
        lesson_id: UUID,
        present: frozenset[UUID],
    ) -> None:
        """Wednesday's class work in 5«А» mathematics, marked on Thursday when checking ended."""
        teacher = self.actors["t.matematika"]
        marks = {s: self.rng.choices((5, 4, 3, 2), (25, 40, 28, 7))[0] for s in sorted(present)}
        batch_id = self.new_id()

        def record() -> None:
            self.run(
                c.RecordClassWorkMarks(
                    actor=teacher,
                    lesson_id=lesson_id,
                    work_type_id=self.work_types[CLASS_WORK],
                    marks=marks,
                    checked_on=day,
                    batch_id=batch_id,
                )
            )
            self.marks += len(marks)

        actions.append((self.moment(day, time(16, 0), 0), len(actions), record))


def _count_events(ledger: Ledger) -> int:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT COUNT(*) FROM stored_events")
        return int(cursor.fetchone()[0])


def run_demo(ledger: Ledger, clock: ManualClock, *, seed: int = 2025) -> DemoSummary:
    """Create the demo school and keep one week of its journal; return what was recorded.

    Runs on an empty ledger (it sets the clock to late August 2025 and moves it forward). Raises
    ``CommandError`` if a command is refused, which would be a bug of the demo.
    """
    before = _count_events(ledger)
    demo = _Demo(ledger, clock, seed)
    demo.set_up()
    demo.keep_week()
    return DemoSummary(
        school_id=demo.school_id,
        year_id=SchoolYear.create_id(school_id=demo.school_id, year_start=YEAR),
        log_id=school_log_id(demo.school_id, YEAR),
        commands=demo.commands,
        events=_count_events(ledger) - before,
        lessons=demo.lessons,
        marks=demo.marks,
        attendance_codes=demo.attendance_codes,
        homework=demo.homework,
        students=sum(len(s) for s in demo.students.values()),
    )
