"""Logging in and out through the page, and the password: the forced change of a temporary one
(п. 4.2) and a change at will. The same ``Authenticator`` as ``POST /auth/login``: throttling,
locks and breach reports refuse here as they do there, with the same Russian titles."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from ejournal.api.deps import AuthDep, ServicesDep
from ejournal.api.errors import API_CATALOGUE
from ejournal.commands.errors import CATALOGUE, CommandError
from ejournal.identity.authenticator import UNKNOWN_SOURCE
from ejournal.identity.errors import AuthenticationError
from ejournal.web.access import CheckedForm, Form, PageRoute, SessionOnly, read_form
from ejournal.web.frame import frame
from ejournal.web.render import render
from ejournal.web.sessions import (
    CSRF_FIELD,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    csrf_matches,
    csrf_token,
    new_login_secret,
    set_cookie,
)

router = APIRouter(route_class=PageRoute)


def _safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return "/"
    return target


def _login_page(
    request: Request,
    *,
    next_page: str,
    error: str | None = None,
    login: str = "",
    status: int = 200,
) -> Response:
    secret = request.cookies.get(LOGIN_COOKIE) or new_login_secret()
    response = render(
        request,
        "login.html",
        {
            "csrf": csrf_token(secret),
            "next_page": next_page,
            "error": error,
            "login": login,
        },
        status_code=status,
    )
    set_cookie(request, response, LOGIN_COOKIE, secret)
    return response


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    return _login_page(request, next_page=_safe_next(next))


@router.post("/login")
async def login(
    request: Request, auth: AuthDep, form: Annotated[Form, Depends(read_form)]
) -> Response:
    next_page = _safe_next(form.get("next"))
    if not csrf_matches(request.cookies.get(LOGIN_COOKIE), form.get(CSRF_FIELD)):
        return _login_page(
            request,
            next_page=next_page,
            error="Страница входа устарела; введите логин и пароль ещё раз.",
            status=403,
        )
    source = request.client.host if request.client is not None else UNKNOWN_SOURCE
    try:
        opened = await run_in_threadpool(
            auth.login, form.get("login"), form.get("password"), source=source
        )
    except AuthenticationError as refused:
        refusal = API_CATALOGUE[refused.code]
        return _login_page(
            request,
            next_page=next_page,
            error=refusal.title,
            login=form.get("login"),
            status=refusal.status,
        )
    except CommandError as refused:  # a locked or compromised account (п. 4.3–4.4)
        message = CATALOGUE[refused.code].message
        return _login_page(
            request, next_page=next_page, error=message, login=form.get("login"), status=403
        )
    target = "/password" if opened.session.password_change_only else next_page
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, SESSION_COOKIE, opened.token)
    clear_cookie(request, response, LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request, caller: SessionOnly, auth: AuthDep, form: CheckedForm) -> Response:
    auth.logout(caller)
    response = RedirectResponse("/login", status_code=303)
    clear_cookie(request, response, SESSION_COOKIE)
    return response


@router.get("/password")
def password_form(request: Request, caller: SessionOnly, services: ServicesDep) -> Response:
    return render(request, "password.html", frame(request, caller, services, error=None))


@router.post("/password")
def change_password(
    request: Request, caller: SessionOnly, services: ServicesDep, auth: AuthDep, form: CheckedForm
) -> Response:
    new = form.get("new_password")
    if new != form.get("new_password_again"):
        error = "Новый пароль и его повтор не совпадают."
        page = frame(request, caller, services, error=error)
        return render(request, "password.html", page, status_code=422)
    try:
        opened = auth.change_password(caller, form.get("current_password"), new)
    except AuthenticationError as refused:
        refusal = API_CATALOGUE[refused.code]
        page = frame(request, caller, services, error=refusal.title)
        return render(request, "password.html", page, status_code=refusal.status)
    response = RedirectResponse("/?password=changed", status_code=303)
    set_cookie(request, response, SESSION_COOKIE, opened.token)
    return response
