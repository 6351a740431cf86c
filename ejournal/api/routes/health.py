"""Liveness and readiness, for the operator's probes: no authentication, no personal data."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ejournal.api.deps import ServicesDep
from ejournal.api.threads import OneTripRoute

router = APIRouter(route_class=OneTripRoute, tags=["health"])

READY_LAG = 10_000
"""Events the read models may be behind when another process projects them."""


class HealthOut(BaseModel):
    status: str = "ok"


class ReadyOut(BaseModel):
    ready: bool
    database: bool
    projector: bool
    lag: int | None = None
    """Events the projector has yet to process, if it knows."""


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
    database = services.database_reachable()
    lag = services.projector.lag() if database and services.projector is not None else None
    if services.follow:
        projector = services.projector is not None and services.projector.running
    else:
        # The projector runs in another process (the supervisor of several workers): ready
        # while the read models keep up with the ledger.
        projector = lag is not None and lag <= READY_LAG
    body = ReadyOut(ready=database and projector, database=database, projector=projector, lag=lag)
    return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)
