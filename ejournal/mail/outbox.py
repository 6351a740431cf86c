"""``Mailer``: subscriptions (п. 1.6), planning a week's digests, and delivering the outbox.

Each message is a row of ``mail_outbox`` before anything is sent; the row's unique keys, one per
(subscription, week) and one per (student, week, address digest), are what make a week go to an
address once however often a week is planned, by the server's schedule or by ``ejournal digest``.

Delivery, row by row:

1. **claim**: ``pending`` → ``sending`` (phase ``claimed``), with this sender's ID and a lease, by a
   compare-and-set that only one sender wins;
2. just before the message is transmitted (after the server accepted the recipient): phase
   ``data``;
3. the server's reply to the end of DATA decides: 250 → ``sent`` (only now); 4xx, a dropped
   connection or a timeout → back to ``pending`` with a doubling delay, until ``max_attempts``
   (then ``failed``); 5xx for the recipient → ``bounced``, recorded on the subscription and shown
   to the class teacher. Every attempt is a row of ``mail_attempts``.

A sender that crashed leaves rows in ``sending``. When their lease has run out, a row still in
phase ``claimed`` goes back to ``pending`` (nothing was transmitted: sending it is safe). A row in
phase ``data`` becomes ``uncertain``: the server may have taken the message just before the crash
(RFC 1047's window) and SMTP cannot tell; it is not sent again, so a week never reaches an address
twice, and ``ejournal digest`` reports it. Everywhere outside that window delivery is exactly once.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from typing import Any
from uuid import UUID, uuid4

from ejournal import commands as c
from ejournal.commands.errors import CommandError
from ejournal.identity.vault import Vault
from ejournal.integrity.leaf import from_micros, micros
from ejournal.ledger.actor import SYSTEM_ACTOR, Actor
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import Guardianship, MailSubscription, School, SchoolClass
from ejournal.ledger.domain.subscriptions import SubscriptionState
from ejournal.ledger.logs import school_year_of
from ejournal.mail.addresses import AddressBook, normalise_address
from ejournal.mail.digest import (
    Heading,
    build_digest,
    digest_pdf,
    parse_week,
    week_days,
    week_of,
)
from ejournal.mail.settings import MailSettings
from ejournal.mail.smtp import DeliveryError, SmtpTransport
from ejournal.projections.queries import Queries

log = logging.getLogger("ejournal.mail")

DIGEST = "digest"
CONFIRMATION = "confirmation"
_CONFIRM = "confirm"
_UNSUBSCRIBE = "unsubscribe"
MAX_CODE_FAILURES = 5


class LinkInvalid(Exception):
    """A link's token or a code is unknown, used up or expired."""


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


@dataclass(frozen=True, slots=True)
class SubscriptionInfo:
    subscription_id: UUID
    school_id: UUID
    year_start: int
    student_id: UUID
    state: str
    attach_pdf: bool
    address: str | None
    """Masked: ``iv***@example.ru``."""


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


@dataclass(frozen=True, slots=True)
class _Row:
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


_ROW_COLUMNS = (
    "id, kind, subscription_id, week, school_id, year_start, class_id, student_id, parent_id, "
    "address_ref, attach_pdf, attempts"
)


def _row(values: Any) -> _Row:
    return _Row(
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


def _sha256(*parts: str) -> bytes:
    return hashlib.sha256("\x00".join(parts).encode()).digest()


def mask(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:2]}***@{domain}"


