"""Compromised logins over HTTP (п. 4.3–4.4): the report stops the login at once, wherever it is
used; the head dates the receipt back; new credentials restore the owner; the audit view and the
re-entry worklist show what was invalidated, to whom they should."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.api.conftest import PASSWORD, World

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

    # Support issues new credentials; the owner logs in, sees the same worklist, enters again.
    reset = w.client.post(
        f"/accounts/{w.accounts['russian']}/password-reset", headers=w.headers("support")
    )
    assert reset.status_code == 200, reset.text
    token = w.login("russian", reset.json()["temporary_password"])
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
    assert w.client.get("/reentry", headers=w.headers("head")).json() == seen
    assert w.client.get("/reentry", headers=w.headers("maths")).json() == []
