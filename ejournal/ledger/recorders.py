"""Recorders that store each event together with its log entry, in one row (I1, I2, I4).

The events table of eventsourcing gains the entry's columns: the log, the dense index in it, the
recorded time, the actor, the payload digest, the leaf hash and the chain hash. An event and its
entry are one row, so neither can exist without the other (I2 by construction), and a write costs
what the library's own write costs (a second table measured 25 % slower on PostgreSQL; see
docs/adr/0001-entry-in-the-event-row.md).

Why the index cannot fork. PostgreSQL: an inserting transaction takes its log's advisory lock
before anything else (``_lock_log``, or the append function's first step), held to the commit, so
writers of one log queue while writers of different logs (different schools) insert side by side
(docs/adr/0015-per-log-write-locks.md).
SQLite: the first statement of the transaction is an insert, which takes the database's single
write lock. Either way the log head is read under the lock.

What readers must know. On PostgreSQL notification IDs no longer become visible in increasing
order: a transaction that took ID n may commit after one that took n + 1 for another log. Readers
in ID order (the projector, the event cache, the checkpointer) stop at a missing ID until it is
known to be final (``ledger.gaps``): for that, every insert into the events table takes its log's
lock before its notification IDs. The library's ``subscribe``, which trusts the order, is refused.

Where the chain is continued. PostgreSQL, a save of up to ``SERVER_CHAINED_EVENTS``: by the server,
in the insert, from the head it reads under the lock; the client sends each leaf's bytes but the
index, and the save is one statement in autocommit, a call of the log's append function (lock,
insert; the implicit transaction commits as the statement ends), so the lock never waits for a
client (``_append_small``; docs/adr/0019-one-statement-saves.md). Larger saves, and SQLite: by
the recorder, which remembers the head it last wrote per log. PostgreSQL inserts those under a
guard (the log's current head has that chain hash), evaluated under the lock: a wrong guess
(another process wrote, or a transaction rolled back) inserts nothing, and the recorder reads the
real head and inserts again in the same transaction.
SQLite remembers only committed heads and needs no guard (see
``ChainedSQLiteApplicationRecorder``).
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore
from eventsourcing.utils import retry
from psycopg import Cursor, InterfaceError, OperationalError
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from ejournal.integrity.leaf import CHAIN_GENESIS, LogLeafEncoder, chain_hash, leaf_hash, micros
from ejournal.ledger.actor import SYSTEM_ACTOR, Actor, Role
from ejournal.ledger.append_only import postgres_guard_statements, sqlite_guard_statements
from ejournal.ledger.clock import system_clock

SYSTEM_LOG = "system"
"""The log of events that belong to no school (I1)."""

EVENTS_TABLE = "stored_events"
APPEND_ONLY_MESSAGE = "ledger records are append-only"
SCHEMA_LOCK = 0x656A6F75726E616C  # "ejournal": the advisory lock that serialises schema setup
LOG_LOCK_CLASS = 0x656A6C67  # "ejlg": the first key of every log's advisory lock (``log_lock``)

Head = tuple[int, bytes]
"""A log's last entry: (index, chain hash)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class WriteContext:
    """Where and by whom the events of one ``save()`` are recorded: one log, actor and moment."""

    log_id: str
    actor: Actor
    role: Role
    """The role under which the command was authorised; recorded in the leaf."""
    recorded_at: datetime = field(default_factory=system_clock)


@dataclass(frozen=True, kw_only=True, slots=True)
class BatchContext:
    """The contexts of several commands saved in one ``save()`` (a unit of work): each segment is
    one command's ``WriteContext`` and how many of the save's events, in order, it wrote.

    Every segment writes to the same log. Each event's entry records its own command's actor,
    role and time, so the entries are exactly those the commands would have written one save each.
    """

    log_id: str
    segments: tuple[tuple[WriteContext, int], ...]


SaveContext = WriteContext | BatchContext


