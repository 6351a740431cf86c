"""The demo: one small school and one school week of its journal, written by the generator.

The school (``generator.spec.demo_school``) has a head, a deputy and eight teachers, classes
5«А» (quarters) and 10«Б» (half-years) of 25 students each with their parents, ten subjects,
English in two groups per class, work types with weights, a bell schedule and the КТП of every
roster and subject. The deputy sets each class's timetable from 8 September, which schedules the
lessons of the year; the generator then keeps the journal of the week of 8–12 September 2025:
each lesson is held with its topic from the КТП, attendance (about 7 % of students not present),
answers at the board, class works marked the day their checking ended, corrections and
cancellations, homework, comments and messages to parents. On Thursday the history teacher takes
5«А»'s literature as a substitute and writes it; Friday's PE of 10«Б» is cancelled.

The clock moves through the week, so every record has a realistic time; the demo sets it, and
expects an empty ledger. Everything, IDs included, follows from the seed: the same seed writes the
same ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from ejournal.generator import Plan, count_events, demo_school, generate
from ejournal.generator.calendar import ANSWER, YEAR
from ejournal.generator.spec import DEMO_TEACHERS
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import SchoolYear
from ejournal.ledger.logs import school_log_id

TEACHERS = DEMO_TEACHERS
WEEK = tuple(date(2025, 9, 8 + n) for n in range(5))
ENGLISH = "Английский язык"
PE = "Физическая культура"

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
"""The first КТП items of each class's subject (English: of each group); the rest of the year's
plan is generated."""


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
    """Lessons held in the week."""
    planned: int
    """Lessons the timetables scheduled for the year."""
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
                f"  the timetables planned {self.planned} lessons of the year",
                f"  {self.commands} commands -> {self.events} events in log {self.log_id}",
                f"  {self.lessons} lessons, {self.marks} marks, {self.attendance_codes} absences "
                f"and late arrivals, {self.homework} homework entries",
            )
        )


DEMO_SEED = 2025
"""The seed ``make demo`` draws its school from."""


def demo_plan(seed: int = DEMO_SEED) -> Plan:
    """The demo school over the week of 8–12 September 2025."""
    return Plan(
        schools=[demo_school(seed, PLANS)],
        seed=seed,
        first_day=WEEK[0],
        last_day=WEEK[-1],
        exams=False,
        timetable=True,
    )


def run_demo(ledger: Ledger, clock: ManualClock, *, seed: int = DEMO_SEED) -> DemoSummary:
    """Create the demo school and keep one week of its journal; return what was recorded.

    Runs on an empty ledger (it sets the clock to late August 2025 and moves it forward). Raises
    ``CommandError`` if a command is refused, which would be a bug of the demo.
    """
    before = count_events(ledger)
    plan = demo_plan(seed)
    (school,), counts = generate(ledger, clock, plan)
    spec = school.spec
    return DemoSummary(
        school_id=spec.school_id,
        year_id=SchoolYear.create_id(school_id=spec.school_id, year_start=YEAR),
        log_id=school_log_id(spec.school_id, YEAR),
        commands=counts.commands,
        events=count_events(ledger) - before,
        lessons=counts.lessons,
        planned=counts.planned,
        marks=counts.marks,
        attendance_codes=counts.attendance_codes,
        homework=counts.homework,
        students=spec.students,
    )


__all__ = [
    "ANSWER",
    "DEMO_SEED",
    "PLANS",
    "TEACHERS",
    "WEEK",
    "YEAR",
    "DemoSummary",
    "demo_plan",
    "run_demo",
]
