"""One district on one server and over a region of three, in the same run (issue 24).

The same district (``benchmarks/district.py``'s generator, seed and weeks) is written twice:

- one server: a database on the main cluster (``--pg``);
- a region (``ejournal/ledger/placement.py``): the directory database on the main cluster and a
  database on each shard (``--shards``), the schools placed on the three in turn by the
  generator (``generate(..., region=)``).

Stage by stage, the one server's run first and then the region's, each in processes of its own:
generate (``--jobs`` processes), project (each server's projector; the region's one after another,
then again side by side, one process per server, after its read models were dropped), checkpoint
(every log of every server, signed with the directory's keys) and verify (``--jobs`` processes;
a region's server with ``directory=``, so the rules of п. 4.4 apply). The table prints, per stage,
events, seconds, events a second, peak memory, the region's rate as a ratio to the one server's of
this run, and the CPU an event cost: the stage's own processes (theirs and their helpers', at the
end of the stage: ``getrusage`` and /proc) and the
PostgreSQL backends of the run's databases (their CPU in /proc, sampled every half second: a
backend's last half second before it exits is missed). Then each database's size per event.

Correctness in the run: the root of every log signed on the one server equals the root signed in
the region, and every server verifies; the run fails otherwise.

    .venv/bin/python benchmarks/region.py [--schools 12] [--weeks N] [--seed 7] [--jobs 2] \
        [--database ejournal_region] [--keep]

Two cores do not show the region scaling: three servers on one machine share its cores. What the
run shows is that the region writes the same logs, and what an event costs on each path.
The databases (``…_one`` and ``…_dir`` on ``--pg``, ``…_shard`` on each shard) are dropped and
created at the start, and dropped at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from queue import Empty
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ORIGIN = "region.bench.ejournal"
SECRET = b"region-benchmark"
DEFAULT_SHARDS = (
    "postgresql://postgres@127.0.0.1:5433/postgres,postgresql://postgres@127.0.0.1:5434/postgres"
)
SAMPLE_SECONDS = 0.5
TICKS = os.sysconf("SC_CLK_TCK")


class RootsDiffer(AssertionError):
    """The region signed another root, or another set of logs, than the one server."""


@dataclass
class Layout:
    """Where a run's logs live: the directory's URL and, in a region, the servers' by name."""

    directory: str
    servers: dict[str, str] = field(default_factory=dict)

    def names(self) -> list[str]:
        from ejournal.ledger.placement import DIRECTORY

        return [DIRECTORY, *self.servers]

    def databases(self) -> list[str]:
        """The databases' names (the backends whose CPU counts)."""
        return sorted({url.rsplit("/", 1)[1] for url in [self.directory, *self.servers.values()]})


# --- the stages (each in a process of its own) ------------------------------------------------


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds() -> float:
    """The CPU this process and its helpers used: its own, its children's it reaped, and its live
    children's with what they reaped (a fork server's helpers are its children, not ours)."""
    used = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        used += usage.ru_utime + usage.ru_stime
    me = str(os.getpid())
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me:
            used += sum(int(x) for x in fields[11:15]) / TICKS
    return used


def _open(layout: Layout) -> tuple[Any, Any]:
    """The directory's ledger and the region around it (None for one server)."""
    from ejournal.ledger.application import Ledger
    from ejournal.ledger.clock import ManualClock
    from ejournal.ledger.placement import Region

    clock = ManualClock(datetime(2025, 8, 1, tzinfo=UTC))
    directory = Ledger(database_url=layout.directory, clock=clock)
    region = Region(directory, layout.servers) if layout.servers else None
    return directory, region


def _close(directory: Any, region: Any) -> None:
    if region is not None:
        region.close()
    directory.close()


