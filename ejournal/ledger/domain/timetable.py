"""The school-year timetable of a class (п. 2.2): which lessons it has in a week, version by
version, each version in force from a date.

A class's ``Timetable`` holds its versions; an entry is one weekly lesson (weekday, bell slot,
roster, subject, teacher, room). A version replaces the timetable from its date to the end of the
year, or until a later version; one set on the date of the latest version replaces that version
(a correction), and every version stays in the ledger. The lessons themselves are ``Lesson``
aggregates, which the command that sets a version schedules, re-plans or cancels.

The school's ``SchoolTimetable`` notes which classes have a timetable and when each was last
changed: a teacher may not be in two classes at once, so a class's new version is checked
against the other classes' timetables, and every change of any class's timetable writes this one
aggregate too, so two concurrent changes are never checked against each other's old state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ejournal.ledger.domain.ids import natural_id

SATURDAY = 6
"""ISO weekdays of lessons: 1 (Monday) to 6 (Saturday)."""
ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class TimetableEntry:
    """One weekly lesson: on ISO ``weekday`` (1 Monday … 6 Saturday), bell slot ``slot`` of the
    class's bell schedule, roster ``roster_id`` (the class, one of its groups or individual
    curricula) learns ``subject_id`` with ``teacher_id`` (a person) in ``room``."""

    weekday: int
    slot: int
    roster_id: UUID
    subject_id: UUID
    teacher_id: UUID
    room: str = ""


@dataclass(frozen=True, slots=True)
class TimetableVersion:
    """The timetable in force from ``effective_from``."""

    effective_from: date
    entries: tuple[TimetableEntry, ...]

    def on_weekday(self, weekday: int) -> tuple[TimetableEntry, ...]:
        """The entries of ISO ``weekday``."""
        return tuple(e for e in self.entries if e.weekday == weekday)


def _entries(payload: Iterable[dict[str, Any]]) -> tuple[TimetableEntry, ...]:
    return tuple(
        TimetableEntry(
            e["weekday"], e["slot"], e["roster_id"], e["subject_id"], e["teacher_id"], e["room"]
        )
        for e in payload
    )


def _payload(entries: Iterable[TimetableEntry]) -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "weekday": e.weekday,
            "slot": e.slot,
            "roster_id": e.roster_id,
            "subject_id": e.subject_id,
            "teacher_id": e.teacher_id,
            "room": e.room,
        }
        for e in entries
    )


class Timetable(Aggregate):
    """The timetable of one class of a school year, by versions."""

    class Opened(Aggregate.Created):
        school_id: UUID
        year_start: int
        class_id: UUID

    class VersionSet(Aggregate.Event):
        """The timetable from ``effective_from`` on; replaces a version of the same date."""

        effective_from: date
        entries: tuple[dict[str, Any], ...]

        def apply(self, aggregate: Any) -> None:
            timetable: Timetable = aggregate
            kept = [v for v in timetable.versions if v.effective_from < self.effective_from]
            timetable.versions = [
                *kept,
                TimetableVersion(self.effective_from, _entries(self.entries)),
            ]

    @staticmethod
    def create_id(class_id: UUID) -> UUID:
        """The timetable of the class ``class_id`` (a class belongs to one school year)."""
        return natural_id("timetable", class_id)

    def __init__(self, *, school_id: UUID, year_start: int, class_id: UUID) -> None:
        self.school_id = school_id
        self.year_start = year_start
        self.class_id = class_id
        self.versions: list[TimetableVersion] = []

    @classmethod
    def open(cls, *, school_id: UUID, year_start: int, class_id: UUID, at: datetime) -> Timetable:
        """The class's timetable, with no version yet."""
        return cls._create(
            cls.Opened,
            id=cls.create_id(class_id),
            school_id=school_id,
            year_start=year_start,
            class_id=class_id,
            timestamp=at,
        )

    def set_version(
        self, effective_from: date, entries: Iterable[TimetableEntry], *, at: datetime
    ) -> None:
        """Precondition: ``effective_from`` is not before the latest version's."""
        self.trigger_event(
            self.VersionSet, effective_from=effective_from, entries=_payload(entries), timestamp=at
        )

    @property
    def latest(self) -> TimetableVersion | None:
        """The version set last (in force from the latest date), if any."""
        return self.versions[-1] if self.versions else None

    def version_on(self, day: date) -> TimetableVersion | None:
        """The version in force on ``day``, if any."""
        found = None
        for version in self.versions:
            if version.effective_from > day:
                break
            found = version
        return found

    def in_force(self, first: date, last: date) -> list[tuple[date, date, TimetableVersion]]:
        """The versions in force on some day from ``first`` to ``last`` (both included), each
        with the first and last of those days it is in force."""
        found = []
        for n, version in enumerate(self.versions):
            following = self.versions[n + 1] if n + 1 < len(self.versions) else None
            start = max(first, version.effective_from)
            end = last if following is None else min(last, following.effective_from - ONE_DAY)
            if start <= end:
                found.append((start, end, version))
        return found


class SchoolTimetable(Aggregate):
    """The classes of a school year that have a timetable, and when each was last changed."""

    class Opened(Aggregate.Created):
        school_id: UUID
        year_start: int

    class ClassTimetableSet(Aggregate.Event):
        class_id: UUID
        effective_from: date

        def apply(self, aggregate: Any) -> None:
            school: SchoolTimetable = aggregate
            school.classes[self.class_id] = self.effective_from

    @staticmethod
    def create_id(school_id: UUID, year_start: int) -> UUID:
        """The timetable index of the school's year that starts in ``year_start``."""
        return natural_id("school-timetable", school_id, year_start)

    def __init__(self, *, school_id: UUID, year_start: int) -> None:
        self.school_id = school_id
        self.year_start = year_start
        self.classes: dict[UUID, date] = {}

    @classmethod
    def open(cls, *, school_id: UUID, year_start: int, at: datetime) -> SchoolTimetable:
        """The school year's timetable index, with no class yet."""
        return cls._create(
            cls.Opened,
            id=cls.create_id(school_id, year_start),
            school_id=school_id,
            year_start=year_start,
            timestamp=at,
        )

    def note(self, class_id: UUID, effective_from: date, *, at: datetime) -> None:
        """The class's timetable changed from ``effective_from``."""
        self.trigger_event(
            self.ClassTimetableSet, class_id=class_id, effective_from=effective_from, timestamp=at
        )

    def timetable_ids(self) -> list[UUID]:
        """The IDs of the classes' timetables."""
        return [Timetable.create_id(class_id) for class_id in self.classes]
