"""The weekly digest of a student's diary (п. 1.6): marks with their work type, attendance, topics,
homework, teachers' comments and messages to parents, as plain text, HTML and an optional PDF.

Everything comes from the read models (``projections.queries``), never from the events: the
projector leaves out every operation a п. 4.4 rule invalidates, so the digest cannot show one.
Cancelled marks are left out; a corrected mark shows its current value.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from ejournal.documents.render import render
from ejournal.documents.views import weekly_diary_view
from ejournal.projections.views import Diary, DiaryLesson, Homework, Mark

WEEK = re.compile(r"(\d{4})-W(\d{2})")
WEEKDAYS = ("Понедельник", "Вторник", "Среда", "Четверг", "Пятница", "Суббота", "Воскресенье")
MONTHS = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
ATTENDANCE = {
    "Н": "отсутствовал(а)",
    "Б": "болел(а)",
    "П": "отсутствовал(а) по уважительной причине",
    "ОП": "опоздал(а)",
}


def parse_week(text: str) -> date:
    """The Monday of an ISO week ``YYYY-Www``; raises ``ValueError``."""
    match = WEEK.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not an ISO week YYYY-Www: {text!r}")
    return date.fromisocalendar(int(match[1]), int(match[2]), 1)


def week_of(day: date) -> str:
    """The ISO week ``YYYY-Www`` that contains ``day``."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def ru_date(day: date, *, year: bool = False) -> str:
    text = f"{day.day} {MONTHS[day.month - 1]}"
    return f"{text} {day.year} г." if year else text


@dataclass(frozen=True, slots=True, kw_only=True)
class Heading:
    """Whose digest: names for people (from the vault where known)."""

    student: str
    class_name: str
    school: str


@dataclass(frozen=True, slots=True)
class DigestContent:
    subject: str
    text: str
    html: str
    empty: bool
    """No lessons and no messages that week (holidays): nothing is sent."""
    diary: Diary
    heading: Heading


def _current_marks(entry: DiaryLesson) -> list[Mark]:
    return [mark for mark in entry.marks if not mark.cancelled]


def _mark_text(mark: Mark) -> str:
    corrected = " (исправлена)" if mark.corrected else ""
    work_type = mark.work_type or "вид работы не указан"
    return f"{mark.value} — {work_type}{corrected}"


def _homework_text(homework: Homework) -> str:
    parts = [homework.text]
    if homework.pages:
        parts.append(homework.pages)
    if homework.tasks:
        parts.append(homework.tasks)
    text = ", ".join(p for p in parts if p)
    if homework.due_on is not None:
        text += f" (к {homework.due_on:%d.%m.%Y})"
    return text


def _lesson_lines(entry: DiaryLesson) -> list[tuple[str, str]]:
    """(label, value) lines of one lesson."""
    lines = [("Тема", entry.lesson.topic)]
    if entry.lesson.homework is not None:
        lines.append(("Домашнее задание", _homework_text(entry.lesson.homework)))
    marks = _current_marks(entry)
    if marks:
        lines.append(("Отметки", "; ".join(_mark_text(m) for m in marks)))
    if entry.attendance:
        meaning = ATTENDANCE.get(entry.attendance, "")
        lines.append(("Посещаемость", f"{entry.attendance} — {meaning}".rstrip(" —")))
    for comment in entry.comments:
        lines.append(("Комментарий учителя", comment.text))
    return lines


def _subjects(diary: Diary) -> dict[UUID, str]:
    return {
        entry.lesson.subject_id: entry.lesson.subject for day in diary.days for entry in day.lessons
    }


