"""Reads of the read models on a hot-standby replica, with read-your-writes
(docs/adr/0016-replica-reads.md), on the real clusters of tests/clusters.py: the school lives on
the first shard, and the server reads the diary, the class journal page and the summary sheet on
its streaming standby when that has replayed as far as the primary had them, else on the primary.

A client writes and reads back at once, sending its position (``Ejournal-Position``), as the API
asks: through a caught-up replica, every read shows the write and the replica served it; through
a replica whose replay is paused, or one that is down, the primary serves the read, which shows
the write all the same, and the replica's trouble is logged once.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from ejournal.api.app import create_app
from ejournal.api.bootstrap import REPLICA_WAIT_VARIABLE, Services, bootstrap
from ejournal.identity.vault import VAULT_KEY_VARIABLE
from ejournal.ledger.config import BadDatabaseURLError
from ejournal.ledger.settings import Settings
from ejournal.projections import replicas
from ejournal.projections.replicas import Replica
from tests.api.conftest import PASSWORD, QUICK_HASHING, World, build_world
from tests.api.processes import HOST, free_port, listeners, serve, stop, wait_for
from tests.clusters import REPLICA_URL, SHARD_URLS, on_replica, replayed
from tests.commands.school import YEAR
from tests.databases import create_pg_database, drop_pg_database

POSITION = "Ejournal-Position"
WEEK = {"from": "2025-09-01", "to": "2025-09-07"}
ROUNDS = 40


@pytest.fixture(scope="module")
def world(pg_clusters: None) -> Iterator[World]:
    """The test school on the first shard, its database replayed on the standby."""
    url = create_pg_database(admin_url=SHARD_URLS[0])
    try:
        replayed(url)
        built = build_world(url)
        try:
            yield built
        finally:
            built.close()
    finally:
        drop_pg_database(url, admin_url=SHARD_URLS[0])


@pytest.fixture(scope="module")
def lesson(world: World) -> str:
    """A Russian lesson of 5«А»; each test marks a pupil of its own in it."""
    ids = world.ids
    body = {"roster_id": str(ids["klass"]), "subject_id": str(ids["russian"])}
    response = world.client.post(
        "/lessons", headers=world.headers("russian"), json={**body, "on": WEEK["from"], "slot": 3}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def pupil(world: World, number: int) -> str:
    return str(world.school.students[number])


@contextmanager
def served(world: World, replicas: tuple[str, ...], wait: str) -> Iterator[Client]:
    """A server of the world's database whose reads go to ``replicas``, waited for up to
    ``wait`` seconds; its projector follows the ledger, as a served process's does."""
    database_url = world.services.settings.database_url
    services = bootstrap(
        Settings(database_url=database_url, replica_urls=replicas),
        clock=world.clock,
        environ={**world.environ, REPLICA_WAIT_VARIABLE: wait},
        hashing=QUICK_HASHING,
    )
    try:
        with TestClient(create_app(services), raise_server_exceptions=False) as client:
            yield Client(world, client, services)
    finally:
        services.close()


class Client:
    """A client as the API asks: it sends back the highest position it was given."""

    def __init__(self, world: World, client: TestClient, services: Services) -> None:
        self.world, self.client, self.services = world, client, services
        self.position = 0

    @property
    def replica(self) -> Replica:
        assert self.services.reads.replicas is not None
        (replica,) = self.services.reads.replicas.replicas
        return replica

    def send(self, method: str, url: str, who: str, **kwargs: Any) -> Any:
        headers = {**self.world.headers(who), POSITION: str(self.position)}
        response = self.client.request(method, url, headers=headers, **kwargs)
        assert response.status_code < 300, f"{method} {url}: {response.text}"
        self.position = max(self.position, int(response.headers.get(POSITION, 0)))
        return response.json()

    def mark(self, lesson: str, student: str, value: int) -> str:
        body = {
            "student_id": student,
            "value": value,
            "work_type_id": str(self.world.ids["answer"]),
        }
        return str(self.send("POST", f"/lessons/{lesson}/marks", "russian", json=body)["id"])

    def correct(self, lesson: str, mark: str, value: int) -> None:
        body = {"value": value, "reason": "Ошибка ввода"}
        self.send("POST", f"/lessons/{lesson}/marks/{mark}/correction", "russian", json=body)

    def diary(self, student: str) -> Any:
        path = f"/schools/{self.world.ids['school']}/years/{YEAR}/students/{student}/diary"
        return self.send("GET", path, "head", params=WEEK)

    def diary_mark(self, lesson: str, student: str) -> int:
        (shown,) = [
            entry["marks"]
            for day in self.diary(student)["days"]
            for entry in day["lessons"]
            if entry["lesson"]["lesson_id"] == lesson
        ]
        (mark,) = shown
        return int(mark["value"])

    def journal_mark(self, mark: str) -> int:
        page = self.send(
            "GET", f"/journal/{self.world.ids['klass']}/{self.world.ids['russian']}", "russian"
        )
        (value,) = [
            m["value"]
            for row in page["rows"]
            for cell in row["cells"]
            for m in cell["marks"]
            if m["mark_id"] == mark
        ]
        return int(value)

    def sheet(self) -> Any:
        return self.send("GET", f"/classes/{self.world.ids['klass']}/summary-sheet", "head")


