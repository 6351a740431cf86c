"""A school year's set-up as the read models hold it, for the export in the import's format
(``exchange``): its classes' and groups' members with their first day, the parents linked to its
pupils, who teaches what from when, the КТП, the classes' timetables, and what each of the school's
people is there.

Person IDs only (I9); the names are the vault's. Nothing here checks who may read: the caller does.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from ejournal.ledger.database import Cursor, Database


@dataclass(frozen=True, slots=True)
class Membership:
    roster_id: UUID
    student_id: UUID
    starts_on: date
    """The first day of the pupil's current (or last) stint."""


@dataclass(frozen=True, slots=True)
class Teaching:
    teacher_id: UUID
    roster_id: UUID
    subject_id: UUID
    starts_on: date
    """The first day of the assignment's current (or last) stint."""


@dataclass(frozen=True, slots=True)
class PlannedItem:
    number: int
    topic: str
    hours: int


@dataclass(frozen=True, slots=True)
class WeeklyLesson:
    """An entry of a version of a class's timetable."""

    class_id: UUID
    effective_from: date
    weekday: int
    slot: int
    roster_id: UUID
    subject_id: UUID
    teacher_id: UUID
    room: str
    student_id: UUID | None
    """The pupil, for a lesson of an individual curriculum."""


@dataclass(slots=True)
class SetupRows:
    members: list[Membership] = field(default_factory=list)
    """Of the year's classes and groups, current members only, in the order they joined."""
    guardians: list[tuple[UUID, UUID]] = field(default_factory=list)
    """(student, parent) of the year, in the order the links were recorded."""
    teaching: list[Teaching] = field(default_factory=list)
    """Assignments in force, in the order they were made."""
    plans: dict[tuple[UUID, UUID], list[PlannedItem]] = field(default_factory=dict)
    """(roster, subject) → its КТП items by number."""
    timetable: list[WeeklyLesson] = field(default_factory=list)
    """Every version of the classes' timetables, by class and date, each version's entries by
    weekday and slot."""


@dataclass(frozen=True, slots=True)
class PeopleKinds:
    """What the school's people are to it, in any of its years (by the read models)."""

    pupils: frozenset[UUID]
    parents: frozenset[UUID]
    teachers: frozenset[UUID]
    """Assigned to teach, or class teachers."""


def school_setup(database: Database, school_id: UUID, year_start: int) -> SetupRows:
    """The set-up of the school's year (see the module)."""
    school = school_id.hex
    found = SetupRows()
    with database.transaction(write=False, snapshot=True) as cursor:
        cursor.execute(
            "SELECT r.roster_id, m.student_id, m.starts_on, m.ends_on FROM rm_member m "
            "JOIN rm_roster r ON r.nid = m.roster_key WHERE r.school_id = ? AND r.year_start = ? "
            "AND r.kind IN ('class', 'group') ORDER BY r.nid, m.nid",
            (school, year_start),
        )
        latest: dict[tuple[str, str], tuple[str, str | None]] = {}
        for roster, student, starts_on, ends_on in cursor.fetchall():
            latest[roster, student] = (starts_on, ends_on)
        found.members = [
            Membership(UUID(roster), UUID(student), date.fromisoformat(starts_on))
            for (roster, student), (starts_on, ends_on) in latest.items()
            if ends_on is None
        ]
        cursor.execute(
            "SELECT s.student_id, g.parent_id FROM rm_guardian g "
            "JOIN rm_guardianship s ON s.nid = g.guardianship_key "
            "WHERE s.school_id = ? AND s.year_start = ? ORDER BY g.nid",
            (school, year_start),
        )
        found.guardians = [(UUID(s), UUID(p)) for s, p in cursor.fetchall()]
        cursor.execute(
            "SELECT a.teacher_id, a.roster_id, a.subject_id, t.starts_on, t.ends_on "
            "FROM rm_assignment a JOIN rm_assignment_stint t ON t.assignment_key = a.nid "
            "WHERE a.school_id = ? AND a.year_start = ? ORDER BY a.nid, t.nid",
            (school, year_start),
        )
        stints: dict[tuple[str, str, str], tuple[str, str | None]] = {}
        for teacher, roster, subject, starts_on, ends_on in cursor.fetchall():
            stints[teacher, roster, subject] = (starts_on, ends_on)
        found.teaching = [
            Teaching(UUID(t), UUID(r), UUID(s), date.fromisoformat(starts_on))
            for (t, r, s), (starts_on, ends_on) in stints.items()
            if ends_on is None
        ]
        cursor.execute(
            "SELECT p.roster_id, p.subject_id, i.number, i.topic, i.hours FROM rm_plan p "
            "JOIN rm_plan_item i ON i.plan_key = p.nid JOIN rm_roster r ON r.roster_id = "
            "p.roster_id WHERE r.school_id = ? AND r.year_start = ? ORDER BY p.nid, i.number",
            (school, year_start),
        )
        plans: dict[tuple[UUID, UUID], list[PlannedItem]] = defaultdict(list)
        for roster, subject, number, topic, hours in cursor.fetchall():
            plans[UUID(roster), UUID(subject)].append(PlannedItem(int(number), topic, int(hours)))
        found.plans = dict(plans)
        found.timetable = _timetable(cursor, school, year_start)
    return found


