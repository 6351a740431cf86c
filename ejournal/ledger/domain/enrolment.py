"""Which classes a student is enrolled in during one school year, in whatever school (п. 2.2).

A class knows its own students (``SchoolClass``), but nothing answers "is this student in a class
of another school this year?" or "is this student a pupil of this school this year?" without
reading every class. This record does, by the student's ID and the year: every stint in a class,
with the class's school. It is written with the class, in the same save, by ``EnrolStudent`` and
``WithdrawStudent``; each of its events goes to the log of the school year whose class it
concerns, so a school's log holds only its own enrolments (I1). Person IDs only (I9).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ejournal.ledger.domain.ids import natural_id
from ejournal.ledger.domain.values import Stint


@dataclass(frozen=True, slots=True)
class Placement:
    """One stint of the student in one class."""

    school_id: UUID
    class_id: UUID
    stint: Stint

    @property
    def is_open(self) -> bool:
        return self.stint.ends_on is None


class Enrolment(Aggregate):
    """The stints of one student in the classes of one school year, across schools."""

    class Opened(Aggregate.Created):
        student_id: UUID
        year_start: int

    class Enrolled(Aggregate.Event):
        school_id: UUID
        class_id: UUID
        on: date

        def apply(self, aggregate: Any) -> None:
            enrolment: Enrolment = aggregate
            enrolment.placements.append(Placement(self.school_id, self.class_id, Stint(self.on)))

    class Withdrawn(Aggregate.Event):
        """``on`` is the first day the student no longer belongs to the class."""

        class_id: UUID
        on: date

        def apply(self, aggregate: Any) -> None:
            enrolment: Enrolment = aggregate
            for i in reversed(range(len(enrolment.placements))):
                placement = enrolment.placements[i]
                if placement.class_id == self.class_id and placement.is_open:
                    enrolment.placements[i] = replace(
                        placement, stint=Stint(placement.stint.starts_on, self.on)
                    )
                    return

    @staticmethod
    def create_id(student_id: UUID, year_start: int) -> UUID:
        """The enrolment record of ``student_id`` in the school year starting ``year_start``."""
        return natural_id("enrolment", student_id, year_start)

    def __init__(self, *, student_id: UUID, year_start: int) -> None:
        self.student_id = student_id
        self.year_start = year_start
        self.placements: list[Placement] = []

    @classmethod
    def open(cls, *, student_id: UUID, year_start: int, at: datetime) -> Enrolment:
        """A new record with no stints yet."""
        return cls._create(cls.Opened, student_id=student_id, year_start=year_start, timestamp=at)

    def enrol(self, school_id: UUID, class_id: UUID, on: date, *, at: datetime) -> None:
        """The student belongs to the class from ``on``."""
        self.trigger_event(
            self.Enrolled, school_id=school_id, class_id=class_id, on=on, timestamp=at
        )

    def withdraw(self, class_id: UUID, on: date, *, at: datetime) -> None:
        """The student's open stint in the class ends; ``on`` is the first day out of it."""
        self.trigger_event(self.Withdrawn, class_id=class_id, on=on, timestamp=at)

    def current(self) -> Placement | None:
        """The open stint (the student has not left that class), if any."""
        return next((p for p in reversed(self.placements) if p.is_open), None)

    def in_school(self, school_id: UUID) -> bool:
        """Whether the student was enrolled in a class of ``school_id`` at any time that year."""
        return any(p.school_id == school_id for p in self.placements)

    def overlapping(self, class_id: UUID, on: date) -> Placement | None:
        """A stint in another class that is still open or ends after ``on``: enrolling the
        student in ``class_id`` from ``on`` would put them in two classes at once."""
        for placement in self.placements:
            ends_on = placement.stint.ends_on
            if placement.class_id != class_id and (ends_on is None or ends_on > on):
                return placement
        return None
