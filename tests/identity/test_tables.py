"""The identity tables on a database made by an earlier version (SQLite and PostgreSQL): the
columns of one-time passwords and of sessions that may only change them are added, the old
throttle table goes, and what was stored stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from ejournal.identity.credentials import CredentialStore
from ejournal.identity.sessions import SessionStore
from ejournal.identity.tables import create_identity_tables
from ejournal.ledger.application import Ledger

NOW = datetime(2025, 9, 1, 6, 0, tzinfo=UTC)

_EARLIER = (
    """CREATE TABLE api_credentials (
        account_id TEXT NOT NULL,
        credential_version INTEGER NOT NULL,
        password_hash TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (account_id, credential_version)
    )""",
    """CREATE TABLE api_sessions (
        session_id TEXT PRIMARY KEY,
        token_sha256 {bytes} NOT NULL UNIQUE,
        account_id TEXT NOT NULL,
        credential_version INTEGER NOT NULL,
        opened_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        ended_at BIGINT,
        end_reason TEXT
    )""",
    """CREATE TABLE api_login_failures (
        login TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        last_failure_at BIGINT NOT NULL,
        locked_until BIGINT
    )""",
)


def test_an_earlier_database_gets_the_new_columns(database_url: str) -> None:
    ledger = Ledger(database_url=database_url)
    try:
        database = ledger.database
        account = uuid4()
        with database.transaction(write=True) as cursor:
            for statement in _EARLIER:
                kind = "BLOB" if database.dialect == "sqlite" else "bytea"
                cursor.execute(statement.format(bytes=kind))
            cursor.execute(
                "INSERT INTO api_credentials VALUES (?, 1, 'an old hash', 0)", (str(account),)
            )
        create_identity_tables(database)
        create_identity_tables(database)  # idempotent
        stored = CredentialStore(database).stored(account, 1)
        assert stored is not None
        assert (stored.password_hash, stored.one_time, stored.used) == ("an old hash", False, False)
        token, session = SessionStore(database).open(
            account, 1, now=NOW, ttl=timedelta(hours=1), password_change_only=True
        )
        found = SessionStore(database).find(token, now=NOW)
        assert found == session and found.password_change_only
        with database.transaction(write=False) as cursor:
            cursor.execute("SELECT COUNT(*) FROM api_login_attempts")
            assert cursor.fetchone()[0] == 0
        with database.transaction(write=True) as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ?"
                if database.dialect == "postgres"
                else "SELECT COUNT(*) FROM sqlite_master WHERE name = ?",
                ("api_login_failures",),
            )
            assert cursor.fetchone()[0] == 0
    finally:
        ledger.close()
