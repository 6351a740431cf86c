"""Parents' e-mail over a region (п. 1.6, ADR 0018): each server's mail service keeps its schools'
subscriptions, outbox and link tokens, and sends their digests from its read models; the links,
which name no server, find the server that issued them; the digest's reads of a child are in the
directory's access log. Over a real SMTP server (aiosmtpd, as tests/mail/ run it)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from uuid import UUID

import pytest
from typer.testing import CliRunner

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from ejournal import commands as c
from ejournal.api.bootstrap import Services
from ejournal.cli.main import cli
from ejournal.identity.access_log import Access, AccessLog
from ejournal.ledger.actor import SYSTEM_ACTOR, Role
from ejournal.ledger.domain import Account
from ejournal.ledger.settings import Settings
from ejournal.mail.moving import move_mail_state
from ejournal.web.site import create_site
from tests.api.conftest import PASSWORD
from tests.commands.school import YEAR, TestSchool, build_school, uid
from tests.mail.conftest import Handler, Received, mail_environ, serving_smtp
from tests.region.conftest import region_env, serve

PARENT = uid(15001)
"""A parent with a child in each school: СОШ № 1 on shard1, СОШ № 2 on shard2."""
ONE, TWO = "mama.one@example.ru", "mama.two@example.ru"


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Handler, int]]:
    with serving_smtp() as server:
        yield server.handler, server.port


@dataclass
class Mailed:
    client: TestClient
    services: Services
    one: TestSchool
    two: TestSchool
    handler: Handler
    port: int
    headers: dict[str, str]

    def cell(self, school: TestSchool) -> Services:
        return self.services.for_school(school.school_id)

    def project(self) -> None:
        for server in ("shard1", "shard2"):
            projector = self.services.cell(server).projector
            assert projector is not None
            projector.catch_up()

    def subscribe(self, school: TestSchool, address: str) -> UUID:
        response = self.client.post(
            "/mail/subscriptions",
            headers=self.headers,
            json={
                "school_id": str(school.school_id),
                "year_start": YEAR,
                "student_id": str(school.students[0]),
                "address": address,
            },
        )
        assert response.status_code == 201, response.text
        return UUID(response.json()["subscription_id"])

    def last_to(self, address: str) -> Received:
        return self.handler.to(address)[-1]

    def mark(self, school: TestSchool, value: int) -> None:
        """A maths lesson on 1 September with the child's mark, written on its server."""
        lesson = school.lesson()
        c.handle(
            c.RecordMark(
                actor=school.maths,
                lesson_id=lesson,
                student_id=school.students[0],
                value=value,
                work_type_id=school.work_types["Ответ на уроке"],
            ),
            school.ledger,
        )


@pytest.fixture
def mailed(region_urls: tuple[str, dict[str, str]], smtp: tuple[Handler, int]) -> Iterator[Mailed]:
    handler, port = smtp
    handler.reset()
    directory_url, shards = region_urls
    settings = Settings(database_url=directory_url, servers=tuple(shards.items()))
    services = serve(settings, environ=mail_environ(port), follow=False)
    try:
        assert services.region is not None
        schools = []
        for number, server in ((1, "shard1"), (2, "shard2")):
            school = build_school(services.cell(server).ledger, number=number)
            services.region.place(school.school_id, server)
            schools.append(school)
        one, two = schools
        account = c.handle(
            c.RegisterAccount(actor=SYSTEM_ACTOR, login="parent", person_id=PARENT),
            services.ledger,
        )
        for school in schools:
            c.handle(
                c.GrantRole(
                    actor=SYSTEM_ACTOR,
                    account_id=account,
                    role=Role.PARENT,
                    school_id=school.school_id,
                ),
                services.ledger,
            )
            c.handle(
                c.LinkParent(
                    actor=school.head,
                    school_id=school.school_id,
                    year_start=YEAR,
                    student_id=school.students[0],
                    parent_id=PARENT,
                ),
                school.ledger,
            )
        services.auth.provision(Account.create_id(login="parent"), PASSWORD)
        with TestClient(create_site(services), raise_server_exceptions=False) as client:
            login = client.post("/auth/login", json={"login": "parent", "password": PASSWORD})
            assert login.status_code == 201, login.text
            headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
            mailed = Mailed(client, services, one, two, handler, port, headers)
            mailed.project()
            yield mailed
    finally:
        services.close()


def _all(services: Services, table: str) -> list[tuple[object, ...]]:
    with services.ledger.database.transaction(write=False) as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        return [tuple(row) for row in cursor.fetchall()]


def _rows(services: Services, table: str) -> int:
    with services.ledger.database.transaction(write=False) as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return int(cursor.fetchone()[0])


