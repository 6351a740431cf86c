"""What a person reaches in the schools they hold roles in (``GET /me``), and a teacher's lessons
with the state of each (``GET /me/lessons``): the way in for a client that knows nothing but a
login (п. 2.1–2.4, 1.6).

Which parts are read is the caller's to say (``Roles``): a part is read only for a school where
the person holds the role it belongs to, so a guardianship or an assignment left over after a role
was revoked reaches nothing. Nothing here checks more than that: ``api/`` does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, time
from typing import Any
from uuid import UUID

from ejournal.ledger.actor import Role
from ejournal.ledger.database import Cursor, Database
from ejournal.projections.lists import Stint

Roles = Mapping[UUID, frozenset[Role]]
"""School → the roles the person holds there."""

_KIND_ORDER = {"class": 0, "group": 1, "individual": 2}


@dataclass(frozen=True, slots=True)
class YearSpan:
    """A school year as set up: its days, whether it is closed, and its school's time zone."""

    school_id: UUID
    year_start: int
    starts_on: date
    ends_on: date
    closed: bool
    time_zone: str


@dataclass(frozen=True, slots=True)
class ClassRef:
    class_id: UUID
    name: str
    """As the journal writes it: 5«А»."""
    grade: int


@dataclass(frozen=True, slots=True)
class Teaching:
    """A teacher's assignment to a roster's subject (п. 2.3)."""

    assignment_id: UUID
    roster_id: UUID
    roster_kind: str
    roster_name: str
    school_class: ClassRef
    subject_id: UUID
    subject: str
    student_id: UUID | None
    """The pupil of an individual curriculum."""
    stints: tuple[Stint, ...]


@dataclass(frozen=True, slots=True)
class Child:
    student_id: UUID
    school_class: ClassRef | None
    """The class the child is, or was last, in that school year."""


@dataclass(frozen=True, slots=True)
class YearReach:
    year: YearSpan
    teaching: tuple[Teaching, ...]
    class_teacher_of: tuple[ClassRef, ...]
    children: tuple[Child, ...]
    own_class: ClassRef | None


@dataclass(frozen=True, slots=True)
class SchoolReach:
    school_id: UUID
    name: str
    time_zone: str
    roles: frozenset[Role]
    years: tuple[YearReach, ...]
    """Oldest first."""


@dataclass(frozen=True, slots=True)
class TeacherLesson:
    """A lesson of a teacher's, and how far its journal is kept (п. 2.5–2.7)."""

    lesson_id: UUID
    school_id: UUID
    year_start: int
    on: date
    slot: int
    starts_at: time
    ends_at: time
    roster_id: UUID
    roster_kind: str
    roster_name: str
    school_class: ClassRef
    subject_id: UUID
    subject: str
    topic: str
    plan_item: int | None
    register_taken: bool
    homework_given: bool
    marks: int
    """Current marks (not cancelled)."""
    room: str = ""
    substitute_for: UUID | None = None
    """The lesson's own teacher, when the teacher takes it as a substitute."""
    cancelled: bool = False

    @property
    def topic_set(self) -> bool:
        return bool(self.topic) or self.plan_item is not None


SchoolYear = tuple[str, int]
"""(school ID as hex, year start)."""


def _in(column: str, count: int) -> str:
    return f"{column} IN ({', '.join('?' * count)})"


def _class_ref(class_id: str, name: str | None, grade: int | None) -> ClassRef:
    return ClassRef(UUID(class_id), name or "", int(grade or 0))


@dataclass(frozen=True, slots=True)
class _Reached:
    """What one person reaches, by school year."""

    teaching: Mapping[SchoolYear, list[Teaching]]
    led: Mapping[SchoolYear, list[ClassRef]]
    children: Mapping[SchoolYear, list[Child]]
    own: Mapping[SchoolYear, ClassRef]

    def year(self, school: str, year: YearSpan) -> YearReach:
        key = (school, year.year_start)
        return YearReach(
            year,
            tuple(self.teaching.get(key, ())),
            tuple(self.led.get(key, ())),
            tuple(self.children.get(key, ())),
            self.own.get(key),
        )


