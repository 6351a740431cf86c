"""The access log of reads served on the event loop (``GroupedEntries``, п. 1.7): each read waits
until its own entry is written, reads that arrive while a round trip is in flight share the next
one, and a failed insert serves none of its reads. PostgreSQL only, as the event loop's path."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest

from ejournal.identity.access_log import Access, GroupedEntries, Row
from ejournal.ledger.application import Ledger
from ejournal.ledger.async_database import AsyncDatabase
from ejournal.ledger.errors import DatabaseUnavailableError
from tests.identity.support import ledger_with_identity_tables

COUNTED = ("SELECT count(*) FROM access_log", ())


@pytest.fixture
def ledger(postgres_url: str) -> Iterator[Ledger]:
    with ledger_with_identity_tables(postgres_url) as ledger:
        yield ledger


def _row(n: int, subject: str | None = None) -> Row:
    reader = str(uuid4())
    return (n, reader, "parent", str(uuid4()), None, subject or str(uuid4()), Access.DIARY.value)


def _written(ledger: Ledger) -> tuple[int, int]:
    """(entries, transactions that wrote them)."""
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT xmin::text) FROM access_log")
        count, transactions = cursor.fetchone()
    return int(count), int(transactions)


def _run(ledger: Ledger, first: list[Row], *then: list[Row]) -> list[Any]:
    """Each read's outcome: the query's rows or the error. The reads ``then`` arrive while the
    ``first`` read's round trip is in flight."""
    database = AsyncDatabase.beside(ledger.database)
    assert database is not None

    async def concurrently() -> list[Any]:
        await database.open()
        try:
            log = GroupedEntries(database, COUNTED)
            ahead = asyncio.ensure_future(log.write(first))
            await asyncio.sleep(0)  # it starts its round trip
            return await asyncio.gather(
                ahead, *(log.write(rows) for rows in then), return_exceptions=True
            )
        finally:
            await database.close()

    return asyncio.run(concurrently())


def test_reads_in_flight_together_share_a_round_trip(ledger: Ledger) -> None:
    # п. 1.7: every read is logged before it is served; under load, many to an insert.
    answers = _run(ledger, [_row(0)], *([_row(n)] for n in range(1, 20)), [_row(20), _row(21)])
    # The first read's round trip, then one for the 20 reads that arrived meanwhile.
    assert _written(ledger) == (22, 2)
    # Each read got the query's rows as read after its own entry was written.
    assert [rows[0][0] for rows in answers] == [1] + [22] * 20


def test_a_lone_read_is_written_at_once(ledger: Ledger) -> None:
    (rows,) = _run(ledger, [_row(1)])
    assert rows == [(1,)]
    assert _written(ledger) == (1, 1)


def test_a_failed_insert_serves_none_of_its_reads(ledger: Ledger) -> None:
    # п. 1.7: a read that was not logged is not served. The first read's round trip is in
    # flight when the others arrive; one of those has an entry the table refuses (no subject).
    bad: Row = (*_row(2)[:5], None, Access.DIARY.value)  # type: ignore[assignment]
    first, *others = _run(ledger, [_row(1)], [_row(2)], [bad], [_row(3)])
    assert first == [(1,)]
    for outcome in others:
        assert isinstance(outcome, DatabaseUnavailableError)
        assert "subject_id" in str(outcome)
    assert _written(ledger) == (1, 1)


def test_closed_connections_serve_no_read(ledger: Ledger) -> None:
    database = AsyncDatabase.beside(ledger.database)
    assert database is not None
    log = GroupedEntries(database, COUNTED)
    with pytest.raises(DatabaseUnavailableError, match="not open"):
        asyncio.run(log.write([_row(1)]))
    assert _written(ledger) == (0, 0)


def test_a_read_may_ask_a_query_of_its_own_in_the_same_round_trip(ledger: Ledger) -> None:
    # п. 1.7, issue 20: the diary asks the vault for its names in the round trip that logs it;
    # reads asking the same query share it, a read asking none gets no rows.
    database = AsyncDatabase.beside(ledger.database)
    assert database is not None
    mine = ("SELECT count(*) FROM access_log WHERE subject_id = ?", ("someone",))
    theirs = ("SELECT ? || '!'", ("theirs",))

    async def concurrently() -> list[Any]:
        await database.open()
        try:
            log = GroupedEntries(database, COUNTED)
            ahead = asyncio.ensure_future(log.write([_row(0)]))
            await asyncio.sleep(0)  # it starts its round trip; the others share the next
            return await asyncio.gather(
                ahead,
                log.write_and_read([_row(1, "someone")], mine),
                log.write_and_read([_row(2, "someone")], mine),
                log.write_and_read([_row(3)], theirs),
                log.write([_row(4)]),
            )
        finally:
            await database.close()

    first, one, two, three, four = asyncio.run(concurrently())
    assert first == [(1,)]
    # Read after both entries of "someone" were written, in the round trip that wrote them.
    assert one == two == ([(5,)], [(2,)])
    assert three == ([(5,)], [("theirs!",)])
    assert four == [(5,)]
    assert _written(ledger) == (5, 2)
