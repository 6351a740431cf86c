"""Ingest throughput: ejournal's chained recorders against bare eventsourcing, in one run.

For each database (SQLite file, PostgreSQL) and batch shape (1 event per save, 100 events per save)
the same events are saved by a bare eventsourcing Application (stock recorder and transcoder) and by
ejournal's Ledger (log entry, leaf and chain hash in the same transaction, orjson). The two take
turns in short slices (0.2 s), so that the machine's noise (fsync latency above all) hits both
alike; the events and time of all slices are summed per side, and the ratio ejournal / bare of
the two rates is printed. Target: ratio >= 0.9 in every row.

Then, PostgreSQL with many clients at once (``--clients``, default 16; each a process of its own,
as server workers are): one-event saves through the Ledger, each client for a school (a log) of its
own, and all clients into one log, against raw psycopg one-row transactions (autocommit INSERTs
into a table of an ID, a school and a payload) from as many clients. The three take turns in
rounds of ``--client-seconds``. Target: own logs >= 0.5 x raw
(docs/adr/0015-per-log-write-locks.md); the one log's row shows that its writers queue, and still
all write.

    .venv/bin/python benchmarks/ingest.py [--seconds 10] [--slice 0.2] [--clients 16]
        [--client-seconds 3] [--rounds 2] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import multiprocessing
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


RAW_TABLE = "CREATE TABLE raw_rows (id bigserial PRIMARY KEY, school integer, payload bytea)"
RAW_INSERT = "INSERT INTO raw_rows (school, payload) VALUES (%s, %s)"
RAW_PAYLOAD = os.urandom(200)  # about a mark event's stored state


def _client(kind: str, url: str, client: int, start: float, seconds: float) -> tuple[int, float]:
    """One client's saves between ``start`` and ``start + seconds`` (wall clock): how many, and
    the CPU seconds the client spent on them."""
    ledger = Ledger(database_url=url) if kind != "raw" else None
    conn = psycopg.connect(url, autocommit=True) if kind == "raw" else None
    log_id = f"school/{client}" if kind == "own logs" else "school/all"
    saved = 0
    try:
        time.sleep(max(0.0, start - time.time()))
        cpu = time.process_time()
        while time.time() < start + seconds:
            if conn is not None:
                conn.execute(RAW_INSERT, (client, RAW_PAYLOAD))
            elif ledger is not None:
                ledger.record(*new_marks(1), log_id=log_id, actor=TEACHER, role=Role.TEACHER)
            saved += 1
        cpu = time.process_time() - cpu
    finally:
        if ledger is not None:
            ledger.close()
        if conn is not None:
            conn.close()
    return saved, cpu


def bench_clients(
    clients: int, *, seconds: float, rounds: int, pg_admin: str
) -> dict[str, tuple[float, float]]:
    """(events/s, client CPU ms per event) of ``clients`` processes saving one event at a time,
    per kind: raw psycopg rows, the Ledger with a log per client, the Ledger with one log for
    all. The CPU shows what bounds a row on a machine with fewer cores than clients."""
    raw_url, ours_url, drop = fresh_databases("postgres", pg_admin)
    kinds = {"raw": raw_url, "own logs": ours_url, "one log": ours_url}
    events, cpu = dict.fromkeys(kinds, 0), dict.fromkeys(kinds, 0.0)
    try:
        with psycopg.connect(raw_url, autocommit=True) as conn:
            conn.execute(RAW_TABLE)
        Ledger(database_url=ours_url).close()  # the schema, before the clients start
        with multiprocessing.get_context("fork").Pool(clients) as pool:
            for _ in range(rounds):
                for kind, url in kinds.items():
                    start = time.time() + 2.0  # every client has connected by then
                    args = [(kind, url, n, start, seconds) for n in range(clients)]
                    for saved, spent in pool.starmap(_client, args):
                        events[kind] += saved
                        cpu[kind] += spent
        return {
            kind: (events[kind] / (seconds * rounds), 1000 * cpu[kind] / max(1, events[kind]))
            for kind in kinds
        }
    finally:
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="saving time per side")
    parser.add_argument("--slice", type=float, default=0.2, help="seconds before switching side")
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (0: none)")
    parser.add_argument("--client-seconds", type=float, default=3.0, help="per kind and round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of the client kinds")
    parser.add_argument("--only-clients", action="store_true", help="skip the bare comparison")
    parser.add_argument(
        "--pg",
        default=os.environ.get("EJOURNAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    if not args.only_clients:
        compare_with_bare(args)
    if args.clients > 0:
        rates = bench_clients(
            args.clients, seconds=args.client_seconds, rounds=args.rounds, pg_admin=args.pg
        )
        raw, raw_cpu = rates.pop("raw")
        print(
            f"\n{'database':<10} {'clients':>7} {'writing to':>10} {'raw rows/s':>11} "
            f"{'ejournal ev/s':>14} {'ratio':>6}   client CPU ms/event: raw, ejournal"
        )
        for kind, (rate, cpu) in rates.items():
            print(
                f"{'postgres':<10} {args.clients:>7} {kind:>10} {raw:>11,.0f} {rate:>14,.0f} "
                f"{rate / raw:>6.2f}   {raw_cpu:.2f}, {cpu:.2f}",
                flush=True,
            )


def compare_with_bare(args: argparse.Namespace) -> None:
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