class Reach:
    """The reach of people in one database's read models."""

    def __init__(self, database: Database) -> None:
        self._database = database

    @contextmanager
    def _snapshot(self) -> Iterator[Cursor]:
        with self._database.transaction(write=False, snapshot=True) as cursor:
            yield cursor

    def schools(self, person_id: UUID, roles: Roles) -> list[SchoolReach]:
        """Each school of ``roles`` (that the read models know) with its years, oldest first,
        and in each year what the person reaches by the roles they hold there."""
        if not roles:
            return []
        with self._snapshot() as cursor:
            schools = _schools(cursor, [s.hex for s in roles])
            years = _years(cursor, list(schools))
            reached = _reach(cursor, person_id.hex, roles)
        found = [
            SchoolReach(
                UUID(school),
                name,
                zone,
                roles[UUID(school)],
                tuple(reached.year(school, year) for year in years.get(school, ())),
            )
            for school, (name, zone) in schools.items()
        ]
        return sorted(found, key=lambda s: (s.name, s.school_id.hex))

    def time_zones(self, school_ids: Sequence[UUID]) -> dict[UUID, str]:
        """The time zone of each school the read models know."""
        with self._snapshot() as cursor:
            schools = _schools(cursor, [s.hex for s in school_ids])
        return {UUID(school): zone for school, (_, zone) in schools.items()}

    def lessons(
        self, teacher_id: UUID, school_ids: Sequence[UUID], first: date, last: date
    ) -> list[TeacherLesson]:
        """The teacher's lessons in those schools from ``first`` to ``last`` (both included), by
        day, start and slot, each with the state of its journal: those the teacher teaches,
        as a substitute too, and not those a substitute takes instead; cancelled ones marked."""
        if not school_ids:
            return []
        with self._snapshot() as cursor:
            years = _overlapping_years(cursor, [s.hex for s in school_ids], first, last)
            if not years:
                return []
            # By school year, so that the (school, year, day) index finds the days.
            pairs = " OR ".join(["(l.school_id = ? AND l.year_start = ?)"] * len(years))
            cursor.execute(
                f"SELECT {_LESSON_COLUMNS} {_LESSON_FROM} WHERE ({pairs}) "
                "AND l.held_on BETWEEN ? AND ? AND l.teacher_id = ? "
                "ORDER BY l.held_on, l.starts_at, l.slot, l.lesson_id",
                (
                    *(v for pair in years for v in pair),
                    first.isoformat(),
                    last.isoformat(),
                    teacher_id.hex,
                ),
            )
            return [_teacher_lesson(row) for row in cursor.fetchall()]


_LESSON_COLUMNS = (
    "l.lesson_id, l.school_id, l.year_start, l.held_on, l.slot, l.starts_at, l.ends_at, "
    "l.roster_id, l.roster_kind, r.name, l.class_id, k.name, k.grade, l.subject_id, s.name, "
    "l.topic, l.plan_item, l.registers, l.homework_text, "
    "(SELECT COUNT(*) FROM rm_mark m WHERE m.lesson_key = l.nid AND m.cancelled = 0), "
    "l.room, l.substitute_for, l.cancelled"
)
_LESSON_FROM = (
    "FROM rm_lesson l "
    "LEFT JOIN rm_roster r ON r.roster_id = l.roster_id "
    "LEFT JOIN rm_roster k ON k.roster_id = l.class_id "
    "LEFT JOIN rm_year y ON y.school_id = l.school_id AND y.year_start = l.year_start "
    "LEFT JOIN rm_subject s ON s.year_key = y.nid AND s.subject_id = l.subject_id"
)


