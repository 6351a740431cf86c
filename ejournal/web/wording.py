"""How the administration's and the auditor's pages name in Russian what the API names by code:
what a read in the access log was, what an invalidated operation would have recorded, who filed
a breach report."""

from __future__ import annotations

from uuid import UUID

ACCESS_NAMES = {
    "diary": "дневник ученика",
    "personal_data": "персональные данные",
    "class_journal": "страница журнала",
    "summary_sheet": "сводная ведомость",
    "monitor": "мониторинг ведения журнала",
    "marks": "отметки ученика за год",
    "receipt": "квитанция об отметке",
    "reentry": "перечень операций к повторному вводу",
    "access_log": "журнал доступа",
    "roster": "список учеников",
    "me": "главная страница",
}

EVENT_NAMES = {
    "Lesson.MarkRecorded": "выставлена отметка",
    "Lesson.MarkCorrected": "исправлена отметка",
    "Lesson.MarkCancelled": "отменена отметка",
    "Lesson.AttendanceRecorded": "отмечена посещаемость",
    "Lesson.TopicSet": "записана тема урока",
    "Lesson.HomeworkAssigned": "задано домашнее задание",
    "Lesson.CommentAdded": "добавлен комментарий",
    "Lesson.Cancelled": "урок отменён",
    "Lesson.Replanned": "урок перенесён",
    "Lesson.SubstituteAssigned": "назначена замена",
}

FILED_BY = {
    "owner": "владелец учётной записи",
    "head": "руководитель ОУ",
    "support": "техническая поддержка",
}


def short_id(value: UUID) -> str:
    """The first eight hex digits of an ID that has no name (a session): enough to tell two
    apart on a page, and to find one in the access log."""
    return value.hex[:8]
