"""The server's clock: the trusted time of every record. Injected, so that tests can move it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def __call__(self) -> datetime:
        """Return the current time, timezone-aware."""
        ...


def system_clock() -> datetime:
    """The real clock, in UTC."""
    return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to: for tests, the demo and the generator."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware start")
        self._now = start

    def __call__(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("the clock needs a timezone-aware time")
        self._now = moment

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now
