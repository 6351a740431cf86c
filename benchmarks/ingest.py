"""Ingest throughput: ejournal's chained recorders against bare eventsourcing, in one run.

For each database (SQLite file, PostgreSQL) and batch shape (1 event per save, 100 events per save)
the same events are saved by a bare eventsourcing Application (stock recorder and transcoder) and by
ejournal's Ledger (log entry, leaf and chain hash in the same transaction, orjson). The two take
turns in short slices (0.2 s), so that the machine's noise (fsync latency above all) hits both
alike; the events and time of all slices are summed per side, and the ratio ejournal / bare of
the two rates is printed. Target: ratio >= 0.9 in every row.

    .venv/bin/python benchmarks/ingest.py [--seconds 10] [--slice 0.2] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ejournal.ledger.actor import Actor, Grant, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.config import persistence_env

TEACHER = Actor(
    account_id=uuid.uuid4(),
    grants=frozenset({Grant(Role.TEACHER)}),
    credential_version=1,
    session_id=uuid.uuid4(),
)


class Mark(Aggregate):
    """A mark as the journal records it: student, value, work type, weight."""

    @event("Recorded")
    def __init__(
        self, lesson_id: uuid.UUID, student_id: uuid.UUID, value: int, work_type: str, weight: int
    ) -> None:
        self.value = value


def new_marks(count: int) -> list[Mark]:
    lesson = uuid.uuid4()
    return [Mark(lesson, uuid.uuid4(), 5, "answer", 1) for _ in range(count)]


def stock_env(database_url: str) -> dict[str, str]:
    env = persistence_env(database_url)
    del env["APPLICATION_RECORDER_TOPIC"]
    if "SQLITE_DBNAME" in env:
        env["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"  # the library's own factory
    return env


def run_for(
    save: Callable[[list[Mark]], object], per_save: int, seconds: float
) -> tuple[int, float]:
    """Save batches of ``per_save`` events for about ``seconds``: (events saved, seconds taken)."""
    saved = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        save(new_marks(per_save))
        saved += per_save
    return saved, time.perf_counter() - start


def fresh_databases(kind: str, pg_admin: str) -> tuple[str, str, Callable[[], None]]:
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="ejournal-bench-")
        return f"sqlite:///{folder}/bare.db", f"sqlite:///{folder}/ejournal.db", lambda: None
    names = [f"ejournal_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(pg_admin, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    base = pg_admin.rsplit("/", 1)[0]
    return f"{base}/{names[0]}", f"{base}/{names[1]}", drop


def bench(
    kind: str, per_save: int, *, seconds: float, slice_seconds: float, pg_admin: str
) -> tuple[float, float]:
    """(bare ev/s, ejournal ev/s), each over ``seconds`` of saving in alternating slices."""
    bare_url, ours_url, drop = fresh_databases(kind, pg_admin)
    bare = Application(env=stock_env(bare_url))
    ours = Ledger(database_url=ours_url)

    def save_bare(batch: list[Mark]) -> None:
        bare.save(*batch)

    def save_ours(batch: list[Mark]) -> None:
        ours.record(*batch, log_id="bench", actor=TEACHER, role=Role.TEACHER)

    try:
        totals = {save_bare: [0, 0.0], save_ours: [0, 0.0]}
        for _ in range(max(1, round(seconds / slice_seconds))):
            for save, total in totals.items():
                events, taken = run_for(save, per_save, slice_seconds)
                total[0] += events
                total[1] += taken
        (bare_events, bare_time), (ours_events, ours_time) = totals.values()
        return bare_events / bare_time, ours_events / ours_time
    finally:
        bare.close()
        ours.close()
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="saving time per side")
    parser.add_argument("--slice", type=float, default=0.2, help="seconds before switching side")
    parser.add_argument(
        "--pg",
        default=os.environ.get("EJOURNAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    print(
        f"{'database':<10} {'events/save':>11} {'bare ev/s':>10} {'ejournal ev/s':>14} {'ratio':>6}"
    )
    for kind in ("sqlite", "postgres"):
        for per_save in (1, 100):
            bare, ours = bench(
                kind, per_save, seconds=args.seconds, slice_seconds=args.slice, pg_admin=args.pg
            )
            print(
                f"{kind:<10} {per_save:>11} {bare:>10,.0f} {ours:>14,.0f} {ours / bare:>6.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
