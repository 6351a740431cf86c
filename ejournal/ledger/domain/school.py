"""A school, and its school year with the sections the administration sets up (п. 2.2).

The year holds what every journal command consults and nobody writes during the year: reporting
periods per scheme, holidays, subjects, work types with weights and bell schedules. Journal commands
only read it, so recording a mark never conflicts with the year's setup.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ejournal.ledger.domain.ids import natural_id
from ejournal.ledger.domain.values import (
    BellSlot,
    DateRange,
    Holiday,
    Period,
    Subject,
    Weight,
    WorkType,
)

DEFAULT_TIME_ZONE = "Europe/Moscow"
SUNDAY = 6


class School(Aggregate):
    """A general-education school (ОУ). Its events belong to the system log: it has no year yet."""

    class Registered(Aggregate.Created):
        name: str
        time_zone: str

    class Renamed(Aggregate.Event):
        name: str

        def apply(self, aggregate: Any) -> None:
            school: School = aggregate
            school.name = self.name

    def __init__(self, *, name: str, time_zone: str) -> None:
        self.name = name
        self.time_zone = time_zone

    @classmethod
    def register(cls, *, school_id: UUID, name: str, time_zone: str, at: datetime) -> School:
        """A new school; ``time_zone`` is an IANA name, checked by the caller."""
        return cls._create(
            cls.Registered, id=school_id, name=name, time_zone=time_zone, timestamp=at
        )

    def rename(self, name: str, *, at: datetime) -> None:
        """The school's name from now on."""
        self.trigger_event(self.Renamed, name=name, timestamp=at)


