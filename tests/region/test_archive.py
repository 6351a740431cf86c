"""A closed school year moved apart from its school, to an archive server (ADR 0020): its log
alone is copied under the fence, its roots are equal at a signed checkpoint, and from then on its
saves, records and reads go to the archive while the school's current year stays where it was;
the log's copy left behind is reported once, by the server the log lives on."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from ejournal import commands as c
from ejournal.api.bootstrap import Services, bootstrap
from ejournal.api.deps import route
from ejournal.cli.main import cli
from ejournal.identity.vault import VAULT_KEY_VARIABLE, new_key
from ejournal.ledger.actor import SYSTEM_ACTOR, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import Account, SchoolYear
from ejournal.ledger.domain.values import DateRange, PeriodScheme
from ejournal.ledger.errors import LogMovedError
from ejournal.ledger.fences import fences
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.logs import SYSTEM_LOG, school_log_id, school_year_of
from ejournal.ledger.placement import PlacementError, Region
from ejournal.ledger.settings import Settings
from ejournal.projections.projector import Projector
from ejournal.web.site import create_site
from tests.api.conftest import PASSWORD, QUICK_HASHING
from tests.commands.school import BELLS, TestSchool, build_school, uid
from tests.projections.conftest import moscow
from tests.region.conftest import region_env, school_built_on

SECRET = b"deployment secret"
EARLIER = 2024
LATER = 2025
MOSCOW = ZoneInfo("Europe/Moscow")


@dataclass
class EarlierYear:
    """The school's 2024/2025 year: 4«А» with the school's pupils, maths, one lesson."""

    log_id: str
    class_id: UUID
    subject_id: UUID
    lesson_id: UUID


def open_earlier_year(school: TestSchool, ledger: Ledger) -> EarlierYear:
    """The year before the test school's, set up and taught on ``ledger`` (the clock in it)."""
    head, year = school.head, {"school_id": school.school_id, "year_start": EARLIER}
    first_day = date(EARLIER, 9, 2)

    def run(command: c.Command[object]) -> object:
        return c.handle(command, ledger)

    run(c.OpenSchoolYear(actor=head, **year))
    quarter = c.PeriodSpec("I четверть", first_day, date(EARLIER, 10, 27))
    run(c.DefinePeriods(actor=head, **year, scheme=PeriodScheme.QUARTERS, periods=(quarter,)))
    subject = run(c.AddSubject(actor=head, **year, name="Математика", subject_id=uid(60_200)))
    assert isinstance(subject, UUID)
    run(
        c.DefineWorkType(
            actor=head,
            **year,
            name="Ответ на уроке",
            weight=1,
            written=False,
            work_type_id=uid(60_300),
        )
    )
    run(c.DefineBellSchedule(actor=head, **year, slots=BELLS))
    class_id = run(
        c.OpenClass(actor=head, **year, grade=4, letter="А", period_scheme=PeriodScheme.QUARTERS)
    )
    assert isinstance(class_id, UUID)
    for student in school.students:
        run(c.EnrolStudent(actor=head, class_id=class_id, student_id=student, on=first_day))
    run(
        c.AssignTeacher(
            actor=head,
            roster_id=class_id,
            subject_id=subject,
            teacher_id=school.person["maths"],
            on=first_day,
        )
    )
    lesson = run(
        c.ScheduleLesson(
            actor=school.maths, roster_id=class_id, subject_id=subject, on=first_day, slot=1
        )
    )
    assert isinstance(lesson, UUID)
    run(
        c.RecordMark(
            actor=school.maths,
            lesson_id=lesson,
            student_id=school.students[0],
            value=5,
            work_type_id=uid(60_300),
        )
    )
    return EarlierYear(school_log_id(school.school_id, EARLIER), class_id, subject, lesson)


@dataclass
class TwoYears:
    services: Services
    region: Region
    clock: ManualClock
    school: TestSchool
    earlier: EarlierYear
    later_lesson: UUID
    keys: KeyStore

    def checkpointer(self, ledger: Ledger) -> Checkpointer:
        return Checkpointer(
            ledger.database,
            origin=self.services.settings.origin,
            signers=self.keys.signers(SECRET),
            verifiers=self.keys.verifiers(),
            clock=self.clock,
        )

    def move_year(self, year_start: int, server: str) -> list[str]:
        moved = self.region.move_year(
            self.school.school_id,
            year_start,
            server,
            checkpointer=self.checkpointer,
            verifiers=self.keys.verifiers(),
        )
        return [log.log_id for log in moved]


