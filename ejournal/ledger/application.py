"""The event store: an eventsourcing Application whose saves are attributed and logged."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import (
    IntegrityError,
    PersistenceError,
    Recording,
    StoredEvent,
    Transcoder,
)
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.utils import Environment

from ejournal.ledger.actor import Actor, Role
from ejournal.ledger.async_database import AsyncDatabase, Statement
from ejournal.ledger.clock import Clock, system_clock
from ejournal.ledger.config import DEFAULT_DATABASE_URL, persistence_env
from ejournal.ledger.database import Database
from ejournal.ledger.domain import SYSTEM_KINDS
from ejournal.ledger.errors import ConcurrentWriteError, DatabaseUnavailableError, NotInMemory
from ejournal.ledger.event_cache import EventCache
from ejournal.ledger.fences import moved_error
from ejournal.ledger.recorders import (
    EVENTS_TABLE,
    SYSTEM_LOG,
    BatchContext,
    SaveContext,
    WriteContext,
)
from ejournal.ledger.transcoder import default_transcoder
from ejournal.ledger.working_days import WorkingCalendar

A = TypeVar("A", bound=Aggregate)


class Ledger(Application[UUID]):
    """One per process. Every write goes through ``record``: one command, one save, one log."""

    name = "ejournal"

    def __init__(
        self,
        *,
        database_url: str = DEFAULT_DATABASE_URL,
        clock: Clock = system_clock,
        env: Mapping[str, str] | None = None,
        calendar: WorkingCalendar | None = None,
        directory: Ledger | None = None,
    ) -> None:
        self.clock = clock
        self.database_url = database_url
        self.lives_here: Callable[[str], None] | None = None
        """In a region, checks that a log is placed on this ledger's server before it is saved
        here (raises ``LogMovedError``): set by ``ledger.placement.Region``."""
        self.directory = directory
        """In a region (``ledger.placement``), the ledger of the directory database, which holds
        the system log: this one's saves to the system log and reads of its aggregates
        (``SYSTEM_KINDS``) go there. None: this database holds the system log too."""
        self.calendar = calendar or WorkingCalendar()
        """Working days, for the deadline of a breach report (п. 4.3)."""
        settings = persistence_env(database_url)
        super().__init__(env={**settings, **(env or {})})
        datastore = getattr(self.recorder, "datastore", None)
        assert isinstance(datastore, SQLiteDatastore | PostgresDatastore)
        self.database = Database(datastore)
        # The unit of work open in this thread (or task), if any: see ``unit_of_work``.
        self._unit: ContextVar[_UnitOfWork | None] = ContextVar(
            f"ejournal-unit-of-work-{id(self)}", default=None
        )
        self._cache = EventCache(self.database, self.mapper.to_domain_event)
        # The cached reads open in this context, if any: see ``cached_reads``.
        self._reads: ContextVar[_CachedReads | None] = ContextVar(
            f"ejournal-cached-reads-{id(self)}", default=None
        )

    def construct_env(self, name: str, env: Mapping[str, str] | None = None) -> Environment:
        # Settings come from our own configuration only: the library would otherwise let any
        # process environment variable (such as EJOURNAL_SQLITE_DBNAME) override them silently.
        # The environment is unnamed so that the events table is "stored_events" on both databases
        # (a named one would be "<name>_events" on PostgreSQL only).
        return Environment("", dict(env or {}))

    def construct_transcoder(self) -> Transcoder:
        return default_transcoder()

    def record(self, *aggregates: Aggregate, log_id: str, actor: Actor, role: Role) -> datetime:
        """Save the pending events of ``aggregates`` in one transaction, in log ``log_id``.

        Returns the recorded time (the server clock's reading). Raises ``ConcurrentWriteError`` if
        another write saved one of the aggregates first (nothing is written), ``LogMovedError`` if
        the log lives on another server (nothing is written), and ``DatabaseUnavailableError`` if
        the database fails.
        """
        if self.directory is not None and log_id == SYSTEM_LOG:
            return self.directory.record(*aggregates, log_id=log_id, actor=actor, role=role)
        context = WriteContext(log_id=log_id, actor=actor, role=role, recorded_at=self.clock())
        unit = self._unit.get()
        if unit is not None:
            unit.stage(aggregates, context)
            return context.recorded_at
        self._save(aggregates, context, [aggregate.id for aggregate in aggregates])
        return context.recorded_at

    def _save(self, items: Sequence[Any], context: SaveContext, ids: list[UUID]) -> None:
        """Save aggregates or events, and keep the event cache current with what was written
        (``ids``: the aggregates written, forgotten if the database fails). Raises
        ``ConcurrentWriteError`` (nothing written), ``LogMovedError`` (the log is placed on
        another server, or a fence refused it: nothing written) or ``DatabaseUnavailableError``."""
        if self.lives_here is not None:
            self.lives_here(context.log_id)
        try:
            recordings = self._store(items, context)
        except IntegrityError as e:
            # The write that got there first is in the tail of the notification log: a block's
            # next read brings the cache up to date, and a command run again sees that write
            # without reading its aggregates afresh.
            reads = self._reads.get()
            if reads is not None:
                reads.refreshed = False
            raise ConcurrentWriteError(f"a concurrent write changed the same record: {e}") from e
        except PersistenceError as e:
            self._cache.forget(ids)
            moved = moved_error(e)
            if moved is not None:  # a fence: the log lives on another server now
                raise moved from e
            raise DatabaseUnavailableError(str(e)) from e
        self._cache.recorded([recording.domain_event for recording in recordings])
        reads = self._reads.get()
        if reads is not None and recordings:
            reads.saved = max(reads.saved, recordings[-1].notification.id)

    def _store(self, items: Sequence[Any], context: SaveContext) -> list[Recording[UUID]]:
        """The library's ``save`` of aggregates (their pending events) or of a unit of work's
        events, without its ``collect_events``: that asks ``isinstance`` of two runtime
        Protocols per item, which on Python 3.11 walks each Protocol's members every time
        (40 µs a save, measured, of a one-event save's ≈ 700 µs). Ours are ``Aggregate``s, and
        anything else is an event."""
        processing: ProcessingEvent[UUID] = ProcessingEvent()
        for item in items:
            if isinstance(item, Aggregate):
                processing.events.extend(item.collect_events())
                processing.aggregates[item.id] = item
            else:
                processing.events.append(item)
        processing.saved_kwargs["context"] = context
        recordings = self._record(processing)
        self._take_snapshots(processing)
        self._notify(recordings)
        self.notify(processing.events)  # deprecated, but the library's save still calls it
        return recordings

    def saved_position(self) -> int:
        """Inside ``cached_reads``: the notification ID of the last event saved in the block (in
        its context, or in a thread it handed work to), 0 if it saved none; 0 outside a block.
        The read models show the block's writes once they are projected up to it."""
        reads = self._reads.get()
        return 0 if reads is None else reads.saved

    def get(self, aggregate_id: UUID, kind: type[A]) -> A:
        """The current state of aggregate ``aggregate_id``, which is a ``kind``. Raises
        ``AggregateNotFoundError`` if there is no such aggregate of that kind.

        Inside a unit of work, the state includes what the unit has recorded so far.
        """
        if self.directory is not None and issubclass(kind, SYSTEM_KINDS):
            return self.directory.get(aggregate_id, kind)
        unit = self._unit.get()
        if unit is None:
            aggregate = self._get_stored(aggregate_id)
        else:
            aggregate = unit.get(aggregate_id, self._get_stored)
        if not isinstance(aggregate, kind):
            raise AggregateNotFoundError(aggregate_id)
        return aggregate

    def find(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        """The aggregate ``aggregate_id`` if it exists and is a ``kind``, else None."""
        try:
            return self.get(aggregate_id, kind)
        except AggregateNotFoundError:
            return None

    def _get_stored(self, aggregate_id: UUID) -> Any:
        reads = self._reads.get()
        if reads is None:
            return self.repository.get(aggregate_id, projector_func=_project)
        if reads.memory_only:
            events = self._cache.held(aggregate_id) if reads.refreshed else None
            if events is None:
                raise NotInMemory(aggregate_id)
            return _project(None, events)
        if not reads.refreshed:
            try:
                self._cache.refresh()
            except PersistenceError as e:
                raise DatabaseUnavailableError(str(e)) from e
            reads.refreshed = True
        return _project(None, self._cache.events(aggregate_id, self._read_events))

    def _read_events(self, aggregate_id: UUID) -> tuple[Any, ...]:
        events = tuple(self.events.get(aggregate_id))
        if not events:
            raise AggregateNotFoundError(aggregate_id)
        return events

    @contextmanager
    def cached_reads(self) -> Iterator[None]:
        """Read aggregates from memory within the block (in this context: a request).

        The cache learns what the ledger recorded since it last looked at the block's first read
        (``ledger.event_cache``), so the block sees every change recorded before it began, and
        its own writes; like reads without a cache, it may or may not see a concurrent change
        recorded while it runs. Each read still returns a new aggregate.
        """
        token = self._reads.set(_CachedReads())
        try:
            yield
        finally:
            self._reads.reset(token)

    async def refresh_cached_reads(
        self, database: AsyncDatabase, *alongside: Statement
    ) -> list[list[Any]]:
        """Inside ``cached_reads``: bring the cache up to date now, with the queries on the event
        loop, so that the block's first read needs none of its own. ``alongside``: other
        queries to run in the same round trip (which other requests may share); their rows are
        returned."""
        reads = self._reads.get()
        if reads is None or reads.refreshed:
            return await database.together(*alongside) if alongside else []
        others = await self._cache.refresh_async(database, *alongside)
        reads.refreshed = True
        return others

    @contextmanager
    def memory_only(self) -> Iterator[None]:
        """Inside ``cached_reads``: within this block a read that would need the database raises
        ``NotInMemory`` instead, for code on the event loop, which must not wait on a blocking
        query (it goes on in a thread)."""
        reads = self._reads.get()
        if reads is None:
            raise NotInMemory("memory_only outside cached_reads")
        reads.memory_only = True
        try:
            yield
        finally:
            reads.memory_only = False

    def prefetch(self, aggregate_ids: Iterable[UUID]) -> None:
        """Read the aggregates a unit of work is about to use, all in one query.

        Only inside a unit of work (elsewhere it does nothing): the unit then has each of them,
        or knows it does not exist, without a round trip per aggregate. IDs the unit already
        holds are left alone. Raises ``DatabaseUnavailableError`` if the database fails.
        """
        unit = self._unit.get()
        if unit is None:
            return
        wanted = sorted(
            {i for i in aggregate_ids if i not in unit.current and i not in unit.missing}
            - unit.staged.keys()
        )
        if not wanted:
            return
        found = self._read_many(wanted)
        for aggregate_id in wanted:
            events = found.get(aggregate_id)
            if events is None:
                unit.missing.add(aggregate_id)
            else:
                unit.current[aggregate_id] = _project(None, events)

    def find_many(self, aggregate_ids: Iterable[UUID], kind: type[A]) -> dict[UUID, A]:
        """Those of the aggregates ``aggregate_ids`` that exist and are a ``kind``, read in one
        query (per 500) rather than one each: a timetable's hundreds of lessons.

        Inside a unit of work they are read as ``get`` reads them (its own changes included).
        Raises ``DatabaseUnavailableError`` if the database fails.
        """
        if self.directory is not None and issubclass(kind, SYSTEM_KINDS):
            return self.directory.find_many(aggregate_ids, kind)
        wanted = list(dict.fromkeys(aggregate_ids))
        if self._unit.get() is not None:
            self.prefetch(wanted)
            found = {i: self.find(i, kind) for i in wanted}
            return {i: a for i, a in found.items() if a is not None}
        aggregates = {i: _project(None, events) for i, events in self._read_many(wanted).items()}
        return {i: a for i, a in aggregates.items() if isinstance(a, kind)}

    def _read_many(self, aggregate_ids: Sequence[UUID]) -> dict[UUID, list[Any]]:
        """The stored events of each of the aggregates that exist, in order. Raises
        ``DatabaseUnavailableError``."""
        found: dict[UUID, list[Any]] = {}
        to_domain_event = self.mapper.to_domain_event
        columns = "originator_id, originator_version, topic, state"
        wanted = sorted(aggregate_ids)
        try:
            with self.database.transaction(write=False) as cursor:
                for start in range(0, len(wanted), _PREFETCH_CHUNK):
                    chunk = wanted[start : start + _PREFETCH_CHUNK]
                    if self.database.dialect == "postgres":
                        cursor.execute(
                            f"SELECT {columns} FROM {EVENTS_TABLE} WHERE originator_id = ANY(?) "
                            "ORDER BY originator_id, originator_version",
                            (chunk,),
                        )
                    else:
                        marks = ", ".join("?" * len(chunk))
                        cursor.execute(
                            f"SELECT {columns} FROM {EVENTS_TABLE} WHERE originator_id IN "
                            f"({marks}) ORDER BY originator_id, originator_version",
                            [i.hex for i in chunk],
                        )
                    for originator, version, topic, state in cursor.fetchall():
                        key = originator if isinstance(originator, UUID) else UUID(originator)
                        stored = StoredEvent(key, version, topic, bytes(state))
                        found.setdefault(key, []).append(to_domain_event(stored))
        except PersistenceError as e:
            raise DatabaseUnavailableError(str(e)) from e
        return found

    @contextmanager
    def unit_of_work(self) -> Iterator[None]:
        """Save every command run inside the block, in this thread, in one ``save()``.

        Each command still runs its handler with every check; its ``record`` only stages the
        events, with its own actor, role and recorded time, and the block's normal end saves them
        all in one transaction: their log entries are exactly those the commands would have
        written one save each. If the block raises, nothing is written.

        Within the unit each aggregate is read from the database once and then kept, with the
        unit's own changes applied: like one long command, the unit does not see a concurrent
        change to an aggregate it only read, and if a concurrent write changed an aggregate it
        writes, the whole save fails (``ConcurrentWriteError``, nothing written). An aggregate
        left with unsaved changes by a refused command is read again. All commands of a unit
        write to one log; recording in another raises ``ValueError``. Units do not nest.
        Raises what ``record`` raises, at the end of the block. On a schools' server the
        block's writes to the system log are staged in a unit of the directory's, which saves
        them at the end; a block that writes both raises ``ValueError``, as for two logs.
        """
        if self.directory is None:
            with self._unit_of_work(None):
                yield
            return
        with self.directory.unit_of_work(), self._unit_of_work(self.directory):
            yield

    @contextmanager
    def _unit_of_work(self, directory: Ledger | None) -> Iterator[None]:
        if self._unit.get() is not None:
            raise RuntimeError("units of work do not nest")
        unit = _UnitOfWork()
        token = self._unit.set(unit)
        try:
            yield
        finally:
            self._unit.reset(token)
        if not unit.events:
            return
        if directory is not None and (staged := directory._unit.get()) and staged.events:
            msg = f"a unit of work writes one log: {staged.log_id}, not also {unit.log_id}"
            raise ValueError(msg)
        assert unit.log_id is not None
        context = BatchContext(log_id=unit.log_id, segments=tuple(unit.segments))
        self._save(unit.events, context, list(unit.staged))


def _project(aggregate: Any, events: Iterable[Any]) -> Any:
    # The library's projector asserts isinstance(event, <runtime Protocol>) for every event, which
    # costs more than applying the event; our events are the aggregates' own nested classes.
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


_PREFETCH_CHUNK = 500
"""IDs per prefetch statement (SQLite allows at most 999 parameters in older builds)."""


@dataclass(eq=False, slots=True)
class _CachedReads:
    refreshed: bool = False
    """Whether the cache has been brought up to date for this block."""
    memory_only: bool = False
    """Inside ``Ledger.memory_only``."""
    saved: int = 0
    """The notification ID of the block's last saved event (``Ledger.saved_position``)."""


@dataclass(eq=False, slots=True)
class _UnitOfWork:
    """What a unit of work has recorded, and the aggregates it has read or written."""

    log_id: str | None = None
    events: list[Any] = field(default_factory=list)
    segments: list[tuple[WriteContext, int]] = field(default_factory=list)
    current: dict[UUID, Any] = field(default_factory=dict)
    """Each aggregate's state as the unit sees it: stored state plus the unit's events."""
    staged: dict[UUID, list[Any]] = field(default_factory=dict)
    """The unit's events of each aggregate, to rebuild one a refused command left changed."""
    missing: set[UUID] = field(default_factory=set)
    """IDs read and found in neither the database nor the unit."""

    def get(self, aggregate_id: UUID, get_stored: Any) -> Any:
        aggregate = self.current.get(aggregate_id)
        # Unsaved changes mean a command changed the aggregate and was refused: read it again.
        if aggregate is not None and not aggregate.pending_events:
            return aggregate
        if aggregate is None and aggregate_id in self.missing:
            raise AggregateNotFoundError(aggregate_id)
        staged = self.staged.get(aggregate_id, [])
        try:
            aggregate = get_stored(aggregate_id)
        except AggregateNotFoundError:
            if not staged:
                self.missing.add(aggregate_id)
                raise
            aggregate = None
        version = 0 if aggregate is None else aggregate.version
        aggregate = _project(aggregate, (e for e in staged if e.originator_version > version))
        self.current[aggregate_id] = aggregate
        return aggregate

    def stage(self, aggregates: Iterable[Aggregate], context: WriteContext) -> None:
        if self.log_id is None:
            self.log_id = context.log_id
        elif context.log_id != self.log_id:
            msg = f"a unit of work writes one log: {self.log_id}, not also {context.log_id}"
            raise ValueError(msg)
        count = 0
        for aggregate in aggregates:
            events = aggregate.collect_events()
            self.events.extend(events)
            self.staged.setdefault(aggregate.id, []).extend(events)
            self.current[aggregate.id] = aggregate
            self.missing.discard(aggregate.id)
            count += len(events)
        if count:
            self.segments.append((context, count))
