"""Dependencies of the routes, as ``Annotated`` aliases (``CurrentCaller``, ``LedgerDep`` …).

No database call blocks the event loop: FastAPI runs the plain ``def`` routes in its thread
pool, and the caller is found with statements on the loop (``ledger.async_database``) or, when
that cannot decide, in the pool. The rest only pick a service, and are ``async``: a trip to the
thread pool would cost more than they do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from ejournal.api.bootstrap import Services
from ejournal.api.errors import ApiError
from ejournal.api.reads import ReadModels
from ejournal.identity.access_log import AccessLog
from ejournal.identity.authenticator import Authenticator, Caller
from ejournal.identity.errors import AuthenticationError
from ejournal.identity.names import Names
from ejournal.identity.vault import Vault
from ejournal.ledger.actor import Actor
from ejournal.ledger.application import Ledger

_bearer = HTTPBearer(auto_error=False, description="The access token from POST /auth/login")


SCHOOL_PARAMETERS = ("school_id",)
"""Path or query parameters that name a school: a region routes the request to its server, or,
with ``year_start``, to the server of that school year's log."""
YEAR_PARAMETER = "year_start"
"""With a school, names the school year whose log's server a request goes to."""
RECORD_PARAMETERS = (
    "lesson_id",
    "roster_id",
    "class_id",
    "group_id",
    "subscription_id",
    "originator_id",
)
"""Path or query parameters that name a school's record: routed to the server that holds its
log."""


async def get_services(request: Request) -> Services:
    """The services of the server the request concerns: in a region (``ledger.placement``), the
    server of the school year, school or record its path or query names; else the one
    database's."""
    services: Services = request.app.state.services
    if services.region is None:
        return services
    return await run_in_threadpool(route, services, request.path_params, request.query_params)


def route(services: Services, *sources: Mapping[str, Any]) -> Services:
    """The services of the first school or school's record named in ``sources`` (path, then
    query parameters): a school with a ``year_start`` (in any of them) goes to that year's
    log's server, a closed year may be placed apart from its school; a school alone to its
    own server; a record to its log's server, as a ``log_id`` does. The directory's if none
    is named, or a name is no UUID (the route then refuses it as it would anyway). Raises
    ``ServerUnavailableError`` (503) if that server is down."""
    for source in sources:
        for name in SCHOOL_PARAMETERS:
            school = _uuid(source.get(name))
            if school is not None:
                year = _year(sources)
                return (
                    services.for_school(school) if year is None else services.for_year(school, year)
                )
        for name in RECORD_PARAMETERS:
            record = _uuid(source.get(name))
            if record is not None:
                return services.locating(record)
        log_id = source.get("log_id")
        if (
            isinstance(log_id, str)
            and log_id.startswith("school/")
            and _uuid(log_id.split("/")[1]) is not None
        ):
            return services.for_log(log_id)
    return services


def _year(sources: Sequence[Mapping[str, Any]]) -> int | None:
    """The first school year named in ``sources``; None if none is, or it is not four digits
    (the route refuses it)."""
    for source in sources:
        value = source.get(YEAR_PARAMETER)
        if isinstance(value, str) and len(value) == 4 and value.isascii() and value.isdigit():
            return int(value)
    return None


def _uuid(value: Any) -> UUID | None:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(value) if isinstance(value, str) else None
    except ValueError:
        return None


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_directory_services(request: Request) -> Services:
    """The directory's services (the one database's without a region), whatever the request
    names: for a route that gathers every server's part, or picks its server itself."""
    services: Services = request.app.state.services
    return services


DirectoryDep = Annotated[Services, Depends(get_directory_services)]


async def get_ledger(services: ServicesDep) -> Ledger:
    return services.ledger


async def get_auth(services: ServicesDep) -> Authenticator:
    return services.auth


async def get_access_log(services: ServicesDep) -> AccessLog:
    return services.access_log


async def get_reads(services: ServicesDep) -> ReadModels:
    return services.reads


async def get_vault(services: ServicesDep) -> Vault:
    if services.vault is None:
        raise ApiError("vault.unavailable")
    return services.vault


async def get_names(services: ServicesDep) -> Names:
    # No vault is no names (the reads still answer, with IDs): see ``api.names``.
    return Names(services.vault)


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
AuthDep = Annotated[Authenticator, Depends(get_auth)]
AccessLogDep = Annotated[AccessLog, Depends(get_access_log)]
ReadsDep = Annotated[ReadModels, Depends(get_reads)]
VaultDep = Annotated[Vault, Depends(get_vault)]
NamesDep = Annotated[Names, Depends(get_names)]


async def session_caller(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
) -> Caller:
    """The caller of a live session, also one opened with a one-time password; refuses with 401
    (``auth.*``) or 403 (``account.locked``). Only changing the password and logging out take it:
    every other route takes ``current_caller``.

    On the event loop when it can (``Authenticator.authenticate_async``), else in a thread. Both
    read from the database whether the session is live, at every request: a session ended by
    any process (logout, lock, breach report, invalidation, п. 4.4) is refused at once."""
    token = credentials.credentials if credentials is not None else None
    return await caller_of(services, token)


async def caller_of(services: Services, token: str | None) -> Caller:
    """The caller presenting ``token`` (a bearer token, or the web pages' session cookie)."""
    if services.aio is not None and services.aio.ready:
        caller = await services.auth.authenticate_async(token, services.aio)
        if caller is not None:
            return caller
    return await run_in_threadpool(services.auth.authenticate, token)


SessionCaller = Annotated[Caller, Depends(session_caller)]


async def current_caller(caller: SessionCaller) -> Caller:
    """The authenticated caller, with the rights of the account; 403
    ``auth.password_change_required`` for a session opened with a one-time password, which must
    change it first (п. 4.2)."""
    if caller.password_change_only:
        raise AuthenticationError("auth.password_change_required")
    return caller


CurrentCaller = Annotated[Caller, Depends(current_caller)]


async def current_actor(caller: CurrentCaller) -> Actor:
    """The ``Actor`` every command of this request carries: account, grants, session (I8)."""
    return caller.actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
