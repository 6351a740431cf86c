"""A school's mail state moves with its logs (``Region.move``, ``Region.move_year``).

The subscriptions' index, the outbox with its delivery attempts and the link tokens of the school
years moved are service state beside the logs (``mail.tables``), read by the mail thread of the
server the logs live on. Left behind, the old server would go on planning the school's digests
from read models the school no longer writes, and the links of messages already sent would find
their subscription on a server that refuses its writes. So they move in the placement's switch:
the logs are fenced on the old server by then, so no subscription step changes them there.

One source transaction takes the rows out (``DELETE … RETURNING``: exactly what it copies, even
if the old server's mail thread plans or sends at that moment) and commits only after the target
has them. Interrupted, it moved everything or nothing, and runs again: rows the target already
holds are skipped by their keys, and a delivery attempt is copied with its outbox row only.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from ejournal.ledger.database import Cursor, Database
from ejournal.mail.tables import create_mail_tables

_SUBSCRIPTIONS = "subscription_id, school_id, year_start, student_id, parent_id, created_at"
_TOKENS = (
    "token_sha256, purpose, subscription_id, address_ref, code_sha256, failures, created_at, "
    "expires_at, used_at"
)
_OUTBOX = (
    "kind, subscription_id, week, school_id, year_start, class_id, student_id, parent_id, "
    "address_ref, address_digest, attach_pdf, status, phase, attempts, next_attempt_at, "
    "claimed_by, claimed_until, created_at, sent_at, reply_code, last_error"
)
_ATTEMPT = "attempt, at, outcome, reply_code, detail"


def move_mail_state(source: Database, target: Database, log_ids: Collection[str]) -> int:
    """Move the mail state of the school years whose logs are ``log_ids`` (``school/<id>/<years>``)
    from ``source`` to ``target``; the number of subscriptions moved."""
    if not _has_mail_tables(source):
        return 0  # no mail service ever ran there
    create_mail_tables(target)
    moved = 0
    for school, year in sorted({_school_year(log_id) for log_id in log_ids}):
        with source.transaction(write=True) as taken, target.transaction(write=True) as given:
            moved += _move_year(taken, given, school, year)
    return moved


def _move_year(taken: Cursor, given: Cursor, school: str, year: int) -> int:
    of_year = "school_id = ? AND year_start = ?"
    subscriptions_of_year = f"SELECT subscription_id FROM mail_subscriptions WHERE {of_year}"
    outbox_of_year = f"SELECT id FROM mail_outbox WHERE {of_year}"
    tokens = _taken(
        taken,
        f"DELETE FROM mail_tokens WHERE subscription_id IN ({subscriptions_of_year}) "
        f"RETURNING {_TOKENS}",
        (school, year),
    )
    attempts = _taken(
        taken,
        f"DELETE FROM mail_attempts WHERE outbox_id IN ({outbox_of_year}) "
        f"RETURNING outbox_id, {_ATTEMPT}",
        (school, year),
    )
    outbox = _taken(
        taken, f"DELETE FROM mail_outbox WHERE {of_year} RETURNING id, {_OUTBOX}", (school, year)
    )
    subscriptions = _taken(
        taken,
        f"DELETE FROM mail_subscriptions WHERE {of_year} RETURNING {_SUBSCRIPTIONS}",
        (school, year),
    )
    _give(given, "mail_subscriptions", _SUBSCRIPTIONS, subscriptions)
    _give(given, "mail_tokens", _TOKENS, tokens)
    new_ids = {}
    for old_id, *row in outbox:
        # The target numbers its rows; a row it holds already (a run that was interrupted after
        # the target's commit) keeps its attempts there, so they are not copied twice.
        given.execute(
            f"INSERT INTO mail_outbox ({_OUTBOX}) VALUES ({_marks(row)}) "
            "ON CONFLICT DO NOTHING RETURNING id",
            tuple(row),
        )
        inserted = given.fetchone()
        if inserted is not None:
            new_ids[old_id] = inserted[0]
    _give(
        given,
        "mail_attempts",
        f"outbox_id, {_ATTEMPT}",
        [(new_ids[outbox_id], *rest) for outbox_id, *rest in attempts if outbox_id in new_ids],
    )
    return len(subscriptions)


def _taken(cursor: Cursor, statement: str, parameters: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    cursor.execute(statement, parameters)
    return [tuple(row) for row in cursor.fetchall()]


def _give(cursor: Cursor, table: str, columns: str, rows: Sequence[tuple[Any, ...]]) -> None:
    for row in rows:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({_marks(row)}) ON CONFLICT DO NOTHING", row
        )


def _marks(row: Sequence[Any]) -> str:
    return ", ".join("?" * len(row))


def _school_year(log_id: str) -> tuple[str, int]:
    """``school/<id>/2024-2025`` → (``<id>``, 2024)."""
    _, school, years = log_id.split("/")
    return school, int(years.split("-")[0])


def _has_mail_tables(database: Database) -> bool:
    with database.transaction(write=False) as cursor:
        cursor.execute("SELECT to_regclass('mail_outbox') IS NOT NULL")
        row = cursor.fetchone()
    return bool(row and row[0])
