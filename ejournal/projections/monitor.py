"""The monitor of journal keeping (п. 2.2, 2.5–2.8): what was entered late or is missing.

Late entries are accepted by the commands and only flagged here. The rules are evaluated when the
monitor is asked, over the read-model tables, for two reasons: two of them depend on time passing
with nothing recorded (no register by the end of the lesson's day, a year still not set up after
5 September), and one depends on records made later (the end of "that class's lessons" of a day
is known only once the day's last lesson is in). Each rule is one small function, in the school's
time zone, from the server's recorded times.

The lessons are those the timetable planned (and any scheduled outside it), each the lesson of
the teacher who teaches it, a substitute where there is one; a cancelled lesson is due nothing.

The rules, as the regulation is read here:

- п. 2.2 ``year.setup_late`` / ``year.not_set_up``: the year's sections (the year, its periods,
  a bell schedule, subjects, work types, classes) were first all in place after 5 September of
  the year's start, or are still not in place after that day.
- п. 2.5 ``attendance.late``: a lesson whose day is over without a register recorded that day.
- п. 2.5 ``mark.late``: a lesson mark recorded after the lesson's day.
- п. 2.5 ``written_mark.late``: a written-work mark recorded after the day its checking ended.
- п. 2.6 ``topic.missing``: a lesson whose day is over without a topic; ``topic.not_in_plan``: a
  topic that is no item of the roster's current КТП for the subject.
- п. 2.7 ``homework.late``: homework first entered more than 1.5 h after the end of the last
  lesson that day of the lesson's class (any of its rosters).
- п. 2.8 ``attestation.outside_window``: a period mark first entered outside the last week
  (7 days) of its period, a year mark outside the last week of the last period. Exam and final
  marks have no window.
- п. 2.8 ``attestation.missing``: a period over (its last day past) without a period mark of a
  student in a subject: each class, group or individual plan with lessons of the subject in the
  period expects one of each student it has on the period's last day. The flag names the
  teacher of the subject's last lesson in the period (the one who gives the period mark).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from ejournal.integrity.leaf import from_micros
from ejournal.ledger.database import Cursor
from ejournal.ledger.domain.school import DEFAULT_TIME_ZONE

SETUP_DEADLINE = (9, 5)
"""5 September (п. 2.2): the last day by which the year's sections are set up."""
HOMEWORK_GRACE = timedelta(hours=1, minutes=30)
"""п. 2.7: homework may be entered up to 1.5 h after the end of the class's lessons."""
WINDOW_DAYS = 7
"""п. 2.8: attestation marks are entered in the last week of the period."""

RULES: dict[str, tuple[str, str]] = {
    "year.setup_late": ("п. 2.2", "Разделы учебного года сформированы после 5 сентября."),
    "year.not_set_up": ("п. 2.2", "Разделы учебного года не сформированы к 5 сентября: {missing}."),
    "attendance.late": ("п. 2.5", "Посещаемость не отмечена в день урока."),
    "mark.late": ("п. 2.5", "Отметка за урок выставлена после окончания учебного дня."),
    "written_mark.late": (
        "п. 2.5",
        "Отметка за письменную работу выставлена позже дня окончания проверки.",
    ),
    "topic.missing": ("п. 2.6", "Тема урока не записана."),
    "topic.not_in_plan": ("п. 2.6", "Тема урока не соответствует КТП."),
    "homework.late": (
        "п. 2.7",
        "Домашнее задание записано позже чем через 1,5 часа после окончания уроков класса.",
    ),
    "attestation.outside_window": (
        "п. 2.8",
        "Отметка за период выставлена не в последнюю неделю периода.",
    ),
    "attestation.missing": (
        "п. 2.8",
        "Отметка за период «{period}» не выставлена в последнюю неделю периода.",
    ),
}
"""Rule code → (clause, message)."""


