"""Shared fixtures: every ledger, command and verify test runs on SQLite and on PostgreSQL (I10).

PostgreSQL tests create a database of their own and drop it afterwards. Where PostgreSQL cannot be
reached they are skipped, except under CI=true, where that is a failure; so are the tests that need
the extra clusters of tests/clusters.py (``pg_clusters``). A test's new database is
empty, or a copy of a template its directory's ``database_template`` names (tests/databases.py).

The suite's PostgreSQL sessions, and those of the processes it starts, commit without waiting for
the WAL to reach the disk (``synchronous_commit=off`` through libpq's ``PGOPTIONS``): what a
session sees, locks and orders is the same, and the suite takes a quarter less time on this
machine's disk. What survives a crash of the server itself is no test's question here; the
benchmarks, run outside the suite, commit as a deployment does.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from tests import clusters
from tests.databases import PG_ADMIN_URL, Template, Templates, create_pg_database, drop_pg_database

os.environ["PGOPTIONS"] = f"{os.environ.get('PGOPTIONS', '')} -c synchronous_commit=off".strip()

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


@pytest.fixture(scope="session")
def pg_clusters() -> None:
    """The shards and the hot standby of tests/clusters.py, checked once: skipped where they are
    missing, with the command that makes them, except under CI=true, where that is a failure."""
    reason = clusters.unreachable()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"the test clusters are required under CI=true and cannot serve: {reason}")
    pytest.skip(f"the test clusters cannot serve ({reason}): run {clusters.SETUP}")


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    """The session's database templates (tests/databases.py), dropped at its end."""
    made = Templates(tmp_path_factory.mktemp("templates"))
    try:
        yield made
    finally:
        made.drop()


@pytest.fixture
def database_template() -> Template[Any] | None:
    """What a test's new database (``database_url``, ``postgres_url``) is a copy of: None, an
    empty database. A directory whose tests start from a built state overrides it."""
    return None


@pytest.fixture
def postgres_url(pg_available: None, database_template: Template[Any] | None) -> Iterator[str]:
    """A new PostgreSQL database, empty (or a copy of ``database_template``), dropped
    afterwards."""
    if database_template is None:
        url = create_pg_database()
    else:
        url, _ = database_template.copy_postgres()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, database_template: Template[Any] | None
) -> str:
    """A fresh database URL: a SQLite file, or a new PostgreSQL database; empty, or a copy of
    ``database_template``."""
    if request.param == "sqlite":
        path = tmp_path / "ejournal.db"
        if database_template is not None:
            database_template.copy_sqlite(path)
        return f"sqlite:///{path}"
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
