"""Planning the weekly digest (п. 1.6): which week is due, and a digest of it in the outbox for
every subscription that should get one.

Planning only adds rows; the outbox's unique keys make it idempotent, so the server's schedule and
``ejournal digest`` may both plan a week, as often as they like, and each address still gets the
week once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import Guardianship, MailSubscription
from ejournal.ledger.domain.subscriptions import SubscriptionState
from ejournal.ledger.logs import school_year_of
from ejournal.mail.addresses import AddressBook
from ejournal.mail.digest import parse_week, week_of
from ejournal.mail.outbox import DIGEST, Outbox, Outgoing
from ejournal.mail.settings import MailSettings
from ejournal.projections.queries import Queries


def due_week(settings: MailSettings, now: datetime) -> str:
    """The latest week whose digest is due at ``now``: this week from its sending moment
    (``digest_weekday`` at ``digest_time``, in ``time_zone``), the week before until then."""
    local = now.astimezone(settings.zone)
    monday = local.date() - timedelta(days=local.weekday())
    moment = datetime.combine(
        monday + timedelta(days=settings.digest_weekday - 1),
        settings.digest_time,
        tzinfo=settings.zone,
    )
    week_monday = monday if local >= moment else monday - timedelta(days=7)
    return week_of(week_monday)


class DigestPlanner:
    """Plans weeks' digests into the outbox; thread-safe (each row is its own transaction)."""

    def __init__(
        self,
        ledger: Ledger,
        settings: MailSettings,
        *,
        book: AddressBook,
        outbox: Outbox,
        queries: Queries,
    ) -> None:
        self._settings = settings
        self._ledger = ledger
        self._book = book
        self._outbox = outbox
        self._queries = queries

    def due_week(self, now: datetime | None = None) -> str:
        """The latest week whose digest is due at ``now`` (default: the ledger's clock)."""
        return due_week(self._settings, now or self._ledger.clock())

    def plan_week(self, week: str) -> int:
        """Put a digest of ``week`` (``YYYY-Www``) in the outbox for every active subscription of
        that school year whose parent is still linked to the student; returns how many rows are
        new (0 when the week was planned before). Raises ``ValueError`` for a malformed week."""
        monday = parse_week(week)
        year_start = school_year_of(monday)
        with self._ledger.database.transaction(write=False) as cursor:
            cursor.execute(
                "SELECT subscription_id FROM mail_subscriptions WHERE year_start = ? "
                "ORDER BY created_at, subscription_id",
                (year_start,),
            )
            ids = [UUID(row[0]) for row in cursor.fetchall()]
        added = 0
        for subscription_id in ids:
            subscription = self._ledger.find(subscription_id, MailSubscription)
            if subscription is None or subscription.state is not SubscriptionState.ACTIVE:
                continue
            if not self._linked(subscription):
                continue
            address = self._book.address(subscription.parent_id, subscription.address_ref)
            if address is None:
                continue
            added += self._outbox.enqueue(self._digest(subscription, week), address)
        return added

    def _digest(self, subscription: MailSubscription, week: str) -> Outgoing:
        return Outgoing(
            kind=DIGEST,
            subscription_id=subscription.id,
            week=week,
            school_id=subscription.school_id,
            year_start=subscription.year_start,
            class_id=self._queries.student_class(
                subscription.school_id, subscription.year_start, subscription.student_id
            ),
            student_id=subscription.student_id,
            parent_id=subscription.parent_id,
            address_ref=subscription.address_ref,
            attach_pdf=subscription.attach_pdf,
        )

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
