"""The journal (п. 2.3–2.7): lessons, their topics, attendance, marks, homework, comments, and
messages to parents.

Only a subject teacher assigned to the lesson's roster and subject writes it (п. 2.3), or the
substitute the administration named for that one lesson instead (``commands.lesson_changes``); a
class teacher by that role writes nothing (п. 2.4), and nobody writes a cancelled lesson. Late
entries are accepted: the monitoring projections flag them (п. 2.5, 2.7). Each command is one
save in the school year's log: attendance for the whole lesson is one event, and the marks of a
class work are one save.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID, uuid4

from ejournal.commands._access import (
    Principal,
    assignment_of,
    authorise_setup,
    authorise_teaching,
    check_roster_subject,
    class_of,
    in_roster,
    load,
    load_roster,
    load_school,
    local_today,
    non_blank,
    principal,
    teaches,
    writable_year,
    year_log,
)
from ejournal.commands.base import Command
from ejournal.commands.errors import refuse
from ejournal.ledger.actor import ADMINISTRATION, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import Lesson, ParentMessage, Roster, School, SchoolClass, SchoolYear
from ejournal.ledger.domain.ids import natural_id
from ejournal.ledger.domain.lesson import Homework, LessonPlan
from ejournal.ledger.domain.plan import ThematicPlan
from ejournal.ledger.domain.values import (
    ATTENDANCE_CODES,
    MARK_VALUES,
    PlanItem,
    RosterKind,
    WorkType,
)


@dataclass(frozen=True, kw_only=True, slots=True)
class ScheduleLesson(Command[UUID]):
    """Hold (or plan) a lesson of a roster's subject on a date in a bell slot; returns its ID.

    Lessons of the timetable are scheduled by it (``commands.timetable``); this is for a lesson
    outside it, a make-up lesson. A teacher schedules their own lessons; the head or a deputy
    may schedule one for the assigned ``teacher_id``, also in the slot of a lesson cancelled
    that day (it is then held instead, under the same ID). The topic may come from the КТП item
    ``plan_item``.
    """

    roster_id: UUID
    subject_id: UUID
    on: date
    slot: int
    teacher_id: UUID | None = None
    topic: str = ""
    plan_item: int | None = None
    room: str = ""


ConductLesson = ScheduleLesson
"""The same command, as a teacher thinks of it when the lesson is happening."""

INSTEAD_OF_CANCELLED = "урок назначен вместо отменённого"
"""The reason a make-up lesson in a cancelled lesson's slot gives for holding it again."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SetLessonTopic(Command[None]):
    """The lesson's topic, per the КТП (п. 2.6): ``topic``, or the plan item's topic."""

    lesson_id: UUID
    topic: str = ""
    plan_item: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordAttendance(Command[None]):
    """The attendance register of a whole lesson (п. 2.5): a code for each student who was not
    simply present (Н, Б, П, ОП); everybody else was present. A later register supersedes."""

    lesson_id: UUID
    codes: Mapping[UUID, str]


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordMark(Command[UUID]):
    """A mark 1–5 for a type of work (п. 2.5, 2.6); returns the mark's ID.

    Written work carries ``checked_on``, the day checking ended.
    """

    lesson_id: UUID
    student_id: UUID
    value: int
    work_type_id: UUID
    checked_on: date | None = None
    mark_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordClassWorkMarks(Command[tuple[UUID, ...]]):
    """The marks of one class work for the whole roster, in one save; returns the marks' IDs in
    the order of ``marks``. A mark's ID is derived from ``batch_id`` and the student."""

    lesson_id: UUID
    work_type_id: UUID
    marks: Mapping[UUID, int]
    checked_on: date | None = None
    batch_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, kw_only=True, slots=True)
