"""A region: schools placed on several PostgreSQL servers (docs/adr/0018-schools-on-servers.md).

The directory database (``EJOURNAL_DATABASE_URL``) holds the system log (schools, accounts, the
rules of п. 4.4), the identity tables and the placement: a table naming, for each placed school,
the server that holds its logs and read models, and a table naming, for a log placed apart from
its school (a closed school year on an archive server, docs/adr/0020-closed-years-placed-apart.md),
the server that holds that log. A school not placed lives in the directory database itself, so a
deployment of one server has an empty placement and works as before.

Every process routes by log: a save by its log (``Region.for_log``), a read or a command by the
school (or the school year) it concerns (``Region.for_school``), or by the log of the record it
names (``Region.locate``: a record's log never changes, though the log's server may). A
server's ``Ledger`` sends its system-log saves and reads to the directory's
(``Ledger.directory``).

Servers are named in ``EJOURNAL_SERVERS`` (``name=URL,name=URL``); the name, not the URL, is
stored, so a server can change its address. A server's ledger is opened on first use and again
after it failed to open: a server that is down makes only its own schools fail
(``ServerUnavailableError``), and the rest of the region keeps working.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.persistence import PersistenceError

from ejournal.integrity.leaf import micros
from ejournal.integrity.note import Verifier
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer
from ejournal.ledger.database import Database
from ejournal.ledger.domain import School
from ejournal.ledger.errors import DatabaseUnavailableError, LedgerError, LogMovedError
from ejournal.ledger.fences import fences
from ejournal.ledger.logs import school_log_id
from ejournal.ledger.recorders import EVENTS_TABLE, SCHEMA_LOCK, SYSTEM_LOG
from ejournal.ledger.relocation import MovedLog, move_logs
from ejournal.ledger.settings import DIRECTORY as DIRECTORY

PLACEMENT_TABLE = "school_placement"
LOG_PLACEMENT_TABLE = "log_placement"
_CREATE = (
    f"""
CREATE TABLE IF NOT EXISTS {PLACEMENT_TABLE} (
    school_id TEXT PRIMARY KEY,
    server TEXT NOT NULL,
    placed_at BIGINT NOT NULL
)""",
    f"""
CREATE TABLE IF NOT EXISTS {LOG_PLACEMENT_TABLE} (
    log_id TEXT PRIMARY KEY,
    server TEXT NOT NULL,
    placed_at BIGINT NOT NULL
)""",
)

FRESH_SECONDS = 2.0
"""How long a process trusts the placement it read: a move's switch reaches every process within
this (and a save on the old server is refused meanwhile, ``ledger.relocation``)."""
LOCATED = 100_000
"""Records whose log a process remembers (the least recently asked are forgotten)."""
CONNECT_SECONDS = 5
"""How long a request waits for a connection to a school's server before it fails (503): a
server that is down holds up its own schools' requests this long, no one else's."""
RETRY_SECONDS = 5.0
"""A server that failed to open is tried again after this."""

Carry = Callable[[Database, Database, Collection[str]], object]
"""What moves with logs, in the placement's switch: ``carry(source, target, log_ids)``, the
source's logs fenced by then (the mail room's state: ``mail.moving``)."""


class PlacementError(LedgerError):
    """A placement that cannot be: an unknown server, a school placed twice."""


class ServerUnavailableError(DatabaseUnavailableError):
    """The server that holds a school cannot be reached: that school's requests fail (503),
    every other school's go on."""

    def __init__(self, server: str, reason: str) -> None:
        super().__init__(f"server {server!r} is unavailable: {reason}")
        self.server = server


def school_of_log(log_id: str) -> UUID | None:
    """The school whose log ``log_id`` is (``school/<id>/<years>``), None for the system log."""
    if log_id == SYSTEM_LOG:
        return None
    kind, _, rest = log_id.partition("/")
    school, _, _ = rest.partition("/")
    if kind != "school":
        raise PlacementError(f"not a school's log: {log_id!r}")
    return UUID(school)


@dataclass(frozen=True)
class _Snapshot:
    schools: dict[UUID, str] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)


