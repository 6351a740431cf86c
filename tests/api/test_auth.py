"""Logins, sessions and credentials (п. 4.1–4.2, I8), on SQLite and PostgreSQL.

A token that is expired, forged, logged out or of an old credential version gets 401 and writes
nothing; every event a session writes carries its session and credential version.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import pytest

from ejournal import commands as c
from ejournal.identity.authenticator import DEFAULT_SESSION_TTL
from ejournal.ledger.actor import SYSTEM_ACTOR
from ejournal.ledger.application import Ledger
from tests.api.conftest import PASSWORD, World

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


def test_reset_by_support_ends_sessions_and_issues_a_one_time_password(fresh_world: World) -> None:
    w = fresh_world
    _mark(w)
    old = w.tokens["russian"]
    response = w.client.post(
        f"/accounts/{w.accounts['russian']}/password-reset", headers=w.headers("support")
    )
    assert response.status_code == 200, response.text
    issued = response.json()
    assert issued["credential_version"] == 2
    _refused_without_writing(w, old)
    assert w.login("russian", issued["temporary_password"])


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


def test_failed_logins_slow_down_then_lock_for_a_while(fresh_world: World) -> None:
    # п. 4.1: guessing is slowed, then stopped for a while; a success forgets the failures.
    w = fresh_world
    policy = w.services.auth.throttle_policy

    def attempt(password: str) -> Any:
        return w.client.post("/auth/login", json={"login": "russian", "password": password})

    for _ in range(policy.free_attempts):
        assert attempt("wrong password").json()["code"] == "auth.invalid_credentials"
    throttled = attempt(PASSWORD)
    assert throttled.status_code == 429
    assert throttled.json()["code"] == "auth.throttled"
    assert int(throttled.headers["retry-after"]) >= 1
    failures = policy.free_attempts
    while failures < policy.lock_after:
        w.clock.advance(policy.max_delay)
        assert attempt("wrong password").status_code == 401
        failures += 1
    w.clock.advance(policy.max_delay)
    locked = attempt(PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["code"] == "auth.locked_out"
    w.clock.advance(policy.lock_for)
    assert attempt(PASSWORD).status_code == 201
    assert attempt("wrong password").status_code == 401  # the count started afresh


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


def test_secrets_are_stored_only_as_hashes(fresh_world: World) -> None:
    # п. 4.1–4.2: Argon2id (OWASP parameters) for passwords, SHA-256 for tokens, nothing in the
    # ledger.
    w = fresh_world
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
