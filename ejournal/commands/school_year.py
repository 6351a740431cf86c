"""The school year and the sections every journal command consults (п. 2.2): opening, closing and
reopening the year, its reporting periods, holidays, subjects, work types with their weights
(п. 2.6) and bell schedules.

Only the head or a deputy of the school sets the year up. Every record goes to the school year's
log, and each command is one save of the year.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import pairwise
from uuid import UUID, uuid4

from ejournal.commands._access import (
    authorise_setup,
    load,
    load_school,
    load_year,
    non_blank,
    principal,
    year_for_setup,
    year_log,
)
from ejournal.commands.base import Command
from ejournal.commands.errors import as_text, refuse
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import SchoolYear
from ejournal.ledger.domain.values import (
    BellSlot,
    DateRange,
    Period,
    PeriodScheme,
    Weight,
    WorkType,
)

DEFAULT_BELL_SCHEDULE = "основное"
MAX_WEIGHT = 10
MAX_SLOT = 20


@dataclass(frozen=True, slots=True)
class PeriodSpec:
    """A named reporting period, from ``starts_on`` to ``ends_on`` inclusive."""

    name: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenSchoolYear(Command[UUID]):
    """Open the year starting 1 September ``year_start``; returns the school year's ID."""

    school_id: UUID
    year_start: int
    starts_on: date | None = None
    """1 September of ``year_start`` unless given."""
    ends_on: date | None = None
    """31 August of the next year unless given."""


@dataclass(frozen=True, kw_only=True, slots=True)
class DefinePeriods(Command[None]):
    """Define (or redefine) the periods of one scheme: quarters, half-years or trimesters."""

    school_id: UUID
    year_start: int
    scheme: PeriodScheme
    periods: tuple[PeriodSpec, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class DeclareHoliday(Command[None]):
    school_id: UUID
    year_start: int
    name: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True, kw_only=True, slots=True)
class CloseSchoolYear(Command[None]):
    school_id: UUID
    year_start: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ReopenSchoolYear(Command[None]):
    school_id: UUID
    year_start: int
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AddSubject(Command[UUID]):
    school_id: UUID
    year_start: int
    name: str
    subject_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, kw_only=True, slots=True)
class DefineWorkType(Command[UUID]):
    """A type of work marks are given for, with its weight (п. 2.6)."""

    school_id: UUID
    year_start: int
    name: str
    weight: Weight
    written: bool
    work_type_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, kw_only=True, slots=True)
class DefineBellSchedule(Command[None]):
    """Define (or redefine) a bell schedule: lesson number → start and end time."""

    school_id: UUID
    year_start: int
    slots: tuple[BellSlot, ...]
    name: str = DEFAULT_BELL_SCHEDULE


def _within(days: DateRange, year: DateRange) -> bool:
    """Whether ``days`` is a well-ordered range inside ``year``."""
    return days.starts_on <= days.ends_on and days.starts_on in year and days.ends_on in year


def handle_open_school_year(cmd: OpenSchoolYear, ledger: Ledger) -> UUID:
    """Open the year (п. 2.2): 1 September – 31 August unless the dates say otherwise."""
    who = principal(ledger, cmd.actor)
    load_school(ledger, cmd.school_id)
    role = authorise_setup(who, cmd.school_id)
    year_id = SchoolYear.create_id(school_id=cmd.school_id, year_start=cmd.year_start)
    name = f"{cmd.year_start}/{cmd.year_start + 1}"
    if ledger.find(year_id, SchoolYear) is not None:
        raise refuse("year.already_open", year=name)
    if not 2000 <= cmd.year_start <= 2200:
        raise refuse("year.invalid_dates", dates=f"год начала {cmd.year_start}")
    starts_on = cmd.starts_on or date(cmd.year_start, 9, 1)
    ends_on = cmd.ends_on or date(cmd.year_start + 1, 8, 31)
    within = date(cmd.year_start, 8, 1) <= starts_on < ends_on <= date(cmd.year_start + 1, 8, 31)
    if not within:
        raise refuse("year.invalid_dates", dates=f"{as_text(starts_on)} – {as_text(ends_on)}")
    year = SchoolYear.open(
        school_id=cmd.school_id,
        year_start=cmd.year_start,
        starts_on=starts_on,
        ends_on=ends_on,
        at=ledger.clock(),
    )
    ledger.record(year, log_id=year_log(cmd.school_id, cmd.year_start), actor=cmd.actor, role=role)
    return year.id