class CorrectMark(Command[None]):
    lesson_id: UUID
    mark_id: UUID
    value: int
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelMark(Command[None]):
    lesson_id: UUID
    mark_id: UUID
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AssignHomework(Command[None]):
    """The lesson's homework (п. 2.7): what to do, pages, task numbers, by when."""

    lesson_id: UUID
    text: str
    pages: str = ""
    tasks: str = ""
    due_on: date | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class AddComment(Command[UUID]):
    """A comment on a student in a lesson (п. 1.5); returns its ID."""

    lesson_id: UUID
    student_id: UUID
    text: str
    comment_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, kw_only=True, slots=True)
class SendMessageToParents(Command[UUID]):
    """A message to a student's parents from a teacher of the student (п. 1.5); returns its ID."""

    roster_id: UUID
    subject_id: UUID
    student_id: UUID
    text: str
    message_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, slots=True)
class _LessonScope:
    """A lesson with everything its write needs, all checked: the actor may write it."""

    lesson: Lesson
    roster: Roster
    school_class: SchoolClass
    school: School
    year: SchoolYear
    role: Role
    today: date

    @property
    def log_id(self) -> str:
        return year_log(self.lesson.school_id, self.lesson.year_start)


def _lesson_scope(ledger: Ledger, cmd: Command[object], lesson_id: UUID) -> _LessonScope:
    who = principal(ledger, cmd.actor)
    lesson = load(ledger, lesson_id, Lesson, "lesson.not_found")
    roster = load_roster(ledger, lesson.roster_id)
    school_class = class_of(ledger, roster)
    school = load_school(ledger, lesson.school_id)
    year = writable_year(ledger, lesson.school_id, lesson.year_start)
    role = _authorise_lesson(ledger, who, lesson, roster, school_class)
    if lesson.cancellation is not None:
        raise refuse("lesson.cancelled", on=lesson.on)
    today = local_today(ledger, school)
    return _LessonScope(lesson, roster, school_class, school, year, role, today)


def _authorise_lesson(
    ledger: Ledger, who: Principal, lesson: Lesson, roster: Roster, school_class: SchoolClass
) -> Role:
    """The lesson's teacher writes it (п. 2.3); with a substitute named, the substitute does,
    with no assignment of their own, and the lesson's teachers no longer do."""
    substitution = lesson.substitution
    if substitution is not None:
        is_substitute = who.person_id == substitution.teacher_id
        if is_substitute and who.role({Role.TEACHER}, lesson.school_id) is not None:
            return Role.TEACHER
        if teaches(ledger, who, roster, lesson.subject_id, lesson.on):
            raise refuse("lesson.substituted", on=lesson.on)
    return authorise_teaching(ledger, who, roster, school_class, lesson.subject_id, lesson.on)


def _held(scope: _LessonScope) -> None:
    """What happens in a lesson is written once it has begun (that day or later)."""
    if scope.lesson.on > scope.today:
        raise refuse("lesson.in_future", on=scope.lesson.on)


def _student_in_lesson(scope: _LessonScope, student_id: UUID) -> None:
    if not in_roster(scope.roster, scope.school_class, student_id, scope.lesson.on):
        raise refuse("student.not_in_roster", on=scope.lesson.on)


def _plan_item(ledger: Ledger, roster_id: UUID, subject_id: UUID, number: int) -> PlanItem:
    plan_id = ThematicPlan.create_id(roster_id=roster_id, subject_id=subject_id)
    plan = ledger.find(plan_id, ThematicPlan)
    item = plan.item(number) if plan is not None else None
    if item is None:
        raise refuse("plan.unknown_item", number=number)
    return item


def _topic(
    ledger: Ledger, roster_id: UUID, subject_id: UUID, topic: str, plan_item: int | None
) -> str:
    """The given topic, or else the plan item's."""
    text = non_blank(topic)
    if plan_item is not None:
        item = _plan_item(ledger, roster_id, subject_id, plan_item)
        text = text or item.topic
    return text


