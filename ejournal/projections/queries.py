"""The read API the HTTP layer calls: the class journal page, the diary, the summary sheet, and the
monitor of journal keeping (``projections.monitor``).

Each call reads in one read-only transaction (a snapshot on both databases) and returns frozen
dataclasses (``projections.views``). Nothing here checks who may read what: ``api/`` does, before
it calls. Queries see what the projector has applied so far; ``Projector.wait_until`` makes a
caller wait for its own write.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from ejournal.integrity.leaf import from_micros
from ejournal.ledger.clock import Clock, system_clock
from ejournal.ledger.database import Cursor, Database
from ejournal.projections.errors import NotProjected
from ejournal.projections.monitor import Monitor, monitor
from ejournal.projections.progress import Progress, progress, school_year
from ejournal.projections.storage import read_tracking
from ejournal.projections.views import (
    AVERAGE_PLACES,
    AttestationMark,
    Average,
    Cell,
    Change,
    ClassJournal,
    Comment,
    Diary,
    DiaryDay,
    DiaryLesson,
    Homework,
    JournalRow,
    Lesson,
    Mark,
    Message,
    PeriodSpan,
    Provenance,
    Subject,
    SummaryCell,
    SummaryRow,
    SummarySheet,
)

PROVENANCE = "nid, actor_id, session_id, credential_version, recorded_at"


Version = tuple[int, int] | None
"""(position, schema version) of the read models; None before the projector's first run."""

SchoolYearKey = tuple[UUID, int]
"""(school ID, year start): the school year a read is kept to."""


@dataclass(frozen=True, slots=True)
class SchoolTies:
    """What the read models know of a person in one school (``Queries.ties``)."""

    pupil: bool
    """Enrolled in one of its classes, in some year."""
    parent: bool
    """Linked as a parent to one of its students, in some year."""
    accounts: tuple[UUID, ...]
    """The person's accounts, in any school."""


def provenance_columns(alias: str) -> str:
    """The provenance columns of the table aliased ``alias``, for a SELECT."""
    return ", ".join(f"{alias}.{column}" for column in PROVENANCE.split(", "))


def provenance(values: Sequence[Any]) -> Provenance:
    """The ``Provenance`` of the five stored provenance columns."""
    nid, actor_id, session_id, credential_version, recorded_at = values
    return Provenance(
        int(nid),
        UUID(actor_id),
        UUID(session_id),
        int(credential_version),
        from_micros(recorded_at),
    )


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _in(column: str, count: int) -> str:
    return f"{column} IN ({', '.join('?' * count)})"


