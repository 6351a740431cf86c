"""The mail service's own tables, beside the ledger in the same database.

Mutable service state, never ledger events (like ``identity.tables``): what was sent when, and the
secrets of links. None holds an e-mail address: the outbox names the subscription, the address's
reference in the vault and a keyed digest of the address (to send a week once per address).

- ``mail_subscriptions``: an index (subscription → school, year, student, parent) so that planning
  a week needs no scan of the ledger; the truth is the ``MailSubscription`` aggregate.
- ``mail_outbox``: one row per message to send, unique per (subscription, week) and per (student,
  week, address); its status moves ``pending`` → ``sending`` → ``sent`` (or ``skipped``,
  ``bounced``, ``failed``, ``uncertain``).
- ``mail_attempts``: every delivery attempt and its outcome, failures included.
- ``mail_tokens``: SHA-256 of link tokens and codes (confirm, unsubscribe), never the tokens.
"""

from __future__ import annotations

from ejournal.ledger.database import Database, column_types

_TABLES = (
    """CREATE TABLE IF NOT EXISTS mail_subscriptions (
        subscription_id TEXT PRIMARY KEY,
        school_id TEXT NOT NULL,
        year_start INTEGER NOT NULL,
        student_id TEXT NOT NULL,
        parent_id TEXT NOT NULL,
        created_at BIGINT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS mail_subscriptions_year ON mail_subscriptions (year_start)",
    """CREATE TABLE IF NOT EXISTS mail_outbox (
        id {serial} PRIMARY KEY,
        kind TEXT NOT NULL,
        subscription_id TEXT NOT NULL,
        week TEXT NOT NULL,
        school_id TEXT NOT NULL,
        year_start INTEGER NOT NULL,
        class_id TEXT,
        student_id TEXT NOT NULL,
        parent_id TEXT NOT NULL,
        address_ref TEXT NOT NULL,
        address_digest TEXT NOT NULL,
        attach_pdf INTEGER NOT NULL,
        status TEXT NOT NULL,
        phase TEXT,
        attempts INTEGER NOT NULL,
        next_attempt_at BIGINT NOT NULL,
        claimed_by TEXT,
        claimed_until BIGINT,
        created_at BIGINT NOT NULL,
        sent_at BIGINT,
        reply_code INTEGER,
        last_error TEXT,
        UNIQUE (kind, subscription_id, week),
        UNIQUE (kind, student_id, week, address_digest)
    )""",
    "CREATE INDEX IF NOT EXISTS mail_outbox_due ON mail_outbox (status, next_attempt_at)",
    "CREATE INDEX IF NOT EXISTS mail_outbox_class ON mail_outbox (class_id, status)",
    """CREATE TABLE IF NOT EXISTS mail_attempts (
        id {serial} PRIMARY KEY,
        outbox_id BIGINT NOT NULL,
        attempt INTEGER NOT NULL,
        at BIGINT NOT NULL,
        outcome TEXT NOT NULL,
        reply_code INTEGER,
        detail TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS mail_attempts_outbox ON mail_attempts (outbox_id, id)",
    """CREATE TABLE IF NOT EXISTS mail_tokens (
        token_sha256 {bytes} PRIMARY KEY,
        purpose TEXT NOT NULL,
        subscription_id TEXT NOT NULL,
        address_ref TEXT NOT NULL,
        code_sha256 {bytes},
        failures INTEGER NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT,
        used_at BIGINT
    )""",
    "CREATE INDEX IF NOT EXISTS mail_tokens_subscription ON mail_tokens (subscription_id)",
)


def create_mail_tables(database: Database) -> None:
    """Create the tables if they are missing (idempotent)."""
    types = column_types(database)
    with database.transaction(write=True) as cursor:
        for statement in _TABLES:
            cursor.execute(statement.format(**types))
