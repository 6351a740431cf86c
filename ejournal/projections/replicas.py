"""Hot-standby replicas of a PostgreSQL server, for reads of the read models
(docs/adr/0016-replica-reads.md).

A streaming replica replays the primary's WAL in commit order, and the projector commits the read
models and its tracking position in one transaction: a replica whose tracking row says n holds
exactly the read models the primary held at n. A read that must see the read models at least at
n (where the primary had them when the read began: the caller's writes, which the request
waited for, included) is served by a replica that has got there, tried in turn (round robin),
waiting up to ``wait_seconds`` for one; else by the primary. A replica that fails (down, a query
cancelled by replay, or a server that is no standby of the primary's database: checked at each
connection) is left alone for ``RETRY_SECONDS``, its reads going to the primary: a replica never
fails a read. Each of these is logged once, not at every read.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence

from eventsourcing.persistence import PersistenceError
from eventsourcing.postgres import PostgresDatastore

from ejournal.ledger.clock import Clock, system_clock
from ejournal.ledger.config import BadDatabaseURLError, persistence_env
from ejournal.ledger.database import Database
from ejournal.ledger.errors import LedgerError
from ejournal.projections.queries import Queries

WAIT_SECONDS = 0.2
"""How long a read waits for a replica to replay as far as it must see, before it goes to the
primary (``EJOURNAL_REPLICA_WAIT_SECONDS``)."""
POLL_SECONDS = 0.005
"""How often a waiting read asks the replicas again how far they are."""
RETRY_SECONDS = 10.0
"""How long a replica that failed is left alone before a read tries it again."""
CONNECT_SECONDS = 0.5
"""How long a read waits for a connection to a replica (a replica that is down costs one read
this long every ``RETRY_SECONDS``)."""
MAX_CONNECTIONS = 32
"""Per replica and process, opened on demand: as many as the server's threads that read
(``api.app.create_app``), so that a read never waits for a connection, and a read that times out
waiting for one (``CONNECT_SECONDS``) means the replica is down, not busy."""

log = logging.getLogger("ejournal.projections")


Identity = tuple[int, str]
"""(the cluster's system identifier, the database's name): a standby's are its primary's."""
IDENTITY_QUERY = "SELECT system_identifier, current_database() FROM pg_control_system()"
STANDBY_QUERY = (
    "SELECT system_identifier, current_database(), pg_is_in_recovery() FROM pg_control_system()"
)


class ReplicaError(LedgerError):
    """A replica cannot serve: the server at its URL is not a standby of the primary's cluster
    serving the same database (a primary, another server, another database: its reads could be
    anything), or it failed lately and is left alone."""


ReplicaFailure = (PersistenceError, ReplicaError)
"""What a replica may raise that leaves its reads to the primary."""


def identity(database: Database) -> Identity:
    """``database``'s ``Identity``. Raises eventsourcing's ``PersistenceError``."""
    with database.transaction(write=False) as cursor:
        cursor.execute(IDENTITY_QUERY)
        system, name = cursor.fetchone()
    return int(system), str(name)


class Replica:
    """One replica's read models, opened at first use (a replica that is down when the server
    starts does not keep it from starting), and checked then to be a standby of the primary
    whose identity ``primary`` returns."""

    def __init__(
        self, url: str, primary: Callable[[], Identity], *, clock: Clock = system_clock
    ) -> None:
        env = persistence_env(url)  # raises BadDatabaseURLError
        if "POSTGRES_DBNAME" not in env:
            raise BadDatabaseURLError(f"a replica is a PostgreSQL server, not {url!r}")
        self._env = env
        self._primary = primary
        self._clock = clock
        self.name = f"{env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}/{env['POSTGRES_DBNAME']}"
        """Where it is, for the log (no password)."""
        self.reached = 0
        """The highest position seen here: replay only moves forward, so a read that must see
        no further needs no query."""
        self.down_until = 0.0
        """Until when (``time.monotonic``) it is left alone after a failure."""
        self.failing = False
        """Whether it failed since it last served (logged once)."""
        self.lagging = False
        """Whether a read went to the primary because this one was behind (logged once)."""
        self.served = 0
        """Reads it has served (``Replicas.served``, without a lock: near enough to watch)."""
        self._datastore: PostgresDatastore | None = None
        self._queries: Queries | None = None
        self._lock = threading.Lock()

    @property
    def queries(self) -> Queries:
        """Its read models. Raises eventsourcing's ``PersistenceError`` if it cannot be reached,
        ``ReplicaError`` if it is not a standby of the primary or is left alone."""
        with self._lock:
            if self._queries is None:
                # Threads that were waiting here while another found it down do not try again.
                if self.down_until > time.monotonic():
                    raise ReplicaError(f"{self.name} failed lately")
                env = self._env
                datastore = PostgresDatastore(
                    env["POSTGRES_DBNAME"],
                    env["POSTGRES_HOST"],
                    env["POSTGRES_PORT"],
                    env["POSTGRES_USER"],
                    env["POSTGRES_PASSWORD"],
                    connect_timeout=CONNECT_SECONDS,
                    pool_size=1,
                    max_overflow=MAX_CONNECTIONS - 1,
                )
                database = Database(datastore)
                try:
                    self._check(database)
                except BaseException:
                    self.down_until = time.monotonic() + RETRY_SECONDS
                    datastore.close()
                    raise
                self._datastore = datastore
                self._queries = Queries(database, clock=self._clock)
            return self._queries

    def _check(self, database: Database) -> None:
        with database.transaction(write=False) as cursor:
            cursor.execute(STANDBY_QUERY)
            system, name, standby = cursor.fetchone()
        if not standby:
            raise ReplicaError(f"{self.name} is not a standby (pg_is_in_recovery() is false)")
        if (int(system), str(name)) != self._primary():
            raise ReplicaError(
                f"{self.name} is not a standby of the primary's database (another cluster's "
                "system identifier, or another database)"
            )

    def position(self) -> int:
        """How far its read models are projected (0 before the first page). Raises what
        ``queries`` raises (``ReplicaFailure``)."""
        found = self.queries.version()
        position = found[0] if found is not None else 0
        self.reached = max(self.reached, position)
        return position

    def close(self) -> None:
        """Close its connections; the next read opens new ones."""
        with self._lock:
            datastore, self._datastore, self._queries = self._datastore, None, None
        if datastore is not None:
            datastore.close()


class Replicas:
    """The replicas of the primary, shared by a process's threads."""

    def __init__(
        self,
        urls: Sequence[str],
        primary: Database,
        *,
        clock: Clock = system_clock,
        wait_seconds: float = WAIT_SECONDS,
    ) -> None:
        self.replicas = tuple(Replica(url, self._identity, clock=clock) for url in urls)
        self.wait_seconds = wait_seconds
        self._primary = primary
        self._primary_identity: Identity | None = None
        self._turns = itertools.count()
        self._lock = threading.Lock()

    def _identity(self) -> Identity:
        """The primary's ``Identity``, read once."""
        if self._primary_identity is None:
            self._primary_identity = identity(self._primary)
        return self._primary_identity

    def serving(self, position: int) -> Replica | None:
        """A replica whose read models are projected up to ``position``, the next in turn that
        is; None if none is within ``wait_seconds`` (or none is up): read from the primary."""
        with self._lock:
            turn = next(self._turns)
        now = time.monotonic()
        count = len(self.replicas)
        candidates = [
            replica
            for replica in (self.replicas[(turn + i) % count] for i in range(count))
            if replica.down_until <= now
        ]
        for replica in candidates:
            if replica.reached >= position:
                return replica
        deadline = now + self.wait_seconds
        while candidates:
            for replica in list(candidates):
                try:
                    reached = replica.position() >= position
                except ReplicaFailure as e:  # down, refused, not a standby: the primary reads
                    self.failed(replica, e)
                    candidates.remove(replica)
                    continue
                if reached:
                    return replica
            if time.monotonic() >= deadline:
                break
            time.sleep(POLL_SECONDS)
        for replica in candidates:
            if not replica.lagging:
                replica.lagging = True
                log.warning(
                    "replica %s has not replayed position %d within %.3f s: reads go to the "
                    "primary while it is behind",
                    replica.name,
                    position,
                    self.wait_seconds,
                )
        return None

    def failed(self, replica: Replica, error: Exception) -> None:
        """``replica`` failed a read: leave it alone for ``RETRY_SECONDS`` (logged once, until it
        serves again) and close its connections, so that the next try connects afresh."""
        if not replica.failing:
            replica.failing = True
            log.warning(
                "replica %s failed (%s): reads go to the primary; trying it again every %.0f s",
                replica.name,
                error,
                RETRY_SECONDS,
            )
        replica.down_until = time.monotonic() + RETRY_SECONDS
        replica.close()

    @staticmethod
    def served(replica: Replica) -> None:
        """``replica`` served a read (``serving`` chose it, and the read succeeded)."""
        replica.served += 1
        if replica.failing or replica.lagging:
            log.info("replica %s serves reads again", replica.name)
            replica.failing, replica.lagging = False, False

    def close(self) -> None:
        for replica in self.replicas:
            replica.close()
