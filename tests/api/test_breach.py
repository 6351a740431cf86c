"""Compromised logins over HTTP (п. 4.3–4.4): the report stops the login at once, wherever it is
used; the head dates the receipt back; new credentials restore the owner; an invalidated session
ends at once, in every server process; the audit view and the re-entry worklist show what was
invalidated, to whom they should, and each read of a child in the worklist is logged (п. 1.7)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ejournal.api.app import create_app
from ejournal.api.bootstrap import bootstrap
from ejournal.identity.vault import VAULT_KEY_VARIABLE, new_key
from ejournal.ledger.settings import Settings
from tests.api.conftest import PASSWORD, World

NEW_PASSWORD = "a much longer new passphrase"
ISO = "%Y-%m-%dT%H:%M:%S+00:00"


def _lesson(w: World, who: str = "russian") -> str:
    response = w.client.post(
        "/lessons",
        headers=w.headers(who),
        json={
            "roster_id": str(w.ids["klass"]),
            "subject_id": str(w.ids["russian"]),
            "on": "2025-09-01",
            "slot": 2,
        },
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _mark(w: World, token: str, lesson: str, value: int) -> Any:
    return w.client.post(
        f"/lessons/{lesson}/marks",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "student_id": str(w.ids["student"]),
            "value": value,
            "work_type_id": str(w.ids["answer"]),
        },
    )


def _problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


def test_a_reported_login_is_stopped_and_its_later_operations_invalidated(
    fresh_world: World,
) -> None:
    # п. 4.3–4.4
    w = fresh_world
    owner = w.tokens["russian"]
    stolen = w.login("russian")  # the attacker's own session of the same login
    lesson = _lesson(w)
    assert _mark(w, stolen, lesson, 5).status_code == 201
    w.clock.advance(timedelta(minutes=10))
    raced = _mark(w, stolen, lesson, 2)
    assert raced.status_code == 201
    w.clock.advance(timedelta(minutes=10))

    learned = (w.clock() - timedelta(minutes=15)).strftime(ISO)
    response = w.client.post(
        "/breach-reports",
        headers={"Authorization": f"Bearer {owner}"},
        json={"account_id": str(w.accounts["russian"]), "learned_at": learned},
    )
    assert response.status_code == 201, response.text
    report_id = response.json()["id"]
    before = w.events()
    # Every session of the login has ended, and its password is refused.
    _problem(_mark(w, stolen, lesson, 2), 401, "auth.invalid_token")
    _problem(
        w.client.get("/auth/me", headers={"Authorization": f"Bearer {owner}"}),
        401,
        "auth.invalid_token",
    )
    login = w.client.post("/auth/login", json={"login": "russian", "password": PASSWORD})
    _problem(login, 403, "account.compromised")
    assert w.events() == before

    # The head took the call before the mark of 2 was made: it is invalid (п. 4.4).
    response = w.client.post(
        f"/breach-reports/{report_id}/receipts",
        headers=w.headers("head"),
        json={"received_at": learned},
    )
    assert response.status_code == 200, response.text
    w.services.projector.catch_up()  # type: ignore[union-attr]

    (rule,) = w.client.get("/invalidations", headers=w.headers("head")).json()
    assert (rule["kind"], rule["late"], rule["filed_by"]) == ("breach", False, "owner")
    _problem(w.client.get("/invalidations", headers=w.headers("maths")), 403, "access.denied")
    worklist = w.client.get("/reentry", headers=w.headers("head")).json()
    assert [(i["event"], i["detail"]["mark_id"]) for i in worklist] == [
        ("Lesson.MarkRecorded", raced.json()["id"].replace("-", ""))
    ]

    # Support may not issue a teacher new credentials: it would be handed the login (п. 2.1).
    path = f"/accounts/{w.accounts['russian']}/password-reset"
    _problem(w.client.post(path, headers=w.headers("support")), 403, "account.reset_not_allowed")
    # The system administrator does; the owner logs in with the one-time password, changes it,
    # sees the same worklist and enters again.
    w.services.auth.provision(w.accounts["sysadmin"], PASSWORD)
    w.login("sysadmin")
    reset = w.client.post(path, headers=w.headers("sysadmin"))
    assert reset.status_code == 200, reset.text
    temporary = reset.json()["temporary_password"]
    w.login("russian", temporary)
    changed = w.client.post(
        "/auth/password",
        headers=w.headers("russian"),
        json={"current_password": temporary, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 200, changed.text
    token = changed.json()["access_token"]
    mine = w.client.get("/reentry", headers={"Authorization": f"Bearer {token}"}).json()
    assert mine == worklist
    assert _mark(w, token, lesson, 4).status_code == 201


def test_the_head_invalidates_a_session(fresh_world: World) -> None:
    # п. 4.4: the administration declares one session's operations invalid.
    w = fresh_world
    session_id = w.client.get("/auth/me", headers=w.headers("maths")).json()["session_id"]
    body = {"school_id": str(w.ids["school"]), "reason": "вход с чужого устройства"}
    _problem(
        w.client.post(
            f"/sessions/{session_id}/invalidation", headers=w.headers("russian"), json=body
        ),
        403,
        "setup.administration_only",
    )
    response = w.client.post(
        f"/sessions/{session_id}/invalidation", headers=w.headers("head"), json=body
    )
    assert response.status_code == 201, response.text
    _problem(
        w.client.post(
            "/sessions/00000000-0000-4000-8000-000000000000/invalidation",
            headers=w.headers("head"),
            json=body,
        ),
        404,
        "session.not_found",
    )
    w.services.projector.catch_up()  # type: ignore[union-attr]
    (rule,) = w.client.get("/invalidations", headers=w.headers("head")).json()
    assert (rule["kind"], rule["session_id"]) == ("session", session_id)
    flagged = f"/invalidations/{rule['rule_id']}/flagged"
    assert w.client.get(flagged, headers=w.headers("head")).status_code == 200
    # The invalidated session ended; in a session of their own the teacher may not audit.
    _problem(w.client.get(flagged, headers=w.headers("maths")), 401, "auth.invalid_token")
    w.login("maths")
    _problem(w.client.get(flagged, headers=w.headers("maths")), 403, "access.denied")


def test_report_input_is_checked(fresh_world: World) -> None:
    # п. 4.3: a moment without a time zone, or in an implausible year, is refused before any write.
    w = fresh_world
    before = w.events()
    for learned in ("2025-09-01T08:00:00", "0001-01-01T00:00:00+05:00"):
        response = w.client.post(
            "/breach-reports",
            headers=w.headers("head"),
            json={"account_id": str(w.accounts["russian"]), "learned_at": learned},
        )
        _problem(response, 422, "request.invalid")
    assert w.events() == before


def test_auditors_see_every_excluded_operation(world: World) -> None:
    # п. 4.4: the audit view lists every excluded operation with its rule; a teacher only their own.
    w = world
    lesson = _lesson(w, "russian")
    session_id = w.client.get("/auth/me", headers=w.headers("russian")).json()["session_id"]
    assert _mark(w, w.tokens["russian"], lesson, 3).status_code == 201
    body = {"school_id": str(w.ids["school"]), "reason": "вход с чужого устройства"}
    response = w.client.post(
        f"/sessions/{session_id}/invalidation", headers=w.headers("head"), json=body
    )
    assert response.status_code == 201, response.text
    w.services.projector.catch_up()  # type: ignore[union-attr]
    seen = w.client.get("/reentry", headers=w.headers("auditor")).json()
    rule = f"session/{response.json()['id'].replace('-', '')}"
    # The session held the lesson and marked it: both operations are excluded.
    assert [(i["event"], i["rule"]) for i in seen] == [
        ("Lesson.Scheduled", rule),
        ("Lesson.MarkRecorded", rule),
    ]
    # The head sees the same items, with names; the auditor IDs only (tests/api/test_names.py).
    by_head = w.client.get("/reentry", headers=w.headers("head")).json()
    assert all(item["names"] == {} for item in seen)
    assert [{**item, "names": {}} for item in by_head] == seen
    assert w.client.get("/reentry", headers=w.headers("maths")).json() == []
    w.login("russian")  # the invalidated session ended: the module's world keeps a live one


def _invalidate(w: World, session_id: str, who: str = "head") -> Any:
    body = {"school_id": str(w.ids["school"]), "reason": "вход с чужого устройства"}
    return w.client.post(f"/sessions/{session_id}/invalidation", headers=w.headers(who), json=body)


def test_an_invalidated_session_ends_at_once(fresh_world: World) -> None:
    # п. 4.4: every operation of an invalidated session is invalid: it is refused from its next
    # request (401), and writes nothing, rather than recorded and then shown nowhere.
    w = fresh_world
    lesson = _lesson(w)
    token = w.tokens["russian"]
    session_id = w.client.get("/auth/me", headers=w.headers("russian")).json()["session_id"]
    assert _mark(w, token, lesson, 5).status_code == 201
    response = _invalidate(w, session_id)
    assert response.status_code == 201, response.text
    before = w.events()
    _problem(_mark(w, token, lesson, 2), 401, "auth.invalid_token")
    _problem(
        w.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}),
        401,
        "auth.invalid_token",
    )
    assert w.events() == before, "an invalidated session wrote to the ledger"
    # Only that session: the teacher logs in again and works.
    assert _mark(w, w.login("russian"), lesson, 4).status_code == 201
    # Asked again: refused, and the session stays ended.
    _problem(_invalidate(w, session_id), 409, "session.already_invalidated")
    _problem(_mark(w, token, lesson, 2), 401, "auth.invalid_token")


def test_a_refused_invalidation_leaves_the_session_alone(fresh_world: World) -> None:
    w = fresh_world
    session_id = w.client.get("/auth/me", headers=w.headers("russian")).json()["session_id"]
    _problem(_invalidate(w, session_id, who="maths"), 403, "setup.administration_only")
    assert w.client.get("/auth/me", headers=w.headers("russian")).status_code == 200


def test_an_invalidation_reaches_every_server_process(fresh_world: World) -> None:
    # п. 4.4: another process of the server, which holds the account in memory and has admitted
    # the session before, refuses it at its next request: the end is in the database.
    w = fresh_world
    lesson = _lesson(w)
    other = bootstrap(
        Settings(database_url=w.services.settings.database_url),
        clock=w.clock,
        environ={VAULT_KEY_VARIABLE: new_key()},
        follow=False,
    )
    client = type(w.client)(create_app(other), raise_server_exceptions=False)
    client.__enter__()
    try:
        token = w.tokens["russian"]
        mark = {
            "student_id": str(w.ids["student"]),
            "value": 5,
            "work_type_id": str(w.ids["answer"]),
        }
        bearer = {"Authorization": f"Bearer {token}"}
        me = client.get("/auth/me", headers=bearer)
        assert me.status_code == 200, me.text
        assert client.post(f"/lessons/{lesson}/marks", headers=bearer, json=mark).status_code == 201
        assert _invalidate(w, me.json()["session_id"]).status_code == 201
        before = w.events()
        _problem(client.get("/auth/me", headers=bearer), 401, "auth.invalid_token")
        _problem(
            client.post(f"/lessons/{lesson}/marks", headers=bearer, json=mark),
            401,
            "auth.invalid_token",
        )
        assert w.events() == before
    finally:
        client.__exit__(None, None, None)
        other.close()


def test_each_read_of_a_child_in_the_reentry_worklist_is_logged(fresh_world: World) -> None:
    # п. 1.7: the worklist shows what invalidated operations would have recorded about children:
    # each read is in the access log, under the school of the record, before it is returned.
    w = fresh_world
    lesson = _lesson(w)
    mark = _mark(w, w.tokens["russian"], lesson, 3)
    assert mark.status_code == 201, mark.text
    # Another session of the teacher corrects the mark (the correction names no child), and
    # that session is invalidated.
    second = w.client.post("/auth/login", json={"login": "russian", "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {second.json()['access_token']}"}
    corrected = w.client.post(
        f"/lessons/{lesson}/marks/{mark.json()['id']}/correction",
        headers=bearer,
        json={"value": 4, "reason": "ошибка при вводе"},
    )
    assert corrected.status_code == 200, corrected.text
    assert _invalidate(w, second.json()["session_id"]).status_code == 201
    w.services.projector.catch_up()  # type: ignore[union-attr]
    log = w.services.access_log
    student, school = w.ids["student"], w.ids["school"]
    for who, role in (("head", "head"), ("russian", "teacher")):
        before = len(log.entries(subject_id=student, limit=1000))
        worklist = w.client.get("/reentry", headers=w.headers(who)).json()
        assert [item["event"] for item in worklist] == ["Lesson.MarkCorrected"], worklist
        entries = log.entries(subject_id=student, limit=1000)[before:]
        assert [
            (e.reader_account_id, e.reader_role, e.what.value, e.school_id) for e in entries
        ] == [(w.accounts[who], role, "reentry", school)]
    # A worklist that names no child logs nothing.
    before = len(log.entries(limit=1000))
    assert w.client.get("/reentry", headers=w.headers("maths")).json() == []
    assert len(log.entries(limit=1000)) == before
