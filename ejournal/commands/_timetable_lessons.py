"""The lessons a timetable version plans, and what setting it does to the lessons already there.

A version plans a lesson for every entry on every school day of the class (its period scheme's
periods, no holiday, no Sunday) from the version's date to the end of the year, with the bell
times of the class's bell schedule. Setting it changes only those days, and only lessons the
timetable itself planned:

- an occurrence with no lesson yet is scheduled;
- a lesson the previous version planned (same subject, teacher and room), or one a timetable
  change cancelled, that holds no record is re-planned to the new occurrence in its slot or, if
  the new version has none there, cancelled with the reason «изменение расписания с ДД.ММ.ГГГГ»;
- a lesson that already holds records, has a substitute or was cancelled by the administration,
  and a lesson scheduled outside the timetable (a make-up lesson), are never changed: where the
  new version would have it otherwise it is reported as kept, with why.

Nothing is deleted: a re-planned or cancelled lesson keeps its ID and its history.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from uuid import UUID

from ejournal.ledger.domain import Lesson, Roster, SchoolClass, SchoolYear
from ejournal.ledger.domain.lesson import LessonPlan
from ejournal.ledger.domain.timetable import TimetableEntry, TimetableVersion
from ejournal.ledger.domain.values import RosterKind

KEPT_REASONS: dict[str, str] = {
    "records": "в уроке уже есть записи",
    "substitute": "на урок назначена замена",
    "cancelled": "урок отменён администрацией",
    "outside_timetable": "урок назначен вне расписания",
}
"""Why a lesson the new version would change is kept as it is: code → as a report says it."""


@dataclass(frozen=True, slots=True)
class KeptLesson:
    """A lesson the new version would have otherwise, left as it is for ``reason`` (a code of
    ``KEPT_REASONS``)."""

    lesson_id: UUID
    roster_id: UUID
    on: date
    slot: int
    reason: str


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One lesson a version plans: its roster, day, bell slot and plan."""

    roster_id: UUID
    on: date
    slot: int
    plan: LessonPlan

    @property
    def lesson_id(self) -> UUID:
        return Lesson.create_id(roster_id=self.roster_id, on=self.on, slot=self.slot)


@dataclass(slots=True)
class Reconciled:
    """The lessons to record (new, re-planned or cancelled) and what happened to each."""

    lessons: list[Lesson] = field(default_factory=list)
    scheduled: int = 0
    replanned: int = 0
    cancelled: int = 0
    kept: list[KeptLesson] = field(default_factory=list)


def occurrences(
    version: TimetableVersion,
    year: SchoolYear,
    school_class: SchoolClass,
    first: date,
    last: date,
) -> dict[UUID, Occurrence]:
    """The lessons ``version`` plans from ``first`` to ``last`` (both included), by lesson ID.
    An entry whose slot the class's bell schedule no longer has (redefined since the version was
    set) plans nothing."""
    by_weekday: dict[int, list[TimetableEntry]] = {}
    for entry in version.entries:
        by_weekday.setdefault(entry.weekday, []).append(entry)
    found: dict[UUID, Occurrence] = {}
    for day in _days(first, last):
        entries = by_weekday.get(day.isoweekday())
        if not entries or not year.is_school_day(day, school_class.period_scheme):
            continue
        for entry in entries:
            bell = year.bell_slot(school_class.bell_schedule, entry.slot)
            if bell is None:
                continue
            plan = LessonPlan(
                entry.subject_id, entry.teacher_id, entry.room, bell.starts_at, bell.ends_at
            )
            occurrence = Occurrence(entry.roster_id, day, entry.slot, plan)
            found[occurrence.lesson_id] = occurrence
    return found


def reconcile(
    existing: Mapping[UUID, Lesson],
    planned: Mapping[UUID, Occurrence],
    before: Mapping[UUID, Occurrence],
    *,
    school_class: SchoolClass,
    rosters: Mapping[UUID, Roster],
    effective_from: date,
    at: datetime,
) -> Reconciled:
    """What setting a version does (see the module): ``planned`` are its occurrences, ``before``
    those the previous version had on the same days, ``existing`` the lessons at either."""
    reason = f"изменение расписания с {effective_from:%d.%m.%Y}"
    done = Reconciled()
    for lesson_id in _in_order(planned, before):
        new = planned.get(lesson_id)
        lesson = existing.get(lesson_id)
        if lesson is None:
            if new is not None:
                done.lessons.append(_schedule(new, school_class, rosters[new.roster_id], at))
                done.scheduled += 1
            continue
        if _as_planned(lesson, new):
            continue
        why = _kept_because(lesson, before.get(lesson_id))
        if why is not None:
            done.kept.append(KeptLesson(lesson_id, lesson.roster_id, lesson.on, lesson.slot, why))
            continue
        if new is not None:
            lesson.replan(new.plan, reason, at=at)
            done.replanned += 1
        elif lesson.cancellation is None:
            lesson.cancel(reason, timetable_from=effective_from, at=at)
            done.cancelled += 1
        else:
            continue
        done.lessons.append(lesson)
    return done


def _as_planned(lesson: Lesson, new: Occurrence | None) -> bool:
    """Whether the lesson is already what the new version plans: held as planned, or not
    there and cancelled."""
    if new is None:
        return lesson.cancellation is not None
    return lesson.cancellation is None and lesson.plan == new.plan


def _kept_because(lesson: Lesson, old: Occurrence | None) -> str | None:
    """Why a timetable change leaves the lesson alone, if it does."""
    if lesson.holds_records():
        return "records"
    if lesson.substitution is not None:
        return "substitute"
    cancellation = lesson.cancellation
    if cancellation is not None:
        return None if cancellation.timetable_from is not None else "cancelled"
    # The timetable changes what it planned: the lesson of the previous version's entry. Bell
    # times are left out: a bell schedule redefined since is no reason to think otherwise.
    planned_before = old is not None and _same_entry(lesson.plan, old.plan)
    return None if planned_before else "outside_timetable"


def _same_entry(a: LessonPlan, b: LessonPlan) -> bool:
    return (a.subject_id, a.teacher_id, a.room) == (b.subject_id, b.teacher_id, b.room)


def _schedule(
    occurrence: Occurrence, school_class: SchoolClass, roster: Roster, at: datetime
) -> Lesson:
    plan = occurrence.plan
    return Lesson.schedule(
        school_id=school_class.school_id,
        year_start=school_class.year_start,
        roster_id=occurrence.roster_id,
        roster_kind=RosterKind(roster.kind).value,
        class_id=school_class.id,
        subject_id=plan.subject_id,
        teacher_id=plan.teacher_id,
        on=occurrence.on,
        slot=occurrence.slot,
        starts_at=plan.starts_at,
        ends_at=plan.ends_at,
        topic="",
        plan_item=None,
        room=plan.room,
        at=at,
    )


def _in_order(*occurrences: Mapping[UUID, Occurrence]) -> list[UUID]:
    """The lessons of all ``occurrences``, by day, slot and roster: a stable order of events."""
    every: dict[UUID, Occurrence] = {}
    for found in occurrences:
        for lesson_id, occurrence in found.items():
            every.setdefault(lesson_id, occurrence)
    return sorted(every, key=lambda i: (every[i].on, every[i].slot, every[i].roster_id.hex))


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
