"""The demo school and its week run through the commands, on both databases."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from ejournal.generator.demo import run_demo
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import SchoolYear
from tests.commands.school import count_events, entries


def test_the_demo_runs(ledger: Ledger, clock: ManualClock):
    summary = run_demo(ledger, clock)
    assert summary.events == count_events(ledger)
    assert summary.students == 50
    assert summary.lessons == 63
    assert summary.marks > 150
    assert summary.homework > 40
    # About 7 % of students are not simply present.
    seats = 47 * 25 + 16 * 13
    assert 0.03 < summary.attendance_codes / seats < 0.12
    year: SchoolYear = ledger.get(summary.year_id, SchoolYear)
    assert year.school_id == summary.school_id
    log = entries(ledger, summary.log_id)
    assert [idx for idx, _, _ in log] == list(range(len(log)))
    assert len(log) + len(entries(ledger, "system")) == summary.events
    times = [recorded_at for _, recorded_at, _ in log]
    assert times == sorted(times)
    assert {role for _, _, role in log} == {"head", "deputy", "teacher"}


def test_the_demo_is_deterministic(tmp_path: Path):
    # Everything follows from the seed: two runs write the same records, byte for byte.
    digests = []
    for name in ("first", "second"):
        clock = ManualClock(datetime(2025, 9, 1, tzinfo=UTC))
        ledger = Ledger(database_url=f"sqlite:///{tmp_path / name}.db", clock=clock)
        try:
            summary = run_demo(ledger, clock)
            digest = hashlib.sha256()
            for row in ledger.database.stream(
                "SELECT originator_id, originator_version, topic, state FROM stored_events "
                "ORDER BY originator_id, originator_version"
            ):
                digest.update(
                    repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)).encode()
                )
            digests.append((summary, digest.hexdigest()))
        finally:
            ledger.close()
    assert digests[0] == digests[1]