class Queries:
    """The read models of one database."""

    def __init__(self, database: Database, *, clock: Clock = system_clock) -> None:
        self._database = database
        self._clock = clock

    @contextmanager
    def _snapshot(self) -> Iterator[Cursor]:
        with self._database.transaction(write=False, snapshot=True) as cursor:
            yield cursor

    # --- the class journal ---------------------------------------------------------------------

    def class_journal(
        self,
        roster_id: UUID,
        subject_id: UUID,
        start: date | None = None,
        end: date | None = None,
    ) -> ClassJournal:
        """The journal page of a class, group or individual curriculum in a subject (п. 2.3–2.7):
        its lessons from ``start`` to ``end`` (both included; open if None) by date and slot, and
        the grid of the roster's students in that time × those lessons."""
        first, last = (start or date.min).isoformat(), (end or date.max).isoformat()
        with self._snapshot() as cursor:
            lessons = _lessons(
                cursor,
                "l.roster_id = ? AND l.subject_id = ? AND l.held_on BETWEEN ? AND ?",
                (roster_id.hex, subject_id.hex, first, last),
            )
            keys = [key for key, _ in lessons]
            marks = _marks(cursor, keys, student_id=None)
            attendance = _attendance(cursor, keys, student_id=None)
            cursor.execute(
                "SELECT m.student_id, MIN(m.starts_on) FROM rm_member m "
                "JOIN rm_roster r ON r.nid = m.roster_key WHERE r.roster_id = ? "
                "AND m.starts_on <= ? AND (m.ends_on IS NULL OR m.ends_on > ?) "
                "GROUP BY m.student_id",
                (roster_id.hex, last, first),
            )
            students = sorted(cursor.fetchall(), key=lambda row: (row[1], row[0]))
        rows = tuple(
            JournalRow(
                UUID(student),
                tuple(
                    Cell(attendance.get((key, student)), tuple(marks.get((key, student), ())))
                    for key, _ in lessons
                ),
            )
            for student, _ in students
        )
        return ClassJournal(
            roster_id, subject_id, start, end, tuple(lesson for _, lesson in lessons), rows
        )

    # --- the diary -------------------------------------------------------------------------------

    def diary(self, student_id: UUID, week: date, *, school: SchoolYearKey | None = None) -> Diary:
        """The student's diary (п. 1.5) for the week (Monday to Sunday) that contains ``week``."""
        monday = week - timedelta(days=week.weekday())
        return self.diary_days(student_id, monday, monday + timedelta(days=6), school=school)

    def diary_days(
        self, student_id: UUID, start: date, end: date, *, school: SchoolYearKey | None = None
    ) -> Diary:
        """The student's diary from ``start`` to ``end`` (both included): for every day, the
        lessons of the student's class, groups and individual curricula with their topics,
        homework, the student's attendance, marks and comments, and the messages to parents.

        With ``school`` (school ID, year start), only that school year's: the rosters, lessons
        and messages of that school in that year, whatever the student did elsewhere."""
        return self.diary_at_version(student_id, start, end, school=school)[1]

    def version(self) -> Version:
        """What the read models are a projection of: the ledger's events up to a notification ID,
        by one schema. Two reads at the same version see the same read models."""
        with self._database.transaction(write=False) as cursor:
            return read_tracking(cursor)

    def diary_at_version(
        self, student_id: UUID, start: date, end: date, *, school: SchoolYearKey | None = None
    ) -> tuple[Version, Diary]:
        """``diary_days`` and the version of the read models it was read from."""
        with self._snapshot() as cursor:
            return read_tracking(cursor), _diary(cursor, student_id, start, end, school)

    def progress(
        self, student_id: UUID, school_id: UUID, year_start: int, *, places: int = AVERAGE_PLACES
    ) -> Progress:
        """The pupil's marks in the school's year, subject by subject and period by period
        (``projections.progress``), from the year's diary in the same snapshot. Raises
        ``NotProjected`` if the read models have no such school year."""
        with self._snapshot() as cursor:
            year = school_year(cursor, school_id, year_start)
            if year is None:
                raise NotProjected("учебный год не найден")
            school = (school_id, year_start)
            diary = _diary(cursor, student_id, year.starts_on, year.ends_on, school)
            return progress(cursor, diary, school_id, year_start, year, places=places)

    def lesson_mark(self, lesson_id: UUID, mark_id: UUID) -> tuple[Lesson, Mark] | None:
        """A mark of a lesson as the read models hold it, with its lesson: its current value,
        its history and the provenance of each operation (whose ledger entries a receipt
        proves). None if they hold no such mark (unknown, not projected yet, or left out by a
        п. 4.4 rule)."""
        with self._snapshot() as cursor:
            lessons = _lessons(cursor, "l.lesson_id = ?", (lesson_id.hex,))
            if not lessons:
                return None
            ((key, lesson),) = lessons
            for marks in _marks(cursor, [key], student_id=None).values():
                for mark in marks:
                    if mark.mark_id == mark_id:
                        return lesson, mark
        return None

    def student_class(self, school_id: UUID, year_start: int, student_id: UUID) -> UUID | None:
        """The class the student is, or was last, enrolled in that school year."""
        with self._snapshot() as cursor:
            cursor.execute(
                "SELECT r.roster_id FROM rm_member m JOIN rm_roster r ON r.nid = m.roster_key "
                "WHERE m.student_id = ? AND r.kind = 'class' AND r.school_id = ? "
                "AND r.year_start = ? ORDER BY m.starts_on DESC, m.nid DESC LIMIT 1",
                (student_id.hex, school_id.hex, year_start),
            )
            row = cursor.fetchone()
        return None if row is None else UUID(row[0])

    def teaches_in(self, school_id: UUID, year_start: int, teacher_id: UUID) -> bool:
        """Whether the person is assigned to teach in, or is the class teacher of, a roster of
        the school's year: a teacher of that school that year (п. 2.2, 2.3)."""
        with self._snapshot() as cursor:
            cursor.execute(
                "SELECT 1 FROM rm_assignment WHERE school_id = ? AND year_start = ? "
                "AND teacher_id = ? UNION ALL SELECT 1 FROM rm_roster WHERE school_id = ? "
                "AND year_start = ? AND class_teacher_id = ? LIMIT 1",
                (school_id.hex, year_start, teacher_id.hex) * 2,
            )
            return cursor.fetchone() is not None

    def ties(self, person_id: UUID, school_id: UUID) -> SchoolTies:
        """What ties the person to the school, in any of its years: enrolled in one of its
        classes, linked as a parent to one of its students, and the person's accounts (whose
        grants in the school the caller checks in the ledger)."""
        person, school = person_id.hex, school_id.hex
        with self._snapshot() as cursor:
            cursor.execute(
                "SELECT 1 FROM rm_member m JOIN rm_roster r ON r.nid = m.roster_key "
                "WHERE m.student_id = ? AND r.school_id = ? LIMIT 1",
                (person, school),
            )
            pupil = cursor.fetchone() is not None
            cursor.execute(
                "SELECT 1 FROM rm_guardian g JOIN rm_guardianship s ON s.nid = g.guardianship_key "
                "WHERE g.parent_id = ? AND s.school_id = ? LIMIT 1",
                (person, school),
            )
            parent = cursor.fetchone() is not None
            cursor.execute(
                "SELECT account_id FROM rm_account WHERE person_id = ? ORDER BY account_id",
                (person,),
            )
            accounts = tuple(UUID(row[0]) for row in cursor.fetchall())
        return SchoolTies(pupil, parent, accounts)

    # --- the summary sheet -----------------------------------------------------------------------

    def summary_sheet(
        self, class_id: UUID, period: str | None = None, *, places: int = AVERAGE_PLACES
    ) -> SummarySheet:
        """The summary sheet of a class (п. 2.9): students × subjects × period marks with the
        weighted average of each period's current marks (shown to ``places`` decimal places),
        and the year, exam and final marks.

        With ``period``, only that period's column. Raises ``NotProjected`` for an unknown class
        or period.
        """
        with self._snapshot() as cursor:
            cursor.execute(
                "SELECT nid, school_id, year_start, name, period_scheme FROM rm_roster "
                "WHERE roster_id = ? AND kind = 'class'",
                (class_id.hex,),
            )
            found = cursor.fetchone()
            if found is None:
                raise NotProjected("класс не найден")
            class_key, school_id, year_start, class_name, scheme = found
            year_key = _year_key(cursor, school_id, year_start)
            cursor.execute(
                "SELECT name, starts_on, ends_on FROM rm_period WHERE year_key = ? AND scheme = ? "
                "ORDER BY ordinal",
                (year_key, scheme),
            )
            periods = [
                PeriodSpan(name, date.fromisoformat(s), date.fromisoformat(e))
                for name, s, e in cursor.fetchall()
                if period is None or name == period
            ]
            if period is not None and not periods:
                raise NotProjected(f"в схеме периодов класса нет периода «{period}»")
            cursor.execute(
                "SELECT student_id, MIN(starts_on) FROM rm_member WHERE roster_key = ? "
                "GROUP BY student_id",
                (class_key,),
            )
            students = [s for s, _ in sorted(cursor.fetchall(), key=lambda r: (r[1], r[0]))]
            attestation = _attestation(cursor, class_id.hex, school_id, year_start)
            marks = _period_marks(cursor, class_id.hex, periods)
            subjects = _sheet_subjects(cursor, class_id.hex, year_key, attestation)
        rows = []
        for student in students:
            cells = []
            for subject in subjects:
                own = attestation.get((student, subject.subject_id.hex), {})
                cells.append(
                    SummaryCell(
                        subject.subject_id,
                        tuple(own.get(("period", p.name)) for p in periods),
                        tuple(
                            _average(p, marks.get((student, subject.subject_id.hex), ()), places)
                            for p in periods
                        ),
                        own.get(("year", "")),
                        own.get(("exam", "")),
                        own.get(("final", "")),
                    )
                )
            rows.append(SummaryRow(UUID(student), tuple(cells)))
        return SummarySheet(
            class_id,
            class_name,
            UUID(school_id),
            int(year_start),
            tuple(periods),
            tuple(subjects),
            tuple(rows),
        )

    # --- the monitor -----------------------------------------------------------------------------

    def monitor(
        self,
        school_id: UUID,
        year_start: int,
        *,
        teacher_id: UUID | None = None,
        class_id: UUID | None = None,
        now: datetime | None = None,
    ) -> Monitor:
        """The monitor of journal keeping (п. 2.2, 2.5–2.8) of a school's year, as of ``now``
        (the server clock by default), for the whole school, one teacher or one class."""
        with self._snapshot() as cursor:
            return monitor(
                cursor,
                school_id,
                year_start,
                teacher_id=teacher_id,
                class_id=class_id,
                now=now or self._clock(),
            )


