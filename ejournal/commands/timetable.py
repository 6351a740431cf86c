"""The school-year timetable of a class (п. 2.2), and the lessons it plans.

Only the head or a deputy sets a version of a class's timetable, in force from a date to the end
of the year (or until a later version); a version set on the date of the latest one replaces it.
Everything a deputy could get wrong is refused with a code that names the entry («понедельник,
2-й урок»), and nothing is written: a day that is no weekday of lessons, a slot the class's bell
schedule lacks, a roster that is not the class, one of its groups or individual curricula, a
subject that is not the roster's, a teacher not assigned to the roster's subject (п. 2.3), two
lessons of the class (or of the class and one of its groups) at one time, a teacher in two places
at once, in this class or another.

Setting a version schedules the ``Lesson`` of every occurrence from its date to the end of the
year, re-plans or cancels the lessons it changes, and keeps those already written in
(``commands._timetable_lessons``): all in one save, recorded under the administration member
who set it. The result says how many lessons were scheduled, re-planned and cancelled, and which
were kept and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from uuid import UUID

from eventsourcing.domain import Aggregate

from ejournal.commands._access import class_for_setup, non_blank, year_log
from ejournal.commands._timetable_lessons import (
    KEPT_REASONS,
    KeptLesson,
    Reconciled,
    occurrences,
    reconcile,
)
from ejournal.commands.base import Command
from ejournal.commands.errors import refuse
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import (
    Lesson,
    Roster,
    SchoolClass,
    SchoolTimetable,
    SchoolYear,
    TeachingAssignment,
    Timetable,
    TimetableEntry,
)
from ejournal.ledger.domain.rosters import as_roster
from ejournal.ledger.domain.timetable import SATURDAY, TimetableVersion
from ejournal.ledger.domain.values import BellSlot

WEEKDAYS = {
    1: "понедельник",
    2: "вторник",
    3: "среда",
    4: "четверг",
    5: "пятница",
    6: "суббота",
    7: "воскресенье",
}
"""ISO weekdays as a timetable names them."""


@dataclass(frozen=True, slots=True)
class TimetableChange:
    """What setting a version did to the class's lessons."""

    timetable_id: UUID
    effective_from: date
    scheduled: int
    """New lessons."""
    replanned: int
    """Lessons with nothing written in them given another subject, teacher, room or bell time,
    or held again after an earlier change cancelled them."""
    cancelled: int
    """Lessons with nothing written in them that the new version no longer has."""
    kept: tuple[KeptLesson, ...]
    """Lessons the new version would have otherwise, left as they are (with why), by day."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SetTimetable(Command[TimetableChange]):
    """The class's timetable from ``effective_from`` to the end of the year (п. 2.2): each
    entry a weekly lesson. Replaces a version of the same date."""

    class_id: UUID
    effective_from: date
    entries: tuple[TimetableEntry, ...]


def where(entry: TimetableEntry) -> str:
    """How a refusal names an entry: «понедельник, 2-й урок»."""
    day = WEEKDAYS.get(entry.weekday, f"день {entry.weekday}")
    return f"{day}, {entry.slot}-й урок"


def handle_set_timetable(cmd: SetTimetable, ledger: Ledger) -> TimetableChange:
    role, year, school_class = class_for_setup(ledger, cmd.actor, cmd.class_id)
    if cmd.effective_from not in year.days:
        raise refuse("timetable.date_outside_year", on=cmd.effective_from)
    at = ledger.clock()
    timetable = ledger.find(Timetable.create_id(school_class.id), Timetable)
    if timetable is None:
        timetable = Timetable.open(
            school_id=school_class.school_id,
            year_start=school_class.year_start,
            class_id=school_class.id,
            at=at,
        )
    previous = timetable.latest
    if previous is not None and cmd.effective_from < previous.effective_from:
        raise refuse(
            "timetable.before_previous", on=cmd.effective_from, previous=previous.effective_from
        )
    if not cmd.entries:
        raise refuse("timetable.empty")
    entries = tuple(replace(e, room=non_blank(e.room)) for e in cmd.entries)
    rosters = _check_entries(ledger, year, school_class, entries, cmd.effective_from)
    version = TimetableVersion(cmd.effective_from, entries)
    _check_within_class(school_class, entries)
    index = _school_timetable(ledger, school_class, at)
    _check_other_classes(ledger, year, school_class, index, version)
    done = _lessons(ledger, year, school_class, rosters, previous, version, at)
    timetable.set_version(cmd.effective_from, entries, at=at)
    index.note(school_class.id, cmd.effective_from, at=at)
    log_id = year_log(school_class.school_id, school_class.year_start)
    ledger.record(timetable, index, *done.lessons, log_id=log_id, actor=cmd.actor, role=role)
    return TimetableChange(
        timetable_id=timetable.id,
        effective_from=cmd.effective_from,
        scheduled=done.scheduled,
        replanned=done.replanned,
        cancelled=done.cancelled,
        kept=tuple(done.kept),
    )


def _lessons(
    ledger: Ledger,
    year: SchoolYear,
    school_class: SchoolClass,
    rosters: Mapping[UUID, Roster],
    previous: TimetableVersion | None,
    version: TimetableVersion,
    at: datetime,
) -> Reconciled:
    """What the version does to the class's lessons from its date to the end of the year, the
    lessons there read in one go."""
    first, last = version.effective_from, year.days.ends_on
    planned = occurrences(version, year, school_class, first, last)
    before = {} if previous is None else occurrences(previous, year, school_class, first, last)
    existing = ledger.find_many([*planned, *before], Lesson)
    return reconcile(
        existing,
        planned,
        before,
        school_class=school_class,
        rosters=rosters,
        effective_from=first,
        at=at,
    )


def _school_timetable(ledger: Ledger, school_class: SchoolClass, at: datetime) -> SchoolTimetable:
    index_id = SchoolTimetable.create_id(school_class.school_id, school_class.year_start)
    index = ledger.find(index_id, SchoolTimetable)
    if index is None:
        index = SchoolTimetable.open(
            school_id=school_class.school_id, year_start=school_class.year_start, at=at
        )
    return index


# --- each entry -------------------------------------------------------------------------------


def _check_entries(
    ledger: Ledger,
    year: SchoolYear,
    school_class: SchoolClass,
    entries: Sequence[TimetableEntry],
    effective_from: date,
) -> dict[UUID, Roster]:
    """Refuse the first entry with a wrong day, slot, roster, subject or teacher; return the
    entries' rosters by ID."""
    roster_ids = {e.roster_id for e in entries}
    rosters = {
        roster_id: roster
        for roster_id, found in ledger.find_many(roster_ids, Aggregate).items()
        if (roster := as_roster(found)) is not None and roster.class_id == school_class.id
    }
    assignments = ledger.find_many(
        {_assignment_id(e) for e in entries if e.roster_id in rosters}, TeachingAssignment
    )
    for entry in entries:
        at = where(entry)
        if not 1 <= entry.weekday <= SATURDAY:
            raise refuse("timetable.invalid_weekday", at=at, weekday=entry.weekday)
        if year.bell_slot(school_class.bell_schedule, entry.slot) is None:
            raise refuse("timetable.unknown_slot", at=at, slot=entry.slot)
        roster = rosters.get(entry.roster_id)
        if roster is None:
            raise refuse("timetable.roster_not_of_class", at=at, class_name=school_class.name)
        own_subject = isinstance(roster, SchoolClass) or roster.subject_id == entry.subject_id
        if entry.subject_id not in year.subjects or not own_subject:
            raise refuse("timetable.subject_not_of_roster", at=at)
        assignment = assignments.get(_assignment_id(entry))
        if assignment is None or not assignment.active_on(effective_from):
            raise refuse("timetable.teacher_not_assigned", at=at, on=effective_from)
    return rosters


