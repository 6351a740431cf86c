"""Parents' e-mail subscriptions to the weekly diary digest (п. 1.6).

One subscription per parent, student and school year (the parents of record are per school year,
``Guardianship``). The ledger never holds the address (I9): a request names a random
``address_ref`` under which the address is kept in the parent's entry of the personal-data vault.
Confirming proves the parent reads that address; the ``address_ref`` a confirmation names must be
the one requested last, so a link from an older request confirms nothing.

States: ``pending`` (requested, not yet confirmed) → ``active`` (digests are sent) →
``cancelled`` (unsubscribed) or ``bounced`` (the mail server refused the address for good). A new
request from any state but ``active`` starts again at ``pending``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ejournal.ledger.domain.ids import natural_id


class SubscriptionState(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    CANCELLED = "cancelled"
    BOUNCED = "bounced"


class MailSubscription(Aggregate):
    """A parent's subscription to a student's weekly digest; person IDs and a reference only."""

    class Requested(Aggregate.Created):
        school_id: UUID
        year_start: int
        student_id: UUID
        parent_id: UUID
        address_ref: UUID
        attach_pdf: bool

    class Rerequested(Aggregate.Event):
        address_ref: UUID
        attach_pdf: bool

        def apply(self, aggregate: Any) -> None:
            subscription: MailSubscription = aggregate
            subscription.address_ref = self.address_ref
            subscription.attach_pdf = self.attach_pdf
            subscription.state = SubscriptionState.PENDING

    class Confirmed(Aggregate.Event):
        address_ref: UUID

        def apply(self, aggregate: Any) -> None:
            subscription: MailSubscription = aggregate
            subscription.state = SubscriptionState.ACTIVE

    class Cancelled(Aggregate.Event):
        reason: str

        def apply(self, aggregate: Any) -> None:
            subscription: MailSubscription = aggregate
            subscription.state = SubscriptionState.CANCELLED

    class Bounced(Aggregate.Event):
        """The mail server refused the address for good (a permanent 5xx reply)."""

        week: str
        """The ISO week (``2025-W36``) of the digest that bounced, or ``""`` for a confirmation."""
        reply_code: int

        def apply(self, aggregate: Any) -> None:
            subscription: MailSubscription = aggregate
            subscription.state = SubscriptionState.BOUNCED

    @staticmethod
    def create_id(school_id: UUID, year_start: int, student_id: UUID, parent_id: UUID) -> UUID:
        """The subscription of ``parent_id`` to ``student_id``'s digest in the school's year."""
        return natural_id("mail-subscription", school_id, year_start, student_id, parent_id)

    def __init__(
        self,
        *,
        school_id: UUID,
        year_start: int,
        student_id: UUID,
        parent_id: UUID,
        address_ref: UUID,
        attach_pdf: bool,
    ) -> None:
        self.school_id = school_id
        self.year_start = year_start
        self.student_id = student_id
        self.parent_id = parent_id
        self.address_ref = address_ref
        self.attach_pdf = attach_pdf
        self.state = SubscriptionState.PENDING

    @classmethod
    def request(
        cls,
        *,
        school_id: UUID,
        year_start: int,
        student_id: UUID,
        parent_id: UUID,
        address_ref: UUID,
        attach_pdf: bool,
        at: datetime,
    ) -> MailSubscription:
        """A new subscription, pending confirmation."""
        return cls._create(
            cls.Requested,
            school_id=school_id,
            year_start=year_start,
            student_id=student_id,
            parent_id=parent_id,
            address_ref=address_ref,
            attach_pdf=attach_pdf,
            timestamp=at,
        )

    def request_again(self, address_ref: UUID, attach_pdf: bool, *, at: datetime) -> None:
        """A new address (or the same one again), pending confirmation. Precondition: not active."""
        self.trigger_event(
            self.Rerequested, address_ref=address_ref, attach_pdf=attach_pdf, timestamp=at
        )

    def confirm(self, address_ref: UUID, *, at: datetime) -> None:
        """Precondition: pending, and ``address_ref`` is the one requested last."""
        self.trigger_event(self.Confirmed, address_ref=address_ref, timestamp=at)

    def cancel(self, reason: str, *, at: datetime) -> None:
        """Precondition: not cancelled yet."""
        self.trigger_event(self.Cancelled, reason=reason, timestamp=at)

    def bounce(self, week: str, reply_code: int, *, at: datetime) -> None:
        """Precondition: pending or active."""
        self.trigger_event(self.Bounced, week=week, reply_code=reply_code, timestamp=at)
