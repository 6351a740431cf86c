"""Refusals on pages are pages: the API's handlers decide the status, code and Russian title
(``api.errors``, one place for that), and this renders their problem as HTML for a page's
route, or for a browser asking for a page that does not exist. Asked by htmx, only the message
is sent, and the page shows it where the answer would have gone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ejournal.web.access import (
    CsrfRefused,
    LoginRequired,
    PasswordChangeRequired,
    is_page,
    login_url,
)
from ejournal.web.render import render

Handler = Callable[[Request, Exception], Response | Awaitable[Response]]


def _wants_page(request: Request) -> bool:
    if is_page(request):
        return True
    return "route" not in request.scope and "text/html" in request.headers.get("accept", "")


def _redirect(request: Request, to: str) -> Response:
    if request.headers.get("HX-Request") == "true":
        # htmx would swap the login page into the lesson's row: the whole page goes instead.
        return Response(status_code=204, headers={"HX-Redirect": to})
    return RedirectResponse(to, status_code=303)


def error_page(request: Request, problem: dict[str, Any], status: int) -> Response:
    return render(request, "error.html", {"problem": problem}, status_code=status)


def _as_page(handler: Handler) -> Handler:
    async def handle(request: Request, exc: Exception) -> Response:
        answer = handler(request, exc)
        response = await answer if isinstance(answer, Awaitable) else answer
        if not _wants_page(request) or response.media_type != "application/problem+json":
            return response
        problem = orjson.loads(bytes(response.body))
        page = error_page(request, problem, response.status_code)
        if "retry-after" in response.headers:
            page.headers["Retry-After"] = response.headers["retry-after"]
        return page

    return handle


def install_page_errors(app: FastAPI) -> None:
    for kind, handler in list(app.exception_handlers.items()):
        app.add_exception_handler(kind, _as_page(handler))

    def login_required(request: Request, exc: Exception) -> Response:
        return _redirect(request, login_url(request))

    def password_change(request: Request, exc: Exception) -> Response:
        return _redirect(request, "/password")

    def csrf_refused(request: Request, exc: Exception) -> Response:
        problem = {
            "code": "web.csrf",
            "title": "Форма устарела или отправлена не с этой страницы.",
            "detail": "Обновите страницу и отправьте форму ещё раз.",
        }
        return error_page(request, problem, 403)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PasswordChangeRequired, password_change)
    app.add_exception_handler(CsrfRefused, csrf_refused)