def log_lock(log_id: str) -> tuple[int, int]:
    """The two 32-bit keys of the advisory lock that serialises the writers of ``log_id``.

    The two-key form of PostgreSQL's advisory locks is a key space apart from the one-key form of
    our other locks (``SCHEMA_LOCK``, ``database.TURNS_LOCK``), so a log never waits behind them;
    two logs whose digests share 32 bits only queue together.
    """
    digest = hashlib.sha256(log_id.encode()).digest()
    return LOG_LOCK_CLASS, int.from_bytes(digest[:4], "big", signed=True)


def system_context() -> WriteContext:
    """The context of a save that names none (the library's own recorder test cases do that)."""
    return WriteContext(log_id=SYSTEM_LOG, actor=SYSTEM_ACTOR, role=Role.SYSTEM)


def _context(kwargs: dict[str, Any]) -> SaveContext:
    context = kwargs.get("context")
    return context if isinstance(context, WriteContext | BatchContext) else system_context()


def _per_event(context: SaveContext, count: int) -> Sequence[WriteContext]:
    """The ``WriteContext`` of each of a save's ``count`` events."""
    if isinstance(context, WriteContext):
        return [context] * count
    contexts = [segment for segment, n in context.segments for _ in range(n)]
    if len(contexts) != count:
        msg = f"the batch's segments cover {len(contexts)} events, the save has {count}"
        raise ProgrammingError(msg)
    return contexts


def _actor_columns(contexts: Sequence[WriteContext]) -> dict[str, list[Any]]:
    """The recorded time, actor, role, credential version and session of each event."""
    return {
        "at": [micros(each.recorded_at) for each in contexts],
        "actor": [each.actor.account_id for each in contexts],
        "role": [each.role.value for each in contexts],
        "credential": [each.actor.credential_version for each in contexts],
        "session": [each.actor.session_id for each in contexts],
    }


@dataclass(slots=True)  # not frozen: a frozen dataclass is slow to build, and this is per event
class Entry:
    """The per-event fields of a log entry; the rest is the save's ``WriteContext``."""

    index: int
    payload_sha256: bytes
    leaf_hash: bytes
    chain_hash: bytes


@functools.lru_cache(maxsize=1024)
def _leaf_encoder(log_id: str) -> LogLeafEncoder:
    """One encoder per log, so its topics and roles are encoded once, not once per save."""
    return LogLeafEncoder(log_id)


def _leaves(
    context: WriteContext, stored_events: Sequence[StoredEvent], first_index: int
) -> Iterator[tuple[int, bytes, bytes]]:
    """(index, payload digest, leaf bytes) of each event, numbered from ``first_index``."""
    actor = context.actor
    encoder = _leaf_encoder(context.log_id)
    recorded_at, role = micros(context.recorded_at), context.role.value
    actor_id, session_id = actor.account_id.bytes, actor.session_id.bytes
    for index, stored in zip(count(first_index), stored_events, strict=False):
        originator_id = stored.originator_id
        if not isinstance(originator_id, UUID):
            originator_id = UUID(originator_id)
        digest = hashlib.sha256(stored.state).digest()
        leaf = encoder.encode(
            index,
            originator_id.bytes,
            stored.originator_version,
            stored.topic,
            recorded_at,
            actor_id,
            role,
            actor.credential_version,
            session_id,
            digest,
        )
        yield index, digest, leaf


def build_entries(
    context: WriteContext, stored_events: Sequence[StoredEvent], head: Head | None
) -> list[Entry]:
    """Return the log entries of ``stored_events``, continuing the log from ``head``.

    ``head`` is the log's last entry, or None for an empty log.
    """
    next_index, previous = (head[0] + 1, head[1]) if head else (0, CHAIN_GENESIS)
    entries = []
    for index, digest, leaf in _leaves(context, stored_events, next_index):
        hashed = leaf_hash(leaf)
        previous = chain_hash(previous, hashed)
        entries.append(Entry(index, digest, hashed, previous))
    return entries


