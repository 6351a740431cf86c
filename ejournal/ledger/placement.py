"""A region: schools placed on several PostgreSQL servers (docs/adr/0018-schools-on-servers.md).

The directory database (``EJOURNAL_DATABASE_URL``) holds the system log (schools, accounts, the
rules of п. 4.4), the identity tables and the placement: a table naming, for each placed school,
the server that holds its logs and read models. A school not in it lives in the directory
database itself, so a deployment of one server has an empty placement and works as before.

Every process routes by school: a save by its log (``Region.for_log``), a read or a command by
the school it concerns (``Region.for_school``), or by the school of the record it names
(``Region.locate``: a record's log, hence its school, never changes). A server's ``Ledger``
sends its system-log saves and reads to the directory's (``Ledger.directory``).

Servers are named in ``EJOURNAL_SERVERS`` (``name=URL,name=URL``); the name, not the URL, is
stored, so a server can change its address. A server's ledger is opened on first use and again
after it failed to open: a server that is down makes only its own schools fail
(``ServerUnavailableError``), and the rest of the region keeps working.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.persistence import PersistenceError

from ejournal.integrity.leaf import micros
from ejournal.integrity.note import Verifier
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer
from ejournal.ledger.database import Database
from ejournal.ledger.domain import School
from ejournal.ledger.errors import DatabaseUnavailableError, LedgerError, LogMovedError
from ejournal.ledger.fences import fences
from ejournal.ledger.recorders import EVENTS_TABLE, SCHEMA_LOCK, SYSTEM_LOG
from ejournal.ledger.relocation import MovedLog, move_logs
from ejournal.ledger.settings import DIRECTORY as DIRECTORY

PLACEMENT_TABLE = "school_placement"
_CREATE = f"""
CREATE TABLE IF NOT EXISTS {PLACEMENT_TABLE} (
    school_id TEXT PRIMARY KEY,
    server TEXT NOT NULL,
    placed_at BIGINT NOT NULL
)"""

FRESH_SECONDS = 2.0
"""How long a process trusts the placement it read: a move's switch reaches every process within
this (and a save on the old server is refused meanwhile, ``ledger.relocation``)."""
LOCATED = 100_000
"""Records whose school a process remembers (the least recently asked are forgotten)."""
CONNECT_SECONDS = 5
"""How long a request waits for a connection to a school's server before it fails (503): a
server that is down holds up its own schools' requests this long, no one else's."""
RETRY_SECONDS = 5.0
"""A server that failed to open is tried again after this."""


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


class Placement:
    """The placement table of the directory database, read through a short-lived copy."""

    def __init__(self, database: Database, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._database = database
        self._clock = clock
        self._lock = threading.Lock()
        self._servers: dict[UUID, str] = {}
        self._read_at = float("-inf")
        with database.transaction(write=True) as cursor:
            # Processes that start at once (a server's workers) create it one at a time.
            cursor.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
            cursor.execute(_CREATE)

    def server_of(self, school_id: UUID) -> str:
        """The server that holds ``school_id`` (``DIRECTORY`` if it is not placed)."""
        return self.all().get(school_id, DIRECTORY)

    def all(self) -> dict[UUID, str]:
        """Every placed school and its server."""
        with self._lock:
            if self._clock() - self._read_at > FRESH_SECONDS:
                self._servers = self._read()
                self._read_at = self._clock()
            return self._servers

    def forget(self) -> None:
        """Read the table again at the next question (after a save was refused as moved)."""
        with self._lock:
            self._read_at = float("-inf")

    def place(self, school_id: UUID, server: str, *, at: int) -> None:
        """Place ``school_id`` on ``server`` (or move its placement there: ``at`` is the
        switch's time, microseconds since the epoch). One statement: every process sees the
        school on one server or the other, never on both or neither."""
        upsert = (
            f"INSERT INTO {PLACEMENT_TABLE} (school_id, server, placed_at) VALUES (?, ?, ?) "
            "ON CONFLICT (school_id) DO UPDATE SET server = excluded.server, "
            "placed_at = excluded.placed_at"
        )
        self._database.write_one(upsert, (str(school_id), server, at))
        self.forget()

    def _read(self) -> dict[UUID, str]:
        with self._database.transaction(write=False) as cursor:
            cursor.execute(f"SELECT school_id, server FROM {PLACEMENT_TABLE}")
            return {UUID(school): server for school, server in cursor.fetchall()}


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
        self._located: OrderedDict[UUID, UUID] = OrderedDict()

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
        """What ``server``'s ledger asks before a save: a school placed on another server has
        its logs there, and a write here (a route that missed its school's server, a process
        whose placement is stale) would start a second copy of the log. A school not placed
        yet is written where its first records go (``place`` then refuses to place it
        elsewhere)."""

        def lives_here(log_id: str) -> None:
            if not log_id.startswith("school/"):
                return  # the system log: only the directory's ledger saves it
            placed = self.placement.all().get(school_of_log(log_id) or UUID(int=0))
            if placed is not None and placed != server:
                raise LogMovedError(log_id, placed)

        return lives_here

    def for_school(self, school_id: UUID) -> Ledger:
        """The ledger of the server that holds ``school_id``."""
        return self.ledger(self.placement.server_of(school_id))

    def for_log(self, log_id: str) -> Ledger:
        """The ledger that holds log ``log_id``: the system log's is the directory's."""
        school = school_of_log(log_id)
        return self.directory if school is None else self.for_school(school)

    def locate(self, record_id: UUID) -> UUID | None:
        """The school whose log holds record ``record_id``, None if no server has it (or it is
        in the system log). A record found is remembered: it never changes its log. Raises
        ``ServerUnavailableError`` if no server that answers has it and one does not answer."""
        with self._lock:
            if record_id in self._located:
                self._located.move_to_end(record_id)
                return self._located[record_id]
        school = self._find(record_id)
        if school is None:
            return None  # not yet written, or on a server that is down: ask again next time
        with self._lock:
            self._located[record_id] = school
            while len(self._located) > LOCATED:
                self._located.popitem(last=False)
        return school

    def _find(self, record_id: UUID) -> UUID | None:
        """The directory first (unplaced schools), then each server. A record found on none
        while a server is down may be there: that is ``ServerUnavailableError``, not "no such
        record"."""
        down: ServerUnavailableError | None = None
        for name in self.names:
            try:
                log_id = _log_of(self.ledger(name).database, record_id)
            except DatabaseUnavailableError as e:
                down = ServerUnavailableError(name, str(e))
                continue
            if log_id is not None:
                return school_of_log(log_id)
        if down is not None:
            raise down
        return None

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
        if _holds_school(self.ledger(current).database, school_id):
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
    ) -> list[MovedLog]:
        """Move school ``school_id``'s logs to ``server`` while it keeps writing, and switch its
        placement there (``ledger.relocation.move_logs``: the source fenced first, every root
        proven equal at a signed checkpoint, then the switch). ``checkpointer(source)`` signs on
        the source. A move that was interrupted, before or after its switch, finishes. Raises
        ``PlacementError`` for a school already there or with no records, and what
        ``move_logs`` raises."""
        target = self.ledger(server)
        placed = self.placement.server_of(school_id)
        # Interrupted after its switch: the target's fences still name where the logs came from.
        unfinished = [
            lives_on
            for log_id, lives_on in fences(target.database).items()
            if school_of_log(log_id) == school_id
        ]
        source_name = unfinished[0] if placed == server and unfinished else placed
        if source_name == server:
            raise PlacementError(f"school {school_id} is on {server!r} already")
        source = self.ledger(source_name)
        logs = _school_logs(source.database, school_id)
        if not logs:
            raise PlacementError(
                f"school {school_id} has no records on {source_name!r}: place it with place-school"
            )
        at = micros(self.directory.clock())
        return move_logs(
            source.database,
            target.database,
            logs,
            checkpointer=checkpointer(source),
            verifiers=verifiers,
            source_name=source_name,
            target_name=server,
            switch=lambda: self.placement.place(school_id, server, at=at),
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


def _holds_school(database: Database, school_id: UUID) -> bool:
    return bool(_school_logs(database, school_id))


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
