"""What a pupil and the parents follow (п. 1.5, 1.6): the year's marks subject by subject
(``projections.progress``), and a mark's receipt (``ledger.mark_receipts``).

No provenance and no cancelled marks: the family's view (the staff who read it see the same).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from pydantic import Field

from ejournal.api.schemas.common import Output
from ejournal.api.schemas.reads import AverageOut, PeriodSpanOut, ViewOut, names_field


class DatedMarkOut(ViewOut):
    mark_id: UUID
    lesson_id: UUID
    on: date = Field(description="The day of the lesson")
    teacher_id: UUID = Field(description="Who taught the lesson")
    value: int = Field(description="The current value, after corrections")
    work_type_id: UUID
    work_type: str
    weight: Decimal
    checked_on: date | None = Field(description="Written work: the day its checking ended")


class DatedHomeworkOut(ViewOut):
    lesson_id: UUID
    on: date = Field(description="The day of the lesson it was given in")
    teacher_id: UUID
    text: str
    pages: str
    tasks: str
    due_on: date | None


class PeriodMarksOut(ViewOut):
    period: str | None = Field(
        description="I четверть …; none: lessons on days of no period of the class"
    )
    starts_on: date | None
    ends_on: date | None
    marks: list[DatedMarkOut] = Field(description="The current marks: cancelled ones left out")
    average: AverageOut
    period_mark: str | None = Field(
        description="1–5, ОСВ, Н/А, зачёт, незачёт (п. 2.8); none until it is set"
    )
    attendance: dict[str, int] = Field(
        description="Lessons with each code of the register: Н (absent), Б (ill), П (excused), "
        "ОП (late); every code, 0 included"
    )
    homework: list[DatedHomeworkOut]


class SubjectMarksOut(ViewOut):
    subject_id: UUID
    name: str
    periods: list[PeriodMarksOut] = Field(
        description="One per period of the class, in order; then the lessons of no period, if any"
    )
    year: str | None = Field(description="The year mark, once it is set (п. 2.8)")
    exam: str | None
    final: str | None


class StudentMarksOut(ViewOut):
    """A pupil's marks in one school's year, subject by subject and period by period."""

    student_id: UUID
    school_id: UUID
    year_start: int
    class_id: UUID | None
    class_name: str
    places: int = Field(description="Decimal places the averages are rounded to")
    periods: list[PeriodSpanOut]
    subjects: list[SubjectMarksOut]
    names: dict[UUID, str] = names_field()


class MarkFactsOut(Output):
    """What a mark receipt proves, each fact from a payload its proofs commit to."""

    log_id: str
    school_id: UUID
    year_start: int
    lesson_id: UUID
    on: date
    slot: int
    subject_id: UUID
    teacher_id: UUID
    student_id: UUID
    mark_id: UUID
    value: int = Field(description="The current value: the correction's, if it was corrected")
    work_type_id: UUID
    weight: str
    recorded_at: datetime = Field(description="When the mark was recorded (the server's clock)")
    corrected_at: datetime | None = Field(description="When it was corrected to its value")
    checkpoint_size: int
    signed_by: list[str]


class ProvenRecordOut(Output):
    receipt: str = Field(description="C2SP tlog-proof of one ledger entry")
    payload: str = Field(description="Base64 of the entry's stored payload (its leaf's digest)")


class MarkReceiptOut(Output):
    """A mark's receipt (ejournal.mark-receipt/1): save it as it is and check it offline with
    ``ejournal verify-proof FILE --key KEYS`` and the verifier keys the school publishes."""

    format: str
    explanation: str = Field(description="What the receipt proves, in Russian, for people")
    mark: MarkFactsOut
    records: list[ProvenRecordOut] = Field(
        description="The lesson's scheduling, the mark's recording and its correction, if any"
    )
