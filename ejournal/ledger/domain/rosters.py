"""Rosters: whom a lesson is for (п. 2.3) — a class, a group of a class, or an individual
curriculum.

Every roster belongs to one school year and knows its class: the class decides the period scheme
and the bell schedule of its groups' and curricula's lessons. Membership is kept as dated stints, so
"was this student in the roster on that day" is answered from the roster alone. A student is in a
group or a curriculum only while also enrolled in its class; the commands check both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ejournal.ledger.domain.ids import natural_id
from ejournal.ledger.domain.values import RosterKind, Stint


@dataclass
class _Members:
    """Dated membership: student ID → stints, in order; the last may be open."""

    stints: dict[UUID, list[Stint]] = field(default_factory=dict)

    def join(self, student_id: UUID, on: date) -> None:
        """``student_id`` belongs from ``on``."""
        self.stints.setdefault(student_id, []).append(Stint(on))

    def leave(self, student_id: UUID, on: date) -> None:
        """``student_id`` no longer belongs from ``on``. Precondition: a current stint."""
        stints = self.stints[student_id]
        stints[-1] = Stint(stints[-1].starts_on, on)

    def is_member(self, student_id: UUID, day: date) -> bool:
        """Whether ``student_id`` belonged on ``day``."""
        return any(s.covers(day) for s in self.stints.get(student_id, ()))

    def current(self, student_id: UUID) -> Stint | None:
        """The open stint of ``student_id``, if the student has not left."""
        stints = self.stints.get(student_id)
        return stints[-1] if stints and stints[-1].ends_on is None else None

    def on(self, day: date) -> frozenset[UUID]:
        """Everyone who belonged on ``day``."""
        return frozenset(s for s in self.stints if self.is_member(s, day))


class SchoolClass(Aggregate):
    """A class (5«А») of one school year, with its class teacher and enrolled students."""

    kind = RosterKind.CLASS

    class Opened(Aggregate.Created):
        school_id: UUID
        year_start: int
        grade: int
        letter: str
        period_scheme: str
        bell_schedule: str

    class ClassTeacherAssigned(Aggregate.Event):
        teacher_id: UUID

        def apply(self, aggregate: Any) -> None:
            school_class: SchoolClass = aggregate
            school_class.class_teacher_id = self.teacher_id

    class StudentEnrolled(Aggregate.Event):
        student_id: UUID
        on: date

        def apply(self, aggregate: Any) -> None:
            school_class: SchoolClass = aggregate
            school_class.members.join(self.student_id, self.on)

    class StudentWithdrawn(Aggregate.Event):
        """The student left the class; ``on`` is the first day they no longer belong."""

        student_id: UUID
        on: date
        reason: str

        def apply(self, aggregate: Any) -> None:
            school_class: SchoolClass = aggregate
            school_class.members.leave(self.student_id, self.on)

    @staticmethod
    def create_id(school_id: UUID, year_start: int, grade: int, letter: str) -> UUID:
        """The class ``grade`` ``letter`` of the school's year."""
        return natural_id("class", school_id, year_start, grade, letter.upper())

    def __init__(
        self,
        *,
        school_id: UUID,
        year_start: int,
        grade: int,
        letter: str,
        period_scheme: str,
        bell_schedule: str,
    ) -> None:
        self.school_id = school_id
        self.year_start = year_start
        self.grade = grade
        self.letter = letter
        self.period_scheme = period_scheme
        self.bell_schedule = bell_schedule
        self.class_teacher_id: UUID | None = None
        self.members = _Members()

    @property
    def class_id(self) -> UUID:
        """A class is its own class."""
        return self.id

    @property
    def name(self) -> str:
        """The class as people write it: 5«А»."""
        return f"{self.grade}«{self.letter}»"

    @classmethod
    def open(
        cls,
        *,
        school_id: UUID,
        year_start: int,
        grade: int,
        letter: str,
        period_scheme: str,
        bell_schedule: str,
        at: datetime,
    ) -> SchoolClass:
        """A new class with no students yet."""
        return cls._create(
            cls.Opened,
            school_id=school_id,
            year_start=year_start,
            grade=grade,
            letter=letter.upper(),
            period_scheme=period_scheme,
            bell_schedule=bell_schedule,
            timestamp=at,
        )

    def assign_class_teacher(self, teacher_id: UUID, *, at: datetime) -> None:
        """``teacher_id`` (a person) is the class teacher from now on."""
        self.trigger_event(self.ClassTeacherAssigned, teacher_id=teacher_id, timestamp=at)

    def enrol(self, student_id: UUID, on: date, *, at: datetime) -> None:
        """Precondition: the student is not currently enrolled."""
        self.trigger_event(self.StudentEnrolled, student_id=student_id, on=on, timestamp=at)

    def withdraw(self, student_id: UUID, on: date, reason: str, *, at: datetime) -> None:
        """Precondition: the student is currently enrolled since before ``on``."""
        self.trigger_event(
            self.StudentWithdrawn, student_id=student_id, on=on, reason=reason, timestamp=at
        )

    def is_member(self, student_id: UUID, day: date) -> bool:
        """Whether ``student_id`` belonged on ``day``."""
        return self.members.is_member(student_id, day)

    def members_on(self, day: date) -> frozenset[UUID]:
        """Everyone who belonged on ``day``."""
        return self.members.on(day)


