"""``verify_ledger`` in several processes, log by log (``ejournal verify --jobs N``).

Logs are independent (I1): each is replayed by one process, which opens its own connection (no
process is forked from the parent, so none shares its connections) and streams the log's rows in
index order, in the memory ``verify_ledger`` needs for one log. The parent does what concerns the
whole ledger once: the column types, the checkpoints, the rules of п. 4.4; it hands out the logs
largest first, so that the last to finish is a small one, and puts the reports together in the
order in which ``verify_ledger`` verifies the logs (the database's ``ORDER BY log_id``).

The outcome is the one-process outcome. When logs fail, the error raised is that of the first
failing log in that order, which is the one ``verify_ledger`` would have stopped at: the logs
before it are all verified, the ones after it are not started if they are still waiting.

Each process reads a snapshot of its own, taken after the parent read the checkpoints: a log may
have grown since (its new entries are verified and reported unsigned), never shrunk unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed

from ejournal.integrity.errors import VerificationError
from ejournal.integrity.note import Verifier
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import StoredCheckpoint, load_checkpoints
from ejournal.ledger.database import Database
from ejournal.ledger.invalidation import Rule
from ejournal.ledger.processes import process_context
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.verify import (
    LedgerReport,
    check_column_types,
    read_rules,
    unreadable_rules,
    verify_log,
)


def verify_ledger_in_processes(
    database: Database,
    database_url: str,
    *,
    jobs: int,
    verifiers: Sequence[Verifier] = (),
    origin: str = "",
    progress: Callable[[int], None] | None = None,
    witness: Mapping[str, Sequence[int]] | None = None,
    directory: Database | None = None,
) -> LedgerReport:
    """``verify_ledger`` of the ledger at ``database_url`` (``database`` is the caller's own
    connection to it) in ``jobs`` processes; the same report, the same errors. ``progress`` is
    called with the entries verified so far each time a log is done; ``directory`` is
    ``verify_ledger``'s.

    Raises ``ValueError`` if ``jobs`` is less than 1, and what ``verify_ledger`` raises.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    check_column_types(database)
    checkpoints = load_checkpoints(database)
    rules, unreadable = read_rules(directory or database)
    logs = _logs(database)
    sizes = witness or {}
    reports = _in_processes(
        database_url,
        jobs,
        [(log_id, checkpoints.pop(log_id, []), tuple(sizes.get(log_id, ()))) for log_id, _ in logs],
        [count for _, count in logs],
        verifiers=verifiers,
        origin=origin,
        rules=rules,
        progress=progress,
    )
    report = LedgerReport(rules=rules)
    for one in reports:
        report.logs.extend(one.logs)
        report.invalidated.extend(one.invalidated)
        report.flagged.extend(one.flagged)
    for log_id, stored in sorted(checkpoints.items()):
        # Signed checkpoints of a log that has no entry left at all: nothing to stream.
        report.logs.extend(
            verify_log(database, log_id, stored, verifiers=verifiers, origin=origin).logs
        )
    if unreadable is not None:
        raise unreadable_rules(unreadable) from unreadable
    return report


_Task = tuple[str, list[StoredCheckpoint], tuple[int, ...]]
"""A log to verify: its ID, its stored checkpoints, the witnessed sizes whose roots to keep."""


def _in_processes(
    database_url: str,
    jobs: int,
    tasks: list[_Task],
    counts: list[int],
    *,
    verifiers: Sequence[Verifier],
    origin: str,
    rules: tuple[Rule, ...],
    progress: Callable[[int], None] | None,
) -> list[LedgerReport]:
    """The report of each task, in the tasks' order; raises the first task's error in that order
    (after every task before it is done)."""
    if not tasks:
        return []
    # A verifier holds a public key object that does not pickle: each process reads the key again.
    vkeys = tuple(verifier.vkey for verifier in verifiers)
    reports: dict[int, LedgerReport] = {}
    failures: dict[int, VerificationError] = {}
    done = 0
    context = process_context()
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context) as pool:
        futures: dict[Future[LedgerReport], int] = {}
        for number in sorted(range(len(tasks)), key=lambda n: -counts[n]):
            log_id, stored, witness = tasks[number]
            future = pool.submit(
                _verify_in_process, database_url, log_id, stored, vkeys, origin, rules, witness
            )
            futures[future] = number
        for future in as_completed(futures):
            number = futures[future]
            if future.cancelled():
                continue
            error = future.exception()
            if isinstance(error, VerificationError):
                failures[number] = error
                # What comes after a failing log no longer matters: its error is the one raised.
                for other, later in futures.items():
                    if later > number:
                        other.cancel()
            elif error is not None:
                pool.shutdown(cancel_futures=True)
                raise error
            else:
                reports[number] = future.result()
                done += counts[number]
                if progress is not None:
                    progress(done)
    if failures:
        raise failures[min(failures)]
    return [reports[number] for number in range(len(tasks))]


def _verify_in_process(
    database_url: str,
    log_id: str,
    stored: list[StoredCheckpoint],
    vkeys: tuple[str, ...],
    origin: str,
    rules: tuple[Rule, ...],
    witness: tuple[int, ...],
) -> LedgerReport:
    """One log, in a worker process, on a connection of its own that creates nothing."""
    ledger = Ledger(database_url=database_url, env={"CREATE_TABLE": "n"})
    try:
        return verify_log(
            ledger.database,
            log_id,
            stored,
            verifiers=[Verifier.from_vkey(vkey) for vkey in vkeys],
            origin=origin,
            rules=rules,
            witness=witness,
        )
    finally:
        ledger.close()


def _logs(database: Database) -> list[tuple[str, int]]:
    """Every log with entries and how many, in the order in which ``verify_ledger`` meets them
    (the database's own order of log IDs, which Python's sort need not share)."""
    with database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT log_id, COUNT(*) FROM {EVENTS_TABLE} GROUP BY log_id ORDER BY log_id"
        )
        return [(row[0], int(row[1])) for row in cursor.fetchall()]
