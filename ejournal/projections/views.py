"""What the queries return: frozen dataclasses, person IDs only (names live in the vault, I9).

Every value that came from an operation carries its ``Provenance``; every value that was corrected,
cancelled, superseded or revised keeps its ``history`` (п. 1.4), oldest first.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID


@dataclass(frozen=True, slots=True)
class Provenance:
    """Who recorded a value, through which session, and when (server clock, UTC)."""

    notification_id: int
    """The ledger entry (its log and index are in the ledger's row of this ID)."""
    actor_id: UUID
    session_id: UUID
    credential_version: int
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Change:
    """One operation on a value after it was first entered, or one version of a value that is
    replaced as a whole (a register, homework, a topic, an attestation mark)."""

    action: str
    """``set``, ``corrected``, ``cancelled`` or ``revised``."""
    value: str
    reason: str
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class Mark:
    """A lesson mark (п. 2.5, 2.6): its current value, and how it got there."""

    mark_id: UUID
    lesson_id: UUID
    student_id: UUID
    value: int
    """The current value (after corrections)."""
    first_value: int
    work_type_id: UUID
    work_type: str
    weight: Decimal
    checked_on: date | None
    """Written work: the day its checking ended."""
    cancelled: bool
    history: tuple[Change, ...]
    """Corrections and the cancellation, oldest first."""
    provenance: Provenance
    """The recording of the mark."""

    @property
    def corrected(self) -> bool:
        return any(change.action == "corrected" for change in self.history)


@dataclass(frozen=True, slots=True)
class Homework:
    """The lesson's current homework (п. 2.7); earlier versions are in ``history``."""

    text: str
    pages: str
    tasks: str
    due_on: date | None
    first_entered_at: datetime
    history: tuple[Change, ...]


@dataclass(frozen=True, slots=True)
class Lesson:
    """A lesson as the journal page and the diary show it (п. 2.6, 2.7)."""

    lesson_id: UUID
    roster_id: UUID
    class_id: UUID
    subject_id: UUID
    subject: str
    teacher_id: UUID
    """Who teaches the lesson: a substitute, if the administration named one."""
    on: date
    slot: int
    starts_at: time
    ends_at: time
    topic: str
    plan_item: int | None
    """The КТП item the topic follows, if any."""
    plan_topic: str | None
    """That item's topic in the current КТП (None if the item is not, or no longer, in it)."""
    homework: Homework | None
    provenance: Provenance
    room: str = ""
    substitute_for: UUID | None = None
    """The lesson's own teacher, when ``teacher_id`` is a substitute."""
    substitution_reason: str | None = None
    cancellation_reason: str | None = None
    """Why the lesson is not held; None: it is."""

    @property
    def cancelled(self) -> bool:
        return self.cancellation_reason is not None


@dataclass(frozen=True, slots=True)
class Cell:
    """One student in one lesson: the attendance code (None: present) and the marks."""

    attendance: str | None
    marks: tuple[Mark, ...]


@dataclass(frozen=True, slots=True)
class JournalRow:
    student_id: UUID
    cells: tuple[Cell, ...]
    """One per lesson of the page, in the page's order."""


@dataclass(frozen=True, slots=True)
class ClassJournal:
    """A page of the class journal (п. 2.3–2.7): a roster's lessons in a subject, by date, and the
    grid of its students × those lessons."""

    roster_id: UUID
    subject_id: UUID
    starts_on: date | None
    ends_on: date | None
    lessons: tuple[Lesson, ...]
    rows: tuple[JournalRow, ...]

    @property
    def students(self) -> tuple[UUID, ...]:
        return tuple(row.student_id for row in self.rows)

    def cell(self, student_id: UUID, lesson_id: UUID) -> Cell:
        """The cell of a student and a lesson; raises ``KeyError`` if either is not on the page."""
        column = next(i for i, lesson in enumerate(self.lessons) if lesson.lesson_id == lesson_id)
        row = next((r for r in self.rows if r.student_id == student_id), None)
        if row is None:
            raise KeyError(student_id)
        return row.cells[column]


@dataclass(frozen=True, slots=True)
class Comment:
    comment_id: UUID
    lesson_id: UUID
    text: str
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class Message:
    """A message to the student's parents (п. 1.5)."""

    message_id: UUID
    roster_id: UUID
    subject_id: UUID
    author_id: UUID
    text: str
    sent_on: date
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class DiaryLesson:
    lesson: Lesson
    attendance: str | None
    marks: tuple[Mark, ...]
    comments: tuple[Comment, ...]


@dataclass(frozen=True, slots=True)
class DiaryDay:
    on: date
    lessons: tuple[DiaryLesson, ...]
    """In the order of the day (slot, then start time)."""
    messages: tuple[Message, ...]
    """Messages to parents sent that day (school's local date)."""


@dataclass(frozen=True, slots=True)
class Diary:
    """A student's diary (п. 1.5) for a run of days: every day, with or without lessons."""

    student_id: UUID
    starts_on: date
    ends_on: date
    days: tuple[DiaryDay, ...]

    def current(self) -> Diary:
        """The diary without cancelled marks: what the student and the parents see (п. 1.5);
        the history of the marks is the staff's and the auditors' (п. 1.4)."""
        return replace(
            self,
            days=tuple(
                replace(
                    day,
                    lessons=tuple(
                        replace(entry, marks=tuple(m for m in entry.marks if not m.cancelled))
                        for entry in day.lessons
                    ),
                )
                for day in self.days
            ),
        )


@dataclass(frozen=True, slots=True)
class Subject:
    subject_id: UUID
    name: str


@dataclass(frozen=True, slots=True)
class PeriodSpan:
    name: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True, slots=True)
