"""The FastAPI application factory: no module-level state; everything comes from ``Services``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ejournal.api.bootstrap import Services
from ejournal.api.errors import API_CATALOGUE, install_error_handlers, problem_response
from ejournal.api.routes import accounts, audit, auth, breach, health, journal, people, reads, setup
from ejournal.api.routes import subscriptions as mail_subscriptions
from ejournal.ledger.application import Ledger

MAX_BODY_BYTES = 1 << 20
"""The largest request body: a whole class's marks or a year's КТП fit many times over."""

DESCRIPTION = """\
The electronic class journal and diary of general-education schools (п. 1.1–4.4 of the district
regulation). Log in with `POST /auth/login` and send the token as `Authorization: Bearer <token>`.
Every refusal is `application/problem+json` with a stable `code`.
"""


def create_app(services: Services, *, threads: int = 32) -> FastAPI:
    """The HTTP application over ``services``.

    The projector starts and stops with the application's lifespan; whoever built ``services``
    closes them. ``threads`` bounds the worker threads that run the plain ``def`` routes (each may
    hold a database connection).
    """

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        services.start()
        if services.aio is not None:
            await services.aio.open()
        try:
            yield
        finally:
            if services.aio is not None:
                await services.aio.close()
            services.stop()

    app = _application(lifespan)
    app.state.services = services
    app.add_middleware(_CachedReadsPerRequest, ledger=services.ledger)
    return app


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document, without services (for docs and for contract tests)."""
    return _application(None).openapi()


def _application(lifespan: Any) -> FastAPI:
    app = FastAPI(
        title="ejournal",
        version="0.1.0",
        summary="Electronic class journal and diary, event-sourced and verifiable",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )
    install_error_handlers(app)
    # FastAPI tries each router's routes in turn, a regular expression each, for every request
    # (about 50 for a diary read when it came after setup's): the busiest come first.
    for router in (
        reads.router,
        journal.router,
        auth.router,
        health.router,
        accounts.router,
        setup.router,
        people.router,
        audit.router,
        audit.access_router,
        breach.router,
        mail_subscriptions.router,
    ):
        app.include_router(router)
    app.add_middleware(_BodyLimit)
    return app


class _CachedReadsPerRequest:
    """Each request reads aggregates through the ledger's cache (``Ledger.cached_reads``): it
    sees every change recorded before it began, for one query instead of one per aggregate."""

    def __init__(self, app: ASGIApp, ledger: Ledger) -> None:
        self.app = app
        self._ledger = ledger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The routes run in worker threads, each in a copy of this context.
        with self._ledger.cached_reads():
            await self.app(scope, receive, send)


class _BodyLimit:
    """Refuse bodies over ``MAX_BODY_BYTES`` (413) before they are read into memory."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
        from starlette.requests import Request

        refusal = API_CATALOGUE["request.too_large"]
        response = problem_response(
            Request(scope), status=413, code="request.too_large", title=refusal.title
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass
