"""The data of each printout: the summary sheet of a class (п. 2.9), class journal pages (п. 3.1)
and a student's weekly diary (п. 1.6). What each looks like is ``views``'.

A document is canonical JSON (``archive.summary.canonical_json``): what is certified, attached to
the PDF and archived. Each rests on a signed checkpoint and shows the log as of it: the summary
sheet is computed from the log's entries up to the checkpoint (the computation an auditor's
verifier runs on an archive); journal pages and the diary read each lesson from its events up to
the checkpoint (``lesson_at``), found by its natural ID, so a record made after the checkpoint is
not shown under its signature. The roster and the year's setup are read as they stand. Names come
from ``names`` (the personal-data vault), full as entered; without it a person is shown by a short
ID. Pupils are listed as a class list has them (by surname).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import closing
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

from ejournal.archive.summary import RELEVANT_PREFIXES, Scope, SummaryFold, summary_document
from ejournal.documents.people import Names, class_list, display_name
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import StoredCheckpoint
from ejournal.ledger.domain import Lesson, School, SchoolClass, SchoolYear
from ejournal.ledger.domain.rosters import Roster, as_roster
from ejournal.ledger.invalidation import Provenance, Rule, load_rules
from ejournal.ledger.logs import school_log_id
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.replay import uuid_bytes

__all__ = [
    "DIARY_FORMAT",
    "JOURNAL_FORMAT",
    "Names",
    "class_journal_document",
    "display_name",
    "get_roster",
    "lesson_at",
    "school_of",
    "summary_fold",
    "summary_sheet_document",
    "weekly_diary_document",
]

JOURNAL_FORMAT = "ejournal-class-journal/1"
DIARY_FORMAT = "ejournal-weekly-diary/1"


def _checkpoint_json(checkpoint: StoredCheckpoint, origin: str) -> dict[str, Any]:
    return {
        "log_id": checkpoint.log_id,
        "origin": f"{origin}/{checkpoint.log_id}",
        "size": checkpoint.size,
        "root": checkpoint.root_hash.hex(),
    }


def get_roster(ledger: Ledger, roster_id: UUID) -> Roster:
    """The class, group or individual curriculum. Raises ``AggregateNotFoundError``."""
    roster = as_roster(ledger.get(roster_id, Aggregate))
    if roster is None:
        raise AggregateNotFoundError(roster_id)
    return roster


def school_of(ledger: Ledger, school_id: UUID) -> School:
    """The school aggregate. Raises ``AggregateNotFoundError``."""
    return ledger.get(school_id, School)


def _person(person_id: UUID | None, names: Names | None) -> dict[str, str] | None:
    if person_id is None:
        return None
    return {"id": str(person_id), "name": display_name(person_id, names)}


# --- summary sheet --------------------------------------------------------------------------------


def summary_fold(ledger: Ledger, log_id: str, size: int) -> SummaryFold:
    """The summary-sheet state of ``log_id`` after its first ``size`` entries."""
    fold = SummaryFold(load_rules(ledger.database))
    topics = " OR ".join("topic LIKE ?" for _ in RELEVANT_PREFIXES)
    sql = (
        "SELECT idx, originator_id, topic, state, actor_id, session_id, credential_version, "
        f"recorded_at FROM {EVENTS_TABLE} "
        f"WHERE log_id = ? AND idx < ? AND ({topics}) ORDER BY idx"
    )
    params = (log_id, size, *(f"{prefix}%" for prefix in RELEVANT_PREFIXES))
    with closing(ledger.database.stream(sql, params)) as rows:
        for index, originator, topic, state, actor, session, version, at in rows:
            op = Provenance(
                uuid_bytes(actor).hex(), uuid_bytes(session).hex(), int(version), int(at)
            )
            origin = UUID(bytes=uuid_bytes(originator))
            fold.feed(index, origin, topic, None if state is None else bytes(state), op)
    return fold


def summary_sheet_document(
    ledger: Ledger,
    *,
    school_id: UUID,
    year_start: int,
    class_id: UUID,
    checkpoint: StoredCheckpoint,
    origin: str,
    period: str | None = None,
    names: Names | None = None,
    fold: SummaryFold | None = None,
) -> dict[str, Any]:
    """The summary sheet of a class for the year (or one period), as of ``checkpoint``: the
    log-determined sheet, with the school, the class teacher and the pupils' names as context.

    Raises ``SummaryError`` for an unknown class or period.
    """
    log_id = school_log_id(school_id, year_start)
    fold = fold or summary_fold(ledger, log_id, checkpoint.size)
    sheet = fold.sheet(class_id, Scope(period))
    scope = "учебный год" if period is None else period
    title = f"Сводная ведомость {sheet['class']['name']} класса, {year_start}/{year_start + 1}"
    title += f" ({scope})"
    students = {s["id"]: display_name(s["id"], names) for s in sheet["students"]}
    school = school_of(ledger, school_id)
    document = summary_document(
        sheet,
        title=title,
        school={"id": str(school_id), "name": school.name},
        checkpoint=_checkpoint_json(checkpoint, origin),
        names=students if names is not None else {},
    )
    school_class = ledger.find(class_id, SchoolClass)
    teacher = None if school_class is None else school_class.class_teacher_id
    document["class_teacher"] = _person(teacher, names) if names is not None else None
    return document


# --- lessons as of a checkpoint -------------------------------------------------------------------


def lesson_at(
    ledger: Ledger, lesson_id: UUID, *, log_id: str, size: int, rules: Sequence[Rule]
) -> Lesson | None:
    """The lesson as its events among the first ``size`` entries of ``log_id`` make it, without
    the operations ``rules`` declare invalid (п. 4.4); None if it had no (valid) creation by then.
    """
    database = ledger.database
    with database.transaction(write=False) as cursor:
        # By the originator alone, so that the lookup takes the events' primary key (with the log
        # and index in the condition, SQLite walked the log's index up to the checkpoint).
        cursor.execute(
            "SELECT originator_version, topic, state, actor_id, session_id, credential_version, "
            f"recorded_at, log_id, idx FROM {EVENTS_TABLE} WHERE originator_id = ? "
            "ORDER BY originator_version",
            (database.uuid(lesson_id),),
        )
        rows = [row[:7] for row in cursor.fetchall() if row[7] == log_id and row[8] < size]
    aggregate: Any = None
    for version, topic, state, actor, session, credentials, at in rows:
        op = Provenance(
            uuid_bytes(actor).hex(), uuid_bytes(session).hex(), int(credentials), int(at)
        )
        if any(rule.excludes(op, topic) for rule in rules):
            if aggregate is None:
                return None  # its creation was invalid: nothing of it exists
            aggregate.version = version  # the next valid event follows on from this one
            continue
        if state is None:
            continue  # a payload disposed of (retention): the lesson shows what remains
        event: Any = ledger.mapper.to_domain_event(
            StoredEvent(lesson_id, version, topic, bytes(state))
        )
        aggregate = event.mutate(aggregate)
    return aggregate if isinstance(aggregate, Lesson) else None


def _lessons(
    ledger: Ledger,
    roster_id: UUID,
    days: Sequence[date],
    slots: Sequence[int],
    checkpoint: StoredCheckpoint,
    rules: Sequence[Rule],
) -> Iterator[Lesson]:
    """The roster's lessons on those days and slots as of ``checkpoint``."""
    for day in days:
        for slot in slots:
            lesson_id = Lesson.create_id(roster_id=roster_id, on=day, slot=slot)
            lesson = lesson_at(
                ledger, lesson_id, log_id=checkpoint.log_id, size=checkpoint.size, rules=rules
            )
            if lesson is not None:
                yield lesson


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _year_and_class(ledger: Ledger, roster: Roster) -> tuple[SchoolYear, SchoolClass]:
    year = ledger.get(
        SchoolYear.create_id(school_id=roster.school_id, year_start=roster.year_start), SchoolYear
    )
    school_class = (
        roster if isinstance(roster, SchoolClass) else ledger.get(roster.class_id, SchoolClass)
    )
    return year, school_class


