"""The batched projector: reads the ledger in pages by notification ID and applies each page to the
read models in one transaction together with the tracking position, so every event is applied
exactly once.

Why reading by notification ID is safe. On SQLite inserts are serialised by its single write
lock: IDs become visible in increasing order. On PostgreSQL writers of different logs insert side
by side (docs/adr/0015-per-log-write-locks.md), so a transaction holding ID n may commit after one
holding n + 1: a page stops at the first missing ID (``ledger.gaps``) until that gap is final,
when every writer that held a log's lock when it was seen has ended (a rolled-back insert leaves a
gap for good). The position, the last ID applied, thus never passes an event still to come, and a
caller waiting for its write's ID (``wait_until``, read-your-writes) is never answered early.

Why two projectors cannot apply the same page: the first statement of a page's transaction locks
the tracking row and checks that it still holds the position the page was read from
(``storage.claim_position``). A projector that lost the race rolls back and starts again from the
position the other one committed.

A page is read and decoded outside the write transaction, then applied in memory (see
``projections.handlers.base``) and written as the difference to what was stored: on SQLite the
write lock, which the ledger's writers share, is held only while the page's rows are written.

Before an event is applied, the rules of ``projections.invalidation`` are asked whether its
operation is invalid (п. 4.4); an excluded event changes no read model and is listed in
``rm_excluded``. An event whose payload was disposed of at the end of its retention period
(``ledger.retention``) has nothing left to show and is passed over; so are events of aggregates the
read models do not know. A rebuild replays everything under the rules in force.

A rebuild never shows a half-built journal: it projects the whole ledger into shadow tables
(``storage.SHADOW``) while the live read models stay as they are (and other processes' projectors
keep them up to date), then, in one transaction that keeps every other projector out, applies to
the shadow tables the pages the live ones are ahead by and switches them in
(``storage.switch``). A reader sees the old read models before that commit and the new ones after.
The read-model audit (``projections.audit``) builds the same way, into ``storage.AUDIT``, and
compares instead of switching.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar, get_args
from uuid import UUID
from zoneinfo import ZoneInfo

import orjson
import psycopg
from psycopg import sql

from ejournal.ledger.application import Ledger
from ejournal.ledger.database import Database, Dialect
from ejournal.ledger.gaps import Gaps, settle_on
from ejournal.ledger.invalidation import Rule
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.projections import directory, storage
from ejournal.projections.decoding import Fields, PayloadDecoder
from ejournal.projections.errors import ProjectionError
from ejournal.projections.handlers import HANDLERS, Handler, Kind, Owned, Page
from ejournal.projections.handlers.invalidation import INVALIDATION
from ejournal.projections.invalidation import ProjectedRules, RuleSet, RuleSource
from ejournal.projections.storage import LIVE, TableSet, Writer
from ejournal.projections.tables import (
    EXCLUDED,
    HISTORY,
    INVALIDATIONS,
    SCHEMA_VERSION,
    SCHOOLS,
    TABLES,
    ExcludedRow,
    Operation,
    Table,
)

log = logging.getLogger("ejournal.projections")

PAGE_SIZE = 5_000
POLL_SECONDS = 0.05
RETRY_SECONDS = 1.0

SWITCH_ATTEMPTS = 3
"""How often the closing transaction of a rebuild or audit is tried when PostgreSQL breaks a
deadlock with a reader by rolling it back (it takes every read model's table lock)."""

Progress = Callable[[int, int], None]
"""Called after each page with (position, events moved past so far)."""
T = TypeVar("T")


class _Target:
    """A set of read-model tables the projector writes, and what it keeps about them: the rules
    to ask (read from the set's own ``rm_invalidation``) and the schools' time zones."""

    __slots__ = ("rules", "tables", "zones", "zones_stale")

    def __init__(self, tables: TableSet, rules: RuleSource) -> None:
        self.tables = tables
        self.rules = rules
        self.zones: dict[str, ZoneInfo] = {}
        self.zones_stale = True


class _Event(NamedTuple):
    """A decoded event of a page (a tuple: there are tens of thousands of them a second)."""

    handler: Handler
    aggregate_id: str
    version: int
    topic: str
    fields: Fields
    op: Operation


class _Page(NamedTuple):
    position: int
    """The position the page was read after."""
    last: int
    """Its last notification ID: the position once it is applied."""
    size: int
    """How many events it moves past (including those the read models do not show)."""
    events: list[_Event]


class Projector:
    """Keeps the read models of one database up to date with its ledger.

    Use ``catch_up`` (or ``rebuild``) to project what is there, or ``start`` a background thread
    that follows new events; ``wait_until`` blocks until a position is projected. One projector per
    process is enough; several processes may run one each.
    """

    def __init__(
        self,
        ledger: Ledger,
        *,
        page_size: int = PAGE_SIZE,
        rules: RuleSource | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self._ledger = ledger
        self._database: Database = ledger.database
        self._decoder = PayloadDecoder(ledger.mapper)
        self._routes = {
            topic: (handler, self._decoder.fast_allowed(handler.event_class))
            for topic, handler in HANDLERS.items()
        }
        self._rules: RuleSource = rules or ProjectedRules()
        self._page_size = page_size
        self._poll_seconds = poll_seconds
        self._live = _Target(LIVE, self._rules)
        self._busy = threading.Lock()  # one page at a time in this process
        self._projected = threading.Condition()
        self._position = 0
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self.last_error: Exception | None = None
        """The error of the background thread's last failed page, until a page succeeds."""
        dialect = self._database.dialect
        self._sql = _EVENT_SQL[dialect]
        self._read_ahead = dialect == "postgres"
        self._gaps = Gaps(dialect)
        self._directory = None if ledger.directory is None else Projector(ledger.directory)
        """In a region, the directory's projector: this server's read models copy its schools,
        accounts and rules (``projections.directory``)."""
        self._setup()

    # --- positions ---------------------------------------------------------------------------

    def position(self) -> int:
        """The notification ID up to which the read models are projected (committed)."""
        with self._database.transaction(write=False) as cursor:
            tracking = storage.read_tracking(cursor)
        self._seen(tracking[0] if tracking else 0)
        return self._position

    def head(self) -> int:
        """The last notification ID in the ledger (0 if it is empty)."""
        with self._database.transaction(write=False) as cursor:
            cursor.execute(self._sql.head)
            return int(cursor.fetchone()[0])

    def lag(self) -> int:
        """How many events the read models are behind the ledger."""
        with self._database.transaction(write=False) as cursor:
            tracking = storage.read_tracking(cursor)
            position = tracking[0] if tracking else 0
            cursor.execute(self._sql.count_after, (position,))
            return int(cursor.fetchone()[0])

    def wait_until(self, position: int, timeout: float | None = None) -> bool:
        """Block until the read models are projected up to ``position`` (by this projector or
        another one); False if ``timeout`` seconds pass first."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if self._position >= position or self.position() >= position:
                return True
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            wait = self._poll_seconds if remaining is None else min(remaining, self._poll_seconds)
            with self._projected:
                self._projected.wait_for(lambda: self._position >= position, wait)

    def _seen(self, position: int) -> None:
        with self._projected:
            self._position = position
            self._projected.notify_all()

    # --- projecting --------------------------------------------------------------------------

    def catch_up(self, *, progress: Progress | None = None) -> int:
        """Project every event recorded so far; returns how many events were moved past. Stops
        early, between pages, once ``stop`` is called.

        On PostgreSQL the next page is read and decoded in a helper thread while the current one
        is written: decoding depends on nothing but the stored rows, and while the server does its
        part of the write the client waits without holding the GIL, so the two overlap. SQLite
        works inside the process, releasing the GIL row by row: the two threads would only take
        turns (measured slower), so there it reads ahead on the same thread.
        """
        with self._busy:
            return self._project(self._live, progress)[0]

    def rebuild(self, *, progress: Progress | None = None) -> int:
        """Project the whole ledger again from the start, and replace the read models by the
        result in one transaction; returns how many events were moved past.

        The new read models are built in shadow tables, page by page (``progress`` is called
        after each), while the live ones stay as they were; the closing transaction keeps other
        projectors out, applies the pages they are ahead by and switches the tables. Readers see
        the old read models until it commits and the new ones after: never a half-built journal.
        Stopped early (``stop``), it leaves the live read models as they were.
        """
        with self._busy:
            shadow, moved = self._build(storage.SHADOW, progress, up_to_live=False, indexes=True)
            if shadow is None:
                return moved
            more, _ = self._settle(
                shadow, lambda writer: storage.switch(writer.cursor, shadow.tables)
            )
            self._live.zones_stale = True
        self.position()
        return moved + more

    def beside(
        self,
        tables: TableSet,
        then: Callable[[Writer], T],
        *,
        progress: Progress | None = None,
    ) -> T | None:
        """Project the ledger into the set ``tables`` beside the live read models, up to the
        position the live ones are at, and call ``then`` in one transaction in which both sets
        are at that same position and no projector moves the live one (``projections.audit``
        compares them there). The set is dropped afterwards. None if stopped early (``stop``).
        """
        with self._busy:
            try:
                target, _ = self._build(tables, progress, up_to_live=True, indexes=False)
                if target is None:
                    return None
                return self._settle(target, then, exact=True)[1]
            finally:
                with self._database.transaction(write=True) as cursor:
                    storage.lock_schema(cursor, self._database.dialect)
                    storage.drop_tables(cursor, tables)

    def run_page(self) -> int:
        """Project the next page; returns how many events it moved past (0: nothing new)."""
        with self._busy:
            while True:
                page = self._fetch(self.position())
                if page is None:
                    return 0
                if self._apply_page(self._live, page):
                    return page.size

    def _project(
        self, target: _Target, progress: Progress | None, up_to: int | None = None
    ) -> tuple[int, bool]:
        """Apply the pages after ``target``'s position (up to notification ID ``up_to``, if
        given) to it; (events moved past, whether it got to the end rather than stopping)."""
        moved = 0
        self._follow_directory(target)
        with ThreadPoolExecutor(1, thread_name_prefix="ejournal-read") as reader:
            page = self._fetch(self._position_of(target), up_to)
            while page is not None and not self._stopping.is_set():
                following = (
                    reader.submit(self._fetch, page.last, up_to) if self._read_ahead else None
                )
                if not self._apply_page(target, page):
                    page = self._fetch(self._position_of(target), up_to)
                    continue
                moved += page.size
                if progress is not None:
                    progress(page.last, moved)
                page = following.result() if following else self._fetch(page.last, up_to)
        return moved, page is None

    def _position_of(self, target: _Target) -> int:
        if target.tables.live:
            return self.position()
        with self._database.transaction(write=False) as cursor:
            tracking = storage.read_tracking(cursor, target.tables)
        return tracking[0] if tracking else 0

    def _build(
        self, tables: TableSet, progress: Progress | None, *, up_to_live: bool, indexes: bool
    ) -> tuple[_Target | None, int]:
        """A fresh set ``tables`` with the ledger projected into it (up to the live position if
        ``up_to_live``, else to the head), and the events moved past; None if stopped early."""
        dialect = self._database.dialect
        target = _Target(tables.tagged(), self._rules_in(tables))
        with self._database.transaction(write=True) as cursor:
            storage.lock_schema(cursor, dialect)
            storage.drop_tables(cursor, target.tables)
            # The secondary indexes are built once the bulk is in: cheaper than maintaining
            # them row by row.
            storage.create_tables(cursor, dialect, indexes=False, tables=target.tables)
            storage.start_tracking(cursor, target.tables)
        target.zones_stale = False
        moved, finished = self._project(target, progress, self.position() if up_to_live else None)
        if not finished:
            return None, moved
        if indexes:
            with self._database.transaction(write=True) as cursor:
                storage.lock_schema(cursor, dialect)
                storage.create_indexes(cursor, dialect, target.tables)
        return target, moved

    def _rules_in(self, tables: TableSet) -> RuleSource:
        """The rule source of a set: the default one reads the set's own rules table."""
        if isinstance(self._rules, ProjectedRules):
            return ProjectedRules(tables.name(INVALIDATIONS))
        return self._rules

    def _settle(
        self, target: _Target, then: Callable[[Writer], T], *, exact: bool = False
    ) -> tuple[int, T]:
        """In one transaction that keeps other projectors from the live read models: bring
        ``target`` to the live position (apply the pages it is behind by; ``exact``: refuse a
        target ahead of it), then ``then``. Returns (events moved past, what ``then`` gave)."""
        for attempt in range(1, SWITCH_ATTEMPTS + 1):
            try:
                with storage.write_transaction(self._ledger, target.tables) as writer:
                    storage.freeze(writer.cursor, writer.dialect)
                    moved = self._follow_live(writer, target, exact=exact)
                    return moved, then(writer)
            except Exception as error:
                if attempt == SWITCH_ATTEMPTS or not _lock_conflict(error):
                    raise
                target.zones_stale = True
                log.info("the read models' switch met a reader's lock; trying again")
        raise AssertionError("unreachable")  # pragma: no cover

    def _follow_live(self, writer: Writer, target: _Target, *, exact: bool) -> int:
        cursor = writer.cursor
        live = storage.read_tracking(cursor, LIVE)
        own = storage.read_tracking(cursor, target.tables)
        position = own[0] if own else 0
        if live is None or live[1] != SCHEMA_VERSION:
            cursor.execute(self._sql.head)
            goal = int(cursor.fetchone()[0])
        else:
            goal = live[0]
        if exact and position > goal:
            raise ProjectionError(
                f"the read models went back from position {position} to {goal} meanwhile"
            )
        if target.zones_stale:
            self._load_zones(target, cursor)
        # Up to the live position every gap is final (a projector passed it); up to the head,
        # it stops at the first gap that may still fill: the live projector goes on from there.
        final_through = goal if live is not None and live[1] == SCHEMA_VERSION else 0
        moved = 0
        while position < goal:
            cursor.execute(self._sql.page_until, (position, goal, self._page_size))
            read = cursor.fetchall()
            rows = read[: self._gaps.passable(position, _ids(read), final_through=final_through)]
            if not rows:
                break
            last = int(rows[-1][0])
            with _collector_paused():
                if not self._apply_in(writer, target, position, last, self._decode(rows)):
                    raise ProjectionError(f"another process is building {target.tables.suffix}")
            moved += len(rows)
            position = last
            if len(rows) < len(read):
                break
        return moved

    def _fetch(self, position: int, up_to: int | None = None) -> _Page | None:
        """The page after ``position`` (up to ``up_to``), decoded; None if there is nothing new."""
        rows = self._read_page(position, up_to)
        if not rows:
            return None
        with _collector_paused():
            events = self._decode(rows)
        return _Page(position, int(rows[-1][0]), len(rows), events)

    def _apply_page(self, target: _Target, page: _Page) -> bool:
        """Apply a page in one transaction; False if another projector applied it first."""
        self._follow_directory(target)
        if target.zones_stale:
            with self._database.transaction(write=False) as cursor:
                self._load_zones(target, cursor)
        try:
            with _collector_paused():
                applied = self._apply(target, page.position, page.last, page.events)
        except Exception:
            target.zones_stale = True  # the page's new schools were not committed
            raise
        if not applied:
            log.info("another projector moved past position %d; reading again", page.position)
        elif target.tables.live:
            self._seen(page.last)
        return applied

    def _follow_directory(self, target: _Target) -> None:
        """In a region: bring the directory's read models to its head, copy what changed of its
        schools, accounts and rules into ``target``, and re-project what a new rule reaches.

        Called after a page was read and before it is applied: everything the page's events
        name was in the directory's log before they were recorded, so it is copied first."""
        if self._directory is None:
            return
        self._directory.catch_up()
        with self._database.transaction(write=False) as cursor:
            followed = directory.followed_position(cursor, target.tables)
        if self._directory.position() <= followed:
            return
        snapshot = directory.DirectorySnapshot.read(self._directory._database, followed)
        with storage.write_transaction(self._ledger, target.tables) as writer:
            position = self._position_of(target)
            # The tracking row's lock keeps another process's projector out meanwhile.
            if not storage.claim_position(writer.cursor, position, target.tables):
                return
            if directory.followed_position(writer.cursor, target.tables) != followed:
                return
            rules = target.rules.load(writer.cursor)
            changed = directory.copy_into(writer, snapshot)
            if INVALIDATIONS in changed:
                self._reproject_changed(writer, target, rules, position)
        if SCHOOLS in changed:
            target.zones_stale = True

    def _read_page(self, position: int, up_to: int | None = None) -> list[Any]:
        """The next page's rows, up to the first missing ID that may yet appear (``ledger.gaps``;
        up to ``up_to``, the live position, every gap is final)."""
        rows = self._read_rows(position, up_to)
        passable = self._gaps.passable(position, _ids(rows), final_through=up_to or 0)
        if passable < len(rows) and self._gaps_settled(int(rows[-1][0])):
            rows = self._read_rows(position, up_to)  # the gaps seen so far are final now
            passable = self._gaps.passable(position, _ids(rows), final_through=up_to or 0)
        return rows[:passable]

    def _gaps_settled(self, last_read: int) -> bool:
        with self._database.transaction(write=False) as cursor:
            return settle_on(cursor, self._gaps.settle(last_read))

    def _read_rows(self, position: int, up_to: int | None = None) -> list[Any]:
        if up_to is None:
            return storage.read_rows(self._ledger, self._sql.page, (position, self._page_size))
        return storage.read_rows(
            self._ledger, self._sql.page_until, (position, up_to, self._page_size)
        )

    def _decode(self, rows: Sequence[Any]) -> list[_Event]:
        events = []
        routes = self._routes
        decode = self._decoder.decode
        for nid, oid, version, topic, state, actor, session, cv, at in rows:
            route = routes.get(topic)
            if route is None:
                continue  # not an event the read models show
            if state is None:
                continue  # its payload was disposed of (ledger.retention): nothing left to show
            handler, fast = route
            fields = decode(oid, version, topic, state, fast)
            op = Operation(nid, actor, session, cv, at)
            events.append(_Event(handler, oid, version, topic, fields, op))
        return events

    def _apply(self, target: _Target, position: int, last: int, events: Sequence[_Event]) -> bool:
        with storage.write_transaction(self._ledger, target.tables) as writer:
            return self._apply_in(writer, target, position, last, events)

    def _apply_in(
        self,
        writer: Writer,
        target: _Target,
        position: int,
        last: int,
        events: Sequence[_Event],
    ) -> bool:
        """Apply a page within ``writer``'s transaction; False if the position moved."""
        cursor = writer.cursor
        if not storage.claim_position(cursor, position, target.tables):
            return False
        rules = target.rules.load(cursor)
        states = self._states(writer, events)
        page = Page(target.zones)
        _replay(page, rules, states, events)
        _place_excluded(writer, page)
        self._write(writer, states.values(), page)
        if any(event.handler.kind is INVALIDATION for event in events):
            self._reproject_changed(writer, target, rules, last)
        storage.advance_position(cursor, last, target.tables)
        return True

    def _reproject_changed(
        self, writer: Writer, target: _Target, before: RuleSet, last: int
    ) -> None:
        """Re-project, under the rules now in force, every record an operation under a new or
        changed rule touched (up to notification ID ``last``)."""
        rules = target.rules.load(writer.cursor)
        changed = [
            rule for rule in rules.rules if isinstance(rule, Rule) and rule not in before.rules
        ]
        if not changed:
            return
        aggregate_ids: set[str] = set()
        for rule in changed:
            writer.cursor.execute(*self._sql.reach(rule, last))
            aggregate_ids.update(row[0] for row in writer.cursor.fetchall())
        if not aggregate_ids:
            return
        log.info(
            "п. 4.4: re-projecting %d records under %d new rules", len(aggregate_ids), len(changed)
        )
        rows = self._aggregate_rows(writer, sorted(aggregate_ids), last)
        events = self._decode(rows)
        states = self._states(writer, events, again=True)
        page = Page(target.zones)
        _replay(page, rules, states, events)
        _place_excluded(writer, page)
        replayed = [(event.op.nid,) for event in events]
        writer.delete(HISTORY, replayed)
        writer.delete(EXCLUDED, replayed)
        self._write(writer, states.values(), page)

    def _aggregate_rows(self, writer: Writer, ids: Sequence[str], last: int) -> list[Any]:
        """Every event (as a page row) of the aggregates ``ids`` up to notification ID ``last``."""
        writer.cursor.execute(self._sql.of_aggregates, (storage.many(writer.dialect, ids), last))
        return list(writer.cursor.fetchall())

    def _states(
        self, writer: Writer, events: Sequence[_Event], *, again: bool = False
    ) -> dict[str, Owned]:
        """The rows of every aggregate the page touches: new ones empty, others as stored.

        ``again``: the events are every event of their aggregates, to be applied again from the
        start; the stored rows are loaded only to be compared with what the events now give.
        """
        states: dict[str, Owned] = {}
        to_load: dict[Kind, list[str]] = {}
        for event in events:
            if event.aggregate_id in states:
                continue
            kind = event.handler.kind
            states[event.aggregate_id] = Owned(kind, event.aggregate_id)
            if again or not event.handler.creates:
                to_load.setdefault(kind, []).append(event.aggregate_id)
        for kind, ids in to_load.items():
            # Main rows by aggregate ID first: they give the keys the other rows are stored by.
            primary = kind.primary
            by_key: dict[int, Owned] = {}
            for values in writer.load(primary, ids):
                state = states[values[primary.owner_position]]
                state.restore(primary, values)
                by_key[state.key] = state
            for table, _ in kind.children:
                for values in writer.load(table, list(by_key)):
                    by_key[values[table.owner_position]].restore(table, values)
        if again:
            for state in states.values():
                state.forget()
        return states

    def _write(self, writer: Writer, states: Iterable[Owned], page: Page) -> None:
        """Write what the page changed: new rows, and for stored aggregates the rows that differ."""
        deletes: dict[Table, list[tuple[Any, ...]]] = {}
        inserts: dict[Table, list[tuple[Any, ...]]] = {table: [] for table in TABLES}
        for state in states:
            if not state.loaded:  # created in this page: every row is new
                if state.primary is not None:
                    inserts[state.kind.primary].append(state.kind.primary.values(state.primary))
                for table, rows in state.children.items():
                    inserts[table].extend(map(table.values, rows.values()))
                continue
            before = {(t, t.key_of(values)): values for t, values in state.loaded}
            for table, row in state.all_rows():
                values = table.values(row)
                key = table.key_of(values)
                old = before.pop((table, key), None)
                if old == values:
                    continue
                if old is not None:
                    deletes.setdefault(table, []).append(key)
                inserts[table].append(values)
            for table, key in before:
                deletes.setdefault(table, []).append(key)
        inserts[HISTORY] = [HISTORY.values(row) for row in page.history]
        inserts[EXCLUDED] = [EXCLUDED.values(row) for row in page.excluded]
        for table, keys in deletes.items():
            writer.delete(table, keys)
        for table, new_rows in inserts.items():
            writer.insert(table, new_rows)

    # --- set-up ------------------------------------------------------------------------------

    def _setup(self) -> None:
        """Create the read models if missing; rebuild them if their schema is out of date."""
        dialect = self._database.dialect
        with self._busy, self._database.transaction(write=True) as cursor:
            storage.lock_schema(cursor, dialect)
            storage.create_tracking(cursor)
            tracking = storage.read_tracking(cursor)
            if tracking is not None and tracking[1] != SCHEMA_VERSION:
                log.warning(
                    "read models are at schema %d, the code at %d: rebuilding",
                    tracking[1],
                    SCHEMA_VERSION,
                )
                storage.drop_tables(cursor)
            storage.create_tables(cursor, dialect)
            storage.start_tracking(cursor)
        self.position()

    def _load_zones(self, target: _Target, cursor: Any) -> None:
        cursor.execute(f"SELECT school_id, time_zone FROM {target.tables.name(SCHOOLS)}")
        zones = {school_id: ZoneInfo(zone) for school_id, zone in cursor.fetchall()}
        target.zones.clear()
        target.zones.update(zones)
        target.zones_stale = False

    # --- the background thread ---------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Follow the ledger in a background thread until ``stop``."""
        if self.running:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self.follow, name="ejournal-projector", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 10.0) -> None:
        """Stop the background thread (and a ``catch_up`` running meanwhile) after its current
        page; waits up to ``timeout`` seconds for it. Later calls of ``catch_up`` run as usual."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._stopping.clear()

    def wake(self) -> None:
        """Look for new events now rather than at the next poll (after a write, say)."""
        self._wake.set()

    def follow(self) -> None:
        """Project new events as they come, until ``stop`` is called (or the process is
        interrupted). A failed page is logged, kept in ``last_error`` and tried again after a
        pause."""
        while not self._stopping.is_set():
            try:
                self.catch_up()
            except Exception as error:
                self.last_error = error
                log.exception("projecting a page failed; trying again in %.0f s", RETRY_SECONDS)
                self._wake.wait(RETRY_SECONDS)
                self._wake.clear()
                continue
            self.last_error = None
            # Wait even after a page: under a steady stream of writes the next page then holds
            # what came in meanwhile, where going on at once would apply pages of one event
            # each, at several times the cost per event (measured over HTTP: ≈ 2 ms per mark).
            self._wake.wait(self._poll_seconds)
            self._wake.clear()


def _ids(rows: Sequence[Any]) -> list[int]:
    return [int(row[0]) for row in rows]


_LOCK_CONFLICTS = (psycopg.errors.DeadlockDetected, psycopg.errors.LockNotAvailable)


def _lock_conflict(error: BaseException) -> bool:
    """Whether PostgreSQL rolled the transaction back over a lock (the library's connection wraps
    psycopg's errors in its own, with psycopg's as the cause)."""
    return isinstance(error, _LOCK_CONFLICTS) or isinstance(error.__cause__, _LOCK_CONFLICTS)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a page is decoded or applied.

    A page allocates tens of thousands of short-lived dicts, tuples and rows, none of them in
    cycles: reference counting frees them all, and the collector's passes over them cost about a
    sixth of a rebuild. Its previous state is restored afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _replay(page: Page, rules: RuleSet, states: dict[str, Owned], events: Sequence[_Event]) -> None:
    """Apply ``events`` to their aggregates' rows, leaving out those a rule excludes."""
    for event in events:
        handler, aggregate_id, _, _, fields, op = event
        state = states[aggregate_id]
        if rules and _excluded(page, rules, event, state):
            continue
        if state.primary is None and not handler.creates:
            continue  # its creation was excluded: nothing of it is shown
        handler.apply(page, state, fields, op)