def stage_generate(
    layout: Layout,
    schools: int,
    weeks: int | None,
    parallels: int | None,
    seed: int,
    jobs: int,
    queue: Any,
) -> None:
    from ejournal.generator import count_events, district_plan, generate
    from ejournal.generator.jobs import generate_in_processes

    directory, region = _open(layout)
    clock = directory.clock
    plan = district_plan(schools=schools, seed=seed, weeks=weeks, parallels=parallels)
    started = time.perf_counter()
    if jobs > 1:
        generate_in_processes(directory, clock, layout.directory, plan, jobs=jobs, region=region)
    else:
        generate(directory, clock, plan, region=region)
    seconds = time.perf_counter() - started
    ledgers = [directory] if region is None else [region.ledger(n) for n in region.names]
    per_server = [count_events(ledger) for ledger in ledgers]
    _close(directory, region)
    queue.put(
        {
            "seconds": seconds,
            "span": (started, started + seconds),
            "events": sum(per_server),
            "per_server": per_server,
            "pupils": sum(s.students for s in plan.schools),
            "peak_mib": _peak_mib(),
            "cpu": _cpu_seconds(),
        }
    )


def _server(layout: Layout, name: str) -> tuple[Any, Any, Any]:
    directory, region = _open(layout)
    return directory, region, directory if region is None else region.ledger(name)


def stage_project(layout: Layout, name: str, queue: Any) -> None:
    from ejournal.projections.projector import Projector

    directory, region, ledger = _server(layout, name)
    projector = Projector(ledger)
    started = time.perf_counter()
    moved = projector.catch_up()
    seconds = time.perf_counter() - started
    _close(directory, region)
    queue.put(
        {
            "seconds": seconds,
            "span": (started, started + seconds),
            "events": moved,
            "peak_mib": _peak_mib(),
            "cpu": _cpu_seconds(),
        }
    )


def stage_checkpoint(layout: Layout, name: str, queue: Any) -> None:
    from ejournal.cli.common import log_ids
    from ejournal.ledger.checkpoints import Checkpointer
    from ejournal.ledger.keys import KeyStore

    directory, region, ledger = _server(layout, name)
    store = KeyStore(directory.database)  # a region signs with the directory's keys
    if not store.verifiers():
        store.create(ORIGIN, SECRET)
    checkpointer = Checkpointer(
        ledger.database, origin=ORIGIN, signers=store.signers(SECRET), verifiers=store.verifiers()
    )
    logs = log_ids(ledger)
    started = time.perf_counter()
    roots: dict[str, tuple[int, str]] = {}
    for log_id in logs:
        signed = checkpointer.checkpoint(log_id)
        if signed is not None:
            roots[log_id] = (signed.size, signed.root_hash.hex())
    seconds = time.perf_counter() - started
    _close(directory, region)
    events = sum(size for size, _ in roots.values())
    queue.put(
        {
            "seconds": seconds,
            "span": (started, started + seconds),
            "events": events,
            "roots": roots,
            "peak_mib": _peak_mib(),
            "cpu": _cpu_seconds(),
        }
    )


def stage_verify(layout: Layout, name: str, jobs: int, queue: Any) -> None:
    from ejournal.ledger.keys import KeyStore
    from ejournal.ledger.verify import verify_ledger
    from ejournal.ledger.verify_jobs import verify_ledger_in_processes

    directory, region, ledger = _server(layout, name)
    verifiers = KeyStore(directory.database).verifiers()
    rules_from = None if ledger is directory else directory.database
    url = layout.directory if ledger is directory else layout.servers[name]
    started = time.perf_counter()
    if jobs > 1:
        report = verify_ledger_in_processes(
            ledger.database, url, jobs=jobs, verifiers=verifiers, origin=ORIGIN,
            directory=rules_from,
        )  # fmt: skip
    else:
        report = verify_ledger(
            ledger.database, verifiers=verifiers, origin=ORIGIN, directory=rules_from
        )
    seconds = time.perf_counter() - started
    _close(directory, region)
    queue.put(
        {
            "seconds": seconds,
            "span": (started, started + seconds),
            "events": report.entries,
            "logs": len(report.logs),
            "peak_mib": _peak_mib(),
            "cpu": _cpu_seconds(),
        }
    )


# --- running stages and measuring them ----------------------------------------------------------


class StageFailed(RuntimeError):
    """A stage's process ended without its result."""


def backend_ticks(databases: list[str]) -> dict[int, int]:
    """CPU (user + system, clock ticks) each PostgreSQL backend of ``databases`` has used so far:
    its title (``postgres: 15/main: user database host(port) …``, or ``autovacuum worker
    database``) names its database (/proc)."""
    wanted = set(databases)
    ticks: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                title = f.read().replace(b"\0", b" ").decode(errors="replace").split()
            if not title or title[0] != "postgres:" or wanted.isdisjoint(title[2:5]):
                continue
            with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        ticks[int(name)] = int(fields[11]) + int(fields[12])
    return ticks


