"""Property-based tests of the whole API from its OpenAPI spec (schemathesis).

Every operation is called with generated requests, valid and invalid, as several roles; no
response may be a server error, and every response must match the status codes, content types
and schemas the spec documents for it. The default run generates 20 cases per operation (about
1,100) on SQLite, each sent as four roles; ``EJOURNAL_SCHEMATHESIS_EXAMPLES`` changes the count and
``EJOURNAL_SCHEMATHESIS_BACKENDS=sqlite,postgres`` adds PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ejournal.api.app import openapi_document
from tests.api.conftest import PASSWORD, World, build_world
from tests.conftest import _pg_reachable, create_pg_database, drop_pg_database

EXAMPLES = int(os.environ.get("EJOURNAL_SCHEMATHESIS_EXAMPLES", "20"))
BACKENDS = os.environ.get("EJOURNAL_SCHEMATHESIS_BACKENDS", "sqlite").split(",")
ROLES = ("head", "russian", "parent", "auditor")
"""Administration, a subject teacher, a parent and an auditor: each reaches different code."""
SESSION_ENDING = {"/auth/logout", "/auth/password"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

SCHEMA = schemathesis.openapi.from_dict(openapi_document())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
GENERATED = {"cases": 0, "requests": 0}


@pytest.fixture(scope="module", params=BACKENDS)
def schema_world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[World, Any]]:
    url: str | None = None
    if request.param == "sqlite":
        database_url = f"sqlite:///{tmp_path_factory.mktemp('schemathesis') / 'ejournal.db'}"
    else:
        if (reason := _pg_reachable()) is not None:
            pytest.skip(f"PostgreSQL not reachable: {reason}")
        database_url = url = create_pg_database()
    built = build_world(database_url, roles=ROLES)
    client = asgi.get_client(built.client.app)
    try:
        yield built, client
    finally:
        built.client.__exit__(None, None, None)
        built.services.close()
        if url is not None:
            drop_pg_database(url)


def _strategy(operation: Any) -> st.SearchStrategy[Any]:
    strategies = [operation.as_strategy(GenerationMode.POSITIVE)]
    if operation.path_parameters or operation.query or operation.body:
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
    return st.one_of(strategies)


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_operation_conforms_to_the_spec(schema_world: tuple[World, Any], operation: Any) -> None:
    world, client = schema_world
    app = world.client.app

    @given(case=_strategy(operation))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def conforms(case: schemathesis.Case) -> None:
        GENERATED["cases"] += 1
        for role in ROLES:
            GENERATED["requests"] += 1
            headers = world.headers(role)
            response = case.call(app=app, session=client, headers=headers)
            if case.path == "/ready":
                # Not ready is a documented 503 of the probe (no projector in this test).
                case.validate_response(response, checks=CHECKS[1:], headers=headers)
            else:
                case.validate_response(response, checks=CHECKS, headers=headers)
            if case.path in SESSION_ENDING and response.status_code < 400:
                world.login(role, PASSWORD)

    conforms()


def test_at_least_a_thousand_cases_were_generated() -> None:
    # Runs after the property tests of this module: counts what they generated and sent.
    if GENERATED["cases"] == 0:
        pytest.skip("the property tests did not run")
    if EXAMPLES >= 20:
        assert GENERATED["cases"] >= 1000 * len(BACKENDS), GENERATED
    print(f"schemathesis: {GENERATED}")
