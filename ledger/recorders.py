"""Recorders that write each event's log entry in the event's own transaction (I1, I2, I4).

eventsourcing inserts stored events inside one transaction and offers a hook that runs in it, after
the events are inserted: ``SQLiteApplicationRecorder._insert_events`` and
``PostgresApplicationRecorder._fetch_ids_after_insert_events``. These subclasses use the hook to append
one entry per event to the log named by the ``WriteContext`` passed to ``Application.save(...,
context=...)``: the next dense index of that log, the canonical leaf's hash and the chain hash.

Why the index cannot fork: on PostgreSQL the hook runs after the library's ``LOCK TABLE ... IN
EXCLUSIVE MODE`` on the events table, so inserting transactions are serialised and each one reads the
log head that the previous one committed. On SQLite the first statement of the transaction is the
events insert, which takes the database's single write lock before the log head is read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from integrity.leaf import CHAIN_GENESIS, Leaf, chain_hash, encode_leaf, leaf_hash, micros
from ledger.actor import SYSTEM_ACTOR, Actor, Role
from ledger.clock import system_clock

SYSTEM_LOG = "system"
"""The log of events that belong to no school (I1)."""

ENTRIES_TABLE = "ledger_entries"

_ENTRY_COLUMNS = (
    "log_id, idx, originator_id, originator_version, recorded_at, actor_id, actor_role, "
    "credential_version, session_id, payload_sha256, leaf_hash, chain_hash, notification_id"
)


@dataclass(frozen=True, kw_only=True, slots=True)
class WriteContext:
    """Where and by whom the events of one ``save()`` are recorded: one log, one actor, one moment."""

    log_id: str
    actor: Actor
    role: Role
    """The role under which the command was authorised; recorded in the leaf."""
    recorded_at: datetime = field(default_factory=system_clock)


def system_context() -> WriteContext:
    """The context of a save that names none (the library's own recorder test cases do that)."""
    return WriteContext(log_id=SYSTEM_LOG, actor=SYSTEM_ACTOR, role=Role.SYSTEM)


@dataclass(frozen=True, slots=True)
class EntryRow:
    """One row of the entries table, as both recorders insert it."""

    leaf: Leaf
    leaf_hash: bytes
    chain_hash: bytes
    notification_id: int


def build_entries(
    context: WriteContext,
    stored_events: Sequence[StoredEvent],
    notification_ids: Sequence[int],
    head: tuple[int, bytes] | None,
) -> list[EntryRow]:
    """Return the log entries for ``stored_events``, continuing the log from ``head``.

    ``head`` is the (index, chain hash) of the log's last entry, or None for an empty log.
    """
    next_index, previous = (head[0] + 1, head[1]) if head else (0, CHAIN_GENESIS)
    actor = context.actor
    recorded_at = micros(context.recorded_at)
    rows = []
    for offset, (stored, notification_id) in enumerate(
        zip(stored_events, notification_ids, strict=True)
    ):
        leaf = Leaf(
            log_id=context.log_id,
            index=next_index + offset,
            originator_id=_as_uuid(stored.originator_id),
            originator_version=stored.originator_version,
            topic=stored.topic,
            recorded_at=recorded_at,
            actor_id=actor.account_id,
            actor_role=context.role.value,
            credential_version=actor.credential_version,
            session_id=actor.session_id,
            payload_sha256=hashlib.sha256(stored.state).digest(),
        )
        hashed = leaf_hash(encode_leaf(leaf))
        previous = chain_hash(previous, hashed)
        rows.append(EntryRow(leaf, hashed, previous, notification_id))
    return rows


def _as_uuid(originator_id: UUID | str) -> UUID:
    return originator_id if isinstance(originator_id, UUID) else UUID(originator_id)


def _context(kwargs: dict[str, Any]) -> WriteContext:
    context = kwargs.get("context")
    return context if isinstance(context, WriteContext) else system_context()


# Every statement below is plain SQL that both databases accept, with "?" placeholders that the
# PostgreSQL recorder rewrites to "%s".
_CREATE_ENTRIES = f"""
CREATE TABLE IF NOT EXISTS {ENTRIES_TABLE} (
    log_id TEXT NOT NULL,
    idx BIGINT NOT NULL,
    originator_id {{uuid}} NOT NULL,
    originator_version BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL,
    actor_id {{uuid}} NOT NULL,
    actor_role TEXT NOT NULL,
    credential_version INTEGER NOT NULL,
    session_id {{uuid}} NOT NULL,
    payload_sha256 {{bytes}} NOT NULL,
    leaf_hash {{bytes}} NOT NULL,
    chain_hash {{bytes}} NOT NULL,
    notification_id BIGINT NOT NULL,
    PRIMARY KEY (log_id, idx),
    UNIQUE (originator_id, originator_version)
)"""
_SELECT_HEAD = f"SELECT idx, chain_hash FROM {ENTRIES_TABLE} WHERE log_id = ? ORDER BY idx DESC LIMIT 1"
_INSERT_ENTRY = f"INSERT INTO {ENTRIES_TABLE} ({_ENTRY_COLUMNS}) VALUES ({', '.join('?' * 13)})"
APPEND_ONLY_MESSAGE = "ledger records are append-only"


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """SQLite application recorder that appends log entries in the insert transaction."""

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        statements.append(_CREATE_ENTRIES.format(uuid="TEXT", bytes="BLOB"))
        statements.append(
            f"CREATE UNIQUE INDEX IF NOT EXISTS {ENTRIES_TABLE}_notification_idx "
            f"ON {ENTRIES_TABLE} (notification_id)"
        )
        for table in (self.events_table_name, ENTRIES_TABLE):
            for operation in ("UPDATE", "DELETE"):
                statements.append(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_refuse_{operation.lower()} "
                    f"BEFORE {operation} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}: {operation} on {table}'); END"
                )
        return statements

    def _insert_events(
        self,
        c: SQLiteCursor,
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> Sequence[int] | None:
        # The events insert comes first: it takes SQLite's write lock (waiting up to the busy
        # timeout), so no other writer can append to the log between the head read and our insert.
        notification_ids = super()._insert_events(c, stored_events, **kwargs)
        if not stored_events:
            return notification_ids
        assert notification_ids is not None
        context = _context(kwargs)
        c.execute(_SELECT_HEAD, (context.log_id,))
        row = c.fetchone()
        head = (row[0], bytes(row[1])) if row else None
        c.executemany(
            _INSERT_ENTRY,
            [
                (
                    e.leaf.log_id,
                    e.leaf.index,
                    e.leaf.originator_id.hex,
                    e.leaf.originator_version,
                    e.leaf.recorded_at,
                    e.leaf.actor_id.hex,
                    e.leaf.actor_role,
                    e.leaf.credential_version,
                    e.leaf.session_id.hex,
                    e.leaf.payload_sha256,
                    e.leaf_hash,
                    e.chain_hash,
                    e.notification_id,
                )
                for e in build_entries(context, stored_events, notification_ids, head)
            ],
        )
        return notification_ids


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder):
    """PostgreSQL application recorder that appends log entries in the insert transaction."""

    def __init__(
        self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"
    ) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(datastore.schema)
        events = Identifier(self.events_table_name)
        entries = Identifier(ENTRIES_TABLE)
        self._select_head = SQL(_SELECT_HEAD.replace("?", "%s").replace(ENTRIES_TABLE, "{}.{}"))
        self._select_head = self._select_head.format(schema, entries)
        self._insert_entry = SQL(
            _INSERT_ENTRY.replace("?", "%s").replace(ENTRIES_TABLE, "{}.{}", 1)
        ).format(schema, entries)
        self.sql_create_statements.extend(
            [
                SQL(
                    _CREATE_ENTRIES.format(uuid="uuid", bytes="bytea").replace(
                        ENTRIES_TABLE, "{}.{}", 1
                    )
                ).format(schema, entries),
                SQL(
                    "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {}.{} (notification_id)"
                ).format(Identifier(f"{ENTRIES_TABLE}_notification_idx"), schema, entries),
                SQL(
                    "CREATE OR REPLACE FUNCTION {}.ejournal_refuse_change() RETURNS trigger "
                    "LANGUAGE plpgsql AS $$ BEGIN "
                    "RAISE EXCEPTION '" + APPEND_ONLY_MESSAGE + ": % on %', TG_OP, TG_TABLE_NAME; "
                    "END $$"
                ).format(schema),
            ]
        )
        for table in (events, entries):
            self.sql_create_statements.append(
                SQL(
                    "CREATE OR REPLACE TRIGGER ejournal_append_only "
                    "BEFORE UPDATE OR DELETE ON {}.{} "
                    "FOR EACH ROW EXECUTE FUNCTION {}.ejournal_refuse_change()"
                ).format(schema, table, schema)
            )
            self.sql_create_statements.append(
                SQL(
                    "CREATE OR REPLACE TRIGGER ejournal_no_truncate "
                    "BEFORE TRUNCATE ON {}.{} "
                    "FOR EACH STATEMENT EXECUTE FUNCTION {}.ejournal_refuse_change()"
                ).format(schema, table, schema)
            )

    def _fetch_ids_after_insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        **kwargs: Any,
    ) -> Sequence[int] | None:
        # Runs after LOCK TABLE ... IN EXCLUSIVE MODE and the events insert, in their transaction.
        notification_ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        assert notification_ids is not None
        context = _context(kwargs)
        curs.execute(self._select_head, (context.log_id,), prepare=True)
        row = curs.fetchone()
        head = (row["idx"], bytes(row["chain_hash"])) if row else None
        curs.executemany(
            self._insert_entry,
            [
                (
                    e.leaf.log_id,
                    e.leaf.index,
                    e.leaf.originator_id,
                    e.leaf.originator_version,
                    e.leaf.recorded_at,
                    e.leaf.actor_id,
                    e.leaf.actor_role,
                    e.leaf.credential_version,
                    e.leaf.session_id,
                    e.leaf.payload_sha256,
                    e.leaf_hash,
                    e.chain_hash,
                    e.notification_id,
                )
                for e in build_entries(context, stored_events, notification_ids, head)
            ],
        )
        return notification_ids
