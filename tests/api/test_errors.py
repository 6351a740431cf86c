"""Every refusal is RFC 9457 problem+json with a stable code; nothing a client sends is a 500."""

from __future__ import annotations

import re
from pathlib import Path

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


ENGLISH_WORD = re.compile(r"\b(?!JSON\b|UUID\b|true\b|false\b)[A-Za-z]{3,}\b")


def _messages(response: object) -> list[str]:
    body = _problem(response, 422, "request.invalid")
    errors = body["errors"]
    assert isinstance(errors, list) and errors
    return [str(e["message"]) for e in errors]


def test_validation_errors_are_said_in_russian_and_keep_their_type(world: World) -> None:
    # A person reads these: pydantic's "Field required" and "Input should be…" were passed on.
    h = world.headers("russian")
    lesson = {
        "roster_id": str(world.ids["klass"]),
        "subject_id": str(world.ids["russian"]),
        "on": "2025-09-01",
        "slot": 1,
    }
    cases: list[tuple[dict[str, object], str, str]] = [
        ({k: v for k, v in lesson.items() if k != "slot"}, "missing", "не заполнено"),
        ({**lesson, "slot": "1"}, "int_type", "Ожидается целое число"),
        ({**lesson, "on": "01.09.2025"}, "date_from_datetime_parsing", "ГГГГ-ММ-ДД"),
        ({**lesson, "on": "1999-12-31"}, "greater_than_equal", "не меньше 01.01.2000"),
        ({**lesson, "roster_id": "5А"}, "uuid_parsing", "UUID"),
        ({**lesson, "topic": "т" * 4001}, "string_too_long", "не более 4000 симв."),
        ({**lesson, "topic": "a\u0000b"}, "text_unstorable", "нулевой символ"),
        ({**lesson, "teacher": "x"}, "extra_forbidden", "Такого поля нет"),
    ]
    for body, kind, said in cases:
        response = world.client.post("/lessons", headers=h, json=body)
        problem = _problem(response, 422, "request.invalid")
        (error,) = problem["errors"]  # type: ignore[misc]
        assert error["type"] == kind, (body, error)
        assert said in error["message"], error
        assert not ENGLISH_WORD.search(error["message"]), error
    scheme = world.client.post(
        f"/schools/{world.ids['school']}/years/2025/classes",
        headers=world.headers("head"),
        json={"grade": 6, "letter": "Б", "period_scheme": "quarter"},
    )
    (message,) = _messages(scheme)
    assert message.startswith("Допустимые значения: ") and " или " in message
    for content in (b"{not json", b"[]"):
        login = world.client.post(
            "/auth/login", content=content, headers={"content-type": "application/json"}
        )
        for text in _messages(login):
            assert re.search("[а-яА-Я]", text) and not ENGLISH_WORD.search(text), text


def test_an_address_refused_by_its_validator_is_said_in_russian(world: World) -> None:
    response = world.client.post(
        "/mail/subscriptions",
        headers=world.headers("parent"),
        json={
            "school_id": str(world.ids["school"]),
            "year_start": 2025,
            "student_id": str(world.ids["student"]),
            "address": "not an address",
        },
    )
    if response.status_code == 503:
        pytest.skip("mail is not configured in this world")
    (message,) = _messages(response)
    assert message == "неверный адрес электронной почты"


def test_a_missing_period_is_said_in_russian(world: World) -> None:
    # "no period 'Q1' in the class's scheme" reached the head.
    assert world.services.projector is not None
    world.services.projector.catch_up()
    response = world.client.get(
        f"/classes/{world.ids['klass']}/summary-sheet",
        params={"period": "Q1"},
        headers=world.headers("head"),
    )
    body = _problem(response, 404, "read.not_found")
    assert body["detail"] == "в схеме периодов класса нет периода «Q1»"


def test_a_command_refusal_shows_dates_as_a_school_writes_them(world: World) -> None:
    response = world.client.post(
        "/lessons",
        headers=world.headers("russian"),
        json={
            "roster_id": str(world.ids["klass"]),
            "subject_id": str(world.ids["russian"]),
            "on": "2025-09-07",
            "slot": 1,
        },
    )
    body = _problem(response, 422, "lesson.not_a_school_day")
    assert str(body["title"]).startswith("07.09.2025 — не учебный день")


def test_every_401_is_documented_by_its_code(world: World) -> None:
    # docs/api.md said every 401 is auth.invalid_token; no token at all is auth.required.
    none = _problem(world.client.get("/auth/me"), 401, "auth.required")
    assert none["clause"] == "п. 4.1"
    bad = world.client.get("/auth/me", headers={"Authorization": "Bearer not-a-token"})
    _problem(bad, 401, "auth.invalid_token")
    wrong = world.client.post("/auth/login", json={"login": "head", "password": "not it at all"})
    _problem(wrong, 401, "auth.invalid_credentials")
    doc = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    statuses = next(p for p in doc.split("\n\n") if p.startswith("401 ("))
    codes = {code for code, refusal in API_CATALOGUE.items() if refusal.status == 401}
    assert codes == {"auth.required", "auth.invalid_token", "auth.invalid_credentials"}
    for code in codes:
        assert f"`{code}`" in statuses, code
    assert "for every reason" not in statuses
