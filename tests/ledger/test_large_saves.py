"""Large saves over PostgreSQL's Unix socket (I1, I2): a save of megabytes is recorded, chained
and verifiable, whichever way it is sent. Pipelined, such a query hung for ever over the socket
(``recorders.PIPELINE_BYTES``); the district generator's and the import's saves are that large."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.recorders import PIPELINE_BYTES
from ejournal.ledger.verify import verify_ledger
from tests.ledger.support import TEACHER, Notebook

SOCKETS = Path("/var/run/postgresql")


def _over_the_socket(postgres_url: str) -> str:
    """``postgres_url``'s database, reached over the server's Unix socket."""
    port = urlsplit(postgres_url).port or 5432
    if not (SOCKETS / f".s.PGSQL.{port}").exists():
        message = f"no PostgreSQL socket in {SOCKETS} for port {port}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    database = urlsplit(postgres_url).path.lstrip("/")
    return f"postgresql://postgres@:{port}/{database}?host={SOCKETS}"


def _within(seconds: float, work: Callable[[], None]) -> None:
    """Run ``work``; fail, rather than hang the suite, if it takes longer than ``seconds``."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as e:  # reported below, in the test's thread
            failure.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"the save did not finish in {seconds} s"
    if failure:
        raise failure[0]


@pytest.mark.parametrize(
    ("events", "line_bytes"),
    [
        (6, 300_000),  # few events, each large: once continued by the server in one round trip
        (6_000, 400),  # many small events: once the library's pipelined insert
    ],
)
def test_a_save_of_megabytes_over_the_socket_is_recorded_and_verifies(
    postgres_url: str, clock: ManualClock, events: int, line_bytes: int
) -> None:
    assert events * line_bytes > 4 * PIPELINE_BYTES
    ledger = Ledger(database_url=_over_the_socket(postgres_url), clock=clock)
    try:
        book = Notebook(title="большая тетрадь")
        for n in range(events - 1):
            book.write(f"{n:06d} " + "ж" * (line_bytes // 2))
        _within(
            60, lambda: ledger.record(book, log_id="test/big", actor=TEACHER, role=Role.TEACHER)
        )
        assert len(ledger.get(book.id, Notebook).lines) == events - 1
        # The next, small save continues the chain from the large one's head.
        book = ledger.get(book.id, Notebook)
        book.write("ещё строка")
        ledger.record(book, log_id="test/big", actor=TEACHER, role=Role.TEACHER)
        # Verification raises on any broken chain or index; every event is in the log.
        sizes = {log.log_id: log.size for log in verify_ledger(ledger.database).logs}
        assert sizes["test/big"] == events + 1
    finally:
        ledger.close()
