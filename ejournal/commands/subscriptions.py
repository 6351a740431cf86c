"""Parents' e-mail subscriptions to the weekly diary digest (п. 1.6).

A parent linked to a student subscribes (the address itself goes to the personal-data vault under
``address_ref``; the ledger holds only the reference, I9), confirms with the link or code sent to
that address, and unsubscribes with the link of any message or from their account. The service
confirms and unsubscribes on the strength of a link's token (the API checks it), and records that
the mail server refused an address for good. Every step is a ledger record in the school year's
log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from uuid import UUID

from ejournal.commands._access import (
    Principal,
    load,
    non_blank,
    principal,
    writable_year,
    year_log,
)
from ejournal.commands.base import Command
from ejournal.commands.errors import refuse
from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import Guardianship, MailSubscription
from ejournal.ledger.domain.subscriptions import SubscriptionState

WEEK = re.compile(r"(\d{4})-W(\d{2})")
"""An ISO week, ``2025-W36``."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestDigestSubscription(Command[UUID]):
    """A parent asks for a student's weekly digest at the address kept under ``address_ref``;
    returns the subscription's ID (one per parent, student and school year)."""

    school_id: UUID
    year_start: int
    student_id: UUID
    address_ref: UUID
    attach_pdf: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class ConfirmDigestSubscription(Command[None]):
    """The address of request ``address_ref`` is confirmed (by its parent, or by the service on
    the strength of the link's token)."""

    subscription_id: UUID
    address_ref: UUID


@dataclass(frozen=True, kw_only=True, slots=True)
class CancelDigestSubscription(Command[None]):
    """Unsubscribe (the parent, or the service on the strength of an unsubscribe link)."""

    subscription_id: UUID
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordDigestBounce(Command[None]):
    """The service records that the mail server refused the subscription's address for good."""

    subscription_id: UUID
    week: str
    """The digest's ISO week, or ``""`` for a confirmation message."""
    reply_code: int


def _parent_or_service(who: Principal, subscription: MailSubscription) -> Role:
    """The service (acting on a link's token) or the subscription's own parent."""
    if who.role({Role.SYSTEM}) is not None:
        return Role.SYSTEM
    if who.person_id != subscription.parent_id:
        raise refuse("subscription.not_yours")
    return who.require({Role.PARENT}, subscription.school_id)


def handle_request_digest_subscription(cmd: RequestDigestSubscription, ledger: Ledger) -> UUID:
    who = principal(ledger, cmd.actor)
    if who.person_id is None or who.role({Role.PARENT}, cmd.school_id) is None:
        raise refuse("subscription.not_a_parent")
    writable_year(ledger, cmd.school_id, cmd.year_start)
    guardianship_id = Guardianship.create_id(
        school_id=cmd.school_id, year_start=cmd.year_start, student_id=cmd.student_id
    )
    guardianship = ledger.find(guardianship_id, Guardianship)
    if guardianship is None or who.person_id not in guardianship.parent_ids:
        raise refuse("subscription.not_a_parent")
    subscription_id = MailSubscription.create_id(
        school_id=cmd.school_id,
        year_start=cmd.year_start,
        student_id=cmd.student_id,
        parent_id=who.person_id,
    )
    subscription = ledger.find(subscription_id, MailSubscription)
    at = ledger.clock()
    if subscription is None:
        subscription = MailSubscription.request(
            school_id=cmd.school_id,
            year_start=cmd.year_start,
            student_id=cmd.student_id,
            parent_id=who.person_id,
            address_ref=cmd.address_ref,
            attach_pdf=cmd.attach_pdf,
            at=at,
        )
    elif subscription.state is SubscriptionState.ACTIVE:
        raise refuse("subscription.already_active")
    else:
        subscription.request_again(cmd.address_ref, cmd.attach_pdf, at=at)
    ledger.record(
        subscription,
        log_id=year_log(cmd.school_id, cmd.year_start),
        actor=cmd.actor,
        role=Role.PARENT,
    )
    return subscription.id


def handle_confirm_digest_subscription(cmd: ConfirmDigestSubscription, ledger: Ledger) -> None:
    who = principal(ledger, cmd.actor)
    subscription = load(ledger, cmd.subscription_id, MailSubscription, "subscription.not_found")
    role = _parent_or_service(who, subscription)
    if subscription.state is not SubscriptionState.PENDING:
        raise refuse("subscription.not_pending")
    if subscription.address_ref != cmd.address_ref:
        raise refuse("subscription.stale_request")
    writable_year(ledger, subscription.school_id, subscription.year_start)
    subscription.confirm(cmd.address_ref, at=ledger.clock())
    ledger.record(
        subscription,
        log_id=year_log(subscription.school_id, subscription.year_start),
        actor=cmd.actor,
        role=role,
    )


def handle_cancel_digest_subscription(cmd: CancelDigestSubscription, ledger: Ledger) -> None:
    who = principal(ledger, cmd.actor)
    subscription = load(ledger, cmd.subscription_id, MailSubscription, "subscription.not_found")
    role = _parent_or_service(who, subscription)
    reason = non_blank(cmd.reason)
    if not reason:
        raise refuse("reason.required")
    if subscription.state is SubscriptionState.CANCELLED:
        raise refuse("subscription.already_cancelled")
    writable_year(ledger, subscription.school_id, subscription.year_start)
    subscription.cancel(reason, at=ledger.clock())
    ledger.record(
        subscription,
        log_id=year_log(subscription.school_id, subscription.year_start),
        actor=cmd.actor,
        role=role,
    )


def handle_record_digest_bounce(cmd: RecordDigestBounce, ledger: Ledger) -> None:
    role = principal(ledger, cmd.actor).require({Role.SYSTEM})
    if cmd.week and not WEEK.fullmatch(cmd.week):
        raise refuse("subscription.invalid_week", week=cmd.week)
    subscription = load(ledger, cmd.subscription_id, MailSubscription, "subscription.not_found")
    if subscription.state not in (SubscriptionState.PENDING, SubscriptionState.ACTIVE):
        raise refuse("subscription.inactive")
    writable_year(ledger, subscription.school_id, subscription.year_start)
    subscription.bounce(cmd.week, cmd.reply_code, at=ledger.clock())
    ledger.record(
        subscription,
        log_id=year_log(subscription.school_id, subscription.year_start),
        actor=cmd.actor,
        role=role,
    )
