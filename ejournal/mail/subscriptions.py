"""Parents' subscriptions to the weekly digest (п. 1.6): subscribe, confirm by link or code,
unsubscribe by link or in the parent's session, and the parent's list.

The ledger holds each step (``MailSubscription``); the address lives only in the vault, under a
reference that a new request replaces and an unsubscription removes (152-ФЗ: no purpose left).
``mail_subscriptions`` indexes the subscriptions so that a parent's list and a week's planning
need no scan of the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from ejournal import commands as c
from ejournal.commands.errors import CommandError
from ejournal.integrity.leaf import micros
from ejournal.ledger.actor import SYSTEM_ACTOR, Actor
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import MailSubscription
from ejournal.mail.addresses import AddressBook, normalise_address
from ejournal.mail.outbox import CONFIRMATION, Outbox, Outgoing
from ejournal.mail.tokens import CONFIRM, UNSUBSCRIBE, LinkTokens
from ejournal.projections.queries import Queries


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


def mask(address: str) -> str:
    """The address with all but the first two letters of its local part hidden."""
    local, _, domain = address.partition("@")
    return f"{local[:2]}***@{domain}"


class Subscriptions:
    """Subscriptions' lifecycle; thread-safe (every step is its own transaction).

    Its tables must exist (``create_mail_tables``, which ``bootstrap`` runs at start-up).
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        book: AddressBook,
        tokens: LinkTokens,
        outbox: Outbox,
        queries: Queries,
    ) -> None:
        self._ledger = ledger
        self._book = book
        self._tokens = tokens
        self._outbox = outbox
        self._queries = queries

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
        before = self._ledger.find(subscription_id, MailSubscription)
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
        now = self._ledger.clock()
        self._book.store(parent_id, address_ref, address, school_id=school_id, now=now)
        if before is not None:
            self._book.remove(parent_id, before.address_ref, now=now)
        with self._ledger.database.transaction(write=True) as cursor:
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
        confirmation = Outgoing(
            kind=CONFIRMATION,
            subscription_id=subscription_id,
            week=str(address_ref),
            school_id=school_id,
            year_start=year_start,
            class_id=self._queries.student_class(school_id, year_start, student_id),
            student_id=student_id,
            parent_id=parent_id,
            address_ref=address_ref,
            attach_pdf=False,
        )
        self._outbox.enqueue(confirmation, address)
        return subscription_id

    def issued(self, token: str) -> bool:
        """Whether a link's ``token`` is one of this service's (live or not)."""
        return self._tokens.issued(token)

    def confirm_with_token(self, token: str) -> UUID:
        """Confirm by the link's token (the service acts on its strength). Raises
        ``LinkInvalid`` and ``CommandError``."""
        subscription_id, address_ref = self._tokens.resolve(token, CONFIRM)
        c.handle(
            c.ConfirmDigestSubscription(
                actor=SYSTEM_ACTOR, subscription_id=subscription_id, address_ref=address_ref
            ),
            self._ledger,
        )
        self._tokens.use(token)
        return subscription_id

    def confirm_with_code(self, actor: Actor, subscription_id: UUID, code: str) -> None:
        """Confirm by the code of the confirmation message, in the parent's own session.
        Raises ``LinkInvalid`` (after ``MAX_CODE_FAILURES`` wrong codes every code of the
        request is void) and ``CommandError``."""
        match = self._tokens.match_code(subscription_id, code)
        c.handle(
            c.ConfirmDigestSubscription(
                actor=actor, subscription_id=subscription_id, address_ref=match.address_ref
            ),
            self._ledger,
        )
        self._tokens.use_code(match)

    def unsubscribe_with_token(self, token: str) -> tuple[UUID, bool]:
        """Unsubscribe by the link of a message (one click, RFC 8058); returns the subscription
        and whether it was still on. Raises ``LinkInvalid``, and ``CommandError`` for any refusal
        but "already cancelled"."""
        subscription_id, _ = self._tokens.resolve(token, UNSUBSCRIBE)
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
        subscription = self._ledger.find(subscription_id, MailSubscription)
        if subscription is not None:
            self._book.remove(
                subscription.parent_id, subscription.address_ref, now=self._ledger.clock()
            )

    def subscriptions_of(self, parent_id: UUID) -> list[SubscriptionInfo]:
        """The parent's subscriptions, every school year."""
        with self._ledger.database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT subscription_id FROM mail_subscriptions WHERE parent_id = ? "
                "ORDER BY created_at",
                (str(parent_id),),
            )
            ids = [UUID(row[0]) for row in cursor.fetchall()]
        found = []
        for subscription_id in ids:
            subscription = self._ledger.find(subscription_id, MailSubscription)
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
