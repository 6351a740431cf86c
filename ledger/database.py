"""Plain SQL over the ledger's own connection pool, for verification and read models.

Statements are written once with ``?`` placeholders; on PostgreSQL they are rewritten to ``%s``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal, Protocol
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from psycopg.rows import tuple_row

Dialect = Literal["sqlite", "postgres"]


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] = ...) -> Any: ...
    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class _PostgresCursor:
    """A psycopg cursor that accepts ``?`` placeholders."""

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._cursor.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> Any:
        return self._cursor.executemany(sql.replace("?", "%s"), params)

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cursor.fetchall())


class Database:
    """Transactions and streaming reads on the datastore of an eventsourcing recorder."""

    def __init__(self, datastore: SQLiteDatastore | PostgresDatastore) -> None:
        self._datastore = datastore
        self.dialect: Dialect = "sqlite" if isinstance(datastore, SQLiteDatastore) else "postgres"

    def uuid(self, value: UUID) -> Any:
        """A UUID as this database stores it in the ledger tables (hex text on SQLite)."""
        return value.hex if self.dialect == "sqlite" else value

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Cursor]:
        """One transaction; committed on success if ``write``, rolled back otherwise."""
        if isinstance(self._datastore, SQLiteDatastore):
            with self._datastore.transaction(commit=write) as cursor:
                raw = cursor.sqlite_cursor
                raw.row_factory = None  # plain tuples, as on PostgreSQL
                yield raw
            return
        with self._datastore.get_connection() as conn, conn.transaction():
            if not write:
                conn.execute("SET TRANSACTION READ ONLY")
            with conn.cursor(row_factory=tuple_row) as cursor:
                yield _PostgresCursor(cursor)

    def stream(self, sql: str, params: Sequence[Any] = (), *, batch: int = 10_000) -> Iterator[Any]:
        """Yield the rows of a query in one snapshot, without holding them all in memory."""
        if isinstance(self._datastore, SQLiteDatastore):
            with self._datastore.transaction(commit=False) as cursor:
                raw = cursor.sqlite_cursor
                raw.row_factory = None
                raw.execute(sql, params)
                while rows := raw.fetchmany(batch):
                    yield from rows
            return
        with self._datastore.get_connection() as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            # Binary results: bytea, integers and UUIDs arrive without text parsing.
            with conn.cursor(name="ejournal_stream", row_factory=tuple_row, binary=True) as cursor:
                cursor.itersize = batch
                cursor.execute(sql.replace("?", "%s"), params)
                yield from cursor
