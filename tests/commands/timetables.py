"""The test school's timetable (``tests.commands.school``), for the timetable's tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from ejournal import commands as c
from ejournal.ledger.domain import Lesson
from tests.commands.school import TestSchool

E = c.TimetableEntry
FIRST = date(2025, 9, 1)
QUARTERS = (
    (date(2025, 9, 1), date(2025, 10, 26)),
    (date(2025, 11, 5), date(2025, 12, 28)),
    (date(2026, 1, 12), date(2026, 3, 22)),
    (date(2026, 4, 1), date(2026, 5, 26)),
)
"""The test school's quarters (``tests.commands.school``): its lessons are held on their days."""


def school_days(first: date, last: date = date(2026, 8, 31)) -> Iterator[date]:
    """The test school's days of lessons: in a quarter, not a Sunday."""
    day = first
    while day <= last:
        if day.isoweekday() != 7 and any(a <= day <= b for a, b in QUARTERS):
            yield day
        day += timedelta(days=1)


def week(school: TestSchool) -> tuple[c.TimetableEntry, ...]:
    """5«А»: mathematics first and Russian second every weekday, the English group third on
    Monday, Wednesday and Friday."""
    maths, russian, english = (
        school.subjects[s] for s in ("Математика", "Русский язык", "Английский язык")
    )
    found = []
    for weekday in range(1, 6):
        found.append(E(weekday, 1, school.class_id, maths, school.person["maths"], "12"))
        found.append(E(weekday, 2, school.class_id, russian, school.person["russian"], "14"))
        if weekday in (1, 3, 5):
            found.append(E(weekday, 3, school.group_id, english, school.person["english"], "21"))
    return tuple(found)


def set_timetable(
    school: TestSchool, entries_: tuple[c.TimetableEntry, ...], on: date = FIRST, **kw: Any
) -> c.TimetableChange:
    actor = kw.pop("actor", school.deputy)
    command = c.SetTimetable(
        actor=actor,
        class_id=kw.pop("class_id", school.class_id),
        effective_from=on,
        entries=entries_,
    )
    return c.handle(command, school.ledger)


def lesson(school: TestSchool, on: date, slot: int, roster_id: UUID | None = None) -> Lesson:
    lesson_id = Lesson.create_id(roster_id=roster_id or school.class_id, on=on, slot=slot)
    return school.ledger.get(lesson_id, Lesson)


OCTOBER = date(2025, 10, 1)