def _lesson_json(lesson: Lesson, year: SchoolYear, names: Names | None) -> dict[str, Any]:
    homework = lesson.homework
    return {
        "id": str(lesson.id),
        "on": lesson.on.isoformat(),
        "slot": lesson.slot,
        "starts_at": lesson.starts_at.isoformat(),
        "subject_id": str(lesson.subject_id),
        "subject": year.subjects[lesson.subject_id].name
        if lesson.subject_id in year.subjects
        else "",
        # Who taught it: a substitute writes the lesson and signs for it (п. 2.3).
        "teacher_id": str(lesson.teacher_in_charge),
        "teacher": display_name(lesson.teacher_in_charge, names) if names is not None else "",
        "substitute_for": None
        if lesson.substitution is None
        else display_name(lesson.teacher_id, names)
        if names is not None
        else str(lesson.teacher_id),
        "cancelled": lesson.cancellation is not None,
        "topic": lesson.topic,
        "homework": None
        if homework is None
        else {
            "text": homework.text,
            "pages": homework.pages,
            "tasks": homework.tasks,
            "due_on": None if homework.due_on is None else homework.due_on.isoformat(),
        },
        "attendance": {str(student): code for student, code in sorted(lesson.attendance.items())},
        "marks": [
            {
                "student_id": str(mark.student_id),
                "value": mark.value,
                "work_type": year.work_types[mark.work_type_id].name
                if mark.work_type_id in year.work_types
                else "",
                "weight": str(mark.weight),
                "cancelled": mark.cancelled,
                "corrections": mark.corrections,
            }
            for mark in lesson.marks.values()
        ],
        "comments": [
            {"student_id": str(c.student_id), "text": c.text} for c in lesson.comments.values()
        ],
    }


