"""Verification throughput and memory: `verify_ledger` on a large log, beside raw hashlib.

Builds a ledger of N entries (default 1,000,000) in one school-year log on SQLite and on PostgreSQL
(100 events per save, through `Ledger.record`), signs a checkpoint, then, in child processes so that
peak memory is measured per run:
  * raw hashlib: SHA-256 of every payload, of 0x00 ‖ leaf and of the chain, over the same leaf bytes
    held in memory — the floor any verifier pays;
  * ejournal verify at N/10 and at N entries, from the database: entries/s and peak RSS.
Prints the ratios. Targets (issue 3): >= 500,000 entries/s from PostgreSQL; peak memory at N within
10 % of that at N/10.

    .venv/bin/python benchmarks/verify.py [--entries 1000000] [--only sqlite|postgres]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import uuid
from contextlib import closing
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.ingest import TEACHER, new_marks
from ejournal.integrity.leaf import encode_leaf
from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.replay import leaf_of_row, row_columns
from ejournal.ledger.verify import verify_ledger

ORIGIN = "bench.ejournal"
SECRET = b"benchmark"


def build(database_url: str, entries: int, log_id: str) -> None:
    ledger = Ledger(database_url=database_url)
    written = 0
    started = time.perf_counter()
    while written < entries:
        batch = min(100, entries - written)
        ledger.record(*new_marks(batch), log_id=log_id, actor=TEACHER, role=Role.TEACHER)
        written += batch
    keys = KeyStore(ledger.database)
    keys.create(ORIGIN, SECRET)
    Checkpointer(
        ledger.database, origin=ORIGIN, signers=keys.signers(SECRET), verifiers=keys.verifiers()
    ).checkpoint(log_id)
    print(f"  built {entries:,} entries in {time.perf_counter() - started:.0f} s", flush=True)
    ledger.close()


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_verify(database_url: str, log_id: str, queue: multiprocessing.Queue) -> None:
    ledger = Ledger(database_url=database_url)
    keys = KeyStore(ledger.database)
    started = time.perf_counter()
    report = verify_ledger(ledger.database, verifiers=keys.verifiers(), origin=ORIGIN)
    elapsed = time.perf_counter() - started
    assert [log.log_id for log in report.logs] == [log_id]
    queue.put({"entries": report.entries, "seconds": elapsed, "peak_mib": _peak_rss_mib()})


def run_hashlib(database_url: str, limit: int, queue: multiprocessing.Queue) -> None:
    ledger = Ledger(database_url=database_url)
    # Streamed: converting a million rows inside one fetch outlasts PostgreSQL's
    # idle-in-transaction timeout on a large database.
    sql = f"SELECT {row_columns(ledger.database.dialect)} FROM stored_events ORDER BY log_id, idx"
    with closing(ledger.database.stream(sql + " LIMIT ?", (limit,))) as stream:
        rows = list(stream)
    leaves = [(bytes(row[5]), encode_leaf(leaf_of_row(row))) for row in rows]
    sha256 = hashlib.sha256
    started = time.perf_counter()
    chain = bytes(32)
    for payload, leaf in leaves:
        sha256(payload).digest()
        chain = sha256(chain + sha256(b"\x00" + leaf).digest()).digest()
    elapsed = time.perf_counter() - started
    queue.put({"entries": len(leaves), "seconds": elapsed})


def in_child(target, *args) -> dict[str, float]:  # type: ignore[no-untyped-def]
    queue: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=target, args=(*args, queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def databases(kind: str, pg_admin: str) -> tuple[list[str], callable]:  # type: ignore[valid-type]
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="ejournal-verify-")
        return [f"sqlite:///{folder}/small.db", f"sqlite:///{folder}/large.db"], lambda: None
    names = [f"ejournal_verify_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(pg_admin, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    base = pg_admin.rsplit("/", 1)[0]
    return [f"{base}/{name}" for name in names], drop


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument(
        "--pg",
        default=os.environ.get("EJOURNAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    log_id = "school/00000000-0000-0000-0000-000000000001/2025-2026"
    results = {}
    for kind in ("sqlite", "postgres"):
        if args.only and kind != args.only:
            continue
        print(f"{kind}:", flush=True)
        (small_url, large_url), drop = databases(kind, args.pg)
        try:
            build(small_url, args.entries // 10, log_id)
            build(large_url, args.entries, log_id)
            raw = in_child(run_hashlib, large_url, args.entries)
            small = in_child(run_verify, small_url, log_id)
            large = in_child(run_verify, large_url, log_id)
        finally:
            drop()
        raw_rate = raw["entries"] / raw["seconds"]
        rate = large["entries"] / large["seconds"]
        results[kind] = {
            "hashlib_entries_per_s": round(raw_rate),
            "verify_entries_per_s": round(rate),
            "ratio_to_hashlib": round(rate / raw_rate, 3),
            "peak_mib_small": round(small["peak_mib"], 1),
            "peak_mib_large": round(large["peak_mib"], 1),
            "peak_growth": round(large["peak_mib"] / small["peak_mib"] - 1, 3),
        }
        print(f"  {json.dumps(results[kind])}", flush=True)
    print(
        f"{'database':<10} {'hashlib e/s':>12} {'verify e/s':>11} {'ratio':>6} "
        f"{'peak N/10':>10} {'peak N':>8}"
    )
    for kind, r in results.items():
        print(
            f"{kind:<10} {r['hashlib_entries_per_s']:>12,} {r['verify_entries_per_s']:>11,} "
            f"{r['ratio_to_hashlib']:>6.2f} {r['peak_mib_small']:>8.1f}Mi "
            f"{r['peak_mib_large']:>6.1f}Mi"
        )


if __name__ == "__main__":
    main()
