"""Logging in and out, the caller's own account, and their password (п. 4.1–4.2).

A session opened with a one-time password (an administrator's reset) may only change the password
and log out: every other route refuses it (``auth.password_change_required``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from ejournal.api.deps import AuthDep, CurrentCaller, SessionCaller
from ejournal.api.errors import problem_responses
from ejournal.api.schemas.auth import GrantOut, LoginIn, MeOut, PasswordChangeIn, SessionOut
from ejournal.api.schemas.common import Accepted
from ejournal.api.threads import OneTripRoute
from ejournal.identity.authenticator import UNKNOWN_SOURCE, Login

router = APIRouter(route_class=OneTripRoute, prefix="/auth", tags=["authentication"])


def _session(login: Login) -> SessionOut:
    return SessionOut(
        access_token=login.token,
        session_id=login.session.session_id,
        account_id=login.session.account_id,
        credential_version=login.session.credential_version,
        expires_at=login.session.expires_at,
        password_change_required=login.session.password_change_only,
    )


@router.post(
    "/login",
    response_model=SessionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Open a session with login and password. Throttled by login and by client address "
    "(429 with Retry-After, never over a minute); a one-time password opens a session that may "
    "only change the password",
    responses=problem_responses(401, 403, 422, 429),
)
def login(body: LoginIn, request: Request, auth: AuthDep) -> SessionOut:
    # The client's address as the server sees it (behind a trusted proxy, uvicorn takes it from
    # X-Forwarded-For).
    source = request.client.host if request.client is not None else UNKNOWN_SOURCE
    return _session(auth.login(body.login, body.password, source=source))


@router.post(
    "/logout",
    response_model=Accepted,
    summary="Log out: the caller's login session ends and its token no longer works",
    responses=problem_responses(401, 403),
)
def logout(caller: SessionCaller, auth: AuthDep) -> Accepted:
    auth.logout(caller)
    return Accepted()


@router.get(
    "/me",
    response_model=MeOut,
    summary="The caller's account, roles and session",
    responses=problem_responses(401, 403),
)
def me(caller: CurrentCaller) -> MeOut:
    return MeOut(
        account_id=caller.actor.account_id,
        person_id=caller.person_id,
        login=caller.login,
        session_id=caller.session_id,
        credential_version=caller.actor.credential_version,
        grants=[
            GrantOut(role=g.role, school_id=g.school_id)
            for g in sorted(caller.actor.grants, key=lambda g: (g.role, str(g.school_id)))
        ],
    )


@router.post(
    "/password",
    response_model=SessionOut,
    summary="Change the caller's password: a new credential version; every old session ends. "
    "The one thing a session opened with a one-time password may do",
    responses=problem_responses(401, 403, 409, 422),
)
def change_password(body: PasswordChangeIn, caller: SessionCaller, auth: AuthDep) -> SessionOut:
    return _session(auth.change_password(caller, body.current_password, body.new_password))
