"""What the read endpoints return: the class journal page, the diary, the summary sheet and the
monitor of journal keeping, as ``projections.views`` describes them. The read models hold person
IDs only (I9); ``names`` joins their names from the vault at read time, for a reader allowed to see
them (``api.names``).

Every value that came from an operation carries its provenance (who, which session, when: I8), and
every corrected, cancelled or revised value its history (п. 1.4): for the staff and the auditors.
The student and the parents read their diary as ``FamilyDiaryOut``: the current marks only, without
history and provenance (the teachers' sessions and accounts are not theirs to see).
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

from pydantic import ConfigDict, Field

from ejournal.api.schemas.common import Output

NAMES = (
    "The display name of each person this shows, keyed by the ID it shows them by: a person's, "
    "or for who recorded a value the provenance's account (actor_id). A pupil «Иванова Мария», "
    "an adult «Петрова А. С.»; «данные удалены»: the person's data was destroyed; «имя не "
    "внесено»: the school has not entered it. Empty for a reader who may not see names "
    "(auditors) and without a vault (п. 1.7)"
)


def names_field() -> Any:
    """The ``names`` of a response (``NAMES``)."""
    return Field(default_factory=dict, description=NAMES)


class ViewOut(Output):
    """Read straight from the projections' frozen dataclasses."""

    model_config = ConfigDict(from_attributes=True)


class ProvenanceOut(ViewOut):
    notification_id: int
    actor_id: UUID
    session_id: UUID
    credential_version: int
    recorded_at: datetime


class ChangeOut(ViewOut):
    action: str = Field(description="set, corrected, cancelled or revised")
    value: str
    reason: str
    provenance: ProvenanceOut


class MarkOut(ViewOut):
    mark_id: UUID
    lesson_id: UUID
    student_id: UUID
    value: int = Field(description="The current value, after corrections")
    first_value: int
    work_type_id: UUID
    work_type: str
    weight: Decimal
    checked_on: date | None
    cancelled: bool
    corrected: bool
    history: list[ChangeOut]
    provenance: ProvenanceOut


class HomeworkOut(ViewOut):
    text: str
    pages: str
    tasks: str
    due_on: date | None
    first_entered_at: datetime
    history: list[ChangeOut]


class _LessonFields(ViewOut):
    """What every reader of a lesson sees of it."""

    lesson_id: UUID
    roster_id: UUID
    class_id: UUID
    subject_id: UUID
    subject: str
    teacher_id: UUID = Field(description="Who teaches it: the substitute, if there is one")
    on: date
    slot: int
    starts_at: time
    ends_at: time
    topic: str
    room: str = Field(description="Empty: not given")
    substitute_for: UUID | None = Field(
        description="The lesson's own teacher, when teacher_id substitutes for them"
    )
    cancelled: bool = Field(description="The lesson is not held («урок отменён»)")


class LessonOut(_LessonFields):
    plan_item: int | None
    plan_topic: str | None
    homework: HomeworkOut | None
    provenance: ProvenanceOut
    substitution_reason: str | None
    cancellation_reason: str | None


class CellOut(ViewOut):
    attendance: str | None = Field(description="Н, Б, П or ОП; none: present")
    marks: list[MarkOut]


class JournalRowOut(ViewOut):
    student_id: UUID
    cells: list[CellOut] = Field(description="One per lesson of the page, in its order")


class ClassJournalOut(ViewOut):
    roster_id: UUID
    subject_id: UUID
    starts_on: date | None
    ends_on: date | None
    lessons: list[LessonOut]
    rows: list[JournalRowOut]
    names: dict[UUID, str] = names_field()


class CommentOut(ViewOut):
    comment_id: UUID
    lesson_id: UUID
    text: str
    provenance: ProvenanceOut


class MessageOut(ViewOut):
    message_id: UUID
    roster_id: UUID
    subject_id: UUID
    author_id: UUID
    text: str
    sent_on: date
    provenance: ProvenanceOut


class DiaryLessonOut(ViewOut):
    lesson: LessonOut
    attendance: str | None
    marks: list[MarkOut]
    comments: list[CommentOut]


class DiaryDayOut(ViewOut):
    on: date
    lessons: list[DiaryLessonOut]
    messages: list[MessageOut]


class DiaryOut(ViewOut):
    student_id: UUID
    starts_on: date
    ends_on: date
    days: list[DiaryDayOut]
    names: dict[UUID, str] = names_field()


class FamilyMarkOut(ViewOut):
    """A current mark, as the student and the parents see it: no history, no provenance."""

    mark_id: UUID
    lesson_id: UUID
    student_id: UUID
    value: int = Field(description="The current value, after corrections")
    work_type_id: UUID
    work_type: str
    weight: Decimal
    checked_on: date | None


class FamilyHomeworkOut(ViewOut):
    text: str
    pages: str
    tasks: str
    due_on: date | None


class FamilyLessonOut(_LessonFields):
    homework: FamilyHomeworkOut | None


class FamilyCommentOut(ViewOut):
    comment_id: UUID
    lesson_id: UUID
    text: str


class FamilyMessageOut(ViewOut):
    message_id: UUID
    roster_id: UUID
    subject_id: UUID
    author_id: UUID
    text: str
    sent_on: date


class FamilyDiaryLessonOut(ViewOut):
    lesson: FamilyLessonOut
    attendance: str | None
    marks: list[FamilyMarkOut] = Field(description="The current marks: cancelled ones left out")
    comments: list[FamilyCommentOut]


class FamilyDiaryDayOut(ViewOut):
    on: date
    lessons: list[FamilyDiaryLessonOut]
    messages: list[FamilyMessageOut]


class FamilyDiaryOut(ViewOut):
    """The diary as the student and the parents read it (п. 1.5): the current marks only."""

    student_id: UUID
    starts_on: date
    ends_on: date
    days: list[FamilyDiaryDayOut]
    names: dict[UUID, str] = names_field()


class SubjectOut(ViewOut):
    subject_id: UUID
    name: str


class PeriodSpanOut(ViewOut):
    name: str
    starts_on: date
    ends_on: date


class AttestationMarkOut(ViewOut):
    kind: str = Field(description="period, year, exam or final")
    period: str | None
    value: str = Field(description="1–5, ОСВ, Н/А, зачёт, незачёт")
    history: list[ChangeOut]
    provenance: ProvenanceOut


class AverageOut(ViewOut):
    period: str
    weighted_sum: Decimal
    weights: Decimal
    marks: int
    value: Decimal | None = Field(
        validation_alias="rounded",
        description="Σ(w·m)/Σw rounded to the school's decimal places (two unless it sets "
        "otherwise), halves up; none without marks",
    )


class SummaryCellOut(ViewOut):
    subject_id: UUID
    periods: list[AttestationMarkOut | None]
    averages: list[AverageOut]
    year: AttestationMarkOut | None
    exam: AttestationMarkOut | None
    final: AttestationMarkOut | None


class SummaryRowOut(ViewOut):
    student_id: UUID
    cells: list[SummaryCellOut] = Field(description="One per subject of the sheet, in its order")


class SummarySheetOut(ViewOut):
    class_id: UUID
    class_name: str
    school_id: UUID
    year_start: int
    periods: list[PeriodSpanOut]
    subjects: list[SubjectOut]
    rows: list[SummaryRowOut]
    names: dict[UUID, str] = names_field()


class FlagOut(ViewOut):
    rule: str
    clause: str
    message: str
    on: date
    teacher_id: UUID | None
    class_id: UUID | None
    subject_id: UUID | None
    lesson_id: UUID | None
    student_id: UUID | None
    entered_at: datetime | None


class MonitorOut(ViewOut):
    school_id: UUID
    year_start: int
    as_of: datetime
    flags: list[FlagOut]
    names: dict[UUID, str] = names_field()
