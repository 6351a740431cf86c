"""The interactive API documentation, served whole by the app: Swagger UI at ``/docs`` and ReDoc
at ``/redoc``.

FastAPI's own pages load their scripts and styles from a CDN, so on a school's closed network they
stay blank. The files come instead from the ``fastapi-offline`` package (its ``static/`` folder:
Swagger UI's bundle and CSS, ReDoc's standalone script, a favicon), served under ``/docs-static``
as FastAPI's recipe for self-hosted docs does. None of these routes is in the OpenAPI document.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import HTMLResponse

STATIC = Path(fastapi_offline.__file__).parent / "static"
"""The package's copies of the Swagger UI and ReDoc files."""
STATIC_URL = "/docs-static"
DOCS_URL = "/docs"
REDOC_URL = "/redoc"
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}
"""Swagger UI would otherwise send the spec to an online validator for its badge."""


def install_docs(app: FastAPI) -> None:
    """Add ``/docs``, its OAuth2 redirect page, ``/redoc`` and the files they load to ``app``
    (created with ``docs_url=None, redoc_url=None``)."""
    assert app.openapi_url is not None
    openapi_url = app.openapi_url
    redirect_url = app.swagger_ui_oauth2_redirect_url
    app.mount(STATIC_URL, StaticFiles(directory=STATIC), name="docs-static")

    def static(request: Request, name: str) -> str:
        return f"{request.scope.get('root_path', '')}{STATIC_URL}/{name}"

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} — Swagger UI",
            oauth2_redirect_url=f"{root}{redirect_url}" if redirect_url else None,
            swagger_js_url=static(request, "swagger-ui-bundle.js"),
            swagger_css_url=static(request, "swagger-ui.css"),
            swagger_favicon_url=static(request, "favicon.png"),
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )

    if redirect_url:

        @app.get(redirect_url, include_in_schema=False)
        async def swagger_ui_redirect() -> HTMLResponse:
            return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{app.title} — ReDoc",
            redoc_js_url=static(request, "redoc.standalone.js"),
            redoc_favicon_url=static(request, "favicon.png"),
            with_google_fonts=False,
        )
