"""A lesson and what the teacher writes in it (п. 2.5–2.7): topic, attendance, marks, homework,
comments.

One lesson is one small aggregate, found by (roster, date, slot), so loading it is cheap and two
teachers writing different lessons never conflict. Nothing is edited: a correction or a
cancellation of a mark is a new event with a reason, and a later attendance register or homework
supersedes the earlier one while both stay in the ledger.
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

    # Queries.

    def live_marks(self) -> list[Mark]:
        """The marks that count: recorded and not cancelled."""
        return [m for m in self.marks.values() if not m.cancelled]