def _teacher_lesson(row: Sequence[Any]) -> TeacherLesson:
    (lesson_id, school_id, year_start, held_on, slot, starts_at, ends_at, roster_id, kind) = row[:9]
    (roster_name, class_id, class_name, grade, subject_id, subject, topic, plan_item) = row[9:17]
    registers, homework, marks, room, substitute_for, cancelled = row[17:23]
    return TeacherLesson(
        lesson_id=UUID(lesson_id),
        school_id=UUID(school_id),
        year_start=int(year_start),
        on=date.fromisoformat(held_on),
        slot=int(slot),
        starts_at=time.fromisoformat(starts_at),
        ends_at=time.fromisoformat(ends_at),
        roster_id=UUID(roster_id),
        roster_kind=kind,
        roster_name=roster_name or "",
        school_class=_class_ref(class_id, class_name, grade),
        subject_id=UUID(subject_id),
        subject=subject or "",
        topic=topic,
        plan_item=None if plan_item is None else int(plan_item),
        register_taken=int(registers) > 0,
        homework_given=homework is not None,
        marks=int(marks),
        room=room,
        substitute_for=None if substitute_for is None else UUID(substitute_for),
        cancelled=bool(cancelled),
    )


def _reach(cursor: Cursor, person: str, roles: Roles) -> _Reached:
    """What the person reaches in each school by the roles held there."""
    holding = {role: [s.hex for s, held in roles.items() if role in held] for role in Role}
    children = _children(cursor, person, holding[Role.PARENT])
    pupils = {child for kids in children.values() for child in kids}
    if holding[Role.STUDENT]:
        pupils.add(person)
    classes = _classes_of(cursor, sorted(pupils))
    own = set(holding[Role.STUDENT])
    return _Reached(
        _teaching(cursor, person, holding[Role.TEACHER]),
        _led_classes(cursor, person, holding[Role.CLASS_TEACHER]),
        {
            key: [Child(UUID(kid), classes.get((kid, *key))) for kid in kids]
            for key, kids in children.items()
        },
        {(s, y): ref for (p, s, y), ref in classes.items() if p == person and s in own},
    )


def _schools(cursor: Cursor, schools: Sequence[str]) -> dict[str, tuple[str, str]]:
    """School → (name, time zone)."""
    if not schools:
        return {}
    cursor.execute(
        f"SELECT school_id, name, time_zone FROM rm_school WHERE {_in('school_id', len(schools))}",
        list(schools),
    )
    return {school: (name, zone) for school, name, zone in cursor.fetchall()}


def _years(cursor: Cursor, schools: Sequence[str]) -> dict[str, list[YearSpan]]:
    found: dict[str, list[YearSpan]] = defaultdict(list)
    if not schools:
        return found
    cursor.execute(
        "SELECT y.school_id, y.year_start, y.starts_on, y.ends_on, y.closed, s.time_zone "
        "FROM rm_year y JOIN rm_school s ON s.school_id = y.school_id "
        f"WHERE {_in('y.school_id', len(schools))} ORDER BY y.year_start",
        list(schools),
    )
    for school, year_start, starts_on, ends_on, closed, zone in cursor.fetchall():
        found[school].append(
            YearSpan(
                UUID(school),
                int(year_start),
                date.fromisoformat(starts_on),
                date.fromisoformat(ends_on),
                bool(closed),
                zone,
            )
        )
    return found


def _overlapping_years(
    cursor: Cursor, schools: Sequence[str], first: date, last: date
) -> list[SchoolYear]:
    cursor.execute(
        f"SELECT school_id, year_start FROM rm_year WHERE {_in('school_id', len(schools))} "
        "AND starts_on <= ? AND ends_on >= ? ORDER BY school_id, year_start",
        (*schools, last.isoformat(), first.isoformat()),
    )
    return [(school, int(year_start)) for school, year_start in cursor.fetchall()]