def handle_define_periods(cmd: DefinePeriods, ledger: Ledger) -> None:
    """The reporting periods of one scheme (п. 2.2): named, in order, inside the year."""
    role, year = year_for_setup(ledger, cmd.actor, cmd.school_id, cmd.year_start)
    if cmd.scheme not in set(PeriodScheme):
        raise refuse("period.unknown_scheme", scheme=cmd.scheme)
    periods = [Period(non_blank(p.name), DateRange(p.starts_on, p.ends_on)) for p in cmd.periods]
    if not periods:
        raise refuse("period.invalid", detail="нет ни одного периода")
    names = [p.name for p in periods]
    if "" in names or len(set(names)) != len(names):
        raise refuse("period.invalid", detail="названия должны быть непустыми и разными")
    for period in periods:
        days = period.days
        if not _within(days, year.days):
            raise refuse("period.invalid", detail=f"«{period.name}» вне учебного года")
    for earlier, later in pairwise(periods):
        if later.days.starts_on <= earlier.days.ends_on:
            raise refuse("period.invalid", detail=f"«{later.name}» пересекается или не по порядку")
    year.define_periods(PeriodScheme(cmd.scheme).value, periods, at=ledger.clock())
    ledger.record(year, log_id=year_log(cmd.school_id, cmd.year_start), actor=cmd.actor, role=role)


def handle_declare_holiday(cmd: DeclareHoliday, ledger: Ledger) -> None:
    """Holidays or a day off inside the year (п. 2.2): no lessons on those days."""
    role, year = year_for_setup(ledger, cmd.actor, cmd.school_id, cmd.year_start)
    name = non_blank(cmd.name)
    if not name:
        raise refuse("holiday.invalid", detail="нет названия")
    days = DateRange(cmd.starts_on, cmd.ends_on)
    if not _within(days, year.days):
        raise refuse("holiday.invalid", detail="даты вне учебного года или не по порядку")
    year.declare_holiday(name, days, at=ledger.clock())
    ledger.record(year, log_id=year_log(cmd.school_id, cmd.year_start), actor=cmd.actor, role=role)


def handle_close_school_year(cmd: CloseSchoolYear, ledger: Ledger) -> None:
    """Close the year's journal: no more records (п. 2.11). A closed year is refused
    (``year.already_closed``): closing it again takes a reopening, with its reason, first."""
    who = principal(ledger, cmd.actor)
    load_school(ledger, cmd.school_id)
    role = authorise_setup(who, cmd.school_id)
    year = load_year(ledger, cmd.school_id, cmd.year_start)
    if year.closed:
        raise refuse("year.already_closed", year=f"{cmd.year_start}/{cmd.year_start + 1}")
    year.close(at=ledger.clock())
    ledger.record(year, log_id=year_log(cmd.school_id, cmd.year_start), actor=cmd.actor, role=role)


