"""The application with its pages: the API's (``api.app.create_app``) plus the pages' routes,
their static files (served from the package: nothing is fetched from the internet) and their
refusals rendered as pages. ``ejournal serve`` serves this."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from ejournal.api.app import create_app
from ejournal.api.bootstrap import Services
from ejournal.web.errors import install_page_errors
from ejournal.web.pages import (
    auth,
    class_teacher,
    digest,
    family,
    home,
    journal,
    ledger,
    lesson,
    school,
    teacher,
)

STATIC = Path(str(files("ejournal.web").joinpath("static")))


BUSIEST = (family.router, lesson.router)
"""The diary and the lesson page: FastAPI tries the routes in order, and these are tried right
after the API's reads (``api.app``)."""


def create_site(services: Services, *, threads: int = 32) -> FastAPI:
    app = create_app(services, threads=threads, busiest_pages=BUSIEST)
    add_pages(app)
    return app


def add_pages(app: FastAPI) -> None:
    """The pages not among ``BUSIEST``, their static files and their refusals."""
    for router in (
        digest.router,
        teacher.router,
        journal.router,
        class_teacher.router,
        auth.router,
        home.router,
        school.router,
        ledger.router,
    ):
        app.include_router(router)
    app.mount("/static", _Static(directory=STATIC), name="static")
    install_page_errors(app)


class _Static(StaticFiles):
    """The stylesheet and scripts, cached for a year: their URLs carry their content's hash
    (``web.render.static``)."""

    async def get_response(self, path: str, scope):  # type: ignore[no-untyped-def]
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
            response.headers["X-Content-Type-Options"] = "nosniff"
        return response
