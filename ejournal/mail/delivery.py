"""Delivering the outbox over SMTP: each due row claimed, sent, and its outcome recorded, with
retries, bounces and the recovery of crashed senders.

Delivery, row by row:

1. **claim**: ``pending`` → ``sending`` (phase ``claimed``), with this sender's ID and a lease, by a
   compare-and-set that only one sender wins;
2. just before the message is transmitted (after the server accepted the recipient): phase
   ``data``;
3. the server's reply to the end of DATA decides: 250 → ``sent`` (only now); 4xx, a dropped
   connection or a timeout → back to ``pending`` with a doubling delay, until ``max_attempts``
   (then ``failed``); 5xx for the recipient → ``bounced``, recorded on the subscription and shown
   to the class teacher. Every attempt is a row of ``mail_attempts``.

A message that fails for a reason of its own, not the mail server's (it cannot be written: a
printout that does not render, a bug), would fail the same way at every attempt: it is ``failed``
at once, with the reason in ``last_error``, and never claimed again. Only an outage of our own
infrastructure while writing it (the database, the vault) is retried like a 4xx, up to
``max_attempts``. Nothing a row raises escapes a run or leaves the row ``sending``.

A sender that crashed leaves rows in ``sending``. When their lease has run out, a row still in
phase ``claimed`` goes back to ``pending`` (nothing was transmitted: sending it is safe). A row in
phase ``data`` becomes ``uncertain``: the server may have taken the message just before the crash
(RFC 1047's window) and SMTP cannot tell; it is not sent again, so a week never reaches an address
twice, and ``ejournal digest`` reports it. Everywhere outside that window delivery is exactly once.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import uuid4

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError

from ejournal import commands as c
from ejournal.commands.errors import CommandError
from ejournal.identity.vault import VaultError
from ejournal.integrity.leaf import micros
from ejournal.ledger.actor import SYSTEM_ACTOR
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import MailSubscription
from ejournal.ledger.domain.subscriptions import SubscriptionState
from ejournal.ledger.errors import LedgerError
from ejournal.mail.addresses import AddressBook
from ejournal.mail.messages import MessageWriter
from ejournal.mail.outbox import CONFIRMATION, DIGEST, ROW_COLUMNS, OutboxRow
from ejournal.mail.settings import MailSettings
from ejournal.mail.smtp import DeliveryError, SmtpTransport

log = logging.getLogger("ejournal.mail")

OUTAGES: tuple[type[BaseException], ...] = (
    LedgerError,
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    sqlite3.OperationalError,
    VaultError,
)
"""Our own infrastructure failing while a message is written (the database, the vault): it may
work at the next attempt, so the row is retried. Anything else fails the row at once."""


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one delivery run did, by outcome."""

    sent: int = 0
    retried: int = 0
    bounced: int = 0
    failed: int = 0
    skipped: int = 0
    uncertain: int = 0
    """Rows a crashed sender left during DATA, found by this run (not sent again)."""