def handle_reopen_school_year(cmd: ReopenSchoolYear, ledger: Ledger) -> None:
    """Reopen a closed year's journal, with a reason (п. 2.11)."""
    who = principal(ledger, cmd.actor)
    load_school(ledger, cmd.school_id)
    role = authorise_setup(who, cmd.school_id)
    # Not year_for_setup: that one refuses a closed year, the only kind this command accepts.
    year = load(
        ledger,
        SchoolYear.create_id(school_id=cmd.school_id, year_start=cmd.year_start),
        SchoolYear,
        "year.not_found",
        year=f"{cmd.year_start}/{cmd.year_start + 1}",
    )
    if not year.closed:
        raise refuse("year.not_closed")
    reason = non_blank(cmd.reason)
    if not reason:
        raise refuse("reason.required")
    year.reopen(reason, at=ledger.clock())
    ledger.record(year, log_id=year_log(cmd.school_id, cmd.year_start), actor=cmd.actor, role=role)


def handle_add_subject(cmd: AddSubject, ledger: Ledger) -> UUID:
    """A subject of the year's curriculum (п. 2.2); names are unique, case ignored."""
    role, year = year_for_setup(ledger, cmd.actor, cmd.school_id, cmd.year_start)
    name = non_blank(cmd.name)
    if not name:
        raise refuse("subject.invalid_name")
    if year.subject_named(name) is not None or cmd.subject_id in year.subjects:
        raise refuse("subject.duplicate", name=name)
    year.add_subject(cmd.subject_id, name, at=ledger.clock())
    ledger.record(year, log_id=year_log(cmd.school_id, cmd.year_start), actor=cmd.actor, role=role)
    return cmd.subject_id


def handle_define_work_type(cmd: DefineWorkType, ledger: Ledger) -> UUID:
    """A work type and its weight in averages (п. 2.6); names are unique, case ignored."""
    role, year = year_for_setup(ledger, cmd.actor, cmd.school_id, cmd.year_start)
    name = non_blank(cmd.name)
    if not name:
        raise refuse("work_type.invalid", detail="нет названия")
    weight = cmd.weight
    # bool is an int, and a float weight would make averages inexact: both are refused.
    if isinstance(weight, bool) or not isinstance(weight, int | Decimal):
        raise refuse("work_type.invalid", detail="вес — целое или десятичное число")
    if isinstance(weight, Decimal) and not weight.is_finite():
        raise refuse("work_type.invalid", detail="вес — конечное число")
    if not 0 < weight <= MAX_WEIGHT:
        raise refuse("work_type.invalid", detail=f"вес от 0 до {MAX_WEIGHT}")
    if year.work_type_named(name) is not None or cmd.work_type_id in year.work_types:
        raise refuse("work_type.duplicate", name=name)
    work_type = WorkType(cmd.work_type_id, name, weight, bool(cmd.written))
    year.define_work_type(work_type, at=ledger.clock())
    ledger.record(year, log_id=year_log(cmd.school_id, cmd.year_start), actor=cmd.actor, role=role)
    return cmd.work_type_id


def handle_define_bell_schedule(cmd: DefineBellSchedule, ledger: Ledger) -> None:
    """A bell schedule (п. 2.2): numbered lessons, each ending after it starts, none overlapping."""
    role, year = year_for_setup(ledger, cmd.actor, cmd.school_id, cmd.year_start)
    name = non_blank(cmd.name)
    slots = sorted(cmd.slots, key=lambda s: s.number)
    if not name or not slots:
        raise refuse("bell.invalid_slots", detail="нет названия или уроков")
    numbers = [s.number for s in slots]
    if len(set(numbers)) != len(numbers) or not all(0 <= n <= MAX_SLOT for n in numbers):
        raise refuse("bell.invalid_slots", detail="номера уроков повторяются или вне 0–20")
    if any(s.starts_at >= s.ends_at for s in slots):
        raise refuse("bell.invalid_slots", detail="урок заканчивается раньше, чем начинается")
    if any(b.starts_at < a.ends_at for a, b in pairwise(slots)):
        raise refuse("bell.invalid_slots", detail="уроки пересекаются")
    year.define_bell_schedule(name, slots, at=ledger.clock())
    ledger.record(year, log_id=year_log(cmd.school_id, cmd.year_start), actor=cmd.actor, role=role)
