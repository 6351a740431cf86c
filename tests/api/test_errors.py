"""Every refusal is RFC 9457 problem+json with a stable code; nothing a client sends is a 500."""

from __future__ import annotations

import pytest

from ejournal.api.app import MAX_BODY_BYTES, create_app
from ejournal.api.bootstrap import bootstrap
from ejournal.api.errors import API_CATALOGUE
from ejournal.commands.errors import CATALOGUE
from ejournal.ledger.settings import Settings
from tests.api.conftest import TestClient, World


def _problem(response: object, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body: dict[str, object] = response.json()  # type: ignore[attr-defined]
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"] == f"urn:ejournal:problem:{code}"
    assert isinstance(body["title"], str) and body["title"]
    return body


def test_a_command_refusal_keeps_its_code_clause_and_russian_title(world: World) -> None:
    response = world.client.post(
        "/lessons",
        headers=world.headers("maths"),
        json={
            "roster_id": str(world.ids["klass"]),
            "subject_id": str(world.ids["russian"]),
            "on": "2025-09-01",
            "slot": 1,
        },
    )
    body = _problem(response, 403, "journal.class_teacher_read_only")
    assert body["clause"] == "п. 2.4"
    assert "без права редактирования" in str(body["title"])


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"{not json", {"content-type": "application/json"}),
        (b"[]", {"content-type": "application/json"}),
        (b"login=head", {"content-type": "application/x-www-form-urlencoded"}),
        (b'{"login": "head", "password": "\\u0000"}', {"content-type": "application/json"}),
    ],
)
def test_malformed_bodies_are_422(world: World, content: bytes, headers: dict[str, str]) -> None:
    response = world.client.post("/auth/login", content=content, headers=headers)
    body = _problem(response, 422, "request.invalid")
    assert body["errors"]


def test_text_that_cannot_be_stored_is_422_not_500(world: World) -> None:
    # A NUL cannot be stored in PostgreSQL text; a lone surrogate cannot be encoded as UTF-8.
    for text in ("\\u0000", "\\ud800"):
        response = world.client.post(
            "/messages",
            headers={**world.headers("russian"), "content-type": "application/json"},
            content=(
                f'{{"roster_id": "{world.ids["klass"]}", "subject_id": "{world.ids["russian"]}", '
                f'"student_id": "{world.ids["student"]}", "text": "{text}"}}'
            ).encode(),
        )
        _problem(response, 422, "request.invalid")


def test_huge_numbers_are_refused_by_the_schema(world: World) -> None:
    response = world.client.put(
        f"/rosters/{world.ids['klass']}/subjects/{world.ids['maths']}/plan",
        headers=world.headers("maths"),
        json={"items": [{"number": 10**30, "topic": "Тема", "hours": 1}]},
    )
    _problem(response, 422, "request.invalid")


def test_unknown_routes_and_methods(world: World) -> None:
    _problem(world.client.get("/no/such/page"), 404, "request.not_found")
    _problem(
        world.client.delete("/auth/me", headers=world.headers("head")),
        405,
        "request.method_not_allowed",
    )


def test_a_too_large_body_is_413(world: World) -> None:
    response = world.client.post(
        "/auth/login",
        content=b"{" + b" " * (MAX_BODY_BYTES + 1) + b"}",
        headers={"content-type": "application/json"},
    )
    _problem(response, 413, "request.too_large")


def test_codes_do_not_collide() -> None:
    assert not set(API_CATALOGUE) & set(CATALOGUE)


def test_health_and_ready(world: World) -> None:
    assert world.client.get("/health").json() == {"status": "ok"}
    # The test world projects by hand (another process would, beside several workers): ready
    # while the read models keep up.
    ready = world.client.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["database"] is True
    assert isinstance(ready.json()["lag"], int)


def test_ready_while_the_projector_follows(database_url: str) -> None:
    services = bootstrap(Settings(database_url=database_url), environ={})
    try:
        with TestClient(create_app(services)) as client:
            assert services.projector is not None and services.projector.running
            assert client.get("/ready").json() == {
                "ready": True,
                "database": True,
                "projector": True,
                "lag": 0,
            }
        assert not services.projector.running
    finally:
        services.close()


def test_openapi_is_served(world: World) -> None:
    spec = world.client.get("/openapi.json").json()
    assert "/lessons/{lesson_id}/marks" in spec["paths"]
    assert world.client.get("/docs").status_code == 200
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert "200" in operation["responses"] or "201" in operation["responses"], (
                method,
                path,
            )