def _timetable(cursor: Cursor, school: str, year_start: int) -> list[WeeklyLesson]:
    cursor.execute(
        "SELECT t.class_id, e.effective_from, e.weekday, e.slot, e.roster_id, e.subject_id, "
        "e.teacher_id, e.room, r.student_id FROM rm_timetable_entry e "
        "JOIN rm_timetable t ON t.nid = e.timetable_key "
        "LEFT JOIN rm_roster r ON r.roster_id = e.roster_id AND r.kind = 'individual' "
        "WHERE t.school_id = ? AND t.year_start = ? "
        "ORDER BY t.class_id, e.effective_from, e.weekday, e.slot",
        (school, year_start),
    )
    return [
        WeeklyLesson(
            UUID(class_id),
            date.fromisoformat(effective_from),
            int(weekday),
            int(slot),
            UUID(roster),
            UUID(subject),
            UUID(teacher),
            room,
            None if student is None else UUID(student),
        )
        for class_id, effective_from, weekday, slot, roster, subject, teacher, room, student in (
            cursor.fetchall()
        )
    ]


def people_kinds(database: Database, school_id: UUID) -> PeopleKinds:
    """Who, of everyone the school ever had, was a pupil (enrolled in one of its classes), a
    parent (linked to one of its pupils) or a teacher (assigned, or leading a class)."""
    school = school_id.hex
    with database.transaction(write=False, snapshot=True) as cursor:
        cursor.execute(
            "SELECT DISTINCT m.student_id FROM rm_member m JOIN rm_roster r ON r.nid = "
            "m.roster_key WHERE r.school_id = ? AND r.kind = 'class'",
            (school,),
        )
        pupils = frozenset(UUID(row[0]) for row in cursor.fetchall())
        cursor.execute(
            "SELECT DISTINCT g.parent_id FROM rm_guardian g JOIN rm_guardianship s ON s.nid = "
            "g.guardianship_key WHERE s.school_id = ?",
            (school,),
        )
        parents = frozenset(UUID(row[0]) for row in cursor.fetchall())
        cursor.execute(
            "SELECT teacher_id FROM rm_assignment WHERE school_id = ? UNION SELECT "
            "class_teacher_id FROM rm_roster WHERE school_id = ? AND class_teacher_id IS NOT NULL",
            (school, school),
        )
        teachers = frozenset(UUID(row[0]) for row in cursor.fetchall())
    return PeopleKinds(pupils, parents, teachers)