class ServerCPU:
    """The CPU seconds the backends of ``databases`` used since it was made, sampled: a backend
    keeps the largest figure seen, so one that ends counts up to its last sample."""

    def __init__(self, databases: list[str]) -> None:
        self._databases = databases
        self._start = backend_ticks(databases)
        self._seen: dict[int, int] = dict(self._start)

    def sample(self) -> None:
        for pid, ticks in backend_ticks(self._databases).items():
            self._seen[pid] = max(self._seen.get(pid, 0), ticks)

    def seconds(self) -> float:
        self.sample()
        used = sum(t - self._start.get(pid, 0) for pid, t in self._seen.items())
        return used / TICKS


def in_child(target: Any, *args: Any, server_cpu: ServerCPU | None = None) -> dict[str, Any]:
    """Run ``target(*args, queue)`` in a process of its own and return what it put in the queue,
    its peak memory raised to that of it and its helpers together (sampled); raises
    ``StageFailed`` if the process ends without a result."""
    from benchmarks.verify import tree_rss_mib

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=target, args=(*args, queue))
    process.start()
    sampled = 0.0
    try:
        while True:
            try:
                result: dict[str, Any] = queue.get(timeout=SAMPLE_SECONDS)
                break
            except Empty:
                if not process.is_alive():
                    raise StageFailed(
                        f"{target.__name__} ended with exit code {process.exitcode}"
                    ) from None
                sampled = max(sampled, tree_rss_mib(process.pid))
                if server_cpu is not None:
                    server_cpu.sample()
    finally:
        process.join(timeout=60)
        if process.is_alive():
            process.kill()
    result["peak_mib"] = max(result["peak_mib"], sampled)
    return result


def measured(
    layout: Layout, calls: list[tuple[Any, tuple[Any, ...]]], *, side_by_side: bool = False
) -> dict[str, Any]:
    """Run the stage's ``calls`` (target, args), one after another or side by side, and sum
    them: events, seconds (the wall time of side-by-side calls), peak memory (the largest, or
    the sum side by side), the CPU of the stage's processes and of the databases' backends."""
    server_cpu = ServerCPU(layout.databases())
    if side_by_side:
        with ThreadPoolExecutor(len(calls)) as pool:
            futures = [
                pool.submit(in_child, target, *args, server_cpu=server_cpu)
                for target, args in calls
            ]
            parts = [f.result() for f in futures]
        # From the first start to the last end of the work (time.perf_counter is the system's
        # monotonic clock, one for all processes): the processes' own start-up left out.
        seconds = max(p["span"][1] for p in parts) - min(p["span"][0] for p in parts)
        peak = sum(p["peak_mib"] for p in parts)
    else:
        parts = [in_child(target, *args, server_cpu=server_cpu) for target, args in calls]
        seconds = sum(p["seconds"] for p in parts)
        peak = max(p["peak_mib"] for p in parts)
    return {
        "seconds": seconds,
        "events": sum(p["events"] for p in parts),
        "peak_mib": peak,
        "client_cpu": sum(p["cpu"] for p in parts),
        "server_cpu": server_cpu.seconds(),
        "parts": parts,
    }


def each_server(layout: Layout, target: Any, *args: Any) -> list[tuple[Any, tuple[Any, ...]]]:
    return [(target, (layout, name, *args)) for name in layout.names()]


def drop_read_models(layout: Layout) -> None:
    """Drop every server's read models, for the side-by-side projection from the start."""
    from ejournal.ledger.application import Ledger
    from ejournal.projections.storage import drop_tables

    for url in [layout.directory, *layout.servers.values()]:
        ledger = Ledger(database_url=url)
        try:
            with ledger.database.transaction(write=True) as cursor:
                drop_tables(cursor)
        finally:
            ledger.close()


# --- checks and the table --------------------------------------------------------------------