def test_a_parent_gets_the_week_of_a_school_on_a_server(mailed: Mailed) -> None:
    two, shard2, directory = mailed.two, mailed.cell(mailed.two), mailed.services
    assert shard2.server == "shard2" and shard2.mail is not None
    subscription = mailed.subscribe(two, TWO)
    # The subscription is shard2's: its index row beside the school, none in the directory.
    assert (_rows(shard2, "mail_subscriptions"), _rows(directory, "mail_subscriptions")) == (1, 0)
    assert shard2.mail.delivery.deliver_due().sent == 1
    (confirm,) = mailed.last_to(TWO).links("confirm")
    confirmed = mailed.client.post(confirm)  # the directory and shard1 do not know the token
    assert confirmed.status_code == 200, confirmed.text

    mailed.mark(two, 5)
    mailed.project()
    directory.ledger.clock.set(datetime(2025, 9, 8, 6, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    assert shard2.mail_schedule is not None
    shard2.mail_schedule.tick()  # shard2's schedule: the week is due, planned and delivered
    digest = mailed.last_to(TWO)
    assert "неделя 1 сентября – 7 сентября 2025 г." in digest.message["Subject"]
    assert "Отметки: 5 — Ответ на уроке" in digest.text()  # shard2's read models
    assert shard2.mail.outbox.digest_counts("2025-W36") == {"sent": 1}

    # п. 1.7: the digest's reads of the child are in the directory's access log, under its
    # school; shard2's database has no access log at all.
    reads = AccessLog(directory.ledger.database).entries(subject_id=two.students[0])
    assert {(e.what, e.school_id, e.session_id) for e in reads} == {
        (Access.PERSONAL_DATA, two.school_id, subscription),
        (Access.DIARY, two.school_id, subscription),
    }
    with shard2.ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT to_regclass('access_log')")
        assert cursor.fetchone()[0] is None

    (unsubscribe,) = digest.links("unsubscribe")
    done = mailed.client.post(unsubscribe)
    assert done.status_code == 200 and "Вы отписались" in done.text, done.text
    (mine,) = mailed.client.get("/mail/subscriptions", headers=mailed.headers).json()
    assert (mine["subscription_id"], mine["state"]) == (str(subscription), "cancelled")
    unknown = mailed.client.post("/mail/unsubscribe/" + "x" * 43)
    assert unknown.status_code == 404 and unknown.json()["code"] == "mail.link_invalid"


def _code(message: Received) -> str:
    found = re.search(r"введите код (\d{8})", message.text())
    assert found is not None, message.text()
    return found.group(1)


def test_two_children_on_two_servers_and_ejournal_digest(
    mailed: Mailed, region_urls: tuple[str, dict[str, str]]
) -> None:
    one, two = mailed.one, mailed.two
    first, second = mailed.subscribe(one, ONE), mailed.subscribe(two, TWO)
    for school in (one, two):
        mail = mailed.cell(school).mail
        assert mail is not None and mail.delivery.deliver_due().sent == 1
    # shard2's by the code in the API, routed by the subscription to its server.
    confirmed = mailed.client.post(
        f"/mail/subscriptions/{second}/confirmation",
        headers=mailed.headers,
        json={"code": _code(mailed.last_to(TWO))},
    )
    assert confirmed.status_code == 200, confirmed.text
    # shard1's by the code on the parent's page, which lists both children's subscriptions.
    browser = mailed.client
    form = browser.get("/login")
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text)
    assert csrf is not None
    logged_in = browser.post(
        "/login",
        data={"csrf": csrf.group(1), "login": "parent", "password": PASSWORD},
        follow_redirects=False,
    )
    assert logged_in.status_code == 303, logged_in.text
    page = browser.get("/subscriptions")
    assert page.status_code == 200, page.text
    assert page.text.count("ждёт подтверждения") == 1 and page.text.count("действует") == 1
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf is not None
    by_code = browser.post(
        f"/subscriptions/{first}/confirmation",
        data={"csrf": csrf.group(1), "code": _code(mailed.last_to(ONE))},
        follow_redirects=False,
    )
    assert by_code.status_code == 303, by_code.text
    mine = mailed.client.get("/mail/subscriptions", headers=mailed.headers)
    assert mine.status_code == 200, mine.text
    assert [(s["subscription_id"], s["school_id"], s["state"]) for s in mine.json()] == [
        (str(first), str(one.school_id), "active"),
        (str(second), str(two.school_id), "active"),
    ]

    mailed.mark(one, 4)
    mailed.mark(two, 3)
    mailed.project()
    env = {**region_env(region_urls, "deployment secret"), **mail_environ(mailed.port)}
    sent = CliRunner().invoke(cli, ["digest", "--week", "2025-W36"], env=env)
    assert sent.exit_code == 0, sent.output
    lines = [line for line in sent.output.splitlines() if "2025-W36:" in line]
    assert [line.split(": 2025-W36: ")[0] for line in lines] == ["directory", "shard1", "shard2"]
    assert "0 new digests planned; this run sent 0" in lines[0]
    assert all("1 new digests planned; this run sent 1," in line for line in lines[1:])
    assert "Отметки: 4 — Ответ на уроке" in mailed.last_to(ONE).text()
    assert "Отметки: 3 — Ответ на уроке" in mailed.last_to(TWO).text()
    received = len(mailed.handler.received)
    again = CliRunner().invoke(cli, ["digest", "--week", "2025-W36"], env=env)
    assert again.exit_code == 0, again.output
    assert again.output.count("0 new digests planned; this run sent 0,") == 3
    assert len(mailed.handler.received) == received  # nothing sent twice
    only = CliRunner().invoke(cli, ["digest", "--week", "2025-W36", "--server", "shard2"], env=env)
    assert [line.split(":")[0] for line in only.output.splitlines() if "W36:" in line] == ["shard2"]


def test_a_link_no_server_that_answers_knows_is_unavailable_not_invalid(
    region_urls: tuple[str, dict[str, str]], smtp: tuple[Handler, int]
) -> None:
    # A token may be the down server's: "link invalid" would be a lie to the parent.
    directory_url, shards = region_urls
    down = "postgresql://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1
    settings = Settings(
        database_url=directory_url, servers=(("shard1", shards["shard1"]), ("shard9", down))
    )
    services = serve(settings, environ=mail_environ(smtp[1]), follow=False)
    try:
        services.auth.provision(
            c.handle(
                c.RegisterAccount(actor=SYSTEM_ACTOR, login="parent", person_id=PARENT),
                services.ledger,
            ),
            PASSWORD,
        )
        with TestClient(create_site(services), raise_server_exceptions=False) as client:
            link = client.post("/mail/confirm/" + "x" * 43)
            assert link.status_code == 503, link.text
            assert link.json()["code"] == "service.unavailable"
            login = client.post("/auth/login", json={"login": "parent", "password": PASSWORD})
            token = login.json()["access_token"]
            # The parent's list leaves the server that is down out, and shows the rest.
            mine = client.get("/mail/subscriptions", headers={"Authorization": f"Bearer {token}"})
            assert mine.status_code == 200 and mine.json() == [], mine.text
    finally:
        services.close()


def test_a_school_moves_with_its_parents_mail(
    mailed: Mailed, region_urls: tuple[str, dict[str, str]]
) -> None:
    # The subscription, its outbox and its link tokens go with the school's logs: the link of a
    # message sent from shard2 works after the move, and shard1 plans the school's week.
    two, services = mailed.two, mailed.services
    shard1, shard2 = services.cell("shard1"), services.cell("shard2")
    mailed.subscribe(two, TWO)
    assert shard2.mail is not None and shard2.mail.delivery.deliver_due().sent == 1
    (confirm,) = mailed.last_to(TWO).links("confirm")
    tables = ("mail_subscriptions", "mail_outbox", "mail_attempts", "mail_tokens")
    before = {table: _all(shard2, table) for table in tables}
    env = region_env(region_urls, "deployment secret")
    runner = CliRunner()
    assert runner.invoke(cli, ["keys", "init"], env=env).exit_code == 0
    moved = runner.invoke(cli, ["move-school", str(two.school_id), "--to", "shard1"], env=env)
    assert moved.exit_code == 0, moved.output
    assert services.region is not None
    services.region.placement.forget()  # as every process does within FRESH_SECONDS
    assert [_rows(shard2, table) for table in tables] == [0, 0, 0, 0]
    assert [_rows(shard1, table) for table in tables] == [1, 1, 1, 1]
    # Interrupted after shard1 committed and before shard2 did: run again, nothing doubled.
    with shard2.ledger.database.transaction(write=True) as cursor:
        for table, rows in before.items():
            for row in rows:
                cursor.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", row)
    assert move_mail_state(shard2.ledger.database, shard1.ledger.database, [two.log_id]) == 1
    assert [_rows(shard2, table) for table in tables] == [0, 0, 0, 0]
    assert [_rows(shard1, table) for table in tables] == [1, 1, 1, 1]

    confirmed = mailed.client.post(confirm)  # shard1 knows the token now
    assert confirmed.status_code == 200, confirmed.text
    mailed.mark(replace(two, ledger=shard1.ledger), 5)  # written where it lives now
    mailed.project()
    services.ledger.clock.set(datetime(2025, 9, 8, 6, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    assert shard1.mail_schedule is not None and shard2.mail_schedule is not None
    shard2.mail_schedule.tick()  # the old server has nothing of the school's to plan
    shard1.mail_schedule.tick()
    assert "Отметки: 5 — Ответ на уроке" in mailed.last_to(TWO).text()
    assert shard1.mail is not None and shard1.mail.outbox.digest_counts("2025-W36") == {"sent": 1}
    assert shard2.mail.outbox.digest_counts("2025-W36") == {}