# --- reading the tables ---------------------------------------------------------------------

_LESSON_COLUMNS = (
    "l.nid, l.lesson_id, l.roster_id, l.class_id, l.subject_id, s.name, l.teacher_id, l.held_on, "
    "l.slot, l.starts_at, l.ends_at, l.topic, l.plan_item, pi.topic, l.homework_text, "
    "l.homework_pages, l.homework_tasks, l.homework_due_on, l.homework_first_at, "
    "l.actor_id, l.session_id, l.credential_version, l.recorded_at, "
    "l.room, l.substitute_for, l.substitution_reason, l.cancelled, l.cancel_reason"
)
_LESSON_FROM = (
    "FROM rm_lesson l "
    "LEFT JOIN rm_year y ON y.school_id = l.school_id AND y.year_start = l.year_start "
    "LEFT JOIN rm_subject s ON s.year_key = y.nid AND s.subject_id = l.subject_id "
    "LEFT JOIN rm_plan p ON p.roster_id = l.roster_id AND p.subject_id = l.subject_id "
    "LEFT JOIN rm_plan_item pi ON pi.plan_key = p.nid AND pi.number = l.plan_item"
)


def _lessons(cursor: Cursor, where: str, params: Sequence[Any]) -> list[tuple[int, Lesson]]:
    """(key, lesson) of the lessons ``where`` selects, by date and slot."""
    cursor.execute(
        f"SELECT {_LESSON_COLUMNS} {_LESSON_FROM} WHERE {where} ORDER BY l.held_on, l.slot",
        params,
    )
    rows = cursor.fetchall()
    history = _history(cursor, "homework", [row[0] for row in rows if row[14] is not None])
    lessons = []
    for row in rows:
        key = int(row[0])
        homework = None
        if row[14] is not None:
            homework = Homework(
                row[14],
                row[15] or "",
                row[16] or "",
                _day(row[17]),
                from_micros(row[18]),
                tuple(history.get((key, ""), ())),
            )
        lesson = Lesson(
            lesson_id=UUID(row[1]),
            roster_id=UUID(row[2]),
            class_id=UUID(row[3]),
            subject_id=UUID(row[4]),
            subject=row[5] or "",
            teacher_id=UUID(row[6]),
            on=date.fromisoformat(row[7]),
            slot=int(row[8]),
            starts_at=time.fromisoformat(row[9]),
            ends_at=time.fromisoformat(row[10]),
            topic=row[11],
            plan_item=row[12],
            plan_topic=row[13],
            homework=homework,
            provenance=provenance((key, *row[19:23])),
            room=row[23],
            substitute_for=None if row[24] is None else UUID(row[24]),
            substitution_reason=row[25],
            cancellation_reason=(row[27] or "") if row[26] else None,
        )
        lessons.append((key, lesson))
    return lessons