def roots_of(checkpoint: dict[str, Any]) -> dict[str, tuple[int, str]]:
    """Each log's signed size and root, over the servers' parts; raises ``RootsDiffer`` for a log
    signed on two servers (written on both: a fork, I1)."""
    roots: dict[str, tuple[int, str]] = {}
    for part in checkpoint["parts"]:
        twice = sorted(roots.keys() & part["roots"].keys())
        if twice:
            raise RootsDiffer(f"{len(twice)} logs signed on two servers, e.g. {twice[0]}")
        roots.update(part["roots"])
    return roots


def compare_roots(one: dict[str, tuple[int, str]], region: dict[str, tuple[int, str]]) -> int:
    """How many logs the one server and the region signed alike; raises ``RootsDiffer`` for a log
    one of them lacks or a root (or size) that differs."""
    if not one:
        raise RootsDiffer("the one server signed no log")
    missing = sorted(one.keys() ^ region.keys())
    if missing:
        raise RootsDiffer(f"{len(missing)} logs signed on one side only, e.g. {missing[0]}")
    differ = sorted(log for log in one if one[log] != region[log])
    if differ:
        log = differ[0]
        raise RootsDiffer(
            f"{len(differ)} logs differ, e.g. {log}: one server {one[log]}, region {region[log]}"
        )
    return len(one)


HEADER = (
    f"{'stage':<12} {'run':<14} {'events':>11} {'seconds':>8} {'ev/s':>8} {'peak MiB':>9} "
    f"{'ratio':>6} {'client µs/ev':>12} {'server µs/ev':>12}"
)


def row(stage: str, run: str, result: dict[str, Any], anchor: dict[str, Any] | None) -> str:
    """One line of the table: ``anchor`` is the one server's result of the stage (None: this is
    it), whose rate the ratio divides."""
    events = result["events"]
    rate = events / result["seconds"] if result["seconds"] else 0.0
    ratio = "" if anchor is None else f"{rate / (anchor['events'] / anchor['seconds']):.2f}"
    per_event = 1e6 / events if events else 0.0
    return (
        f"{stage:<12} {run:<14} {events:>11,} {result['seconds']:>8.1f} {rate:>8,.0f} "
        f"{result['peak_mib']:>9.0f} {ratio:>6} {result['client_cpu'] * per_event:>12.1f} "
        f"{result['server_cpu'] * per_event:>12.1f}"
    )


def sizes(url: str) -> tuple[int, int, int]:
    """A database's size, its indexes' and its events table's (with that table's indexes)."""
    from ejournal.ledger.recorders import EVENTS_TABLE

    with psycopg.connect(url) as conn:
        total = conn.execute("SELECT pg_database_size(current_database())").fetchone()
        indexes = conn.execute(
            "SELECT COALESCE(SUM(pg_indexes_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = current_schema()"
        ).fetchone()
        events = conn.execute("SELECT pg_total_relation_size(%s)", (EVENTS_TABLE,)).fetchone()
    assert total is not None and indexes is not None and events is not None
    return int(total[0]), int(indexes[0]), int(events[0])


def disk_lines(layouts: dict[str, Layout], events: dict[str, list[int]]) -> list[str]:
    lines = [
        f"{'database':<44} {'events':>11} {'MiB':>9} {'bytes/ev':>9} {'events table':>12} "
        f"{'indexes':>8}"
    ]
    for run, layout in layouts.items():
        for url, count in zip(
            [layout.directory, *layout.servers.values()], events[run], strict=True
        ):
            total, indexes, table = sizes(url)
            where = url.split("@", 1)[-1]
            lines.append(
                f"{run + ' ' + where:<44} {count:>11,} {total / 2**20:>9.1f} "
                f"{total / max(count, 1):>9.0f} {table / total:>11.0%} {indexes / total:>8.0%}"
            )
    return lines


# --- main ------------------------------------------------------------------------------------


def _url(admin: str, database: str) -> str:
    return admin.rsplit("/", 1)[0] + "/" + database


def layouts_of(args: argparse.Namespace) -> dict[str, Layout]:
    from ejournal.ledger.settings import parse_servers

    shards = [s.strip() for s in args.shards.split(",") if s.strip()]
    servers = parse_servers(
        ",".join(
            f"shard{i}={_url(admin, args.database + '_shard')}" for i, admin in enumerate(shards, 1)
        )
    )
    return {
        "one server": Layout(_url(args.pg, args.database + "_one")),
        "region": Layout(_url(args.pg, args.database + "_dir"), servers),
    }