class Placement:
    """The placement tables of the directory database (schools, and logs placed apart from
    their school), read together through a short-lived copy."""

    def __init__(self, database: Database, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._database = database
        self._clock = clock
        self._lock = threading.Lock()
        self._snapshot = _Snapshot()
        self._read_at = float("-inf")
        with database.transaction(write=True) as cursor:
            # Processes that start at once (a server's workers) create them one at a time.
            cursor.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
            for statement in _CREATE:
                cursor.execute(statement)

    def server_of(self, school_id: UUID) -> str:
        """The server that holds ``school_id`` (``DIRECTORY`` if it is not placed): its current
        year's log and every log not placed apart."""
        return self.all().get(school_id, DIRECTORY)

    def server_of_log(self, log_id: str) -> str:
        """The server that holds log ``log_id``: the log's own placement, else its school's
        (``DIRECTORY`` for the system log and for a school not placed). Raises
        ``PlacementError`` for a log ID that is neither."""
        return self.placed(log_id) or DIRECTORY

    def placed(self, log_id: str) -> str | None:
        """Where log ``log_id`` is placed, on its own or with its school; None if neither is
        (the system log, or a school not placed). Raises ``PlacementError`` for a log ID that is
        neither the system log nor a school's."""
        school = school_of_log(log_id)
        snapshot = self._fresh()
        if log_id in snapshot.logs:
            return snapshot.logs[log_id]
        return None if school is None else snapshot.schools.get(school)

    def all(self) -> dict[UUID, str]:
        """Every placed school and its server."""
        return self._fresh().schools

    def logs(self) -> dict[str, str]:
        """Every log placed apart from its school, and its server."""
        return self._fresh().logs

    def forget(self) -> None:
        """Read the tables again at the next question (after a save was refused as moved)."""
        with self._lock:
            self._read_at = float("-inf")

    def place(self, school_id: UUID, server: str, *, at: int) -> None:
        """Place ``school_id`` on ``server`` (or move its placement there: ``at`` is the
        switch's time, microseconds since the epoch). One statement: every process sees the
        school on one server or the other, never on both or neither. Its logs placed apart
        stay where they are."""
        self._upsert(PLACEMENT_TABLE, "school_id", str(school_id), server, at)

    def place_log(self, log_id: str, server: str, *, at: int) -> None:
        """Place log ``log_id`` on ``server`` apart from its school (or move its placement
        there), in one statement, as ``place``. Raises ``PlacementError`` for a log that is no
        school's."""
        if school_of_log(log_id) is None:
            raise PlacementError(f"the {log_id} log lives in the directory: it is placed by none")
        self._upsert(LOG_PLACEMENT_TABLE, "log_id", log_id, server, at)

    def _upsert(self, table: str, key: str, value: str, server: str, at: int) -> None:
        upsert = (
            f"INSERT INTO {table} ({key}, server, placed_at) VALUES (?, ?, ?) "
            f"ON CONFLICT ({key}) DO UPDATE SET server = excluded.server, "
            "placed_at = excluded.placed_at"
        )
        self._database.write_one(upsert, (value, server, at))
        self.forget()

    def _fresh(self) -> _Snapshot:
        with self._lock:
            if self._clock() - self._read_at > FRESH_SECONDS:
                self._snapshot = self._read()
                self._read_at = self._clock()
            return self._snapshot

    def _read(self) -> _Snapshot:
        with self._database.transaction(write=False) as cursor:
            cursor.execute(f"SELECT school_id, server FROM {PLACEMENT_TABLE}")
            schools = {UUID(school): server for school, server in cursor.fetchall()}
            cursor.execute(f"SELECT log_id, server FROM {LOG_PLACEMENT_TABLE}")
            logs = {log_id: server for log_id, server in cursor.fetchall()}
        return _Snapshot(schools, logs)


@dataclass(eq=False)
class _Server:
    url: str
    ledger: Ledger | None = None
    failed_at: float = float("-inf")
    error: str = ""


class Region:
    """The directory's ledger and, opened on demand, one ledger per server of schools."""

    def __init__(
        self,
        directory: Ledger,
        servers: Mapping[str, str],
        *,
        open_ledger: Callable[[str, Ledger], Ledger] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``open_ledger(url, directory)`` opens a server's ledger (its tables created); by
        default a ``Ledger`` with the directory's clock and calendar."""
        if servers and directory.database.dialect != "postgres":
            raise PlacementError("schools are placed on servers only with a PostgreSQL directory")
        self.directory = directory
        self.placement = Placement(directory.database, clock=clock)
        directory.lives_here = self._checker(DIRECTORY)
        self._servers = {name: _Server(url) for name, url in servers.items()}
        self._open = open_ledger or server_ledger
        self._clock = clock
        self._lock = threading.Lock()
        self._located: OrderedDict[UUID, str] = OrderedDict()

    @property
    def servers(self) -> dict[str, str]:
        """The servers of schools (not the directory) and their URLs."""
        return {name: entry.url for name, entry in self._servers.items()}

    @property
    def names(self) -> list[str]:
        """The servers' names, the directory first."""
        return [DIRECTORY, *self._servers]

    def ledger(self, server: str) -> Ledger:
        """The ledger of ``server``; raises ``PlacementError`` for an unknown one and
        ``ServerUnavailableError`` if it cannot be opened."""
        if server == DIRECTORY:
            return self.directory
        entry = self._servers.get(server)
        if entry is None:
            raise PlacementError(f"no server named {server!r} (EJOURNAL_SERVERS)")
        if entry.ledger is not None:
            return entry.ledger
        with self._lock:
            if entry.ledger is None:
                if self._clock() - entry.failed_at < RETRY_SECONDS:
                    raise ServerUnavailableError(server, entry.error)
                try:
                    entry.ledger = self._open(entry.url, self.directory)
                except (LedgerError, PersistenceError) as e:
                    entry.failed_at, entry.error = self._clock(), str(e)
                    raise ServerUnavailableError(server, str(e)) from e
                entry.ledger.lives_here = self._checker(server)
            return entry.ledger

    def _checker(self, server: str) -> Callable[[str], None]:
        """What ``server``'s ledger asks before a save: a log placed on another server (on its
        own, or with its school) is kept there, and a write here (a route that missed its
        server, a process whose placement is stale) would start a second copy of the log. A
        school not placed yet is written where its first records go (``place`` then refuses to
        place it elsewhere)."""

        def lives_here(log_id: str) -> None:
            if not log_id.startswith("school/"):
                return  # the system log: only the directory's ledger saves it
            placed = self.placement.placed(log_id)
            if placed is not None and placed != server:
                raise LogMovedError(log_id, placed)

        return lives_here

    def for_school(self, school_id: UUID) -> Ledger:
        """The ledger of the server that holds ``school_id`` (its logs not placed apart)."""
        return self.ledger(self.placement.server_of(school_id))

    def for_log(self, log_id: str) -> Ledger:
        """The ledger that holds log ``log_id``: the system log's is the directory's; a school
        year's is its own placement's, else its school's."""
        return self.ledger(self.placement.server_of_log(log_id))

    def locate(self, record_id: UUID) -> str | None:
        """The log that holds record ``record_id`` (the system log's records included), None
        if no server has it. A record found is remembered: it never changes its log (where the
        log lives is the placement's to say, ``for_log``). Raises ``ServerUnavailableError`` if
        no server that answers has it and one does not answer."""
        with self._lock:
            if record_id in self._located:
                self._located.move_to_end(record_id)
                return self._located[record_id]
        log_id = self._find(record_id)
        if log_id is None:
            return None  # not yet written, or on a server that is down: ask again next time
        with self._lock:
            self._located[record_id] = log_id
            while len(self._located) > LOCATED:
                self._located.popitem(last=False)
        return log_id

    def _find(self, record_id: UUID) -> str | None:
        """The directory first (the system log, unplaced schools), then each server; a log's
        copy left on a move's source names the same log. A record found on none while a server
        is down may be there: that is ``ServerUnavailableError``, not "no such record"."""
        down: ServerUnavailableError | None = None
        for name in self.names:
            try:
                log_id = _log_of(self.ledger(name).database, record_id)
            except DatabaseUnavailableError as e:
                down = ServerUnavailableError(name, str(e))
                continue
            if log_id is not None:
                return log_id
        if down is not None:
            raise down
        return None

    def copies(self, server: str) -> dict[str, str]:
        """The logs whose copy ``server`` holds while they live on another server, and that
        server: a move's source keeps its copy, fenced, for good (I4; ``ledger.fences``).
        Whoever gathers logs from every server leaves these out, so that each log is reported
        once, by the server it lives on. A log fenced on both servers during a move is the
        placed server's."""
        fenced = fences(self.ledger(server).database)
        lives_on = {log_id: self.placement.server_of_log(log_id) for log_id in fenced}
        return {log_id: there for log_id, there in lives_on.items() if there != server}

    def place(self, school_id: UUID, server: str) -> bool:
        """Place school ``school_id``, which has no records yet where it is, on ``server``;
        False if it is there already. Raises ``PlacementError`` for an unknown server or school,
        or a school whose records are on another server (``move-school`` moves them), and
        ``ServerUnavailableError`` if either server cannot be reached."""
        self.ledger(server)  # known, and reachable: the school's first records go there
        if self.directory.find(school_id, School) is None:
            raise PlacementError(f"no school {school_id} is registered")
        current = self.placement.server_of(school_id)
        if current == server:
            return False
        if self._logs_with_school(current, school_id):
            raise PlacementError(
                f"school {school_id} has records on {current!r}: move it with move-school"
            )
        self.placement.place(school_id, server, at=micros(self.directory.clock()))
        return True

    def move(
        self,
        school_id: UUID,
        server: str,
        *,
        checkpointer: Callable[[Ledger], Checkpointer],
        verifiers: Sequence[Verifier],
        carry: Carry | None = None,
    ) -> list[MovedLog]:
        """Move school ``school_id``'s logs to ``server`` while it keeps writing, and switch its
        placement there (``ledger.relocation.move_logs``: the source fenced first, every root
        proven equal at a signed checkpoint, then the switch). Its logs placed apart (closed
        years, ``move_year``) stay where they are. ``checkpointer(source)`` signs on the
        source. A move that was interrupted, before or after its switch, finishes. Raises
        ``PlacementError`` for a school already there or with no records, and what
        ``move_logs`` raises."""
        self.ledger(server)  # a server of the region's, before anything else is said
        apart = self.placement.logs()

        def with_school(log_id: str) -> bool:
            return school_of_log(log_id) == school_id and log_id not in apart

        source = self._source(self.placement.server_of(school_id), server, with_school)
        if source == server:
            raise PlacementError(f"school {school_id} is on {server!r} already")
        logs = self._logs_with_school(source, school_id)
        if not logs:
            raise PlacementError(
                f"school {school_id} has no records on {source!r}: place it with place-school"
            )
        at = micros(self.directory.clock())
        return self._move(
            source,
            server,
            logs,
            switch=lambda: self.placement.place(school_id, server, at=at),
            checkpointer=checkpointer,
            verifiers=verifiers,
            carry=carry,
        )

    def move_year(
        self,
        school_id: UUID,
        year_start: int,
        server: str,
        *,
        checkpointer: Callable[[Ledger], Checkpointer],
        verifiers: Sequence[Verifier],
        carry: Carry | None = None,
    ) -> list[MovedLog]:
        """Move the log of school ``school_id``'s school year ``year_start`` alone to ``server``
        (an archive server) as ``move`` moves a school's, and place the log there apart from
        its school: its saves, reads and records go there from then on, and a move of the
        school leaves it where it is. Only a year that is over moves (its 31 August has passed
        in the school's time zone): it takes no more writes, though one that arrives during the
        move is refused by the fence and sent where the placement says. Moving it again, to
        any server, is the same call. Raises ``PlacementError`` for a year not over, a log
        already there or with no records, and what ``move_logs`` raises."""
        self.ledger(server)
        self._require_over(school_id, year_start)
        log_id = school_log_id(school_id, year_start)
        source = self._source(
            self.placement.server_of_log(log_id), server, lambda log: log == log_id
        )
        if source == server:
            raise PlacementError(f"log {log_id} is on {server!r} already")
        if log_id not in _school_logs(self.ledger(source).database, school_id):
            raise PlacementError(
                f"school {school_id} has no records of the school year "
                f"{year_start}/{year_start + 1} on {source!r}"
            )
        at = micros(self.directory.clock())
        return self._move(
            source,
            server,
            [log_id],
            switch=lambda: self.placement.place_log(log_id, server, at=at),
            checkpointer=checkpointer,
            verifiers=verifiers,
            carry=carry,
        )

    def _require_over(self, school_id: UUID, year_start: int) -> None:
        """Raise ``PlacementError`` unless school ``school_id``'s school year ``year_start`` is
        over: its last day, 31 August, has passed by the ledger's clock in the school's time
        zone (Moscow time unless the school keeps another)."""
        school = self.directory.find(school_id, School)
        if school is None:
            raise PlacementError(f"no school {school_id} is registered")
        if not date.min.year <= year_start < date.max.year:
            raise PlacementError(f"no school year starts in {year_start}")
        ends_on = date(year_start + 1, 8, 31)
        today = self.directory.clock().astimezone(ZoneInfo(school.time_zone)).date()
        if today <= ends_on:
            raise PlacementError(
                f"the school year {year_start}/{year_start + 1} of school {school_id} is not "
                f"over: it ends on {ends_on.isoformat()}; only a closed year moves apart from "
                "its school"
            )

    def _source(self, placed: str, server: str, moving: Callable[[str], bool]) -> str:
        """The server the logs that ``moving`` names move from to ``server``: where they are
        placed, or, for a move interrupted after its switch (placed on ``server`` already and
        still fenced there), the server the target's fences say they came from."""
        if placed == server:
            for log_id, lives_on in fences(self.ledger(server).database).items():
                if log_id.startswith("school/") and moving(log_id):
                    return lives_on
        return placed

    def _logs_with_school(self, server: str, school_id: UUID) -> list[str]:
        """The logs of ``school_id`` that ``server`` holds and that are placed with the school
        (not apart from it)."""
        apart = self.placement.logs()
        held = _school_logs(self.ledger(server).database, school_id)
        return [log_id for log_id in held if log_id not in apart]

    def _move(
        self,
        source: str,
        server: str,
        logs: Collection[str],
        *,
        switch: Callable[[], None],
        checkpointer: Callable[[Ledger], Checkpointer],
        verifiers: Sequence[Verifier],
        carry: Carry | None,
    ) -> list[MovedLog]:
        source_ledger, target_ledger = self.ledger(source), self.ledger(server)

        def carried_and_switched() -> None:
            if carry is not None:
                carry(source_ledger.database, target_ledger.database, logs)
            switch()

        return move_logs(
            source_ledger.database,
            target_ledger.database,
            logs,
            checkpointer=checkpointer(source_ledger),
            verifiers=verifiers,
            source_name=source,
            target_name=server,
            switch=carried_and_switched,
        )

    def close(self) -> None:
        """Close the servers' ledgers (not the directory's: its owner closes it)."""
        self.directory.lives_here = None
        for entry in self._servers.values():
            if entry.ledger is not None:
                entry.ledger.close()
                entry.ledger = None


def server_ledger(url: str, directory: Ledger) -> Ledger:
    """The ledger of the server at ``url``, whose system log is ``directory``'s (``Region``'s
    default way of opening a server)."""
    return Ledger(
        database_url=url,
        clock=directory.clock,
        calendar=directory.calendar,
        directory=directory,
        env={"POSTGRES_CONNECT_TIMEOUT": str(CONNECT_SECONDS)},
    )


def _school_logs(database: Database, school_id: UUID) -> list[str]:
    with database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT DISTINCT log_id FROM {EVENTS_TABLE} WHERE log_id LIKE ? ORDER BY log_id",
            (f"school/{school_id}/%",),
        )
        return [row[0] for row in cursor.fetchall()]


def _log_of(database: Database, record_id: UUID) -> str | None:
    try:
        with database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT log_id FROM {EVENTS_TABLE} WHERE originator_id = ? LIMIT 1",
                (database.uuid(record_id),),
            )
            row = cursor.fetchone()
    except PersistenceError as e:  # a server that fails mid-question is down for this question
        raise DatabaseUnavailableError(str(e)) from e
    return None if row is None else str(row[0])
