"""The identity service's own tables, beside the ledger in the same database.

Credentials, sessions, login attempts and the personal-data vault are mutable state of their own,
never ledger events: password hashes and personal data must be changeable and destroyable (I9),
which a ledger entry never is. The access log is append-only, like the ledger (I4).
Statements use ``?`` placeholders (``ledger.database.Database`` rewrites them for PostgreSQL);
UUIDs are stored as text on both databases, times as microseconds since the epoch (UTC).

A database made before a column existed gets it added (``_COLUMNS``); the throttle's earlier
table (``api_login_failures``, counted per login only) is dropped: it held nothing worth keeping.
"""

from __future__ import annotations

from ejournal.ledger.database import Cursor, Database, column_types

_TABLES = (
    """CREATE TABLE IF NOT EXISTS api_credentials (
        account_id TEXT NOT NULL,
        credential_version INTEGER NOT NULL,
        password_hash TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        one_time INTEGER NOT NULL DEFAULT 0,
        used_at BIGINT,
        PRIMARY KEY (account_id, credential_version)
    )""",
    """CREATE TABLE IF NOT EXISTS api_sessions (
        session_id TEXT PRIMARY KEY,
        token_sha256 {bytes} NOT NULL UNIQUE,
        account_id TEXT NOT NULL,
        credential_version INTEGER NOT NULL,
        opened_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        ended_at BIGINT,
        end_reason TEXT,
        password_change_only INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX IF NOT EXISTS api_sessions_account ON api_sessions (account_id)",
    "DROP TABLE IF EXISTS api_login_failures",
    # Password checks counted per lane (a login from one source, a login, a source): the keys
    # are digests, so the table names neither logins nor addresses.
    """CREATE TABLE IF NOT EXISTS api_login_attempts (
        lane TEXT PRIMARY KEY,
        attempts INTEGER NOT NULL,
        last_attempt_at BIGINT NOT NULL,
        next_attempt_at BIGINT NOT NULL
    )""",
    # The (login, source) pairs of recent successful logins: attempts from them are the owner's
    # lane, which strangers elsewhere cannot slow down.
    """CREATE TABLE IF NOT EXISTS api_login_sources (
        pair TEXT PRIMARY KEY,
        last_success_at BIGINT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS personal_data (
        person_id TEXT PRIMARY KEY,
        school_id TEXT,
        kek_id TEXT NOT NULL,
        wrapped_key {bytes},
        ciphertext {bytes},
        updated_at BIGINT NOT NULL,
        forgotten_at BIGINT
    )""",
    """CREATE TABLE IF NOT EXISTS access_log (
        id {serial} PRIMARY KEY,
        at BIGINT NOT NULL,
        reader_account_id TEXT NOT NULL,
        reader_role TEXT NOT NULL,
        session_id TEXT NOT NULL,
        school_id TEXT,
        subject_id TEXT NOT NULL,
        what TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS access_log_subject ON access_log (subject_id, id)",
    "CREATE INDEX IF NOT EXISTS access_log_school ON access_log (school_id, id)",
)

_COLUMNS = (
    ("api_credentials", "one_time", "INTEGER NOT NULL DEFAULT 0"),
    ("api_credentials", "used_at", "BIGINT"),
    ("api_sessions", "password_change_only", "INTEGER NOT NULL DEFAULT 0"),
)
"""Columns added after their table was first made: (table, column, declaration)."""

_SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER IF NOT EXISTS access_log_refuse_{op} BEFORE {OP} ON access_log "
    "BEGIN SELECT RAISE(ABORT, 'the access log is append-only: {OP}'); END"
)
_POSTGRES_APPEND_ONLY = (
    "CREATE OR REPLACE FUNCTION ejournal_access_log_refuse() RETURNS trigger LANGUAGE plpgsql "
    "AS $$ BEGIN RAISE EXCEPTION 'the access log is append-only: %%', TG_OP; END $$",
    "CREATE OR REPLACE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log "
    "FOR EACH ROW EXECUTE FUNCTION ejournal_access_log_refuse()",
    "CREATE OR REPLACE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION ejournal_access_log_refuse()",
)


def create_identity_tables(database: Database) -> None:
    """Create the tables if they are missing (idempotent)."""
    types = column_types(database)
    with database.transaction(write=True) as cursor:
        for statement in _TABLES:
            cursor.execute(statement.format(**types))
        _add_missing_columns(cursor, database.dialect)
        if database.dialect == "sqlite":
            for op in ("update", "delete"):
                cursor.execute(_SQLITE_APPEND_ONLY.format(op=op, OP=op.upper()))
        else:
            for statement in _POSTGRES_APPEND_ONLY:
                cursor.execute(statement)


def _add_missing_columns(cursor: Cursor, dialect: str) -> None:
    for table, column, declaration in _COLUMNS:
        if dialect == "sqlite":
            cursor.execute(f"PRAGMA table_info({table})")
            if any(row[1] == column for row in cursor.fetchall()):
                continue
            cursor.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
        else:
            cursor.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {declaration}")