def recreate(layouts: dict[str, Layout], *, create: bool) -> None:
    for layout in layouts.values():
        for url in [layout.directory, *layout.servers.values()]:
            admin, name = url.rsplit("/", 1)
            with psycopg.connect(admin + "/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                if create:
                    conn.execute(f'CREATE DATABASE "{name}"')


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--schools", type=int, default=12)
    parser.add_argument("--weeks", type=int, default=None)
    parser.add_argument(
        "--parallels",
        type=int,
        default=None,
        help="Classes a grade in every school (smaller runs).",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=2, help="Generating and verifying processes.")
    parser.add_argument("--database", default="ejournal_region")
    parser.add_argument("--keep", action="store_true", help="Keep the databases afterwards.")
    parser.add_argument(
        "--pg",
        default=os.environ.get("EJOURNAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="The admin URL of the main server (the one server, and the region's directory).",
    )
    parser.add_argument(
        "--shards",
        default=os.environ.get("EJOURNAL_TEST_PG_SHARDS", DEFAULT_SHARDS),
        help="The admin URLs of the region's other servers, comma-separated.",
    )
    args = parser.parse_args()
    for name in ("schools", "weeks", "parallels", "jobs"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name} must be at least 1")
    layouts = layouts_of(args)
    recreate(layouts, create=True)
    try:
        run(args, layouts)
    finally:
        if not args.keep:
            recreate(layouts, create=False)


def run(args: argparse.Namespace, layouts: dict[str, Layout]) -> None:
    """The stages of the one server and the region in turn, the checks, then the table."""
    one, region = layouts["one server"], layouts["region"]
    print(
        f"district: {args.schools} schools, weeks {args.weeks or 'all'}, seed {args.seed}, "
        f"{args.jobs} jobs; one server against a region of {len(region.names())}; load average "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    started = time.perf_counter()
    results: list[tuple[str, str, dict[str, Any]]] = []

    def stage(name: str, run: str, calls: list[Any], side_by_side: bool = False) -> Any:
        layout = one if run == "one server" else region
        result = measured(layout, calls, side_by_side=side_by_side)
        results.append((name, run, result))
        print(f"  {name}, {run}: {result['events']:,} events in {result['seconds']:.1f} s",
              flush=True)  # fmt: skip
        return result

    generated = {}
    for run_name, layout in layouts.items():
        spec = (layout, args.schools, args.weeks, args.parallels, args.seed, args.jobs)
        generated[run_name] = stage("generate", run_name, [(stage_generate, spec)])
    for run_name, layout in layouts.items():
        stage("project", run_name, each_server(layout, stage_project))
    drop_read_models(region)
    side = stage("project", "region, ∥", each_server(region, stage_project), side_by_side=True)
    side["events"] = generated["region"]["events"]  # a shard's projector may move the directory
    signed = {
        run_name: stage("checkpoint", run_name, each_server(layout, stage_checkpoint))
        for run_name, layout in layouts.items()
    }
    for run_name, layout in layouts.items():
        stage("verify", run_name, each_server(layout, stage_verify, args.jobs))
    total = time.perf_counter() - started

    equal = compare_roots(roots_of(signed["one server"]), roots_of(signed["region"]))
    pupils = generated["one server"]["parts"][0]["pupils"]
    print()
    print(
        f"{pupils:,} pupils, {generated['one server']['events']:,} events; total "
        f"{total / 60:.1f} min; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    print(f"roots equal: {equal} logs")
    print(HEADER)
    anchors = {name: result for name, run, result in results if run == "one server"}
    for name, run_name, result in results:
        print(row(name, run_name, result, None if run_name == "one server" else anchors[name]))
    print("(µs/ev: CPU a stage's processes used / its events; the server's: the backends of its")
    print(" databases, sampled every 0.5 s. Region's ratio: its ev/s over the one server's.)")
    print()
    events = {run: generated[run]["parts"][0]["per_server"] for run in layouts}
    print("\n".join(disk_lines(layouts, events)))


if __name__ == "__main__":
    main()
