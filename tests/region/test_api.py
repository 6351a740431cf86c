"""The HTTP API and the pages over a region (issue 24, items 1 and 2): every request goes to the
server of the school it concerns, positions name their server, a caller's schools on two servers
are listed together, and a server's standby serves its schools' reads."""

from __future__ import annotations

import re
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from ejournal import commands as c
from ejournal.api.bootstrap import Services, bootstrap
from ejournal.identity.vault import VAULT_KEY_VARIABLE, new_key
from ejournal.ledger.actor import SYSTEM_ACTOR, Role
from ejournal.ledger.config import BadDatabaseURLError
from ejournal.ledger.domain import Account
from ejournal.ledger.placement import PlacementError
from ejournal.ledger.settings import Settings
from ejournal.projections.projector import Projector
from ejournal.web.site import create_site
from tests import clusters
from tests.api.conftest import PASSWORD, QUICK_HASHING
from tests.commands.school import START, YEAR, TestSchool, build_school, uid
from tests.region.conftest import serve, teach_maths_in


@dataclass
class Served:
    client: TestClient
    services: Services
    one: TestSchool
    two: TestSchool
    tokens: dict[str, str]

    def headers(self, who: str, position: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        if position is not None:
            headers["Ejournal-Position"] = position
        return headers


def _login(client: TestClient, login: str) -> str:
    response = client.post("/auth/login", json={"login": login, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return str(response.json()["access_token"])


@pytest.fixture
def served(region_urls: tuple[str, dict[str, str]]) -> Iterator[Served]:
    directory_url, shards = region_urls
    settings = Settings(database_url=directory_url, servers=tuple(shards.items()))
    services = serve(settings)
    try:
        at = int(START.timestamp() * 1e6)
        one = build_school(services.cell("shard1").ledger, number=1)
        services.region.placement.place(one.school_id, "shard1", at=at)  # type: ignore[union-attr]
        two = build_school(services.cell("shard2").ledger, number=2)
        services.region.placement.place(two.school_id, "shard2", at=at)  # type: ignore[union-attr]
        parent = c.handle(
            c.RegisterAccount(actor=SYSTEM_ACTOR, login="parent2", person_id=uid(15001)),
            services.ledger,
        )
        c.handle(
            c.GrantRole(
                actor=SYSTEM_ACTOR, account_id=parent, role=Role.PARENT, school_id=two.school_id
            ),
            services.ledger,
        )
        c.handle(
            c.LinkParent(
                actor=two.head,
                school_id=two.school_id,
                year_start=YEAR,
                student_id=two.students[0],
                parent_id=uid(15001),
            ),
            services.for_school(two.school_id).ledger,
        )
        logins = {"maths": "maths", "maths2": "maths2", "head": "head", "parent2": "parent2"}
        for login in logins.values():
            services.auth.provision(Account.create_id(login=login), PASSWORD)
        # The site: the API's app with the pages, which call the API's route functions.
        with TestClient(create_site(services), raise_server_exceptions=False) as client:
            tokens = {who: _login(client, login) for who, login in logins.items()}
            yield Served(client, services, one, two, tokens)
    finally:
        services.close()


def _page_login(client: TestClient, login: str) -> None:
    """Log in through the login page, as a browser does: the session is then a cookie."""
    form = client.get("/login")
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text)
    assert token is not None
    answer = client.post(
        "/login",
        data={"csrf": token.group(1), "login": login, "password": PASSWORD},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def _mark(served: Served, who: str, school: TestSchool, lesson: UUID, value: int) -> str:
    response = served.client.post(
        f"/lessons/{lesson}/marks",
        json={
            "student_id": str(school.students[0]),
            "value": value,
            "work_type_id": str(school.work_types["Ответ на уроке"]),
        },
        headers=served.headers(who),
    )
    assert response.status_code == 201, response.text
    return response.headers["Ejournal-Position"]


def _lesson(served: Served, who: str, school: TestSchool) -> UUID:
    response = served.client.post(
        "/lessons",
        json={
            "roster_id": str(school.class_id),
            "subject_id": str(school.subjects["Математика"]),
            "on": "2025-09-01",
            "slot": 1,
        },
        headers=served.headers(who),
    )
    assert response.status_code == 201, response.text
    return UUID(response.json()["id"])


def _journal_marks(served: Served, who: str, school: TestSchool, position: str) -> list[int]:
    response = served.client.get(
        f"/journal/{school.class_id}/{school.subjects['Математика']}",
        headers=served.headers(who, position),
    )
    assert response.status_code == 200, response.text
    return [
        mark["value"]
        for row in response.json()["rows"]
        for cell in row["cells"]
        for mark in cell["marks"]
    ]


def test_each_request_goes_to_its_schools_server(served: Served) -> None:
    # A write of each school lands on its server, and its position names that server.
    lesson1 = _lesson(served, "maths", served.one)  # routed by the roster in the body
    lesson2 = _lesson(served, "maths2", served.two)
    position1 = _mark(served, "maths", served.one, lesson1, 5)
    position2 = _mark(served, "maths2", served.two, lesson2, 3)
    assert position1.startswith("shard1:") and position2.startswith("shard2:")
    for server, school in (("shard1", served.one), ("shard2", served.two)):
        with served.services.cell(server).ledger.database.transaction(write=False) as cursor:
            cursor.execute("SELECT DISTINCT log_id FROM stored_events")
            assert cursor.fetchall() == [(school.log_id,)]
    # Reads wait for their caller's write on the right server: read your writes.
    assert _journal_marks(served, "maths", served.one, position1) == [5]
    assert _journal_marks(served, "maths2", served.two, position2) == [3]
    diary = served.client.get(
        f"/schools/{served.two.school_id}/years/{YEAR}/students/{served.two.students[0]}/diary",
        params={"start": date(2025, 9, 1).isoformat()},
        headers=served.headers("parent2", position2),
    )
    assert diary.status_code == 200, diary.text
    marks = [
        mark["value"]
        for day in diary.json()["days"]
        for lesson in day["lessons"]
        for mark in lesson["marks"]
    ]
    assert marks == [3]
    # A record of one school is not found through the other's routes: each server has its own.
    refused = served.client.get(
        f"/journal/{served.one.class_id}/{served.one.subjects['Математика']}",
        headers=served.headers("maths2"),
    )
    assert refused.status_code == 403, refused.text


def test_a_teacher_of_two_schools_sees_both(served: Served) -> None:
    one, two = served.one, served.two
    teach_maths_in(two, one.maths, one.person["maths"], served.services)
    served.tokens["maths"] = _login(served.client, "maths")  # the new grant, in a new session
    _lesson(served, "maths", one)
    position = _mark(served, "maths", two, _lesson(served, "maths", two), 4)
    home = served.client.get("/me", headers=served.headers("maths", position))
    assert home.status_code == 200, home.text
    assert sorted(s["name"] for s in home.json()["schools"]) == ["СОШ № 1", "СОШ № 2"]
    # A position names one server; this read gathers two, so both are let catch up first.
    for cell in served.services.cells():
        assert isinstance(cell.projector, Projector)
        assert cell.projector.wait_until(cell.projector.head(), timeout=60)
    lessons = served.client.get(
        "/me/lessons", params={"from": "2025-09-01"}, headers=served.headers("maths")
    )
    assert lessons.status_code == 200, lessons.text
    assert sorted(x["school_id"] for x in lessons.json()["lessons"]) == sorted(
        [str(one.school_id), str(two.school_id)]
    )


def test_the_auditor_sees_every_servers_logs(served: Served) -> None:
    services = served.services
    auditor = c.handle(
        c.RegisterAccount(actor=SYSTEM_ACTOR, login="auditor", person_id=uid(5003)),
        services.ledger,
    )
    c.handle(
        c.GrantRole(actor=SYSTEM_ACTOR, account_id=auditor, role=Role.AUDITOR, school_id=None),
        services.ledger,
    )
    services.auth.provision(auditor, PASSWORD)
    served.tokens["auditor"] = _login(served.client, "auditor")
    logs = served.client.get("/ledger/logs", headers=served.headers("auditor"))
    assert logs.status_code == 200, logs.text
    assert [log["log_id"] for log in logs.json()] == sorted(
        ["system", served.one.log_id, served.two.log_id]
    )
    entries = served.client.get(
        "/ledger/entries", params={"log_id": served.two.log_id}, headers=served.headers("auditor")
    )
    assert entries.status_code == 200, entries.text
    assert entries.json()[0]["index"] == 0  # read on shard2, where the log is
    verified = served.client.get("/ledger/verification", headers=served.headers("auditor"))
    assert verified.status_code == 200, verified.text
    assert verified.json()["ok"] is True
    assert len(verified.json()["logs"]) == 3


def test_a_position_of_a_server_unknown_here_is_ignored(served: Served) -> None:
    response = served.client.get("/me", headers=served.headers("maths", "shard9:5"))
    assert response.status_code == 200, response.text


def test_the_pages_of_a_school_on_another_server(served: Served) -> None:
    # The web pages call the API's route functions: they are routed the same way.
    lesson = _lesson(served, "maths2", served.two)
    _mark(served, "maths2", served.two, lesson, 5)
    browser = served.client
    _page_login(browser, "maths2")
    day = browser.get("/day?date=2025-09-01")
    assert day.status_code == 200, day.text
    assert f"/lesson/{lesson}" in day.text  # the teacher's day, read on shard2
    page = browser.get(f"/lesson/{lesson}")
    assert page.status_code == 200, page.text
    assert "Математика" in page.text
    journal = browser.get(
        f"/class-journal/{served.two.class_id}/{served.two.subjects['Математика']}"
    )
    assert journal.status_code == 200, journal.text
    other = browser.get(f"/class-journal/{served.one.class_id}/{served.one.subjects['Математика']}")
    assert other.status_code == 403, other.text
    # The parent's diary page of a child whose school is on shard2.
    browser.cookies.clear()
    _page_login(browser, "parent2")
    child = served.two.students[0]
    diary = browser.get(f"/diary/{served.two.school_id}/{YEAR}/{child}?week=2025-09-01")
    assert diary.status_code == 200, diary.text
    assert "Математика" in diary.text


def test_a_servers_hot_standby_serves_its_schools_reads(
    region_urls: tuple[str, dict[str, str]],
) -> None:
    # Issue 24, item 2, in a region: shard1's standby (replica1) serves the journal of its
    # school, and each read shows the caller's write (read your writes).
    directory_url, shards = region_urls
    clusters.replayed(shards["shard1"])
    settings = Settings(
        database_url=directory_url,
        servers=tuple(shards.items()),
        server_replicas=(("shard1", clusters.on_replica(shards["shard1"])),),
    )
    services = serve(settings)
    try:
        one = build_school(services.cell("shard1").ledger, number=1)
        assert services.region is not None
        services.region.place(one.school_id, "shard1")
        services.auth.provision(Account.create_id(login="maths"), PASSWORD)
        replicas = services.cell("shard1").reads.replicas
        assert replicas is not None
        (replica,) = replicas.replicas
        with TestClient(create_site(services), raise_server_exceptions=False) as client:
            served = Served(client, services, one, one, {"maths": _login(client, "maths")})
            lesson = _lesson(served, "maths", one)
            written = 0
            # A standby whose replay another test paused serves nothing meanwhile: the reads
            # go to the primary, and still show each write; the standby serves once replayed.
            deadline = time.monotonic() + 60
            while replica.served == 0:
                assert time.monotonic() < deadline, "the standby served no read"
                position = _mark(served, "maths", one, lesson, 5)
                written += 1
                assert _journal_marks(served, "maths", one, position) == [5] * written
    finally:
        services.close()


def test_a_standby_of_an_unknown_server_is_refused(
    region_urls: tuple[str, dict[str, str]],
) -> None:
    directory_url, shards = region_urls
    settings = Settings(
        database_url=directory_url,
        servers=tuple(shards.items()),
        server_replicas=(("shard9", "postgresql://postgres@127.0.0.1:5435/x"),),
    )
    with pytest.raises(BadDatabaseURLError, match="names server 'shard9'"):
        bootstrap(settings, environ={VAULT_KEY_VARIABLE: new_key()}, hashing=QUICK_HASHING)


def test_standbys_are_named_by_server_in_the_setting() -> None:
    environ = {
        "EJOURNAL_SERVERS": "shard1=postgresql://a@h1/db",
        "EJOURNAL_REPLICA_URLS": "postgresql://a@r0/db, shard1=postgresql://a@r1/db,"
        "postgresql://a@/db?host=/run/postgresql",
    }
    settings = Settings.from_environment(environ)
    assert settings.replica_urls == (
        "postgresql://a@r0/db",
        "postgresql://a@/db?host=/run/postgresql",
    )
    assert settings.server_replicas == (("shard1", "postgresql://a@r1/db"),)


def test_a_position_of_another_server_is_ignored_by_one_database(tmp_path: Path) -> None:
    services = bootstrap(
        Settings(database_url=f"sqlite:///{tmp_path}/one.db"),
        environ={VAULT_KEY_VARIABLE: new_key()},
        hashing=QUICK_HASHING,
    )
    try:
        with TestClient(create_site(services), raise_server_exceptions=False) as client:
            response = client.get("/health", headers={"Ejournal-Position": "shard1:5"})
            assert response.status_code == 200, response.text
        with pytest.raises(PlacementError, match="no server named 'shard1': there is one"):
            services.cell("shard1")
    finally:
        services.close()
