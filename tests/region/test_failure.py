"""One server of a region stopped (issue 24, item 6): its school's requests are refused (503)
while two schools on other servers keep writing and reading, and once it is started again the
service serves its school by itself, with nothing restarted."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterator

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from ejournal.api.app import create_app
from ejournal.ledger.domain import Account
from ejournal.ledger.settings import Settings
from tests.api.conftest import PASSWORD
from tests.commands.school import build_school
from tests.region import server as own
from tests.region.conftest import serve
from tests.region.test_api import Served, _journal_marks, _lesson, _login, _mark


@pytest.fixture
def own_server() -> Iterator[own.OwnServer]:
    reason = own.unavailable()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"a server of the test's own is required under CI=true: {reason}")
        pytest.skip(reason)
    with own.own_server() as server:
        yield server


def test_a_stopped_server_fails_only_its_school(
    region_urls: tuple[str, dict[str, str]], own_server: own.OwnServer
) -> None:
    directory_url, shards = region_urls
    settings = Settings(
        database_url=directory_url, servers=(*shards.items(), ("own", own_server.database()))
    )
    services = serve(settings)
    try:
        region = services.region
        assert region is not None
        schools = {}
        for number, server in enumerate(("shard1", "shard2", "own"), start=1):
            school = build_school(services.cell(server).ledger, number=number)
            region.place(school.school_id, server)
            schools[server] = school
        logins = {"shard1": "maths", "shard2": "maths2", "own": "maths3"}
        for login in logins.values():
            services.auth.provision(Account.create_id(login=login), PASSWORD)
        with TestClient(create_app(services), raise_server_exceptions=False) as client:
            tokens = {server: _login(client, login) for server, login in logins.items()}
            served = Served(client, services, schools["shard1"], schools["shard2"], tokens)
            lesson = {server: _lesson(served, server, schools[server]) for server in logins}

            own_server.stop()
            refused = client.post(
                f"/lessons/{lesson['own']}/marks",
                json={
                    "student_id": str(schools["own"].students[0]),
                    "value": 5,
                    "work_type_id": str(schools["own"].work_types["Ответ на уроке"]),
                },
                headers=served.headers("own"),
            )
            assert refused.status_code == 503, refused.text
            assert refused.json()["code"] == "service.unavailable"
            # The two schools on the other servers keep writing and reading meanwhile.
            for server in ("shard1", "shard2"):
                for value in (4, 5):
                    position = _mark(served, server, schools[server], lesson[server], value)
                assert _journal_marks(served, server, schools[server], position) == [4, 5]
            assert client.get("/ready").json()["servers"]["own"] is False

            own_server.start()  # back: the service finds it by itself
            deadline = time.monotonic() + 60
            while True:
                try:
                    position = _mark(served, "own", schools["own"], lesson["own"], 3)
                    break
                except AssertionError:
                    assert time.monotonic() < deadline, "the server's school was not served again"
                    time.sleep(0.5)
            assert _journal_marks(served, "own", schools["own"], position) == [3]
            assert client.get("/ready").json()["servers"]["own"] is True
    finally:
        services.close()
