"""The data and the view of each printout: the summary sheet of a class (п. 2.9), class journal
pages (п. 3.1) and a student's weekly diary (п. 1.6).

A document is canonical JSON (``archive.summary.canonical_json``): what is certified,
attached to the PDF and archived. A view is what the template lays out. The summary sheet is
computed from the log's entries up to the checkpoint it rests on (the same computation an auditor's
verifier runs on an archive); journal pages and the diary are read from the lesson aggregates,
found by their natural IDs. Names of people come from ``names`` (the personal-data vault); without
it a person is shown by a short ID.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ejournal.archive.summary import (
    DOCUMENT_KIND,
    KIND_TITLES,
    RELEVANT_PREFIXES,
    Scope,
    SummaryFold,
    summary_document,
)
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import StoredCheckpoint
from ejournal.ledger.domain import (
    Lesson,
    School,
    SchoolClass,
    SchoolYear,
)
from ejournal.ledger.domain.rosters import Roster, as_roster
from ejournal.ledger.invalidation import Provenance, Rule, load_rules, valid_aggregate
from ejournal.ledger.logs import school_log_id
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.replay import uuid_bytes

Names = Callable[[UUID], str | None]
"""A person's name for display, from the personal-data vault (None when unknown)."""

JOURNAL_FORMAT = "ejournal-class-journal/1"
DIARY_FORMAT = "ejournal-weekly-diary/1"
WEEKDAYS = ("Понедельник", "Вторник", "Среда", "Четверг", "Пятница", "Суббота", "Воскресенье")


def display_name(person_id: UUID | str, names: Names | None) -> str:
    """The person's name, or ``ID …1a2b3c`` when the vault has none. Raises nothing."""
    person = UUID(str(person_id))
    name = names(person) if names is not None else None
    return name or f"ID …{person.hex[-6:]}"


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
    """The summary sheet of a class for the year (or one period), as of ``checkpoint``.

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
    return summary_document(
        sheet,
        title=title,
        school={"id": str(school_id), "name": school.name},
        checkpoint=_checkpoint_json(checkpoint, origin),
        names=students if names is not None else {},
    )


def _attestation_columns(document: Mapping[str, Any]) -> list[tuple[str, str | None, str]]:
    present = {(m["kind"], m["period"]) for m in document["marks"]}
    columns = [("period", p, p) for p in document["periods"] if ("period", p) in present]
    for kind in ("year", "exam", "final"):
        if (kind, None) in present:
            columns.append((kind, None, f"Отметки: {KIND_TITLES[kind]}"))
    return columns


def summary_sheet_view(document: Mapping[str, Any]) -> dict[str, Any]:
    """The layout of a summary sheet: one table (students × subjects) per period, the year, the
    exam and the final marks. Raises ``KeyError`` for a malformed document."""
    names: Mapping[str, str] = document.get("names") or {}
    subjects = document["subjects"]
    marks = {
        (m["student_id"], m["subject_id"], m["kind"], m["period"]): m for m in document["marks"]
    }
    tables = []
    for kind, period, caption in _attestation_columns(document):
        rows = []
        for number, student in enumerate(document["students"], 1):
            who = names.get(student["id"]) or display_name(student["id"], None)
            if student["withdrawn_on"]:
                who += f" (выбыл(а) {_ru_date(student['withdrawn_on'])})"
            cells = []
            for subject in subjects:
                mark = marks.get((student["id"], subject["id"], kind, period))
                cells.append(
                    "" if mark is None else mark["value"] + ("*" if mark["revisions"] else "")
                )
            rows.append([str(number), who, *cells])
        tables.append(
            {
                "caption": caption,
                "header": ["№", "Обучающийся", *(s["name"] for s in subjects)],
                "rows": rows,
            }
        )
    return {
        "kind": DOCUMENT_KIND,
        "title": "Сводная ведомость учёта результатов промежуточной и итоговой аттестации",
        "subtitle": document["title"],
        "author": document["school"]["name"],
        "landscape": True,
        "lines": [
            f"Образовательное учреждение: {document['school']['name']}",
            f"Класс: {document['class']['name']}; учебный год "
            f"{document['year_start']}/{document['year_start'] + 1}",
        ],
        "tables": tables
        or [{"caption": "Отметок нет", "header": ["№", "Обучающийся"], "rows": []}],
        "notes": [
            "* — отметка исправлена (с указанием причины; все редакции хранятся в журнале).",
            "Ведомость сформирована автоматически из записей электронного журнала (п. 2.9).",
        ],
    }


def _ru_date(value: str | date) -> str:
    day = value if isinstance(value, date) else date.fromisoformat(value)
    return day.strftime("%d.%m.%Y")


# --- class journal pages --------------------------------------------------------------------------


def _lessons(
    ledger: Ledger,
    roster_id: UUID,
    days: Sequence[date],
    slots: Sequence[int],
    rules: Sequence[Rule],
) -> Iterator[Lesson]:
    """The roster's lessons on those days and slots, without what ``rules`` invalidate (п. 4.4)."""
    for day in days:
        for slot in slots:
            lesson_id = Lesson.create_id(roster_id=roster_id, on=day, slot=slot)
            try:
                lesson = valid_aggregate(ledger, lesson_id, rules)
            except AggregateNotFoundError:
                continue
            if isinstance(lesson, Lesson):
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


def _lesson_json(lesson: Lesson, year: SchoolYear) -> dict[str, Any]:
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
        "teacher_id": str(lesson.teacher_id),
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
    """Journal pages of a roster's subject between two days (inclusive), as the lessons stand.

    Raises ``AggregateNotFoundError`` for an unknown roster.
    """
    roster = get_roster(ledger, roster_id)
    year, school_class = _year_and_class(ledger, roster)
    slots = sorted(year.bell_schedules.get(school_class.bell_schedule, {}))
    days = _days(first_day, last_day)
    lessons = [
        _lesson_json(lesson, year)
        for lesson in _lessons(ledger, roster_id, days, slots, load_rules(ledger.database))
        if lesson.subject_id == subject_id
    ]
    students = sorted({s for day in days for s in roster.members_on(day)}, key=lambda s: s.bytes)
    subject = year.subjects[subject_id].name if subject_id in year.subjects else str(subject_id)
    school = school_of(ledger, roster.school_id)
    return {
        "format": JOURNAL_FORMAT,
        "title": f"Классный журнал {school_class.name}: {subject}, "
        f"{_ru_date(first_day)}–{_ru_date(last_day)}",
        "school": {"id": str(roster.school_id), "name": school.name},
        "class": {"id": str(school_class.id), "name": school_class.name},
        "roster": {"id": str(roster_id), "kind": str(roster.kind), "name": roster.name},
        "subject": {"id": str(subject_id), "name": subject},
        "from": first_day.isoformat(),
        "to": last_day.isoformat(),
        "students": [str(s) for s in students],
        "names": {str(s): display_name(s, names) for s in students} if names else {},
        "lessons": lessons,
        "log": _checkpoint_json(checkpoint, origin),
    }


def class_journal_view(document: Mapping[str, Any]) -> dict[str, Any]:
    """The layout of journal pages: a grid of attendance and marks, then topics and homework."""
    names: Mapping[str, str] = document.get("names") or {}
    lessons = document["lessons"]
    header = ["№", "Обучающийся", *(f"{_ru_date(x['on'])[:5]} ({x['slot']})" for x in lessons)]
    rows = []
    for number, student in enumerate(document["students"], 1):
        cells = []
        for lesson in lessons:
            parts = [lesson["attendance"].get(student, "")]
            parts += [
                str(m["value"]) + ("*" if m["corrections"] else "")
                for m in lesson["marks"]
                if m["student_id"] == student and not m["cancelled"]
            ]
            cells.append(" ".join(p for p in parts if p))
        rows.append([str(number), names.get(student) or display_name(student, None), *cells])
    topics = [
        [
            _ru_date(lesson["on"]),
            str(lesson["slot"]),
            lesson["topic"],
            ""
            if lesson["homework"] is None
            else " ".join(
                part
                for part in (
                    lesson["homework"]["text"],
                    lesson["homework"]["pages"] and f"стр. {lesson['homework']['pages']}",
                    lesson["homework"]["tasks"] and f"№ {lesson['homework']['tasks']}",
                )
                if part
            ),
        ]
        for lesson in lessons
    ]
    return {
        "kind": "class-journal",
        "title": document["title"],
        "subtitle": f"{document['roster']['name']} — {document['subject']['name']}",
        "author": document["school"]["name"],
        "landscape": True,
        "lines": [f"Образовательное учреждение: {document['school']['name']}"],
        "tables": [
            {"caption": "Посещаемость и отметки", "header": header, "rows": rows},
            {
                "caption": "Темы уроков и домашние задания",
                "header": ["Дата", "Урок", "Тема урока", "Домашнее задание"],
                "rows": topics,
            },
        ],
        "notes": [
            "Н — отсутствовал, Б — болел, П — по уважительной причине, ОП — опоздал; "
            "* — отметка исправлена."
        ],
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
        ids = [UUID(str(r[0])) if not isinstance(r[0], UUID) else r[0] for r in rows]
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
    """A student's diary for the week (Monday–Saturday) that contains ``week_of`` (п. 1.6)."""
    school_class = ledger.get(class_id, SchoolClass)
    year, _ = _year_and_class(ledger, school_class)
    monday = week_of - timedelta(days=week_of.weekday())
    days = _days(monday, monday + timedelta(days=5))
    slots = sorted(year.bell_schedules.get(school_class.bell_schedule, {}))
    lessons: list[dict[str, Any]] = []
    rules = load_rules(ledger.database)
    for roster in _rosters_of(ledger, school_class, student_id, monday):
        for lesson in _lessons(ledger, roster.id, days, slots, rules):
            if not roster.is_member(student_id, lesson.on):
                continue
            data = _lesson_json(lesson, year)
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
        f"{_ru_date(days[0])}–{_ru_date(days[-1])}",
        "school": {"id": str(school_class.school_id), "name": school.name},
        "class": {"id": str(class_id), "name": school_class.name},
        "student": {"id": str(student_id), "name": student_name if names else ""},
        "from": days[0].isoformat(),
        "to": days[-1].isoformat(),
        "lessons": lessons,
        "log": _checkpoint_json(checkpoint, origin),
    }


def weekly_diary_view(document: Mapping[str, Any]) -> dict[str, Any]:
    """The layout of a weekly diary: one row per lesson, day by day."""
    rows = []
    for lesson in document["lessons"]:
        day = date.fromisoformat(lesson["on"])
        homework = lesson["homework"]
        marks = ", ".join(
            f"{m['value']} ({m['work_type']})" for m in lesson["marks"] if not m["cancelled"]
        )
        comments = "; ".join(c["text"] for c in lesson["comments"])
        rows.append(
            [
                f"{WEEKDAYS[day.weekday()]}, {_ru_date(day)}",
                f"{lesson['slot']} ({lesson['starts_at'][:5]})",
                lesson["subject"],
                lesson["topic"],
                "" if homework is None else homework["text"],
                " ".join(p for p in (marks, *lesson["attendance"].values(), comments) if p),
            ]
        )
    return {
        "kind": "weekly-diary",
        "title": document["title"],
        "subtitle": "Еженедельная распечатка электронного дневника (п. 1.6)",
        "author": document["school"]["name"],
        "landscape": False,
        "lines": [f"Образовательное учреждение: {document['school']['name']}"],
        "tables": [
            {
                "caption": None,
                "header": ["День", "Урок", "Предмет", "Тема", "Домашнее задание", "Отметки"],
                "rows": rows,
            }
        ],
        "notes": ["Отметки о посещаемости: Н, Б, П, ОП."],
    }
