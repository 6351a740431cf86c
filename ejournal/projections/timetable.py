"""A class's timetable as of a day, and its week of lessons (п. 2.2): what the timetable says, and
what became of it — the lessons with their teacher (a substitute, where one takes a lesson),
room, bell times, and those cancelled.

The timetable is read whole (one version: a few dozen entries) with the names of its subjects and
rosters and the bell times of the class's bell schedule, so that a reader (the week view, a
spreadsheet export) needs nothing else. People are IDs; ``api/`` joins their names. Nothing here
checks who may read what: ``api/`` does, before it calls.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any
from uuid import UUID

from ejournal.ledger.database import Cursor, Database
from ejournal.projections.errors import NotProjected

_KIND_ORDER = {"class": 0, "group": 1, "individual": 2}


@dataclass(frozen=True, slots=True)
class ClassOf:
    """The class a timetable or a week is of."""

    class_id: UUID
    name: str
    school_id: UUID
    year_start: int
    bell_schedule: str


@dataclass(frozen=True, slots=True)
class EntryView:
    """One weekly lesson of a timetable, with the names and bell times it needs."""

    weekday: int
    """ISO: 1 Monday … 6 Saturday."""
    slot: int
    starts_at: time | None
    ends_at: time | None
    """The slot's bell times (None if the class's bell schedule no longer has the slot)."""
    roster_id: UUID
    roster_kind: str
    roster_name: str
    subject_id: UUID
    subject: str
    teacher_id: UUID
    room: str


@dataclass(frozen=True, slots=True)
class TimetableView:
    """The class's timetable in force on ``on`` (no entries before its first version)."""

    school_class: ClassOf
    on: date
    effective_from: date | None
    """The date the version in force is in force from; None: no version yet."""
    versions: tuple[date, ...]
    """Every version's date, in order."""
    entries: tuple[EntryView, ...]
    """By weekday, slot, then class, groups, individual curricula."""


@dataclass(frozen=True, slots=True)
class WeekLesson:
    """A lesson of the class's week as the timetable made it, with what became of it."""

    lesson_id: UUID
    on: date
    slot: int
    starts_at: time
    ends_at: time
    roster_id: UUID
    roster_kind: str
    roster_name: str
    subject_id: UUID
    subject: str
    teacher_id: UUID
    """Who teaches it: the substitute, where one is named."""
    substitute_for: UUID | None
    substitution_reason: str | None
    room: str
    cancelled: bool
    cancellation_reason: str | None


@dataclass(frozen=True, slots=True)
class ClassWeek:
    school_class: ClassOf
    starts_on: date
    """The Monday."""
    ends_on: date
    """The Sunday."""
    lessons: tuple[WeekLesson, ...]
    """By day, start, slot, then class, groups, individual curricula."""


class TimetableReads:
    """The timetables and weeks of one database's read models."""

    def __init__(self, database: Database) -> None:
        self._database = database

    @contextmanager
    def _snapshot(self) -> Iterator[Cursor]:
        with self._database.transaction(write=False, snapshot=True) as cursor:
            yield cursor

    def timetable(self, class_id: UUID, on: date) -> TimetableView:
        """The class's timetable in force on ``on``. Raises ``NotProjected`` for an unknown
        class."""
        with self._snapshot() as cursor:
            school_class, year_key = _class_of(cursor, class_id)
            cursor.execute(
                "SELECT v.effective_from FROM rm_timetable_version v "
                "JOIN rm_timetable t ON t.nid = v.timetable_key WHERE t.class_id = ? "
                "ORDER BY v.effective_from",
                (class_id.hex,),
            )
            versions = tuple(date.fromisoformat(row[0]) for row in cursor.fetchall())
            in_force = [v for v in versions if v <= on]
            effective_from = in_force[-1] if in_force else None
            entries: list[EntryView] = []
            if effective_from is not None:
                entries = _entries(cursor, class_id, effective_from, year_key, school_class)
        return TimetableView(school_class, on, effective_from, versions, tuple(entries))

    def class_week(self, class_id: UUID, day: date) -> ClassWeek:
        """The lessons of the class (its own, its groups', its pupils' individual curricula) in
        the week (Monday to Sunday) that contains ``day``. Raises ``NotProjected`` for an
        unknown class."""
        monday = day - timedelta(days=day.weekday())
        sunday = monday + timedelta(days=6)
        with self._snapshot() as cursor:
            school_class, year_key = _class_of(cursor, class_id)
            cursor.execute(
                "SELECT l.lesson_id, l.held_on, l.slot, l.starts_at, l.ends_at, l.roster_id, "
                "l.roster_kind, r.name, l.subject_id, s.name, l.teacher_id, l.substitute_for, "
                "l.substitution_reason, l.room, l.cancelled, l.cancel_reason "
                "FROM rm_lesson l LEFT JOIN rm_roster r ON r.roster_id = l.roster_id "
                "LEFT JOIN rm_subject s ON s.year_key = ? AND s.subject_id = l.subject_id "
                "WHERE l.class_id = ? AND l.held_on BETWEEN ? AND ?",
                (year_key, class_id.hex, monday.isoformat(), sunday.isoformat()),
            )
            lessons = [_week_lesson(row) for row in cursor.fetchall()]
        lessons.sort(
            key=lambda x: (
                x.on,
                x.starts_at,
                x.slot,
                _KIND_ORDER.get(x.roster_kind, 3),
                x.roster_name,
                x.lesson_id.hex,
            )
        )
        return ClassWeek(school_class, monday, sunday, tuple(lessons))


