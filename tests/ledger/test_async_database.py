"""Statements on the event loop (``ledger.async_database``), and the reads that go with them: the
event cache brought up to date over async connections (``Ledger.refresh_cached_reads``), and reads
that must not wait on the database (``Ledger.memory_only``). PostgreSQL only: on SQLite requests
keep to threads."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ejournal.ledger.application import Ledger
from ejournal.ledger.async_database import AsyncDatabase
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.errors import DatabaseUnavailableError, NotInMemory
from tests.ledger.support import Notebook, two_processes, write_line, write_notebooks


@pytest.fixture
def pair(postgres_url: str, clock: ManualClock) -> Iterator[tuple[Ledger, Ledger]]:
    with two_processes(postgres_url, clock) as both:
        yield both


def _twin(ledger: Ledger) -> AsyncDatabase:
    database = AsyncDatabase.beside(ledger.database)
    assert database is not None
    return database


def test_sqlite_requests_keep_to_threads(tmp_path: Path) -> None:
    ledger = Ledger(database_url=f"sqlite:///{tmp_path / 'e.db'}")
    try:
        assert AsyncDatabase.beside(ledger.database) is None
    finally:
        ledger.close()


def test_statements_run_in_the_loop_that_opened_them(pair: tuple[Ledger, Ledger]) -> None:
    database = _twin(pair[0])

    async def use() -> tuple[bool, bool, Any, list[Any]]:
        before = database.ready
        await database.open()
        try:
            created, inserted, one = await database.together(
                ("CREATE TABLE probe (x INTEGER)", ()),
                ("INSERT INTO probe VALUES (?), (?)", (7, 8)),
                ("SELECT x FROM probe WHERE x = ?", (7,)),
            )
            assert created == inserted == []
            return before, database.ready, one, await database.fetchall("SELECT x FROM probe")
        finally:
            await database.close()

    assert asyncio.run(use()) == (False, True, [(7,)], [(7,), (8,)])
    assert not database.ready  # closed, and no loop runs here


def test_a_failing_statement_is_database_unavailable(pair: tuple[Ledger, Ledger]) -> None:
    database = _twin(pair[0])

    async def use() -> None:
        with pytest.raises(DatabaseUnavailableError, match="not open"):
            await database.fetchall("SELECT 1")
        await database.open()
        try:
            with pytest.raises(DatabaseUnavailableError, match="no_such_table"):
                await database.fetchall("SELECT * FROM no_such_table")
        finally:
            await database.close()

    asyncio.run(use())


def test_memory_only_is_for_cached_reads(pair: tuple[Ledger, Ledger]) -> None:
    with pytest.raises(NotInMemory, match="outside cached_reads"), pair[0].memory_only():
        pass


def test_memory_only_reads_what_the_async_refresh_brought(pair: tuple[Ledger, Ledger]) -> None:
    # A request on the event loop sees every change recorded before it began, by any process,
    # and never waits on a blocking query: what memory cannot answer is NotInMemory.
    reader, writer = pair
    database = _twin(reader)
    (book,) = write_notebooks(writer, count=1, lines=1)

    async def read(*, load: bool) -> list[str]:
        with reader.cached_reads():
            with pytest.raises(NotInMemory), reader.memory_only():
                reader.get(book.id, Notebook)  # the cache is not brought up to date yet
            await reader.refresh_cached_reads(database)
            if load:
                with pytest.raises(NotInMemory), reader.memory_only():
                    reader.get(book.id, Notebook)  # not held: a thread would read it
                reader.get(book.id, Notebook)  # (in a test the loop may wait)
            with reader.memory_only():
                lines: list[str] = reader.get(book.id, Notebook).lines
                return lines

    async def requests() -> tuple[list[str], list[str]]:
        await database.open()
        try:
            first = await read(load=True)
            write_line(writer, book.id, "from another process")
            return first, await read(load=False)
        finally:
            await database.close()

    assert asyncio.run(requests()) == (["line 0"], ["line 0", "from another process"])


def test_queries_of_callers_in_flight_share_a_round_trip(pair: tuple[Ledger, Ledger]) -> None:
    # The cache refreshes of concurrent requests read the same tail: sent once, shared. A
    # sequence makes it visible: one nextval per round trip and distinct statement.
    database = _twin(pair[0])
    counted = ("SELECT nextval('trips')", ())

    async def use() -> list[Any]:
        await database.open()
        try:
            await database.together(("CREATE SEQUENCE trips", ()))
            first = asyncio.ensure_future(database.shared(counted))
            await asyncio.sleep(0)  # its round trip starts; the others gather for the next
            others = [database.shared(counted, ("SELECT ?::int", (n,))) for n in range(3)]
            return await asyncio.gather(first, *others)
        finally:
            await database.close()

    first, *others = asyncio.run(use())
    assert first == [[(1,)]]
    assert others == [[[(2,)], [(n,)]] for n in range(3)]


def test_a_failing_shared_round_trip_fails_each_of_its_callers(
    pair: tuple[Ledger, Ledger],
) -> None:
    database = _twin(pair[0])

    async def use() -> list[Any]:
        await database.open()
        try:
            first = asyncio.ensure_future(database.shared(("SELECT 1", ())))
            await asyncio.sleep(0)
            return await asyncio.gather(
                first,
                database.shared(("SELECT 2", ())),
                database.shared(("SELECT * FROM no_such_table", ())),
                return_exceptions=True,
            )
        finally:
            await database.close()

    first, *others = asyncio.run(use())
    assert first == [[(1,)]]
    for outcome in others:
        assert isinstance(outcome, DatabaseUnavailableError)
        assert "no_such_table" in str(outcome)
