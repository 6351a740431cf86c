"""Browser tests: Debian's chromium, driven by Playwright (no browser download), against the demo
school served by uvicorn (tests/web/site.py), on PostgreSQL, and on SQLite too for the modules
that say so (``SITE_BACKENDS``).

Every page a test opens through ``Browser.visit`` is checked by axe-core (from the npm registry,
``npm ci`` at the repository's root) for serious and critical violations, must log no error in
the browser's console (a Content-Security-Policy violation is one), and is photographed at
1280 px and at 360 px into ``EJOURNAL_SCREENSHOTS`` (by default a folder in the system's
temporary directory, outside the repository)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BACKENDS
from tests.databases import Templates
from tests.web.site import PASSWORD, Site, demo_template, served

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(
    os.environ.get("EJOURNAL_SCREENSHOTS", Path(tempfile.gettempdir()) / "ejournal-screenshots")
)
WIDTHS = (1280, 360)
SERIOUS = ("serious", "critical")


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return "chromium is not installed (apt-get install chromium chromium-driver)"
    if not AXE.exists():
        return "axe-core is not installed (npm ci at the repository's root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    return None


# Per module: Playwright's sync API runs an event loop of its own in this thread while it is
# open, and the tests after it in the same process call asyncio.run.
@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    missing = _missing()
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser tests must run under CI=true: {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--lang=ru-RU"]
        )
        try:
            yield browser
        finally:
            browser.close()


PAGE_BACKENDS = ("postgres",)
"""Where a module's pages are served unless it names its own backends (``SITE_BACKENDS``):
PostgreSQL, where the busiest pages take their event-loop paths (ADR 0014) and a district runs.
The journey across readers, the login and the pages served as drawn run on SQLite too, the
demo's default; the API's tests run every route on both (I10)."""


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "site" in metafunc.fixturenames:
        backends = getattr(metafunc.module, "SITE_BACKENDS", PAGE_BACKENDS)
        assert set(backends) <= set(BACKENDS), backends
        metafunc.parametrize("site_backend", backends, scope="module")


@pytest.fixture(scope="module")
def site(
    request: pytest.FixtureRequest,
    site_backend: str,
    templates: Templates,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Site]:
    backend = site_backend
    if backend == "postgres":
        request.getfixturevalue("pg_available")
    with served(demo_template(templates), backend, tmp_path_factory.mktemp("web")) as running:
        yield running


@dataclass
class Browser:
    """One person's browser (its own cookies), on ``site``."""

    site: Site
    page: Any
    console_errors: list[str] = field(default_factory=list)

    def login(self, login: str, password: str = PASSWORD) -> None:
        self.page.goto(self.site.url + "/login")
        self.page.get_by_label("Логин").fill(login)
        self.page.get_by_label("Пароль", exact=True).fill(password)
        self.page.get_by_role("button", name="Войти").click()
        self.page.wait_for_load_state()
        assert "/login" not in self.page.url, self.page.content()

    def goto(self, path: str) -> Any:
        response = self.page.goto(self.site.url + path)
        self.page.wait_for_load_state()
        return response

    def visit(self, path: str, shot: str) -> Any:
        """Open ``path``, check it (axe, console) and photograph it as ``shot``."""
        response = self.goto(path)
        self.check(shot)
        return response

    def check(self, shot: str) -> None:
        """axe-core's serious and critical violations of the page as it is now, the console's
        errors, and the two screenshots."""
        self.page.evaluate(AXE.read_text())
        result = self.page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        )
        serious = [
            f"{v['id']} ({v['impact']}): {v['help']} — "
            + "; ".join(node["target"][0] for node in v["nodes"][:5])
            for v in result
            if v["impact"] in SERIOUS
        ]
        assert not serious, f"{shot}: " + "\n".join(serious)
        assert not self.console_errors, f"{shot}: {self.console_errors}"
        self.screenshot(shot)

    def screenshot(self, shot: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "-", shot)
        size = self.page.viewport_size
        for width in WIDTHS:
            self.page.set_viewport_size({"width": width, "height": 900})
            self.page.screenshot(path=SCREENSHOTS / f"{name}-{width}.png", full_page=True)
        self.page.set_viewport_size(size)


def _console(browser: Browser, message: Any) -> None:
    """An error in the console, but for the status of the page itself: a refusal is a page
    with a 4xx status, on purpose."""
    if message.type != "error":
        return
    own_status = message.text.startswith("Failed to load resource") and (
        message.location.get("url") == browser.page.url
    )
    if not own_status:
        browser.console_errors.append(f"{message.text} ({message.location.get('url')})")


@pytest.fixture
def browser_for(chromium: Any, site: Site) -> Iterator[Any]:
    """``browser_for("t.russkiy")``: a new browser context logged in as that demo login."""
    contexts = []

    def open_browser(login: str | None = None) -> Browser:
        context = chromium.new_context(
            locale="ru-RU", timezone_id="Europe/Moscow", viewport={"width": 1280, "height": 900}
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        browser = Browser(site, page)
        page.on("console", lambda message: _console(browser, message))
        if login is not None:
            browser.login(login)
        return browser

    yield open_browser
    for context in contexts:
        context.close()
