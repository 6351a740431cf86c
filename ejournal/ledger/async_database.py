"""Statements run on the event loop, over psycopg's async connections (PostgreSQL only).

The routes that touch the database run in a thread pool, and each trip there and back costs more
CPU than the statements of a small request (measured 0.4–0.8 ms on this 2-core machine, twice
per authenticated request). The busiest paths — authentication, the diary — run their few
statements here instead, on the request's own event loop, and leave anything else (a cache miss,
a write, SQLite) to the thread pool. Statements are written with ``?`` placeholders, as for
``Database``; rows are tuples.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

import psycopg
from eventsourcing.postgres import PostgresDatastore
from psycopg_pool import AsyncConnectionPool

from ejournal.ledger.database import Database
from ejournal.ledger.errors import DatabaseUnavailableError

Statement = tuple[str, Sequence[Any]]
"""SQL with ``?`` placeholders, and its parameters."""

MAX_CONNECTIONS = 4
"""Per process: a statement here holds its connection for one round trip."""

T = TypeVar("T")
R = TypeVar("R")


class Gathered(Generic[T, R]):
    """Calls that arrive while a round trip is in flight, gathered for the next one (as a
    database's group commit, with no timer): a lone call costs its round trip, as it would
    alone, and under load one round trip serves many. ``send`` makes the round trip for a batch
    of calls and returns each one's result, in order; if it raises, every call of the batch
    raises that. One event loop."""

    def __init__(self, send: Callable[[list[T]], Awaitable[list[R]]]) -> None:
        self._send = send
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def __call__(self, call: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((call, future))
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_waiting())
        return await future

    async def _send_waiting(self) -> None:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    results = await self._send([call for call, _ in batch])
                except Exception as e:  # DatabaseUnavailableError; anything else alike
                    for _, future in batch:
                        if not future.done():  # else its caller was cancelled
                            future.set_exception(e)
                else:
                    for (_, future), result in zip(batch, results, strict=True):
                        if not future.done():
                            future.set_result(result)
                batch = []
        finally:
            self._sender = None
            # Left only if this task was cancelled (the loop is closing): their callers end too.
            for _, future in batch + self._waiting:
                future.cancel()
            self._waiting = []


class AsyncDatabase:
    """Open it (``open``) in the event loop that will use it, and close it there; it serves only
    that loop (``ready``)."""

    def __init__(self, datastore: PostgresDatastore, *, max_connections: int = MAX_CONNECTIONS):
        # The same server, database and login as the ledger's own pool, with tuples for rows.
        kwargs = datastore.pool.kwargs
        assert isinstance(kwargs, dict)  # eventsourcing passes a dict
        self._kwargs = {
            **{k: v for k, v in kwargs.items() if k != "row_factory"},
            "autocommit": True,
        }
        self._max_connections = max_connections
        self._pool: AsyncConnectionPool | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._shared = Gathered(self._together_distinct)

    @classmethod
    def beside(cls, database: Database) -> AsyncDatabase | None:
        """The async twin of ``database``; None for SQLite, whose requests keep to threads."""
        datastore = database.datastore
        return cls(datastore) if isinstance(datastore, PostgresDatastore) else None

    async def open(self) -> None:
        """Start connecting (in the background: a database that is down does not stop the
        server from starting; statements then fail with ``DatabaseUnavailableError``)."""
        if self._pool is not None:
            return
        self._pool = AsyncConnectionPool(
            kwargs=self._kwargs, min_size=1, max_size=self._max_connections, open=False, timeout=5
        )
        await self._pool.open(wait=False)
        self._loop = asyncio.get_running_loop()

    async def close(self) -> None:
        pool, self._pool, self._loop = self._pool, None, None
        if pool is not None:
            await pool.close()

    @property
    def ready(self) -> bool:
        """Open, in the running event loop."""
        try:
            return self._pool is not None and asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        (rows,) = await self.together((sql, params))
        return rows

    async def shared(self, *statements: Statement) -> list[list[Any]]:
        """``together``, in a round trip shared with other callers (``Gathered``), where a
        statement that several of them run with the same parameters is sent once: for queries
        only. Each caller gets the rows of its statements, run after it called."""
        return await self._shared(statements)

    async def _together_distinct(self, batch: list[tuple[Statement, ...]]) -> list[list[list[Any]]]:
        keys = [[_key(statement) for statement in statements] for statements in batch]
        distinct: dict[Hashable, Statement] = {}
        for statements, their_keys in zip(batch, keys, strict=True):
            for statement, key in zip(statements, their_keys, strict=True):
                distinct.setdefault(key, statement)
        rows = dict(zip(distinct, await self.together(*distinct.values()), strict=True))
        return [[rows[key] for key in their_keys] for their_keys in keys]

    async def together(self, *statements: Statement) -> list[list[Any]]:
        """Run ``statements`` in one round trip (psycopg's pipeline mode), in order; the rows of
        each (none for a statement that returns none). Each round trip costs the server and this
        process a wake-up and a system call or two at each end, more than a small statement."""
        if self._pool is None:
            raise DatabaseUnavailableError("the async connections are not open")
        try:
            async with self._pool.connection() as conn:
                if len(statements) == 1:  # a pipeline would add a round trip's worth of work
                    cursors = [await conn.execute(*_placeheld(statements[0]))]
                else:
                    async with conn.pipeline():
                        cursors = [await conn.execute(*_placeheld(s)) for s in statements]
                return [
                    await cursor.fetchall() if cursor.description is not None else []
                    for cursor in cursors
                ]
        except psycopg.Error as e:  # the pool's PoolTimeout and PoolClosed are among them
            raise DatabaseUnavailableError(str(e)) from e


def _placeheld(statement: Statement) -> tuple[str, Sequence[Any]]:
    sql, params = statement
    return sql.replace("?", "%s"), params


def _key(statement: Statement) -> Hashable:
    """The same for the same SQL and parameters; unique where a parameter is not hashable."""
    sql, params = statement
    key = (sql, tuple(params))
    try:
        hash(key)
    except TypeError:
        return object()
    return key