# --- class journal pages --------------------------------------------------------------------------


def class_journal_document(
    ledger: Ledger,
    *,
    roster_id: UUID,
    subject_id: UUID,
    first_day: date,
    last_day: date,
    checkpoint: StoredCheckpoint,
    origin: str,
    names: Names | None = None,
) -> dict[str, Any]:
    """Journal pages of a roster's subject between two days (inclusive), as of ``checkpoint``:
    the pupils of the roster in those days (in class-list order), each lesson with its teacher,
    topic, homework, attendance, marks and comments.

    Raises ``AggregateNotFoundError`` for an unknown roster.
    """
    roster = get_roster(ledger, roster_id)
    year, school_class = _year_and_class(ledger, roster)
    slots = sorted(year.bell_schedules.get(school_class.bell_schedule, {}))
    days = _days(first_day, last_day)
    rules = load_rules(ledger.database)
    lessons = [
        _lesson_json(lesson, year, names)
        for lesson in _lessons(ledger, roster_id, days, slots, checkpoint, rules)
        # A cancelled lesson was not held: the journal has no column for it.
        if lesson.subject_id == subject_id and lesson.cancellation is None
    ]
    members = {str(s) for day in days for s in roster.members_on(day)}
    shown = {person: display_name(person, names) for person in members}
    subject = year.subjects[subject_id].name if subject_id in year.subjects else str(subject_id)
    school = school_of(ledger, roster.school_id)
    # The subject's own teachers first, then those who stood in for them.
    by_role = sorted(lessons, key=lambda lesson: lesson["substitute_for"] is not None)
    teachers = dict.fromkeys(lesson["teacher_id"] for lesson in by_role)
    return {
        "format": JOURNAL_FORMAT,
        "title": f"Классный журнал {school_class.name}: {subject}, "
        f"{first_day:%d.%m.%Y}–{last_day:%d.%m.%Y}",
        "school": {"id": str(roster.school_id), "name": school.name},
        "class": {"id": str(school_class.id), "name": school_class.name},
        "roster": {"id": str(roster_id), "kind": str(roster.kind), "name": roster.name},
        "subject": {"id": str(subject_id), "name": subject},
        "teachers": [_person(UUID(t), names) for t in teachers] if names is not None else [],
        "from": first_day.isoformat(),
        "to": last_day.isoformat(),
        "students": class_list(members, shown if names is not None else {}),
        "names": shown if names is not None else {},
        "lessons": lessons,
        "log": _checkpoint_json(checkpoint, origin),
    }