def build_save_entries(
    context: SaveContext, stored_events: Sequence[StoredEvent], head: Head | None
) -> list[Entry]:
    """``build_entries`` for a save of one command or of a unit of work's several commands."""
    if isinstance(context, WriteContext):
        return build_entries(context, stored_events, head)
    entries: list[Entry] = []
    start = 0
    for segment, n in context.segments:
        if segment.log_id != context.log_id:
            msg = f"a batch for log {context.log_id} has a segment for log {segment.log_id}"
            raise ProgrammingError(msg)
        part = build_entries(segment, stored_events[start : start + n], head)
        if part:
            head = (part[-1].index, part[-1].chain_hash)
        entries += part
        start += n
    if start != len(stored_events):
        msg = f"the batch's segments cover {start} events, the save has {len(stored_events)}"
        raise ProgrammingError(msg)
    return entries


class _HeadHints:
    """The head each log had after this process last wrote to it: a guess the insert guards."""

    def __init__(self) -> None:
        self._heads: dict[str, Head] = {}
        self._lock = threading.Lock()

    def get(self, log_id: str) -> Head | None:
        with self._lock:
            return self._heads.get(log_id)

    def set(self, log_id: str, entries: Sequence[Entry]) -> None:
        self.put(log_id, (entries[-1].index, entries[-1].chain_hash))

    def put(self, log_id: str, head: Head) -> None:
        with self._lock:
            self._heads[log_id] = head


# The entry's columns, appended to the library's four. NOT NULL: no event without its entry.
_ENTRY_COLUMNS_DDL = """
    log_id TEXT NOT NULL,
    idx BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    actor_id {uuid} NOT NULL,
    actor_role TEXT NOT NULL,
    credential_version INTEGER NOT NULL,
    session_id {uuid} NOT NULL,
    payload_sha256 {bytes} NOT NULL,
    leaf_hash {bytes} NOT NULL,
    chain_hash {bytes} NOT NULL"""
_INSERT_COLUMNS = (
    "originator_id, originator_version, topic, state, log_id, idx, recorded_at, actor_id, "
    "actor_role, credential_version, session_id, payload_sha256, leaf_hash, chain_hash"
)
SERVER_CHAINED_EVENTS = 64
"""The largest save whose chain PostgreSQL continues in the insert (one round trip)."""
PIPELINE_BYTES = 256 * 1024
"""The largest save sent in pipeline mode, by the bytes of its events. Over a Unix socket a
pipelined query of about a megabyte hangs for ever, client and server each waiting for the other
(psycopg 3.3, C and pure-Python, PostgreSQL 15, measured: a 900 KB parameter passes, 1.5 MB
hangs; over TCP, and outside pipeline mode, both pass): a larger save goes statement by
statement (``_insert_unpipelined``), where a round trip more is nothing beside its size."""