def _lesson_teacher(
    ledger: Ledger, cmd: ScheduleLesson, who: Principal, roster: Roster, school_class: SchoolClass
) -> tuple[Role, UUID]:
    """Who teaches the lesson, and the role the scheduling is recorded under."""
    school_id = roster.school_id
    admin = who.role(ADMINISTRATION, school_id)
    for_self = cmd.teacher_id is None or cmd.teacher_id == who.person_id
    if for_self and (admin is None or teaches(ledger, who, roster, cmd.subject_id, cmd.on)):
        role = authorise_teaching(ledger, who, roster, school_class, cmd.subject_id, cmd.on)
        assert who.person_id is not None  # authorise_teaching admits only people
        return role, who.person_id
    role = authorise_setup(who, school_id)
    if cmd.teacher_id is None:
        raise refuse("lesson.teacher_required")
    assignment = assignment_of(ledger, roster.id, cmd.subject_id, cmd.teacher_id)
    if assignment is None or not assignment.active_on(cmd.on):
        raise refuse("assignment.not_found")
    return role, cmd.teacher_id


def handle_schedule_lesson(cmd: ScheduleLesson, ledger: Ledger) -> UUID:
    who = principal(ledger, cmd.actor)
    roster = load_roster(ledger, cmd.roster_id)
    school_class = class_of(ledger, roster)
    year = writable_year(ledger, roster.school_id, roster.year_start)
    check_roster_subject(year, roster, cmd.subject_id)
    # The day first: teachers' assignments run within the school year, so a day outside it would
    # otherwise read as a teacher without an assignment.
    if not year.is_school_day(cmd.on, school_class.period_scheme):
        raise refuse("lesson.not_a_school_day", on=cmd.on)
    role, teacher_id = _lesson_teacher(ledger, cmd, who, roster, school_class)
    bell = year.bell_slot(school_class.bell_schedule, cmd.slot)
    if bell is None:
        raise refuse("bell.unknown_slot", slot=cmd.slot)
    topic = _topic(ledger, roster.id, cmd.subject_id, cmd.topic, cmd.plan_item)
    lesson_id = Lesson.create_id(roster_id=roster.id, on=cmd.on, slot=cmd.slot)
    log_id = year_log(roster.school_id, roster.year_start)
    there = ledger.find(lesson_id, Lesson)
    if there is not None:
        kept = there.holds_records() or there.substitution is not None
        if there.cancellation is None or role not in ADMINISTRATION or kept:
            raise refuse("lesson.already_scheduled")
        plan = LessonPlan(
            cmd.subject_id, teacher_id, non_blank(cmd.room), bell.starts_at, bell.ends_at
        )
        there.replan(plan, INSTEAD_OF_CANCELLED, at=ledger.clock())
        if topic:
            there.set_topic(topic, cmd.plan_item, at=ledger.clock())
        ledger.record(there, log_id=log_id, actor=cmd.actor, role=role)
        return there.id
    lesson = Lesson.schedule(
        school_id=roster.school_id,
        year_start=roster.year_start,
        roster_id=roster.id,
        roster_kind=RosterKind(roster.kind).value,
        class_id=school_class.id,
        subject_id=cmd.subject_id,
        teacher_id=teacher_id,
        on=cmd.on,
        slot=cmd.slot,
        starts_at=bell.starts_at,
        ends_at=bell.ends_at,
        topic=topic,
        plan_item=cmd.plan_item,
        room=non_blank(cmd.room),
        at=ledger.clock(),
    )
    ledger.record(lesson, log_id=log_id, actor=cmd.actor, role=role)
    return lesson.id


def handle_set_lesson_topic(cmd: SetLessonTopic, ledger: Ledger) -> None:
    scope = _lesson_scope(ledger, cmd, cmd.lesson_id)
    lesson = scope.lesson
    topic = _topic(ledger, lesson.roster_id, lesson.subject_id, cmd.topic, cmd.plan_item)
    if not topic:
        raise refuse("lesson.topic_required")
    lesson.set_topic(topic, cmd.plan_item, at=ledger.clock())
    ledger.record(lesson, log_id=scope.log_id, actor=cmd.actor, role=scope.role)


