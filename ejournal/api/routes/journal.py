"""Journal writes (п. 2.3–2.8): lessons, topics, attendance, marks, corrections and
cancellations with a reason, homework, comments, messages to parents, attestation marks.

Only the subject teacher assigned to the roster and subject writes (п. 2.3); a class teacher
reads only (п. 2.4). The commands enforce both and refuse with ``journal.*`` codes.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from fastapi import APIRouter, status
from pydantic import Field

from ejournal import commands as c
from ejournal.api.commands import accepted, created
from ejournal.api.deps import CurrentActor, LedgerDep, ServicesDep
from ejournal.api.errors import problem_responses
from ejournal.api.schemas.common import Accepted, Created, Output
from ejournal.api.schemas.journal import (
    AttendanceIn,
    AttestationIn,
    CancellationIn,
    ClassWorkIn,
    CommentIn,
    CorrectionIn,
    HomeworkIn,
    LessonIn,
    MarkIn,
    MessageIn,
    TopicIn,
)
from ejournal.api.threads import OneTripRoute
from ejournal.ledger.domain.values import AttestationKind

router = APIRouter(
    route_class=OneTripRoute, tags=["journal"], responses=problem_responses(401, 403, 404, 409, 422)
)

LESSON = "/lessons/{lesson_id}"

ATTESTATION: dict[AttestationKind, Callable[..., c.Command[UUID]]] = {
    AttestationKind.PERIOD: c.SetPeriodMark,
    AttestationKind.YEAR: c.SetYearMark,
    AttestationKind.EXAM: c.SetExamMark,
    AttestationKind.FINAL: c.SetFinalMark,
}
"""The command of each kind of attestation mark (``AttestationIn.kind``)."""


class ClassWorkOut(Output):
    batch_id: UUID
    mark_ids: list[UUID] = Field(description="In the order of the request's marks")


@router.post(
    "/lessons",
    response_model=Created,
    status_code=status.HTTP_201_CREATED,
    summary="Hold a lesson (its teacher) or schedule one for a teacher (administration)",
)
def conduct_lesson(body: LessonIn, actor: CurrentActor, services: ServicesDep) -> Created:
    ledger = services.locating(body.roster_id).ledger  # the roster's school's server
    return created(c.ScheduleLesson(actor=actor, **body.fields()), ledger)


@router.put(LESSON + "/topic", response_model=Accepted, summary="Set the lesson's topic (п. 2.6)")
def set_topic(lesson_id: UUID, body: TopicIn, actor: CurrentActor, ledger: LedgerDep) -> Accepted:
    return accepted(c.SetLessonTopic(actor=actor, lesson_id=lesson_id, **body.fields()), ledger)


@router.put(
    LESSON + "/attendance",
    response_model=Accepted,
    summary="Record the lesson's attendance register (п. 2.5)",
)
def record_attendance(
    lesson_id: UUID, body: AttendanceIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    return accepted(c.RecordAttendance(actor=actor, lesson_id=lesson_id, **body.fields()), ledger)


@router.post(
    LESSON + "/marks",
    response_model=Created,
    status_code=status.HTTP_201_CREATED,
    summary="Record a mark (п. 2.5, 2.6)",
)
def record_mark(lesson_id: UUID, body: MarkIn, actor: CurrentActor, ledger: LedgerDep) -> Created:
    return created(c.RecordMark(actor=actor, lesson_id=lesson_id, **body.fields()), ledger)


@router.post(
    LESSON + "/class-work",
    response_model=ClassWorkOut,
    status_code=status.HTTP_201_CREATED,
    summary="Record the marks of a class work for the whole roster, at once",
)
def record_class_work(
    lesson_id: UUID, body: ClassWorkIn, actor: CurrentActor, ledger: LedgerDep
) -> ClassWorkOut:
    command = c.RecordClassWorkMarks(actor=actor, lesson_id=lesson_id, **body.fields())
    mark_ids = c.handle(command, ledger)
    return ClassWorkOut(batch_id=command.batch_id, mark_ids=list(mark_ids))


@router.post(
    LESSON + "/marks/{mark_id}/correction",
    response_model=Accepted,
    summary="Correct a mark, with a reason (п. 1.4)",
)
def correct_mark(
    lesson_id: UUID, mark_id: UUID, body: CorrectionIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    command = c.CorrectMark(actor=actor, lesson_id=lesson_id, mark_id=mark_id, **body.fields())
    return accepted(command, ledger)


@router.post(
    LESSON + "/marks/{mark_id}/cancellation",
    response_model=Accepted,
    summary="Cancel a mark, with a reason (п. 1.4)",
)
def cancel_mark(
    lesson_id: UUID, mark_id: UUID, body: CancellationIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    command = c.CancelMark(actor=actor, lesson_id=lesson_id, mark_id=mark_id, **body.fields())
    return accepted(command, ledger)


@router.put(LESSON + "/homework", response_model=Accepted, summary="Set the homework (п. 2.7)")
def assign_homework(
    lesson_id: UUID, body: HomeworkIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    return accepted(c.AssignHomework(actor=actor, lesson_id=lesson_id, **body.fields()), ledger)


@router.post(
    LESSON + "/comments",
    response_model=Created,
    status_code=status.HTTP_201_CREATED,
    summary="Comment on a student in the lesson (п. 1.5)",
)
def add_comment(
    lesson_id: UUID, body: CommentIn, actor: CurrentActor, ledger: LedgerDep
) -> Created:
    return created(c.AddComment(actor=actor, lesson_id=lesson_id, **body.fields()), ledger)


@router.post(
    "/messages",
    response_model=Created,
    status_code=status.HTTP_201_CREATED,
    summary="Send a message to a student's parents (п. 1.5)",
)
def send_message(body: MessageIn, actor: CurrentActor, services: ServicesDep) -> Created:
    ledger = services.locating(body.roster_id).ledger  # the roster's school's server
    return created(c.SendMessageToParents(actor=actor, **body.fields()), ledger)


@router.put(
    "/rosters/{roster_id}/subjects/{subject_id}/attestation",
    response_model=Created,
    summary="Set a period, year, exam or final mark (п. 2.8)",
)
def set_attestation(
    roster_id: UUID, subject_id: UUID, body: AttestationIn, actor: CurrentActor, ledger: LedgerDep
) -> Created:
    command = ATTESTATION[body.kind](
        actor=actor, roster_id=roster_id, subject_id=subject_id, **body.fields()
    )
    return created(command, ledger)
