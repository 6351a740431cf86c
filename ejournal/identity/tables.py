"""The identity service's own tables, beside the ledger in the same database.

Credentials, sessions, failed logins and the personal-data vault are mutable state of their own,
never ledger events: password hashes and personal data must be changeable and destroyable (I9),
which a ledger entry never is. The access log is append-only, like the ledger (I4).
Statements use ``?`` placeholders (``ledger.database.Database`` rewrites them for PostgreSQL);
UUIDs are stored as text on both databases, times as microseconds since the epoch (UTC).
"""

from __future__ import annotations

from ejournal.ledger.database import Database, column_types

_TABLES = (
    """CREATE TABLE IF NOT EXISTS api_credentials (
        account_id TEXT NOT NULL,
        credential_version INTEGER NOT NULL,
        password_hash TEXT NOT NULL,
        created_at BIGINT NOT NULL,
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
        end_reason TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS api_sessions_account ON api_sessions (account_id)",
    """CREATE TABLE IF NOT EXISTS api_login_failures (
        login TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        last_failure_at BIGINT NOT NULL,
        locked_until BIGINT
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
        if database.dialect == "sqlite":
            for op in ("update", "delete"):
                cursor.execute(_SQLITE_APPEND_ONLY.format(op=op, OP=op.upper()))
        else:
            for statement in _POSTGRES_APPEND_ONLY:
                cursor.execute(statement)
