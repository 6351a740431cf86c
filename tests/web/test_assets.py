"""The static files the pages use: htmx is the npm registry's, served from the package."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "ejournal" / "web" / "static"


def test_the_served_htmx_is_the_one_package_lock_names() -> None:
    installed = ROOT / "node_modules" / "htmx.org"
    if not installed.exists():
        pytest.fail("node_modules is missing: make test runs `npm ci` first")
    lock = json.loads((ROOT / "package-lock.json").read_text())
    version = lock["packages"]["node_modules/htmx.org"]["version"]
    assert json.loads((installed / "package.json").read_text())["version"] == version
    served = (STATIC / "htmx.min.js").read_bytes()
    assert served == (installed / "dist" / "htmx.min.js").read_bytes(), "run make vendor"


def test_no_template_has_inline_script_or_style() -> None:
    # The Content-Security-Policy refuses them (web/render.py): they would silently not work.
    for template in (ROOT / "ejournal" / "web" / "templates").rglob("*.html"):
        text = template.read_text()
        assert "<script>" not in text and "style=" not in text, template
        assert " on" + "click=" not in text and "hx-on" not in text, template
