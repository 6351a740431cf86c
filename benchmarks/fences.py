"""The cost of the fence trigger (ledger/fences.py, docs/adr/0017-moving-a-school.md) on saves.

Three PostgreSQL databases, written in turns in short slices (``--slice``) so that the machine's
noise hits all alike, by one client saving ``--per-save`` events at a time through the Ledger:

- ``plain``: no fence was ever taken (no trigger: what every database runs until its first move);
- ``empty``: the trigger installed, no log fenced (a target after its move, a rolled-back move);
- ``fenced``: the trigger installed and ``--fenced`` other logs fenced (a source that schools
  moved away from keeps their fences for good).

Prints each one's events/s and its ratio to ``plain`` of the same run.

    .venv/bin/python benchmarks/fences.py [--seconds 10] [--slice 0.2] [--per-save 1]
        [--fenced 1000] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path

import psycopg
from eventsourcing.domain import Aggregate, event

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ingest import TEACHER
from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.fences import fence_logs, install


class Mark(Aggregate):
    @event("Recorded")
    def __init__(self, student_id: uuid.UUID, value: int) -> None:
        self.value = value


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="saving time per database")
    parser.add_argument("--slice", type=float, default=0.2, help="seconds before switching")
    parser.add_argument("--per-save", type=int, default=1, help="events per save")
    parser.add_argument("--fenced", type=int, default=1000, help="fenced logs in 'fenced'")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    names = {
        kind: f"ejournal_bench_{uuid.uuid4().hex[:8]}" for kind in ("plain", "empty", "fenced")
    }
    base = args.pg.rsplit("/", 1)[0]
    with psycopg.connect(args.pg, autocommit=True) as conn:
        for name in names.values():
            conn.execute(f'CREATE DATABASE "{name}"')
    ledgers = {kind: Ledger(database_url=f"{base}/{name}") for kind, name in names.items()}
    try:
        install(ledgers["empty"].database)
        others = [f"school/{uuid.uuid4()}/2025-2026" for _ in range(args.fenced)]
        fence_logs(ledgers["fenced"].database, others, lives_on="elsewhere")
        totals = {kind: [0, 0.0] for kind in ledgers}
        for _ in range(max(1, round(args.seconds / args.slice))):
            for kind, ledger in ledgers.items():
                saved, start = 0, time.perf_counter()
                while time.perf_counter() < start + args.slice:
                    marks = [Mark(uuid.uuid4(), 5) for _ in range(args.per_save)]
                    ledger.record(*marks, log_id="school/bench", actor=TEACHER, role=Role.TEACHER)
                    saved += args.per_save
                totals[kind][0] += saved
                totals[kind][1] += time.perf_counter() - start
        rates = {kind: events / seconds for kind, (events, seconds) in totals.items()}
        print(f"{args.per_save} event(s)/save, one client, {args.seconds:.0f} s each")
        for kind, rate in rates.items():
            print(f"  {kind:7} {rate:8.0f} events/s   ratio to plain {rate / rates['plain']:.3f}")
    finally:
        for ledger in ledgers.values():
            ledger.close()
        with psycopg.connect(args.pg, autocommit=True) as conn:
            for name in names.values():
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
