"""Logins, sessions and credentials (п. 4.1–4.2, I8), on SQLite and PostgreSQL.

A token that is expired, forged, logged out or of an old credential version gets 401 and writes
nothing; every event a session writes carries its session and credential version. A reset's
password works once and opens a session that may only change it; support resets no password of
anyone with journal or personal-data access. Wrong passwords slow a login down, by login and by
client address, and never lock the owner out.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest

from ejournal import commands as c
from ejournal.identity.authenticator import DEFAULT_SESSION_TTL
from ejournal.ledger.actor import SYSTEM_ACTOR, Role
from ejournal.ledger.application import Ledger
from tests.api.conftest import PASSWORD, World, build_world

NEW_PASSWORD = "a much longer new passphrase"


def _mark(w: World) -> tuple[str, dict[str, Any]]:
    """A request that would write a mark of the Russian teacher's lesson."""
    lesson = w.ids.get("lesson")
    if lesson is None:
        response = w.client.post(
            "/lessons",
            headers=w.headers("russian"),
            json={
                "roster_id": str(w.ids["klass"]),
                "subject_id": str(w.ids["russian"]),
                "on": "2025-09-01",
                "slot": 2,
            },
        )
        assert response.status_code == 201, response.text
        lesson = w.ids["lesson"] = response.json()["id"]
    body = {"student_id": str(w.ids["student"]), "value": 5, "work_type_id": str(w.ids["answer"])}
    return f"/lessons/{lesson}/marks", body


def _refused_without_writing(w: World, token: str, code: str = "auth.invalid_token") -> None:
    path, body = _mark(w)
    before = w.events()
    for response in (
        w.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}),
        w.client.post(path, json=body, headers={"Authorization": f"Bearer {token}"}),
    ):
        assert response.status_code == 401, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == code
    assert w.events() == before, "a refused request wrote to the ledger"


def test_a_session_writes_with_its_session_and_credential_version(fresh_world: World) -> None:
    # I8: the session ID and credential version of the login are in the leaf of every write.
    w = fresh_world
    me = w.client.get("/auth/me", headers=w.headers("russian")).json()
    path, body = _mark(w)
    response = w.client.post(path, json=body, headers=w.headers("russian"))
    assert response.status_code == 201, response.text
    with w.services.ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            "SELECT actor_id, session_id, credential_version, actor_role FROM stored_events "
            "WHERE log_id = ? ORDER BY idx DESC LIMIT 1",
            (w.school.log_id,),
        )
        actor_id, session_id, version, role = cursor.fetchone()
    assert str(actor_id).replace("-", "") == me["account_id"].replace("-", "")
    assert str(session_id).replace("-", "") == me["session_id"].replace("-", "")
    assert version == me["credential_version"] == 1
    assert role == "teacher"


def test_missing_token_is_401(fresh_world: World) -> None:
    response = fresh_world.client.get("/auth/me")
    assert response.status_code == 401
    assert response.json()["code"] == "auth.required"
    assert response.headers["www-authenticate"] == "Bearer"


def test_forged_tokens_are_401_and_write_nothing(fresh_world: World) -> None:
    # п. 4.2: only a token the server issued opens a session.
    w = fresh_world
    real = w.tokens["russian"]
    altered = real[:-1] + ("A" if real[-1] != "A" else "B")
    for token in (secrets.token_urlsafe(32), altered, "x", real.upper()):
        _refused_without_writing(w, token)


def test_expired_token_is_401_and_writes_nothing(fresh_world: World) -> None:
    w = fresh_world
    token = w.tokens["russian"]
    _mark(w)  # the lesson exists while the session is live
    w.clock.advance(DEFAULT_SESSION_TTL - timedelta(seconds=1))
    assert w.client.get("/auth/me", headers=w.headers("russian")).status_code == 200
    w.clock.advance(timedelta(seconds=1))
    _refused_without_writing(w, token)


def test_token_after_logout_is_401_and_writes_nothing(fresh_world: World) -> None:
    w = fresh_world
    _mark(w)
    token = w.tokens["russian"]
    response = w.client.post("/auth/logout", headers=w.headers("russian"))
    assert response.status_code == 200
    _refused_without_writing(w, token)


