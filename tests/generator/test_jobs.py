"""``ejournal generate --jobs N`` (``generator.jobs``): schools written by N processes give the
same district, log for log, as one process, also when the run is stopped and started again."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ejournal.cli.main import cli
from ejournal.commands.errors import NotAllowed, refuse
from ejournal.generator import Counts, Plan, district_plan, generate
from ejournal.generator.jobs import generate_in_processes, shares
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from tests.conftest import create_pg_database, drop_pg_database
from tests.generator.test_generator import SEED, Stop, _roots

PLAN = district_plan(schools=3, seed=SEED, weeks=1, parallels=1)


def _in_processes(url: str, plan: Plan, *, jobs: int, stop_after: int | None = None) -> Counts:
    clock = ManualClock(datetime(2025, 8, 1, tzinfo=UTC))
    ledger = Ledger(database_url=url, clock=clock)
    try:
        if stop_after is not None:

            def stop(what: str, counts: Counts) -> None:
                if counts.units >= stop_after:
                    raise Stop(what)

            with pytest.raises(Stop):  # the processes are stopped with it, mid-unit or not
                generate_in_processes(ledger, clock, url, plan, jobs=jobs, progress=stop)
        return generate_in_processes(ledger, clock, url, plan, jobs=jobs)
    finally:
        ledger.close()


def _signed_roots(url: str) -> dict[str, bytes]:
    clock = ManualClock(datetime(2026, 8, 1, tzinfo=UTC))
    ledger = Ledger(database_url=url, clock=clock)
    try:
        return _roots(ledger, clock)
    finally:
        ledger.close()


@pytest.fixture
def whole(database_url: str) -> dict[str, bytes]:
    """The roots of ``PLAN`` written by one process."""
    clock = ManualClock(datetime(2025, 8, 1, tzinfo=UTC))
    ledger = Ledger(database_url=database_url, clock=clock)
    try:
        generate(ledger, clock, PLAN)
    finally:
        ledger.close()
    return _signed_roots(database_url)


@pytest.fixture
def other_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second fresh database on the backend of ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'other.db'}"
        return
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


def test_two_processes_write_the_district_one_writes(
    whole: dict[str, bytes], other_url: str
) -> None:
    counts = _in_processes(other_url, PLAN, jobs=2)
    assert counts.units == PLAN.units() and counts.skipped_units == 0
    assert len(whole) == 4  # the system log and three schools' years
    assert _signed_roots(other_url) == whole


def test_a_stopped_run_in_processes_resumes_to_the_same_district(
    whole: dict[str, bytes], other_url: str
) -> None:
    # Stopped after the accounts and two more units, its processes killed wherever they were:
    # what they wrote is whole units, and the next run writes the rest.
    counts = _in_processes(other_url, PLAN, jobs=2, stop_after=5)
    assert counts.skipped_units >= 5
    assert counts.units + counts.skipped_units == PLAN.units()
    assert _signed_roots(other_url) == whole


def test_shares_hold_every_school_once_with_about_as_many_pupils() -> None:
    schools = district_plan(schools=9, seed=SEED).schools
    two = shares(schools, 2)
    assert sorted(s.number for share in two for s in share) == list(range(1, 10))
    assert all([s.number for s in share] == sorted(s.number for s in share) for share in two)
    loads = sorted(sum(s.students for s in share) for share in two)
    assert loads[1] - loads[0] <= max(s.students for s in schools)
    assert [len(share) for share in shares(schools[:2], 5)] == [1, 1]


def test_jobs_below_one_are_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    clock = ManualClock(datetime(2025, 8, 1, tzinfo=UTC))
    ledger = Ledger(database_url=url, clock=clock)
    try:
        with pytest.raises(ValueError, match="jobs must be at least 1, not 0"):
            generate_in_processes(ledger, clock, url, PLAN, jobs=0)
    finally:
        ledger.close()
    result = CliRunner().invoke(cli, ["generate", "--database-url", url, "--jobs", "-1"])
    assert result.exit_code == 2
    assert "Invalid value for '--jobs'" in result.output


def test_a_refusal_reaches_the_parent_whole() -> None:
    # A command refused in a process of the generator is raised again in the parent.
    error = refuse("account.locked")
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, NotAllowed)
    assert (copy.code, copy.message, copy.clause) == ("account.locked", error.message, "п. 4.4")
