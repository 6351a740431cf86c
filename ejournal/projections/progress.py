"""A pupil's marks through the school year (п. 1.5, 1.6, 2.5–2.8): what the pupil and the parents
follow between the diary's weeks.

Per subject and reporting period: the current marks with their date, type of work and weight,
their weighted average, the period mark once it is set, the lessons of each attendance code, and
the homework; per subject, the year, exam and final marks once they are set.

It is read from the year's diary in the same snapshot (``Queries.progress``), so it shows the
lessons, marks and registers the diary shows and nothing a п. 4.4 rule invalidated. Cancelled
marks are left out, and nothing here says who entered or changed what (п. 1.5): it is the
family's view, and the staff who read it see the same.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from ejournal.ledger.database import Cursor
from ejournal.ledger.domain.values import AttendanceCode
from ejournal.projections.views import AVERAGE_PLACES, Average, Diary, DiaryLesson, PeriodSpan

ATTENDANCE_CODES = tuple(code.value for code in AttendanceCode)
"""Н, Б, П, ОП: the codes of the register (п. 2.5), in the order a diary lists them."""


@dataclass(frozen=True, slots=True)
class SchoolYearSpan:
    """A school year of the read models: its key and its days."""

    key: int
    starts_on: date
    ends_on: date


@dataclass(frozen=True, slots=True)
class DatedMark:
    """A current mark with the day of its lesson."""

    mark_id: UUID
    lesson_id: UUID
    on: date
    teacher_id: UUID
    """Who taught the lesson."""
    value: int
    work_type_id: UUID
    work_type: str
    weight: Decimal
    checked_on: date | None


@dataclass(frozen=True, slots=True)
class DatedHomework:
    """A lesson's current homework (п. 2.7) with the day of the lesson."""

    lesson_id: UUID
    on: date
    teacher_id: UUID
    text: str
    pages: str
    tasks: str
    due_on: date | None


@dataclass(frozen=True, slots=True)
class PeriodProgress:
    """One subject in one period."""

    period: str | None
    """The period's name; None: lessons on days of no period of the class (a year whose periods
    are not set yet)."""
    starts_on: date | None
    ends_on: date | None
    marks: tuple[DatedMark, ...]
    average: Average
    period_mark: str | None
    """1–5, «ОСВ», «Н/А», «зачёт», «незачёт» (п. 2.8); None until it is set."""
    attendance: Mapping[str, int]
    """Lessons with each code of ``ATTENDANCE_CODES`` (every code, 0 included)."""
    homework: tuple[DatedHomework, ...]


@dataclass(frozen=True, slots=True)
class SubjectProgress:
    subject_id: UUID
    name: str
    periods: tuple[PeriodProgress, ...]
    """One per period of the class, in order; then the lessons outside every period, if any."""
    year: str | None
    exam: str | None
    final: str | None


@dataclass(frozen=True, slots=True)
class Progress:
    """A pupil's marks in one school's year, subject by subject."""

    student_id: UUID
    school_id: UUID
    year_start: int
    class_id: UUID | None
    """The class the pupil is, or was last, enrolled in that year: whose periods are used."""
    class_name: str
    places: int
    """Decimal places the averages are shown with."""
    periods: tuple[PeriodSpan, ...]
    subjects: tuple[SubjectProgress, ...]


def school_year(cursor: Cursor, school_id: UUID, year_start: int) -> SchoolYearSpan | None:
    """The school's year in the read models, None if it is not there."""
    cursor.execute(
        "SELECT nid, starts_on, ends_on FROM rm_year WHERE school_id = ? AND year_start = ?",
        (school_id.hex, year_start),
    )
    row = cursor.fetchone()
    if row is None:
        return None
    return SchoolYearSpan(int(row[0]), date.fromisoformat(row[1]), date.fromisoformat(row[2]))


