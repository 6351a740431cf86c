"""The district generator over a region in one process (issue 24): the schools placed on the
directory and the two servers in turn, each school's log written on its server, the system log
in the directory only. The region benchmark's smoke run (tests/test_region_benchmark.py) writes
a district in two processes and compares it, log for log, with the same district on one server."""

from __future__ import annotations

from datetime import UTC, datetime

from ejournal.cli.common import log_ids
from ejournal.generator import district_plan, generate
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.logs import SYSTEM_LOG
from ejournal.ledger.placement import DIRECTORY, Region, school_of_log
from tests.generator.test_generator import SEED

PLAN = district_plan(schools=3, seed=SEED, weeks=1, parallels=1)


def test_the_district_over_three_servers_in_one_process(
    region_urls: tuple[str, dict[str, str]],
) -> None:
    directory_url, servers = region_urls
    clock = ManualClock(datetime(2025, 8, 1, tzinfo=UTC))
    directory = Ledger(database_url=directory_url, clock=clock)
    region = Region(directory, servers)
    try:
        generate(directory, clock, PLAN, region=region)
        placed = region.placement.all()
        assert [placed.get(s.school_id, DIRECTORY) for s in PLAN.schools] == region.names
        for name, school in zip(region.names, PLAN.schools, strict=True):
            logs = log_ids(region.ledger(name))
            assert {school_of_log(log) for log in logs if log != SYSTEM_LOG} == {school.school_id}
            assert (SYSTEM_LOG in logs) == (name == DIRECTORY)
    finally:
        region.close()
        directory.close()
