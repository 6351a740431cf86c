"""The district generator over a region (issue 24, benchmarks/region.py): the schools placed on
the directory and two servers in turn, each school's log written on its server, log for log the
district one server holds, in two processes (the region benchmark's smoke run,
tests/test_region_benchmark.py, compares one process's)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ejournal.generator import district_plan, generate
from ejournal.generator.jobs import generate_in_processes
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.logs import SYSTEM_LOG
from ejournal.ledger.placement import DIRECTORY, Region
from tests.databases import create_pg_database, drop_pg_database
from tests.generator.test_generator import SEED, _roots

PLAN = district_plan(schools=3, seed=SEED, weeks=1, parallels=1)
START = datetime(2025, 8, 1, tzinfo=UTC)


def _roots_of(ledger: Ledger) -> dict[str, bytes]:
    return _roots(ledger, ManualClock(datetime(2026, 8, 1, tzinfo=UTC)))


@pytest.fixture(scope="module")
def one_server() -> dict[str, bytes]:
    """The roots of ``PLAN`` on one server."""
    url = create_pg_database()
    try:
        clock = ManualClock(START)
        ledger = Ledger(database_url=url, clock=clock)
        try:
            generate(ledger, clock, PLAN)
            return _roots_of(ledger)
        finally:
            ledger.close()
    finally:
        drop_pg_database(url)


def test_the_district_over_three_servers_in_two_processes(
    region_urls: tuple[str, dict[str, str]], one_server: dict[str, bytes]
) -> None:
    directory_url, servers = region_urls
    clock = ManualClock(START)
    directory = Ledger(database_url=directory_url, clock=clock)
    region = Region(directory, servers)
    try:
        generate_in_processes(directory, clock, directory_url, PLAN, jobs=2, region=region)
        placed = region.placement.all()
        assert [placed.get(s.school_id, DIRECTORY) for s in PLAN.schools] == region.names
        roots: dict[str, bytes] = {}
        for name in region.names:
            found = _roots_of(region.ledger(name))
            school = PLAN.schools[region.names.index(name)]
            expected = {SYSTEM_LOG} if name == DIRECTORY else set()
            assert {log.split("/")[1] for log in found if log != SYSTEM_LOG} == {
                str(school.school_id)
            }
            assert {log for log in found if log == SYSTEM_LOG} == expected
            roots.update(found)
        assert roots == one_server
    finally:
        region.close()
        directory.close()
