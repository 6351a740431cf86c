"""Verification throughput and memory: `verify_ledger` on a large log, beside raw hashlib.

Builds a ledger of N entries (default 1,000,000) in one school-year log on SQLite and on PostgreSQL
(100 events per save, through `Ledger.record`), signs a checkpoint, then, in child processes so that
peak memory is measured per run:
  * raw hashlib: SHA-256 of every payload, of 0x00 ‖ leaf and of the chain, over the same leaf bytes
    held in memory — the floor any verifier pays;
  * ejournal verify at N/10 and at N entries, from the database: entries/s and peak RSS.
Prints the ratios. Targets (issue 3): >= 500,000 entries/s from PostgreSQL; peak memory at N within
10 % of that at N/10.

With ``--jobs J`` (J > 1) only this, instead: N entries in 8 logs of unequal sizes (log k holds k
shares, as schools differ), verified in the same run by one process (``verify_ledger``) and by J
(``verify_ledger_in_processes``, ``ejournal verify --jobs J``); prints each rate, their ratio,
and the peak RSS and CPU time of each run's processes together. Target (issue 24): J = 2 at least
1.6 × one process. On a machine shared with other work, add ``--own-sessions``: Linux schedules
all the processes of a session as one (autogroup), so that J processes of the benchmark would get
the CPU of one; each in a session of its own, they get what each would on a server of their own.

    .venv/bin/python benchmarks/verify.py [--entries 1000000] [--only sqlite|postgres] [--jobs J]
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
from queue import Empty

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
from ejournal.ledger.verify_jobs import verify_ledger_in_processes

ORIGIN = "bench.ejournal"
SECRET = b"benchmark"
OWN_SESSIONS = "EJOURNAL_BENCH_OWN_SESSIONS"
"""Set by ``--own-sessions``: every verifying process runs in a session of its own."""


def _each_verifier_in_its_own_session() -> None:
    """Linux schedules a session's processes as one group (autogroup): on a machine shared with
    other sessions, J processes of one session get the CPU of one. A server that only verifies
    gives each process a core; each in its own session, they get a share like any session's
    here too. Done in the fork server, which imports this file: the processes forked from it
    look ``_verify_in_process`` up by name and find this wrapper."""
    from ejournal.ledger import verify_jobs

    real = verify_jobs._verify_in_process

    def in_own_session(*args):  # type: ignore[no-untyped-def]
        if os.getsid(0) != os.getpid():
            os.setsid()
        return real(*args)

    verify_jobs._verify_in_process = in_own_session  # type: ignore[assignment]


if __name__ == "__mp_main__" and os.environ.get(OWN_SESSIONS) == "1":
    _each_verifier_in_its_own_session()


def build(database_url: str, entries: int, log_id: str) -> None:
    build_logs(database_url, {log_id: entries})


def build_logs(database_url: str, sizes: dict[str, int]) -> None:
    """Write each log's entries, 100 a save, and sign a checkpoint of each."""
    ledger = Ledger(database_url=database_url)
    started = time.perf_counter()
    for log_id, entries in sizes.items():
        written = 0
        while written < entries:
            batch = min(100, entries - written)
            ledger.record(*new_marks(batch), log_id=log_id, actor=TEACHER, role=Role.TEACHER)
            written += batch
    keys = KeyStore(ledger.database)
    keys.create(ORIGIN, SECRET)
    checkpointer = Checkpointer(
        ledger.database, origin=ORIGIN, signers=keys.signers(SECRET), verifiers=keys.verifiers()
    )
    for log_id in sizes:
        checkpointer.checkpoint(log_id)
    total = sum(sizes.values())
    print(
        f"  built {total:,} entries in {len(sizes)} logs in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    ledger.close()


LOGS = 8


def unequal_logs(entries: int) -> dict[str, int]:
    """``entries`` in ``LOGS`` logs, log k holding k shares (the smallest 1/36 of the whole)."""
    shares = LOGS * (LOGS + 1) // 2
    return {
        f"school/00000000-0000-0000-0000-{k:012d}/2025-2026": entries * k // shares
        for k in range(1, LOGS + 1)
    }


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


def run_verify_jobs(database_url: str, jobs: int, queue: multiprocessing.Queue) -> None:
    """The ledger verified by ``jobs`` processes (1: ``verify_ledger`` itself)."""
    if os.environ.get(OWN_SESSIONS) == "1":
        os.setsid()
    ledger = Ledger(database_url=database_url)
    verifiers = KeyStore(ledger.database).verifiers()
    started = time.perf_counter()
    if jobs == 1:
        report = verify_ledger(ledger.database, verifiers=verifiers, origin=ORIGIN)
    else:
        report = verify_ledger_in_processes(
            ledger.database, database_url, jobs=jobs, verifiers=verifiers, origin=ORIGIN
        )
    elapsed = time.perf_counter() - started
    assert all(log.checkpoints == 1 and log.unsigned == 0 for log in report.logs)
    queue.put({"entries": report.entries, "seconds": elapsed})


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


def in_child_sampled(target, *args) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """``in_child``, with the peak RSS of the child and every process under it, summed, and the
    CPU time they used (the verifier's processes are not its children but the fork server's:
    ``ru_maxrss`` and ``RUSAGE_CHILDREN`` miss them). Sampled every 0.1 s from /proc."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    process = multiprocessing.Process(target=target, args=(*args, queue))
    process.start()
    peak = 0.0
    cpu: dict[int, int] = {}
    while True:
        try:
            result = queue.get(timeout=0.1)
            break
        except Empty:
            rss, ticks = tree_usage(process.pid)
            peak = max(peak, rss)
            for pid, used in ticks.items():
                cpu[pid] = max(cpu.get(pid, 0), used)
    process.join()
    result["peak_mib"] = peak
    result["cpu_seconds"] = sum(cpu.values()) / os.sysconf("SC_CLK_TCK")
    return result


def tree_rss_mib(root: int | None) -> float:
    """The resident memory of process ``root`` and of all its descendants, in MiB (/proc)."""
    return tree_usage(root)[0]


def tree_usage(root: int | None) -> tuple[float, dict[int, int]]:
    """The resident memory of process ``root`` and all its descendants, in MiB, and the CPU time
    (user + system, in clock ticks) each of them has used so far (/proc)."""
    parent_of: dict[int, int] = {}
    rss: dict[int, int] = {}
    ticks: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        pid = int(name)
        parent_of[pid], rss[pid] = int(fields[1]), int(fields[21])
        ticks[pid] = int(fields[11]) + int(fields[12])
    tree = {root}
    grew = True
    while grew:
        more = {pid for pid, parent in parent_of.items() if parent in tree} - tree
        grew = bool(more)
        tree |= more
    memory = sum(rss.get(pid, 0) for pid in tree) * resource.getpagesize() / 2**20
    return memory, {pid: ticks[pid] for pid in tree if pid in ticks}


def compare_jobs(url: str, entries: int, jobs: int) -> dict[str, float]:
    """One process against ``jobs`` on the same ledger of unequal logs, in the same run."""
    build_logs(url, unequal_logs(entries))
    one = in_child_sampled(run_verify_jobs, url, 1)
    many = in_child_sampled(run_verify_jobs, url, jobs)
    one_rate, many_rate = one["entries"] / one["seconds"], many["entries"] / many["seconds"]
    return {
        "entries": int(one["entries"]),
        "one_entries_per_s": round(one_rate),
        f"jobs_{jobs}_entries_per_s": round(many_rate),
        "ratio": round(many_rate / one_rate, 3),
        "peak_mib_one": round(one["peak_mib"], 1),
        f"peak_mib_jobs_{jobs}": round(many["peak_mib"], 1),
        "cpu_s_one": round(one["cpu_seconds"], 1),
        f"cpu_s_jobs_{jobs}": round(many["cpu_seconds"], 1),
    }


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
        "--jobs", type=int, default=1, help="Compare one process with J on 8 logs (J > 1)."
    )
    parser.add_argument(
        "--own-sessions",
        action="store_true",
        help="With --jobs: each verifying process in a session of its own (on a shared machine, "
        "Linux gives one session's processes together the CPU of one session).",
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get("EJOURNAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.jobs > 1:
        if args.own_sessions:
            os.environ[OWN_SESSIONS] = "1"
        main_jobs(args)
        return
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


def main_jobs(args: argparse.Namespace) -> None:
    results = {}
    for kind in ("sqlite", "postgres"):
        if args.only and kind != args.only:
            continue
        sessions = ", each in its own session" if args.own_sessions else ""
        print(
            f"{kind}: {args.entries:,} entries in {LOGS} logs, "
            f"1 process against {args.jobs}{sessions}"
        )
        (url, _), drop = databases(kind, args.pg)
        try:
            results[kind] = compare_jobs(url, args.entries, args.jobs)
        finally:
            drop()
        print(f"  {json.dumps(results[kind])}", flush=True)
    jobs = args.jobs
    print(
        f"{'database':<10} {'1 process e/s':>14} {f'{jobs} jobs e/s':>12} {'ratio':>6} "
        f"{'peak 1':>8} {f'peak {jobs}':>8} {'CPU-s 1':>8} {f'CPU-s {jobs}':>8}"
    )
    for kind, r in results.items():
        print(
            f"{kind:<10} {r['one_entries_per_s']:>14,} {r[f'jobs_{jobs}_entries_per_s']:>12,} "
            f"{r['ratio']:>6.2f} {r['peak_mib_one']:>6.1f}Mi {r[f'peak_mib_jobs_{jobs}']:>6.1f}Mi "
            f"{r['cpu_s_one']:>8.1f} {r[f'cpu_s_jobs_{jobs}']:>8.1f}"
        )
    print("(CPU-s: the benchmark's own processes, not PostgreSQL's server)")


if __name__ == "__main__":
    main()
