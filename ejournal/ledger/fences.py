"""Fences: the logs a PostgreSQL database no longer accepts events of, because they live elsewhere.

A school's logs move between servers (``ledger.relocation``, docs/adr/0017-moving-a-school.md).
While one is being copied, and for good once it has moved, the database it does not live in must
refuse to record its events, whoever asks: a process whose placement is stale, a worker that was
already waiting for the log's lock. The refusal is the database's own, so no process can miss it:

- ``fenced_logs`` holds one row per fenced log and where the log lives (a server's name);
- a statement-level trigger on the events table (``AFTER INSERT … REFERENCING NEW TABLE``: one
  check per insert statement, an index lookup per distinct log) raises SQLSTATE ``EJ001`` when an
  insert adds an event of a fenced log, naming the log (DETAIL) and where it lives (HINT);
- the ledger turns that into ``LogMovedError`` (``moved_error``), nothing written.

The copy of a log into a database that fences it (``relocation.copy_logs``) marks its transaction
(``RELOCATING``), and the trigger lets it through: a copy is the one writer of a fenced log.

The table and the trigger are created by the first fence in a database (``install``): a database
that never took part in a move runs no trigger at all. SQLite has one server and never moves.
"""

from __future__ import annotations

from collections.abc import Iterable

from eventsourcing.persistence import PersistenceError

from ejournal.integrity.leaf import micros
from ejournal.ledger.clock import Clock, system_clock
from ejournal.ledger.database import Database
from ejournal.ledger.errors import LedgerError, LogMovedError
from ejournal.ledger.recorders import EVENTS_TABLE, SCHEMA_LOCK, log_lock

FENCES_TABLE = "fenced_logs"
REFUSAL_STATE = "EJ001"
"""The SQLSTATE of the trigger's refusal: a class of its own, so that no client library takes it
for a connection failure and tries again."""
RELOCATING = "ejournal.relocating"
"""A transaction-local setting: ``on`` in the transactions of a copy, which the fence admits."""

_CREATE = [
    f"CREATE TABLE IF NOT EXISTS {FENCES_TABLE} ("
    "log_id TEXT PRIMARY KEY, lives_on TEXT NOT NULL, fenced_at BIGINT NOT NULL)",
    # No '%' in the body: it is sent through cursors that may take parameters.
    "CREATE OR REPLACE FUNCTION ejournal_refuse_fenced() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ DECLARE fence record; BEGIN "
    # The lookup first, the copy's setting only when it finds a fence: the usual insert finds
    # none (measured: a join costs half what an IN (SELECT DISTINCT …) does, ADR 0017).
    f"SELECT f.log_id, f.lives_on INTO fence FROM inserted i JOIN {FENCES_TABLE} f "
    "ON f.log_id = i.log_id LIMIT 1; "
    f"IF FOUND AND current_setting('{RELOCATING}', true) IS DISTINCT FROM 'on' THEN "
    "RAISE EXCEPTION USING "
    f"ERRCODE = '{REFUSAL_STATE}', "
    "MESSAGE = 'log ' || fence.log_id || ' is not written here: it lives on ' || fence.lives_on, "
    "DETAIL = fence.log_id, HINT = fence.lives_on; END IF; "
    "RETURN NULL; END $$",
    f"CREATE OR REPLACE TRIGGER ejournal_fenced_logs AFTER INSERT ON {EVENTS_TABLE} "
    "REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT "
    "EXECUTE FUNCTION ejournal_refuse_fenced()",
]


class FenceError(LedgerError):
    """A fence cannot be set: SQLite, or the log is fenced already in favour of another server."""


def require_postgres(database: Database, what: str) -> None:
    """Raise ``FenceError`` unless ``database`` is PostgreSQL."""
    if database.dialect != "postgres":
        raise FenceError(f"{what}: a SQLite ledger has one server and never moves")