class Mailer:
    """The mail service of one deployment; thread-safe (every step is its own transaction).

    Its tables must exist (``create_mail_tables``, which ``bootstrap`` runs at start-up).
    """

    def __init__(
        self,
        ledger: Ledger,
        settings: MailSettings,
        *,
        vault: Vault,
        address_key: bytes,
        transport: type[SmtpTransport] = SmtpTransport,
    ) -> None:
        self.settings = settings
        self._ledger = ledger
        self._database = ledger.database
        self._book = AddressBook(vault, address_key)
        self._queries = Queries(ledger.database, clock=ledger.clock)
        self._transport = transport
        self.sender_id = uuid4().hex
        """This process's name on the rows it claims."""

    def _now(self) -> datetime:
        return self._ledger.clock()

    # --- subscriptions -------------------------------------------------------------------------

    def subscribe(
        self,
        actor: Actor,
        parent_id: UUID,
        *,
        school_id: UUID,
        year_start: int,
        student_id: UUID,
        address: str,
        attach_pdf: bool,
    ) -> UUID:
        """A parent's request (п. 1.6): the request goes to the ledger, the address to the vault
        under a new reference, and a confirmation message to the outbox.

        Raises ``AddressError``, ``CommandError`` (nothing kept), ``VaultError``.
        """
        address = normalise_address(address)
        subscription_id = MailSubscription.create_id(
            school_id=school_id, year_start=year_start, student_id=student_id, parent_id=parent_id
        )
        before = self._subscription(subscription_id)
        address_ref = uuid4()
        # The command judges first, so that a refused request leaves nothing in the vault. If
        # the vault then fails, the request stays pending without an address: its confirmation
        # is skipped, and the parent simply asks again.
        c.handle(
            c.RequestDigestSubscription(
                actor=actor,
                school_id=school_id,
                year_start=year_start,
                student_id=student_id,
                address_ref=address_ref,
                attach_pdf=attach_pdf,
            ),
            self._ledger,
        )
        now = self._now()
        self._book.store(parent_id, address_ref, address, school_id=school_id, now=now)
        if before is not None:
            self._book.remove(parent_id, before.address_ref, now=now)
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "INSERT INTO mail_subscriptions (subscription_id, school_id, year_start, "
                "student_id, parent_id, created_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (subscription_id) DO NOTHING",
                (
                    str(subscription_id),
                    str(school_id),
                    year_start,
                    str(student_id),
                    str(parent_id),
                    micros(now),
                ),
            )
        self._enqueue(
            CONFIRMATION,
            subscription_id,
            week=str(address_ref),
            school_id=school_id,
            year_start=year_start,
            class_id=self._queries.student_class(school_id, year_start, student_id),
            student_id=student_id,
            parent_id=parent_id,
            address_ref=address_ref,
            address=address,
            attach_pdf=False,
        )
        return subscription_id

    def confirm_with_token(self, token: str) -> UUID:
        """Confirm by the link's token (the service acts on its strength). Raises
        ``LinkInvalid`` and ``CommandError``."""
        subscription_id, address_ref = self._token(token, _CONFIRM)
        c.handle(
            c.ConfirmDigestSubscription(
                actor=SYSTEM_ACTOR, subscription_id=subscription_id, address_ref=address_ref
            ),
            self._ledger,
        )
        self._use_token(token)
        return subscription_id

    def confirm_with_code(self, actor: Actor, subscription_id: UUID, code: str) -> None:
        """Confirm by the code of the confirmation message, in the parent's own session.
        Raises ``LinkInvalid`` (after ``MAX_CODE_FAILURES`` wrong codes every code of the
        request is void) and ``CommandError``."""
        now = micros(self._now())
        digest = _sha256(str(subscription_id), code.strip())
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "SELECT token_sha256, address_ref, code_sha256 FROM mail_tokens "
                "WHERE subscription_id = ? AND purpose = ? AND used_at IS NULL "
                "AND expires_at > ? AND failures < ?",
                (str(subscription_id), _CONFIRM, now, MAX_CODE_FAILURES),
            )
            rows = cursor.fetchall()
            match = next((r for r in rows if r[2] is not None and bytes(r[2]) == digest), None)
            if match is None:
                cursor.execute(
                    "UPDATE mail_tokens SET failures = failures + 1 WHERE subscription_id = ? "
                    "AND purpose = ? AND used_at IS NULL",
                    (str(subscription_id), _CONFIRM),
                )
        if match is None:
            raise LinkInvalid("wrong code")
        c.handle(
            c.ConfirmDigestSubscription(
                actor=actor, subscription_id=subscription_id, address_ref=UUID(match[1])
            ),
            self._ledger,
        )
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "UPDATE mail_tokens SET used_at = ? WHERE token_sha256 = ?", (now, match[0])
            )

    def unsubscribe_with_token(self, token: str) -> tuple[UUID, bool]:
        """Unsubscribe by the link of a message (one click, RFC 8058); returns the subscription
        and whether it was still on. Raises ``LinkInvalid``."""
        subscription_id, _ = self._token(token, _UNSUBSCRIBE)
        try:
            self.unsubscribe(SYSTEM_ACTOR, subscription_id, "отписка по ссылке из письма")
        except CommandError as e:
            if e.code != "subscription.already_cancelled":
                raise
            return subscription_id, False
        return subscription_id, True

    def unsubscribe(self, actor: Actor, subscription_id: UUID, reason: str) -> None:
        """End the subscription and forget its address. Raises ``CommandError``."""
        c.handle(
            c.CancelDigestSubscription(actor=actor, subscription_id=subscription_id, reason=reason),
            self._ledger,
        )
        subscription = self._subscription(subscription_id)
        if subscription is not None:
            self._book.remove(subscription.parent_id, subscription.address_ref, now=self._now())

    def subscriptions_of(self, parent_id: UUID) -> list[SubscriptionInfo]:
        """The parent's subscriptions, every school year."""
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT subscription_id FROM mail_subscriptions WHERE parent_id = ? "
                "ORDER BY created_at",
                (str(parent_id),),
            )
            ids = [UUID(row[0]) for row in cursor.fetchall()]
        found = []
        for subscription_id in ids:
            subscription = self._subscription(subscription_id)
            if subscription is None:
                continue
            address = self._book.address(parent_id, subscription.address_ref)
            found.append(
                SubscriptionInfo(
                    subscription.id,
                    subscription.school_id,
                    subscription.year_start,
                    subscription.student_id,
                    subscription.state.value,
                    subscription.attach_pdf,
                    mask(address) if address else None,
                )
            )
        return found

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

    def _subscription(self, subscription_id: UUID) -> MailSubscription | None:
        return self._ledger.find(subscription_id, MailSubscription)

    # --- tokens ----------------------------------------------------------------------------------

    def _new_token(
        self, purpose: str, subscription_id: UUID, address_ref: UUID, *, code: str | None = None
    ) -> str:
        token = secrets.token_urlsafe(32)
        now = self._now()
        expires = (
            micros(now + timedelta(hours=self.settings.confirm_hours))
            if purpose == _CONFIRM
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

    def _token(self, token: str, purpose: str) -> tuple[UUID, UUID]:
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT subscription_id, address_ref, expires_at, used_at FROM mail_tokens "
                "WHERE token_sha256 = ? AND purpose = ?",
                (_sha256(token), purpose),
            )
            row = cursor.fetchone()
        if row is None or row[3] is not None:
            raise LinkInvalid(purpose)
        if row[2] is not None and row[2] <= micros(self._now()):
            raise LinkInvalid(purpose)
        return UUID(row[0]), UUID(row[1])

    def _use_token(self, token: str) -> None:
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "UPDATE mail_tokens SET used_at = ? WHERE token_sha256 = ?",
                (micros(self._now()), _sha256(token)),
            )

    def link(self, path: str, token: str) -> str:
        return f"{self.settings.public_url}/mail/{path}/{token}"

    # --- planning --------------------------------------------------------------------------------

    def plan_week(self, week: str) -> int:
        """Put a digest of ``week`` (``YYYY-Www``) in the outbox for every active subscription of
        that school year whose parent is still linked to the student; returns how many rows are
        new (0 when the week was planned before). Raises ``ValueError`` for a malformed week."""
        monday = parse_week(week)
        year_start = school_year_of(monday)
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT subscription_id FROM mail_subscriptions WHERE year_start = ? "
                "ORDER BY created_at, subscription_id",
                (year_start,),
            )
            ids = [UUID(row[0]) for row in cursor.fetchall()]
        added = 0
        for subscription_id in ids:
            subscription = self._subscription(subscription_id)
            if subscription is None or subscription.state is not SubscriptionState.ACTIVE:
                continue
            if not self._linked(subscription):
                continue
            address = self._book.address(subscription.parent_id, subscription.address_ref)
            if address is None:
                continue
            added += self._enqueue(
                DIGEST,
                subscription_id,
                week=week,
                school_id=subscription.school_id,
                year_start=subscription.year_start,
                class_id=self._queries.student_class(
                    subscription.school_id, subscription.year_start, subscription.student_id
                ),
                student_id=subscription.student_id,
                parent_id=subscription.parent_id,
                address_ref=subscription.address_ref,
                address=address,
                attach_pdf=subscription.attach_pdf,
            )
        return added

    def _linked(self, subscription: MailSubscription) -> bool:
        guardianship = self._ledger.find(
            Guardianship.create_id(
                school_id=subscription.school_id,
                year_start=subscription.year_start,
                student_id=subscription.student_id,
            ),
            Guardianship,
        )
        return guardianship is not None and subscription.parent_id in guardianship.parent_ids

    def _enqueue(
        self,
        kind: str,
        subscription_id: UUID,
        *,
        week: str,
        school_id: UUID,
        year_start: int,
        class_id: UUID | None,
        student_id: UUID,
        parent_id: UUID,
        address_ref: UUID,
        address: str,
        attach_pdf: bool,
    ) -> int:
        now = micros(self._now())
        with self._database.transaction(write=True) as cursor:
            result = cursor.execute(
                "INSERT INTO mail_outbox (kind, subscription_id, week, school_id, year_start, "
                "class_id, student_id, parent_id, address_ref, address_digest, attach_pdf, "
                "status, attempts, next_attempt_at, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (
                    kind,
                    str(subscription_id),
                    week,
                    str(school_id),
                    year_start,
                    None if class_id is None else str(class_id),
                    str(student_id),
                    str(parent_id),
                    str(address_ref),
                    self._book.digest(address),
                    int(attach_pdf),
                    now,
                    now,
                ),
            )
            return max(int(getattr(result, "rowcount", 0)), 0)

    # --- delivery --------------------------------------------------------------------------------

    def deliver_due(self, *, limit: int | None = None) -> DeliveryReport:
        """Send every due message of the outbox (after taking over the rows of crashed senders);
        ``limit`` stops after that many claims. Raises nothing for a failed delivery: it is
        recorded and retried."""
        counts: Counter[str] = Counter()
        counts["uncertain"] = self.recover()
        claimed = 0
        with self._transport(self.settings) as transport:
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
            cursor.execute(
                "UPDATE mail_outbox SET status = 'pending', phase = NULL, claimed_by = NULL, "
                "claimed_until = NULL WHERE status = 'sending' AND phase = 'claimed' "
                "AND claimed_until < ?",
                (now,),
            )
        return len(uncertain)

    def _claim_next(self) -> _Row | None:
        now = self._now()
        until = micros(now + timedelta(seconds=self.settings.lease_seconds))
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
                cursor.execute(f"SELECT {_ROW_COLUMNS} FROM mail_outbox WHERE id = ?", (found[0],))
                return _row(cursor.fetchone())

    def _mark_transmitting(self, row: _Row) -> None:
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                "UPDATE mail_outbox SET phase = 'data' WHERE id = ? AND claimed_by = ?",
                (row.id, self.sender_id),
            )

    def _finish(
        self,
        row: _Row,
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

    def _deliver(self, transport: SmtpTransport, row: _Row) -> str:
        try:
            address = self._book.address(row.parent_id, row.address_ref)
            subscription = self._subscription(row.subscription_id)
            reason = self._stale(row, subscription, address)
            if reason is not None:
                return self._finish(row, "skipped", "skipped", reason)
            assert address is not None
            message = self._message(row, address)
            if message is None:
                return self._finish(row, "skipped", "skipped", "nothing recorded that week")
        except Exception as e:  # a bug or an outage of our own: retried like a transient failure
            log.exception("building message %s failed", row.id)
            return self._retry(row, f"building the message failed: {e!r}", None)
        try:
            reply = transport.send(
                message,
                sender=self.settings.sender,
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
        return self._finish(row, "sent", "sent", reply.replace(address, "<address>"))

    def _retry(self, row: _Row, detail: str, reply_code: int | None) -> str:
        s = self.settings
        if row.attempts >= s.max_attempts:
            return self._finish(row, "failed", "failed", detail, reply_code=reply_code)
        delay = min(s.retry_seconds * 2 ** (row.attempts - 1), s.retry_max_seconds)
        retry_at = self._now() + timedelta(seconds=delay)
        self._finish(row, "pending", "retry", detail, reply_code=reply_code, retry_at=retry_at)
        return "retried"

    def _stale(
        self, row: _Row, subscription: MailSubscription | None, address: str | None
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

    def _record_bounce(self, row: _Row, reply_code: int) -> None:
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

    # --- messages --------------------------------------------------------------------------------

    def _envelope(self, row: _Row, address: str, subject: str) -> EmailMessage:
        message = EmailMessage(policy=SMTP)
        message["Subject"] = subject
        local, _, domain = self.settings.sender.partition("@")
        message["From"] = Address(self.settings.sender_name, local, domain or "localhost")
        message["To"] = address
        message["Date"] = format_datetime(self._now())
        message["Message-ID"] = f"<{row.kind}.{row.id}.{row.subscription_id.hex}@{domain}>"
        message["Auto-Submitted"] = "auto-generated"
        return message

    def _message(self, row: _Row, address: str) -> EmailMessage | None:
        if row.kind == CONFIRMATION:
            return self._confirmation(row, address)
        return self._digest(row, address)

    def _heading(self, row: _Row) -> Heading:
        school = self._ledger.find(row.school_id, School)
        school_class = (
            self._ledger.find(row.class_id, SchoolClass) if row.class_id is not None else None
        )
        return Heading(
            student=self._book.name(row.student_id) or "ученик",
            class_name=school_class.name if school_class is not None else "",
            school=school.name if school is not None else "",
        )

    def _confirmation(self, row: _Row, address: str) -> EmailMessage:
        code = f"{secrets.randbelow(10**8):08d}"
        token = self._new_token(_CONFIRM, row.subscription_id, row.address_ref, code=code)
        heading = self._heading(row)
        url = self.link("confirm", token)
        message = self._envelope(row, address, "Подтвердите подписку на электронный дневник")
        text = (
            "Здравствуйте!\n\n"
            f"Вы запросили еженедельную рассылку электронного дневника: {heading.student}, "
            f"{heading.class_name}, {heading.school}.\n\n"
            f"Чтобы подтвердить подписку, откройте ссылку:\n{url}\n\n"
            f"или введите код {code} в личном кабинете. Ссылка и код действуют "
            f"{self.settings.confirm_hours} ч.\n\n"
            "Если вы не запрашивали подписку, просто не отвечайте на это письмо.\n"
        )
        message.set_content(text)
        return message

    def _digest(self, row: _Row, address: str) -> EmailMessage | None:
        monday, sunday = week_days(parse_week(row.week))
        diary = self._queries.diary_days(row.student_id, monday, sunday)
        token = self._new_token(_UNSUBSCRIBE, row.subscription_id, row.address_ref)
        unsubscribe = self.link("unsubscribe", token)
        content = build_digest(diary, self._heading(row), unsubscribe_url=unsubscribe)
        if content.empty:
            return None
        message = self._envelope(row, address, content.subject)
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message.set_content(content.text)
        message.add_alternative(content.html, subtype="html")
        if row.attach_pdf:
            pdf = digest_pdf(content, now=self._now())
            message.add_attachment(
                pdf, maintype="application", subtype="pdf", filename=f"dnevnik-{row.week}.pdf"
            )
        return message

    # --- the schedule ----------------------------------------------------------------------------

    def due_week(self, now: datetime | None = None) -> str:
        """The latest week whose digest is due at ``now``: this week from its sending moment
        (``digest_weekday`` at ``digest_time``, in ``time_zone``), the week before until then."""
        s = self.settings
        local = (now or self._now()).astimezone(s.zone)
        monday = local.date() - timedelta(days=local.weekday())
        moment = datetime.combine(
            monday + timedelta(days=s.digest_weekday - 1), s.digest_time, tzinfo=s.zone
        )
        week_monday = monday if local >= moment else monday - timedelta(days=7)
        return week_of(week_monday)

    def outbox_counts(self, week: str) -> dict[str, int]:
        """How many digests of ``week`` are in each status."""
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT status, COUNT(*) FROM mail_outbox WHERE kind = ? AND week = ? "
                "GROUP BY status",
                (DIGEST, week),
            )
            return {status: int(count) for status, count in cursor.fetchall()}