@dataclass(frozen=True, slots=True)
class Flag:
    """One finding of the monitor."""

    rule: str
    clause: str
    message: str
    on: date
    """The day concerned: the lesson's, the check's, or the day of the entry."""
    teacher_id: UUID | None = None
    class_id: UUID | None = None
    subject_id: UUID | None = None
    lesson_id: UUID | None = None
    student_id: UUID | None = None
    entered_at: datetime | None = None
    """When the entry was made (school's local time), or None if it is missing."""
    deadline: datetime | None = None
    """The last moment it was due (school's local time)."""


@dataclass(frozen=True, slots=True)
class Monitor:
    school_id: UUID
    year_start: int
    as_of: datetime
    """The moment the rules were evaluated at (school's local time)."""
    flags: tuple[Flag, ...]


_TEXT_DETAILS = ("missing", "period")
"""Details that go into a rule's message, not into the flag's fields."""


def _flag(rule: str, on: date, **details: Any) -> Flag:
    clause, message = RULES[rule]
    text = {name: details.pop(name) for name in _TEXT_DETAILS if name in details}
    if text:
        message = message.format(**text)
    return Flag(rule, clause, message, on, **details)


def _uuid(value: str | None) -> UUID | None:
    return None if value is None else UUID(value)


def _end_of(day: date, zone: ZoneInfo) -> datetime:
    """The last moment of ``day`` (local)."""
    return datetime.combine(day, time.max, tzinfo=zone)


def monitor(
    cursor: Cursor,
    school_id: UUID,
    year_start: int,
    *,
    teacher_id: UUID | None,
    class_id: UUID | None,
    now: datetime,
) -> Monitor:
    """Evaluate every rule for a school's year as of ``now``; with ``teacher_id`` or ``class_id``,
    only what concerns that teacher (lessons they teach, attestation marks they entered) or
    class. The year's set-up is the administration's and shows only in the school-wide view."""
    school = school_id.hex
    cursor.execute("SELECT time_zone FROM rm_school WHERE school_id = ?", (school,))
    row = cursor.fetchone()
    zone = ZoneInfo(row[0] if row else DEFAULT_TIME_ZONE)
    local_now = now.astimezone(zone)
    scope = _Scope(school, year_start, teacher_id, class_id, zone, local_now.date())
    flags: list[Flag] = []
    if teacher_id is None and class_id is None:
        flags += _setup(cursor, scope)
    flags += _lessons(cursor, scope)
    flags += _marks(cursor, scope)
    flags += _attestation(cursor, scope)
    flags += _missing_period_marks(cursor, scope)
    flags.sort(key=lambda f: (f.on, f.rule, str(f.class_id), str(f.lesson_id), str(f.student_id)))
    return Monitor(school_id, year_start, local_now, tuple(flags))


@dataclass(frozen=True, slots=True)
class _Scope:
    school: str
    year_start: int
    teacher_id: UUID | None
    class_id: UUID | None
    zone: ZoneInfo
    today: date

    def local(self, micros: int) -> datetime:
        return from_micros(micros).astimezone(self.zone)

    def lesson_filter(self) -> tuple[str, list[Any]]:
        """SQL over ``rm_lesson l`` selecting the lessons in scope: a cancelled lesson is due
        nothing."""
        where = "l.school_id = ? AND l.year_start = ? AND l.cancelled = 0"
        params: list[Any] = [self.school, self.year_start]
        if self.teacher_id is not None:
            where += " AND l.teacher_id = ?"
            params.append(self.teacher_id.hex)
        if self.class_id is not None:
            where += " AND l.class_id = ?"
            params.append(self.class_id.hex)
        return where, params


_SECTIONS = {
    "opened": "учебный год",
    "periods": "учебные периоды",
    "bells": "расписание звонков",
    "subjects": "предметы",
    "work_types": "виды работ",
    "classes": "классы",
}


