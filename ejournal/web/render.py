"""Rendering a page: the Jinja2 templates, the filters a Russian school's page needs (dates
ДД.ММ.ГГГГ, times in the school's zone), and the headers every page is sent with."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from functools import cache
from importlib.resources import files
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ejournal.ledger.domain.school import DEFAULT_TIME_ZONE
from ejournal.mail.digest import MONTHS
from ejournal.mail.digest import WEEKDAYS as DIGEST_WEEKDAYS

WEEKDAYS = tuple(day.lower() for day in DIGEST_WEEKDAYS)
WEEKDAYS_SHORT = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",  # no inline script, no eval (htmx's allowEval is off)
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # A page shows a child's data: no shared cache, and no copy kept after logout.
    "Cache-Control": "no-store",
}


def ru_date(value: date | datetime | None) -> str:
    return "" if value is None else f"{value:%d.%m.%Y}"


def local_time(value: datetime | None, zone: str = DEFAULT_TIME_ZONE) -> str:
    """A moment as ДД.ММ.ГГГГ ЧЧ:ММ in the school's zone (Moscow by default)."""
    return "" if value is None else f"{value.astimezone(ZoneInfo(zone)):%d.%m.%Y %H:%M}"


def weekday(value: date) -> str:
    return WEEKDAYS[value.weekday()]


def long_date(value: date) -> str:
    """«понедельник, 15 сентября 2025 г.», as a school's page heads a day."""
    return f"{WEEKDAYS[value.weekday()]}, {value.day} {MONTHS[value.month - 1]} {value.year} г."


def mark_value(value: Any) -> str:
    """A mark as a journal writes it: 5, 4, 3, 2; а decimal average with a comma (4,35)."""
    if isinstance(value, float):
        return f"{value:.2f}".replace(".", ",")
    return "" if value is None else str(value)


@cache
def _static_version(name: str) -> str:
    data = files("ejournal.web").joinpath("static", name).read_bytes()
    return hashlib.sha256(data).hexdigest()[:12]


def static(name: str) -> str:
    """The URL of a static file with its content's hash: cached for a year, replaced when it
    changes."""
    return f"/static/{name}?v={_static_version(name)}"


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("ejournal.web", "templates"),
        # The templates are the package's: nothing edits them while it runs, so a page need not
        # ask the file system whether they changed (a stat per template per page).
        auto_reload=False,
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        ru_date=ru_date,
        local_time=local_time,
        weekday=weekday,
        long_date=long_date,
        mark=mark_value,
    )
    env.globals.update(static=static, WEEKDAYS_SHORT=WEEKDAYS_SHORT)
    return env


def render(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    """The page ``template`` with ``context``; a request made by htmx gets the template's
    ``fragment`` block alone when it has one (the part the page swaps in)."""
    compiled = environment().get_template(template)
    context = {"request": request, **context}
    if request.headers.get("HX-Request") == "true" and "fragment" in compiled.blocks:
        body = "".join(compiled.blocks["fragment"](compiled.new_context(context)))
    else:
        body = compiled.render(context)
    return HTMLResponse(body, status_code=status_code, headers=PAGE_HEADERS)
