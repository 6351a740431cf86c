"""One district's school year, end to end, on PostgreSQL: generate, project, checkpoint, verify.

Generates the district (``ejournal generate``'s generator: 53 schools and about 28,000 pupils by
default) through the commands into a fresh database, then brings the read models up to date
(``Projector.catch_up``), signs a checkpoint of every log, and verifies the whole ledger
(``verify_ledger``). Each stage runs in a process of its own, so the peak memory printed is that
stage's own (ru_maxrss). Beside each stage an anchor measured in the same run on the same
database gives the side-by-side ratio, as the other benchmarks do:

- generate: bare eventsourcing saving 1,000 mark events per ``save()`` (stock recorder and JSON
  transcoder, no checks, no log), and ``Ledger.record`` doing the same;
- project: the projector's own page query plus ``orjson.loads`` of every payload, writing nothing
  (``benchmarks/rebuild.py``'s anchor);
- verify: raw hashlib over the leaf bytes of the first million entries held in memory
  (``benchmarks/verify.py``'s anchor).

    .venv/bin/python benchmarks/district.py [--schools 53] [--weeks N] [--seed 7] [--keep] \
        [--jobs J]

``--jobs J`` generates the schools' year logs in J processes (``generate_in_processes``) and
verifies in J (``verify_ledger_in_processes``); the peak memory printed is then that of the stage's
process and all its helpers together, sampled every second.

``--schools`` and ``--weeks`` run a smaller district (``--weeks`` leaves out June's exams). The
database (``--database ejournal_district``) and the anchors' (``…_anchor``) are dropped and created
at the start, and dropped at the end, also when a stage fails or the run is interrupted, the
district's unless ``--keep``. A generate stage that was stopped continues where it stopped when run
with ``--resume`` (the district's database is not dropped at the start then; keep it with
``--keep`` when a run may be interrupted).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from queue import Empty
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ORIGIN = "district.bench.ejournal"
SECRET = b"district-benchmark"


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage_generate(
    url: str, schools: int, weeks: int | None, seed: int, jobs: int, queue: Any
) -> None:
    from ejournal.generator import count_events, district_plan, generate
    from ejournal.generator.jobs import generate_in_processes
    from ejournal.ledger.application import Ledger
    from ejournal.ledger.clock import ManualClock

    clock = ManualClock(datetime(2025, 8, 1, tzinfo=UTC))
    ledger = Ledger(database_url=url, clock=clock)
    plan = district_plan(schools=schools, seed=seed, weeks=weeks)
    before = count_events(ledger)
    started = time.perf_counter()
    last = [started]

    def progress(what: str, counts: Any) -> None:
        now = time.perf_counter()
        if now - last[0] >= 30:
            last[0] = now
            print(f"  … {now - started:6.0f} s  {what}  {counts.commands:,} commands", flush=True)

    if jobs > 1:
        counts = generate_in_processes(ledger, clock, url, plan, jobs=jobs, progress=progress)
    else:
        _, counts = generate(ledger, clock, plan, progress=progress)
    seconds = time.perf_counter() - started
    events = count_events(ledger) - before
    ledger.close()
    queue.put(
        {
            "seconds": seconds,
            "events": events,
            "commands": counts.commands,
            "pupils": sum(s.students for s in plan.schools),
            "lessons": counts.lessons,
            "marks": counts.marks,
            "attestation": counts.period_marks,
            "peak_mib": _peak_mib(),
        }
    )


def stage_project(url: str, queue: Any) -> None:
    from ejournal.ledger.application import Ledger
    from ejournal.projections.projector import Projector

    ledger = Ledger(database_url=url)
    projector = Projector(ledger)
    started = time.perf_counter()
    moved = projector.catch_up()
    seconds = time.perf_counter() - started
    ledger.close()
    queue.put({"seconds": seconds, "events": moved, "peak_mib": _peak_mib()})


def stage_checkpoint(url: str, queue: Any) -> None:
    from ejournal.ledger.application import Ledger
    from ejournal.ledger.checkpoints import Checkpointer
    from ejournal.ledger.keys import KeyStore
    from ejournal.ledger.recorders import EVENTS_TABLE

    ledger = Ledger(database_url=url)
    store = KeyStore(ledger.database)
    if not store.verifiers():
        store.create(ORIGIN, SECRET)
    checkpointer = Checkpointer(
        ledger.database, origin=ORIGIN, signers=store.signers(SECRET), verifiers=store.verifiers()
    )
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(f"SELECT DISTINCT log_id FROM {EVENTS_TABLE} ORDER BY log_id")
        logs = [row[0] for row in cursor.fetchall()]
    started = time.perf_counter()
    entries = 0
    for log_id in logs:
        signed = checkpointer.checkpoint(log_id)
        entries += signed.size if signed is not None else 0
    seconds = time.perf_counter() - started
    ledger.close()
    queue.put({"seconds": seconds, "events": entries, "logs": len(logs), "peak_mib": _peak_mib()})


def stage_verify(url: str, jobs: int, queue: Any) -> None:
    from ejournal.ledger.application import Ledger
    from ejournal.ledger.keys import KeyStore
    from ejournal.ledger.verify import verify_ledger
    from ejournal.ledger.verify_jobs import verify_ledger_in_processes

    ledger = Ledger(database_url=url)
    verifiers = KeyStore(ledger.database).verifiers()
    started = time.perf_counter()
    if jobs > 1:
        report = verify_ledger_in_processes(
            ledger.database, url, jobs=jobs, verifiers=verifiers, origin=ORIGIN
        )
    else:
        report = verify_ledger(ledger.database, verifiers=verifiers, origin=ORIGIN)
    seconds = time.perf_counter() - started
    ledger.close()
    queue.put({"seconds": seconds, "events": report.entries, "peak_mib": _peak_mib()})


def anchor_ingest(url: str, queue: Any) -> None:
    from eventsourcing.application import Application

    from benchmarks.ingest import TEACHER, run_for, stock_env
    from ejournal.ledger.actor import Role
    from ejournal.ledger.application import Ledger

    bare = Application(env=stock_env(url))
    saved, seconds = run_for(lambda b: bare.save(*b), 1000, 5.0)
    bare.close()
    ours = Ledger(database_url=url)
    recorded, record_seconds = run_for(
        lambda b: ours.record(*b, log_id="anchor", actor=TEACHER, role=Role.TEACHER), 1000, 5.0
    )
    ours.close()
    # run_for gives (events, seconds): the table wants events a second.
    queue.put({"bare": saved / seconds, "record": recorded / record_seconds})


def anchor_read(url: str, queue: Any) -> None:
    from benchmarks.rebuild import anchor
    from ejournal.ledger.application import Ledger
    from ejournal.projections.projector import PAGE_SIZE

    ledger = Ledger(database_url=url)
    started = time.perf_counter()
    count = anchor(ledger, PAGE_SIZE)
    queue.put({"rate": count / (time.perf_counter() - started)})
    ledger.close()


def anchor_hashlib(url: str, queue: Any) -> None:
    from benchmarks.verify import run_hashlib

    run_hashlib(url, 1_000_000, queue)


class StageFailed(RuntimeError):
    """A stage's process ended without its result."""


