"""``benchmarks/district.py``: its anchors are rates the table can print, and its two databases
are dropped however a run ends (a stage that fails, an interrupted run)."""

from __future__ import annotations

import multiprocessing
import sys
import uuid
from typing import Any

import psycopg
import pytest

from benchmarks import district, ingest
from tests.conftest import PG_ADMIN_URL, create_pg_database, drop_pg_database


def _databases() -> set[str]:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database").fetchall()}


def test_the_ingest_anchor_is_a_rate_the_table_prints(
    pg_available: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The table crashed (TypeError: unsupported format string passed to tuple.__format__):
    # run_for gives (events, seconds), which the anchor passed on as its "rate".
    real = ingest.run_for
    monkeypatch.setattr(ingest, "run_for", lambda save, per_save, seconds: real(save, 100, 0.2))
    url = create_pg_database()
    try:
        queue: Any = multiprocessing.get_context("spawn").Queue()
        district.anchor_ingest(url, queue)
        anchor = queue.get(timeout=10)
    finally:
        drop_pg_database(url)
    assert isinstance(anchor["bare"], float) and anchor["bare"] > 0
    assert isinstance(anchor["record"], float) and anchor["record"] > 0
    stage = {"seconds": 2.0, "events": 1000, "peak_mib": 100.0}
    lines = district.table(
        {"generate": stage, "project": stage, "checkpoint": stage, "verify": stage},
        anchor,
        {"rate": 5000.0},
        {"entries": 1000, "seconds": 0.01},
    )
    assert lines[0].startswith("stage") and lines[1].startswith("generate")
    assert len(lines) == 6 and "ev/s" in lines[-1]


def test_a_failed_run_drops_both_databases(
    pg_available: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stage that failed left the district's database and the anchors' behind.
    name = f"ejournal_district_test_{uuid.uuid4().hex[:8]}"

    def failing_stage(target: Any, *args: Any) -> dict[str, Any]:
        assert {name, f"{name}_anchor"} <= _databases()  # both were created
        raise RuntimeError(f"{target.__name__} ended with exit code 1")

    monkeypatch.setattr(district, "in_child", failing_stage)
    monkeypatch.setattr(
        sys, "argv", ["district.py", "--schools", "1", "--weeks", "1", "--database", name]
    )
    try:
        with pytest.raises(RuntimeError, match="exit code 1"):
            district.main()
        assert {name, f"{name}_anchor"}.isdisjoint(_databases())
    finally:
        for leftover in (name, f"{name}_anchor"):
            drop_pg_database(PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + leftover)


def test_a_stage_whose_process_dies_is_reported_not_waited_for() -> None:
    with pytest.raises(district.StageFailed, match="exit code 3"):
        district.in_child(_exit_3)


def _exit_3(queue: Any) -> None:
    sys.exit(3)
