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
from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.postgres import PostgresDatastore
from psycopg_pool import AsyncConnectionPool

from ledger.database import Database
from ledger.errors import DatabaseUnavailableError

Statement = tuple[str, Sequence[Any]]
"""SQL with ``?`` placeholders, and its parameters."""

MAX_CONNECTIONS = 4
"""Per process: a statement here holds its connection for one round trip."""


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