@pytest.fixture
def two_years(region_urls: tuple[str, dict[str, str]]) -> Iterator[TwoYears]:
    """A school on shard1 that kept the journal in 2024/2025 (the clock then) and keeps it in
    2025/2026 (the clock now: 2 September 2025); the services of the region, projecting when
    the test says."""
    directory_url, shards = region_urls
    clock = ManualClock(moscow(EARLIER, 9, 2, 10))
    services = bootstrap(
        Settings(database_url=directory_url, servers=tuple(shards.items())),
        clock=clock,
        environ={VAULT_KEY_VARIABLE: new_key()},
        hashing=QUICK_HASHING,
        follow=False,
    )
    try:
        region = services.region
        assert region is not None
        school = build_school(region.ledger("shard1"))
        region.place(school.school_id, "shard1")
        earlier = open_earlier_year(school, region.ledger("shard1"))
        clock.set(moscow(LATER, 9, 2, 10))
        later_lesson = school.lesson()
        keys = KeyStore(services.ledger.database, clock=clock)
        keys.create(services.settings.origin, SECRET)
        yield TwoYears(services, region, clock, school, earlier, later_lesson, keys)
    finally:
        services.close()


def _mark(two: TwoYears, lesson: UUID, student: int, value: int) -> None:
    c.handle(
        c.RecordMark(
            actor=two.school.maths,
            lesson_id=lesson,
            student_id=two.school.students[student],
            value=value,
            work_type_id=two.school.work_types["Ответ на уроке"],
        ),
        two.services.locating(lesson).ledger,
    )


def _auditor(services: Services) -> None:
    auditor = c.handle(
        c.RegisterAccount(actor=SYSTEM_ACTOR, login="auditor", person_id=uid(5003)),
        services.ledger,
    )
    c.handle(
        c.GrantRole(actor=SYSTEM_ACTOR, account_id=auditor, role=Role.AUDITOR, school_id=None),
        services.ledger,
    )
    for account in (auditor, Account.create_id(login="maths")):
        services.auth.provision(account, PASSWORD)


