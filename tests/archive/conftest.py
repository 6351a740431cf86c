"""One closed and archived school year per backend, shared by the tests of a module."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from tests.archive.support import ArchivedYear, build_archived_year
from tests.conftest import BACKENDS, create_pg_database, drop_pg_database


@pytest.fixture(scope="module", params=BACKENDS)
def archived_year(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ArchivedYear]:
    """A school year with marks, closed, its summary sheet certified, archived (п. 2.11)."""
    base = tmp_path_factory.mktemp(f"year-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{base / 'ejournal.db'}"
    else:
        request.getfixturevalue("pg_available")
        url = create_pg_database()
    clock = ManualClock(datetime(2025, 9, 1, 6, 0, tzinfo=UTC))
    ledger = Ledger(database_url=url, clock=clock)
    try:
        yield build_archived_year(ledger, clock, base / "archive")
    finally:
        ledger.close()
        if request.param == "postgres":
            drop_pg_database(url)
