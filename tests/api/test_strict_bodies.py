"""Request bodies are validated strictly (api/schemas/common.py): a number is a JSON number, a
boolean ``true`` or ``false``. ``"value": true`` recorded a mark of 1, and ``"5"``, ``" 4 "`` or
``4.0`` were taken as numbers. IDs, dates and times, which JSON writes as strings, still parse."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

import ejournal.api.app  # noqa: F401  (every route, so every body model, is imported)
from ejournal.api.schemas.common import Input
from tests.api.conftest import ROLES, World
from tests.api.role_matrix import Anything
from tests.api.test_matrix import ENDPOINTS, Endpoint, matrix

__all__ = ["matrix"]

NOT_NUMBERS: list[Any] = [True, False, "5", " 4 ", "4.0", None]
NOT_INTEGERS: list[Any] = [*NOT_NUMBERS, 4.0, 4.5]
NOT_BOOLEANS: list[Any] = ["true", 1, 0, "1", None]
TYPE_ERRORS = {"int_type", "decimal_type", "bool_type", "model_attributes_type"}


def _models() -> list[type[Input]]:
    found: list[type[Input]] = []
    todo = list(Input.__subclasses__())
    while todo:
        model = todo.pop()
        found.append(model)
        todo += model.__subclasses__()
    return sorted(set(found), key=lambda m: m.__name__)


def _kind(schema: dict[str, Any]) -> tuple[str | None, bool]:
    """(JSON type, nullable) of a property's schema."""
    options = schema.get("anyOf", [schema])
    types = {option.get("type") for option in options}
    nullable = "null" in types
    for kind in ("integer", "number", "boolean"):
        if kind in types:
            return kind, nullable
    return None, nullable


def _typed_fields(model: type[Input]) -> Iterator[tuple[str, bool, str, bool]]:
    """(field, of a dict's values, JSON type, nullable) of each number or boolean field."""
    schema = model.model_json_schema(mode="validation")
    required = set(schema.get("required", []))
    for name, prop in schema["properties"].items():
        kind, nullable = _kind(prop)
        if kind is not None:
            yield name, False, kind, nullable or name not in required
        values = prop.get("additionalProperties")
        if isinstance(values, dict) and _kind(values)[0] is not None:
            yield name, True, str(_kind(values)[0]), False


MODELS = _models()
FIELDS = [
    (model, name, in_dict, kind, nullable)
    for model in MODELS
    for name, in_dict, kind, nullable in _typed_fields(model)
]


def test_every_write_model_is_strict() -> None:
    names = {m.__name__ for m in MODELS}
    assert {"MarkIn", "ClassWorkIn", "CorrectionIn", "LessonIn", "WorkTypeIn"} <= names
    assert "SubscriptionIn" in names
    assert all(m.model_config.get("strict") for m in MODELS)
    numbers = {(m.__name__, name) for m, name, _, kind, _ in FIELDS if kind != "boolean"}
    assert {("MarkIn", "value"), ("ClassWorkIn", "marks"), ("WorkTypeIn", "weight")} <= numbers


@pytest.mark.parametrize(
    ("model", "name", "in_dict", "kind", "nullable"),
    FIELDS,
    ids=[f"{m.__name__}.{name}" for m, name, *_ in FIELDS],
)
def test_a_number_or_boolean_of_another_type_is_refused(
    model: type[Input], name: str, in_dict: bool, kind: str, nullable: bool
) -> None:
    key = "00000000-0000-0000-0000-000000000001"
    bad = {"integer": NOT_INTEGERS, "number": NOT_NUMBERS, "boolean": NOT_BOOLEANS}[kind]
    for value in bad:
        if value is None and nullable and not in_dict:
            continue  # an optional field left null is left out (Input.fields)
        body = {name: {key: value} if in_dict else value}
        with pytest.raises(ValidationError) as info:
            model.model_validate(body)
        where = (name, key) if in_dict else (name,)
        errors = [e for e in info.value.errors() if tuple(e["loc"]) == where]
        assert errors, f"{model.__name__}.{name} took {value!r}"
        assert errors[0]["type"] in TYPE_ERRORS, errors[0]


def _numbers(body: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every JSON number in a body, by its path."""
    if isinstance(body, dict):
        for key, value in body.items():
            yield from _numbers(value, (*path, key))
    elif isinstance(body, list):
        for index, value in enumerate(body):
            yield from _numbers(value, (*path, index))
    elif isinstance(body, int | float) and not isinstance(body, bool):
        yield path, body


def _replace(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = dict(body) if isinstance(body, dict) else list(body)
    copy[path[0]] = _replace(body[path[0]], path[1:], value)  # type: ignore[index]
    return copy


def _has_numbers(endpoint: Endpoint) -> bool:
    body = endpoint.body(Anything())  # the body's shape: its numbers do not depend on the IDs
    return body is not None and bool(list(_numbers(body)))


WRITES = [e for e in ENDPOINTS if e.method in {"POST", "PUT"} and _has_numbers(e)]
"""The writes whose body has a number to send as another type."""


@pytest.mark.parametrize("endpoint", WRITES, ids=str)
def test_a_write_with_a_number_of_another_type_is_422_and_writes_nothing(
    matrix: World, endpoint: Endpoint
) -> None:
    w = matrix
    body = endpoint.body(w)
    assert body is not None
    role = next(r for r in ROLES if r in endpoint.allowed)
    for path, number in _numbers(body):
        bad = NOT_NUMBERS if isinstance(number, float) else NOT_INTEGERS
        for value in bad:
            if value == number or (value == 4.0 and number == 4):
                continue
            before = w.events()
            response = w.client.request(
                endpoint.method,
                endpoint.path(w),
                json=_replace(body, path, value),
                headers=w.headers(role),
            )
            assert response.status_code == 422, (path, value, response.text)
            problem = response.json()
            assert problem["code"] == "request.invalid"
            (error,) = [e for e in problem["errors"] if tuple(e["location"][1:]) == path]
            assert error["type"] in TYPE_ERRORS | {"missing"}, error
            assert "Ожидается" in error["message"] or "заполнено" in error["message"]
            assert w.events() == before, f"{endpoint} wrote with {path}={value!r}"


def test_valid_bodies_still_work(matrix: World) -> None:
    # IDs, dates, times and choices arrive as strings and parse; numbers are numbers.
    w = matrix
    lesson = w.client.post(
        "/lessons",
        headers=w.headers("russian"),
        json={
            "roster_id": str(w.ids["klass"]),
            "subject_id": str(w.ids["russian"]),
            "on": "2025-09-01",
            "slot": 3,
            "topic": "Звуки речи",
        },
    )
    assert lesson.status_code == 201, lesson.text
    mark = w.client.post(
        f"/lessons/{lesson.json()['id']}/marks",
        headers=w.headers("russian"),
        json={
            "student_id": str(w.school.students[2]),
            "value": 4,
            "work_type_id": str(w.ids["answer"]),
        },
    )
    assert mark.status_code == 201, mark.text
    for value in (True, "5", " 4 ", 4.0):
        refused = w.client.post(
            f"/lessons/{lesson.json()['id']}/marks",
            headers=w.headers("russian"),
            json={
                "student_id": str(w.school.students[3]),
                "value": value,
                "work_type_id": str(w.ids["answer"]),
            },
        )
        assert refused.status_code == 422, (value, refused.text)
        (error,) = refused.json()["errors"]
        assert (error["location"], error["type"]) == (["body", "value"], "int_type")
        assert error["message"] == "Ожидается целое число (число JSON, не строка)."