class Group(Aggregate):
    """A group of a class for one subject (английский язык, группа 1), with its members."""

    kind = RosterKind.GROUP

    class Formed(Aggregate.Created):
        school_id: UUID
        year_start: int
        class_id: UUID
        subject_id: UUID
        name: str

    class MemberAdded(Aggregate.Event):
        student_id: UUID
        on: date

        def apply(self, aggregate: Any) -> None:
            group: Group = aggregate
            group.members.join(self.student_id, self.on)

    class MemberRemoved(Aggregate.Event):
        student_id: UUID
        on: date

        def apply(self, aggregate: Any) -> None:
            group: Group = aggregate
            group.members.leave(self.student_id, self.on)

    @staticmethod
    def create_id(class_id: UUID, subject_id: UUID, name: str) -> UUID:
        """The group ``name`` of a class in a subject."""
        return natural_id("group", class_id, subject_id, name.casefold())

    def __init__(
        self, *, school_id: UUID, year_start: int, class_id: UUID, subject_id: UUID, name: str
    ) -> None:
        self.school_id = school_id
        self.year_start = year_start
        self.class_id = class_id
        self.subject_id = subject_id
        self.name = name
        self.members = _Members()

    @classmethod
    def form(
        cls,
        *,
        school_id: UUID,
        year_start: int,
        class_id: UUID,
        subject_id: UUID,
        name: str,
        at: datetime,
    ) -> Group:
        """A new group with no members yet."""
        return cls._create(
            cls.Formed,
            school_id=school_id,
            year_start=year_start,
            class_id=class_id,
            subject_id=subject_id,
            name=name,
            timestamp=at,
        )

    def add_member(self, student_id: UUID, on: date, *, at: datetime) -> None:
        """Precondition: not currently a member."""
        self.trigger_event(self.MemberAdded, student_id=student_id, on=on, timestamp=at)

    def remove_member(self, student_id: UUID, on: date, *, at: datetime) -> None:
        """Precondition: currently a member since before ``on``."""
        self.trigger_event(self.MemberRemoved, student_id=student_id, on=on, timestamp=at)

    def is_member(self, student_id: UUID, day: date) -> bool:
        """Whether ``student_id`` belonged on ``day``."""
        return self.members.is_member(student_id, day)

    def members_on(self, day: date) -> frozenset[UUID]:
        """Everyone who belonged on ``day``."""
        return self.members.on(day)


class IndividualCurriculum(Aggregate):
    """One student's individual curriculum (индивидуальный учебный план) in one subject."""

    kind = RosterKind.INDIVIDUAL

    class Opened(Aggregate.Created):
        school_id: UUID
        year_start: int
        class_id: UUID
        student_id: UUID
        subject_id: UUID
        starts_on: date

    class Closed(Aggregate.Event):
        on: date

        def apply(self, aggregate: Any) -> None:
            curriculum: IndividualCurriculum = aggregate
            curriculum.members.leave(curriculum.student_id, self.on)

    @staticmethod
    def create_id(class_id: UUID, student_id: UUID, subject_id: UUID) -> UUID:
        """The curriculum of ``student_id`` in ``subject_id``."""
        return natural_id("individual-curriculum", class_id, student_id, subject_id)

    def __init__(
        self,
        *,
        school_id: UUID,
        year_start: int,
        class_id: UUID,
        student_id: UUID,
        subject_id: UUID,
        starts_on: date,
    ) -> None:
        self.school_id = school_id
        self.year_start = year_start
        self.class_id = class_id
        self.student_id = student_id
        self.subject_id = subject_id
        self.members = _Members()
        self.members.join(student_id, starts_on)

    @property
    def name(self) -> str:
        """How the journal names the roster."""
        return "индивидуальный учебный план"

    @classmethod
    def open(
        cls,
        *,
        school_id: UUID,
        year_start: int,
        class_id: UUID,
        student_id: UUID,
        subject_id: UUID,
        starts_on: date,
        at: datetime,
    ) -> IndividualCurriculum:
        """A new curriculum, in force from ``starts_on``."""
        return cls._create(
            cls.Opened,
            school_id=school_id,
            year_start=year_start,
            class_id=class_id,
            student_id=student_id,
            subject_id=subject_id,
            starts_on=starts_on,
            timestamp=at,
        )

    def close(self, on: date, *, at: datetime) -> None:
        """The curriculum ends; ``on`` is its first day no longer in force."""
        self.trigger_event(self.Closed, on=on, timestamp=at)

    def is_member(self, student_id: UUID, day: date) -> bool:
        """Whether ``student_id`` belonged on ``day``."""
        return self.members.is_member(student_id, day)

    def members_on(self, day: date) -> frozenset[UUID]:
        """Everyone who belonged on ``day``."""
        return self.members.on(day)


Roster = SchoolClass | Group | IndividualCurriculum
"""Anything a lesson is held for."""


def as_roster(aggregate: object) -> Roster | None:
    """``aggregate`` if it is a class, group or individual curriculum, else None."""
    return aggregate if isinstance(aggregate, SchoolClass | Group | IndividualCurriculum) else None
