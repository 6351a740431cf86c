"""The lesson and diary pages: a page read again at the same version of what it shows is the one
drawn for that session, never another session's, and a write draws it anew (ADR 0014); the
lesson's substitute reads its pupils."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

import httpx

from ejournal import commands as c
from ejournal.ledger.actor import SYSTEM_ACTOR, Role
from ejournal.ledger.domain import Lesson
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.web.sessions import SESSION_COOKIE, csrf_token
from tests.web.site import PASSWORD, Site

SITE_BACKENDS = ("sqlite", "postgres")
"""The demo's default and a district's server (tests/web/conftest.py)."""


@contextmanager
def _sessions(site: Site, login: str) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two sessions of ``login``, each in its own client."""
    with site.client() as first, site.client() as second:
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


def test_a_substitute_opens_the_lesson_they_take(site: Site) -> None:  # п. 2.3
    # The demo's Thursday: the history teacher takes 5«А»'s literature as a substitute. They
    # teach nothing in 5«А» otherwise, yet the lesson's page shows them its pupils to mark.
    ledger = site.services.ledger
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT originator_id FROM {EVENTS_TABLE} WHERE topic LIKE ?",
            ("%:Lesson.SubstituteAssigned",),
        )
        (lesson_id,) = {UUID(str(row[0])) for row in cursor.fetchall()}
    lesson = ledger.get(lesson_id, Lesson)
    assert lesson.substitution is not None
    login = "t.zamena"
    account_id = c.handle(
        c.RegisterAccount(
            actor=SYSTEM_ACTOR, login=login, person_id=lesson.substitution.teacher_id
        ),
        ledger,
    )
    c.handle(
        c.GrantRole(
            actor=SYSTEM_ACTOR, account_id=account_id, role=Role.TEACHER, school_id=lesson.school_id
        ),
        ledger,
    )
    site.services.auth.provision(account_id, PASSWORD)
    with site.client() as client:
        _login(client, login)
        page = client.get(f"/lesson/{lesson_id}")
        assert page.status_code == 200, page.text
        assert page.text.count('class="pupil-row"') >= 20
        assert "Литература, 5«А»" in page.text
        # Another lesson of 5«А» is not theirs to see.
        refused = client.get(f"/lesson/{_another_lesson(site, lesson)}")
        assert refused.status_code == 403
        assert "Нет доступа" in refused.text


def _another_lesson(site: Site, lesson: Lesson) -> UUID:
    """A lesson of the same roster and subject, not ``lesson``."""
    ledger = site.services.ledger
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT originator_id FROM {EVENTS_TABLE} WHERE topic LIKE ?",
            ("%:Lesson.Scheduled",),
        )
        ids = [UUID(str(row[0])) for row in cursor.fetchall()]
    for found in ids:
        other = ledger.get(found, Lesson)
        same = (other.roster_id, other.subject_id) == (lesson.roster_id, lesson.subject_id)
        if same and other.id != lesson.id:
            return found
    raise AssertionError("the demo has one such lesson only")