class SchoolYear(Aggregate):
    """One school's school year (1 September – 31 August by default) and its setup."""

    class Opened(Aggregate.Created):
        school_id: UUID
        year_start: int
        starts_on: date
        ends_on: date

    class PeriodsDefined(Aggregate.Event):
        """The periods of one scheme; a later definition of the same scheme supersedes."""

        scheme: str
        periods: tuple[dict[str, Any], ...]

        def apply(self, aggregate: Any) -> None:
            year: SchoolYear = aggregate
            year.schemes[self.scheme] = tuple(
                Period(p["name"], DateRange(p["starts_on"], p["ends_on"])) for p in self.periods
            )

    class HolidayDeclared(Aggregate.Event):
        name: str
        starts_on: date
        ends_on: date

        def apply(self, aggregate: Any) -> None:
            year: SchoolYear = aggregate
            year.holidays.append(Holiday(self.name, DateRange(self.starts_on, self.ends_on)))

    class SubjectAdded(Aggregate.Event):
        subject_id: UUID
        name: str

        def apply(self, aggregate: Any) -> None:
            year: SchoolYear = aggregate
            year.subjects[self.subject_id] = Subject(self.subject_id, self.name)

    class WorkTypeDefined(Aggregate.Event):
        work_type_id: UUID
        name: str
        weight: Weight
        written: bool

        def apply(self, aggregate: Any) -> None:
            year: SchoolYear = aggregate
            year.work_types[self.work_type_id] = WorkType(
                self.work_type_id, self.name, self.weight, self.written
            )

    class BellScheduleDefined(Aggregate.Event):
        """The slots of one bell schedule; a later definition of the same name supersedes."""

        name: str
        slots: tuple[dict[str, Any], ...]

        def apply(self, aggregate: Any) -> None:
            year: SchoolYear = aggregate
            year.bell_schedules[self.name] = {
                s["number"]: BellSlot(s["number"], s["starts_at"], s["ends_at"]) for s in self.slots
            }

    class Closed(Aggregate.Event):
        def apply(self, aggregate: Any) -> None:
            year: SchoolYear = aggregate
            year.closed = True

    class Reopened(Aggregate.Event):
        reason: str

        def apply(self, aggregate: Any) -> None:
            year: SchoolYear = aggregate
            year.closed = False

    @staticmethod
    def create_id(school_id: UUID, year_start: int) -> UUID:
        """The year of ``school_id`` that starts on 1 September of ``year_start``."""
        return natural_id("school-year", school_id, year_start)

    def __init__(self, *, school_id: UUID, year_start: int, starts_on: date, ends_on: date) -> None:
        self.school_id = school_id
        self.year_start = year_start
        self.days = DateRange(starts_on, ends_on)
        self.closed = False
        self.schemes: dict[str, tuple[Period, ...]] = {}
        self.holidays: list[Holiday] = []
        self.subjects: dict[UUID, Subject] = {}
        self.work_types: dict[UUID, WorkType] = {}
        self.bell_schedules: dict[str, dict[int, BellSlot]] = {}

    @classmethod
    def open(
        cls, *, school_id: UUID, year_start: int, starts_on: date, ends_on: date, at: datetime
    ) -> SchoolYear:
        """A new school year; the caller has checked that ``starts_on`` < ``ends_on``."""
        return cls._create(
            cls.Opened,
            school_id=school_id,
            year_start=year_start,
            starts_on=starts_on,
            ends_on=ends_on,
            timestamp=at,
        )

    # Commands. The handlers have checked their inputs against the queries below.

    def define_periods(self, scheme: str, periods: Iterable[Period], *, at: datetime) -> None:
        """The periods of ``scheme``, in order; supersedes an earlier definition."""
        self.trigger_event(
            self.PeriodsDefined,
            scheme=scheme,
            periods=tuple(
                {"name": p.name, "starts_on": p.days.starts_on, "ends_on": p.days.ends_on}
                for p in periods
            ),
            timestamp=at,
        )

    def declare_holiday(self, name: str, days: DateRange, *, at: datetime) -> None:
        """No lessons are held on ``days``."""
        self.trigger_event(
            self.HolidayDeclared,
            name=name,
            starts_on=days.starts_on,
            ends_on=days.ends_on,
            timestamp=at,
        )

    def add_subject(self, subject_id: UUID, name: str, *, at: datetime) -> None:
        """A subject taught this year. Precondition: the ID and name are new."""
        self.trigger_event(self.SubjectAdded, subject_id=subject_id, name=name, timestamp=at)

    def define_work_type(self, work_type: WorkType, *, at: datetime) -> None:
        """A type of work with its weight. Precondition: the ID and name are new."""
        self.trigger_event(
            self.WorkTypeDefined,
            work_type_id=work_type.work_type_id,
            name=work_type.name,
            weight=work_type.weight,
            written=work_type.written,
            timestamp=at,
        )

    def define_bell_schedule(self, name: str, slots: Iterable[BellSlot], *, at: datetime) -> None:
        """The slots of bell schedule ``name``; supersedes an earlier one."""
        self.trigger_event(
            self.BellScheduleDefined,
            name=name,
            slots=tuple(
                {"number": s.number, "starts_at": s.starts_at, "ends_at": s.ends_at} for s in slots
            ),
            timestamp=at,
        )

    def close(self, *, at: datetime) -> None:
        """The year's journal is closed: no more records (п. 2.11)."""
        self.trigger_event(self.Closed, timestamp=at)

    def reopen(self, reason: str, *, at: datetime) -> None:
        """The year's journal takes records again, for ``reason``."""
        self.trigger_event(self.Reopened, reason=reason, timestamp=at)

    # Queries.

    def periods(self, scheme: str) -> tuple[Period, ...]:
        """The periods of ``scheme``, in order; empty if the scheme is not defined."""
        return self.schemes.get(scheme, ())

    def period(self, scheme: str, name: str) -> Period | None:
        """The period ``name`` of ``scheme``, if there is one."""
        return next((p for p in self.periods(scheme) if p.name == name), None)

    def holiday_on(self, day: date) -> Holiday | None:
        """The holiday ``day`` falls in, if any."""
        return next((h for h in self.holidays if day in h.days), None)

    def is_school_day(self, day: date, scheme: str) -> bool:
        """Whether lessons can be held on ``day`` for a class on ``scheme``.

        A school day is in one of the scheme's periods, on no holiday, and not a Sunday.
        """
        if day.weekday() == SUNDAY or self.holiday_on(day) is not None:
            return False
        return any(day in p.days for p in self.periods(scheme))

    def subject_named(self, name: str) -> Subject | None:
        """The subject called ``name`` (case ignored), if any."""
        key = name.casefold()
        return next((s for s in self.subjects.values() if s.name.casefold() == key), None)

    def work_type_named(self, name: str) -> WorkType | None:
        """The work type called ``name`` (case ignored), if any."""
        key = name.casefold()
        return next((w for w in self.work_types.values() if w.name.casefold() == key), None)

    def bell_slot(self, schedule: str, number: int) -> BellSlot | None:
        """Lesson ``number`` of bell schedule ``schedule``, if there is one."""
        return self.bell_schedules.get(schedule, {}).get(number)