def _class_of(cursor: Cursor, class_id: UUID) -> tuple[ClassOf, int | None]:
    """The class, and the key of its year's row (None if the year is not projected)."""
    cursor.execute(
        "SELECT r.name, r.school_id, r.year_start, r.bell_schedule, y.nid FROM rm_roster r "
        "LEFT JOIN rm_year y ON y.school_id = r.school_id AND y.year_start = r.year_start "
        "WHERE r.roster_id = ? AND r.kind = 'class'",
        (class_id.hex,),
    )
    row = cursor.fetchone()
    if row is None:
        raise NotProjected("класс не найден")
    name, school_id, year_start, bell_schedule, year_key = row
    school_class = ClassOf(class_id, name, UUID(school_id), int(year_start), bell_schedule or "")
    return school_class, None if year_key is None else int(year_key)


def _entries(
    cursor: Cursor,
    class_id: UUID,
    effective_from: date,
    year_key: int | None,
    school_class: ClassOf,
) -> list[EntryView]:
    cursor.execute(
        "SELECT e.weekday, e.slot, b.starts_at, b.ends_at, e.roster_id, r.kind, r.name, "
        "e.subject_id, s.name, e.teacher_id, e.room FROM rm_timetable_entry e "
        "JOIN rm_timetable t ON t.nid = e.timetable_key "
        "LEFT JOIN rm_roster r ON r.roster_id = e.roster_id "
        "LEFT JOIN rm_subject s ON s.year_key = ? AND s.subject_id = e.subject_id "
        "LEFT JOIN rm_bell_slot b ON b.year_key = ? AND b.schedule = ? AND b.number = e.slot "
        "WHERE t.class_id = ? AND e.effective_from = ?",
        (
            year_key,
            year_key,
            school_class.bell_schedule,
            class_id.hex,
            effective_from.isoformat(),
        ),
    )
    entries = [
        EntryView(
            weekday=int(weekday),
            slot=int(slot),
            starts_at=None if starts_at is None else time.fromisoformat(starts_at),
            ends_at=None if ends_at is None else time.fromisoformat(ends_at),
            roster_id=UUID(roster_id),
            roster_kind=kind or "",
            roster_name=roster_name or "",
            subject_id=UUID(subject_id),
            subject=subject or "",
            teacher_id=UUID(teacher_id),
            room=room,
        )
        for (
            weekday,
            slot,
            starts_at,
            ends_at,
            roster_id,
            kind,
            roster_name,
            subject_id,
            subject,
            teacher_id,
            room,
        ) in cursor.fetchall()
    ]
    entries.sort(
        key=lambda e: (
            e.weekday,
            e.slot,
            _KIND_ORDER.get(e.roster_kind, 3),
            e.roster_name,
            e.roster_id.hex,
        )
    )
    return entries


def _week_lesson(row: Sequence[Any]) -> WeekLesson:
    (lesson_id, held_on, slot, starts_at, ends_at, roster_id, kind, roster_name) = row[:8]
    (subject_id, subject, teacher_id, substitute_for, reason, room, cancelled) = row[8:15]
    return WeekLesson(
        lesson_id=UUID(lesson_id),
        on=date.fromisoformat(held_on),
        slot=int(slot),
        starts_at=time.fromisoformat(starts_at),
        ends_at=time.fromisoformat(ends_at),
        roster_id=UUID(roster_id),
        roster_kind=kind,
        roster_name=roster_name or "",
        subject_id=UUID(subject_id),
        subject=subject or "",
        teacher_id=UUID(teacher_id),
        substitute_for=None if substitute_for is None else UUID(substitute_for),
        substitution_reason=reason,
        room=room,
        cancelled=bool(cancelled),
        cancellation_reason=(row[15] or "") if cancelled else None,
    )