class AttestationMark:
    """A period, year, exam or final mark (п. 2.8): 1–5, «ОСВ», «Н/А», «зачёт», «незачёт»."""

    kind: str
    period: str | None
    value: str
    history: tuple[Change, ...]
    """Every value it had, oldest first; the last is the current one."""
    provenance: Provenance
    """The operation that set the current value."""


AVERAGE_PLACES = 2
"""Decimal places an average is shown with, unless the school sets otherwise (no school's
records hold such a setting yet: every school gets this)."""


@dataclass(frozen=True, slots=True)
class Average:
    """The weighted average Σ(w·m)/Σw of a period's current marks (cancelled ones left out)."""

    period: str
    weighted_sum: Decimal
    weights: Decimal
    marks: int
    places: int = AVERAGE_PLACES
    """Decimal places the average is shown with (``rounded``)."""

    @property
    def value(self) -> Decimal | None:
        """Exact to 28 significant digits; None without marks. Show ``rounded``."""
        return None if self.marks == 0 else self.weighted_sum / self.weights

    @property
    def rounded(self) -> Decimal | None:
        """``value`` to ``places`` decimal places, halves rounded up (4.625 → 4.63), as people
        read an average; None without marks."""
        value = self.value
        if value is None:
            return None
        return value.quantize(Decimal(1).scaleb(-self.places), rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class SummaryCell:
    """One student in one subject."""

    subject_id: UUID
    periods: tuple[AttestationMark | None, ...]
    """One per period of the sheet, in its order."""
    averages: tuple[Average, ...]
    """One per period of the sheet, in its order."""
    year: AttestationMark | None
    exam: AttestationMark | None
    final: AttestationMark | None


@dataclass(frozen=True, slots=True)
class SummaryRow:
    student_id: UUID
    cells: tuple[SummaryCell, ...]
    """One per subject of the sheet, in its order."""


@dataclass(frozen=True, slots=True)
class SummarySheet:
    """The summary sheet (сводная ведомость, п. 2.9) of one class, in real time."""

    class_id: UUID
    class_name: str
    school_id: UUID
    year_start: int
    periods: tuple[PeriodSpan, ...]
    subjects: tuple[Subject, ...]
    rows: tuple[SummaryRow, ...]
