"""The FastAPI application factory: no module-level state; everything comes from ``Services``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import ExitStack, asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ejournal.api.bootstrap import Services
from ejournal.api.docs import install_docs
from ejournal.api.errors import API_CATALOGUE, install_error_handlers, problem_response
from ejournal.api.freshness import POSITION_HEADER, position_value, requested_position
from ejournal.api.routes import (
    accounts,
    audit,
    auth,
    breach,
    exchange,
    health,
    journal,
    lists,
    marks,
    me,
    people,
    printouts,
    reads,
    setup,
    timetable,
)
from ejournal.api.routes import subscriptions as mail_subscriptions
from ejournal.exchange.files import MAX_BYTES
from ejournal.ledger.placement import PlacementError

MAX_BODY_BYTES = 1 << 20
"""The largest request body: a whole class's marks or a year's КТП fit many times over."""
MAX_FILE_BYTES = MAX_BYTES
"""The largest file an import takes (``POST …/import``, whose body is the file)."""

DESCRIPTION = """\
The electronic class journal and diary of general-education schools (п. 1.1–4.4 of the district
regulation). Log in with `POST /auth/login` and send the token as `Authorization: Bearer <token>`.
Every refusal is `application/problem+json` with a stable `code`.

Reading your own writes: a response to a request that recorded something carries the header
`Ejournal-Position`. Send the highest position you hold back in the same header, and the request
is answered once the journal, diaries, sheets and monitor include those writes (or 503
`service.unavailable` if that takes more than a few seconds). Without it, a read may not yet show
a write made a moment ago.
"""

log = logging.getLogger("ejournal.api")
_POSITION = POSITION_HEADER.lower().encode()


def create_app(
    services: Services, *, threads: int = 32, busiest_pages: Sequence[APIRouter] = ()
) -> FastAPI:
    """The HTTP application over ``services``.

    The projector starts and stops with the application's lifespan; whoever built ``services``
    closes them. ``threads`` bounds the worker threads that run the plain ``def`` routes (each may
    hold a database connection). ``busiest_pages`` are the site's routers tried right after the
    API's reads (``web.site``).
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

    app = _application(lifespan, busiest_pages)
    app.state.services = services
    app.add_middleware(_PerRequest, services=services)
    return app


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document, without services (for docs and for contract tests)."""
    return _application(None).openapi()


def _application(lifespan: Any, busiest_pages: Sequence[APIRouter] = ()) -> FastAPI:
    app = FastAPI(
        title="ejournal",
        version="0.1.0",
        summary="Electronic class journal and diary, event-sourced and verifiable",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from the package instead of a CDN: api.docs
        redoc_url=None,
    )
    install_error_handlers(app)
    # FastAPI tries each router's routes in turn, a regular expression each, for every request
    # (about 50 for a diary read when it came after setup's): the busiest come first, the
    # diary and lesson pages among them (a page tried after every API route spent a fifth of
    # its time in matching).
    for router in (
        reads.router,
        *busiest_pages,
        marks.router,
        journal.router,
        auth.router,
        me.router,
        lists.router,
        health.router,
        accounts.router,
        setup.router,
        timetable.router,
        people.router,
        audit.router,
        audit.access_router,
        breach.router,
        mail_subscriptions.router,
        exchange.router,
        printouts.router,
    ):
        app.include_router(router)
    install_docs(app)
    app.add_middleware(_BodyLimit)
    return app


class _PerRequest:
    """Each request reads aggregates through the ledger's cache (``Ledger.cached_reads``): it
    sees every change recorded before it began, for one query instead of one per aggregate.

    Read your writes (``api.freshness``, docs/adr/0009-read-your-writes.md): a request that sends
    ``Ejournal-Position`` waits until the read models are projected up to it, and the response
    to a request that saved events names the position of the last one. In a region
    (``ledger.placement``) each server has its ledger, its read models and its positions: the
    position names its server (``shard1:1234``; the directory's is the bare number)."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self._services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = await self._wait(scope)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        cells = self._services.cells()

        async def positioned(message: Message) -> None:
            if message["type"] == "http.response.start":
                # The last server written to names the position: a school's, if any.
                saved = [(c.server, c.ledger.saved_position()) for c in cells]
                written = [(server, position) for server, position in saved if position]
                if written:
                    value = position_value(*written[-1]).encode()
                    message = {
                        **message,
                        "headers": [*message.get("headers", ()), (_POSITION, value)],
                    }
            await send(message)

        # The routes run in worker threads, each in a copy of this context: their saves are
        # the block's.
        with ExitStack() as stack:
            for cell in cells:
                stack.enter_context(cell.ledger.cached_reads())
            await self.app(scope, receive, positioned)

    async def _wait(self, scope: Scope) -> Response | None:
        """None once the read models are as far as the request asks (or it asks nothing), else
        the 503 to answer."""
        asked = None
        for name, value in scope["headers"]:
            if name == _POSITION:
                asked = requested_position(value.decode("latin-1"))
        if asked is None:
            return None
        server, position = asked
        detail = f"Данные для чтения ещё не обновлены до позиции {position}."
        try:
            freshness = self._services.cell(server).freshness
            if freshness is None or await freshness.wait_for(position):
                return None
        except PlacementError:
            return None  # a server this deployment does not know: ignored, as a bad number is
        except Exception:  # the database failed: as for any request, 503, never a 500
            log.exception("reading the read models' position failed")
            detail = "База данных недоступна."
        refusal = API_CATALOGUE["service.unavailable"]
        return problem_response(
            Request(scope),
            status=503,
            code="service.unavailable",
            title=refusal.title,
            detail=detail,
            headers={"Retry-After": "1"},
        )


class _BodyLimit:
    """Refuse bodies over ``MAX_BODY_BYTES`` (413) before they are read into memory."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = MAX_FILE_BYTES if str(scope.get("path", "")).endswith("/import") else MAX_BODY_BYTES
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
        refusal = API_CATALOGUE["request.too_large"]
        response = problem_response(
            Request(scope), status=413, code="request.too_large", title=refusal.title
        )
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass
