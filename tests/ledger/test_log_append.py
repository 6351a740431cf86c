"""A small save is one statement (PostgreSQL: the log's append function, in autocommit): writers
of one log still queue, its chain never forks, and a writer that waits too long for its log's
lock is refused as before (I1, I2; docs/adr/0019-one-statement-saves.md)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.errors import DatabaseUnavailableError
from ejournal.ledger.recorders import log_lock
from ejournal.ledger.verify import verify_ledger
from tests.ledger.support import TEACHER, Notebook

WRITERS = 8
SAVES_PER_WRITER = 40


def _count(ledger: Ledger, log_id: str) -> int:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT COUNT(*) FROM stored_events WHERE log_id = ?", (log_id,))
        count: int = cursor.fetchone()[0]
        return count


def test_concurrent_writers_of_one_log_queue_and_never_fork(
    database_url: str, clock: ManualClock
) -> None:
    # Each writer is a process of its own (a ledger: its own connections). On PostgreSQL the
    # head is read inside the append function after its lock: were it read with the snapshot
    # taken before the lock wait, two writers would continue the same head, and the unique
    # (log, index) would refuse the second: a ConcurrentWriteError here, and a missing save.
    ledgers = [Ledger(database_url=database_url, clock=clock) for _ in range(WRITERS)]
    start = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def write(ledger: Ledger) -> None:
        try:
            start.wait()
            for n in range(SAVES_PER_WRITER):
                ledger.record(
                    Notebook(title=f"{n}"), log_id="test/one", actor=TEACHER, role=Role.TEACHER
                )
        except BaseException as e:  # reported in the test's thread
            failures.append(e)

    threads = [threading.Thread(target=write, args=(ledger,)) for ledger in ledgers]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        assert _count(ledgers[0], "test/one") == WRITERS * SAVES_PER_WRITER
        # Dense indexes 0…n-1 and every chain hash recomputed in Python (raises otherwise).
        sizes = {log.log_id: log.size for log in verify_ledger(ledgers[0].database).logs}
        assert sizes["test/one"] == WRITERS * SAVES_PER_WRITER
    finally:
        for ledger in ledgers:
            ledger.close()


@pytest.fixture
def log_held_elsewhere(postgres_url: str) -> Iterator[str]:
    """A log whose advisory lock another session holds (a writer that does not finish)."""
    log_id = "test/held"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s, %s)", log_lock(log_id))
        yield log_id


@pytest.mark.parametrize("events", [1, 3])
def test_a_save_that_waits_too_long_for_its_logs_lock_is_refused_and_writes_nothing(
    postgres_url: str, clock: ManualClock, log_held_elsewhere: str, events: int
) -> None:
    # One event (its own statement) and a few (the arrays' statement): the refusal of the earlier
    # transaction (BEGIN, SET LOCAL lock_timeout, the lock, ...), from the deployment's timeout.
    # Larger saves still go through that transaction (a run of this test at 65 events passes).
    ledger = Ledger(database_url=postgres_url, clock=clock, env={"POSTGRES_LOCK_TIMEOUT": "1"})
    try:
        book = Notebook(title="ждёт")
        for n in range(events - 1):
            book.write(f"line {n}")
        with pytest.raises(DatabaseUnavailableError, match="lock timeout"):
            ledger.record(book, log_id=log_held_elsewhere, actor=TEACHER, role=Role.TEACHER)
        assert _count(ledger, log_held_elsewhere) == 0
        # Another log does not wait for it.
        ledger.record(Notebook(title="free"), log_id="test/free", actor=TEACHER, role=Role.TEACHER)
        assert _count(ledger, "test/free") == 1
    finally:
        ledger.close()


def test_a_database_made_before_the_append_function_gets_it_at_startup(
    postgres_url: str, clock: ManualClock
) -> None:
    # Databases written by earlier versions have no append function; the schema setup that every
    # process runs at startup creates it (CREATE OR REPLACE), and saves continue their chains.
    ledger = Ledger(database_url=postgres_url, clock=clock)
    ledger.record(Notebook(title="before"), log_id="test/old", actor=TEACHER, role=Role.TEACHER)
    ledger.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DROP FUNCTION stored_events_append")
    ledger = Ledger(database_url=postgres_url, clock=clock)
    try:
        ledger.record(Notebook(title="after"), log_id="test/old", actor=TEACHER, role=Role.TEACHER)
        sizes = {log.log_id: log.size for log in verify_ledger(ledger.database).logs}
        assert sizes["test/old"] == 2
    finally:
        ledger.close()
