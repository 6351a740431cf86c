"""Schools and accounts: deployment-wide records, kept in the system log (I1, I8).

The service or a system administrator creates schools and accounts. A head or deputy grants the
school roles below their own in their school; support locks accounts after a breach report (п. 4.3).

A password reset hands its author the account until the holder changes the password: nobody may
be handed more than they may already do (п. 2.1). A system administrator, who may grant any role,
resets any account; support resets only the accounts of people without journal or personal-data
access (``support`` their only role, or none yet): never a teacher's, a head's or a system
administrator's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ejournal.commands._access import load, non_blank, principal
from ejournal.commands.base import Command
from ejournal.commands.errors import refuse
from ejournal.ledger.actor import DEPLOYMENT_ROLES, NIL, Actor, Grant, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import Account, School
from ejournal.ledger.domain.school import DEFAULT_TIME_ZONE
from ejournal.ledger.logs import SYSTEM_LOG

_LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
_OPERATORS = frozenset({Role.SYSTEM, Role.SYSTEM_ADMIN})
_GRANTABLE_BY: dict[Role, frozenset[Role]] = {
    Role.HEAD: frozenset(
        {Role.DEPUTY, Role.TEACHER, Role.CLASS_TEACHER, Role.STUDENT, Role.PARENT}
    ),
    Role.DEPUTY: frozenset({Role.TEACHER, Role.CLASS_TEACHER, Role.STUDENT, Role.PARENT}),
}
"""Which school roles a head or deputy may grant or revoke in their own school."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterSchool(Command[UUID]):
    name: str
    time_zone: str = DEFAULT_TIME_ZONE
    school_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterAccount(Command[UUID]):
    """A person's account; returns its ID, which follows from the login."""

    login: str
    person_id: UUID