def install(database: Database) -> None:
    """Create the fences table and the events table's trigger, in a transaction of their own.

    Before any fence is taken, not in the fencing transaction: the trigger's DDL locks the events
    table against inserts, and a fence that then waited for a log's lock would wait for a writer
    that waits for the table (a deadlock).
    """
    require_postgres(database, "fence")
    with database.transaction(write=True) as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))  # as other schema setup
        cursor.execute(f"SELECT to_regclass('{FENCES_TABLE}') IS NOT NULL")
        if cursor.fetchone()[0]:
            return
        for statement in _CREATE:
            cursor.execute(statement)


def fence_logs(
    database: Database, log_ids: Iterable[str], *, lives_on: str, clock: Clock = system_clock
) -> None:
    """From its commit on, ``database`` refuses every new event of ``log_ids`` (``LogMovedError``:
    the log lives on ``lives_on``).

    The fencing transaction takes each log's write lock (``recorders.log_lock``) first: a writer
    that held it has committed before the fence, so its events are there to be copied; a writer
    that waits for it inserts after the fence has committed, and is refused. Fencing again is
    harmless. Raises ``FenceError`` on SQLite, or if a log is fenced already in favour of another
    server (nothing changed).
    """
    logs = sorted(set(log_ids))
    if not lives_on:
        raise FenceError("a fence names the server the logs live on")
    install(database)
    with database.transaction(write=True) as cursor:
        for log_id in sorted(logs, key=log_lock):  # one order for every fencer
            cursor.execute("SELECT pg_advisory_xact_lock(?::integer, ?::integer)", log_lock(log_id))
        at = micros(clock())
        for log_id in logs:
            cursor.execute(
                f"INSERT INTO {FENCES_TABLE} (log_id, lives_on, fenced_at) VALUES (?, ?, ?) "
                "ON CONFLICT (log_id) DO NOTHING",
                (log_id, lives_on, at),
            )
        cursor.execute(
            f"SELECT log_id, lives_on FROM {FENCES_TABLE} WHERE log_id = ANY(?) AND lives_on <> ?",
            (logs, lives_on),
        )
        other = cursor.fetchall()
        if other:  # raised inside the transaction: it rolls back, nothing fenced
            log_id, where = other[0]
            raise FenceError(f"log {log_id} is fenced here already: it lives on {where}")


def unfence_logs(database: Database, log_ids: Iterable[str]) -> None:
    """Let ``database`` record events of ``log_ids`` again (a move rolled back on its source, or
    finished on its target)."""
    require_postgres(database, "unfence")
    logs = sorted(set(log_ids))
    if not fences(database).keys() & set(logs):
        return  # nothing to lift: no DDL on a database that never fenced
    with database.transaction(write=True) as cursor:
        cursor.execute(f"DELETE FROM {FENCES_TABLE} WHERE log_id = ANY(?)", (logs,))


def fences(database: Database) -> dict[str, str]:
    """Every fenced log of ``database`` and where it lives; none on SQLite or before any fence."""
    if database.dialect != "postgres":
        return {}
    with database.transaction(write=False) as cursor:
        cursor.execute(f"SELECT to_regclass('{FENCES_TABLE}') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return {}
        cursor.execute(f"SELECT log_id, lives_on FROM {FENCES_TABLE}")
        return {log_id: lives_on for log_id, lives_on in cursor.fetchall()}


def moved_error(error: PersistenceError) -> LogMovedError | None:
    """The ``LogMovedError`` behind a failed save, if a fence refused it."""
    cause: BaseException | None = error
    while cause is not None:
        if getattr(cause, "sqlstate", None) == REFUSAL_STATE:
            diag = getattr(cause, "diag", None)
            log_id = getattr(diag, "message_detail", None) or ""
            lives_on = getattr(diag, "message_hint", None) or ""
            return LogMovedError(log_id, lives_on)
        cause = cause.__cause__ or cause.__context__
    return None
