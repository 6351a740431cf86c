"""Journal writes (п. 2.3–2.8): lessons, topics, attendance, marks, corrections and
cancellations with a reason, homework, comments, messages to parents, attestation marks.

Only the subject teacher assigned to the roster and subject writes (п. 2.3); a class teacher
reads only (п. 2.4). The commands enforce both and refuse with ``journal.*`` codes.
"""

from __future__ import annotations

from uuid import UUID, uuid4

from fastapi import APIRouter, status
from pydantic import Field

from ejournal import commands as c
from ejournal.api.deps import CurrentActor, LedgerDep
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


class ClassWorkOut(Output):
    batch_id: UUID
    mark_ids: list[UUID] = Field(description="In the order of the request's marks")


@router.post(
    "/lessons",
    response_model=Created,
    status_code=status.HTTP_201_CREATED,
    summary="Hold a lesson (its teacher) or schedule one for a teacher (administration)",
)
def conduct_lesson(body: LessonIn, actor: CurrentActor, ledger: LedgerDep) -> Created:
    lesson_id = c.handle(
        c.ScheduleLesson(
            actor=actor,
            roster_id=body.roster_id,
            subject_id=body.subject_id,
            on=body.on,
            slot=body.slot,
            teacher_id=body.teacher_id,
            topic=body.topic,
            plan_item=body.plan_item,
        ),
        ledger,
    )
    return Created(id=lesson_id)


@router.put(LESSON + "/topic", response_model=Accepted, summary="Set the lesson's topic (п. 2.6)")
def set_topic(lesson_id: UUID, body: TopicIn, actor: CurrentActor, ledger: LedgerDep) -> Accepted:
    c.handle(
        c.SetLessonTopic(
            actor=actor, lesson_id=lesson_id, topic=body.topic, plan_item=body.plan_item
        ),
        ledger,
    )
    return Accepted()


@router.put(
    LESSON + "/attendance",
    response_model=Accepted,
    summary="Record the lesson's attendance register (п. 2.5)",
)
def record_attendance(
    lesson_id: UUID, body: AttendanceIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    c.handle(c.RecordAttendance(actor=actor, lesson_id=lesson_id, codes=body.codes), ledger)
    return Accepted()


@router.post(
    LESSON + "/marks",
    response_model=Created,
    status_code=status.HTTP_201_CREATED,
    summary="Record a mark (п. 2.5, 2.6)",
)
def record_mark(lesson_id: UUID, body: MarkIn, actor: CurrentActor, ledger: LedgerDep) -> Created:
    mark_id = c.handle(
        c.RecordMark(
            actor=actor,
            lesson_id=lesson_id,
            student_id=body.student_id,
            value=body.value,
            work_type_id=body.work_type_id,
            checked_on=body.checked_on,
            mark_id=body.mark_id or uuid4(),
        ),
        ledger,
    )
    return Created(id=mark_id)


@router.post(
    LESSON + "/class-work",
    response_model=ClassWorkOut,
    status_code=status.HTTP_201_CREATED,
    summary="Record the marks of a class work for the whole roster, at once",
)
def record_class_work(
    lesson_id: UUID, body: ClassWorkIn, actor: CurrentActor, ledger: LedgerDep
) -> ClassWorkOut:
    batch_id = body.batch_id or uuid4()
    mark_ids = c.handle(
        c.RecordClassWorkMarks(
            actor=actor,
            lesson_id=lesson_id,
            work_type_id=body.work_type_id,
            marks=body.marks,
            checked_on=body.checked_on,
            batch_id=batch_id,
        ),
        ledger,
    )
    return ClassWorkOut(batch_id=batch_id, mark_ids=list(mark_ids))


@router.post(
    LESSON + "/marks/{mark_id}/correction",
    response_model=Accepted,
    summary="Correct a mark, with a reason (п. 1.4)",
)
def correct_mark(
    lesson_id: UUID, mark_id: UUID, body: CorrectionIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    c.handle(
        c.CorrectMark(
            actor=actor,
            lesson_id=lesson_id,
            mark_id=mark_id,
            value=body.value,
            reason=body.reason,
        ),
        ledger,
    )
    return Accepted()


@router.post(
    LESSON + "/marks/{mark_id}/cancellation",
    response_model=Accepted,
    summary="Cancel a mark, with a reason (п. 1.4)",
)
def cancel_mark(
    lesson_id: UUID, mark_id: UUID, body: CancellationIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    c.handle(
        c.CancelMark(actor=actor, lesson_id=lesson_id, mark_id=mark_id, reason=body.reason),
        ledger,
    )
    return Accepted()


@router.put(LESSON + "/homework", response_model=Accepted, summary="Set the homework (п. 2.7)")
def assign_homework(
    lesson_id: UUID, body: HomeworkIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    c.handle(
        c.AssignHomework(
            actor=actor,
            lesson_id=lesson_id,
            text=body.text,
            pages=body.pages,
            tasks=body.tasks,
            due_on=body.due_on,
        ),
        ledger,
    )
    return Accepted()


@router.post(
    LESSON + "/comments",
    response_model=Created,
    status_code=status.HTTP_201_CREATED,
    summary="Comment on a student in the lesson (п. 1.5)",
)
def add_comment(
    lesson_id: UUID, body: CommentIn, actor: CurrentActor, ledger: LedgerDep
) -> Created:
    comment_id = c.handle(
        c.AddComment(
            actor=actor,
            lesson_id=lesson_id,
            student_id=body.student_id,
            text=body.text,
            comment_id=body.comment_id or uuid4(),
        ),
        ledger,
    )
    return Created(id=comment_id)


@router.post(
    "/messages",
    response_model=Created,
    status_code=status.HTTP_201_CREATED,
    summary="Send a message to a student's parents (п. 1.5)",
)
def send_message(body: MessageIn, actor: CurrentActor, ledger: LedgerDep) -> Created:
    message_id = c.handle(
        c.SendMessageToParents(
            actor=actor,
            roster_id=body.roster_id,
            subject_id=body.subject_id,
            student_id=body.student_id,
            text=body.text,
            message_id=body.message_id or uuid4(),
        ),
        ledger,
    )
    return Created(id=message_id)


@router.put(
    "/rosters/{roster_id}/subjects/{subject_id}/attestation",
    response_model=Created,
    summary="Set a period, year, exam or final mark (п. 2.8)",
)
def set_attestation(
    roster_id: UUID, subject_id: UUID, body: AttestationIn, actor: CurrentActor, ledger: LedgerDep
) -> Created:
    command: c.Command[UUID]
    student, value, reason = body.student_id, body.value, body.reason
    where = {"roster_id": roster_id, "subject_id": subject_id}
    if body.kind is AttestationKind.PERIOD:
        command = c.SetPeriodMark(
            actor=actor,
            **where,
            student_id=student,
            value=value,
            reason=reason,
            period=body.period or "",
        )
    elif body.kind is AttestationKind.YEAR:
        command = c.SetYearMark(
            actor=actor, **where, student_id=student, value=value, reason=reason
        )
    elif body.kind is AttestationKind.EXAM:
        command = c.SetExamMark(
            actor=actor, **where, student_id=student, value=value, reason=reason
        )
    else:
        command = c.SetFinalMark(
            actor=actor, **where, student_id=student, value=value, reason=reason
        )
    return Created(id=c.handle(command, ledger))
