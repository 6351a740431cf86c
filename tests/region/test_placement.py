"""Schools placed on two servers (issue 24, item 1): each command, projection, read and
verification goes to the school's server; the system log and the placement stay in the
directory; a breach rule recorded once reaches the operations on both servers (п. 4.4)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from ejournal import commands as c
from ejournal.ledger.actor import SYSTEM_ACTOR, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import SchoolYear
from ejournal.ledger.domain.values import DateRange
from ejournal.ledger.errors import LogMovedError
from ejournal.ledger.logs import SYSTEM_LOG
from ejournal.ledger.placement import (
    DIRECTORY,
    PlacementError,
    Region,
    ServerUnavailableError,
    server_ledger,
)
from ejournal.ledger.settings import parse_servers
from ejournal.ledger.verify import verify_ledger
from ejournal.projections.projector import Projector
from ejournal.projections.queries import Queries
from tests.commands.school import YEAR, TestSchool, build_school
from tests.projections.conftest import moscow
from tests.region.conftest import teach_maths_in

ANSWER = "Ответ на уроке"


def build_on(region: Region, server: str, number: int, clock: ManualClock) -> TestSchool:
    """School ``number`` built through the commands on ``server``, and placed there."""
    school = build_school(region.ledger(server), number=number)
    region.placement.place(school.school_id, server, at=int(clock().timestamp() * 1e6))
    return school


def logs_in(ledger: Ledger) -> set[str]:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT DISTINCT log_id FROM stored_events")
        return {row[0] for row in cursor.fetchall()}


def mark(school: TestSchool, ledger: Ledger, lesson: UUID, student: UUID, value: int) -> UUID:
    return c.handle(
        c.RecordMark(
            actor=school.maths,
            lesson_id=lesson,
            student_id=student,
            value=value,
            work_type_id=school.work_types[ANSWER],
        ),
        ledger,
    )


def shown(ledger: Ledger, clock: ManualClock, school: TestSchool, lesson: UUID) -> list[int]:
    page = Queries(ledger.database, clock=clock).class_journal(
        school.class_id, school.subjects["Математика"]
    )
    return [
        m.value
        for student in school.students
        for m in page.cell(student, lesson).marks
        if not m.cancelled
    ]


def test_each_school_lives_on_its_server(region: Region, clock: ManualClock) -> None:
    one = build_on(region, "shard1", 1, clock)
    two = build_on(region, "shard2", 2, clock)
    lesson = one.lesson()
    mark(one, region.for_school(one.school_id), lesson, one.students[0], 5)

    # Saves: the system log (schools, accounts) in the directory, each year's log on its server.
    assert {name: logs_in(region.ledger(name)) for name in region.names} == {
        DIRECTORY: {SYSTEM_LOG},
        "shard1": {one.log_id},
        "shard2": {two.log_id},
    }
    # Routing by school, by log and by a record the request names.
    assert region.for_school(one.school_id) is region.ledger("shard1")
    assert region.for_log(two.log_id) is region.ledger("shard2")
    assert region.for_log(SYSTEM_LOG) is region.directory
    assert region.locate(lesson) == one.log_id
    assert region.locate(two.class_id) == two.log_id
    assert region.locate(one.maths.account_id) == SYSTEM_LOG  # an account, in the directory
    # Projection: each server's read models show its own school, with the directory's names.
    for name in region.names:
        Projector(region.ledger(name)).catch_up()
    assert shown(region.ledger("shard1"), clock, one, lesson) == [5]
    with region.ledger("shard1").database.transaction(write=False) as cursor:
        cursor.execute("SELECT count(*) FROM rm_school")
        assert cursor.fetchone() == (2,)  # both schools' rows, copied from the directory
    # Verification: every server's logs verify; no log is on two servers.
    verified = [
        log.log_id
        for name in region.names
        for log in verify_ledger(
            region.ledger(name).database, directory=region.directory.database
        ).logs
    ]
    assert sorted(verified) == sorted([SYSTEM_LOG, one.log_id, two.log_id])


def test_a_breach_rule_reaches_both_servers(region: Region, clock: ManualClock) -> None:
    # п. 4.4: one teacher works in two schools on two servers; the report recorded once in the
    # directory takes the operations made after its receipt out of the views on both.
    one = build_on(region, "shard1", 1, clock)
    two = build_on(region, "shard2", 2, clock)
    teacher = one.maths
    s1, s2 = region.ledger("shard1"), region.ledger("shard2")
    teach_maths_in(two, teacher, one.person["maths"], region)
    teacher = c.actor_for(s2, teacher.account_id)
    two_as_teacher = TestSchool(**{**two.__dict__, "maths": teacher})
    projectors = {name: Projector(region.ledger(name)) for name in region.names}
    clock.set(moscow(2025, 9, 2, 8, 0))
    lesson1 = one.lesson(on=date(2025, 9, 1), slot=2)
    lesson2 = two_as_teacher.lesson(teacher, on=date(2025, 9, 1), slot=2)
    clock.set(moscow(2025, 9, 2, 9, 0))
    mark(one, s1, lesson1, one.students[0], 5)
    mark(two_as_teacher, s2, lesson2, two.students[0], 4)
    clock.set(moscow(2025, 9, 2, 10, 0))
    mark(one, s1, lesson1, one.students[1], 2)  # after the receipt below: invalid
    mark(two_as_teacher, s2, lesson2, two.students[1], 2)
    for projector in projectors.values():
        projector.catch_up()
    assert shown(s1, clock, one, lesson1) == [5, 2]
    assert shown(s2, clock, two, lesson2) == [4, 2]

    clock.set(moscow(2025, 9, 2, 10, 10))
    report = c.handle(
        c.ReportBreach(
            actor=one.head,
            account_id=teacher.account_id,
            learned_at=moscow(2025, 9, 2, 9, 45),
            received_at=moscow(2025, 9, 2, 9, 50),
        ),
        s1,  # from either server: the report goes to the directory's system log
    )
    assert region.locate(report) == SYSTEM_LOG
    assert logs_in(region.directory) == {SYSTEM_LOG}
    for projector in projectors.values():
        projector.catch_up()
    assert shown(s1, clock, one, lesson1) == [5]
    assert shown(s2, clock, two, lesson2) == [4]
    # The verifier applies the directory's rule on each server: one invalid entry on each.
    for ledger in (s1, s2):
        report_of = verify_ledger(ledger.database, directory=region.directory.database)
        assert len(report_of.invalidated) == 1


def test_servers_are_named_once_with_postgresql_urls() -> None:
    assert parse_servers(" a=postgresql://h/d , b=postgres://h/e ") == {
        "a": "postgresql://h/d",
        "b": "postgres://h/e",
    }
    with pytest.raises(ValueError, match="name=URL"):
        parse_servers("a")
    with pytest.raises(ValueError, match="reserved or given twice"):
        parse_servers("a=postgresql://h/d,a=postgresql://h/e")
    with pytest.raises(ValueError, match="reserved or given twice"):
        parse_servers("directory=postgresql://h/d")
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        parse_servers("a=sqlite:///x.db")


def test_an_unknown_server_is_refused(region: Region) -> None:
    with pytest.raises(PlacementError, match="no server named 'shard9'"):
        region.ledger("shard9")


def test_a_unit_of_work_writes_one_log_on_either_server(region: Region, clock: ManualClock) -> None:
    one = build_on(region, "shard1", 1, clock)
    shard = region.ledger("shard1")
    before = {name: _count(region.ledger(name)) for name in region.names}
    two_logs = "a unit of work writes one log: system, not also school/"
    with pytest.raises(ValueError, match=two_logs), shard.unit_of_work():
        c.handle(c.RegisterAccount(actor=SYSTEM_ACTOR, login="new", person_id=UUID(int=77)), shard)
        one.lesson()
    assert {name: _count(region.ledger(name)) for name in region.names} == before
    # A unit that writes the system log alone saves it in the directory.
    with shard.unit_of_work():
        c.handle(c.RegisterAccount(actor=SYSTEM_ACTOR, login="new", person_id=UUID(int=77)), shard)
    assert _count(region.directory) == before[DIRECTORY] + 1
    assert _count(shard) == before["shard1"]


def _count(ledger: Ledger) -> int:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT count(*) FROM stored_events")
        return int(cursor.fetchone()[0])


def test_a_server_that_cannot_be_reached_is_tried_again_later(region: Region) -> None:
    # Issue 24, item 6: opening it fails (after the connection timeout), and for the next
    # seconds fails at once, without trying again; the directory is not held up.
    tries: list[str] = []

    def open_ledger(url: str, directory: Ledger) -> Ledger:
        tries.append(url)
        return server_ledger(url, directory)

    down = Region(
        region.directory,
        {"down": "postgresql://postgres@127.0.0.1:9/ejournal"},
        open_ledger=open_ledger,
    )
    try:
        for _ in range(2):
            with pytest.raises(ServerUnavailableError, match="server 'down' is unavailable"):
                down.ledger("down")
        assert len(tries) == 1
        assert down.ledger(DIRECTORY) is region.directory
    finally:
        down.close()


def test_a_placed_schools_log_is_written_on_its_server_only(
    region: Region, clock: ManualClock
) -> None:
    # A write that reached the wrong server (a route that missed the school's server, a stale
    # placement) would start a second copy of the school's log there (I1): it is refused.
    one = build_on(region, "shard1", 1, clock)
    before = {name: _count(region.ledger(name)) for name in region.names}
    # Loaded where it lives, saved elsewhere: the save is refused before the database.
    year = region.ledger("shard1").get(SchoolYear.create_id(one.school_id, YEAR), SchoolYear)
    day = DateRange(date(2025, 9, 5), date(2025, 9, 5))
    year.declare_holiday("День здоровья", day, at=clock())
    for wrong in (DIRECTORY, "shard2"):
        moved = f"log {one.log_id} is not written here: it lives on shard1"
        with pytest.raises(LogMovedError, match=moved):
            region.ledger(wrong).record(year, log_id=one.log_id, actor=one.head, role=Role.HEAD)
    assert {name: _count(region.ledger(name)) for name in region.names} == before
    region.ledger("shard1").record(year, log_id=one.log_id, actor=one.head, role=Role.HEAD)
    assert _count(region.ledger("shard1")) == before["shard1"] + 1
