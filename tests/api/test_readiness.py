"""``/ready`` is false while nothing projects (п. 1.5 depends on it: what is written shows in the
diary): the read models stand still behind the ledger, or the process that is to project has
stopped its projector. Whichever process projects, a server reads from the database how far the
read models are (``api.freshness``). Both databases.

No clause: how the service is run.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from ejournal import commands as c
from ejournal.api.app import create_app
from ejournal.api.bootstrap import Services, bootstrap
from ejournal.identity.vault import VAULT_KEY_VARIABLE, new_key
from ejournal.ledger.actor import SYSTEM_ACTOR
from ejournal.ledger.settings import Settings

STALL_VARIABLE = "EJOURNAL_PROJECTOR_STALL_SECONDS"
STALL = 0.3


@contextmanager
def _served(database_url: str, *, follow: bool) -> Iterator[tuple[TestClient, Services]]:
    services = bootstrap(
        Settings(database_url=database_url),
        environ={VAULT_KEY_VARIABLE: new_key(), STALL_VARIABLE: str(STALL)},
        follow=follow,
    )
    try:
        with TestClient(create_app(services), raise_server_exceptions=False) as client:
            yield client, services
    finally:
        services.close()


def _until(condition: Callable[[], httpx.Response | None], what: str) -> httpx.Response:
    deadline = time.monotonic() + 10 * STALL + 5
    while True:
        found = condition()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _ready_with(client: TestClient, status: int) -> Callable[[], httpx.Response | None]:
    def ask() -> httpx.Response | None:
        response = client.get("/ready")
        return response if response.status_code == status else None

    return ask


def _record(services: Services) -> None:
    c.handle(c.RegisterSchool(actor=SYSTEM_ACTOR, name="СОШ № 1"), services.ledger)


def test_not_ready_while_the_read_models_stand_still_behind_the_ledger(database_url: str) -> None:
    # As a worker of `serve --workers`: another process projects, and here none does.
    with _served(database_url, follow=False) as (client, services):
        assert client.get("/ready").status_code == 200  # nothing to project yet
        _record(services)
        body = _until(_ready_with(client, 503), "not ready").json()
        assert body == {"ready": False, "database": True, "projector": False, "lag": 1}
        assert services.projector is not None
        services.projector.catch_up()  # type: ignore[attr-defined]
        body = _until(_ready_with(client, 200), "ready again").json()
        assert body == {"ready": True, "database": True, "projector": True, "lag": 0}


def test_ready_while_the_read_models_keep_moving(database_url: str) -> None:
    # Behind, but advancing: the position moves between the probes, so it is not a stall.
    with _served(database_url, follow=False) as (client, services):
        assert services.projector is not None
        for _ in range(4):
            _record(services)
            assert client.get("/ready").status_code == 200
            time.sleep(STALL / 2)
            services.projector.catch_up()  # type: ignore[attr-defined]
            _record(services)
            time.sleep(STALL / 2)
            assert client.get("/ready").status_code == 200
            services.projector.catch_up()  # type: ignore[attr-defined]


def test_not_ready_once_the_projector_of_this_process_stops(database_url: str) -> None:
    with _served(database_url, follow=True) as (client, services):
        assert services.projector is not None and services.projector.running
        _record(services)
        _until(_ready_with(client, 200), "ready")
        services.projector.stop()
        body = client.get("/ready").json()
        assert body["ready"] is False and body["projector"] is False, body
