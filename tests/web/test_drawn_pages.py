"""Pages served as drawn (ADR 0014): a page read again at the same version of what it shows is
the one drawn for that session, never another session's, and a write draws it anew."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from ejournal.web.sessions import SESSION_COOKIE, csrf_token
from tests.web.site import PASSWORD, Site


@contextmanager
def _sessions(site: Site, login: str) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two sessions of ``login``, each in its own client."""
    with httpx.Client(base_url=site.url) as first, httpx.Client(base_url=site.url) as second:
        _login(first, login)
        _login(second, login)
        yield first, second


def _login(client: httpx.Client, login: str) -> None:
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text)
    assert token is not None
    answer = client.post(
        "/login", data={"csrf": token.group(1), "login": login, "password": PASSWORD}
    )
    assert answer.status_code == 303, answer.text


def _tokens(page: str) -> set[str]:
    return set(re.findall(r'name="csrf" value="([0-9a-f]+)"', page))


def test_a_lesson_page_read_again_is_the_sessions_own_and_a_write_draws_it_anew(
    site: Site,
) -> None:
    with _sessions(site, "t.russkiy") as (first, second):
        day = first.get("/day")
        found = re.search(r'href="(/lesson/[0-9a-f-]+)"', day.text)
        assert found is not None
        lesson = found.group(1)
        own = {client: csrf_token(client.cookies[SESSION_COOKIE]) for client in (first, second)}
        assert own[first] != own[second]
        for _ in range(2):  # drawn, then served as drawn
            for client in (first, second):
                page = client.get(lesson)
                assert page.status_code == 200
                assert _tokens(page.text) == {own[client]}
        saved = first.post(
            f"{lesson}/homework",
            data={"csrf": own[first], "text": "Упражнение 31, выучить правило"},
        )
        assert saved.status_code == 303, saved.text
        again = second.get(lesson)
        assert "Упражнение 31, выучить правило" in again.text
        assert _tokens(again.text) == {own[second]}


def test_a_diary_page_read_again_is_the_sessions_own(site: Site) -> None:
    with _sessions(site, "roditel") as (first, second):
        diary = first.get("/diary", follow_redirects=True)
        assert diary.status_code == 200
        path = diary.url.path
        for _ in range(2):
            for client in (first, second):
                page = client.get(path)
                assert page.status_code == 200
                assert _tokens(page.text) == {csrf_token(client.cookies[SESSION_COOKIE])}
                assert "Дневник: " in page.text
        # A session that has ended is refused, however recently its page was drawn.
        ended = first.cookies[SESSION_COOKIE]
        first.post("/logout", data={"csrf": csrf_token(ended)})
        refused = httpx.get(site.url + path, headers={"Cookie": f"{SESSION_COOKIE}={ended}"})
        assert refused.status_code == 303 and refused.headers["location"].startswith("/login")
