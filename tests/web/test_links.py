"""Every link a page shows opens, in the browser's session: a page must never link to what only
the API's bearer token opens (a printout once did). Each kind of link is followed once (the same
path with other IDs is the same kind), from each reader's main pages."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.site import Site

UUIDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
NOT_FOLLOWED = ("/logout",)


def _kind(href: str) -> str:
    return UUIDS.sub("{id}", href.split("#", 1)[0])


def _links(browser: Any, path: str) -> list[str]:
    browser.goto(path)
    assert "/login" not in browser.page.url, path
    hrefs: list[str] = browser.page.locator("a[href^='/']").evaluate_all(
        "links => links.map(link => link.getAttribute('href'))"
    )
    return [href.split("#", 1)[0] for href in hrefs if href.split("#", 1)[0]]


def _crawl(browser: Any, start: list[str], depth: int = 3) -> set[str]:
    """Follow every kind of link from ``start``, ``depth`` pages deep; returns the kinds."""
    followed: set[str] = set()
    frontier = start
    for _ in range(depth):
        pages = []
        for path in frontier:
            for href in _links(browser, path):
                kind = _kind(href)
                if kind in followed or kind.startswith(NOT_FOLLOWED):
                    continue
                followed.add(kind)
                answer = browser.page.request.get(browser.site.url + href)
                assert answer.status < 400, f"{path} links {href}: {answer.status}"
                kind_of_body = answer.headers.get("content-type", "")
                assert "problem+json" not in kind_of_body, f"{path} links {href}: {kind_of_body}"
                if kind_of_body.startswith("text/html"):
                    pages.append(href)
        frontier = pages
    return followed


@pytest.mark.parametrize("login", ["t.russkiy", "roditel", "uchenik", "direktor", "auditor"])
def test_every_kind_of_link_on_a_readers_pages_opens(
    browser_for: Any, site: Site, login: str
) -> None:
    browser = browser_for(login)
    followed = _crawl(browser, ["/"])
    expected = {  # a kind of link each reader's pages must have led to
        "t.russkiy": "/lesson/{id}",
        "roditel": "/printout",
        "uchenik": "/printout",
        "direktor": "/printout",
        "auditor": "/ledger/proof/{id}",
    }[login]
    assert any(expected in kind for kind in followed), sorted(followed)
