"""How far a reader of the events table, in notification-ID order, may move without skipping an
event that is still to become visible (docs/adr/0015-per-log-write-locks.md).

PostgreSQL writers of different logs insert side by side (``ledger.recorders``): a transaction
that took ID n may commit after one that took n + 1. A reader that sees n + 1 but not n must not
move past n while the transaction holding it may still commit; n may also never come (its insert
rolled back, or was refused). So a reader moves over the IDs it sees in a row, and stops at the
first missing one unless that gap is *final*.

When a gap is final. Every inserting transaction takes its log's advisory lock (``log_lock``)
before its rows' notification IDs, and holds it until it has ended. Say a read sees ID v and not
m < v. m was taken before v, and v's transaction committed before the read: so the transaction
that took m held its log's lock before the read. The reader then lists the transactions holding
a log's lock in this database (``pg_locks``, which every role may read). Once none of them holds
it any more, each has ended: whatever is still missing up to v never comes. Transactions of other
databases, and writers that wait for a lock (they take their IDs after v), are not waited for.

SQLite has one writer at a time: IDs become visible in order, and every gap is final.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Sequence
from typing import Any

from ejournal.ledger.database import Dialect
from ejournal.ledger.recorders import LOG_LOCK_CLASS

_LOG_LOCKS = (
    "FROM pg_locks WHERE locktype = 'advisory' "
    f"AND classid = {LOG_LOCK_CLASS} AND objsubid = 2 "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)
WRITERS = f"SELECT COALESCE(array_agg(virtualtransaction), '{{}}') {_LOG_LOCKS} AND granted"
"""The transactions that hold a log's lock in this database (each its virtual transaction ID:
unique to one transaction, as a new transaction of the same session gets a new one)."""
STILL_WRITING = f"SELECT COUNT(*) {_LOG_LOCKS} AND virtualtransaction = ANY(?)"
"""How many of some such transactions still hold it."""

Statement = tuple[str, tuple[Any, ...]]
Steps = Generator[Statement, Any, bool]
"""Statements to run, each sent back the first column of its one row; returns whether the gaps
seen so far are final."""


class Gaps:
    """What one reader knows of the gaps in the notification IDs; thread-safe.

    ``passable`` says how many of the IDs just read can be moved past; after a read that stopped
    at a gap, ``settle`` runs (a statement or two) to learn whether the gaps seen so far are
    final, so that a read again passes them.
    """

    def __init__(self, dialect: Dialect) -> None:
        self._in_order = dialect == "sqlite"
        self._lock = threading.Lock()
        self._final_through = 0
        """Every ID up to this one that is not visible never will be."""
        self._watch: tuple[tuple[str, ...], int] | None = None
        """(writers, the last ID read when the gap was seen): that ID's gaps are final once none
        of those writers holds its lock."""

    def passable(self, position: int, ids: Sequence[int], *, final_through: int = 0) -> int:
        """How many of ``ids`` (ascending, each after ``position``) a reader at ``position`` may
        move past: those before the first missing ID that may yet appear. ``final_through``: an
        ID up to which the caller knows every gap to be final (a position another reader
        reached by these rules)."""
        if self._in_order:
            return len(ids)
        with self._lock:
            final = max(self._final_through, final_through)
        previous = position
        for n, nid in enumerate(ids):
            if nid != previous + 1 and nid > final + 1:
                return n
            previous = nid
        return len(ids)

    def settle(self, last_read: int) -> Steps:
        """After a read that stopped at a gap (``last_read``: the last ID it read): the
        statements that tell whether the gaps seen so far are final, to run after the read."""
        if self._in_order:
            return True
        with self._lock:
            watch = self._watch
        if watch is None:
            writers = tuple((yield WRITERS, ()))
            with self._lock:
                if self._watch is None:
                    self._watch = (writers, last_read)
                watch = self._watch
        if watch[0]:
            still = yield STILL_WRITING, (list(watch[0]),)
            if still:
                return False
        with self._lock:
            if self._watch == watch:
                self._final_through = max(self._final_through, watch[1])
                self._watch = None
        return True


def settle_on(cursor: Any, steps: Steps) -> bool:
    """Run ``steps`` (``Gaps.settle``) on a cursor of ``Database.transaction(write=False)``."""
    try:
        statement = next(steps)
        while True:
            cursor.execute(*statement)
            statement = steps.send(cursor.fetchone()[0])
    except StopIteration as done:
        return bool(done.value)