def test_password_change_ends_every_session_of_the_old_version(fresh_world: World) -> None:
    # п. 4.2: a new credential version ends every session bound to the old one.
    w = fresh_world
    _mark(w)
    first = w.tokens["russian"]
    second = w.login("russian")
    response = w.client.post(
        "/auth/password",
        headers={"Authorization": f"Bearer {second}"},
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert response.status_code == 200, response.text
    fresh = response.json()
    assert fresh["credential_version"] == 2
    for token in (first, second):
        _refused_without_writing(w, token)
    me = w.client.get("/auth/me", headers={"Authorization": f"Bearer {fresh['access_token']}"})
    assert me.status_code == 200
    assert me.json()["credential_version"] == 2
    old = w.client.post("/auth/login", json={"login": "russian", "password": PASSWORD})
    assert old.status_code == 401
    assert old.json()["code"] == "auth.invalid_credentials"
    assert w.login("russian", NEW_PASSWORD)


def test_password_change_needs_the_current_password_and_a_long_one(fresh_world: World) -> None:
    w = fresh_world
    wrong = w.client.post(
        "/auth/password",
        headers=w.headers("russian"),
        json={"current_password": "not it at all", "new_password": NEW_PASSWORD},
    )
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "auth.wrong_password"
    for weak in ("short", "russian", "Russian"):
        response = w.client.post(
            "/auth/password",
            headers=w.headers("russian"),
            json={"current_password": PASSWORD, "new_password": weak},
        )
        assert response.status_code == 422
        assert response.json()["code"] == "auth.weak_password"
    assert w.client.get("/auth/me", headers=w.headers("russian")).status_code == 200


def _sysadmin(w: World) -> None:
    """``fresh_world`` logs in no system administrator: give the account a password and log in."""
    w.services.auth.provision(w.accounts["sysadmin"], PASSWORD)
    w.login("sysadmin")


def _from(w: World, address: str) -> Any:
    """A client of the same server at another address (for logins: it shares no event loop with
    ``w.client``, so it must not send requests that authenticate on the loop)."""
    return type(w.client)(w.client.app, client=(address, 50000), raise_server_exceptions=False)


def test_reset_by_the_administrator_ends_sessions_and_issues_a_one_time_password(
    fresh_world: World,
) -> None:
    w = fresh_world
    _sysadmin(w)
    _mark(w)
    old = w.tokens["russian"]
    response = w.client.post(
        f"/accounts/{w.accounts['russian']}/password-reset", headers=w.headers("sysadmin")
    )
    assert response.status_code == 200, response.text
    issued = response.json()
    assert issued["credential_version"] == 2
    _refused_without_writing(w, old)
    login = w.client.post(
        "/auth/login", json={"login": "russian", "password": issued["temporary_password"]}
    )
    assert login.status_code == 201, login.text
    assert login.json()["password_change_required"] is True


def test_support_resets_no_password_of_anyone_with_journal_or_personal_data_access(
    fresh_world: World,
) -> None:
    # п. 2.1, 4.1: a reset hands its author the account until the holder changes the password.
    # Support has no journal access: it may not be handed a teacher's, a pupil's, a parent's, a
    # head's or a system administrator's account (it would then grant itself system_admin).
    w = fresh_world
    for who in ("russian", "head", "student", "parent", "auditor", "sysadmin"):
        before = w.events()
        response = w.client.post(
            f"/accounts/{w.accounts[who]}/password-reset", headers=w.headers("support")
        )
        assert response.status_code == 403, f"{who}: {response.text}"
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "account.reset_not_allowed"
        assert w.events() == before, f"a refused reset of {who} wrote to the ledger"
    grant = w.client.post(
        f"/accounts/{w.accounts['support']}/grants",
        headers=w.headers("support"),
        json={"role": "system_admin"},
    )
    assert grant.status_code == 403
    assert grant.json()["code"] == "role.required"
    # Nothing changed for the people support asked about.
    assert w.client.get("/auth/me", headers=w.headers("russian")).status_code == 200
    assert w.login("head")


def test_support_resets_a_colleague_and_an_account_with_no_role_yet(fresh_world: World) -> None:
    # п. 2.1: accounts without journal or personal-data access: support may reset them.
    w = fresh_world
    ledger = w.services.ledger
    colleague = c.handle(
        c.RegisterAccount(actor=SYSTEM_ACTOR, login="support.two", person_id=uuid4()), ledger
    )
    c.handle(c.GrantRole(actor=SYSTEM_ACTOR, account_id=colleague, role=Role.SUPPORT), ledger)
    newcomer = c.handle(
        c.RegisterAccount(actor=SYSTEM_ACTOR, login="newcomer", person_id=uuid4()), ledger
    )
    for account_id in (colleague, newcomer, w.accounts["support"]):
        response = w.client.post(
            f"/accounts/{account_id}/password-reset", headers=w.headers("support")
        )
        assert response.status_code == 200, response.text


def test_a_one_time_password_opens_a_session_that_may_only_change_it(fresh_world: World) -> None:
    # п. 4.1–4.2: the password someone else handed over works once and must be changed at once.
    w = fresh_world
    _sysadmin(w)
    path, body = _mark(w)
    reset = w.client.post(
        f"/accounts/{w.accounts['russian']}/password-reset", headers=w.headers("sysadmin")
    )
    temporary = reset.json()["temporary_password"]
    login = w.client.post("/auth/login", json={"login": "russian", "password": temporary})
    assert login.status_code == 201, login.text
    assert login.json()["password_change_required"] is True
    token = login.json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    before = w.events()
    for response in (
        w.client.get("/auth/me", headers=bearer),
        w.client.post(path, json=body, headers=bearer),
        w.client.get("/reentry", headers=bearer),
    ):
        assert response.status_code == 403, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "auth.password_change_required"
    assert w.events() == before, "a session of a one-time password wrote to the ledger"
    # It works once: a second login with it is refused like a wrong password.
    again = w.client.post("/auth/login", json={"login": "russian", "password": temporary})
    assert again.status_code == 401
    assert again.json()["code"] == "auth.invalid_credentials"
    same = w.client.post(
        "/auth/password",
        headers=bearer,
        json={"current_password": temporary, "new_password": temporary},
    )
    assert same.status_code == 422
    assert same.json()["code"] == "auth.same_password"
    changed = w.client.post(
        "/auth/password",
        headers=bearer,
        json={"current_password": temporary, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["password_change_required"] is False
    _refused_without_writing(w, token)
    fresh = {"Authorization": f"Bearer {changed.json()['access_token']}"}
    assert w.client.post(path, json=body, headers=fresh).status_code == 201
    assert w.login("russian", NEW_PASSWORD)


def test_a_session_of_a_one_time_password_may_log_out(fresh_world: World) -> None:
    w = fresh_world
    _sysadmin(w)
    reset = w.client.post(
        f"/accounts/{w.accounts['maths']}/password-reset", headers=w.headers("sysadmin")
    )
    token = w.login("maths", reset.json()["temporary_password"])
    assert w.client.post("/auth/logout", headers=w.headers("maths")).status_code == 200
    _refused_without_writing(w, token)


def test_reset_by_a_teacher_is_refused_and_changes_nothing(fresh_world: World) -> None:
    w = fresh_world
    response = w.client.post(
        f"/accounts/{w.accounts['head']}/password-reset", headers=w.headers("russian")
    )
    assert response.status_code == 403
    assert response.json()["code"] == "role.required"
    assert w.client.get("/auth/me", headers=w.headers("head")).status_code == 200
    assert w.login("head")


def test_unknown_login_and_wrong_password_read_the_same(fresh_world: World) -> None:
    w = fresh_world
    for login in ("russian", "nobody.here"):
        response = w.client.post("/auth/login", json={"login": login, "password": "wrong pw 123"})
        assert response.status_code == 401
        assert response.json()["code"] == "auth.invalid_credentials"


def _retry_after(response: Any) -> timedelta:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "auth.throttled"
    return timedelta(seconds=int(response.headers["retry-after"]))


def test_failed_logins_slow_down_and_never_lock(fresh_world: World) -> None:
    # п. 4.1: guessing from one place is slowed, the wait doubling up to a minute, and never
    # locked: with the right password the owner is in after the wait. A success forgets.
    w = fresh_world
    lane = w.services.auth.throttle_policy.per_login_and_source

    def attempt(password: str) -> Any:
        return w.client.post("/auth/login", json={"login": "russian", "password": password})

    for _ in range(lane.free_attempts):
        assert attempt("wrong password").json()["code"] == "auth.invalid_credentials"
    wait = _retry_after(attempt(PASSWORD))
    assert wait == lane.first_delay
    for _ in range(20):  # twice as many as the old lock took
        w.clock.advance(wait)
        assert attempt("wrong password").status_code == 401
        wait = _retry_after(attempt(PASSWORD))
        assert timedelta(seconds=1) <= wait <= lane.max_delay
    assert wait == lane.max_delay
    w.clock.advance(wait)
    assert attempt(PASSWORD).status_code == 201
    assert attempt("wrong password").status_code == 401  # the count started afresh


def test_a_stranger_guessing_elsewhere_never_keeps_the_owner_out(fresh_world: World) -> None:
    # п. 4.1: anyone who knows a login may send wrong passwords for as long as they like; the
    # owner, from where they log in, gets in with the right one at once.
    w = fresh_world
    stranger = _from(w, "203.0.113.7")
    refused = 0
    for _ in range(40):
        response = stranger.post("/auth/login", json={"login": "russian", "password": "guess"})
        if response.status_code == 429:
            refused += 1
            w.clock.advance(_retry_after(response))
        else:
            assert response.json()["code"] == "auth.invalid_credentials"
    assert refused, "the stranger was never slowed down"
    owner = w.client.post("/auth/login", json={"login": "russian", "password": PASSWORD})
    assert owner.status_code == 201, owner.text


def test_the_owner_in_a_new_place_waits_at_most_a_minute(fresh_world: World) -> None:
    # п. 4.1: guesses from many addresses slow the login down for every place it never logged in
    # from, a minute at most; from its usual place the owner gets in at once.
    w = fresh_world
    policy = w.services.auth.throttle_policy
    for n in range(policy.per_login.free_attempts + 5):
        _from(w, f"198.51.100.{n + 1}").post(
            "/auth/login", json={"login": "russian", "password": "guess"}
        )
    new_place = _from(w, "192.0.2.200")
    body = {"login": "russian", "password": PASSWORD}
    wait = _retry_after(new_place.post("/auth/login", json=body))
    assert wait <= policy.longest_wait
    assert w.client.post("/auth/login", json=body).status_code == 201
    w.clock.advance(wait)
    assert new_place.post("/auth/login", json=body).status_code == 201


def test_one_address_trying_many_logins_is_slowed_down(fresh_world: World) -> None:
    # п. 4.1: guessing one password for many logins (spraying) from one address.
    w = fresh_world
    sprayer = _from(w, "192.0.2.1")
    lane = w.services.auth.throttle_policy.per_source
    for n in range(lane.free_attempts):
        response = sprayer.post("/auth/login", json={"login": f"user{n}", "password": "guess"})
        assert response.json()["code"] == "auth.invalid_credentials", response.text
    _retry_after(sprayer.post("/auth/login", json={"login": "russian", "password": PASSWORD}))
    elsewhere = _from(w, "192.0.2.2")
    response = elsewhere.post("/auth/login", json={"login": "user0", "password": "guess"})
    assert response.json()["code"] == "auth.invalid_credentials"


def test_a_locked_account_is_refused_and_its_sessions_end(fresh_world: World) -> None:
    # п. 4.3–4.4: support locks the account; its sessions end, its password opens none.
    w = fresh_world
    _mark(w)
    token = w.tokens["russian"]
    response = w.client.post(
        f"/accounts/{w.accounts['russian']}/lock",
        headers=w.headers("support"),
        json={"reason": "Сообщение о компрометации пароля"},
    )
    assert response.status_code == 200, response.text
    _refused_without_writing(w, token)
    login = w.client.post("/auth/login", json={"login": "russian", "password": PASSWORD})
    assert login.status_code == 403
    assert login.json()["code"] == "account.locked"


@pytest.fixture
def owasp_world(database_url: str) -> Iterator[World]:
    """A world whose passwords the service hashes with its own parameters (not the tests')."""
    built = build_world(database_url, roles=("head", "russian", "student"), hashing=None)
    try:
        yield built
    finally:
        built.client.__exit__(None, None, None)
        built.services.close()


def test_secrets_are_stored_only_as_hashes(owasp_world: World) -> None:
    # п. 4.1–4.2: Argon2id (OWASP parameters) for passwords, SHA-256 for tokens, nothing in the
    # ledger.
    w = owasp_world
    database = w.services.ledger.database
    with database.transaction(write=False) as cursor:
        cursor.execute("SELECT password_hash FROM api_credentials")
        hashes = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT token_sha256 FROM api_sessions")
        digests = [bytes(row[0]) for row in cursor.fetchall()]
        cursor.execute("SELECT state FROM stored_events")
        payloads = b"".join(bytes(row[0]) for row in cursor.fetchall())
    assert hashes and all(h.startswith("$argon2id$v=19$m=19456,t=2,p=1$") for h in hashes)
    assert len(set(hashes)) == len(hashes), "each hash has its own salt"
    assert all(len(d) == 32 for d in digests)
    for token in w.tokens.values():
        assert token.encode() not in payloads
    assert b"argon2" not in payloads
    assert PASSWORD.encode() not in payloads


@pytest.mark.parametrize("body", [{}, {"login": "russian"}, {"login": "a b", "password": "x"}])
def test_malformed_login_is_422(world: World, body: dict[str, str]) -> None:
    response = world.client.post("/auth/login", json=body)
    assert response.status_code == 422
    assert response.json()["code"] == "request.invalid"


def test_a_lock_recorded_by_another_process_stops_the_next_request(fresh_world: World) -> None:
    # п. 4.4: a server process learns of a lock another process recorded at its next request,
    # though it keeps the account in memory (ledger.event_cache).
    w = fresh_world
    assert w.client.get("/auth/me", headers=w.headers("russian")).status_code == 200
    other = Ledger(database_url=w.services.settings.database_url, clock=w.clock)
    try:
        c.handle(
            c.LockAccount(
                actor=SYSTEM_ACTOR,
                account_id=w.accounts["russian"],
                reason="Сообщение о компрометации пароля",
            ),
            other,
        )
    finally:
        other.close()
    response = w.client.get("/auth/me", headers=w.headers("russian"))
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "account.locked"