class Delivery:
    """Sends what is due in the outbox; thread-safe (every step is its own transaction), and
    several senders, in one process or many, may run at once."""

    def __init__(
        self,
        ledger: Ledger,
        settings: MailSettings,
        *,
        book: AddressBook,
        writer: MessageWriter,
        transport: type[SmtpTransport] = SmtpTransport,
    ) -> None:
        self._ledger = ledger
        self._database = ledger.database
        self._settings = settings
        self._book = book
        self._writer = writer
        self._transport = transport
        self.sender_id = uuid4().hex
        """This sender's name on the rows it claims."""

    def _now(self) -> datetime:
        return self._ledger.clock()

    def deliver_due(self, *, limit: int | None = None) -> DeliveryReport:
        """Send every due message of the outbox (after taking over the rows of crashed senders);
        ``limit`` stops after that many claims. Raises nothing for a failed delivery: it is
        recorded and retried."""
        counts: Counter[str] = Counter()
        counts["uncertain"] = self.recover()
        claimed = 0
        with self._transport(self._settings) as transport:
            while limit is None or claimed < limit:
                row = self._claim_next()
                if row is None:
                    break
                claimed += 1
                counts[self._deliver(transport, row)] += 1
        return DeliveryReport(**{k: v for k, v in counts.items() if k in DeliveryReport.__slots__})

    def recover(self) -> int:
        """Take over the rows of senders whose lease ran out; returns how many became
        ``uncertain`` (their sender stopped while transmitting)."""
        now = micros(self._now())
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "SELECT id, attempts FROM mail_outbox WHERE status = 'sending' AND phase = 'data' "
                "AND claimed_until < ?",
                (now,),
            )
            uncertain = cursor.fetchall()
            for outbox_id, attempts in uncertain:
                cursor.execute(
                    "UPDATE mail_outbox SET status = 'uncertain', phase = NULL, claimed_by = NULL, "
                    "last_error = ? WHERE id = ?",
                    ("the sender stopped while transmitting; not sent again", outbox_id),
                )
                cursor.execute(
                    "INSERT INTO mail_attempts (outbox_id, attempt, at, outcome, reply_code, "
                    "detail) VALUES (?, ?, ?, 'uncertain', NULL, ?)",
                    (outbox_id, attempts, now, "the sender stopped while transmitting"),
                )
            # A row whose sender stopped while writing it, at every attempt (a printout that
            # exhausts memory, say), would be taken up for ever: after max_attempts it fails.
            cursor.execute(
                "SELECT id, attempts FROM mail_outbox WHERE status = 'sending' "
                "AND phase = 'claimed' AND claimed_until < ? AND attempts >= ?",
                (now, self._settings.max_attempts),
            )
            for outbox_id, attempts in cursor.fetchall():
                reason = f"the sender stopped while writing it, {attempts} times"
                cursor.execute(
                    "UPDATE mail_outbox SET status = 'failed', phase = NULL, claimed_by = NULL, "
                    "claimed_until = NULL, last_error = ? WHERE id = ?",
                    (reason, outbox_id),
                )
                cursor.execute(
                    "INSERT INTO mail_attempts (outbox_id, attempt, at, outcome, reply_code, "
                    "detail) VALUES (?, ?, ?, 'failed', NULL, ?)",
                    (outbox_id, attempts, now, reason),
                )
            cursor.execute(
                "UPDATE mail_outbox SET status = 'pending', phase = NULL, claimed_by = NULL, "
                "claimed_until = NULL WHERE status = 'sending' AND phase = 'claimed' "
                "AND claimed_until < ?",
                (now,),
            )
        return len(uncertain)

    def _claim_next(self) -> OutboxRow | None:
        now = self._now()
        until = micros(now + timedelta(seconds=self._settings.lease_seconds))
        while True:
            with self._database.transaction(write=True) as cursor:
                cursor.execute(
                    "SELECT id FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= ? "
                    "ORDER BY next_attempt_at, id LIMIT 1",
                    (micros(now),),
                )
                found = cursor.fetchone()
                if found is None:
                    return None
                claimed = cursor.execute(
                    "UPDATE mail_outbox SET status = 'sending', phase = 'claimed', "
                    "claimed_by = ?, claimed_until = ?, attempts = attempts + 1 "
                    "WHERE id = ? AND status = 'pending'",
                    (self.sender_id, until, found[0]),
                )
                if claimed.rowcount != 1:
                    continue  # another sender won this row: look for the next one
                cursor.execute(f"SELECT {ROW_COLUMNS} FROM mail_outbox WHERE id = ?", (found[0],))
                return OutboxRow.from_values(cursor.fetchone())

    def _mark_transmitting(self, row: OutboxRow) -> None:
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "UPDATE mail_outbox SET phase = 'data' WHERE id = ? AND claimed_by = ?",
                (row.id, self.sender_id),
            )

    def _finish(
        self,
        row: OutboxRow,
        status: str,
        outcome: str,
        detail: str,
        *,
        reply_code: int | None = None,
        retry_at: datetime | None = None,
    ) -> str:
        now = micros(self._now())
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "UPDATE mail_outbox SET status = ?, phase = NULL, claimed_by = NULL, "
                "claimed_until = NULL, next_attempt_at = ?, sent_at = ?, reply_code = ?, "
                "last_error = ? WHERE id = ? AND claimed_by = ?",
                (
                    status,
                    micros(retry_at) if retry_at is not None else now,
                    now if status != "pending" else None,
                    reply_code,
                    None if status == "sent" else detail,
                    row.id,
                    self.sender_id,
                ),
            )
            cursor.execute(
                "INSERT INTO mail_attempts (outbox_id, attempt, at, outcome, reply_code, detail) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (row.id, row.attempts, now, outcome, reply_code, detail),
            )
        return outcome

    def _deliver(self, transport: SmtpTransport, row: OutboxRow) -> str:
        try:
            address = self._book.address(row.parent_id, row.address_ref)
            subscription = self._ledger.find(row.subscription_id, MailSubscription)
            reason = self._stale(row, subscription, address)
            if reason is not None:
                return self._finish(row, "skipped", "skipped", reason)
            assert address is not None
            message = self._writer.write(row, address)
            if message is None:
                return self._finish(row, "skipped", "skipped", "nothing recorded that week")
        except OUTAGES as e:  # an outage of our own: retried like a transient failure
            log.warning("writing message %s failed, to be retried: %r", row.id, e)
            return self._retry(row, f"writing the message failed: {_reason(e)}", None)
        except Exception as e:  # the message's own: it would fail again at every attempt
            log.exception("message %s cannot be written; failed", row.id)
            return self._fail(row, f"the message cannot be written: {_reason(e)}")
        try:
            reply = transport.send(
                message,
                sender=self._settings.sender,
                recipient=address,
                before_data=lambda: self._mark_transmitting(row),
            )
        except DeliveryError as e:
            detail = e.detail.replace(address, "<address>")
            if e.address_refused:
                self._finish(row, "bounced", "bounced", detail, reply_code=e.reply_code)
                self._record_bounce(row, e.reply_code or 550)
                return "bounced"
            return self._retry(row, detail, e.reply_code)
        except OUTAGES as e:  # marking the row as transmitting failed: nothing was sent
            transport.close()
            return self._retry(row, f"recording the attempt failed: {_reason(e)}", None)
        except Exception as e:  # the message cannot be handed over, whatever the server
            transport.close()  # the transaction is in an unknown state: start the next afresh
            log.exception("message %s cannot be sent; failed", row.id)
            detail = _reason(e).replace(address, "<address>")
            return self._fail(row, f"the message cannot be sent: {detail}")
        return self._finish(row, "sent", "sent", reply.replace(address, "<address>"))

    def _fail(self, row: OutboxRow, reason: str) -> str:
        """Fail the row for good: its reason is its own, and no attempt would go otherwise."""
        return self._finish(row, "failed", "failed", reason)

    def _retry(self, row: OutboxRow, detail: str, reply_code: int | None) -> str:
        s = self._settings
        if row.attempts >= s.max_attempts:
            return self._finish(row, "failed", "failed", detail, reply_code=reply_code)
        delay = min(s.retry_seconds * 2 ** (row.attempts - 1), s.retry_max_seconds)
        retry_at = self._now() + timedelta(seconds=delay)
        self._finish(row, "pending", "retry", detail, reply_code=reply_code, retry_at=retry_at)
        return "retried"

    def _stale(
        self, row: OutboxRow, subscription: MailSubscription | None, address: str | None
    ) -> str | None:
        """Why the row should no longer be sent, if it should not."""
        if subscription is None:
            return "no such subscription"
        if address is None:
            return "the address was removed"
        if row.kind == CONFIRMATION:
            if subscription.state is not SubscriptionState.PENDING:
                return "the subscription is no longer pending"
            if subscription.address_ref != row.address_ref:
                return "a newer request superseded this one"
        elif subscription.state is not SubscriptionState.ACTIVE:
            return f"the subscription is {subscription.state.value}"
        return None

    def _record_bounce(self, row: OutboxRow, reply_code: int) -> None:
        week = row.week if row.kind == DIGEST else ""
        try:
            c.handle(
                c.RecordDigestBounce(
                    actor=SYSTEM_ACTOR,
                    subscription_id=row.subscription_id,
                    week=week,
                    reply_code=reply_code,
                ),
                self._ledger,
            )
        except CommandError as e:  # e.g. the parent unsubscribed meanwhile: the row says enough
            log.warning("bounce of outbox row %s not recorded on the subscription: %s", row.id, e)


def _reason(error: BaseException) -> str:
    """An error as one line for ``last_error`` and the attempts' ``detail``."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}"[:1000]
