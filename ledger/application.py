"""The event store: an eventsourcing Application whose saves are attributed and logged."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, PersistenceError, Transcoder
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.utils import Environment

from ledger.actor import Actor, Role
from ledger.clock import Clock, system_clock
from ledger.config import DEFAULT_DATABASE_URL, persistence_env
from ledger.database import Database
from ledger.errors import ConcurrentWriteError, DatabaseUnavailableError
from ledger.recorders import WriteContext
from ledger.transcoder import default_transcoder


class Ledger(Application[UUID]):
    """One per process. Every write goes through ``record``: one command, one save, one log."""

    name = "ejournal"

    def __init__(
        self,
        *,
        database_url: str = DEFAULT_DATABASE_URL,
        clock: Clock = system_clock,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.clock = clock
        settings = persistence_env(database_url)
        super().__init__(env={**settings, **(env or {})})
        datastore = getattr(self.recorder, "datastore", None)
        assert isinstance(datastore, SQLiteDatastore | PostgresDatastore)
        self.database = Database(datastore)

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
        another write saved one of the aggregates first (nothing is written), and
        ``DatabaseUnavailableError`` if the database fails.
        """
        context = WriteContext(log_id=log_id, actor=actor, role=role, recorded_at=self.clock())
        try:
            self.save(*aggregates, context=context)
        except IntegrityError as e:
            raise ConcurrentWriteError(f"a concurrent write changed the same record: {e}") from e
        except PersistenceError as e:
            raise DatabaseUnavailableError(str(e)) from e
        return context.recorded_at

    def get(self, aggregate_id: UUID) -> Any:
        """The current state of an aggregate; raises ``AggregateNotFoundError``."""
        return self.repository.get(aggregate_id, projector_func=_project)


def _project(aggregate: Any, events: Iterable[Any]) -> Any:
    # The library's projector asserts isinstance(event, <runtime Protocol>) for every event, which
    # costs more than applying the event; our events are the aggregates' own nested classes.
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate
