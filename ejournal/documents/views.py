"""What each printout looks like: the view of a document, which ``templates/document.typ`` lays
out. A view holds one title, the heading lines, tables with known column widths, and notes.

A table's columns have widths fixed here (``Column``), so text wraps inside its cell and a check
can compare every word's box with the column's edges. The columns of subjects in a summary sheet
have their names turned upright (read from the bottom up), as a paper summary sheet has them, so
that a long name wraps within its column. Pupils are listed as a class list has them (by surname).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ejournal.archive.summary import DOCUMENT_KIND
from ejournal.documents.people import class_list, display_name, with_initials

WEEKDAYS = ("Понедельник", "Вторник", "Среда", "Четверг", "Пятница", "Суббота", "Воскресенье")
LANDSCAPE_WIDTH = 26.7
"""Centimetres between the margins of a landscape A4 page (29.7 cm less 1.5 cm a side)."""
PORTRAIT_WIDTH = 18.0
"""Centimetres between the margins of a portrait A4 page."""
NUMBER_WIDTH = 0.8
NAME_WIDTH = 5.6
SUBJECT_HEADER_HEIGHT = 3.8
"""Centimetres of a summary sheet's upright subject names: a name longer than this wraps."""
MAX_SUBJECT_WIDTH = 2.2
MAX_LESSON_WIDTH = 1.3
LESSONS_PER_SPREAD = 16
"""Lesson columns in one attendance-and-marks table of journal pages: a longer period is
printed as several tables, each repeating the pupils, as a paper journal turns the page."""
ATTESTATION_CAPTIONS = {
    "year": "Годовые отметки",
    "exam": "Экзаменационные отметки",
    "final": "Итоговые отметки",
}
KEPT_ROWS = 32
"""Pupils a landscape page holds under a spread's header, with room to spare."""
ATTENDANCE_NOTE = "Н — отсутствовал(а), Б — болел(а), П — по уважительной причине, ОП — опоздал(а)."


@dataclass(frozen=True, slots=True)
class Column:
    """A table column: its width, how its text is aligned, and whether its header is upright."""

    width: str
    align: str = "left"
    upright: bool = False

    def as_json(self) -> dict[str, Any]:
        return {"width": self.width, "align": self.align, "upright": self.upright}


def _cm(value: float) -> str:
    return f"{value:.2f}cm"


def _table(
    caption: str | None,
    columns: Sequence[Column],
    header: Sequence[str],
    rows: Sequence[Sequence[str] | Mapping[str, str]],
    *,
    header_height: float | None = None,
) -> dict[str, Any]:
    return {
        "caption": caption,
        "columns": [column.as_json() for column in columns],
        "header": list(header),
        "header_height": None if header_height is None else _cm(header_height),
        "rows": [row if isinstance(row, Mapping) else list(row) for row in rows],
    }


def ru_date(value: str | date) -> str:
    """ДД.ММ.ГГГГ. Raises ``ValueError`` for a string that is no ISO date."""
    day = value if isinstance(value, date) else date.fromisoformat(value)
    return day.strftime("%d.%m.%Y")


def _pupils(document: Mapping[str, Any], ids: Sequence[str]) -> list[tuple[str, str]]:
    """(ID, name) of ``ids`` in class-list order: the names the document carries, else short IDs."""
    names: Mapping[str, str] = document.get("names") or {}
    shown = {person: names.get(person) or display_name(person, None) for person in ids}
    return [(person, shown[person]) for person in class_list(ids, shown)]


def _school_line(document: Mapping[str, Any]) -> str:
    return f"Образовательное учреждение: {document['school']['name']}"


def _person_line(label: str, person: Mapping[str, str] | None) -> list[str]:
    return [] if not person or not person.get("name") else [f"{label}: {person['name']}"]


# --- homework -------------------------------------------------------------------------------------

_BARE_NUMBERS = re.compile(r"[\d\s,;.–—-]+")


def homework_line(text: str, pages: str = "", tasks: str = "") -> str:
    """The homework as a diary writes it: «Решить задачи: с. 77, № 106, 108». Pages and tasks are
    taken as the teacher wrote them (``с. 77``, ``§ 2``, ``упр. 5``); only bare numbers get
    «с.» or «№» in front. Raises nothing."""
    parts = []
    pages, tasks = pages.strip(), tasks.strip()
    if pages:
        parts.append(f"с. {pages}" if _BARE_NUMBERS.fullmatch(pages) else pages)
    if tasks:
        parts.append(f"№ {tasks}" if _BARE_NUMBERS.fullmatch(tasks) else tasks)
    text = text.strip()
    if not parts:
        return text
    if not text:
        return ", ".join(parts)
    joiner = " " if text.endswith((":", ".", "!", "?")) else ": "
    return text + joiner + ", ".join(parts)


def _homework(homework: Mapping[str, Any] | None) -> str:
    if homework is None:
        return ""
    return homework_line(homework["text"], homework.get("pages", ""), homework.get("tasks", ""))


# --- summary sheet --------------------------------------------------------------------------------


def _attestation_columns(document: Mapping[str, Any]) -> list[tuple[str, str | None, str]]:
    present = {(m["kind"], m["period"]) for m in document["marks"]}
    columns = [("period", p, f"Отметки за {p}") for p in document["periods"]]
    columns = [c for c in columns if ("period", c[1]) in present]
    for kind, caption in ATTESTATION_CAPTIONS.items():
        if (kind, None) in present:
            columns.append((kind, None, caption))
    return columns


def _pupil_label(student: Mapping[str, Any], name: str) -> str:
    if student["withdrawn_on"]:
        return f"{name} (выбыл(а) {ru_date(student['withdrawn_on'])})"
    return name


def summary_sheet_view(document: Mapping[str, Any]) -> dict[str, Any]:
    """A summary sheet: for each period with marks (and the year, exam and final marks) a table
    of the pupils, in class-list order, by subject. A sheet with no marks yet lists its pupils
    under a caption that says so. Raises ``KeyError`` for a malformed document."""
    subjects = document["subjects"]
    students = {s["id"]: s for s in document["students"]}
    pupils = _pupils(document, list(students))
    marks = {
        (m["student_id"], m["subject_id"], m["kind"], m["period"]): m for m in document["marks"]
    }
    free = LANDSCAPE_WIDTH - NUMBER_WIDTH - NAME_WIDTH
    width = min(MAX_SUBJECT_WIDTH, free / max(1, len(subjects)))
    columns = [
        Column(_cm(NUMBER_WIDTH), "center"),
        Column(_cm(NAME_WIDTH)),
        *(Column(_cm(width), "center", upright=True) for _ in subjects),
    ]
    header = ["№", "Фамилия, имя обучающегося", *(s["name"] for s in subjects)]
    tables = []
    for kind, period, caption in _attestation_columns(document):
        rows = []
        for number, (student, name) in enumerate(pupils, 1):
            cells = []
            for subject in subjects:
                mark = marks.get((student, subject["id"], kind, period))
                cells.append("" if mark is None else mark["value"] + "*" * bool(mark["revisions"]))
            rows.append([str(number), _pupil_label(students[student], name), *cells])
        tables.append(_table(caption, columns, header, rows, header_height=SUBJECT_HEADER_HEIGHT))
    if not tables:
        scope = document["scope"]
        when = f"за {scope['period']}" if scope.get("period") else "за учебный год"
        rows = [[str(n), _pupil_label(students[s], name)] for n, (s, name) in enumerate(pupils, 1)]
        caption = f"Отметки {when} ещё не выставлены"
        tables.append(_table(caption, columns[:2], header[:2], rows))
    scope = document["scope"]
    year = f"{document['year_start']}/{document['year_start'] + 1} учебный год"
    year += f", {scope['period']}" if scope.get("period") else ""
    return {
        "kind": DOCUMENT_KIND,
        "title": "Сводная ведомость учёта результатов промежуточной и итоговой аттестации",
        "subtitle": f"{document['class']['name']} класс, {year}",
        "footer": f"Сводная ведомость {document['class']['name']} класса, {year}",
        "author": document["school"]["name"],
        "landscape": True,
        "lines": [
            _school_line(document),
            *_person_line("Классный руководитель", document.get("class_teacher")),
        ],
        "tables": tables,
        "notes": [
            "* — отметка исправлена (с указанием причины; все редакции хранятся в журнале). "
            "ОСВ — освобождён(а) / освоено, Н/А — не аттестован(а).",
            "Ведомость сформирована автоматически из записей электронного журнала (п. 2.9).",
        ],
    }


# --- class journal pages --------------------------------------------------------------------------


def _journal_cell(lesson: Mapping[str, Any], student: str) -> str:
    parts = [lesson["attendance"].get(student, "")]
    parts += [
        str(m["value"]) + ("*" if m["corrections"] else "")
        for m in lesson["marks"]
        if m["student_id"] == student and not m["cancelled"]
    ]
    return " ".join(p for p in parts if p)


def _spread(
    lessons: Sequence[Mapping[str, Any]], pupils: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    free = LANDSCAPE_WIDTH - NUMBER_WIDTH - NAME_WIDTH
    width = min(MAX_LESSON_WIDTH, free / max(1, len(lessons)))
    columns = [
        Column(_cm(NUMBER_WIDTH), "center"),
        Column(_cm(NAME_WIDTH)),
        *(Column(_cm(width), "center") for _ in lessons),
    ]
    header = ["№", "Фамилия, имя обучающегося", *(ru_date(x["on"])[:5] for x in lessons)]
    rows = [
        [str(n), name, *(_journal_cell(lesson, student) for lesson in lessons)]
        for n, (student, name) in enumerate(pupils, 1)
    ]
    caption = "Посещаемость и отметки"
    if lessons:
        caption += f", {ru_date(lessons[0]['on'])[:5]}–{ru_date(lessons[-1]['on'])[:5]}"
    # A spread of a class that fits on a page is kept on one page, as a paper journal's is.
    return _table(caption, columns, header, rows) | {"keep_together": len(rows) <= KEPT_ROWS}


def _journal_topic(lesson: Mapping[str, Any]) -> str:
    """The topic, and for a lesson a substitute gave, who gave it: the journal says «замена»."""
    if not lesson.get("substitute_for"):
        return str(lesson["topic"])
    note = f"Замена: {with_initials(lesson['teacher'])}" if lesson.get("teacher") else "Замена"
    return f"{lesson['topic']}\n{note}" if lesson["topic"] else note


def class_journal_view(document: Mapping[str, Any]) -> dict[str, Any]:
    """Journal pages: the pupils' attendance and marks by lesson (a table for every
    ``LESSONS_PER_SPREAD`` lessons), then each lesson's topic and homework."""
    lessons = document["lessons"]
    pupils = _pupils(document, document["students"])
    chunks = [
        lessons[i : i + LESSONS_PER_SPREAD] for i in range(0, len(lessons), LESSONS_PER_SPREAD)
    ]
    tables = [_spread(chunk, pupils) for chunk in chunks or [[]]]
    topics = [
        [
            ru_date(lesson["on"]),
            str(lesson["slot"]),
            _journal_topic(lesson),
            _homework(lesson["homework"]),
        ]
        for lesson in lessons
    ]
    rest = LANDSCAPE_WIDTH - 2.2 - 1.2
    tables.append(
        _table(
            "Темы уроков и домашние задания",
            [
                Column("2.20cm"),
                Column("1.20cm", "center"),
                Column(_cm(rest * 0.55)),
                Column(_cm(rest * 0.45)),
            ],
            ["Дата", "Урок", "Тема урока", "Домашнее задание"],
            topics or [["", "", "Уроков в эти дни нет", ""]],
        )
    )
    teachers = [t["name"] for t in document.get("teachers") or [] if t and t.get("name")]
    subject, roster = document["subject"]["name"], document["roster"]
    group = "" if roster["kind"] == "class" else f" ({roster['name']})"
    return {
        "kind": "class-journal",
        "title": f"Классный журнал {document['class']['name']} класса",
        "subtitle": f"{subject}{group}, {ru_date(document['from'])}–{ru_date(document['to'])}",
        "footer": f"Классный журнал {document['class']['name']}: {subject}{group}",
        "author": document["school"]["name"],
        "landscape": True,
        "lines": [_school_line(document)]
        + ([f"Учитель: {', '.join(teachers)}"] if teachers else []),
        "tables": tables,
        "notes": [ATTENDANCE_NOTE + " * — отметка исправлена."],
    }


# --- weekly diary ---------------------------------------------------------------------------------


def _diary_marks(lesson: Mapping[str, Any]) -> str:
    marks = [
        f"{m['value']} ({m['work_type']})" if m.get("work_type") else str(m["value"])
        for m in lesson["marks"]
        if not m["cancelled"]
    ]
    absent = list(lesson["attendance"].values())
    comments = [c["text"] for c in lesson["comments"]]
    return "; ".join([*absent, *marks, *comments])


def _diary_subject(lesson: Mapping[str, Any]) -> str:
    teacher = lesson.get("teacher") or ""
    if teacher:
        return f"{lesson['subject']}\n{with_initials(teacher)}"
    return str(lesson["subject"])


def weekly_diary_view(document: Mapping[str, Any]) -> dict[str, Any]:
    """A weekly diary: each day once, as a row across the table, then its lessons (time,
    subject and teacher, topic, homework, attendance, marks and comments). Monday to Friday are
    always shown, Saturday when it has lessons."""
    by_day: dict[str, list[Mapping[str, Any]]] = {}
    for lesson in document["lessons"]:
        by_day.setdefault(lesson["on"], []).append(lesson)
    first = date.fromisoformat(document["from"])
    last = date.fromisoformat(document["to"])
    rows: list[Sequence[str] | Mapping[str, str]] = []
    for n in range((last - first).days + 1):
        day = date.fromordinal(first.toordinal() + n)
        lessons = by_day.get(day.isoformat(), [])
        if day.weekday() >= 5 and not lessons:
            continue
        rows.append({"group": f"{WEEKDAYS[day.weekday()]}, {ru_date(day)}"})
        for lesson in lessons:
            when = f"{lesson['slot']}\n{lesson['starts_at'][:5]}"
            if lesson.get("cancelled"):
                # As the diary read shows it to a family: that it is off, not why.
                rows.append([when, str(lesson["subject"]), "Урок отменён", "", ""])
                continue
            rows.append(
                [
                    when,
                    _diary_subject(lesson),
                    lesson["topic"],
                    _homework(lesson["homework"]),
                    _diary_marks(lesson),
                ]
            )
        if not lessons:
            rows.append(["", "Уроков нет", "", "", ""])
    student = document["student"]
    name = student.get("name") or display_name(student["id"], None)
    return {
        "kind": "weekly-diary",
        "title": "Дневник обучающегося",
        "subtitle": f"{name}, {document.get('class', {}).get('name', '')} класс, неделя "
        f"{ru_date(first)}–{ru_date(last)}",
        "footer": f"Дневник: {name}, {ru_date(first)}–{ru_date(last)}",
        "author": document["school"]["name"],
        "landscape": False,
        "lines": [
            _school_line(document),
            *_person_line("Классный руководитель", document.get("class_teacher")),
        ],
        "tables": [
            _table(
                None,
                [
                    Column("1.60cm"),
                    Column("3.60cm"),
                    Column("4.30cm"),
                    Column("4.80cm"),
                    Column("3.70cm"),
                ],
                ["Урок", "Предмет, учитель", "Тема урока", "Домашнее задание", "Отметки"],
                rows,
            )
            | {"keep_groups": True}
        ],
        "notes": ["Посещаемость: " + ATTENDANCE_NOTE],
    }