def _assignment_id(entry: TimetableEntry) -> UUID:
    return TeachingAssignment.create_id(
        roster_id=entry.roster_id, subject_id=entry.subject_id, teacher_id=entry.teacher_id
    )


# --- one time, one place ----------------------------------------------------------------------


def _check_within_class(school_class: SchoolClass, entries: Sequence[TimetableEntry]) -> None:
    """No two lessons of one roster, or of the whole class and one of its rosters, and no
    teacher twice, at one time (a slot of a weekday) of the class."""
    seen: dict[tuple[int, int], list[TimetableEntry]] = {}
    for entry in entries:
        same_time = seen.setdefault((entry.weekday, entry.slot), [])
        for other in same_time:
            whole_class = {entry.roster_id, other.roster_id} & {school_class.id}
            if entry.roster_id == other.roster_id or whole_class:
                raise refuse("timetable.slot_taken", at=where(entry))
            if entry.teacher_id == other.teacher_id:
                raise refuse("timetable.teacher_busy", at=where(entry), other=school_class.name)
        same_time.append(entry)


def _check_other_classes(
    ledger: Ledger,
    year: SchoolYear,
    school_class: SchoolClass,
    index: SchoolTimetable,
    version: TimetableVersion,
) -> None:
    """No teacher of ``version`` has a lesson of another class at an overlapping bell time on
    the same weekday, on a day both timetables are in force."""
    busy = _elsewhere(ledger, year, school_class, index, version)
    for entry in version.entries:
        bell = year.bell_slot(school_class.bell_schedule, entry.slot)
        for weekday, their_bell, other in busy.get(entry.teacher_id, ()):
            if weekday == entry.weekday and _overlap(bell, their_bell):
                raise refuse("timetable.teacher_busy", at=where(entry), other=other)