def in_child(target: Any, *args: Any) -> dict[str, Any]:
    """Run ``target(*args, queue)`` in a process of its own and return what it put in the queue;
    raises ``StageFailed`` if the process ends without (it failed: its traceback is above).
    A ``peak_mib`` it gives is raised to the memory of it and its helper processes together,
    sampled each second (helpers forked by a fork server are not in its ``ru_maxrss``)."""
    from benchmarks.verify import tree_rss_mib

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    started = time.perf_counter()
    process.start()
    sampled = 0.0
    try:
        while True:
            try:
                result: dict[str, Any] = queue.get(timeout=1.0)
                break
            except Empty:
                if not process.is_alive():
                    raise StageFailed(
                        f"{target.__name__} ended with exit code {process.exitcode}"
                    ) from None
                sampled = max(sampled, tree_rss_mib(process.pid))
    finally:
        process.join(timeout=60)
        if process.is_alive():
            process.kill()
    result.setdefault("wall", time.perf_counter() - started)
    if "peak_mib" in result:
        result["peak_mib"] = max(result["peak_mib"], sampled)
    return result


def table(
    results: dict[str, dict[str, Any]],
    ingest: dict[str, float],
    read: dict[str, float],
    hashing: dict[str, float],
) -> list[str]:
    """The lines of the stages' table: each stage's rate beside its anchor's."""
    anchors = {
        "generate": (ingest["bare"], "bare eventsourcing, 1,000 events/save"),
        "project": (read["rate"], "page query + orjson.loads"),
        "checkpoint": (hashing["entries"] / hashing["seconds"], "raw hashlib"),
        "verify": (hashing["entries"] / hashing["seconds"], "raw hashlib"),
    }
    lines = [
        f"{'stage':<11} {'wall s':>8} {'events':>12} {'ev/s':>9} {'peak MiB':>9} "
        f"{'anchor ev/s':>12} {'ratio':>6}  anchor"
    ]
    for stage, result in results.items():
        rate = result["events"] / result["seconds"] if result["seconds"] else 0.0
        anchor_rate, what = anchors[stage]
        ratio = rate / anchor_rate if anchor_rate else 0.0
        lines.append(
            f"{stage:<11} {result['seconds']:>8.1f} {result['events']:>12,} {rate:>9,.0f} "
            f"{result['peak_mib']:>9.0f} {anchor_rate:>12,.0f} {ratio:>6.3f}  {what}"
        )
    lines.append(f"(Ledger.record, 1,000 events/save, same run: {ingest['record']:,.0f} ev/s)")
    return lines


