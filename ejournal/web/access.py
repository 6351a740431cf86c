"""Who is asking for a page, and what a form sent.

``PageCaller`` is the caller of the session in the browser's cookie (``web.sessions``): a page
asked without one, or with an ended one, sends the browser to the login page and back; a session
opened with a one-time password is sent to change it first (п. 4.2). ``Form`` is a posted form
whose CSRF token matches the session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import parse_qsl, quote

from fastapi import Depends, Request
from fastapi.routing import APIRoute

from ejournal.api.deps import ServicesDep, caller_of
from ejournal.api.threads import OneTripRoute
from ejournal.identity.authenticator import Caller
from ejournal.identity.errors import AuthenticationError
from ejournal.web.sessions import CSRF_FIELD, SESSION_COOKIE, csrf_matches, csrf_token

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 2_000
"""A register of a class of 40 with every field twice over fits many times."""


class PageRoute(OneTripRoute):
    """A route that answers with a page: its refusals are pages too (``web.errors``), and it is
    not part of the API's OpenAPI document."""

    def __init__(self, path: str, endpoint: object, **kwargs: object) -> None:
        kwargs.setdefault("include_in_schema", False)
        super().__init__(path, endpoint, **kwargs)  # type: ignore[arg-type]


def is_page(request: Request) -> bool:
    route = request.scope.get("route")
    return isinstance(route, APIRoute) and isinstance(route, PageRoute)


class LoginRequired(Exception):
    """No live session: the browser goes to the login page (and comes back after)."""


class PasswordChangeRequired(Exception):
    """The session was opened with a one-time password: it must be changed first (п. 4.2)."""


class CsrfRefused(Exception):
    """A form without the token of its session: refused, nothing written."""


def login_url(request: Request) -> str:
    back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(back, safe='')}"


async def session_of(request: Request, services: ServicesDep) -> Caller:
    """The caller of the browser's session, even one that may only change its password."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired
    try:
        return await caller_of(services, token)
    except AuthenticationError as refused:
        raise LoginRequired from refused


SessionOnly = Annotated[Caller, Depends(session_of)]


async def page_caller(caller: SessionOnly) -> Caller:
    if caller.password_change_only:
        raise PasswordChangeRequired
    return caller


PageCaller = Annotated[Caller, Depends(page_caller)]


@dataclass(frozen=True, slots=True)
class Form:
    """A posted form's fields (the last value of each, and every value of repeated ones)."""

    pairs: list[tuple[str, str]]

    def get(self, name: str, default: str = "") -> str:
        found = [value for key, value in self.pairs if key == name]
        return found[-1] if found else default

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]

    def starting(self, prefix: str) -> dict[str, str]:
        """Fields named ``prefix<rest>`` by ``rest`` (a register's ``code:<student>``)."""
        return {key[len(prefix) :]: value for key, value in self.pairs if key.startswith(prefix)}


async def read_form(request: Request) -> Form:
    """The url-encoded body (the API's body limit applies); anything else is an empty form,
    which no CSRF check passes."""
    kind = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind != FORM_TYPE:
        return Form([])
    body = (await request.body()).decode("utf-8", errors="replace")
    return Form(parse_qsl(body, keep_blank_values=True, max_num_fields=MAX_FIELDS))


async def checked_form(request: Request, caller: SessionOnly) -> Form:
    """The form, if it carries the session's CSRF token; else ``CsrfRefused`` (403)."""
    form = await read_form(request)
    if not csrf_matches(request.cookies.get(SESSION_COOKIE), form.get(CSRF_FIELD)):
        raise CsrfRefused
    return form


CheckedForm = Annotated[Form, Depends(checked_form)]


def session_csrf(request: Request) -> str:
    return csrf_token(request.cookies.get(SESSION_COOKIE, ""))
