"""Bodies of the journal writes (п. 2.3–2.8)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from ejournal.api.schemas.common import (
    Choice,
    Id,
    Input,
    Name,
    Reason,
    SchoolDate,
    SmallInt,
    Text,
)
from ejournal.ledger.domain.values import AttestationKind

Code = Annotated[str, Field(max_length=8, description="Н, Б, П or ОП")]


class LessonIn(Input):
    roster_id: Id
    subject_id: Id
    on: SchoolDate
    slot: SmallInt
    teacher_id: Id | None = Field(
        default=None, description="For the administration scheduling a teacher's lesson"
    )
    topic: Text = ""
    plan_item: SmallInt | None = None
    room: Name = ""


class TopicIn(Input):
    topic: Text = ""
    plan_item: SmallInt | None = None


class AttendanceIn(Input):
    codes: Annotated[dict[Id, Code], Field(max_length=200)] = Field(
        description="Student → code, for every student not simply present"
    )


class MarkIn(Input):
    student_id: Id
    value: SmallInt
    work_type_id: Id
    checked_on: SchoolDate | None = None
    mark_id: Id | None = Field(default=None, description="Client-chosen ID, for safe retries")


class ClassWorkIn(Input):
    work_type_id: Id
    marks: Annotated[dict[Id, SmallInt], Field(max_length=200)]
    checked_on: SchoolDate | None = None
    batch_id: Id | None = None


class CorrectionIn(Input):
    value: SmallInt
    reason: Reason


class CancellationIn(Input):
    reason: Reason


class HomeworkIn(Input):
    text: Text
    pages: Text = ""
    tasks: Text = ""
    due_on: SchoolDate | None = None


class CommentIn(Input):
    student_id: Id
    text: Text
    comment_id: Id | None = None


class MessageIn(Input):
    roster_id: Id
    subject_id: Id
    student_id: Id
    text: Text
    message_id: Id | None = None


class AttestationIn(Input):
    student_id: Id
    kind: Choice[AttestationKind]
    period: Annotated[Text, Field(max_length=100)] | None = Field(
        default=None, description="For a period mark: the period's name (I четверть …)"
    )
    value: Annotated[str, Field(max_length=16, description="1–5, ОСВ, Н/А, зачёт, незачёт")]
    reason: Reason = ""

    def fields(self) -> dict[str, Any]:
        # ``kind`` picks the command; only a period mark's takes the period.
        mark = {"student_id": self.student_id, "value": self.value, "reason": self.reason}
        if self.kind is AttestationKind.PERIOD:
            return {**mark, "period": self.period or ""}
        return mark
