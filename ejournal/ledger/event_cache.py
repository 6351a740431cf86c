"""The decoded events of recently read aggregates, kept in memory and current with the ledger.

Reading an aggregate costs a round trip and the decoding of each of its events; the checks of one
mark load the school, its year, the roster, the class, the teacher's assignment and the account,
some hundred events that rarely change. This cache keeps their decoded events (immutable values:
each read still folds them into a new aggregate, which a command may change) and learns what
changed from the tail of the notification log: one query returns every event recorded since the
last look, by any process, and each is appended to its aggregate's events if they are held (the
lesson a teacher is marking stays in memory), or the aggregate is dropped if the event does not
follow on. The tail is read in notification order, and on PostgreSQL IDs can become visible out
of that order (writers of different logs commit side by side, docs/adr/0015-per-log-write-locks.md):
the cache applies every event it reads (applying one twice leaves it as once) but moves its
position only up to the first missing ID that may still appear (``ledger.gaps``), so an event that
commits late is read by a later refresh. Until the first position is known to have no such gap
below it, nothing read from the database is kept: an aggregate read while a transaction below the
position still ran could miss that transaction's event for good.

A read that misses may race a refresh: it is registered before its query and discarded if a
refresh saw its aggregate change meanwhile, so a stale read never enters the cache. Disposition
nulls payloads in place (``ledger.append_only``), with no new event of the aggregates it touches:
its act, recorded in the same transaction, empties the whole cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Generator, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ejournal.ledger.append_only import DISPOSITION_ACT_TOPIC
from ejournal.ledger.async_database import AsyncDatabase, Statement
from ejournal.ledger.database import Database
from ejournal.ledger.gaps import Gaps
from ejournal.ledger.recorders import EVENTS_TABLE

MAX_EVENTS = 50_000
"""Events kept per process (least recently read aggregates go first): tens of megabytes."""

MAX_TAIL = 1_000
"""New events read per refresh; after more than that (a bulk import) the cache starts empty."""


class EventCache:
    """Thread-safe; one per ``Ledger``. ``decode`` turns a stored event into a domain event."""

    def __init__(
        self,
        database: Database,
        decode: Callable[[StoredEvent], Any],
        *,
        max_events: int = MAX_EVENTS,
        max_tail: int = MAX_TAIL,
    ) -> None:
        self._database = database
        self._decode = decode
        self._max_events = max_events
        self._max_tail = max_tail
        self._lock = threading.Lock()
        self._entries: OrderedDict[UUID, Sequence[Any]] = OrderedDict()
        self._size = 0
        self._position: int | None = None
        """The notification ID up to which changes have been applied (None: not yet known, and
        nothing is kept)."""
        self._gaps = Gaps(database.dialect)
        self._loading: dict[UUID, set[object]] = {}
        """The reads from the database in flight, by aggregate: a ticket each."""
        self._stale: set[object] = set()
        """Tickets of reads during which a refresh saw their aggregate change: not kept."""
        column = "rowid" if database.dialect == "sqlite" else "notification_id"
        self._tail_sql = (
            f"SELECT {column}, originator_id, originator_version, topic, state FROM {EVENTS_TABLE} "
            f"WHERE {column} > ? "
            f"ORDER BY {column} LIMIT {max_tail + 1}"
        )
        self._max_sql = f"SELECT MAX({column}) FROM {EVENTS_TABLE}"

    def __len__(self) -> int:
        return len(self._entries)

    def refresh(self) -> None:
        """Bring what is held up to date with what was recorded since the last refresh."""
        with self._database.transaction(write=False) as cursor:
            steps = self._refresh()
            query = next(steps)
            try:
                while True:
                    cursor.execute(*query)
                    query = steps.send(cursor.fetchall())
            except StopIteration:
                pass

    async def refresh_async(
        self, database: AsyncDatabase, *alongside: Statement
    ) -> list[list[Any]]:
        """``refresh``, with its queries on the event loop. ``alongside``: other queries to
        run in its first round trip; their rows are returned. That round trip is shared with the
        refreshes of other requests in flight (``AsyncDatabase.shared``): they read the same tail,
        and applying it twice leaves the cache as once."""
        steps = self._refresh()
        query = next(steps)
        rows, *others = await database.shared(query, *alongside)
        try:
            while True:
                query = steps.send(rows)
                rows = await database.fetchall(*query)
        except StopIteration:
            return others

    def _refresh(self) -> Generator[Statement, list[Any], None]:
        """The refresh, free of I/O: yields each query, is sent its rows (``refresh`` and
        ``refresh_async`` run it on either kind of connection)."""
        position = self._position
        if position is None:
            # The first look: start at the head once every gap below it is final.
            newest = (yield self._max_sql, ())[0][0] or 0
            if (yield from self._settle(newest)):
                with self._lock:
                    self._forget_all()  # loads in flight may have missed an event below the head
                    self._position = newest
            return
        rows = yield self._tail_sql, (position,)
        passable = self._gaps.passable(position, [row[0] for row in rows])
        newest = rows[passable - 1][0] if passable else position
        if passable < len(rows):
            yield from self._settle(rows[-1][0])
        with self._lock:
            if len(rows) > self._max_tail:
                self._forget_all()
                self._position = None  # start again from the head, as at the first look
                return
            if any(row[3] == DISPOSITION_ACT_TOPIC for row in rows):
                self._forget_all()
            else:
                for _, originator, version, topic, state in rows:
                    aggregate_id = _uuid(originator)
                    self._stale.update(self._loading.get(aggregate_id, ()))
                    held = self._entries.get(aggregate_id)
                    if held is not None and held[-1].originator_version + 1 == version:
                        self._follow(
                            aggregate_id, held, StoredEvent(aggregate_id, version, topic, state)
                        )
                    elif held is not None and held[-1].originator_version < version:
                        self._forget([aggregate_id])
            self._position = max(newest, self._position or 0)

    def _settle(self, last_read: int) -> Generator[Statement, list[Any], bool]:
        """``Gaps.settle``'s statements as this refresh's queries: whether the gaps up to
        ``last_read`` are final."""
        steps = self._gaps.settle(last_read)
        try:
            statement = next(steps)
            while True:
                rows = yield statement
                statement = steps.send(rows[0][0])
        except StopIteration as done:
            return bool(done.value)

    def held(self, aggregate_id: UUID) -> Sequence[Any] | None:
        """The aggregate's events if they are in memory, else None (no database read)."""
        with self._lock:
            cached = self._entries.get(aggregate_id)
            if cached is not None:
                self._entries.move_to_end(aggregate_id)
            return cached

    def events(self, aggregate_id: UUID, load: Callable[[UUID], Sequence[Any]]) -> Sequence[Any]:
        """The aggregate's events, from memory or from ``load`` (whose errors pass through)."""
        with self._lock:
            cached = self._entries.get(aggregate_id)
            if cached is not None:
                self._entries.move_to_end(aggregate_id)
                return cached
            ticket = object()
            self._loading.setdefault(aggregate_id, set()).add(ticket)
        events: Sequence[Any] | None = None
        try:
            events = load(aggregate_id)
        finally:
            with self._lock:
                tickets = self._loading[aggregate_id]
                tickets.discard(ticket)
                if not tickets:
                    del self._loading[aggregate_id]
                if ticket in self._stale:
                    self._stale.discard(ticket)
                elif events is not None and self._position is not None:
                    self._put(aggregate_id, events)
        return events

    def recorded(self, events: Sequence[Any]) -> None:
        """Add the events this process has just recorded to their aggregates, if held."""
        with self._lock:
            for event in events:
                aggregate_id = event.originator_id
                self._stale.update(self._loading.get(aggregate_id, ()))
                held = self._entries.get(aggregate_id)
                if held is None:
                    continue
                version = held[-1].originator_version
                if version + 1 == event.originator_version:
                    self._extend(aggregate_id, held, [event])
                elif version < event.originator_version:
                    self._forget([aggregate_id])
                # else a refresh already read this event from the tail: it is held

    def forget(self, aggregate_ids: Sequence[UUID]) -> None:
        """Drop aggregates whose write the database failed (it may or may not have committed)."""
        with self._lock:
            self._forget(aggregate_ids)

    def _follow(self, aggregate_id: UUID, held: Sequence[Any], stored: StoredEvent) -> None:
        try:
            event = self._decode(stored)
        except Exception:
            # An event this process cannot read (a newer release wrote it, say): the aggregate is
            # read from the database when next wanted, and fails there as it would uncached,
            # rather than every refresh failing and every request with it.
            self._forget([aggregate_id])
        else:
            self._extend(aggregate_id, held, [event])

    def _extend(self, aggregate_id: UUID, held: Sequence[Any], events: list[Any]) -> None:
        self._entries[aggregate_id] = (*held, *events)
        self._size += len(events)

    def _put(self, aggregate_id: UUID, events: Sequence[Any]) -> None:
        if aggregate_id in self._entries:
            return  # another read got there first
        self._entries[aggregate_id] = events
        self._size += len(events)
        while self._size > self._max_events:
            _, dropped = self._entries.popitem(last=False)
            self._size -= len(dropped)

    def _forget(self, aggregate_ids: Any) -> None:
        for aggregate_id in aggregate_ids:
            dropped = self._entries.pop(aggregate_id, None)
            if dropped is not None:
                self._size -= len(dropped)
            self._stale.update(self._loading.get(aggregate_id, ()))

    def _forget_all(self) -> None:
        self._entries.clear()
        self._size = 0
        for tickets in self._loading.values():
            self._stale.update(tickets)


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)
