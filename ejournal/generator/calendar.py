"""The 2025/26 school year every generated school keeps: periods, holidays, bells, work types.

Quarters for grades 1–9, half-years for grades 10–11; a five-day week; the public holidays that fall
on school days are declared as days off.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

from ejournal import commands as c
from ejournal.ledger.domain.values import BellSlot, PeriodScheme

TIME_ZONE = ZoneInfo("Europe/Moscow")
YEAR = 2025
FIRST_DAY = date(2025, 9, 1)
SETUP_DAY = date(2025, 8, 25)
LAST_LESSON_DAY = date(2026, 5, 26)
EXAM_DAY = date(2026, 6, 9)
"""The day the exam marks of grades 9 and 11 are entered (ОГЭ, ЕГЭ)."""
FINAL_DAY = date(2026, 6, 19)
"""The day the final marks of grades 9 and 11 are entered."""

QUARTERS = (
    c.PeriodSpec("I четверть", date(2025, 9, 1), date(2025, 10, 26)),
    c.PeriodSpec("II четверть", date(2025, 11, 5), date(2025, 12, 28)),
    c.PeriodSpec("III четверть", date(2026, 1, 12), date(2026, 3, 22)),
    c.PeriodSpec("IV четверть", date(2026, 4, 1), date(2026, 5, 26)),
)
HALF_YEARS = (
    c.PeriodSpec("1 полугодие", date(2025, 9, 1), date(2025, 12, 28)),
    c.PeriodSpec("2 полугодие", date(2026, 1, 12), date(2026, 5, 26)),
)
HOLIDAYS = (
    ("Осенние каникулы", date(2025, 10, 27), date(2025, 11, 4)),
    ("Зимние каникулы", date(2025, 12, 29), date(2026, 1, 11)),
    ("День защитника Отечества", date(2026, 2, 23), date(2026, 2, 23)),
    ("Международный женский день", date(2026, 3, 9), date(2026, 3, 9)),
    ("Весенние каникулы", date(2026, 3, 23), date(2026, 3, 31)),
    ("Праздник Весны и Труда", date(2026, 5, 1), date(2026, 5, 1)),
    ("День Победы", date(2026, 5, 11), date(2026, 5, 11)),
    ("Летние каникулы", date(2026, 5, 27), date(2026, 8, 31)),
)
BELLS = (
    BellSlot(1, time(8, 30), time(9, 15)),
    BellSlot(2, time(9, 25), time(10, 10)),
    BellSlot(3, time(10, 30), time(11, 15)),
    BellSlot(4, time(11, 35), time(12, 20)),
    BellSlot(5, time(12, 30), time(13, 15)),
    BellSlot(6, time(13, 25), time(14, 10)),
    BellSlot(7, time(14, 20), time(15, 5)),
)

ANSWER = "Ответ на уроке"
HOMEWORK_CHECK = "Домашняя работа"
CLASS_WORK = "Самостоятельная работа"
TEST = "Контрольная работа"
ESSAY = "Сочинение"
WORK_TYPES = (
    (ANSWER, 1, False),
    (HOMEWORK_CHECK, 1, False),
    (CLASS_WORK, 2, True),
    (TEST, 3, True),
    (ESSAY, 3, True),
)
"""Name, weight, written (a written work's mark carries the day its checking ended, п. 2.5)."""


def scheme_of(grade: int) -> PeriodScheme:
    """Quarters for grades 1–9, half-years for 10–11."""
    return PeriodScheme.HALF_YEARS if grade >= 10 else PeriodScheme.QUARTERS


def periods_of(scheme: PeriodScheme) -> tuple[c.PeriodSpec, ...]:
    return HALF_YEARS if scheme is PeriodScheme.HALF_YEARS else QUARTERS


def is_school_day(day: date) -> bool:
    """A weekday in a period of the quarters and not a declared holiday."""
    if day.weekday() >= 5:
        return False
    if not any(p.starts_on <= day <= p.ends_on for p in QUARTERS):
        return False
    return not any(start <= day <= end for _, start, end in HOLIDAYS)


def weeks(first: date = FIRST_DAY, last: date = LAST_LESSON_DAY) -> Iterator[tuple[date, ...]]:
    """The school days from ``first`` to ``last``, week by week (weeks without any are skipped)."""
    monday = first - timedelta(days=first.weekday())
    while monday <= last:
        days = tuple(
            d
            for d in (monday + timedelta(days=n) for n in range(5))
            if first <= d <= last and is_school_day(d)
        )
        if days:
            yield days
        monday += timedelta(days=7)


def period_ending_in(days: tuple[date, ...], scheme: PeriodScheme) -> c.PeriodSpec | None:
    """The period of ``scheme`` whose last week of lessons is ``days`` (п. 2.8), if any."""
    for period in periods_of(scheme):
        last = max(d for d in _period_days(period))
        if last in days:
            return period
    return None


def _period_days(period: c.PeriodSpec) -> Iterator[date]:
    day = period.starts_on
    while day <= period.ends_on:
        if is_school_day(day):
            yield day
        day += timedelta(days=1)
