"""Fixtures of the projection tests: a school built through the commands (copied from a template,
as in tests/commands/conftest.py), its projector and its queries, on SQLite and on PostgreSQL
(the ``ledger`` fixture runs every test on both)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.projections.projector import Projector
from ejournal.projections.queries import Queries
from tests.commands.conftest import database_template, school

MOSCOW = ZoneInfo("Europe/Moscow")


def moscow(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Moscow wall-clock time, as the server clock reads it (UTC)."""
    return datetime(year, month, day, hour, minute, tzinfo=MOSCOW).astimezone(UTC)


@pytest.fixture
def projector(ledger: Ledger) -> Iterator[Projector]:
    projector = Projector(ledger, poll_seconds=0.01)
    try:
        yield projector
    finally:
        projector.stop()


@pytest.fixture
def queries(ledger: Ledger, clock: ManualClock) -> Queries:
    return Queries(ledger.database, clock=clock)


__all__ = ["database_template", "school"]