def _teaching(
    cursor: Cursor, person: str, schools: Sequence[str]
) -> dict[SchoolYear, list[Teaching]]:
    found: dict[SchoolYear, list[Teaching]] = defaultdict(list)
    if not schools:
        return found
    cursor.execute(
        "SELECT a.nid, a.assignment_id, a.school_id, a.year_start, a.roster_id, r.kind, r.name, "
        "r.class_id, k.name, k.grade, a.subject_id, s.name, r.student_id, s.nid "
        "FROM rm_assignment a JOIN rm_roster r ON r.roster_id = a.roster_id "
        "LEFT JOIN rm_roster k ON k.roster_id = r.class_id "
        "LEFT JOIN rm_year y ON y.school_id = a.school_id AND y.year_start = a.year_start "
        "LEFT JOIN rm_subject s ON s.year_key = y.nid AND s.subject_id = a.subject_id "
        f"WHERE a.teacher_id = ? AND {_in('a.school_id', len(schools))}",
        (person, *schools),
    )
    rows = cursor.fetchall()
    stints = _assignment_stints(cursor, [int(row[0]) for row in rows])
    ordered = sorted(
        rows,
        key=lambda r: (
            int(r[9] or 0),
            r[8] or "",
            _KIND_ORDER.get(r[5], 3),
            r[6],
            r[13] or 0,
            r[1],
        ),
    )
    for nid, assignment, school, year_start, roster, kind, name, class_id, *rest in ordered:
        class_name, grade, subject_id, subject, student, _ = rest
        found[(school, int(year_start))].append(
            Teaching(
                UUID(assignment),
                UUID(roster),
                kind,
                name,
                _class_ref(class_id, class_name, grade),
                UUID(subject_id),
                subject or "",
                None if student is None else UUID(student),
                tuple(stints.get(int(nid), ())),
            )
        )
    return found


def _assignment_stints(cursor: Cursor, keys: Sequence[int]) -> dict[int, list[Stint]]:
    found: dict[int, list[Stint]] = defaultdict(list)
    if not keys:
        return found
    cursor.execute(
        "SELECT assignment_key, starts_on, ends_on FROM rm_assignment_stint "
        f"WHERE {_in('assignment_key', len(keys))} ORDER BY starts_on, nid",
        list(keys),
    )
    for key, starts_on, ends_on in cursor.fetchall():
        found[int(key)].append(
            Stint(
                date.fromisoformat(starts_on),
                None if ends_on is None else date.fromisoformat(ends_on),
            )
        )
    return found


def _led_classes(
    cursor: Cursor, person: str, schools: Sequence[str]
) -> dict[SchoolYear, list[ClassRef]]:
    found: dict[SchoolYear, list[ClassRef]] = defaultdict(list)
    if not schools:
        return found
    cursor.execute(
        "SELECT school_id, year_start, roster_id, name, grade FROM rm_roster "
        f"WHERE kind = 'class' AND class_teacher_id = ? AND {_in('school_id', len(schools))} "
        "ORDER BY grade, roster_id",
        (person, *schools),
    )
    for school, year_start, class_id, name, grade in cursor.fetchall():
        found[(school, int(year_start))].append(_class_ref(class_id, name, grade))
    return found


def _children(cursor: Cursor, person: str, schools: Sequence[str]) -> dict[SchoolYear, list[str]]:
    """(school, year start) → the children the person is linked to as a parent that year."""
    found: dict[SchoolYear, list[str]] = defaultdict(list)
    if not schools:
        return found
    cursor.execute(
        "SELECT s.school_id, s.year_start, s.student_id FROM rm_guardian g "
        "JOIN rm_guardianship s ON s.nid = g.guardianship_key "
        f"WHERE g.parent_id = ? AND {_in('s.school_id', len(schools))} "
        "ORDER BY s.school_id, s.year_start, s.student_id",
        (person, *schools),
    )
    for school, year_start, student in cursor.fetchall():
        found[(school, int(year_start))].append(student)
    return found


def _classes_of(cursor: Cursor, students: Sequence[str]) -> dict[tuple[str, str, int], ClassRef]:
    """(student, school, year start) → the class the student is, or was last, enrolled in."""
    found: dict[tuple[str, str, int], ClassRef] = {}
    if not students:
        return found
    cursor.execute(
        "SELECT m.student_id, r.school_id, r.year_start, r.roster_id, r.name, r.grade "
        "FROM rm_member m JOIN rm_roster r ON r.nid = m.roster_key "
        f"WHERE r.kind = 'class' AND {_in('m.student_id', len(students))} "
        "ORDER BY m.starts_on, m.nid",
        list(students),
    )
    for student, school, year_start, class_id, name, grade in cursor.fetchall():
        found[(student, school, int(year_start))] = _class_ref(
            class_id, name, grade
        )  # the last wins
    return found