def _setup(cursor: Cursor, scope: _Scope) -> list[Flag]:
    """п. 2.2: the year's sections in place by 5 September."""
    deadline_day = date(scope.year_start, *SETUP_DEADLINE)
    deadline = _end_of(deadline_day, scope.zone)
    cursor.execute(
        "SELECT recorded_at, periods_at, bells_at, subjects_at, work_types_at FROM rm_year "
        "WHERE school_id = ? AND year_start = ?",
        (scope.school, scope.year_start),
    )
    row = cursor.fetchone()
    cursor.execute(
        "SELECT MIN(recorded_at) FROM rm_roster WHERE school_id = ? AND year_start = ? "
        "AND kind = 'class'",
        (scope.school, scope.year_start),
    )
    classes_at = cursor.fetchone()[0]
    times = dict(zip(_SECTIONS, (*(row or (None,) * 5), classes_at), strict=True))
    missing = [_SECTIONS[name] for name, at in times.items() if at is None]
    if missing:
        if scope.today <= deadline_day:
            return []
        missing_text = ", ".join(missing)
        return [_flag("year.not_set_up", deadline_day, missing=missing_text, deadline=deadline)]
    done = scope.local(max(int(at) for at in times.values()))
    if done <= deadline:
        return []
    return [_flag("year.setup_late", done.date(), entered_at=done, deadline=deadline)]


def _lessons(cursor: Cursor, scope: _Scope) -> list[Flag]:
    """п. 2.5 attendance, п. 2.6 topics, п. 2.7 homework."""
    where, params = scope.lesson_filter()
    cursor.execute(
        "SELECT l.lesson_id, l.class_id, l.subject_id, l.teacher_id, l.roster_id, l.held_on, "
        "l.topic, l.plan_item, l.register_first_at, l.homework_first_at "
        f"FROM rm_lesson l WHERE {where}",
        params,
    )
    lessons = cursor.fetchall()
    cursor.execute(
        "SELECT class_id, held_on, MAX(ends_at) FROM rm_lesson "
        "WHERE school_id = ? AND year_start = ? AND cancelled = 0 GROUP BY class_id, held_on",
        (scope.school, scope.year_start),
    )
    day_ends = {(c, d): time.fromisoformat(end) for c, d, end in cursor.fetchall()}
    plans = _plans(cursor, scope)
    flags = []
    for (
        lesson_id,
        class_id,
        subject_id,
        teacher_id,
        roster_id,
        held_on,
        topic,
        item,
        reg,
        hw,
    ) in lessons:
        day = date.fromisoformat(held_on)
        about = {
            "teacher_id": UUID(teacher_id),
            "class_id": UUID(class_id),
            "subject_id": UUID(subject_id),
            "lesson_id": UUID(lesson_id),
        }
        over = day < scope.today
        registered = None if reg is None else scope.local(reg)
        if (registered is None and over) or (registered is not None and registered.date() > day):
            flags.append(
                _flag(
                    "attendance.late",
                    day,
                    entered_at=registered,
                    deadline=_end_of(day, scope.zone),
                    **about,
                )
            )
        if not topic:
            if over:
                flags.append(_flag("topic.missing", day, **about))
        elif not _in_plan(plans.get((roster_id, subject_id), {}), topic, item):
            flags.append(_flag("topic.not_in_plan", day, **about))
        if hw is not None:
            deadline = datetime.combine(day, day_ends[(class_id, held_on)], tzinfo=scope.zone)
            deadline += HOMEWORK_GRACE
            entered = scope.local(hw)
            if entered > deadline:
                flags.append(
                    _flag("homework.late", day, entered_at=entered, deadline=deadline, **about)
                )
    return flags


def _plans(cursor: Cursor, scope: _Scope) -> dict[tuple[str, str], dict[int, str]]:
    """(roster, subject) → КТП item number → its topic, for the school's year."""
    cursor.execute(
        "SELECT p.roster_id, p.subject_id, i.number, i.topic FROM rm_plan p "
        "JOIN rm_plan_item i ON i.plan_key = p.nid JOIN rm_roster r ON r.roster_id = p.roster_id "
        "WHERE r.school_id = ? AND r.year_start = ?",
        (scope.school, scope.year_start),
    )
    plans: dict[tuple[str, str], dict[int, str]] = defaultdict(dict)
    for roster_id, subject_id, number, topic in cursor.fetchall():
        plans[(roster_id, subject_id)][int(number)] = topic
    return plans


