"""The journal (п. 2.5–2.7, 1.5): lessons with their topic, register, marks, homework and comments;
messages to parents; period, year, exam and final marks (п. 2.8).

Nothing is overwritten without trace (п. 1.4): a mark keeps its first value beside its current one
and every correction or cancellation, every register, topic and homework, and every attestation
mark is also kept in the history with its reason and provenance.
"""

from __future__ import annotations

import orjson

from ejournal.ledger.domain import AttestationRecord, Lesson, ParentMessage
from ejournal.projections.decoding import Fields
from ejournal.projections.handlers.base import Kind, Owned, Page, first, handles
from ejournal.projections.tables import (
    ATTENDANCE,
    ATTESTATION,
    ATTESTATION_RECORDS,
    COMMENTS,
    LESSONS,
    MARKS,
    MESSAGES,
    AttendanceRow,
    AttestationRecordRow,
    AttestationRow,
    CommentRow,
    LessonRow,
    MarkRow,
    MessageRow,
    Operation,
)

LESSON = Kind(
    "Lesson",
    LESSONS,
    (
        (ATTENDANCE, lambda r: r.student_id),
        (MARKS, lambda r: r.mark_id),
        (COMMENTS, lambda r: r.comment_id),
    ),
)
MESSAGE = Kind("ParentMessage", MESSAGES)
ATTESTATION_RECORD = Kind(
    "AttestationRecord", ATTESTATION_RECORDS, ((ATTESTATION, lambda r: (r.kind, r.period)),)
)


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