def handle_record_attendance(cmd: RecordAttendance, ledger: Ledger) -> None:
    scope = _lesson_scope(ledger, cmd, cmd.lesson_id)
    _held(scope)
    for student_id, code in cmd.codes.items():
        if code not in ATTENDANCE_CODES:
            raise refuse("attendance.invalid_code", code=code)
        _student_in_lesson(scope, student_id)
    scope.lesson.record_attendance(cmd.codes, at=ledger.clock())
    ledger.record(scope.lesson, log_id=scope.log_id, actor=cmd.actor, role=scope.role)


def _mark_value(value: object) -> int:
    # bool is an int in Python; True is not a mark.
    if isinstance(value, bool) or not isinstance(value, int) or value not in MARK_VALUES:
        raise refuse("mark.invalid_value", value=value)
    return value


def _work_type(scope: _LessonScope, work_type_id: UUID, checked_on: date | None) -> WorkType:
    """The work type, with the check date that written work needs (п. 2.5, 2.6)."""
    work_type = scope.year.work_types.get(work_type_id)
    if work_type is None:
        raise refuse("work_type.unknown")
    if not work_type.written:
        if checked_on is not None:
            raise refuse("mark.check_date_unexpected")
        return work_type
    if checked_on is None:
        raise refuse("mark.check_date_required")
    if not scope.lesson.on <= checked_on <= scope.today:
        raise refuse("mark.check_date_invalid", checked_on=checked_on)
    return work_type


def handle_record_mark(cmd: RecordMark, ledger: Ledger) -> UUID:
    scope = _lesson_scope(ledger, cmd, cmd.lesson_id)
    _held(scope)
    _student_in_lesson(scope, cmd.student_id)
    value = _mark_value(cmd.value)
    work_type = _work_type(scope, cmd.work_type_id, cmd.checked_on)
    if cmd.mark_id in scope.lesson.marks:
        raise refuse("record.duplicate_id")
    scope.lesson.record_mark(
        mark_id=cmd.mark_id,
        student_id=cmd.student_id,
        value=value,
        work_type=work_type,
        checked_on=cmd.checked_on,
        at=ledger.clock(),
    )
    ledger.record(scope.lesson, log_id=scope.log_id, actor=cmd.actor, role=scope.role)
    return cmd.mark_id


def class_work_mark_id(batch_id: UUID, student_id: UUID) -> UUID:
    """The ID of a student's mark in the class work ``batch_id``."""
    return natural_id("class-work-mark", batch_id, student_id)


def handle_record_class_work_marks(cmd: RecordClassWorkMarks, ledger: Ledger) -> tuple[UUID, ...]:
    scope = _lesson_scope(ledger, cmd, cmd.lesson_id)
    _held(scope)
    if not cmd.marks:
        raise refuse("marks.empty")
    work_type = _work_type(scope, cmd.work_type_id, cmd.checked_on)
    planned = []
    for student_id, value in cmd.marks.items():
        _student_in_lesson(scope, student_id)
        mark_id = class_work_mark_id(cmd.batch_id, student_id)
        if mark_id in scope.lesson.marks:
            raise refuse("record.duplicate_id")
        planned.append((mark_id, student_id, _mark_value(value)))
    at = ledger.clock()
    for mark_id, student_id, value in planned:
        scope.lesson.record_mark(
            mark_id=mark_id,
            student_id=student_id,
            value=value,
            work_type=work_type,
            checked_on=cmd.checked_on,
            at=at,
        )
    ledger.record(scope.lesson, log_id=scope.log_id, actor=cmd.actor, role=scope.role)
    return tuple(mark_id for mark_id, _, _ in planned)


def _live_mark(scope: _LessonScope, mark_id: UUID, reason: str) -> str:
    """The reason, once the mark is known to be there and not cancelled (п. 1.4)."""
    mark = scope.lesson.marks.get(mark_id)
    if mark is None:
        raise refuse("mark.not_found")
    if mark.cancelled:
        raise refuse("mark.cancelled")
    text = non_blank(reason)
    if not text:
        raise refuse("mark.reason_required")
    return text


