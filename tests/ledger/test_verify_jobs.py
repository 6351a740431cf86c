"""``ejournal verify --jobs N`` (``ledger.verify_jobs``): N processes verify a generated district
log by log and report exactly what one process reports — the same logs, roots, checkpoints and
п. 4.4 invalidations, the same first failure — on SQLite and on PostgreSQL (I6, I10)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ejournal import commands as c
from ejournal.cli.main import cli
from ejournal.generator import district_plan, generate
from ejournal.integrity.errors import ChainError
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.logs import SYSTEM_LOG
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.verify import verify_ledger
from ejournal.ledger.verify_jobs import verify_ledger_in_processes
from tests.databases import Template, Templates
from tests.ledger.support import Forger

ORIGIN = "jobs.test.ejournal"
SECRET = b"jobs"
runner = CliRunner()


@dataclass(frozen=True)
class District:
    logs: list[str]
    """The logs in the order ``verify`` reports them (system log included)."""
    notes: str
    """Every log's signed checkpoint, as ``export-checkpoints`` writes them."""


def _build(url: str) -> District:
    """Three schools' first week; the head of the second school invalidates a teacher's
    session (п. 4.4); every log signed at its head."""
    clock = ManualClock(datetime(2025, 8, 1, tzinfo=UTC))
    ledger = Ledger(database_url=url, clock=clock)
    try:
        runs, _ = generate(ledger, clock, district_plan(schools=3, seed=5, weeks=1, parallels=1))
        school = runs[1]
        teacher = school.actors[school.spec.classes[0].class_teacher]
        clock.set(clock() + timedelta(days=1))
        c.handle(
            c.InvalidateSession(
                actor=school.actors[school.spec.head],
                session_id=teacher.session_id,
                account_id=teacher.account_id,
                school_id=school.spec.school_id,
                reason="вход с чужого устройства",
            ),
            ledger,
        )
        keys = KeyStore(ledger.database, clock=clock)
        keys.create(ORIGIN, SECRET)
        checkpointer = Checkpointer(
            ledger.database,
            origin=ORIGIN,
            signers=keys.signers(SECRET),
            verifiers=keys.verifiers(),
            clock=clock,
        )
        with ledger.database.transaction(write=False) as cursor:
            cursor.execute(f"SELECT DISTINCT log_id FROM {EVENTS_TABLE} ORDER BY log_id")
            logs = [row[0] for row in cursor.fetchall()]
        notes = []
        for log_id in logs:
            signed = checkpointer.checkpoint(log_id)
            assert signed is not None
            notes.append(signed.note)
        return District(logs, "\n".join(notes))
    finally:
        ledger.close()


@pytest.fixture
def database_template(templates: Templates) -> Template[District]:
    return templates.get("verify-jobs district", _build)


@pytest.fixture
def district(database_url: str, database_template: Template[District]) -> District:
    return database_template.result("sqlite" if database_url.startswith("sqlite") else "postgres")


def _verify(database_url: str, *options: str) -> tuple[int, str]:
    result = runner.invoke(
        cli,
        ["verify", "--database-url", database_url, *options],
        env={"EJOURNAL_ORIGIN": ORIGIN},
    )
    return result.exit_code, result.stdout


def test_two_jobs_report_what_one_reports(
    ledger: Ledger, database_url: str, district: District, tmp_path: Path
) -> None:
    trusted = {"verifiers": KeyStore(ledger.database).verifiers(), "origin": ORIGIN}
    one = verify_ledger(ledger.database, **trusted)
    assert [log.log_id for log in one.logs] == district.logs
    assert len(district.logs) == 4  # the system log and three schools
    assert all(log.checkpoints == 1 for log in one.logs) and one.invalidated
    assert verify_ledger_in_processes(ledger.database, database_url, jobs=2, **trusted) == one

    kept = tmp_path / "checkpoints.txt"
    kept.write_text(district.notes, encoding="utf-8")
    for options in (["--json"], [], ["--json", "--checkpoint", str(kept)]):
        code, single = _verify(database_url, *options)
        assert code == 0, single
        assert _verify(database_url, *options, "--jobs", "2") == (0, single)
    code, text = _verify(database_url, "--json", "--checkpoint", str(kept), "--jobs", "3")
    report = json.loads(text)
    assert report["ok"] is True
    assert [log["log_id"] for log in report["logs"]] == district.logs
    assert len(report["witnessed"]) == 4 and report["invalidation"]["invalid"]


def _forge_chain(database_url: str, log_id: str, index: int) -> None:
    Forger(database_url).execute(
        (
            f"UPDATE {EVENTS_TABLE} SET chain_hash=? WHERE log_id=? AND idx=?",
            (bytes(32), log_id, index),
        )
    )


def test_a_forged_log_is_named_with_its_index(
    ledger: Ledger, database_url: str, district: District
) -> None:
    first, last = district.logs[1], district.logs[-2]
    assert SYSTEM_LOG not in (first, last)
    _forge_chain(database_url, last, 3)
    _forge_chain(database_url, first, 17)
    # One process stops at the first forged log in log order; so must two, whichever they
    # finish first.
    with pytest.raises(ChainError, match="chain hash differs") as raised:
        verify_ledger_in_processes(
            ledger.database,
            database_url,
            jobs=2,
            verifiers=KeyStore(ledger.database).verifiers(),
            origin=ORIGIN,
        )
    assert raised.value.where == f"log {first} index 17"

    code, single = _verify(database_url, "--json")
    assert code == 1
    assert json.loads(single)["where"] == f"log {first} index 17"
    assert _verify(database_url, "--json", "--jobs", "2") == (1, single)
    code, text = _verify(database_url)
    assert code == 1 and text.startswith("FAILED ChainError: log")
    assert _verify(database_url, "--jobs", "2") == (1, text)


@pytest.mark.parametrize("jobs", ["0", "-2"])
def test_jobs_below_one_are_refused(tmp_path: Path, jobs: str) -> None:
    url = f"sqlite:///{tmp_path / 'ejournal.db'}"
    Ledger(database_url=url).close()
    result = runner.invoke(cli, ["verify", "--database-url", url, "--jobs", jobs])
    assert result.exit_code == 2
    assert "Invalid value for '--jobs'" in result.output
    assert "greater than or equal to 1" in result.output


def test_the_function_refuses_jobs_below_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ejournal.db'}"
    ledger = Ledger(database_url=url)
    try:
        with pytest.raises(ValueError, match="jobs must be at least 1, not 0"):
            verify_ledger_in_processes(ledger.database, url, jobs=0)
    finally:
        ledger.close()


def test_a_log_emptied_under_its_checkpoint_is_named_as_by_one_process(
    ledger: Ledger, database_url: str, district: District
) -> None:
    # Its checkpoint remains: the log is checked from the parent, with no entry to stream.
    emptied = district.logs[2]
    Forger(database_url).execute((f"DELETE FROM {EVENTS_TABLE} WHERE log_id=?", (emptied,)))
    code, single = _verify(database_url, "--json")
    assert code == 1
    assert json.loads(single)["where"] == f"log {emptied} index 0"
    assert json.loads(single)["error"] == "MissingEntryError"
    assert _verify(database_url, "--json", "--jobs", "2") == (1, single)