@handles(LESSON, Lesson.Scheduled, creates=True)
def lesson_scheduled(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.primary = LessonRow(
        state.aggregate_id,
        f["school_id"],
        f["year_start"],
        f["roster_id"],
        f["roster_kind"],
        f["class_id"],
        f["subject_id"],
        f["teacher_id"],
        f["on"],
        f["slot"],
        f["starts_at"],
        f["ends_at"],
        f["topic"],
        f["plan_item"],
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        0,
        None,
        None,
        f.get("room", ""),  # not kept before rooms were
        None,
        None,
        None,
        None,
        0,
        None,
        op,
    )


@handles(LESSON, Lesson.Replanned)
def lesson_replanned(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    lesson: LessonRow = state.row
    lesson.subject_id = f["subject_id"]
    lesson.teacher_id = f["teacher_id"]
    lesson.room = f["room"]
    lesson.starts_at = f["starts_at"]
    lesson.ends_at = f["ends_at"]
    lesson.cancelled = 0
    lesson.cancel_reason = None
    lesson.plan_nid = op.nid
    value = _json({k: f[k] for k in ("subject_id", "teacher_id", "room", "starts_at", "ends_at")})
    page.record(
        op, item="lesson", owner_key=state.key, action="replanned", value=value, reason=f["reason"]
    )


@handles(LESSON, Lesson.Cancelled)
def lesson_cancelled(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    lesson: LessonRow = state.row
    lesson.cancelled = 1
    lesson.cancel_reason = f["reason"]
    value = _json({"timetable_from": f["timetable_from"]})
    page.record(
        op, item="lesson", owner_key=state.key, action="cancelled", value=value, reason=f["reason"]
    )


@handles(LESSON, Lesson.SubstituteAssigned)
def substitute_assigned(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    lesson: LessonRow = state.row
    own = lesson.substitute_for or lesson.teacher_id
    if f["teacher_id"] == own:  # the lesson's own teacher again: the substitution ends
        lesson.teacher_id, lesson.substitute_for = own, None
        lesson.substitution_reason = lesson.substitution_nid = None
    else:
        lesson.teacher_id, lesson.substitute_for = f["teacher_id"], own
        lesson.substitution_reason, lesson.substitution_nid = f["reason"], op.nid
    value = _json({"teacher_id": f["teacher_id"]})
    page.record(
        op,
        item="lesson",
        owner_key=state.key,
        action="substituted",
        value=value,
        reason=f["reason"],
    )


@handles(LESSON, Lesson.TopicSet)
def topic_set(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    lesson: LessonRow = state.row
    lesson.topic = f["topic"]
    lesson.plan_item = f["plan_item"]
    lesson.topic_nid = op.nid
    value = _json({"topic": f["topic"], "plan_item": f["plan_item"]})
    page.record(op, item="topic", owner_key=state.key, action="set", value=value)


@handles(LESSON, Lesson.AttendanceRecorded)
def attendance_recorded(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    lesson: LessonRow = state.row
    register = state.rows(ATTENDANCE)
    register.clear()  # a later register supersedes the earlier one
    lesson_key = state.key
    for student_id, code in f["codes"]:
        register[student_id] = AttendanceRow(lesson_key, student_id, code, op)
    lesson.registers += 1
    lesson.register_nid = op.nid
    lesson.register_first_at = first(lesson.register_first_at, op.recorded_at)
    page.record(op, item="attendance", owner_key=lesson_key, action="set", value=_json(f["codes"]))


@handles(LESSON, Lesson.MarkRecorded)
def mark_recorded(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    # The hottest handler of a rebuild (two events in three are marks): kept lean.
    lesson: LessonRow = state.row
    value = f["value"]
    mark_id = f["mark_id"]
    state.rows(MARKS)[mark_id] = MarkRow(
        lesson.op.nid,
        mark_id,
        f["student_id"],
        value,
        value,
        f["work_type_id"],
        str(f["weight"]),
        f["checked_on"],
        0,
        0,
        None,
        page.local_date(lesson.school_id, op.recorded_at),
        op,
    )


@handles(LESSON, Lesson.MarkCorrected)
def mark_corrected(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    mark = state.rows(MARKS).get(f["mark_id"])
    if mark is None:  # its recording was excluded (see projections.invalidation)
        return
    mark.value = f["value"]
    mark.corrections += 1
    mark.changed_nid = op.nid
    page.record(
        op,
        item="mark",
        owner_key=state.key,
        item_id=mark.mark_id,
        student_id=mark.student_id,
        action="corrected",
        value=str(f["value"]),
        reason=f["reason"],
    )


@handles(LESSON, Lesson.MarkCancelled)
def mark_cancelled(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    mark = state.rows(MARKS).get(f["mark_id"])
    if mark is None:
        return
    mark.cancelled = 1
    mark.changed_nid = op.nid
    page.record(
        op,
        item="mark",
        owner_key=state.key,
        item_id=mark.mark_id,
        student_id=mark.student_id,
        action="cancelled",
        value=str(mark.value),
        reason=f["reason"],
    )


@handles(LESSON, Lesson.HomeworkAssigned)
def homework_assigned(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    lesson: LessonRow = state.row
    lesson.homework_text = f["text"]
    lesson.homework_pages = f["pages"]
    lesson.homework_tasks = f["tasks"]
    lesson.homework_due_on = f["due_on"]
    lesson.homework_nid = op.nid
    lesson.homework_first_at = first(lesson.homework_first_at, op.recorded_at)
    value = _json({k: f[k] for k in ("text", "pages", "tasks", "due_on")})
    page.record(op, item="homework", owner_key=state.key, action="set", value=value)


@handles(LESSON, Lesson.CommentAdded)
def comment_added(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.rows(COMMENTS)[f["comment_id"]] = CommentRow(
        state.key, f["comment_id"], f["student_id"], f["text"], op
    )


@handles(MESSAGE, ParentMessage.Sent, creates=True)
def message_sent(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.primary = MessageRow(
        state.aggregate_id,
        f["school_id"],
        f["year_start"],
        f["roster_id"],
        f["subject_id"],
        f["student_id"],
        f["author_id"],
        f["text"],
        page.local_date(f["school_id"], op.recorded_at),
        op,
    )


@handles(ATTESTATION_RECORD, AttestationRecord.Opened, creates=True)
def attestation_opened(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.primary = AttestationRecordRow(
        state.aggregate_id, f["school_id"], f["year_start"], f["student_id"], f["subject_id"], op
    )


@handles(ATTESTATION_RECORD, AttestationRecord.MarkSet)
def attestation_mark_set(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    record: AttestationRecordRow = state.row
    period = f["period"] or ""
    marks = state.rows(ATTESTATION)
    current = marks.get((f["kind"], period))
    if current is None:
        marks[(f["kind"], period)] = AttestationRow(
            state.key, f["kind"], period, f["roster_id"], f["value"], 0, op.recorded_at, op
        )
        action = "set"
    else:
        current.value = f["value"]
        current.roster_id = f["roster_id"]
        current.revisions += 1
        current.op = op
        action = "revised"
    page.record(
        op,
        item="attestation",
        owner_key=state.key,
        item_id=f"{f['kind']}/{period}",
        student_id=record.student_id,
        action=action,
        value=f["value"],
        reason=f["reason"],
    )