def handle_correct_mark(cmd: CorrectMark, ledger: Ledger) -> None:
    scope = _lesson_scope(ledger, cmd, cmd.lesson_id)
    reason = _live_mark(scope, cmd.mark_id, cmd.reason)
    value = _mark_value(cmd.value)
    if scope.lesson.marks[cmd.mark_id].value == value:
        raise refuse("mark.unchanged")
    scope.lesson.correct_mark(cmd.mark_id, value, reason, at=ledger.clock())
    ledger.record(scope.lesson, log_id=scope.log_id, actor=cmd.actor, role=scope.role)


def handle_cancel_mark(cmd: CancelMark, ledger: Ledger) -> None:
    scope = _lesson_scope(ledger, cmd, cmd.lesson_id)
    reason = _live_mark(scope, cmd.mark_id, cmd.reason)
    scope.lesson.cancel_mark(cmd.mark_id, reason, at=ledger.clock())
    ledger.record(scope.lesson, log_id=scope.log_id, actor=cmd.actor, role=scope.role)


def handle_assign_homework(cmd: AssignHomework, ledger: Ledger) -> None:
    scope = _lesson_scope(ledger, cmd, cmd.lesson_id)
    text = non_blank(cmd.text)
    if not text:
        raise refuse("homework.empty")
    if cmd.due_on is not None and cmd.due_on <= scope.lesson.on:
        raise refuse("homework.invalid_due_date", due_on=cmd.due_on)
    homework = Homework(text, non_blank(cmd.pages), non_blank(cmd.tasks), cmd.due_on)
    scope.lesson.assign_homework(homework, at=ledger.clock())
    ledger.record(scope.lesson, log_id=scope.log_id, actor=cmd.actor, role=scope.role)


def handle_add_comment(cmd: AddComment, ledger: Ledger) -> UUID:
    scope = _lesson_scope(ledger, cmd, cmd.lesson_id)
    _held(scope)
    _student_in_lesson(scope, cmd.student_id)
    text = non_blank(cmd.text)
    if not text:
        raise refuse("comment.empty")
    if cmd.comment_id in scope.lesson.comments:
        raise refuse("record.duplicate_id")
    scope.lesson.add_comment(cmd.comment_id, cmd.student_id, text, at=ledger.clock())
    ledger.record(scope.lesson, log_id=scope.log_id, actor=cmd.actor, role=scope.role)
    return cmd.comment_id


def handle_send_message_to_parents(cmd: SendMessageToParents, ledger: Ledger) -> UUID:
    who = principal(ledger, cmd.actor)
    roster = load_roster(ledger, cmd.roster_id)
    school_class = class_of(ledger, roster)
    school = load_school(ledger, roster.school_id)
    year = writable_year(ledger, roster.school_id, roster.year_start)
    check_roster_subject(year, roster, cmd.subject_id)
    today = local_today(ledger, school)
    role = authorise_teaching(ledger, who, roster, school_class, cmd.subject_id, None)
    if not in_roster(roster, school_class, cmd.student_id, today):
        raise refuse("student.not_in_roster", on=today)
    text = non_blank(cmd.text)
    if not text:
        raise refuse("message.empty")
    assert who.person_id is not None  # authorise_teaching admits only people
    if ledger.find(cmd.message_id, ParentMessage) is not None:
        raise refuse("record.duplicate_id")
    message = ParentMessage.send(
        message_id=cmd.message_id,
        school_id=roster.school_id,
        year_start=roster.year_start,
        roster_id=roster.id,
        subject_id=cmd.subject_id,
        student_id=cmd.student_id,
        author_id=who.person_id,
        text=text,
        at=ledger.clock(),
    )
    ledger.record(
        message, log_id=year_log(roster.school_id, roster.year_start), actor=cmd.actor, role=role
    )
    return message.id