def _in_plan(items: dict[int, str], topic: str, item: int | None) -> bool:
    """Whether the topic follows the КТП: it names an item, or is an item's topic word for word."""
    if item is not None and item in items:
        return True
    wanted = topic.strip().casefold()
    return any(text.strip().casefold() == wanted for text in items.values())


def _marks(cursor: Cursor, scope: _Scope) -> list[Flag]:
    """п. 2.5: lesson marks within the lesson's day, written-work marks on the day checking
    ended (dates are the school's local dates, stored with each mark)."""
    where, params = scope.lesson_filter()
    cursor.execute(
        "SELECT l.lesson_id, l.class_id, l.subject_id, l.teacher_id, l.held_on, m.student_id, "
        "m.checked_on, m.recorded_at FROM rm_lesson l JOIN rm_mark m ON m.lesson_key = l.nid "
        f"WHERE {where} AND ((m.checked_on IS NULL AND m.recorded_on > l.held_on) "
        "OR (m.checked_on IS NOT NULL AND m.recorded_on > m.checked_on))",
        params,
    )
    flags = []
    for (
        lesson_id,
        class_id,
        subject_id,
        teacher_id,
        held_on,
        student,
        checked,
        at,
    ) in cursor.fetchall():
        due = date.fromisoformat(checked or held_on)
        flags.append(
            _flag(
                "mark.late" if checked is None else "written_mark.late",
                due,
                teacher_id=UUID(teacher_id),
                class_id=UUID(class_id),
                subject_id=UUID(subject_id),
                lesson_id=UUID(lesson_id),
                student_id=UUID(student),
                entered_at=scope.local(at),
                deadline=_end_of(due, scope.zone),
            )
        )
    return flags


def _attestation(cursor: Cursor, scope: _Scope) -> list[Flag]:
    """п. 2.8: period (and year) marks first entered in the last week of the period."""
    where = "r.school_id = ? AND r.year_start = ? AND a.kind IN ('period', 'year')"
    params: list[Any] = [scope.school, scope.year_start]
    if scope.class_id is not None:
        where += " AND ro.class_id = ?"
        params.append(scope.class_id.hex)
    cursor.execute(
        "SELECT r.student_id, r.subject_id, a.kind, a.period, a.first_at, ro.class_id, "
        "c.period_scheme, acc.person_id "
        "FROM rm_attestation_record r JOIN rm_attestation a ON a.record_key = r.nid "
        "JOIN rm_roster ro ON ro.roster_id = a.roster_id "
        "JOIN rm_roster c ON c.roster_id = ro.class_id "
        "LEFT JOIN rm_account acc ON acc.account_id = a.actor_id "
        f"WHERE {where}",
        params,
    )
    marks = cursor.fetchall()
    cursor.execute(
        "SELECT p.scheme, p.name, p.ends_on FROM rm_period p JOIN rm_year y ON y.nid = p.year_key "
        "WHERE y.school_id = ? AND y.year_start = ? ORDER BY p.ordinal",
        (scope.school, scope.year_start),
    )
    ends: dict[tuple[str, str], date] = {}
    last: dict[str, date] = {}
    for scheme, name, ends_on in cursor.fetchall():
        ends[(scheme, name)] = last[scheme] = date.fromisoformat(ends_on)
    flags = []
    for student, subject, kind, period, first_at, class_id, scheme, person in marks:
        if scope.teacher_id is not None and person != scope.teacher_id.hex:
            continue
        end = ends.get((scheme, period)) if kind == "period" else last.get(scheme)
        if end is None:
            continue  # the period is no longer in the scheme: nothing to measure against
        entered = scope.local(first_at)
        if end - timedelta(days=WINDOW_DAYS - 1) <= entered.date() <= end:
            continue
        flags.append(
            _flag(
                "attestation.outside_window",
                entered.date(),
                teacher_id=_uuid(person),
                class_id=UUID(class_id),
                subject_id=UUID(subject),
                student_id=UUID(student),
                entered_at=entered,
                deadline=_end_of(end, scope.zone),
            )
        )
    return flags