def caught_up() -> None:
    """Replay resumed on the standby (a test pauses it)."""
    with psycopg.connect(REPLICA_URL, autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_resume()")


@contextmanager
def replay_paused() -> Iterator[None]:
    with psycopg.connect(REPLICA_URL, autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
        try:
            while conn.execute("SELECT pg_get_wal_replay_pause_state()").fetchone() != ("paused",):
                time.sleep(0.01)
            yield
        finally:
            conn.execute("SELECT pg_wal_replay_resume()")


def test_a_writer_reads_its_writes_through_the_replica(world: World, lesson: str) -> None:
    """Each correction of a mark is read back at once, in the diary and on the journal page, and
    the replica serves every read (allowed to wait up to 2 s for its replay: a busy machine)."""
    caught_up()
    with served(world, (on_replica(world.services.settings.database_url),), "2") as c:
        student = pupil(world, 0)
        mark = c.mark(lesson, student, 3)
        before = c.replica.served
        for value in [2, 3, 4, 5] * (ROUNDS // 4):
            c.correct(lesson, mark, value)
            assert c.diary_mark(lesson, student) == value
            assert c.journal_mark(mark) == value
        assert c.replica.served - before == 2 * ROUNDS
        # The summary sheet, as the replica has it, is the primary's.
        sheet = c.sheet()
        assert c.replica.served - before == 2 * ROUNDS + 1
        primary = Client(world, world.client, world.services)
        primary.position = c.position
        assert primary.sheet() == sheet
        assert primary.diary(student) == c.diary(student)


def test_a_lagging_replica_leaves_the_read_to_the_primary(
    world: World, lesson: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Replay paused on the standby: the write is read back from the primary, and the lag is
    logged once; once replay resumes, the replica serves again."""
    caught_up()
    with served(world, (on_replica(world.services.settings.database_url),), "0.2") as c:
        student = pupil(world, 1)
        mark = c.mark(lesson, student, 2)
        assert c.diary_mark(lesson, student) == 2
        served_before = c.replica.served
        caplog.set_level(logging.INFO, logger="ejournal.projections")
        with replay_paused():
            for value in (3, 4, 5):
                c.correct(lesson, mark, value)
                assert c.diary_mark(lesson, student) == value
                assert c.journal_mark(mark) == value
            assert c.replica.served == served_before
            lagging = [
                r
                for r in caplog.records
                if r.getMessage().startswith(f"replica {c.replica.name} has not replayed")
            ]
            assert len(lagging) == 1, caplog.text
        assert c.services.reads.replicas is not None
        c.services.reads.replicas.wait_seconds = 2.0  # the replay of what was held back
        c.correct(lesson, mark, 4)
        assert c.diary_mark(lesson, student) == 4
        assert c.replica.served == served_before + 1
        assert "serves reads again" in caplog.text


def test_a_replica_that_is_down_leaves_the_read_to_the_primary(
    world: World, lesson: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A replica nobody listens for: every read is the primary's, shows the write, and the
    failure is logged once, though every read tries it again (no pause between tries here)."""
    monkeypatch.setattr(replicas, "RETRY_SECONDS", 0.0)
    name = world.services.settings.database_url.rsplit("/", 1)[1]
    down = f"postgresql://postgres@127.0.0.1:{free_port()}/{name}"
    with (
        served(world, (down,), "0.2") as c,
        caplog.at_level(logging.INFO, logger="ejournal.projections"),
    ):
        student = pupil(world, 2)
        mark = c.mark(lesson, student, 5)
        for value in (4, 3, 2):
            c.correct(lesson, mark, value)
            assert c.diary_mark(lesson, student) == value
            assert c.journal_mark(mark) == value
        assert c.sheet()["rows"]
        assert c.replica.served == 0
        assert c.replica.failing
        failed = [
            r
            for r in caplog.records
            if r.getMessage().startswith(f"replica {c.replica.name} failed")
        ]
        assert len(failed) == 1, caplog.text


def test_a_server_that_is_no_standby_of_the_primary_serves_no_read(
    world: World, lesson: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A replica URL that names the primary itself, or another database on the standby: neither
    is read, each is logged once, the primary reads."""
    url = world.services.settings.database_url
    with served(world, (url, REPLICA_URL), "0.2") as c:
        student = pupil(world, 5)
        mark = c.mark(lesson, student, 5)
        for value in (4, 3):
            c.correct(lesson, mark, value)
            assert c.diary_mark(lesson, student) == value
            assert c.journal_mark(mark) == value
        assert c.services.reads.replicas is not None
        itself, other = c.services.reads.replicas.replicas
        assert (itself.served, other.served) == (0, 0)
        logged = [r.getMessage() for r in caplog.records if r.name == "ejournal.projections"]
        assert len(logged) == 2, logged
        assert sum(f"{itself.name} is not a standby (" in m for m in logged) == 1
        assert sum(f"{other.name} is not a standby of the primary's" in m for m in logged) == 1


def test_without_replicas_every_read_is_the_primarys(world: World, lesson: str) -> None:
    """No ``EJOURNAL_REPLICA_URLS``: no replicas, and the reads are today's."""
    assert Settings.from_environment({}).replica_urls == ()
    assert world.services.reads.replicas is None
    with served(world, (), "0.2") as c:
        assert c.services.reads.replicas is None
        student = pupil(world, 3)
        mark = c.mark(lesson, student, 4)
        assert c.diary_mark(lesson, student) == 4
        assert c.journal_mark(mark) == 4


def test_served_workers_read_on_the_replica(world: World, lesson: str) -> None:
    """A real ``ejournal serve --workers 2`` with ``EJOURNAL_REPLICA_URLS``: its workers hold
    connections to the standby, and a teacher's corrections are read back at once through
    either worker."""
    caught_up()
    url = world.services.settings.database_url
    name = url.rsplit("/", 1)[1]
    environ = {
        VAULT_KEY_VARIABLE: world.environ[VAULT_KEY_VARIABLE],
        "EJOURNAL_REPLICA_URLS": on_replica(url),
        REPLICA_WAIT_VARIABLE: "2",
    }
    port = free_port()
    server = serve(url, port, 2, environ)
    base = f"http://{HOST}:{port}"
    try:
        wait_for(lambda: listeners(port) == 2, "2 listening sockets")
        wait_for(lambda: httpx.get(f"{base}/ready", timeout=10).status_code == 200, "ready")
        position = 0

        def call(method: str, path: str, who: str, **kwargs: Any) -> Any:
            nonlocal position
            headers = {"Authorization": f"Bearer {tokens[who]}", POSITION: str(position)}
            # A connection of its own each time: the kernel spreads them over both workers.
            response = httpx.request(method, base + path, headers=headers, timeout=30, **kwargs)
            assert response.status_code < 300, response.text
            position = max(position, int(response.headers.get(POSITION, 0)))
            return response.json()

        tokens = {}
        for who in ("russian", "head"):
            body = {"login": world.logins[who], "password": PASSWORD}
            response = httpx.post(f"{base}/auth/login", json=body, timeout=30)
            assert response.status_code == 201, response.text
            tokens[who] = response.json()["access_token"]
        student, ids = pupil(world, 4), world.ids
        body = {"student_id": student, "value": 3, "work_type_id": str(ids["answer"])}
        mark = call("POST", f"/lessons/{lesson}/marks", "russian", json=body)["id"]
        page = f"/journal/{ids['klass']}/{ids['russian']}"
        diary = f"/schools/{ids['school']}/years/{YEAR}/students/{student}/diary"
        for value in (4, 5, 2, 3, 4, 5, 2, 3, 4, 5):
            body = {"value": value, "reason": "Ошибка ввода"}
            call("POST", f"/lessons/{lesson}/marks/{mark}/correction", "russian", json=body)
            shown = call("GET", page, "russian")
            assert [
                m["value"]
                for r in shown["rows"]
                for c in r["cells"]
                for m in c["marks"]
                if m["mark_id"] == mark
            ] == [value]
            days = call("GET", diary, "head", params=WEEK)["days"]
            assert [
                m["value"]
                for d in days
                for e in d["lessons"]
                for m in e["marks"]
                if m["mark_id"] == mark
            ] == [value]
        with psycopg.connect(REPLICA_URL, autocommit=True) as conn:
            (connections,) = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)
            ).fetchone() or (0,)
        assert connections > 0
    finally:
        stop(server)


def test_replica_settings() -> None:
    """The setting is a comma-separated list; a replica is a PostgreSQL server, of a PostgreSQL
    ledger."""
    environ = {"EJOURNAL_REPLICA_URLS": " postgresql://a@h1/db , ,postgresql://a@h2:5433/db"}
    assert Settings.from_environment(environ).replica_urls == (
        "postgresql://a@h1/db",
        "postgresql://a@h2:5433/db",
    )

    def primary() -> tuple[int, str]:
        raise AssertionError("no server is asked")

    with pytest.raises(BadDatabaseURLError, match="a replica is a PostgreSQL server"):
        Replica("sqlite:///replica.db", primary)
    with pytest.raises(BadDatabaseURLError, match="unsupported database URL"):
        Replica("mysql://a@h/db", primary)


def test_replicas_of_a_sqlite_ledger_are_refused(tmp_path: Any) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/ejournal.db", replica_urls=("postgresql://a@h/db",)
    )
    with pytest.raises(
        BadDatabaseURLError, match=r"replicas \(EJOURNAL_REPLICA_URLS\) need a PostgreSQL ledger"
    ):
        bootstrap(settings, environ={})
