"""A lesson and what the teacher writes in it (п. 2.5–2.7): topic, attendance, marks, homework,
comments.

One lesson is one small aggregate, found by (roster, date, slot), so loading it is cheap and two
teachers writing different lessons never conflict. Nothing is edited: a correction or a
cancellation of a mark is a new event with a reason, and a later attendance register or homework
supersedes the earlier one while both stay in the ledger.

The administration plans lessons from the timetable and changes the plan of one lesson: a
timetable change re-plans a lesson nothing is written in yet (another subject, teacher, room or
bell time in the same slot) or cancels it; a substitute teacher takes one lesson; a lesson is
cancelled. Each is an event with its reason, and a lesson's ID never changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ejournal.ledger.domain.ids import natural_id
from ejournal.ledger.domain.values import Weight, WorkType


@dataclass(frozen=True, slots=True)
class Mark:
    """A lesson mark with its work type and weight; cancelled marks are kept, flagged."""

    mark_id: UUID
    student_id: UUID
    value: int
    work_type_id: UUID
    weight: Weight
    checked_on: date | None
    """For written work: the day checking ended (п. 2.5)."""
    cancelled: bool = False
    corrections: int = 0


@dataclass(frozen=True, slots=True)
class Homework:
    text: str
    pages: str
    tasks: str
    due_on: date | None


@dataclass(frozen=True, slots=True)
class LessonPlan:
    """What the timetable decides of a lesson: subject, teacher, room and bell times."""

    subject_id: UUID
    teacher_id: UUID
    room: str
    starts_at: time
    ends_at: time


@dataclass(frozen=True, slots=True)
class Cancellation:
    """Why a lesson is not held: the administration's reason, and for a lesson the timetable
    no longer has, the date the change is in force from."""

    reason: str
    timetable_from: date | None


@dataclass(frozen=True, slots=True)
class Substitution:
    """A substitute teacher (a person) takes the lesson, for ``reason``."""

    teacher_id: UUID
    reason: str


@dataclass(frozen=True, slots=True)
class Comment:
    comment_id: UUID
    student_id: UUID
    text: str


class Lesson(Aggregate):
    """One lesson of a roster in a subject, on a date, in a bell slot."""

    class Scheduled(Aggregate.Created):
        school_id: UUID
        year_start: int
        roster_id: UUID
        roster_kind: str
        class_id: UUID
        subject_id: UUID
        teacher_id: UUID
        on: date
        slot: int
        starts_at: time
        ends_at: time
        topic: str
        plan_item: int | None
        room: str = ""
        """Absent from lessons recorded before rooms were kept: no room."""

    class Replanned(Aggregate.Event):
        """A timetable change gave the lesson another subject, teacher, room or bell time, while
        nothing was written in it; a lesson an earlier change cancelled is held again."""

        subject_id: UUID
        teacher_id: UUID
        room: str
        starts_at: time
        ends_at: time
        reason: str

        def apply(self, aggregate: Any) -> None:
            lesson: Lesson = aggregate
            lesson.subject_id = self.subject_id
            lesson.teacher_id = self.teacher_id
            lesson.room = self.room
            lesson.starts_at = self.starts_at
            lesson.ends_at = self.ends_at
            lesson.cancellation = None

    class Cancelled(Aggregate.Event):
        """The lesson is not held; ``timetable_from``: a timetable change from that date."""

        reason: str
        timetable_from: date | None

        def apply(self, aggregate: Any) -> None:
            lesson: Lesson = aggregate
            lesson.cancellation = Cancellation(self.reason, self.timetable_from)

    class SubstituteAssigned(Aggregate.Event):
        """``teacher_id`` (a person) takes the lesson instead of its teacher; a later one
        supersedes, and the lesson's own teacher named again ends the substitution."""

        teacher_id: UUID
        reason: str

        def apply(self, aggregate: Any) -> None:
            lesson: Lesson = aggregate
            own = self.teacher_id == lesson.teacher_id
            lesson.substitution = None if own else Substitution(self.teacher_id, self.reason)

    class TopicSet(Aggregate.Event):
        topic: str
        plan_item: int | None

        def apply(self, aggregate: Any) -> None:
            lesson: Lesson = aggregate
            lesson.topic = self.topic
            lesson.plan_item = self.plan_item

    class AttendanceRecorded(Aggregate.Event):
        """The register of the whole lesson: (student, code) for each student not simply present.

        A later register supersedes the earlier one.
        """

        codes: tuple[tuple[UUID, str], ...]

        def apply(self, aggregate: Any) -> None:
            lesson: Lesson = aggregate
            lesson.attendance = dict(self.codes)
            lesson.registers += 1

    class MarkRecorded(Aggregate.Event):
        mark_id: UUID
        student_id: UUID
        value: int
        work_type_id: UUID
        weight: Weight
        checked_on: date | None

        def apply(self, aggregate: Any) -> None:
            lesson: Lesson = aggregate
            lesson.marks[self.mark_id] = Mark(
                self.mark_id,
                self.student_id,
                self.value,
                self.work_type_id,
                self.weight,
                self.checked_on,
            )

    class MarkCorrected(Aggregate.Event):
        mark_id: UUID
        value: int
        reason: str

        def apply(self, aggregate: Any) -> None:
            lesson: Lesson = aggregate
            mark = lesson.marks[self.mark_id]
            lesson.marks[self.mark_id] = replace(
                mark, value=self.value, corrections=mark.corrections + 1
            )

    class MarkCancelled(Aggregate.Event):
        mark_id: UUID
        reason: str

        def apply(self, aggregate: Any) -> None:
            lesson: Lesson = aggregate
            lesson.marks[self.mark_id] = replace(lesson.marks[self.mark_id], cancelled=True)

    class HomeworkAssigned(Aggregate.Event):
        """The lesson's homework (п. 2.7); a later assignment supersedes."""

        text: str
        pages: str
        tasks: str
        due_on: date | None

        def apply(self, aggregate: Any) -> None:
            lesson: Lesson = aggregate
            lesson.homework = Homework(self.text, self.pages, self.tasks, self.due_on)

    class CommentAdded(Aggregate.Event):
        comment_id: UUID
        student_id: UUID
        text: str

        def apply(self, aggregate: Any) -> None:
            lesson: Lesson = aggregate
            lesson.comments[self.comment_id] = Comment(self.comment_id, self.student_id, self.text)

    @staticmethod
    def create_id(roster_id: UUID, on: date, slot: int) -> UUID:
        """The lesson of ``roster_id`` on ``on`` in bell slot ``slot``."""
        return natural_id("lesson", roster_id, on, slot)

    def __init__(
        self,
        *,
        school_id: UUID,
        year_start: int,
        roster_id: UUID,
        roster_kind: str,
        class_id: UUID,
        subject_id: UUID,
        teacher_id: UUID,
        on: date,
        slot: int,
        starts_at: time,
        ends_at: time,
        topic: str,
        plan_item: int | None,
        room: str = "",
    ) -> None:
        self.school_id = school_id
        self.year_start = year_start
        self.roster_id = roster_id
        self.roster_kind = roster_kind
        self.class_id = class_id
        self.subject_id = subject_id
        self.teacher_id = teacher_id
        self.on = on
        self.slot = slot
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.topic = topic
        self.plan_item = plan_item
        self.room = room
        self.cancellation: Cancellation | None = None
        self.substitution: Substitution | None = None
        self.attendance: dict[UUID, str] = {}
        self.registers = 0
        self.marks: dict[UUID, Mark] = {}
        self.homework: Homework | None = None
        self.comments: dict[UUID, Comment] = {}

    @classmethod
    def schedule(
        cls,
        *,
        school_id: UUID,
        year_start: int,
        roster_id: UUID,
        roster_kind: str,
        class_id: UUID,
        subject_id: UUID,
        teacher_id: UUID,
        on: date,
        slot: int,
        starts_at: time,
        ends_at: time,
        topic: str,
        plan_item: int | None,
        at: datetime,
        room: str = "",
    ) -> Lesson:
        """A new lesson; ``starts_at`` and ``ends_at`` come from the class's bell slot."""
        return cls._create(
            cls.Scheduled,
            school_id=school_id,
            year_start=year_start,
            roster_id=roster_id,
            roster_kind=roster_kind,
            class_id=class_id,
            subject_id=subject_id,
            teacher_id=teacher_id,
            on=on,
            slot=slot,
            starts_at=starts_at,
            ends_at=ends_at,
            topic=topic,
            plan_item=plan_item,
            room=room,
            timestamp=at,
        )

    # Commands. The handlers have checked roles, membership and values before calling them.

    def set_topic(self, topic: str, plan_item: int | None, *, at: datetime) -> None:
        """The lesson's topic, and the КТП item it follows (п. 2.6)."""
        self.trigger_event(self.TopicSet, topic=topic, plan_item=plan_item, timestamp=at)

    def record_attendance(self, codes: Mapping[UUID, str], *, at: datetime) -> None:
        """Record the register of the whole lesson in one event, in a stable order."""
        ordered = tuple(sorted(codes.items(), key=lambda item: item[0].bytes))
        self.trigger_event(self.AttendanceRecorded, codes=ordered, timestamp=at)

    def record_mark(
        self,
        *,
        mark_id: UUID,
        student_id: UUID,
        value: int,
        work_type: WorkType,
        checked_on: date | None,
        at: datetime,
    ) -> None:
        """Precondition: ``mark_id`` is new in this lesson. The weight is the work type's now."""
        self.trigger_event(
            self.MarkRecorded,
            mark_id=mark_id,
            student_id=student_id,
            value=value,
            work_type_id=work_type.work_type_id,
            weight=work_type.weight,
            checked_on=checked_on,
            timestamp=at,
        )

    def correct_mark(self, mark_id: UUID, value: int, reason: str, *, at: datetime) -> None:
        """Precondition: the mark exists and is not cancelled."""
        self.trigger_event(
            self.MarkCorrected, mark_id=mark_id, value=value, reason=reason, timestamp=at
        )

    def cancel_mark(self, mark_id: UUID, reason: str, *, at: datetime) -> None:
        """Precondition: the mark exists and is not cancelled."""
        self.trigger_event(self.MarkCancelled, mark_id=mark_id, reason=reason, timestamp=at)

    def assign_homework(self, homework: Homework, *, at: datetime) -> None:
        """The lesson's homework; supersedes any earlier one (п. 2.7)."""
        self.trigger_event(
            self.HomeworkAssigned,
            text=homework.text,
            pages=homework.pages,
            tasks=homework.tasks,
            due_on=homework.due_on,
            timestamp=at,
        )

    def add_comment(self, comment_id: UUID, student_id: UUID, text: str, *, at: datetime) -> None:
        """A comment on a student of the lesson. Precondition: ``comment_id`` is new."""
        self.trigger_event(
            self.CommentAdded, comment_id=comment_id, student_id=student_id, text=text, timestamp=at
        )

    def replan(self, plan: LessonPlan, reason: str, *, at: datetime) -> None:
        """Precondition: nothing is written in the lesson and it has no substitute."""
        self.trigger_event(
            self.Replanned,
            subject_id=plan.subject_id,
            teacher_id=plan.teacher_id,
            room=plan.room,
            starts_at=plan.starts_at,
            ends_at=plan.ends_at,
            reason=reason,
            timestamp=at,
        )

    def cancel(self, reason: str, *, timetable_from: date | None = None, at: datetime) -> None:
        """Precondition: nothing is written in the lesson and it is not cancelled."""
        self.trigger_event(
            self.Cancelled, reason=reason, timetable_from=timetable_from, timestamp=at
        )

    def assign_substitute(self, teacher_id: UUID, reason: str, *, at: datetime) -> None:
        """Precondition: the lesson is not cancelled and nobody has written its journal."""
        self.trigger_event(
            self.SubstituteAssigned, teacher_id=teacher_id, reason=reason, timestamp=at
        )

    # Queries.

    @property
    def plan(self) -> LessonPlan:
        """The lesson's subject, teacher (not the substitute), room and bell times."""
        return LessonPlan(self.subject_id, self.teacher_id, self.room, self.starts_at, self.ends_at)

    @property
    def teacher_in_charge(self) -> UUID:
        """Who teaches and writes the lesson: the substitute, if there is one."""
        return self.teacher_id if self.substitution is None else self.substitution.teacher_id

    def is_kept(self) -> bool:
        """Whether the lesson's journal has been kept: a register, a mark (even one cancelled
        since), homework or a comment."""
        return bool(self.registers or self.marks or self.homework is not None or self.comments)

    def holds_records(self) -> bool:
        """Whether anything is written in the lesson: its journal, or a topic."""
        return bool(self.topic) or self.plan_item is not None or self.is_kept()

    def live_marks(self) -> list[Mark]:
        """The marks that count: recorded and not cancelled."""
        return [m for m in self.marks.values() if not m.cancelled]
