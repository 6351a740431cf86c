"""Subject-teacher assignments: who teaches which subject to which roster (п. 2.3).

The ID is a function of (roster, subject, teacher), so a command checks a teacher's right to write
a lesson by loading one small aggregate, with no read model.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ejournal.ledger.domain.ids import natural_id
from ejournal.ledger.domain.values import Stint


class TeachingAssignment(Aggregate):
    """Teacher ``teacher_id`` (a person) teaches ``subject_id`` to roster ``roster_id``."""

    class Assigned(Aggregate.Created):
        school_id: UUID
        year_start: int
        roster_id: UUID
        roster_kind: str
        subject_id: UUID
        teacher_id: UUID
        starts_on: date

    class Ended(Aggregate.Event):
        """The assignment ends; ``on`` is the first day the teacher no longer teaches it."""

        on: date

        def apply(self, aggregate: Any) -> None:
            assignment: TeachingAssignment = aggregate
            last = assignment.stints[-1]
            assignment.stints[-1] = Stint(last.starts_on, self.on)

    class Resumed(Aggregate.Event):
        on: date

        def apply(self, aggregate: Any) -> None:
            assignment: TeachingAssignment = aggregate
            assignment.stints.append(Stint(self.on))

    @staticmethod
    def create_id(roster_id: UUID, subject_id: UUID, teacher_id: UUID) -> UUID:
        """The assignment of ``teacher_id`` to ``subject_id`` in roster ``roster_id``."""
        return natural_id("teaching-assignment", roster_id, subject_id, teacher_id)

    def __init__(
        self,
        *,
        school_id: UUID,
        year_start: int,
        roster_id: UUID,
        roster_kind: str,
        subject_id: UUID,
        teacher_id: UUID,
        starts_on: date,
    ) -> None:
        self.school_id = school_id
        self.year_start = year_start
        self.roster_id = roster_id
        self.roster_kind = roster_kind
        self.subject_id = subject_id
        self.teacher_id = teacher_id
        self.stints = [Stint(starts_on)]

    @classmethod
    def assign(
        cls,
        *,
        school_id: UUID,
        year_start: int,
        roster_id: UUID,
        roster_kind: str,
        subject_id: UUID,
        teacher_id: UUID,
        starts_on: date,
        at: datetime,
    ) -> TeachingAssignment:
        """A new assignment, in force from ``starts_on``."""
        return cls._create(
            cls.Assigned,
            school_id=school_id,
            year_start=year_start,
            roster_id=roster_id,
            roster_kind=roster_kind,
            subject_id=subject_id,
            teacher_id=teacher_id,
            starts_on=starts_on,
            timestamp=at,
        )

    def end(self, on: date, *, at: datetime) -> None:
        """Precondition: ``is_current``."""
        self.trigger_event(self.Ended, on=on, timestamp=at)

    def resume(self, on: date, *, at: datetime) -> None:
        """Precondition: not ``is_current``."""
        self.trigger_event(self.Resumed, on=on, timestamp=at)

    @property
    def is_current(self) -> bool:
        """Whether the assignment has not ended (it may start in the future)."""
        return self.stints[-1].ends_on is None

    def active_on(self, day: date) -> bool:
        """Whether the teacher teaches it on ``day``."""
        return any(s.covers(day) for s in self.stints)
