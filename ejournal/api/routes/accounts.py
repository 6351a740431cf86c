"""Schools and accounts: created by a system administrator; roles granted by the school's
administration; accounts locked by support (п. 4.3) or a system administrator; passwords reset by a
system administrator, or by support for accounts without journal or personal-data access (the
reset hands its author the account until the holder changes the password). The commands decide who
may; these routes only translate."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from ejournal import commands as c
from ejournal.api.commands import accepted, created
from ejournal.api.deps import AuthDep, CurrentActor, LedgerDep
from ejournal.api.errors import problem_responses
from ejournal.api.schemas.auth import PasswordResetOut
from ejournal.api.schemas.common import Accepted, Created
from ejournal.api.schemas.setup import AccountIn, GrantIn, ReasonIn, SchoolIn
from ejournal.api.threads import OneTripRoute

router = APIRouter(
    route_class=OneTripRoute,
    tags=["schools and accounts"],
    responses=problem_responses(401, 403, 404, 409, 422),
)


@router.post(
    "/schools",
    response_model=Created,
    status_code=status.HTTP_201_CREATED,
    summary="Register a school (system administrator)",
)
def register_school(body: SchoolIn, actor: CurrentActor, ledger: LedgerDep) -> Created:
    return created(c.RegisterSchool(actor=actor, **body.fields()), ledger)


@router.post(
    "/accounts",
    response_model=Created,
    status_code=status.HTTP_201_CREATED,
    summary="Register a person's account (system administrator)",
)
def register_account(body: AccountIn, actor: CurrentActor, ledger: LedgerDep) -> Created:
    return created(c.RegisterAccount(actor=actor, **body.fields()), ledger)


@router.post(
    "/accounts/{account_id}/grants",
    response_model=Accepted,
    summary="Grant a role (system administrator; head or deputy in their school)",
)
def grant_role(account_id: UUID, body: GrantIn, actor: CurrentActor, ledger: LedgerDep) -> Accepted:
    return accepted(c.GrantRole(actor=actor, account_id=account_id, **body.fields()), ledger)


@router.post(
    "/accounts/{account_id}/revocations",
    response_model=Accepted,
    summary="Revoke a role (system administrator; head or deputy in their school)",
)
def revoke_role(
    account_id: UUID, body: GrantIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    return accepted(c.RevokeRole(actor=actor, account_id=account_id, **body.fields()), ledger)


@router.post(
    "/accounts/{account_id}/lock",
    response_model=Accepted,
    summary="Lock an account and end its sessions (support, system administrator; п. 4.3–4.4)",
)
def lock_account(
    account_id: UUID, body: ReasonIn, actor: CurrentActor, ledger: LedgerDep, auth: AuthDep
) -> Accepted:
    locked = accepted(c.LockAccount(actor=actor, account_id=account_id, **body.fields()), ledger)
    auth.end_sessions(account_id, "account locked")
    return locked


@router.post(
    "/accounts/{account_id}/unlock",
    response_model=Accepted,
    summary="Unlock an account (support, system administrator)",
)
def unlock_account(
    account_id: UUID, body: ReasonIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    return accepted(c.UnlockAccount(actor=actor, account_id=account_id, **body.fields()), ledger)


@router.post(
    "/accounts/{account_id}/password-reset",
    response_model=PasswordResetOut,
    summary="Reset a password: a one-time password under a new credential version, which opens "
    "one session that may only change it; every session of the account ends (system "
    "administrator; support only for an account without journal or personal-data access)",
)
def reset_password(account_id: UUID, actor: CurrentActor, auth: AuthDep) -> PasswordResetOut:
    issued = auth.reset_password(actor, account_id)
    return PasswordResetOut(
        account_id=issued.account_id,
        credential_version=issued.credential_version,
        temporary_password=issued.password,
    )
