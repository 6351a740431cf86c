"""Authentication on the event loop (``Authenticator.authenticate_async``, п. 4.2–4.4): it admits
a live session of an active account it holds in memory, refuses a token it does not know or a
session ended (an invalidation, too), and leaves every other case to ``authenticate`` in a thread,
which ends sessions where it must. PostgreSQL only: on SQLite the caller is always found in a
thread."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from ejournal import commands as c
from ejournal.identity.authenticator import Caller
from ejournal.identity.errors import AuthenticationError
from ejournal.ledger.actor import SYSTEM_ACTOR
from ejournal.ledger.async_database import AsyncDatabase
from tests.api.conftest import PASSWORD, World, build_world


@pytest.fixture
def pg_world(postgres_url: str) -> Iterator[World]:
    built = build_world(postgres_url, roles=("russian", "support"))
    try:
        yield built
    finally:
        built.client.__exit__(None, None, None)
        built.services.close()


def _on_the_loop(w: World, token: str | None) -> Caller | None:
    """What ``authenticate_async`` answers for ``token``, in a request of its own."""
    database = AsyncDatabase.beside(w.services.ledger.database)
    assert database is not None
    ledger = w.services.ledger

    async def request() -> Caller | None:
        await database.open()
        try:
            with ledger.cached_reads():
                return await w.services.auth.authenticate_async(token, database)
        finally:
            await database.close()

    return asyncio.run(request())


def test_a_live_session_of_an_account_in_memory_is_admitted(pg_world: World) -> None:
    w = pg_world
    assert w.client.get("/auth/me", headers=w.headers("russian")).status_code == 200
    caller = _on_the_loop(w, w.tokens["russian"])
    assert caller is not None
    assert caller.login == "russian"
    assert caller.actor.account_id == w.accounts["russian"]


def test_unknown_and_missing_tokens_are_refused_on_the_loop(pg_world: World) -> None:
    with pytest.raises(AuthenticationError, match=r"auth\.invalid_token"):
        _on_the_loop(pg_world, "forged-" + pg_world.tokens["russian"])
    with pytest.raises(AuthenticationError, match=r"auth\.required"):
        _on_the_loop(pg_world, None)


def test_a_locked_account_is_left_to_the_thread_which_ends_its_sessions(pg_world: World) -> None:
    # п. 4.4: the loop does not decide a lock; `authenticate` refuses and ends the sessions.
    w = pg_world
    token = w.tokens["russian"]
    assert w.client.get("/auth/me", headers=w.headers("russian")).status_code == 200
    c.handle(
        c.LockAccount(
            actor=SYSTEM_ACTOR, account_id=w.accounts["russian"], reason="Компрометация пароля"
        ),
        w.services.ledger,
    )
    assert _on_the_loop(w, token) is None
    response = w.client.get("/auth/me", headers=w.headers("russian"))
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "account.locked"
    with pytest.raises(AuthenticationError, match=r"auth\.invalid_token"):
        _on_the_loop(w, token)  # the thread ended the session


def test_an_invalidated_session_is_refused_on_the_loop(pg_world: World) -> None:
    # п. 4.4: the loop vouches for the account from memory, never for the session: an
    # invalidation ends the session in the database, and the loop refuses it at once.
    w = pg_world
    token = w.tokens["russian"]
    me = w.client.get("/auth/me", headers=w.headers("russian")).json()
    caller = _on_the_loop(w, token)
    assert caller is not None  # admitted on the loop, the account in memory
    w.services.auth.provision(w.accounts["head"], PASSWORD)
    w.login("head")
    response = w.client.post(
        f"/sessions/{caller.session_id}/invalidation",
        headers=w.headers("head"),
        json={"school_id": str(w.ids["school"]), "reason": "вход с чужого устройства"},
    )
    assert response.status_code == 201, response.text
    with pytest.raises(AuthenticationError, match=r"auth\.invalid_token"):
        _on_the_loop(w, token)
    response = w.client.get("/auth/me", headers=w.headers("russian"))
    assert response.status_code == 401, response.text
    assert me["session_id"] == str(caller.session_id)


def test_a_session_of_a_one_time_password_is_marked_on_the_loop(pg_world: World) -> None:
    # п. 4.2: the loop admits it as what it is: a session that may only change the password.
    w = pg_world
    issued = w.services.auth.reset_password(SYSTEM_ACTOR, w.accounts["russian"])
    token = w.login("russian", issued.password)
    caller = _on_the_loop(w, token)
    assert caller is not None and caller.password_change_only
    response = w.client.get("/auth/me", headers=w.headers("russian"))
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "auth.password_change_required"
