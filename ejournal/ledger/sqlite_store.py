"""eventsourcing's SQLite persistence, with a statement cache that holds more than one statement.

eventsourcing 9.5 opens SQLite connections with ``cached_statements=True``, which ``sqlite3``
reads as a cache of *one* statement: each transaction's ``BEGIN`` evicts the statement before it,
so every save, page read and query compiles its SQL again (for the ledger's 14-column insert,
more than the insert itself costs). Connections here keep the ``sqlite3`` default of 128.
Everything else is the library's: the same pool, datastore, recorders and settings.
"""

from __future__ import annotations

import sqlite3

from eventsourcing.persistence import InterfaceError
from eventsourcing.sqlite import (
    SQLITE3_DEFAULT_LOCK_TIMEOUT,
    SQLiteConnection,
    SQLiteConnectionPool,
)
from eventsourcing.sqlite import Factory as LibraryFactory
from eventsourcing.utils import Environment

STATEMENT_CACHE_SIZE = 128


class CachingConnectionPool(SQLiteConnectionPool):
    """The library's pool, opening connections that cache their compiled statements."""

    def _create_connection(self) -> SQLiteConnection:
        # The library's _create_connection, with the cache size as the only change.
        try:
            connection = sqlite3.connect(
                database=self.db_name,
                uri=True,
                check_same_thread=False,
                isolation_level=None,  # autocommit: the library issues BEGIN itself
                cached_statements=STATEMENT_CACHE_SIZE,
                timeout=self.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT,
            )
        except (sqlite3.Error, TypeError) as e:
            raise InterfaceError(e) from e
        if not self.is_sqlite_memory_mode and not self.is_journal_mode_wal:
            (mode,) = connection.execute("PRAGMA journal_mode").fetchone()
            if mode.lower() != "wal":
                connection.execute("PRAGMA journal_mode=WAL")
                self.journal_mode_was_changed_to_wal = True
            self.is_journal_mode_wal = True
        connection.row_factory = sqlite3.Row
        return SQLiteConnection(sqlite_conn=connection, max_age=self.max_age)


class Factory(LibraryFactory):
    """The library's SQLite factory, whose datastore uses ``CachingConnectionPool``."""

    def __init__(self, env: Environment):
        super().__init__(env)
        library = self.datastore.pool
        library.close()  # it has opened no connection yet: the pool is lazy
        self.datastore.pool = CachingConnectionPool(
            db_name=library.db_name,
            lock_timeout=library.lock_timeout,
            pool_size=library.pool_size,
            max_overflow=library.max_overflow,
            pool_timeout=library.pool_timeout,
            max_age=library.max_age,
            pre_ping=library.pre_ping,
        )