Busy = dict[UUID, list[tuple[int, BellSlot | None, str]]]
"""Teacher → (weekday, bell times, class name) of each of their lessons in other classes."""


def _elsewhere(
    ledger: Ledger,
    year: SchoolYear,
    school_class: SchoolClass,
    index: SchoolTimetable,
    version: TimetableVersion,
) -> Busy:
    """The lessons the other classes' timetables give ``version``'s teachers on a weekday of a
    day both are in force."""
    teachers = {e.teacher_id for e in version.entries}
    others = [i for i in index.timetable_ids() if i != Timetable.create_id(school_class.id)]
    timetables = ledger.find_many(others, Timetable)
    classes = ledger.find_many((t.class_id for t in timetables.values()), SchoolClass)
    busy: Busy = {}
    for timetable in timetables.values():
        other = classes.get(timetable.class_id)
        if other is None:
            continue
        for first, last, theirs in timetable.in_force(version.effective_from, year.days.ends_on):
            weekdays = _weekdays(first, last)
            for entry in theirs.entries:
                if entry.teacher_id in teachers and entry.weekday in weekdays:
                    bell = year.bell_slot(other.bell_schedule, entry.slot)
                    busy.setdefault(entry.teacher_id, []).append((entry.weekday, bell, other.name))
    return busy


def _weekdays(first: date, last: date) -> frozenset[int]:
    """The ISO weekdays of the days from ``first`` to ``last``."""
    count = min((last - first).days + 1, 7)
    return frozenset((first.isoweekday() - 1 + n) % 7 + 1 for n in range(count))


def _overlap(a: BellSlot | None, b: BellSlot | None) -> bool:
    return a is not None and b is not None and a.starts_at < b.ends_at and b.starts_at < a.ends_at


__all__ = [
    "KEPT_REASONS",
    "WEEKDAYS",
    "KeptLesson",
    "SetTimetable",
    "TimetableChange",
    "TimetableEntry",
    "handle_set_timetable",
    "where",
]
