"""``generate`` with the schools shared among processes (``ejournal generate --jobs N``).

A school's year is a log of its own (I1) and its units read and write nothing of another school,
so schools can be written side by side. Their accounts cannot: they all go into the one system
log, whose entries must come in the same order whatever N is, so this process writes them first,
school by school, as ``generate`` does. Then each of N processes writes the year logs of a share
of the schools (``generate``'s week-by-week order within its share), on a connection and a clock
of its own. Every unit draws its random numbers from its own seed and sets the clock to its own
moments, so each log is entry for entry what one process writes: the same district for the same
seed whatever N. A stopped run resumes as ``generate`` does, with any N.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from multiprocessing.process import BaseProcess
from queue import Empty
from typing import Any

from ejournal.generator import (
    Counts,
    Plan,
    Progress,
    SchoolRun,
    SchoolSpec,
    place_schools,
    school_runs,
    tally,
    write_accounts,
    write_years,
)
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.placement import Region
from ejournal.ledger.processes import process_context


class GeneratorProcessError(RuntimeError):
    """A process of ``generate_in_processes`` ended without saying why (it was killed, say)."""


def generate_in_processes(
    ledger: Ledger,
    clock: ManualClock,
    database_url: str,
    plan: Plan,
    *,
    jobs: int,
    progress: Progress | None = None,
    region: Region | None = None,
) -> Counts:
    """``generate(ledger, clock, plan)`` of the ledger at ``database_url`` (``ledger`` is this
    process's own), the year logs written by ``jobs`` processes. Returns the totals, as
    ``generate`` does.

    Raises ``ValueError`` if ``jobs`` is less than 1; what ``generate`` raises, whichever process
    raised it (the other processes are stopped: what they wrote is whole units, which a run
    continues); ``GeneratorProcessError`` if a process died without an error.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    total = Counts()
    runs = school_runs(ledger, clock, plan, region)
    write_accounts(runs, tally(total, progress))
    place_schools(runs, region)
    servers = () if region is None else tuple(region.servers.items())
    context = process_context()
    queue = context.Queue()
    processes = [
        context.Process(
            target=_write_share,
            args=(database_url, servers, replace(plan, schools=share), clock(), queue),
            name=f"ejournal-generate-{number}",
            daemon=True,
        )
        for number, share in enumerate(shares(plan.schools, jobs), 1)
    ]
    for process in processes:
        process.start()
    try:
        _collect(queue, processes, total, progress)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()
    return total


def shares(schools: Sequence[SchoolSpec], jobs: int) -> list[list[SchoolSpec]]:
    """``schools`` in at most ``jobs`` shares of about as many pupils each: each school, the
    largest first, goes to the share with the fewest so far. Each share is in school order."""
    loads: list[tuple[int, list[SchoolSpec]]] = [(0, []) for _ in range(min(jobs, len(schools)))]
    for school in sorted(schools, key=lambda spec: -spec.students):
        lightest = min(range(len(loads)), key=lambda n: loads[n][0])
        load, share = loads[lightest]
        loads[lightest] = (load + school.students, [*share, school])
    return [sorted(share, key=lambda spec: spec.number) for _, share in loads]


def _collect(
    queue: Any,
    processes: Sequence[BaseProcess],
    total: Counts,
    progress: Progress | None,
) -> None:
    """Add up what the processes report until each is done; raise the first error one sends."""
    running = len(processes)
    while running:
        try:
            kind, what, payload = queue.get(timeout=1.0)
        except Empty:
            dead = [p for p in processes if p.exitcode not in (None, 0)]
            if dead:
                raise GeneratorProcessError(
                    f"{dead[0].name} ended with exit code {dead[0].exitcode}"
                ) from None
            continue
        if kind == "failed":
            raise payload
        if kind == "done":
            running -= 1
            continue
        total.add(payload)
        if progress is not None:
            progress(what, total)


def _write_share(
    database_url: str,
    servers: tuple[tuple[str, str], ...],
    plan: Plan,
    now: datetime,
    queue: Any,
) -> None:
    """In a process of its own: the year logs of ``plan``'s schools, whose accounts are there
    (and which are placed on ``servers``, if a region's). Sends ``("unit", what, counts)`` after
    each unit, then ``("done", …)`` or ``("failed", …, error)``."""
    try:
        clock = ManualClock(now)
        ledger = Ledger(database_url=database_url, clock=clock)
        region = Region(ledger, dict(servers)) if servers else None
        try:
            runs = school_runs(ledger, clock, plan, region)
            for run in runs:
                run.load_actors()

            def done(what: str, run: SchoolRun) -> None:
                queue.put(("unit", what, run.counts))
                run.counts = Counts()

            write_years(runs, plan, done)
        finally:
            if region is not None:
                region.close()
            ledger.close()
    except BaseException as e:  # handed to the parent, which raises it
        queue.put(("failed", "", _portable(e)))
        return
    queue.put(("done", "", None))


def _portable(error: BaseException) -> BaseException:
    """``error`` if it survives the trip to the parent, else its type and message."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return GeneratorProcessError(f"{type(error).__name__}: {error}")
    return error