def build_digest(diary: Diary, heading: Heading, *, unsubscribe_url: str) -> DigestContent:
    """The digest of ``diary`` (one week). Raises nothing."""
    first, last = diary.starts_on, diary.ends_on
    subject = (
        f"Дневник: {heading.student}, {heading.class_name} — неделя "
        f"{ru_date(first)} – {ru_date(last, year=True)}"
    )
    subjects = _subjects(diary)
    text: list[str] = [
        f"Электронный дневник: {heading.student}, {heading.class_name}, {heading.school}",
        f"Неделя {ru_date(first)} – {ru_date(last, year=True)}",
        "",
    ]
    body: list[str] = [
        f"<h1>{html.escape(heading.student)}, {html.escape(heading.class_name)}</h1>",
        f"<p>{html.escape(heading.school)}. Неделя {ru_date(first)} – "
        f"{ru_date(last, year=True)}.</p>",
    ]
    empty = True
    all_marks: list[str] = []
    for day in diary.days:
        if not day.lessons and not day.messages:
            continue
        empty = False
        title = f"{WEEKDAYS[day.on.weekday()]}, {ru_date(day.on)}"
        text.append(title)
        body.append(f"<h2>{html.escape(title)}</h2>")
        if day.lessons:
            body.append("<table border='1' cellpadding='4' cellspacing='0'>")
            body.append(
                "<tr><th>Урок</th><th>Предмет</th><th>Тема и домашнее задание</th>"
                "<th>Отметки и посещаемость</th></tr>"
            )
        for entry in day.lessons:
            lesson = entry.lesson
            text.append(f"  {lesson.slot}. {lesson.subject} ({lesson.starts_at:%H:%M})")
            for label, value in _lesson_lines(entry):
                text.append(f"     {label}: {value}")
            all_marks += [f"{m.value} ({lesson.subject})" for m in _current_marks(entry)]
            left = [("Тема", lesson.topic)]
            if lesson.homework is not None:
                left.append(("Домашнее задание", _homework_text(lesson.homework)))
            right = [
                line for line in _lesson_lines(entry) if line[0] not in {"Тема", "Домашнее задание"}
            ]
            body.append(
                f"<tr><td>{lesson.slot}</td><td>{html.escape(lesson.subject)}</td>"
                f"<td>{_html_lines(left)}</td><td>{_html_lines(right)}</td></tr>"
            )
        if day.lessons:
            body.append("</table>")
        if day.messages:
            text.append("  Сообщения родителям:")
            body.append("<p><b>Сообщения родителям:</b></p><ul>")
        for message in day.messages:
            about = subjects.get(message.subject_id, "")
            prefix = f"{about}: " if about else ""
            text.append(f"     {prefix}{message.text}")
            body.append(f"<li>{html.escape(prefix + message.text)}</li>")
        if day.messages:
            body.append("</ul>")
        text.append("")
    summary = "Отметки за неделю: " + (", ".join(all_marks) if all_marks else "нет")
    text += [summary, "", "—", _footer_text(unsubscribe_url)]
    body += [
        f"<p><b>{html.escape(summary)}</b></p>",
        "<hr>",
        "<p style='font-size:small'>Письмо отправлено по подписке на рассылку электронного "
        "дневника (п. 1.6 Порядка ведения электронного журнала). "
        f"<a href='{html.escape(unsubscribe_url, quote=True)}'>Отписаться от рассылки</a>.</p>",
    ]
    page = (
        "<!DOCTYPE html><html lang='ru'><head><meta charset='utf-8'>"
        f"<title>{html.escape(subject)}</title></head><body>" + "\n".join(body) + "</body></html>"
    )
    return DigestContent(subject, "\n".join(text) + "\n", page, empty, diary, heading)


def _html_lines(lines: list[tuple[str, str]]) -> str:
    return "<br>".join(
        f"<i>{html.escape(label)}:</i> {html.escape(value)}" for label, value in lines
    )


def _footer_text(unsubscribe_url: str) -> str:
    return (
        "Письмо отправлено по подписке на рассылку электронного дневника (п. 1.6 Порядка ведения "
        f"электронного журнала).\nОтписаться от рассылки: {unsubscribe_url}"
    )


def digest_pdf(content: DigestContent, *, now: datetime) -> bytes:
    """The week as a PDF/A-3b printout (the layout of the weekly diary printout, not certified:
    a certified one is printed by the school on request). Raises ``RenderError``."""
    diary, heading = content.diary, content.heading
    lessons: list[dict[str, Any]] = []
    for day in diary.days:
        for entry in day.lessons:
            lesson = entry.lesson
            lessons.append(
                {
                    "on": lesson.on.isoformat(),
                    "slot": lesson.slot,
                    "starts_at": lesson.starts_at.isoformat(),
                    "subject": lesson.subject,
                    "topic": lesson.topic,
                    "homework": None
                    if lesson.homework is None
                    else {"text": _homework_text(lesson.homework)},
                    "marks": [
                        {"value": m.value, "work_type": m.work_type, "cancelled": False}
                        for m in _current_marks(entry)
                    ],
                    "comments": [{"text": c.text} for c in entry.comments],
                    "attendance": {} if not entry.attendance else {"student": entry.attendance},
                }
            )
    document = {
        "format": "ejournal-weekly-digest/1",
        "title": f"Дневник: {heading.student}, {heading.class_name}, неделя "
        f"{diary.starts_on:%d.%m.%Y}–{diary.ends_on:%d.%m.%Y}",
        "school": {"name": heading.school},
        "class": {"name": heading.class_name},
        "student": {"id": str(diary.student_id), "name": heading.student},
        "from": diary.starts_on.isoformat(),
        "to": diary.ends_on.isoformat(),
        "lessons": lessons,
    }
    view = weekly_diary_view(document)
    view["lines"].append("Еженедельная рассылка электронного дневника (п. 1.6), без заверения")
    subjects = _subjects(diary)
    for day in diary.days:
        for message in day.messages:
            about = subjects.get(message.subject_id, "")
            view["lines"].append(
                f"Сообщение родителям ({ru_date(day.on)}, {about}): {message.text}"
            )
    data = json.dumps(document, ensure_ascii=False, sort_keys=True).encode("utf-8")
    # A PDF's dates are whole seconds (Typst refuses microseconds, which the clock has).
    moment = now.astimezone(UTC).replace(microsecond=0)
    return render(document=data, view=view, block=None, timestamp=moment)


def week_days(monday: date) -> tuple[date, date]:
    """Monday and Sunday of the week."""
    return monday, monday + timedelta(days=6)