def _diary(
    cursor: Cursor, student_id: UUID, start: date, end: date, school: SchoolYearKey | None
) -> Diary:
    """The student's diary from ``start`` to ``end`` (``Queries.diary_days``), read with
    ``cursor``."""
    student = student_id.hex
    first, last = start.isoformat(), end.isoformat()
    in_school, school_params = _school_year("r", school)
    cursor.execute(
        "SELECT r.roster_id, r.class_id, m.starts_on, m.ends_on FROM rm_member m "
        "JOIN rm_roster r ON r.nid = m.roster_key WHERE m.student_id = ? "
        f"AND m.starts_on <= ? AND (m.ends_on IS NULL OR m.ends_on > ?){in_school}",
        (student, last, first, *school_params),
    )
    stints: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    class_of: dict[str, str] = {}
    for roster_id, class_id, starts_on, ends_on in cursor.fetchall():
        stints[roster_id].append((starts_on, ends_on))
        class_of[roster_id] = class_id
    lessons: list[tuple[int, Lesson]] = []
    if stints:
        where = _in("l.roster_id", len(stints)) + " AND l.held_on BETWEEN ? AND ?"
        candidates = _lessons(cursor, where, (*stints, first, last))

        def member(roster_id: str, day: str) -> bool:
            return any(s <= day and (e is None or day < e) for s, e in stints.get(roster_id, ()))

        lessons = [
            (key, lesson)
            for key, lesson in candidates
            if member(lesson.roster_id.hex, lesson.on.isoformat())
            and member(class_of[lesson.roster_id.hex], lesson.on.isoformat())
        ]
    keys = [key for key, _ in lessons]
    marks = _marks(cursor, keys, student_id=student)
    attendance = _attendance(cursor, keys, student_id=student)
    comments = _comments(cursor, keys, student)
    messages = _messages(cursor, student, first, last, school)
    by_day: dict[date, list[DiaryLesson]] = defaultdict(list)
    for key, lesson in lessons:
        by_day[lesson.on].append(
            DiaryLesson(
                lesson,
                attendance.get((key, student)),
                tuple(marks.get((key, student), ())),
                tuple(comments.get(key, ())),
            )
        )
    days = []
    day = start
    while day <= end:
        entries = sorted(by_day.get(day, ()), key=lambda e: (e.lesson.starts_at, e.lesson.slot))
        sent = tuple(m for m in messages if m.sent_on == day)
        days.append(DiaryDay(day, tuple(entries), sent))
        day += timedelta(days=1)
    return Diary(student_id, start, end, tuple(days))