def drop_databases(admin_url: str, names: list[str]) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--schools", type=int, default=53)
    parser.add_argument("--weeks", type=int, default=None)
    # Seed 7 draws 27,833 pupils in 53 schools: the district of the issue (about 28,000).
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", default="ejournal_district")
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument("--resume", action="store_true", help="Continue a stopped generate.")
    parser.add_argument(
        "--jobs", type=int, default=1, help="Processes that generate and verify (default 1)."
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get("EJOURNAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    for name in ("schools", "weeks", "jobs"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name} must be at least 1")
    anchor = args.database + "_anchor"
    with psycopg.connect(args.pg, autocommit=True) as conn:
        names = [anchor] if args.resume else [anchor, args.database]
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    try:
        run(args)
    finally:
        drop_databases(args.pg, [anchor] if args.keep else [anchor, args.database])


def run(args: argparse.Namespace) -> None:
    """The stages, then the anchors, then the table."""
    url = args.pg.rsplit("/", 1)[0] + "/" + args.database
    anchor_url = args.pg.rsplit("/", 1)[0] + "/" + args.database + "_anchor"
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    print(
        f"district: {args.schools} schools, weeks {args.weeks or 'all'}, seed {args.seed}, "
        f"{args.jobs} {'job' if args.jobs == 1 else 'jobs'}"
    )
    results["generate"] = in_child(
        stage_generate, url, args.schools, args.weeks, args.seed, args.jobs
    )
    print(f"  generate done: {results['generate']}", flush=True)
    results["project"] = in_child(stage_project, url)
    print(f"  project done: {results['project']}", flush=True)
    results["checkpoint"] = in_child(stage_checkpoint, url)
    print(f"  checkpoint done: {results['checkpoint']}", flush=True)
    results["verify"] = in_child(stage_verify, url, args.jobs)
    print(f"  verify done: {results['verify']}", flush=True)
    total = time.perf_counter() - started
    with psycopg.connect(url) as conn:
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    ingest = in_child(anchor_ingest, anchor_url)
    read = in_child(anchor_read, url)
    hashing = in_child(anchor_hashlib, url)
    g = results["generate"]
    print()
    print(
        f"{g['pupils']:,} pupils, {g['commands']:,} commands, {g['lessons']:,} lessons, "
        f"{g['marks']:,} lesson marks, {g['attestation']:,} attestation marks, "
        f"{g['events']:,} events; database {size / 2**30:.2f} GiB; total {total / 60:.1f} min"
    )
    print("\n".join(table(results, ingest, read, hashing)))


if __name__ == "__main__":
    main()
