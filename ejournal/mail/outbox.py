"""The outbox (``mail_outbox``): what goes in, what a claimed row carries, and what can be read.

Each message is a row of ``mail_outbox`` before anything is sent; the row's unique keys, one per
(subscription, week) and one per (student, week, address digest), are what make a week go to an
address once however often a week is planned, by the server's schedule or by ``ejournal digest``.
A confirmation's "week" is its address reference: one confirmation message per request.

Subscribing (``subscriptions``) and planning (``planning``) put rows in; ``delivery`` moves them
from ``pending`` to their end; this module reads the class teacher's bounces and a week's counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from ejournal.integrity.leaf import from_micros, micros
from ejournal.ledger.clock import Clock
from ejournal.ledger.database import Database
from ejournal.mail.addresses import AddressBook

DIGEST = "digest"
CONFIRMATION = "confirmation"


@dataclass(frozen=True, slots=True, kw_only=True)
class Outgoing:
    """A message to put in the outbox: whose, for which week, to which address reference."""

    kind: str
    """``DIGEST`` or ``CONFIRMATION``."""
    subscription_id: UUID
    week: str
    """The ISO week of a digest; the address reference of a confirmation."""
    school_id: UUID
    year_start: int
    class_id: UUID | None
    student_id: UUID
    parent_id: UUID
    address_ref: UUID
    attach_pdf: bool


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A row a sender has claimed: what it needs to write and send the message."""

    id: int
    kind: str
    subscription_id: UUID
    week: str
    school_id: UUID
    year_start: int
    class_id: UUID | None
    student_id: UUID
    parent_id: UUID
    address_ref: UUID
    attach_pdf: bool
    attempts: int
    """Counting the attempt under way."""

    @classmethod
    def from_values(cls, values: Any) -> OutboxRow:
        """The row from the values of ``ROW_COLUMNS``, in that order."""
        return cls(
            int(values[0]),
            values[1],
            UUID(values[2]),
            values[3],
            UUID(values[4]),
            int(values[5]),
            UUID(values[6]) if values[6] else None,
            UUID(values[7]),
            UUID(values[8]),
            UUID(values[9]),
            bool(values[10]),
            int(values[11]),
        )


ROW_COLUMNS = (
    "id, kind, subscription_id, week, school_id, year_start, class_id, student_id, parent_id, "
    "address_ref, attach_pdf, attempts"
)
"""The columns of ``mail_outbox`` that ``OutboxRow.from_values`` reads."""


@dataclass(frozen=True, slots=True)
class Bounce:
    """A digest or confirmation the mail server refused for good: the class teacher's worklist."""

    outbox_id: int
    subscription_id: UUID
    student_id: UUID
    parent_id: UUID
    week: str
    """The ISO week of the digest; ``""`` for a confirmation."""
    reply_code: int | None
    detail: str
    at: datetime


class Outbox:
    """The ``mail_outbox`` table; thread-safe (every call is its own transaction)."""

    def __init__(self, database: Database, book: AddressBook, clock: Clock) -> None:
        self._database = database
        self._book = book
        self._clock = clock

    def enqueue(self, message: Outgoing, address: str) -> int:
        """Put ``message`` for ``address`` in the outbox, due now; returns 1 if the row is new, 0
        if the outbox already holds it (the same week or request, or the same address)."""
        now = micros(self._clock())
        with self._database.transaction(write=True) as cursor:
            result = cursor.execute(
                "INSERT INTO mail_outbox (kind, subscription_id, week, school_id, year_start, "
                "class_id, student_id, parent_id, address_ref, address_digest, attach_pdf, "
                "status, attempts, next_attempt_at, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (
                    message.kind,
                    str(message.subscription_id),
                    message.week,
                    str(message.school_id),
                    message.year_start,
                    None if message.class_id is None else str(message.class_id),
                    str(message.student_id),
                    str(message.parent_id),
                    str(message.address_ref),
                    self._book.digest(address),
                    int(message.attach_pdf),
                    now,
                    now,
                ),
            )
            return max(int(getattr(result, "rowcount", 0)), 0)

    def bounces(self, class_id: UUID) -> list[Bounce]:
        """The class's refused digests and confirmations, newest first (the class teacher's
        worklist: ask the parent for a working address)."""
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT id, subscription_id, student_id, parent_id, kind, week, reply_code, "
                "last_error, sent_at FROM mail_outbox WHERE class_id = ? AND status = 'bounced' "
                "ORDER BY id DESC",
                (str(class_id),),
            )
            rows = cursor.fetchall()
        return [
            Bounce(
                int(row[0]),
                UUID(row[1]),
                UUID(row[2]),
                UUID(row[3]),
                row[5] if row[4] == DIGEST else "",
                None if row[6] is None else int(row[6]),
                row[7] or "",
                from_micros(row[8]),
            )
            for row in rows
        ]

    def digest_counts(self, week: str) -> dict[str, int]:
        """How many digests of ``week`` are in each status."""
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT status, COUNT(*) FROM mail_outbox WHERE kind = ? AND week = ? "
                "GROUP BY status",
                (DIGEST, week),
            )
            return {status: int(count) for status, count in cursor.fetchall()}