def _login(client: TestClient, login: str) -> dict[str, str]:
    response = client.post("/auth/login", json={"login": login, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _listed(client: TestClient, auditor: dict[str, str]) -> list[tuple[str, int]]:
    """The logs of ``GET /ledger/logs`` and their sizes, as the auditor sees them."""
    logs = client.get("/ledger/logs", headers=auditor)
    assert logs.status_code == 200, logs.text
    return [(log["log_id"], log["size"]) for log in logs.json()]


def _size(ledger: Ledger, log_id: str) -> int:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT count(*) FROM stored_events WHERE log_id = ?", (log_id,))
        return int(cursor.fetchone()[0])


def test_a_closed_year_moves_to_an_archive_server(two_years: TwoYears) -> None:
    two, services, region = two_years, two_years.services, two_years.region
    school, earlier = two.school, two.earlier
    s = school.school_id
    shard1, shard2 = region.ledger("shard1"), region.ledger("shard2")
    _mark(two, two.later_lesson, 0, 4)

    # The current year is not over until 31 August 2026: refused, nothing changed.
    with pytest.raises(PlacementError, match=r"school year 2025/2026 .* is not over: it ends on"):
        two.move_year(LATER, "shard2")
    assert region.placement.logs() == {} and fences(shard2.database) == {}

    # The closed year moves alone; its roots are equal at the checkpoint signed at its fence.
    assert two.move_year(EARLIER, "shard2") == [earlier.log_id]
    signed = [two.checkpointer(ledger).latest(earlier.log_id) for ledger in (shard1, shard2)]
    assert signed[0] is not None and signed[1] is not None
    assert (signed[1].size, signed[1].root_hash) == (signed[0].size, signed[0].root_hash)
    assert region.placement.server_of(s) == "shard1"
    assert region.placement.logs() == {earlier.log_id: "shard2"}

    # Routing: the year's records, and the school with that year, go to the archive; the
    # school alone and its current year stay on shard1.
    assert services.locating(earlier.class_id).server == "shard2"
    assert services.locating(earlier.lesson_id).server == "shard2"
    assert services.locating(two.later_lesson).server == "shard1"
    assert route(services, {"school_id": str(s), "year_start": str(EARLIER)}).server == "shard2"
    assert route(services, {"school_id": str(s)}, {"year_start": str(LATER)}).server == "shard1"
    assert route(services, {"school_id": str(s)}).server == "shard1"
    assert route(services, {"log_id": earlier.log_id}).server == "shard2"

    # The current year still writes on shard1; a save of the closed year there is refused, and
    # one that reaches the archive is kept there.
    _mark(two, two.later_lesson, 1, 3)
    year = shard1.get(SchoolYear.create_id(s, EARLIER), SchoolYear)
    year.declare_holiday(
        "День архива", DateRange(date(2025, 5, 5), date(2025, 5, 5)), at=two.clock()
    )
    with pytest.raises(
        LogMovedError, match=f"log {earlier.log_id} is not written here: it lives on shard2"
    ):
        shard1.record(year, log_id=earlier.log_id, actor=school.head, role=Role.HEAD)
    shard2.record(year, log_id=earlier.log_id, actor=school.head, role=Role.HEAD)
    size = _size(shard2, earlier.log_id)
    assert _size(shard1, earlier.log_id) == size - 1

    # Each server projects what it holds: the archive shows the closed year's class journal.
    for cell in services.cells():
        Projector(cell.ledger).catch_up()
    _auditor(services)
    with TestClient(create_site(services), raise_server_exceptions=False) as client:
        maths = _login(client, "maths")
        journal = client.get(f"/journal/{earlier.class_id}/{earlier.subject_id}", headers=maths)
        assert journal.status_code == 200, journal.text
        marks = [
            m["value"]
            for row in journal.json()["rows"]
            for cell in row["cells"]
            for m in cell["marks"]
        ]
        assert marks == [5]
        current = client.get(
            f"/journal/{school.class_id}/{school.subjects['Математика']}", headers=maths
        )
        assert current.status_code == 200, current.text
        # The auditor sees each log once, where it lives, whichever server keeps a copy.
        auditor = _login(client, "auditor")
        later_log = school.log_id
        assert _listed(client, auditor) == [
            (earlier.log_id, size),
            (later_log, _size(shard1, later_log)),
            (SYSTEM_LOG, _size(services.ledger, SYSTEM_LOG)),
        ]
        checkpoints = client.get("/ledger/checkpoints", headers=auditor).json()
        assert [(cp["log_id"], cp["size"]) for cp in checkpoints] == [
            (earlier.log_id, signed[0].size)
        ]
        verified = client.get("/ledger/verification", headers=auditor).json()
        assert verified["ok"] is True, verified
        assert [log["log_id"] for log in verified["logs"]] == [
            earlier.log_id,
            later_log,
            SYSTEM_LOG,
        ]

        # The school moves to shard2 without its closed year (placed apart: it stays put), and
        # the closed year moves again, back beside the copy on shard1, which is continued.
        moved = region.move(
            s, "shard2", checkpointer=two.checkpointer, verifiers=two.keys.verifiers()
        )
        assert [log.log_id for log in moved] == [later_log]
        assert two.move_year(EARLIER, "shard1") == [earlier.log_id]
        assert region.placement.server_of(s) == "shard2"
        assert region.placement.logs() == {earlier.log_id: "shard1"}
        assert services.locating(earlier.class_id).server == "shard1"
        assert services.locating(two.later_lesson).server == "shard2"
        assert [log_id for log_id, _ in _listed(client, auditor)] == [
            earlier.log_id,
            later_log,
            SYSTEM_LOG,
        ]
    assert _size(shard1, earlier.log_id) == size


def test_move_a_closed_year_from_the_command_line(
    region_urls: tuple[str, dict[str, str]], clock: ManualClock
) -> None:
    # The commands read the real clock: the test school's year (2025/2026) is over, the school
    # year of today is not.
    env = region_env(region_urls, SECRET.decode())
    school = school_built_on(region_urls, clock, "shard1", place=True)
    runner = CliRunner()
    assert runner.invoke(cli, ["keys", "init"], env=env).exit_code == 0
    s = str(school.school_id)
    today = school_year_of(datetime.now(MOSCOW).date())
    refused = runner.invoke(
        cli, ["move-school", s, "--year", str(today), "--to", "shard2"], env=env
    )
    assert refused.exit_code == 1
    assert f"school year {today}/{today + 1} of school {s} is not over" in refused.output

    moved = runner.invoke(cli, ["move-school", s, "--year", "2025", "--to", "shard2"], env=env)
    assert moved.exit_code == 0, moved.output
    assert f"{school.log_id}: " in moved.output and "equal on shard2" in moved.output
    assert f"school year 2025/2026 of school {s} is on shard2" in moved.output
    again = runner.invoke(cli, ["move-school", s, "--year", "2025", "--to", "shard2"], env=env)
    assert again.exit_code == 1
    assert f"log {school.log_id} is on 'shard2' already" in again.output

    listed = runner.invoke(cli, ["servers"], env=env)
    assert listed.exit_code == 0, listed.output
    assert school.log_id in listed.output
    # Verified on every server, each log reported once: the copy left on shard1 apart.
    verified = runner.invoke(cli, ["verify", "--json"], env=env)
    assert verified.exit_code == 0, verified.output
    reports = {r["server"]: r for r in map(json.loads, verified.output.splitlines())}
    assert {name: [log["log_id"] for log in r["logs"]] for name, r in reports.items()} == {
        "directory": [SYSTEM_LOG],
        "shard1": [],
        "shard2": [school.log_id],
    }
    assert [(copy["log_id"], copy["lives_on"]) for copy in reports["shard1"]["copies"]] == [
        (school.log_id, "shard2")
    ]