def _place_excluded(writer: Writer, page: Page) -> None:
    """Give each excluded operation whose record has no row (its creation was excluded too) the
    school of its log, so that the school's re-entry worklist lists it."""
    for row in page.excluded:
        if row.school_id is None:
            writer.cursor.execute(
                _EVENT_SQL[writer.dialect].log_of, (row.originator_id, row.originator_version)
            )
            parts = str(writer.cursor.fetchone()[0]).split("/")
            if parts[0] == "school":
                row.school_id = UUID(parts[1]).hex


def _excluded(page: Page, rules: RuleSet, event: _Event, state: Owned) -> bool:
    rule = rules.excluding(event.op, event.topic)
    if rule is None:
        return False
    fields = event.fields
    school_id = getattr(state.primary, "school_id", None) or fields.get("school_id")
    page.excluded.append(
        ExcludedRow(
            event.aggregate_id,
            event.version,
            event.topic,
            rule.name,
            school_id,
            orjson.dumps(fields).decode(),
            event.op,
        )
    )
    return True


@dataclass(frozen=True, slots=True)
class _EventSQL:
    """The projector's statements over the events table, in one database's dialect.

    Composed once with psycopg's ``sql`` (names as identifiers, expressions from our own
    constants); every value is a ``?`` parameter. The read side wants IDs as hex text: PostgreSQL
    stores them as ``uuid`` (``encode(uuid_send(…), 'hex')``), SQLite as that text already.
    """

    page: str
    """The next page of events after a notification ID, with their entries' provenance."""
    page_until: str
    """The same, up to a notification ID: (after, up to, page size)."""
    head: str
    count_after: str
    of_aggregates: str
    """Every event of some aggregates (one list parameter) up to a notification ID, in order."""
    log_of: str
    by_session: str
    by_account: str

    @classmethod
    def of(cls, dialect: Dialect) -> _EventSQL:
        postgres = dialect == "postgres"
        nid = sql.Identifier("notification_id" if postgres else "rowid")
        uuid = sql.SQL("?::uuid" if postgres else "?")

        def hex_of(column: str) -> sql.Composable:
            name = sql.Identifier(column)
            return sql.SQL("encode(uuid_send({}), 'hex')").format(name) if postgres else name

        columns = sql.SQL(", ").join(
            [
                nid,
                hex_of("originator_id"),
                *map(sql.Identifier, ("originator_version", "topic", "state")),
                hex_of("actor_id"),
                hex_of("session_id"),
                *map(sql.Identifier, ("credential_version", "recorded_at")),
            ]
        )
        events = sql.Identifier(EVENTS_TABLE)
        one_of = sql.SQL("= ANY(?::uuid[])" if postgres else "IN (SELECT value FROM json_each(?))")
        reach = sql.SQL("SELECT DISTINCT {} FROM {} WHERE ").format(hex_of("originator_id"), events)

        def text(template: str, **parts: sql.Composable) -> str:
            return sql.SQL(template).format(**parts).as_string(None)

        return cls(
            page=text(
                "SELECT {columns} FROM {events} WHERE {nid} > ? ORDER BY {nid} LIMIT ?",
                columns=columns,
                events=events,
                nid=nid,
            ),
            page_until=text(
                "SELECT {columns} FROM {events} WHERE {nid} > ? AND {nid} <= ? ORDER BY {nid} "
                "LIMIT ?",
                columns=columns,
                events=events,
                nid=nid,
            ),
            head=text("SELECT COALESCE(MAX({nid}), 0) FROM {events}", nid=nid, events=events),
            count_after=text(
                "SELECT COUNT(*) FROM {events} WHERE {nid} > ?", nid=nid, events=events
            ),
            of_aggregates=text(
                "SELECT {columns} FROM {events} WHERE originator_id {one_of} AND {nid} <= ? "
                "ORDER BY {nid}",
                columns=columns,
                events=events,
                one_of=one_of,
                nid=nid,
            ),
            log_of=text(
                "SELECT log_id FROM {events} "
                "WHERE originator_id = {uuid} AND originator_version = ?",
                events=events,
                uuid=uuid,
            ),
            by_session=text(
                "{reach} session_id = {uuid} AND {nid} <= ?", reach=reach, uuid=uuid, nid=nid
            ),
            by_account=text(
                "{reach} actor_id = {uuid} AND credential_version <= ? AND recorded_at >= ? "
                "AND {nid} <= ?",
                reach=reach,
                uuid=uuid,
                nid=nid,
            ),
        )

    def reach(self, rule: Rule, last: int) -> tuple[str, tuple[Any, ...]]:
        """The statement and parameters that list the aggregates (hex IDs) the operations under
        ``rule`` touched, up to notification ID ``last``."""
        if rule.session_id is not None:
            return self.by_session, (rule.session_id, last)
        return self.by_account, (rule.account_id, rule.credential_version, rule.since, last)


_EVENT_SQL = {dialect: _EventSQL.of(dialect) for dialect in get_args(Dialect)}


def page_statement(dialect: Dialect) -> str:
    """The projector's page query (for benchmarks, which time it alone as their anchor)."""
    return _EVENT_SQL[dialect].page
