"""``Database.transaction``: what a read may do."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import ProgrammingError

from ejournal.ledger.application import Ledger


def test_a_read_transaction_writes_nothing(ledger: Ledger) -> None:
    # On PostgreSQL a read without a snapshot runs outside any transaction, so its cursor
    # refuses what READ ONLY used to; on SQLite the read transaction is rolled back.
    database = ledger.database
    with database.transaction(write=True) as cursor:
        cursor.execute("CREATE TABLE scratch (n INTEGER)")
    if database.dialect == "postgres":
        with (
            pytest.raises(ProgrammingError, match="a read transaction runs queries only"),
            database.transaction(write=False) as cursor,
        ):
            cursor.execute("INSERT INTO scratch VALUES (1)")
    else:
        with database.transaction(write=False) as cursor:
            cursor.execute("INSERT INTO scratch VALUES (1)")
    with database.transaction(write=False) as cursor:
        cursor.execute("WITH counted AS (SELECT COUNT(*) FROM scratch) SELECT * FROM counted")
        assert cursor.fetchone()[0] == 0
