"""Liveness and readiness, for the operator's probes: no authentication, no personal data."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ejournal.api.bootstrap import Services
from ejournal.api.deps import ServicesDep
from ejournal.api.threads import OneTripRoute
from ejournal.ledger.errors import LedgerError

router = APIRouter(route_class=OneTripRoute, tags=["health"])

READY_LAG = 10_000
"""Events the read models may be behind the ledger and the server still be ready."""


class HealthOut(BaseModel):
    status: str = "ok"


class ReadyOut(BaseModel):
    ready: bool
    database: bool
    projector: bool
    """Something projects: the read models follow the ledger (``api.freshness``)."""
    lag: int | None = None
    """Events the projector has yet to process, if it knows."""
    servers: dict[str, bool] | None = None
    """In a region (``EJOURNAL_SERVERS``): whether each server of schools is ready. One that
    is not fails its own schools' requests, and leaves the process ready for the others'."""


@router.get("/health", response_model=HealthOut, summary="The process is up")
async def health() -> HealthOut:
    return HealthOut()


@router.get(
    "/ready",
    response_model=ReadyOut,
    summary="The database is reachable and the projector running",
    responses={503: {"model": ReadyOut, "description": "Not ready"}},
)
def ready(services: ServicesDep) -> JSONResponse:
    """Ready while the database answers and the read models follow the ledger: whichever process
    projects them (this one, the supervisor of several workers, ``ejournal project --follow``),
    their position, read from the database, is at most ``READY_LAG`` events behind, and has
    not stood still behind the ledger for ``EJOURNAL_PROJECTOR_STALL_SECONDS``. A process that
    is to project (the single server) must also have its projector running. In a region, the
    directory's; each server's is listed."""
    body = _readiness(services)
    if services.region is not None:
        body.servers = {}
        for name in services.region.names[1:]:
            try:
                body.servers[name] = _readiness(services.cell(name)).ready
            except LedgerError:
                body.servers[name] = False
    # One server's answer is as before: no "servers" field.
    shown = body.model_dump(exclude=set() if body.servers is not None else {"servers"})
    return JSONResponse(shown, status_code=200 if body.ready else 503)


def _readiness(services: Services) -> ReadyOut:
    database = services.database_reachable()
    progress = None
    if database and services.freshness is not None:
        try:
            progress = services.freshness.check()
        except Exception:  # the database failed meanwhile: not ready, never a 500
            database = False
    projector = progress is not None and not progress.stalled and progress.lag <= READY_LAG
    if services.follow:
        projector = projector and services.projector is not None and services.projector.running
    lag = progress.lag if progress is not None else None
    return ReadyOut(ready=database and projector, database=database, projector=projector, lag=lag)
