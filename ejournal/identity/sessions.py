"""Login sessions: opaque random tokens, stored only as SHA-256 hashes, with an expiry (п. 4.2).

A session is bound to one account and one credential version; its ID is what every event the
session writes carries (``Actor.session_id``, I8). The token itself is shown to the client once
and never stored: a stolen database yields no usable token. Sessions are ended, not deleted, so
the table also answers "which sessions did this account have, and why did each end".

A session opened with a one-time password (an administrator's reset) is ``password_change_only``:
it may change the password and log out, nothing else (``api.deps.current_caller``).

Whether a session is live is read from this table at every request, by every server process: ending
a session (logout, a lock, a breach report, the administration's invalidation, п. 4.4) ends it
everywhere at its next request.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid4

from ejournal.integrity.leaf import from_micros, micros
from ejournal.ledger.async_database import Statement
from ejournal.ledger.database import Database

TOKEN_BYTES = 32


@dataclass(frozen=True, slots=True)
class Session:
    session_id: UUID
    account_id: UUID
    credential_version: int
    opened_at: datetime
    expires_at: datetime
    password_change_only: bool = False


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


class SessionStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    def open(
        self,
        account_id: UUID,
        credential_version: int,
        *,
        now: datetime,
        ttl: timedelta,
        password_change_only: bool = False,
    ) -> tuple[str, Session]:
        """A new session; returns its token (to hand to the client once) and the session."""
        token = secrets.token_urlsafe(TOKEN_BYTES)
        session = Session(
            session_id=uuid4(),
            account_id=account_id,
            credential_version=credential_version,
            opened_at=now,
            expires_at=now + ttl,
            password_change_only=password_change_only,
        )
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "INSERT INTO api_sessions (session_id, token_sha256, account_id, "
                "credential_version, opened_at, expires_at, password_change_only) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    str(session.session_id),
                    token_digest(token),
                    str(account_id),
                    credential_version,
                    micros(now),
                    micros(session.expires_at),
                    int(password_change_only),
                ),
            )
        return token, session

    def find(self, token: str, *, now: datetime) -> Session | None:
        """The live session of ``token``: None if unknown, ended or expired."""
        with self._database.transaction(write=False) as cursor:
            cursor.execute(*live_session_query(token, now))
            return session_from_row(cursor.fetchone())

    def account_of(self, session_id: UUID) -> UUID | None:
        """The account a session (live or ended) was opened for; None for an unknown one."""
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT account_id FROM api_sessions WHERE session_id = ?", (str(session_id),)
            )
            row = cursor.fetchone()
        return None if row is None else UUID(row[0])

    def end(self, session_id: UUID, reason: str, *, now: datetime) -> bool:
        """End a live session; whether it was live."""
        with self._database.transaction(write=True) as cursor:
            result = cursor.execute(
                "UPDATE api_sessions SET ended_at = ?, end_reason = ? "
                "WHERE session_id = ? AND ended_at IS NULL",
                (micros(now), reason, str(session_id)),
            )
            return int(getattr(result, "rowcount", 0) or 0) == 1

    def end_all(
        self, account_id: UUID, reason: str, *, now: datetime, below_version: int | None = None
    ) -> int:
        """End every live session of the account (only those of credential versions below
        ``below_version``, if given); returns how many ended."""
        sql = (
            "UPDATE api_sessions SET ended_at = ?, end_reason = ? "
            "WHERE account_id = ? AND ended_at IS NULL"
        )
        params: list[object] = [micros(now), reason, str(account_id)]
        if below_version is not None:
            sql += " AND credential_version < ?"
            params.append(below_version)
        with self._database.transaction(write=True) as cursor:
            result = cursor.execute(sql, params)
            return int(getattr(result, "rowcount", 0) or 0)


def live_session_query(token: str, now: datetime) -> Statement:
    """The query of ``SessionStore.find``, for a caller that runs it elsewhere (on the event
    loop); ``session_from_row`` reads its row."""
    return (
        "SELECT session_id, account_id, credential_version, opened_at, expires_at, "
        "password_change_only FROM api_sessions "
        "WHERE token_sha256 = ? AND ended_at IS NULL AND expires_at > ?",
        (token_digest(token), micros(now)),
    )


def session_from_row(row: tuple[str, str, int, int, int, int] | None) -> Session | None:
    if row is None:
        return None
    return Session(
        session_id=UUID(row[0]),
        account_id=UUID(row[1]),
        credential_version=int(row[2]),
        opened_at=from_micros(int(row[3])),
        expires_at=from_micros(int(row[4])),
        password_change_only=bool(row[5]),
    )
