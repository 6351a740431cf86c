"""Compromised logins (п. 4.3–4.4): reporting a breach, dating its receipt, invalidating a session.

Who receives a report. The participant notifies the head of the school and technical support
(п. 4.3). A report recorded in the service reaches both at the moment it is recorded: the service is
the channel the notification takes, so that moment is each one's receipt. The head or support may
have learned of it earlier outside the service (a telephone call); whoever files the report, or
later either of them, may date their own receipt back to that moment, never forward: a later moment
would make valid again operations already declared invalid. Of the two receipts the earlier counts
(see docs/operations.md, "Compromised logins").

What a report does, in one transaction of the system log: the report (the rule of п. 4.4: every
operation of the account's credential version from the receipt on is invalid) and the account's
``Compromised`` event, which stops the account until new credentials are issued.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ejournal.commands._access import Principal, load, non_blank, principal, school_zone
from ejournal.commands.base import Command
from ejournal.commands.errors import refuse
from ejournal.ledger.actor import ADMINISTRATION, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import Account, BreachReport, SessionInvalidation
from ejournal.ledger.domain.breach import Party
from ejournal.ledger.logs import SYSTEM_LOG

_SUPPORT = frozenset({Role.SUPPORT, Role.SYSTEM_ADMIN})


@dataclass(frozen=True, kw_only=True, slots=True)
class ReportBreach(Command[UUID]):
    """A login is reported compromised (п. 4.3); returns the report's ID.

    Filed by the participant about their own login, or on their behalf by the head of their school
    or by support.
    """

    account_id: UUID
    learned_at: datetime
    """When the participant learned of the breach."""
    suspected_since: datetime | None = None
    """Since when the breach is suspected: operations from then until the receipt are flagged
    for review (not invalidated)."""
    received_at: datetime | None = None
    """When the filer (head or support) received the report, if before it was recorded."""


@dataclass(frozen=True, kw_only=True, slots=True)
class AntedateBreachReceipt(Command[None]):
    """The head or support received a recorded report earlier, at ``received_at``."""

    report_id: UUID
    received_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class InvalidateSession(Command[UUID]):
    """Every operation of one session is invalid (п. 4.4); by the administration of a school of
    the session's account. Returns the invalidation's ID."""

    session_id: UUID
    account_id: UUID
    """The session's account (the API knows it from its session store)."""
    school_id: UUID
    reason: str


def handle_report_breach(cmd: ReportBreach, ledger: Ledger) -> UUID:
    now = ledger.clock()
    who = principal(ledger, cmd.actor)
    account = load(ledger, cmd.account_id, Account, "account.not_found")
    party, role, school_id = _filer(who, account)
    _check_time(cmd.learned_at, now, "когда стало известно о нарушении")
    if cmd.suspected_since is not None:
        _check_time(cmd.suspected_since, now, "начало подозрения")
        if cmd.suspected_since > cmd.learned_at:
            raise refuse("breach.suspected_after_learned")
    received = now
    if cmd.received_at is not None:
        if party is Party.OWNER:
            raise refuse("breach.receipt_not_yours")
        received = _check_receipt(cmd.received_at, cmd.learned_at, now)
    report_id = BreachReport.create_id(account.id, account.credential_version)
    if ledger.find(report_id, BreachReport) is not None:
        raise refuse("breach.already_reported")
    zone = school_zone(ledger, school_id)
    deadline = ledger.calendar.report_deadline(cmd.learned_at.astimezone(zone).date())
    head_received = received if party is Party.HEAD else now
    support_received = received if party is Party.SUPPORT else now
    report = BreachReport.file(
        account_id=account.id,
        credential_version=account.credential_version,
        filed_by=party,
        school_id=school_id,
        learned_at=cmd.learned_at,
        suspected_since=cmd.suspected_since,
        head_received_at=head_received,
        support_received_at=support_received,
        deadline=deadline,
        late=min(head_received, support_received).astimezone(zone).date() > deadline,
        at=now,
    )
    account.mark_compromised(report.id, at=now)
    ledger.record(report, account, log_id=SYSTEM_LOG, actor=cmd.actor, role=role)
    return report.id


def handle_antedate_breach_receipt(cmd: AntedateBreachReceipt, ledger: Ledger) -> None:
    now = ledger.clock()
    who = principal(ledger, cmd.actor)
    report = load(ledger, cmd.report_id, BreachReport, "breach.not_found")
    party, role = _receiver(who, report)
    received = _check_receipt(cmd.received_at, report.learned_at, now)
    current = report.received_by(party)
    if received >= current:
        raise refuse("breach.receipt_not_earlier", current=current)
    zone = school_zone(ledger, report.school_id)
    earliest = min(received, report.received_at)
    late = earliest.astimezone(zone).date() > report.deadline
    report.antedate(party, received, late=late, at=now)
    ledger.record(report, log_id=SYSTEM_LOG, actor=cmd.actor, role=role)


def handle_invalidate_session(cmd: InvalidateSession, ledger: Ledger) -> UUID:
    who = principal(ledger, cmd.actor)
    role = who.role(ADMINISTRATION, cmd.school_id)
    if role is None:
        raise refuse("setup.administration_only")
    account = load(ledger, cmd.account_id, Account, "account.not_found")
    if not any(grant.school_id == cmd.school_id for grant in account.grants):
        raise refuse("session.not_in_school")
    reason = non_blank(cmd.reason)
    if not reason:
        raise refuse("reason.required")
    if ledger.find(SessionInvalidation.create_id(cmd.session_id), SessionInvalidation):
        raise refuse("session.already_invalidated")
    invalidation = SessionInvalidation.declare(
        session_id=cmd.session_id,
        account_id=account.id,
        school_id=cmd.school_id,
        reason=reason,
        at=ledger.clock(),
    )
    ledger.record(invalidation, log_id=SYSTEM_LOG, actor=cmd.actor, role=role)
    return invalidation.id


def _filer(who: Principal, account: Account) -> tuple[Party, Role, UUID | None]:
    """Who files the report, the role it is recorded under, and the school it is about."""
    schools = sorted({g.school_id for g in account.grants if g.school_id is not None}, key=str)
    if who.actor.account_id == account.id:
        if not who.grants:
            raise refuse("breach.not_allowed")
        return Party.OWNER, min(g.role for g in who.grants), schools[0] if schools else None
    for school_id in schools:
        if who.role({Role.HEAD}, school_id) is not None:
            return Party.HEAD, Role.HEAD, school_id
    support = who.role(_SUPPORT)
    if support is not None:
        return Party.SUPPORT, support, schools[0] if schools else None
    raise refuse("breach.not_allowed")


def _receiver(who: Principal, report: BreachReport) -> tuple[Party, Role]:
    """Which receipt the actor may date: the head's (of the report's school) or support's."""
    if report.school_id is not None and who.role({Role.HEAD}, report.school_id) is not None:
        return Party.HEAD, Role.HEAD
    support = who.role(_SUPPORT)
    if support is not None:
        return Party.SUPPORT, support
    raise refuse("breach.receipt_not_yours")


def _check_time(moment: datetime, now: datetime, what: str) -> None:
    if moment.tzinfo is None:
        raise refuse("breach.naive_time", what=what)
    if moment > now:
        raise refuse("breach.time_in_future", what=what)


def _check_receipt(received: datetime, learned: datetime, now: datetime) -> datetime:
    _check_time(received, now, "когда получено сообщение")
    if received < learned:
        raise refuse("breach.received_before_learned")
    return received
