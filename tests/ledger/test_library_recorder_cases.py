"""The eventsourcing library's own recorder test cases, run against our chained recorders.

Saves that name no ``WriteContext`` (as these cases do) go to the system log, so every case also
exercises the chain; each test ends by verifying the whole ledger it wrote.
"""

from __future__ import annotations

import os
import tempfile

import pytest
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.tests.persistence import (
    ApplicationRecorderTestCase,
    NonInterleavingNotificationIDsBaseCase,
)

from ejournal.ledger.database import Database
from ejournal.ledger.recorders import (
    ChainedPostgresApplicationRecorder,
    ChainedSQLiteApplicationRecorder,
)
from ejournal.ledger.verify import verify_ledger
from tests.conftest import _pg_reachable, create_pg_database, drop_pg_database


class SQLiteCase:
    def setUp(self) -> None:
        handle, self.path = tempfile.mkstemp(suffix=".db")
        os.close(handle)
        self.datastore = SQLiteDatastore(self.path, lock_timeout=30)

    def tearDown(self) -> None:
        verify_ledger(Database(self.datastore))
        self.datastore.close()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.path + suffix):
                os.remove(self.path + suffix)

    def create_recorder(self) -> ChainedSQLiteApplicationRecorder:
        recorder = ChainedSQLiteApplicationRecorder(self.datastore)
        recorder.create_table()
        return recorder


class PostgresCase:
    def setUp(self) -> None:
        reason = _pg_reachable()
        if reason is not None:
            if os.environ.get("CI") == "true":
                pytest.fail(f"PostgreSQL required under CI=true: {reason}")
            pytest.skip(f"PostgreSQL not reachable: {reason}")
        self.url = create_pg_database()
        self.datastore = PostgresDatastore(
            dbname=self.url.rsplit("/", 1)[1],
            host="127.0.0.1",
            port="5432",
            user="postgres",
            password="",
            pool_size=10,
            max_overflow=10,
        )

    def tearDown(self) -> None:
        verify_ledger(Database(self.datastore))
        self.datastore.close()
        drop_pg_database(self.url)

    def create_recorder(self) -> ChainedPostgresApplicationRecorder:
        recorder = ChainedPostgresApplicationRecorder(self.datastore)
        recorder.create_table()
        return recorder


class TestSQLiteApplicationRecorder(SQLiteCase, ApplicationRecorderTestCase):  # type: ignore[misc]
    pass


class TestSQLiteNonInterleaving(SQLiteCase, NonInterleavingNotificationIDsBaseCase):  # type: ignore[misc]
    pass


class TestPostgresApplicationRecorder(PostgresCase, ApplicationRecorderTestCase):  # type: ignore[misc]
    EXPECT_CONTIGUOUS_NOTIFICATION_IDS = False


class TestPostgresNonInterleaving(PostgresCase, NonInterleavingNotificationIDsBaseCase):  # type: ignore[misc]
    pass