_HEAD = "SELECT idx, chain_hash FROM {table} WHERE log_id = {p} ORDER BY idx DESC LIMIT 1"
_HEAD_CHAIN = "(SELECT chain_hash FROM {table} WHERE log_id = {p} ORDER BY idx DESC LIMIT 1)"


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """SQLite application recorder whose rows are events with their log entries.

    SQLite's head guess differs from PostgreSQL's: an ``INSERT … SELECT`` whose guard reads the
    events table makes SQLite materialise the row in a temporary table first (a third of the
    insert's cost). Here a hint is remembered only once its transaction has committed, so it is
    a fact of the append-only log: entry ``i`` has chain hash ``h`` for good. Inserting the next
    entry at ``i + 1`` then needs no guard, only the unique ``(log_id, idx)`` index: the insert
    is refused (``OR IGNORE``) exactly when another writer got there first.
    """

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = EVENTS_TABLE):
        super().__init__(datastore, events_table_name)
        self._hints = _HeadHints()
        table = self.events_table_name
        placeholders = ", ".join("?" * 14)
        self._insert_first = (
            f"INSERT OR IGNORE INTO {table} ({_INSERT_COLUMNS}) VALUES ({placeholders})"
        )
        self._insert_next = f"INSERT INTO {table} ({_INSERT_COLUMNS}) VALUES ({placeholders})"
        self._select_head = _HEAD.format(table=table, p="?")

    def construct_create_table_statements(self) -> list[str]:
        table = self.events_table_name
        statements = [
            f"CREATE TABLE IF NOT EXISTS {table} ("
            "originator_id TEXT, originator_version INTEGER, topic TEXT, state BLOB,"
            + _ENTRY_COLUMNS_DDL.format(uuid="TEXT", bytes="BLOB")
            + ", PRIMARY KEY (originator_id, originator_version))",
            f"CREATE UNIQUE INDEX IF NOT EXISTS {table}_log_idx ON {table} (log_id, idx)",
        ]
        statements.append(
            f"CREATE TRIGGER IF NOT EXISTS {table}_refuse_delete BEFORE DELETE ON {table} BEGIN "
            f"SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}: DELETE on {table}'); END"
        )
        # UPDATE is refused too, except the one documented disposition (ledger/append_only.py).
        statements.extend(sqlite_guard_statements())
        return statements

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        context = _context(kwargs)
        with self.datastore.transaction(commit=True) as c:
            notification_ids, entries = self._insert_chained(c, stored_events, context)
        if entries:
            self._hints.set(context.log_id, entries)  # committed: now a fact
        return notification_ids

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> Sequence[int] | None:
        # The library's hook, for callers that own the transaction: no hint, since this
        # transaction may yet roll back.
        return self._insert_chained(c, stored_events, _context(kwargs))[0]

    def _insert_chained(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        context: SaveContext,
    ) -> tuple[list[int], list[Entry]]:
        if not stored_events:
            return [], []
        contexts = _per_event(context, len(stored_events))
        entries = build_save_entries(context, stored_events, self._hints.get(context.log_id))
        rows = self._rows(contexts, stored_events, entries)
        # The first statement is an insert, so it takes the write lock even when it is ignored;
        # the head read after it is final.
        c.execute(self._insert_first, rows[0])
        if c.sqlite_cursor.rowcount == 0:
            # Either the hint was stale or the event itself conflicts: read the real head and
            # insert again, unguarded, so a conflicting event raises the library's IntegrityError.
            c.execute(self._select_head, (context.log_id,))
            head = c.fetchone()
            entries = build_save_entries(
                context, stored_events, (head[0], head[1]) if head else None
            )
            rows = self._rows(contexts, stored_events, entries)
            c.execute(self._insert_next, rows[0])
        first, last = c.lastrowid, c.lastrowid + len(rows) - 1
        if last > first:
            c.executemany(self._insert_next, rows[1:])
            # Under the write lock SQLite gives each new row the largest rowid plus one, so the
            # save's rows have consecutive notification ids; checked, since it is not promised.
            c.execute("SELECT last_insert_rowid()")
            if c.fetchone()[0] != last:
                raise ProgrammingError("the save's rows did not get consecutive rowids")
        return list(range(first, last + 1)), entries

    @staticmethod
    def _rows(
        contexts: Sequence[WriteContext], stored_events: Sequence[StoredEvent], entries: list[Entry]
    ) -> list[tuple[Any, ...]]:
        """The insert's parameters for each event; a context's columns are computed once."""
        columns: dict[int, tuple[Any, ...]] = {}
        rows = []
        for context, stored, entry in zip(contexts, stored_events, entries, strict=True):
            fixed = columns.get(id(context))
            if fixed is None:
                actor = context.actor
                fixed = columns[id(context)] = (
                    micros(context.recorded_at),
                    actor.account_id.hex,
                    context.role.value,
                    actor.credential_version,
                    actor.session_id.hex,
                )
            at, actor_id, role, credential, session = fixed
            originator = stored.originator_id
            rows.append(
                (
                    originator.hex if isinstance(originator, UUID) else originator,
                    stored.originator_version,
                    stored.topic,
                    stored.state,
                    context.log_id,
                    entry.index,
                    at,
                    actor_id,
                    role,
                    credential,
                    session,
                    entry.payload_sha256,
                    entry.leaf_hash,
                    entry.chain_hash,
                )
            )
        return rows


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder):
    """PostgreSQL application recorder whose rows are events with their log entries."""

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = EVENTS_TABLE
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self._hints = _HeadHints()
        schema, table = Identifier(datastore.schema), Identifier(self.events_table_name)
        qualified = SQL("{}.{}").format(schema, table).as_string()
        # Replace the library's events table by one with the entry's columns.
        self.sql_create_statements[self.create_table_statement_index] = SQL(
            "CREATE TABLE IF NOT EXISTS {}.{} ("
            "originator_id uuid NOT NULL, originator_version bigint NOT NULL, topic text, "
            "state bytea, notification_id bigserial,"
            + _ENTRY_COLUMNS_DDL.format(uuid="uuid", bytes="bytea")
            + ", PRIMARY KEY (originator_id, originator_version))"
        ).format(schema, table)
        self.sql_create_statements.extend(self._append_only_statements(schema, table))
        self.sql_create_statements.append(
            SQL("CREATE UNIQUE INDEX IF NOT EXISTS {} ON {}.{} (log_id, idx)").format(
                Identifier(f"{self.events_table_name}_log_idx"), schema, table
            )
        )
        # One statement for the whole save: per-event values as arrays, the save's as scalars.
        self._insert = SQL(
            f"INSERT INTO {qualified} ({_INSERT_COLUMNS}) "
            "SELECT o, v, t, s, %(log)s, i, %(at)b, %(actor)b, %(role)s, %(credential)b, "
            "%(session)b, d, l, c "
            # Binary parameters (%b): psycopg escapes hashes and payloads as text slowly.
            "FROM unnest(%(o)b::uuid[], %(v)b::bigint[], %(t)b::text[], %(s)b::bytea[], "
            "%(i)b::bigint[], %(d)b::bytea[], %(l)b::bytea[], %(c)b::bytea[]) "
            "AS u(o, v, t, s, i, d, l, c) "
            f"WHERE {_HEAD_CHAIN.format(table=qualified, p='%(log)s')} "
            "IS NOT DISTINCT FROM %(guess)s::bytea "
            "RETURNING notification_id"
        )
        # A unit of work's save: each event also carries its own command's time and actor.
        self._insert_batch = SQL(
            f"INSERT INTO {qualified} ({_INSERT_COLUMNS}) "
            "SELECT o, v, t, s, %(log)s, i, a, ac, r, cr, se, d, l, c "
            # Binary parameters (%b): escaping thousands of hashes as text costs more than
            # the insert.
            "FROM unnest(%(o)b::uuid[], %(v)b::bigint[], %(t)b::text[], %(s)b::bytea[], "
            "%(i)b::bigint[], %(at)b::bigint[], %(actor)b::uuid[], %(role)b::text[], "
            "%(credential)b::integer[], %(session)b::uuid[], "
            "%(d)b::bytea[], %(l)b::bytea[], %(c)b::bytea[]) "
            "AS u(o, v, t, s, i, a, ac, r, cr, se, d, l, c) "
            f"WHERE {_HEAD_CHAIN.format(table=qualified, p='%(log)s')} "
            "IS NOT DISTINCT FROM %(guess)s::bytea "
            "RETURNING notification_id"
        )
        self._select_head = SQL(_HEAD.format(table=qualified, p="%s"))
        self._lock_log_statement = SQL("SELECT pg_advisory_xact_lock(%s::integer, %s::integer)")
        # A small save is one statement, in autocommit: the function ``_append_statement``
        # creates (see there) locks the log, reads its head and inserts the events with their
        # entries, so the save is one round trip whose lock never waits for this process.
        append = Identifier(f"{self.events_table_name}_append")
        self.sql_create_statements.append(self._append_statement(schema, append, qualified))
        call = (
            "SELECT new_id AS notification_id, new_idx AS idx, new_chain AS chain_hash "
            "FROM {}.{}(%s, %s, %s, %b, "
        )
        # The types of the arrays of per-event values, in the function's order.
        arrays = ["uuid", "bigint", "text", "bytea", "bigint", "uuid", "text", "integer"]
        arrays += ["uuid", "bytea", "bytea"]
        # Rendered once: psycopg would render a ``Composed`` again at every execute.
        self._append = (
            SQL(call + ", ".join(f"%b::{t}[]" for t in arrays) + ")")
            .format(schema, append)
            .as_bytes()
        )
        # One event, the common save (a mark): its values as one-element arrays built by the
        # server, since psycopg dumps an array parameter in Python, at several times the cost
        # of the scalar (measured: 11 arrays were 40 % of a one-event save's client CPU).
        self._append_one = (
            SQL(call + ", ".join(f"ARRAY[%b::{t}]" for t in arrays) + ")")
            .format(schema, append)
            .as_bytes()
        )
        self._lock_timeout = f"{datastore.lock_timeout}s"

    @staticmethod
    def _append_statement(schema: Identifier, append: Identifier, qualified: str) -> Composed:
        """The function that appends a save of up to ``SERVER_CHAINED_EVENTS`` to its log.

        It takes the log's advisory lock (``log_lock``'s keys: the class here, the key given)
        after ``SET LOCAL lock_timeout``, then continues the chain from the head it reads:
        each statement of a (volatile) PL/pgSQL function takes a snapshot of its own under READ
        COMMITTED, so the head read after the lock sees the commit of the writer it waited for.
        The client sends each leaf's bytes but the index: the log's prefix, and the tail of
        each; the leaf is the prefix, the index (8 bytes, big-endian: int8send) and the tail;
        leaf hash SHA-256(0x00 ‖ leaf), chain hash SHA-256(previous ‖ leaf hash), as in
        integrity.leaf. Returns each event's notification ID, index and chain hash, in order.
        """
        head = _HEAD.format(table=qualified, p="p_log")
        return SQL(
            "CREATE OR REPLACE FUNCTION {}.{}(p_log text, p_lock_key integer, "
            "p_lock_timeout text, p_prefix bytea, p_o uuid[], p_v bigint[], p_t text[], "
            "p_s bytea[], p_at bigint[], p_actor uuid[], p_role text[], p_credential integer[], "
            "p_session uuid[], p_d bytea[], p_tail bytea[]) "
            "RETURNS TABLE (new_id bigint, new_idx bigint, new_chain bytea) "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "PERFORM set_config('lock_timeout', p_lock_timeout, true); "
            f"PERFORM pg_advisory_xact_lock({LOG_LOCK_CLASS}, p_lock_key); "
            "RETURN QUERY WITH RECURSIVE "
            "e AS (SELECT * FROM unnest(p_o, p_v, p_t, p_s, p_at, p_actor, p_role, "
            "p_credential, p_session, p_d, p_tail) "
            "WITH ORDINALITY AS u(o, v, t, s, a, ac, r, cr, se, d, tail, n)), "
            f"head AS ({head}), "
            "chain (n, idx, leaf_hash, chain_hash) AS ("
            "SELECT 0::bigint, COALESCE((SELECT h.idx FROM head h), -1), NULL::bytea, "
            f"COALESCE((SELECT h.chain_hash FROM head h), '\\x{CHAIN_GENESIS.hex()}'::bytea) "
            "UNION ALL SELECT c.n + 1, c.idx + 1, l.h, sha256(c.chain_hash || l.h) "
            "FROM chain c JOIN e ON e.n = c.n + 1, LATERAL (SELECT sha256("
            "'\\x00'::bytea || p_prefix || int8send(c.idx + 1) || e.tail) AS h) l), "
            f"inserted AS (INSERT INTO {qualified} ({_INSERT_COLUMNS}) "
            "SELECT e.o, e.v, e.t, e.s, p_log, c.idx, e.a, e.ac, e.r, e.cr, e.se, e.d, "
            "c.leaf_hash, c.chain_hash FROM chain c JOIN e ON e.n = c.n ORDER BY c.n "
            "RETURNING notification_id, idx, chain_hash) "
            "SELECT i.notification_id, i.idx, i.chain_hash FROM inserted i ORDER BY i.idx; "
            "END $$"
        ).format(schema, append)

    @staticmethod
    def _append_only_statements(schema: Identifier, table: Identifier) -> list[Composed]:
        return [
            SQL(
                "CREATE OR REPLACE FUNCTION {}.ejournal_refuse_change() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION '" + APPEND_ONLY_MESSAGE + ": % on %', TG_OP, TG_TABLE_NAME; "
                "END $$"
            ).format(schema),
            # UPDATE and DELETE are refused, except the one documented disposition.
            *(SQL(statement).format() for statement in postgres_guard_statements()),
            SQL(
                "CREATE OR REPLACE TRIGGER ejournal_no_truncate BEFORE TRUNCATE ON {}.{} "
                "FOR EACH STATEMENT EXECUTE FUNCTION {}.ejournal_refuse_change()"
            ).format(schema, table, schema),
        ]

    def _create_table(self, curs: Cursor[DictRow]) -> None:
        # Several processes may start at once; their CREATE OR REPLACE statements on the same
        # function and triggers would deadlock, so schema setup takes a transaction-level lock.
        curs.execute(SQL("SELECT pg_advisory_xact_lock(%s)"), (SCHEMA_LOCK,))
        super()._create_table(curs)

    def _lock_log(self, curs: Cursor[DictRow], log_id: str) -> None:
        """Serialise this transaction with the other writers of ``log_id``, until it ends.

        In place of the library's ``_lock_table``, whose table lock made every writer of the
        database queue, and of its ``_notify_channel``: a ``NOTIFY`` takes a lock of the whole
        cluster from the commit's start to its end (PostgreSQL's ``PreCommit_Notify``, so that
        notifications queue in commit order), which would serialise the commits of every log
        again, flush to disk included; nothing of ours listens.
        """
        curs.execute(self.lock_table_statements[0], prepare=True)  # SET LOCAL lock_timeout
        curs.execute(self._lock_log_statement, log_lock(log_id), prepare=True)

    def subscribe(self, gt: int | None = None, topics: Sequence[str] = ()) -> Any:
        """Refused: the library's subscription reads in notification-ID order as if IDs became
        visible in that order, and waits for ``NOTIFY``; neither holds here. Read with
        ``projections.projector.Projector``, which minds the gaps (``ledger.gaps``)."""
        raise ProgrammingError(
            "subscribe is not supported: notification IDs can commit out of order"
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        # A small save is one statement (see the module's docstring): the log's lock must never
        # wait for this process, whose thread may be waiting for the interpreter lock or a core
        # meanwhile, with every writer of the log queued behind it (with the table lock this
        # was, 80 marks/s on two cores, measured).
        if 0 < len(stored_events) <= SERVER_CHAINED_EVENTS:
            return self._append_small(stored_events, _context(kwargs))
        if sum(len(stored.state) for stored in stored_events) > PIPELINE_BYTES:
            return self._insert_unpipelined(stored_events, **kwargs)
        notification_ids: Sequence[int] | None = super().insert_events(stored_events, **kwargs)
        return notification_ids

    def _append_small(
        self, stored_events: Sequence[StoredEvent], context: SaveContext
    ) -> list[int]:
        """A save of up to ``SERVER_CHAINED_EVENTS``: one statement, the log's function, in
        autocommit (an implicit transaction of its own). Not pipelined, so its size does not
        matter (``PIPELINE_BYTES``); a unique violation rolls all of it back."""
        params = self._append_params(context, stored_events)
        statement = self._append
        if len(stored_events) == 1:
            statement = self._append_one
            params = params[:4] + tuple(values[0] for values in params[4:])
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            rows = curs.execute(statement, params, prepare=True).fetchall()
        if len(rows) != len(stored_events):
            msg = f"inserted {len(rows)} of {len(stored_events)} events"
            raise ProgrammingError(msg)
        last = rows[-1]
        self._hints.put(context.log_id, (last["idx"], bytes(last["chain_hash"])))
        return [row["notification_id"] for row in rows]

    def _insert_unpipelined(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The library's insert (the log's lock, the guarded insert, the head read again if the
        guess was wrong), each statement sent when the one before has answered."""
        context = _context(kwargs)
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            self._lock_log(curs, context.log_id)
            self._execute_insert(curs, context, stored_events, self._hints.get(context.log_id))
            return self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)

    def _append_params(
        self, context: SaveContext, stored_events: Sequence[StoredEvent]
    ) -> tuple[Any, ...]:
        """The arguments of the log's function (``_append_statement``), in its order."""
        contexts = _per_event(context, len(stored_events))
        prefix = _leaf_encoder(context.log_id).prefix
        cut = len(prefix) + 8  # the server puts the 8-byte index back
        digests, tails = [], []
        for each, stored in zip(contexts, stored_events, strict=True):
            ((_, digest, leaf),) = _leaves(each, (stored,), 0)
            digests.append(digest)
            tails.append(leaf[cut:])
        actors = _actor_columns(contexts)
        return (
            context.log_id,
            log_lock(context.log_id)[1],
            self._lock_timeout,
            prefix,
            [s.originator_id for s in stored_events],
            [s.originator_version for s in stored_events],
            [s.topic for s in stored_events],
            [s.state for s in stored_events],
            actors["at"],
            actors["actor"],
            actors["role"],
            actors["credential"],
            actors["session"],
            digests,
            tails,
        )

    def _insert_stored_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> None:
        # Called by the library inside the transaction, in pipeline mode, before it syncs.
        context = _context(kwargs)
        self._lock_log(curs, context.log_id)
        hint = self._hints.get(context.log_id)
        self._execute_insert(curs, context, stored_events, hint)

    def _fetch_ids_after_insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> Sequence[int] | None:
        context = _context(kwargs)
        notification_ids = [row["notification_id"] for row in curs.fetchall()]
        if not notification_ids:
            # The guessed head was wrong; we hold the log's lock, so the head read now is final.
            curs.execute(self._select_head, (context.log_id,), prepare=True)
            row = curs.fetchone()
            head = (row["idx"], bytes(row["chain_hash"])) if row else None
            self._execute_insert(curs, context, stored_events, head)
            notification_ids = [row["notification_id"] for row in curs.fetchall()]
        if len(notification_ids) != len(stored_events):
            msg = f"inserted {len(notification_ids)} of {len(stored_events)} events"
            raise ProgrammingError(msg)
        return notification_ids

    def _execute_insert(
        self,
        curs: Cursor[DictRow],
        context: SaveContext,
        stored_events: Sequence[StoredEvent],
        head: Head | None,
    ) -> None:
        entries = build_save_entries(context, stored_events, head)
        params: dict[str, Any] = {
            "log": context.log_id,
            "guess": head[1] if head else None,
            "o": [s.originator_id for s in stored_events],
            "v": [s.originator_version for s in stored_events],
            "t": [s.topic for s in stored_events],
            "s": [s.state for s in stored_events],
            "i": [e.index for e in entries],
            "d": [e.payload_sha256 for e in entries],
            "l": [e.leaf_hash for e in entries],
            "c": [e.chain_hash for e in entries],
        }
        if isinstance(context, WriteContext):
            statement = self._insert
            actor = context.actor
            params["at"] = micros(context.recorded_at)
            params["actor"] = actor.account_id
            params["role"] = context.role.value
            params["credential"] = actor.credential_version
            params["session"] = actor.session_id
        else:
            statement = self._insert_batch
            params.update(_actor_columns(_per_event(context, len(stored_events))))
        curs.execute(statement, params, prepare=True)
        self._hints.set(context.log_id, entries)