@dataclass(frozen=True, kw_only=True, slots=True)
class GrantRole(Command[None]):
    account_id: UUID
    role: Role
    school_id: UUID | None = None
    """The school of a school role; None for a deployment role (auditor, support, …)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RevokeRole(Command[None]):
    account_id: UUID
    role: Role
    school_id: UUID | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class IssueCredentials(Command[int]):
    """Credentials were (re)issued; returns the new credential version (older sessions end)."""

    account_id: UUID
    reset: bool = False
    """An administrator's reset: the new (one-time) password is handed to the actor, not chosen
    by the holder. Support may reset only an account without journal or personal-data access."""


@dataclass(frozen=True, kw_only=True, slots=True)
class LockAccount(Command[None]):
    account_id: UUID
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class UnlockAccount(Command[None]):
    account_id: UUID
    reason: str


def actor_for(ledger: Ledger, account_id: UUID, *, session_id: UUID = NIL) -> Actor:
    """The ``Actor`` of an account as it stands: its grants and credential version.

    Raises ``NotFound`` (``account.not_found``).
    """
    account = load(ledger, account_id, Account, "account.not_found")
    return Actor(
        account_id=account.id,
        grants=frozenset(account.grants),
        credential_version=account.credential_version,
        session_id=session_id,
    )


def handle_register_school(cmd: RegisterSchool, ledger: Ledger) -> UUID:
    role = principal(ledger, cmd.actor).require(_OPERATORS)
    name = non_blank(cmd.name)
    if not name:
        raise refuse("school.invalid_name")
    try:
        ZoneInfo(cmd.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise refuse("school.invalid_time_zone", time_zone=cmd.time_zone) from None
    if ledger.find(cmd.school_id, School) is not None:
        raise refuse("school.already_registered")
    school = School.register(
        school_id=cmd.school_id, name=name, time_zone=cmd.time_zone, at=ledger.clock()
    )
    ledger.record(school, log_id=SYSTEM_LOG, actor=cmd.actor, role=role)
    return school.id


def handle_register_account(cmd: RegisterAccount, ledger: Ledger) -> UUID:
    role = principal(ledger, cmd.actor).require(_OPERATORS)
    login = cmd.login.strip().casefold()
    if not _LOGIN.fullmatch(login):
        raise refuse("account.invalid_login")
    if ledger.find(Account.create_id(login=login), Account) is not None:
        raise refuse("account.login_taken", login=login)
    account = Account.register(login=login, person_id=cmd.person_id, at=ledger.clock())
    ledger.record(account, log_id=SYSTEM_LOG, actor=cmd.actor, role=role)
    return account.id


def _authorise_grant(ledger: Ledger, cmd: GrantRole | RevokeRole) -> tuple[Role, Account]:
    who = principal(ledger, cmd.actor)
    account = load(ledger, cmd.account_id, Account, "account.not_found")
    if cmd.role is Role.SYSTEM:
        raise refuse("account.role_not_grantable", role=cmd.role)
    deployment = cmd.role in DEPLOYMENT_ROLES
    if deployment and cmd.school_id is not None:
        raise refuse("account.invalid_grant_scope", role=cmd.role, scope="не относится к ОУ")
    if not deployment and cmd.school_id is None:
        raise refuse("account.invalid_grant_scope", role=cmd.role, scope="выдаётся в ОУ")
    operator = who.role(_OPERATORS)
    if operator is not None:
        role = operator
    else:
        # The head first: a head who is also a deputy grants as head.
        admin = next((r for r in (Role.HEAD, Role.DEPUTY) if who.role({r}, cmd.school_id)), None)
        if admin is None or cmd.role not in _GRANTABLE_BY[admin]:
            raise refuse("role.required", roles={Role.SYSTEM_ADMIN, Role.HEAD, Role.DEPUTY})
        role = admin
    if cmd.school_id is not None and ledger.find(cmd.school_id, School) is None:
        raise refuse("school.not_found")
    return role, account


def handle_grant_role(cmd: GrantRole, ledger: Ledger) -> None:
    role, account = _authorise_grant(ledger, cmd)
    grant = Grant(cmd.role, cmd.school_id)
    if grant in account.grants:
        raise refuse("account.already_granted")
    account.grant(grant, at=ledger.clock())
    ledger.record(account, log_id=SYSTEM_LOG, actor=cmd.actor, role=role)


def handle_revoke_role(cmd: RevokeRole, ledger: Ledger) -> None:
    role, account = _authorise_grant(ledger, cmd)
    grant = Grant(cmd.role, cmd.school_id)
    if grant not in account.grants:
        raise refuse("account.not_granted")
    account.revoke(grant, at=ledger.clock())
    ledger.record(account, log_id=SYSTEM_LOG, actor=cmd.actor, role=role)


_KEEPERS = _OPERATORS | {Role.SUPPORT}
"""Who issues credentials and locks accounts."""
_SUPPORT_RESETS = frozenset({Role.SUPPORT})
"""The roles an account may hold for support to reset its password: no journal, diary, ledger,
access-log or personal-data access among them."""


def handle_issue_credentials(cmd: IssueCredentials, ledger: Ledger) -> int:
    who = principal(ledger, cmd.actor)
    who.require(_KEEPERS)
    account = load(ledger, cmd.account_id, Account, "account.not_found")
    # A system administrator first: one who is also support acts as administrator.
    role = who.role(_OPERATORS) or Role.SUPPORT
    if (
        cmd.reset
        and role is Role.SUPPORT
        and any(grant.role not in _SUPPORT_RESETS for grant in account.grants)
    ):
        raise refuse("account.reset_not_allowed")
    version = account.issue_credentials(at=ledger.clock())
    ledger.record(account, log_id=SYSTEM_LOG, actor=cmd.actor, role=role)
    return version


def handle_lock_account(cmd: LockAccount, ledger: Ledger) -> None:
    role = principal(ledger, cmd.actor).require(_KEEPERS)
    account = load(ledger, cmd.account_id, Account, "account.not_found")
    reason = non_blank(cmd.reason)
    if not reason:
        raise refuse("reason.required")
    if account.locked:
        raise refuse("account.already_locked")
    account.lock(reason, at=ledger.clock())
    ledger.record(account, log_id=SYSTEM_LOG, actor=cmd.actor, role=role)


def handle_unlock_account(cmd: UnlockAccount, ledger: Ledger) -> None:
    role = principal(ledger, cmd.actor).require(_KEEPERS)
    account = load(ledger, cmd.account_id, Account, "account.not_found")
    reason = non_blank(cmd.reason)
    if not reason:
        raise refuse("reason.required")
    if not account.locked:
        raise refuse("account.not_locked")
    account.unlock(reason, at=ledger.clock())
    ledger.record(account, log_id=SYSTEM_LOG, actor=cmd.actor, role=role)
