"""Which parents (законные представители) a student has, for a school year (п. 1.5, 1.6)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ejournal.ledger.domain.ids import natural_id


class Guardianship(Aggregate):
    """The parents linked to one student in one school's year: person IDs only (I9)."""

    class Opened(Aggregate.Created):
        school_id: UUID
        year_start: int
        student_id: UUID

    class ParentLinked(Aggregate.Event):
        parent_id: UUID

        def apply(self, aggregate: Any) -> None:
            guardianship: Guardianship = aggregate
            guardianship.parent_ids.add(self.parent_id)

    class ParentUnlinked(Aggregate.Event):
        parent_id: UUID
        reason: str

        def apply(self, aggregate: Any) -> None:
            guardianship: Guardianship = aggregate
            guardianship.parent_ids.discard(self.parent_id)

    @staticmethod
    def create_id(school_id: UUID, year_start: int, student_id: UUID) -> UUID:
        """The guardianship of ``student_id`` in the school's year."""
        return natural_id("guardianship", school_id, year_start, student_id)

    def __init__(self, *, school_id: UUID, year_start: int, student_id: UUID) -> None:
        self.school_id = school_id
        self.year_start = year_start
        self.student_id = student_id
        self.parent_ids: set[UUID] = set()

    @classmethod
    def open(
        cls, *, school_id: UUID, year_start: int, student_id: UUID, at: datetime
    ) -> Guardianship:
        """A new guardianship with no parents linked yet."""
        return cls._create(
            cls.Opened,
            school_id=school_id,
            year_start=year_start,
            student_id=student_id,
            timestamp=at,
        )

    def link(self, parent_id: UUID, *, at: datetime) -> None:
        """``parent_id`` is a parent of the student. Precondition: not linked yet."""
        self.trigger_event(self.ParentLinked, parent_id=parent_id, timestamp=at)

    def unlink(self, parent_id: UUID, reason: str, *, at: datetime) -> None:
        """``parent_id`` is no longer a parent of record. Precondition: linked."""
        self.trigger_event(self.ParentUnlinked, parent_id=parent_id, reason=reason, timestamp=at)
