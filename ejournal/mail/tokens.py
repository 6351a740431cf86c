"""The secrets of the messages' links (``mail_tokens``): confirm and unsubscribe tokens, and the
code of a confirmation message.

A token is the whole authority of a link (no session), so only its SHA-256 is stored, and a code
only as SHA-256 of (subscription, code). A confirm token and its code expire after
``confirm_hours`` and are used once; after ``MAX_CODE_FAILURES`` wrong codes every code of the
request is void, so a code cannot be found by trying.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from ejournal.integrity.leaf import micros
from ejournal.ledger.clock import Clock
from ejournal.ledger.database import Database
from ejournal.mail.settings import MailSettings

CONFIRM = "confirm"
UNSUBSCRIBE = "unsubscribe"
MAX_CODE_FAILURES = 5


class LinkInvalid(Exception):
    """A link's token or a code is unknown, used up or expired."""


@dataclass(frozen=True, slots=True)
class CodeMatch:
    """The confirm token whose code was entered."""

    token_sha256: bytes
    address_ref: UUID
    checked_at: int
    """When the code was checked (microseconds): the moment the token counts as used."""


def _sha256(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(parts).encode()).digest()


class LinkTokens:
    """Issues, resolves and uses link tokens and codes; thread-safe (each step one transaction)."""

    def __init__(self, database: Database, settings: MailSettings, clock: Clock) -> None:
        self._database = database
        self._settings = settings
        self._clock = clock

    def link(self, path: str, token: str) -> str:
        """The public URL of a message's link (``confirm`` or ``unsubscribe``)."""
        return f"{self._settings.public_url}/mail/{path}/{token}"

    def issue(
        self, purpose: str, subscription_id: UUID, address_ref: UUID, *, code: str | None = None
    ) -> str:
        """A new token for ``purpose`` (``CONFIRM`` tokens expire, ``UNSUBSCRIBE`` ones do not),
        with ``code`` as its code if given."""
        token = secrets.token_urlsafe(32)
        now = self._clock()
        expires = (
            micros(now + timedelta(hours=self._settings.confirm_hours))
            if purpose == CONFIRM
            else None
        )
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "INSERT INTO mail_tokens (token_sha256, purpose, subscription_id, address_ref, "
                "code_sha256, failures, created_at, expires_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)",
                (
                    _sha256(token),
                    purpose,
                    str(subscription_id),
                    str(address_ref),
                    None if code is None else _sha256(str(subscription_id), code),
                    micros(now),
                    expires,
                ),
            )
        return token

    def issued(self, token: str) -> bool:
        """Whether ``token`` was issued here, live or not: in a region each server's mail
        service issues its own, and a link, which names no server, is taken to the one that
        knows it."""
        with self._database.transaction(write=False) as cursor:
            cursor.execute("SELECT 1 FROM mail_tokens WHERE token_sha256 = ?", (_sha256(token),))
            return cursor.fetchone() is not None

    def resolve(self, token: str, purpose: str) -> tuple[UUID, UUID]:
        """The subscription and address reference of a live token. Raises ``LinkInvalid``."""
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT subscription_id, address_ref, expires_at, used_at FROM mail_tokens "
                "WHERE token_sha256 = ? AND purpose = ?",
                (_sha256(token), purpose),
            )
            row = cursor.fetchone()
        if row is None or row[3] is not None:
            raise LinkInvalid(purpose)
        if row[2] is not None and row[2] <= micros(self._clock()):
            raise LinkInvalid(purpose)
        return UUID(row[0]), UUID(row[1])

    def use(self, token: str) -> None:
        """Mark the token used (its link works once)."""
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "UPDATE mail_tokens SET used_at = ? WHERE token_sha256 = ?",
                (micros(self._clock()), _sha256(token)),
            )

    def match_code(self, subscription_id: UUID, code: str) -> CodeMatch:
        """The live confirm token of the subscription whose code is ``code``. A wrong code counts
        against every live code of the request. Raises ``LinkInvalid``."""
        now = micros(self._clock())
        digest = _sha256(str(subscription_id), code.strip())
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "SELECT token_sha256, address_ref, code_sha256 FROM mail_tokens "
                "WHERE subscription_id = ? AND purpose = ? AND used_at IS NULL "
                "AND expires_at > ? AND failures < ?",
                (str(subscription_id), CONFIRM, now, MAX_CODE_FAILURES),
            )
            rows = cursor.fetchall()
            match = next((r for r in rows if r[2] is not None and bytes(r[2]) == digest), None)
            if match is None:
                cursor.execute(
                    "UPDATE mail_tokens SET failures = failures + 1 WHERE subscription_id = ? "
                    "AND purpose = ? AND used_at IS NULL",
                    (str(subscription_id), CONFIRM),
                )
        if match is None:
            raise LinkInvalid("wrong code")
        return CodeMatch(match[0], UUID(match[1]), now)

    def use_code(self, match: CodeMatch) -> None:
        """Mark the token of a matched code used, as of when it was checked."""
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "UPDATE mail_tokens SET used_at = ? WHERE token_sha256 = ?",
                (match.checked_at, match.token_sha256),
            )