def _missing_period_marks(cursor: Cursor, scope: _Scope) -> list[Flag]:
    """п. 2.8: every period over has a period mark of each student in each subject taught to
    them in it (by the roster they are in on its last day)."""
    cursor.execute(
        "SELECT p.scheme, p.name, p.starts_on, p.ends_on FROM rm_period p "
        "JOIN rm_year y ON y.nid = p.year_key WHERE y.school_id = ? AND y.year_start = ? "
        "AND p.ends_on < ? ORDER BY p.ordinal",
        (scope.school, scope.year_start, scope.today.isoformat()),
    )
    periods = cursor.fetchall()
    if not periods:
        return []
    cursor.execute(
        "SELECT r.student_id, r.subject_id, a.period FROM rm_attestation_record r "
        "JOIN rm_attestation a ON a.record_key = r.nid "
        "WHERE r.school_id = ? AND r.year_start = ? AND a.kind = 'period'",
        (scope.school, scope.year_start),
    )
    marked = {(student, subject, period) for student, subject, period in cursor.fetchall()}
    flags = []
    for scheme, name, starts_on, ends_on in periods:
        last_day = date.fromisoformat(ends_on)
        members = _members_on(cursor, scope, ends_on)
        for (roster, subject), (class_id, teacher) in _taught(
            cursor, scope, scheme, starts_on, ends_on
        ).items():
            if scope.teacher_id is not None and teacher != scope.teacher_id.hex:
                continue
            for student in sorted(members.get(roster, ())):
                if (student, subject, name) in marked:
                    continue
                flags.append(
                    _flag(
                        "attestation.missing",
                        last_day,
                        period=name,
                        teacher_id=UUID(teacher),
                        class_id=UUID(class_id),
                        subject_id=UUID(subject),
                        student_id=UUID(student),
                        deadline=_end_of(last_day, scope.zone),
                    )
                )
    return flags


def _taught(
    cursor: Cursor, scope: _Scope, scheme: str, starts_on: str, ends_on: str
) -> dict[tuple[str, str], tuple[str, str]]:
    """(roster, subject) with lessons in the period of a class on ``scheme`` → (class, the
    teacher of the last of them)."""
    where = "l.school_id = ? AND l.year_start = ? AND l.cancelled = 0 AND c.period_scheme = ?"
    params: list[Any] = [scope.school, scope.year_start, scheme]
    if scope.class_id is not None:
        where += " AND l.class_id = ?"
        params.append(scope.class_id.hex)
    cursor.execute(
        "SELECT l.roster_id, l.subject_id, l.class_id, l.teacher_id, MAX(l.held_on) "
        "FROM rm_lesson l JOIN rm_roster c ON c.roster_id = l.class_id "
        f"WHERE {where} AND l.held_on >= ? AND l.held_on <= ? "
        "GROUP BY l.roster_id, l.subject_id, l.class_id, l.teacher_id",
        [*params, starts_on, ends_on],
    )
    latest: dict[tuple[str, str], tuple[str, str, str]] = {}
    for roster, subject, class_id, teacher, last in cursor.fetchall():
        key = (roster, subject)
        if key not in latest or (last, teacher) > (latest[key][0], latest[key][2]):
            latest[key] = (last, class_id, teacher)
    return {key: (class_id, teacher) for key, (_, class_id, teacher) in latest.items()}


def _members_on(cursor: Cursor, scope: _Scope, day: str) -> dict[str, set[str]]:
    """Roster → the students in it on ``day``."""
    cursor.execute(
        "SELECT r.roster_id, m.student_id FROM rm_member m "
        "JOIN rm_roster r ON r.nid = m.roster_key WHERE r.school_id = ? AND r.year_start = ? "
        "AND m.starts_on <= ? AND (m.ends_on IS NULL OR m.ends_on > ?)",
        (scope.school, scope.year_start, day, day),
    )
    members: dict[str, set[str]] = defaultdict(set)
    for roster, student in cursor.fetchall():
        members[roster].add(student)
    return members