def _history(
    cursor: Cursor, item: str, owner_keys: Sequence[int]
) -> dict[tuple[int, str], list[Change]]:
    """(owner key, item ID) → the item's changes, oldest first."""
    changes: dict[tuple[int, str], list[Change]] = defaultdict(list)
    if not owner_keys:
        return changes
    cursor.execute(
        f"SELECT owner_key, item_id, action, value, reason, {PROVENANCE} FROM rm_history "
        f"WHERE item = ? AND {_in('owner_key', len(owner_keys))} ORDER BY nid",
        (item, *owner_keys),
    )
    for owner_key, item_id, action, value, reason, *prov in cursor.fetchall():
        changes[(int(owner_key), item_id)].append(Change(action, value, reason, provenance(prov)))
    return changes


def _marks(
    cursor: Cursor, keys: Sequence[int], *, student_id: str | None
) -> dict[tuple[int, str], list[Mark]]:
    """(lesson key, student) → the marks, in the order they were recorded."""
    found: dict[tuple[int, str], list[Mark]] = defaultdict(list)
    if not keys:
        return found
    where = _in("m.lesson_key", len(keys))
    params: list[Any] = list(keys)
    if student_id is not None:
        where += " AND m.student_id = ?"
        params.append(student_id)
    cursor.execute(
        "SELECT m.lesson_key, l.lesson_id, m.mark_id, m.student_id, m.value, m.first_value, "
        "m.work_type_id, w.name, m.weight, m.checked_on, m.cancelled, "
        f"{provenance_columns('m')} "
        "FROM rm_mark m JOIN rm_lesson l ON l.nid = m.lesson_key "
        "LEFT JOIN rm_year y ON y.school_id = l.school_id AND y.year_start = l.year_start "
        "LEFT JOIN rm_work_type w ON w.year_key = y.nid AND w.work_type_id = m.work_type_id "
        f"WHERE {where} ORDER BY m.nid",
        params,
    )
    rows = cursor.fetchall()
    history = _history(cursor, "mark", sorted({int(row[0]) for row in rows}))
    for row in rows:
        key = int(row[0])
        found[(key, row[3])].append(
            Mark(
                mark_id=UUID(row[2]),
                lesson_id=UUID(row[1]),
                student_id=UUID(row[3]),
                value=int(row[4]),
                first_value=int(row[5]),
                work_type_id=UUID(row[6]),
                work_type=row[7] or "",
                weight=Decimal(row[8]),
                checked_on=_day(row[9]),
                cancelled=bool(row[10]),
                history=tuple(history.get((key, row[2]), ())),
                provenance=provenance(row[11:16]),
            )
        )
    return found


