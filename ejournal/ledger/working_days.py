"""Working days, for the one deadline the regulation counts in them: a breach of a login is reported
within one working day of the day it became known (п. 4.3).

Saturdays and Sundays are days off, and so are the public holidays fixed by art. 112 of the Labour
Code. Each year the government also moves some days off (a Monday off, a Saturday worked), so the
deployment adds the year's extra holidays and working weekend days in its settings
(``EJOURNAL_HOLIDAYS``, ``EJOURNAL_WORKING_WEEKENDS``: ISO dates separated by commas).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from ejournal.ledger.errors import LedgerError

PUBLIC_HOLIDAYS: frozenset[tuple[int, int]] = frozenset(
    {(1, day) for day in range(1, 9)} | {(2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)}
)
"""(month, day) of the non-working public holidays of art. 112 of the Labour Code."""


class CalendarError(LedgerError):
    """A setting of the working-day calendar is not a list of ISO dates."""


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    holidays: frozenset[date] = frozenset()
    """Days off beyond weekends and ``PUBLIC_HOLIDAYS`` (the year's moved days off)."""
    working_weekends: frozenset[date] = frozenset()
    """Saturdays and Sundays that are working days this year."""

    def is_working(self, day: date) -> bool:
        if day in self.working_weekends:
            return True
        if day in self.holidays or (day.month, day.day) in PUBLIC_HOLIDAYS:
            return False
        return day.weekday() < 5

    def next_working_day(self, day: date) -> date:
        """The first working day after ``day``."""
        following = day + timedelta(days=1)
        while not self.is_working(following):
            following += timedelta(days=1)
        return following

    def report_deadline(self, learned: date) -> date:
        """The last day on which a breach that became known on ``learned`` is reported in time.

        "Within one working day of the day it became known" (п. 4.3): a period counted in days
        starts on the day after the event (art. 191 of the Civil Code), so the deadline is the end
        of the first working day after ``learned``.
        """
        return self.next_working_day(learned)

    @classmethod
    def from_settings(cls, env: Mapping[str, str]) -> WorkingCalendar:
        """The calendar of ``EJOURNAL_HOLIDAYS`` and ``EJOURNAL_WORKING_WEEKENDS``; raises
        ``CalendarError`` for a value that is not ISO dates separated by commas."""
        return cls(
            holidays=_dates(env, "EJOURNAL_HOLIDAYS"),
            working_weekends=_dates(env, "EJOURNAL_WORKING_WEEKENDS"),
        )


def _dates(env: Mapping[str, str], name: str) -> frozenset[date]:
    items: Iterable[str] = (item.strip() for item in env.get(name, "").split(","))
    try:
        return frozenset(date.fromisoformat(item) for item in items if item)
    except ValueError as e:
        raise CalendarError(f"{name}: {e}") from None
