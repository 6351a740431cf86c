"""The lists a client finds its way by: a school year's classes, teachers, subjects, work types and
periods, and a roster's pupils as of a day (п. 2.2–2.6).

Each is small (bounded by one school year's set-up, or one roster), read whole in one snapshot and
ordered here, in Python, by keys that sort the same on both databases: the HTTP layer pages it.
Nothing here checks who may read what: ``api/`` does, before it calls.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from ejournal.ledger.database import Cursor, Database


@dataclass(frozen=True, slots=True)
class GroupEntry:
    group_id: UUID
    name: str
    subject_id: UUID


@dataclass(frozen=True, slots=True)
class ClassEntry:
    class_id: UUID
    name: str
    """As the journal writes it: 5«А»."""
    grade: int
    period_scheme: str
    class_teacher_id: UUID | None
    groups: tuple[GroupEntry, ...]


@dataclass(frozen=True, slots=True)
class TaughtEntry:
    """What a teacher is assigned to teach: a subject in a class, group or individual curriculum."""

    roster_id: UUID
    roster_name: str
    """As the journal writes it: 5«А», a group's name, or the class of a pupil's curriculum."""
    subject_id: UUID
    subject: str


@dataclass(frozen=True, slots=True)
class TeacherEntry:
    teacher_id: UUID
    teaching: tuple[TaughtEntry, ...]
    """By class (grade, name), then subject."""
    class_teacher_of: tuple[UUID, ...]


@dataclass(frozen=True, slots=True)
class SubjectEntry:
    subject_id: UUID
    name: str


@dataclass(frozen=True, slots=True)
class WorkTypeEntry:
    work_type_id: UUID
    name: str
    weight: Decimal
    written: bool


@dataclass(frozen=True, slots=True)
class PeriodEntry:
    scheme: str
    name: str
    ordinal: int
    starts_on: date
    ends_on: date


@dataclass(frozen=True, slots=True)
class Stint:
    """From ``starts_on`` up to, not including, ``ends_on`` (None: still there)."""

    starts_on: date
    ends_on: date | None

    def holds(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day < self.ends_on)


@dataclass(frozen=True, slots=True)
class PupilEntry:
    student_id: UUID
    stints: tuple[Stint, ...]
    """Every stint of the pupil in the roster that year, oldest first."""


def _first(pair: tuple[tuple[int, str, str], TaughtEntry]) -> tuple[int, str, str]:
    return pair[0]


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


class Lists:
    """The lists of one database's read models."""

    def __init__(self, database: Database) -> None:
        self._database = database

    @contextmanager
    def _snapshot(self) -> Iterator[Cursor]:
        with self._database.transaction(write=False, snapshot=True) as cursor:
            yield cursor

    def classes(self, school_id: UUID, year_start: int, grade: int | None) -> list[ClassEntry]:
        """The year's classes (of ``grade``, if given) by grade and name, each with its groups."""
        with self._snapshot() as cursor:
            cursor.execute(
                "SELECT roster_id, kind, class_id, name, subject_id, grade, period_scheme, "
                "class_teacher_id, nid FROM rm_roster "
                "WHERE kind IN ('class', 'group') AND school_id = ? AND year_start = ?",
                (school_id.hex, year_start),
            )
            rows = cursor.fetchall()
        groups: dict[str, list[tuple[int, GroupEntry]]] = defaultdict(list)
        for roster_id, kind, class_id, name, subject_id, *_, nid in rows:
            if kind == "group":
                groups[class_id].append(
                    (int(nid), GroupEntry(UUID(roster_id), name, UUID(subject_id)))
                )
        found = [
            ClassEntry(
                UUID(roster_id),
                name,
                int(row_grade),
                scheme or "",
                None if teacher is None else UUID(teacher),
                tuple(group for _, group in sorted(groups.get(roster_id, ()))),
            )
            for roster_id, kind, _, name, _, row_grade, scheme, teacher, _ in rows
            if kind == "class" and (grade is None or int(row_grade) == grade)
        ]
        return sorted(found, key=lambda k: (k.grade, k.name, k.class_id.hex))

    def teachers(self, school_id: UUID, year_start: int) -> list[TeacherEntry]:
        """The year's teachers (п. 2.3, 2.4): everyone assigned to teach there or leading a
        class, with what they teach, by ID (the HTTP layer orders them by name)."""
        with self._snapshot() as cursor:
            cursor.execute(
                "SELECT a.teacher_id, a.roster_id, r.name, k.grade, k.name, a.subject_id, s.name "
                "FROM rm_assignment a JOIN rm_roster r ON r.roster_id = a.roster_id "
                "LEFT JOIN rm_roster k ON k.roster_id = r.class_id "
                "LEFT JOIN rm_year y ON y.school_id = a.school_id AND y.year_start = a.year_start "
                "LEFT JOIN rm_subject s ON s.year_key = y.nid AND s.subject_id = a.subject_id "
                "WHERE a.school_id = ? AND a.year_start = ?",
                (school_id.hex, year_start),
            )
            assigned = cursor.fetchall()
            cursor.execute(
                "SELECT class_teacher_id, roster_id, grade, name FROM rm_roster WHERE kind = "
                "'class' AND school_id = ? AND year_start = ? AND class_teacher_id IS NOT NULL",
                (school_id.hex, year_start),
            )
            leading = cursor.fetchall()
        teaching: dict[str, list[tuple[tuple[int, str, str], TaughtEntry]]] = defaultdict(list)
        for teacher, roster, name, grade, class_name, subject_id, subject in assigned:
            taught = TaughtEntry(UUID(roster), name, UUID(subject_id), subject or "")
            key = (int(grade or 0), class_name or "", f"{name} {subject or ''}")
            teaching[teacher].append((key, taught))
        led: dict[str, list[tuple[int, str, UUID]]] = defaultdict(list)
        for teacher, class_id, grade, name in leading:
            led[teacher].append((int(grade), name, UUID(class_id)))
        return [
            TeacherEntry(
                UUID(teacher),
                tuple(taught for _, taught in sorted(teaching.get(teacher, ()), key=_first)),
                tuple(class_id for *_, class_id in sorted(led.get(teacher, ()))),
            )
            for teacher in sorted(teaching.keys() | led.keys())
        ]

    def subjects(self, school_id: UUID, year_start: int) -> list[SubjectEntry]:
        """The year's subjects, in the order the set-up added them."""
        rows = self._of_year(
            "SELECT subject_id, name FROM rm_subject WHERE year_key = ? ORDER BY nid",
            school_id,
            year_start,
        )
        return [SubjectEntry(UUID(subject_id), name) for subject_id, name in rows]

    def work_types(self, school_id: UUID, year_start: int) -> list[WorkTypeEntry]:
        """The year's types of work with their weights (п. 2.6), in the order they were defined."""
        rows = self._of_year(
            "SELECT work_type_id, name, weight, written FROM rm_work_type WHERE year_key = ? "
            "ORDER BY nid",
            school_id,
            year_start,
        )
        return [
            WorkTypeEntry(UUID(work_type_id), name, Decimal(weight), bool(written))
            for work_type_id, name, weight, written in rows
        ]

    def periods(self, school_id: UUID, year_start: int, scheme: str | None) -> list[PeriodEntry]:
        """The year's reporting periods (of ``scheme``, if given), by scheme and order."""
        rows = self._of_year(
            "SELECT scheme, name, ordinal, starts_on, ends_on FROM rm_period WHERE year_key = ?",
            school_id,
            year_start,
        )
        found = [
            PeriodEntry(
                row_scheme, name, int(ordinal), date.fromisoformat(s), date.fromisoformat(e)
            )
            for row_scheme, name, ordinal, s, e in rows
            if scheme is None or row_scheme == scheme
        ]
        return sorted(found, key=lambda p: (p.scheme, p.ordinal, p.name))

    def _of_year(self, sql: str, school_id: UUID, year_start: int) -> list[Any]:
        with self._snapshot() as cursor:
            cursor.execute(
                "SELECT nid FROM rm_year WHERE school_id = ? AND year_start = ?",
                (school_id.hex, year_start),
            )
            year = cursor.fetchone()
            if year is None:
                return []
            cursor.execute(sql, (int(year[0]),))
            return list(cursor.fetchall())

    def pupils(self, roster_id: UUID, on: date) -> list[PupilEntry]:
        """The roster's pupils on ``on`` (a stint holds that day), each with all their stints in
        it, by the day they first joined, then by ID."""
        with self._snapshot() as cursor:
            cursor.execute(
                "SELECT m.student_id, m.starts_on, m.ends_on FROM rm_member m "
                "JOIN rm_roster r ON r.nid = m.roster_key WHERE r.roster_id = ? "
                "ORDER BY m.starts_on, m.nid",
                (roster_id.hex,),
            )
            rows = cursor.fetchall()
        stints: dict[str, list[Stint]] = defaultdict(list)
        for student_id, starts_on, ends_on in rows:
            stints[student_id].append(Stint(date.fromisoformat(starts_on), _day(ends_on)))
        found = [
            PupilEntry(UUID(student), tuple(own))
            for student, own in stints.items()
            if any(stint.holds(on) for stint in own)
        ]
        return sorted(found, key=lambda p: (p.stints[0].starts_on, p.student_id.hex))

    def accounts_of(self, person_ids: list[UUID]) -> dict[UUID, list[UUID]]:
        """Each person's accounts (a breach report names the login, not the person)."""
        found: dict[UUID, list[UUID]] = defaultdict(list)
        with self._snapshot() as cursor:
            for start in range(0, len(person_ids), 500):
                chunk = [p.hex for p in person_ids[start : start + 500]]
                marks = ", ".join("?" * len(chunk))
                cursor.execute(
                    f"SELECT account_id, person_id FROM rm_account WHERE person_id IN ({marks}) "
                    "ORDER BY account_id",
                    tuple(chunk),
                )
                for account_id, person_id in cursor.fetchall():
                    found[UUID(person_id)].append(UUID(account_id))
        return dict(found)

    def teaches_roster(self, roster_id: UUID, teacher_id: UUID) -> bool:
        """Whether the person is assigned to teach the roster, in any subject, or takes one of
        its lessons as a substitute (п. 2.3)."""
        with self._snapshot() as cursor:
            cursor.execute(
                "SELECT 1 FROM rm_assignment WHERE roster_id = ? AND teacher_id = ? "
                "UNION ALL SELECT 1 FROM rm_lesson WHERE roster_id = ? AND teacher_id = ? "
                "AND substitute_for IS NOT NULL LIMIT 1",
                (roster_id.hex, teacher_id.hex) * 2,
            )
            return cursor.fetchone() is not None