# --- weekly diary ---------------------------------------------------------------------------------


def _rosters_of(
    ledger: Ledger, school_class: SchoolClass, student_id: UUID, day: date
) -> list[Roster]:
    log_id = school_log_id(school_class.school_id, school_class.year_start)
    sql = (
        f"SELECT originator_id FROM {EVENTS_TABLE} WHERE log_id = ? AND topic IN (?, ?) "
        "ORDER BY idx"
    )
    topics = (
        "ledger.domain.rosters:Group.Formed",
        "ledger.domain.rosters:IndividualCurriculum.Opened",
    )
    with closing(ledger.database.stream(sql, (log_id, *topics))) as rows:
        ids = [UUID(bytes=uuid_bytes(r[0])) for r in rows]
    rosters: list[Roster] = [school_class]
    for roster_id in ids:
        roster = get_roster(ledger, roster_id)
        if isinstance(roster, SchoolClass) or roster.class_id != school_class.id:
            continue
        if any(roster.is_member(student_id, day + timedelta(days=n)) for n in range(7)):
            rosters.append(roster)
    return rosters


def weekly_diary_document(
    ledger: Ledger,
    *,
    class_id: UUID,
    student_id: UUID,
    week_of: date,
    checkpoint: StoredCheckpoint,
    origin: str,
    names: Names | None = None,
) -> dict[str, Any]:
    """A student's diary for the week (Monday–Saturday) that contains ``week_of`` (п. 1.6), as of
    ``checkpoint``: the lessons of the class and of the student's groups, with the student's own
    attendance, marks and comments only."""
    school_class = ledger.get(class_id, SchoolClass)
    year, _ = _year_and_class(ledger, school_class)
    monday = week_of - timedelta(days=week_of.weekday())
    days = _days(monday, monday + timedelta(days=5))
    slots = sorted(year.bell_schedules.get(school_class.bell_schedule, {}))
    lessons: list[dict[str, Any]] = []
    rules = load_rules(ledger.database)
    for roster in _rosters_of(ledger, school_class, student_id, monday):
        for lesson in _lessons(ledger, roster.id, days, slots, checkpoint, rules):
            if not roster.is_member(student_id, lesson.on):
                continue
            data = _lesson_json(lesson, year, names)
            data["attendance"] = {
                k: v for k, v in data["attendance"].items() if k == str(student_id)
            }
            data["marks"] = [m for m in data["marks"] if m["student_id"] == str(student_id)]
            data["comments"] = [c for c in data["comments"] if c["student_id"] == str(student_id)]
            lessons.append(data)
    lessons.sort(key=lambda x: (x["on"], x["slot"]))
    school = school_of(ledger, school_class.school_id)
    student_name = display_name(student_id, names)
    return {
        "format": DIARY_FORMAT,
        "title": f"Дневник: {student_name}, {school_class.name}, неделя "
        f"{days[0]:%d.%m.%Y}–{days[-1]:%d.%m.%Y}",
        "school": {"id": str(school_class.school_id), "name": school.name},
        "class": {"id": str(class_id), "name": school_class.name},
        "class_teacher": _person(school_class.class_teacher_id, names)
        if names is not None
        else None,
        "student": {"id": str(student_id), "name": student_name if names else ""},
        "from": days[0].isoformat(),
        "to": days[-1].isoformat(),
        "lessons": lessons,
        "log": _checkpoint_json(checkpoint, origin),
    }