def _attendance(
    cursor: Cursor, keys: Sequence[int], *, student_id: str | None
) -> dict[tuple[int, str], str]:
    """(lesson key, student) → the code of the current register."""
    if not keys:
        return {}
    where = _in("lesson_key", len(keys))
    params: list[Any] = list(keys)
    if student_id is not None:
        where += " AND student_id = ?"
        params.append(student_id)
    cursor.execute(f"SELECT lesson_key, student_id, code FROM rm_attendance WHERE {where}", params)
    return {(int(key), student): code for key, student, code in cursor.fetchall()}


def _comments(cursor: Cursor, keys: Sequence[int], student_id: str) -> dict[int, list[Comment]]:
    found: dict[int, list[Comment]] = defaultdict(list)
    if not keys:
        return found
    cursor.execute(
        f"SELECT c.lesson_key, l.lesson_id, c.comment_id, c.text, {provenance_columns('c')} "
        "FROM rm_comment c JOIN rm_lesson l ON l.nid = c.lesson_key "
        f"WHERE {_in('c.lesson_key', len(keys))} AND c.student_id = ? ORDER BY c.nid",
        (*keys, student_id),
    )
    for key, lesson_id, comment_id, text, *prov in cursor.fetchall():
        found[int(key)].append(Comment(UUID(comment_id), UUID(lesson_id), text, provenance(prov)))
    return found


def _messages(
    cursor: Cursor, student_id: str, first: str, last: str, school: SchoolYearKey | None
) -> list[Message]:
    in_school, school_params = _school_year("rm_message", school)
    cursor.execute(
        "SELECT message_id, roster_id, subject_id, author_id, text, sent_on, "
        f"{PROVENANCE} FROM rm_message WHERE student_id = ? AND sent_on BETWEEN ? AND ?"
        f"{in_school} ORDER BY nid",
        (student_id, first, last, *school_params),
    )
    return [
        Message(
            UUID(message_id),
            UUID(roster_id),
            UUID(subject_id),
            UUID(author_id),
            text,
            date.fromisoformat(sent_on),
            provenance(prov),
        )
        for message_id, roster_id, subject_id, author_id, text, sent_on, *prov in cursor.fetchall()
    ]


def _school_year(alias: str, school: SchoolYearKey | None) -> tuple[str, tuple[Any, ...]]:
    """The condition (and its parameters) that keeps rows of ``alias`` to the school's year."""
    if school is None:
        return "", ()
    school_id, year_start = school
    return f" AND {alias}.school_id = ? AND {alias}.year_start = ?", (school_id.hex, year_start)