def progress(
    cursor: Cursor,
    diary: Diary,
    school_id: UUID,
    year_start: int,
    year: SchoolYearSpan,
    *,
    places: int = AVERAGE_PLACES,
) -> Progress:
    """The pupil's ``Progress`` from the ``diary`` of the whole ``year``, with the periods of the
    pupil's class and the attestation marks read with ``cursor``."""
    student = diary.student_id
    class_id, class_name, scheme = _class_of(cursor, student, school_id, year_start)
    periods: tuple[PeriodSpan, ...] = ()
    if scheme is not None:
        cursor.execute(
            "SELECT name, starts_on, ends_on FROM rm_period WHERE year_key = ? AND scheme = ? "
            "ORDER BY ordinal",
            (year.key, scheme),
        )
        periods = tuple(
            PeriodSpan(name, date.fromisoformat(s), date.fromisoformat(e))
            for name, s, e in cursor.fetchall()
        )
    attestation = _attestation(cursor, student, school_id, year_start)
    lessons: dict[str, list[DiaryLesson]] = defaultdict(list)
    for day in diary.days:
        for entry in day.lessons:
            lessons[entry.lesson.subject_id.hex].append(entry)
    cursor.execute(
        "SELECT subject_id, name FROM rm_subject WHERE year_key = ? ORDER BY nid", (year.key,)
    )
    subjects = []
    for subject_id, name in cursor.fetchall():
        own = attestation.get(subject_id, {})
        if subject_id not in lessons and not own:
            continue
        subjects.append(
            SubjectProgress(
                UUID(subject_id),
                name,
                _periods(lessons.get(subject_id, []), periods, own, places),
                own.get(("year", "")),
                own.get(("exam", "")),
                own.get(("final", "")),
            )
        )
    return Progress(
        student, school_id, year_start, class_id, class_name, places, periods, tuple(subjects)
    )


def _class_of(
    cursor: Cursor, student: UUID, school_id: UUID, year_start: int
) -> tuple[UUID | None, str, str | None]:
    """(class, its name, its period scheme) the pupil is, or was last, enrolled in that year."""
    cursor.execute(
        "SELECT r.roster_id, r.name, r.period_scheme FROM rm_member m "
        "JOIN rm_roster r ON r.nid = m.roster_key WHERE m.student_id = ? AND r.kind = 'class' "
        "AND r.school_id = ? AND r.year_start = ? ORDER BY m.starts_on DESC, m.nid DESC LIMIT 1",
        (student.hex, school_id.hex, year_start),
    )
    row = cursor.fetchone()
    if row is None:
        return None, "", None
    return UUID(row[0]), row[1], row[2]


def _attestation(
    cursor: Cursor, student: UUID, school_id: UUID, year_start: int
) -> dict[str, dict[tuple[str, str], str]]:
    """subject → (kind, period or '') → the current attestation mark of the pupil that year."""
    cursor.execute(
        "SELECT r.subject_id, a.kind, a.period, a.value FROM rm_attestation_record r "
        "JOIN rm_attestation a ON a.record_key = r.nid "
        "WHERE r.school_id = ? AND r.year_start = ? AND r.student_id = ?",
        (school_id.hex, year_start, student.hex),
    )
    found: dict[str, dict[tuple[str, str], str]] = defaultdict(dict)
    for subject, kind, period, value in cursor.fetchall():
        found[subject][(kind, period or "")] = value
    return found


def _periods(
    lessons: list[DiaryLesson],
    periods: tuple[PeriodSpan, ...],
    attestation: Mapping[tuple[str, str], str],
    places: int,
) -> tuple[PeriodProgress, ...]:
    """A subject's lessons period by period; those of no period last, if there are any."""
    within: dict[PeriodSpan | None, list[DiaryLesson]] = {period: [] for period in periods}
    for entry in lessons:
        day = entry.lesson.on
        span = next((p for p in periods if p.starts_on <= day <= p.ends_on), None)
        within.setdefault(span, []).append(entry)
    return tuple(
        _period(span, entries, attestation.get(("period", span.name)) if span else None, places)
        for span, entries in within.items()
        if span is not None or entries
    )


def _period(
    span: PeriodSpan | None, lessons: list[DiaryLesson], mark: str | None, places: int
) -> PeriodProgress:
    marks = tuple(
        DatedMark(
            m.mark_id,
            m.lesson_id,
            entry.lesson.on,
            entry.lesson.teacher_id,
            m.value,
            m.work_type_id,
            m.work_type,
            m.weight,
            m.checked_on,
        )
        for entry in lessons
        for m in entry.marks
        if not m.cancelled
    )
    weighted_sum = sum((m.weight * m.value for m in marks), Decimal(0))
    weights = sum((m.weight for m in marks), Decimal(0))
    attendance = dict.fromkeys(ATTENDANCE_CODES, 0)
    for entry in lessons:
        if entry.attendance in attendance:
            attendance[entry.attendance] += 1
    homework = tuple(
        DatedHomework(
            entry.lesson.lesson_id,
            entry.lesson.on,
            entry.lesson.teacher_id,
            entry.lesson.homework.text,
            entry.lesson.homework.pages,
            entry.lesson.homework.tasks,
            entry.lesson.homework.due_on,
        )
        for entry in lessons
        if entry.lesson.homework is not None
    )
    name, starts_on, ends_on = (span.name, span.starts_on, span.ends_on) if span else (None,) * 3
    average = Average(name or "", weighted_sum, weights, len(marks), places)
    return PeriodProgress(name, starts_on, ends_on, marks, average, mark, attendance, homework)
