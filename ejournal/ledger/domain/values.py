"""The value vocabulary of the journal: codes, mark values, schemes, and small frozen records.

Events store plain values (``str``, ``int``, ``Decimal``, ``date``, ``time``, ``UUID``, tuples and
dicts of them, never ``float``); the frozen records here are what aggregates keep in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from enum import StrEnum
from uuid import UUID

Weight = int | Decimal
"""The weight of a work type in the weighted average Σ(w·m)/Σw; never a float."""

MARK_VALUES = frozenset({1, 2, 3, 4, 5})
"""Lesson marks (отметки), п. 2.5."""


class AttendanceCode(StrEnum):
    """Attendance codes of the register (п. 2.5); a student with no code was present."""

    ABSENT = "Н"
    ILL = "Б"
    EXCUSED = "П"
    LATE = "ОП"


ATTENDANCE_CODES = frozenset(code.value for code in AttendanceCode)

ATTESTATION_VALUES = ("5", "4", "3", "2", "1", "ОСВ", "Н/А", "зачёт", "незачёт")
"""Period, year, exam and final marks, as the regulation writes them (п. 2.8)."""


class AttestationKind(StrEnum):
    """Which attestation a mark belongs to: a period of the year, the year, an exam, the final."""

    PERIOD = "period"
    YEAR = "year"
    EXAM = "exam"
    FINAL = "final"


class PeriodScheme(StrEnum):
    """How a class's year is split into reporting periods."""

    QUARTERS = "quarters"
    HALF_YEARS = "half_years"
    TRIMESTERS = "trimesters"


class RosterKind(StrEnum):
    """Whom a lesson is for (п. 2.3): a class, a group of a class, or one student's curriculum."""

    CLASS = "class"
    GROUP = "group"
    INDIVIDUAL = "individual"


@dataclass(frozen=True, slots=True)
class DateRange:
    """The days from ``starts_on`` to ``ends_on``, both included."""

    starts_on: date
    ends_on: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.starts_on <= day <= self.ends_on


@dataclass(frozen=True, slots=True)
class Period:
    """A named reporting period (I четверть, 1 полугодие …)."""

    name: str
    days: DateRange


@dataclass(frozen=True, slots=True)
class Holiday:
    """Holidays (каникулы) or a day off: no lessons on these days."""

    name: str
    days: DateRange


@dataclass(frozen=True, slots=True)
class BellSlot:
    """Lesson number ``number`` of a bell schedule runs from ``starts_at`` to ``ends_at``."""

    number: int
    starts_at: time
    ends_at: time


@dataclass(frozen=True, slots=True)
class Subject:
    subject_id: UUID
    name: str


@dataclass(frozen=True, slots=True)
class WorkType:
    """A type of work marks are given for (п. 2.6), with its weight; written work is dated."""

    work_type_id: UUID
    name: str
    weight: Weight
    written: bool


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One item of a calendar-thematic plan (КТП, п. 2.6)."""

    number: int
    topic: str
    hours: int


@dataclass(frozen=True, slots=True)
class Stint:
    """One stretch of membership: from ``starts_on`` up to, not including, ``ends_on``."""

    starts_on: date
    ends_on: date | None = None

    def covers(self, day: date) -> bool:
        """Whether the member belonged on ``day``."""
        return self.starts_on <= day and (self.ends_on is None or day < self.ends_on)