def _year_key(cursor: Cursor, school_id: str, year_start: int) -> int | None:
    cursor.execute(
        "SELECT nid FROM rm_year WHERE school_id = ? AND year_start = ?", (school_id, year_start)
    )
    row = cursor.fetchone()
    return None if row is None else int(row[0])


AttestationMarks = dict[tuple[str, str], dict[tuple[str, str], AttestationMark]]
"""(student, subject) → (kind, period or '') → the mark."""


def _attestation(
    cursor: Cursor, class_id: str, school_id: str, year_start: int
) -> AttestationMarks:
    """The attestation marks given in the class's rosters (its own, its groups', its students'
    individual curricula)."""
    cursor.execute(
        "SELECT r.student_id, r.subject_id, a.record_key, a.kind, a.period, a.value, "
        f"{provenance_columns('a')} "
        "FROM rm_attestation_record r JOIN rm_attestation a ON a.record_key = r.nid "
        "WHERE r.school_id = ? AND r.year_start = ? "
        "AND a.roster_id IN (SELECT roster_id FROM rm_roster WHERE class_id = ?)",
        (school_id, year_start, class_id),
    )
    rows = cursor.fetchall()
    history = _history(cursor, "attestation", sorted({int(row[2]) for row in rows}))
    found: AttestationMarks = defaultdict(dict)
    for student, subject, key, kind, period, value, *prov in rows:
        found[(student, subject)][(kind, period)] = AttestationMark(
            kind,
            period or None,
            value,
            tuple(history.get((int(key), f"{kind}/{period}"), ())),
            provenance(prov),
        )
    return found


PeriodMarks = dict[tuple[str, str], list[tuple[date, int, Decimal]]]
"""(student, subject) → (lesson date, current value, weight) of the current marks."""


def _period_marks(cursor: Cursor, class_id: str, periods: Sequence[PeriodSpan]) -> PeriodMarks:
    """The current (not cancelled) marks of the class's lessons within the periods."""
    found: PeriodMarks = defaultdict(list)
    if not periods:
        return found
    cursor.execute(
        "SELECT m.student_id, l.subject_id, l.held_on, m.value, m.weight "
        "FROM rm_lesson l JOIN rm_mark m ON m.lesson_key = l.nid "
        "WHERE l.class_id = ? AND l.held_on BETWEEN ? AND ? AND m.cancelled = 0",
        (
            class_id,
            min(p.starts_on for p in periods).isoformat(),
            max(p.ends_on for p in periods).isoformat(),
        ),
    )
    for student, subject, held_on, value, weight in cursor.fetchall():
        found[(student, subject)].append((date.fromisoformat(held_on), int(value), Decimal(weight)))
    return found


def _average(
    period: PeriodSpan, marks: Sequence[tuple[date, int, Decimal]], places: int = AVERAGE_PLACES
) -> Average:
    """Σ(w·m) and Σw of the marks of lessons within the period: exact decimal arithmetic."""
    weighted_sum = weights = Decimal(0)
    count = 0
    for held_on, value, weight in marks:
        if period.starts_on <= held_on <= period.ends_on:
            weighted_sum += weight * value
            weights += weight
            count += 1
    return Average(period.name, weighted_sum, weights, count, places)


def _sheet_subjects(
    cursor: Cursor, class_id: str, year_key: int | None, attestation: AttestationMarks
) -> list[Subject]:
    """The year's subjects the class has lessons, teachers or attestation marks in, in the order
    the year's set-up added them."""
    cursor.execute(
        "SELECT DISTINCT subject_id FROM rm_lesson WHERE class_id = ? "
        "UNION SELECT a.subject_id FROM rm_assignment a "
        "JOIN rm_roster r ON r.roster_id = a.roster_id WHERE r.class_id = ?",
        (class_id, class_id),
    )
    used = {row[0] for row in cursor.fetchall()} | {subject for _, subject in attestation}
    cursor.execute(
        "SELECT subject_id, name FROM rm_subject WHERE year_key = ? ORDER BY nid", (year_key,)
    )
    return [Subject(UUID(s), name) for s, name in cursor.fetchall() if s in used]
