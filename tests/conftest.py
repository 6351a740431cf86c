"""Shared fixtures: every ledger, command and verify test runs on SQLite and on PostgreSQL (I10).

PostgreSQL tests create a database of their own and drop it afterwards. Where PostgreSQL cannot be
reached they are skipped, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock

PG_ADMIN_URL = os.environ.get("EJOURNAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ["sqlite", "postgres"]


def _pg_reachable() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except psycopg.Error as e:
        return str(e)


@pytest.fixture(scope="session")
def pg_available() -> None:
    reason = _pg_reachable()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required under CI=true and cannot be reached: {reason}")
    pytest.skip(f"PostgreSQL not reachable: {reason}")


def create_pg_database() -> str:
    name = f"ejournal_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(pg_available: None) -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped afterwards."""
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ejournal.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def clock() -> ManualClock:
    """The server clock, at 09:00 Moscow time on Monday 1 September 2025."""
    return ManualClock(datetime(2025, 9, 1, 6, 0, tzinfo=UTC))


@pytest.fixture
def ledger(database_url: str, clock: ManualClock) -> Iterator[Ledger]:
    app = Ledger(database_url=database_url, clock=clock)
    try:
        yield app
    finally:
        app.close()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI=true, a skipped PostgreSQL test fails the run: I10 requires both databases."""
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    postgres_skips = [r.nodeid for r in skipped if "postgres" in r.nodeid.lower()]
    if postgres_skips:
        print(f"\nCI=true but {len(postgres_skips)} PostgreSQL tests were skipped")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
