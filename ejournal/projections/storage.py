"""SQL for the read-model tables: create, drop, load by owner, delete by key, insert in bulk.

The DDL is the same on both databases. Bulk writes differ, because each database has its own fast
path: SQLite runs one prepared statement many times in-process (``executemany``); PostgreSQL
receives a page's new rows of a table through one ``COPY``, which is several times faster than
parameterised inserts and costs one round trip whatever the page's size.

The same tables exist in more than one set (``TableSet``): the live read models that queries read
(``LIVE``), and shadow copies that a rebuild fills before switching them in (``SHADOW``) or that
the read-model audit fills to compare (``AUDIT``). A set's tables are named after the live ones
with a suffix; ``switch`` replaces the live tables by a shadow set in one transaction. Index and
primary-key names carry a tag of the build that made them, so that a set switched in keeps its
indexes and the next shadow set's names do not collide with them.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from eventsourcing.postgres import PostgresDatastore
from psycopg import sql
from psycopg.rows import tuple_row

from ejournal.ledger.application import Ledger
from ejournal.ledger.database import Cursor, Dialect, QmarkCursor
from ejournal.ledger.recorders import SCHEMA_LOCK
from ejournal.projections.tables import SCHEMA_VERSION, TABLES, TRACKING_TABLE, Table

TRACKING_NAME = "ejournal"
SQLITE_CACHE_KIB = 65_536
"""The SQLite writer connection's page cache while projecting (the default is 2 MiB)."""


def _text(template: str, **parts: sql.Composable) -> str:
    return sql.SQL(template).format(**parts).as_string(None)


def _names(names: Iterable[str]) -> sql.Composed:
    return sql.SQL(", ").join(map(sql.Identifier, names))


def _copy_type(column_sql: str) -> str:
    return "bigint" if column_sql.startswith("BIGINT") else "text"


def _array(column_sql: str) -> sql.Composable:
    return sql.SQL(f"{_copy_type(column_sql)}[]")


@dataclass(frozen=True, slots=True)
class TableSQL:
    """Every statement the projector runs on one read-model table, composed once.

    Names are quoted as identifiers by psycopg's ``sql`` and the column types are the table's
    own constants; every value is a ``?`` parameter. A list of values is one parameter:
    PostgreSQL takes an array (``= ANY(?)``), SQLite a JSON array (``json_each(?)``).
    """

    create: str
    indexes: tuple[str, ...]
    drop: str
    select_all: str
    select_by_owner: dict[Dialect, str]
    delete_by_key: dict[Dialect, str]
    insert: str
    """SQLite: one row's parameterised insert, run for many rows."""
    copy: str
    """PostgreSQL: the binary ``COPY`` of many rows."""

    @classmethod
    def of(cls, table: Table, physical: str | None = None, tag: str = "") -> TableSQL:
        """The statements on ``table`` stored as ``physical`` (its own name by default); ``tag``
        names the primary key and indexes a build creates (none for the live tables)."""
        name = sql.Identifier(physical or table.name)
        columns = _names(table.column_names)
        types = dict(table.columns)
        definitions = sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(column), sql.SQL(column_sql))
            for column, column_sql in table.columns
        )
        owner = sql.Identifier(table.owner or "")
        return cls(
            create=_text(
                "CREATE TABLE IF NOT EXISTS {name} ({definitions}, {key})",
                name=name,
                definitions=definitions,
                key=_primary_key(table.name, table.key, tag),
            ),
            indexes=tuple(
                _text(
                    "CREATE INDEX IF NOT EXISTS {index} ON {name} ({columns})",
                    index=sql.Identifier(index_name(table.name, index, tag)),
                    name=name,
                    columns=_names(index),
                )
                for index in table.indexes
            ),
            drop=_text("DROP TABLE IF EXISTS {name}", name=name),
            select_all=_text("SELECT {columns} FROM {name}", columns=columns, name=name),
            select_by_owner={
                "postgres": _text(
                    "SELECT {columns} FROM {name} WHERE {owner} = ANY(?::{array})",
                    columns=columns,
                    name=name,
                    owner=owner,
                    array=_array(types.get(table.owner or "", "TEXT")),
                ),
                "sqlite": _text(
                    "SELECT {columns} FROM {name} "
                    "WHERE {owner} IN (SELECT value FROM json_each(?))",
                    columns=columns,
                    name=name,
                    owner=owner,
                ),
            },
            delete_by_key={
                "postgres": _text(
                    "DELETE FROM {name} AS t USING unnest({arrays}) AS d({key}) WHERE {match}",
                    name=name,
                    arrays=sql.SQL(", ").join(
                        sql.SQL("?::{}").format(_array(types[k])) for k in table.key
                    ),
                    key=_names(table.key),
                    match=sql.SQL(" AND ").join(
                        sql.SQL("t.{k} = d.{k}").format(k=sql.Identifier(k)) for k in table.key
                    ),
                ),
                "sqlite": _text(
                    "DELETE FROM {name} WHERE {match}",
                    name=name,
                    match=sql.SQL(" AND ").join(
                        sql.SQL("{} = ?").format(sql.Identifier(k)) for k in table.key
                    ),
                ),
            },
            insert=_text(
                "INSERT INTO {name} ({columns}) VALUES ({marks})",
                name=name,
                columns=columns,
                marks=sql.SQL(", ").join([sql.SQL("?")] * len(table.column_names)),
            ),
            copy=_text(
                "COPY {name} ({columns}) FROM STDIN (FORMAT BINARY)", name=name, columns=columns
            ),
        )


MAX_NAME = 63
"""PostgreSQL's longest identifier: a longer one would be cut short, silently."""


def index_name(table: str, columns: Sequence[str], tag: str = "") -> str:
    """``rm_lesson_class_id_held_on``, or with a build's tag ``rm_lesson_class_id_held_on__1f2e3d``
    (at most 63 characters, PostgreSQL's limit)."""
    name = f"{table}_{'_'.join(columns)}"
    name = f"{name}__{tag}" if tag else name
    if len(name) > MAX_NAME:
        raise ValueError(f"index name {name!r} is longer than {MAX_NAME} characters")
    return name


def _primary_key(table: str, key: Sequence[str], tag: str) -> sql.Composable:
    if not tag:  # the database's own name (PostgreSQL: <table>_pkey)
        return sql.SQL("PRIMARY KEY ({})").format(_names(key))
    return sql.SQL("CONSTRAINT {} PRIMARY KEY ({})").format(
        sql.Identifier(f"{table}_pkey__{tag}"), _names(key)
    )


@dataclass(frozen=True, slots=True)
class TrackingSQL:
    """The statements on one set's tracking table (its position), composed once."""

    create: str
    drop: str
    read: str
    start: str
    claim: str
    advance: str

    @classmethod
    def of(cls, name: str, tag: str) -> TrackingSQL:
        tracking = sql.Identifier(name)
        return cls(
            create=_text(
                "CREATE TABLE IF NOT EXISTS {tracking} (name TEXT NOT NULL, "
                "position BIGINT NOT NULL, schema_version BIGINT NOT NULL, {key})",
                tracking=tracking,
                key=_primary_key(TRACKING_TABLE, ("name",), tag),
            ),
            drop=_text("DROP TABLE IF EXISTS {tracking}", tracking=tracking),
            read=_text(
                "SELECT position, schema_version FROM {tracking} WHERE name = ?", tracking=tracking
            ),
            start=_text(
                "INSERT INTO {tracking} (name, position, schema_version) VALUES (?, 0, ?)",
                tracking=tracking,
            ),
            claim=_text(
                "UPDATE {tracking} SET position = position WHERE name = ? AND position = ? "
                "RETURNING position",
                tracking=tracking,
            ),
            advance=_text("UPDATE {tracking} SET position = ? WHERE name = ?", tracking=tracking),
        )


@dataclass(frozen=True, slots=True)
class TableSet:
    """One set of the read-model tables and their tracking position: the live ones, or a shadow
    set named with a suffix. ``tagged`` gives the set a build's tag for its keys and indexes."""

    suffix: str
    tag: str
    statements: dict[str, TableSQL] = field(compare=False)
    tracking: str
    tracking_sql: TrackingSQL = field(compare=False)

    @classmethod
    def of(cls, suffix: str, tag: str = "") -> TableSet:
        return cls(
            suffix,
            tag,
            {t.name: TableSQL.of(t, t.name + suffix, tag) for t in TABLES},
            TRACKING_TABLE + suffix,
            TrackingSQL.of(TRACKING_TABLE + suffix, tag),
        )

    @property
    def live(self) -> bool:
        return not self.suffix

    def tagged(self) -> TableSet:
        """The same set, for a new build: its keys and indexes named with a fresh tag."""
        return TableSet.of(self.suffix, secrets.token_hex(3))

    def name(self, table: Table) -> str:
        """The name ``table`` has in this set."""
        return table.name + self.suffix


LIVE = TableSet.of("")
"""The read models the queries read."""
SHADOW = TableSet.of("__shadow")
"""Where a rebuild projects the ledger before it switches the result in (``switch``)."""
AUDIT = TableSet.of("__audit")
"""Where the read-model audit projects the ledger to compare it with ``LIVE``."""

STATEMENTS = LIVE.statements


def many(dialect: Dialect, values: Sequence[Any]) -> Any:
    """A list of values as the one parameter that ``= ANY(?)`` (PostgreSQL) or
    ``IN (SELECT value FROM json_each(?))`` (SQLite) takes."""
    return list(values) if dialect == "postgres" else orjson.dumps(list(values)).decode()


def create_tracking(cursor: Cursor, tables: TableSet = LIVE) -> None:
    """The table of the tracking position, if missing."""
    cursor.execute(tables.tracking_sql.create)


def create_statements(
    tables: Sequence[Table] = TABLES, *, indexes: bool = True, into: TableSet = LIVE
) -> list[str]:
    """``CREATE TABLE/INDEX IF NOT EXISTS`` for the tracking table and every read-model table."""
    statements = [into.tracking_sql.create]
    for table in tables:
        statements.append(into.statements[table.name].create)
        if indexes:
            statements.extend(into.statements[table.name].indexes)
    return statements


def lock_schema(cursor: Cursor, dialect: Dialect) -> None:
    """Serialise schema changes with every other process's (several workers start at once).

    PostgreSQL: the ledger's advisory lock for schema setup, until the transaction ends;
    concurrent ``CREATE ... IF NOT EXISTS`` would otherwise collide. SQLite: DDL takes the
    database's write lock anyway.
    """
    if dialect == "postgres":
        cursor.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))


def create_tables(
    cursor: Cursor, dialect: Dialect, *, indexes: bool = True, tables: TableSet = LIVE
) -> None:
    """Create whatever is missing; a no-op on an up-to-date database.

    Without ``indexes``, only the primary keys are created (which the projector itself uses): a
    rebuild adds the secondary indexes once the bulk is written (``create_indexes``).
    """
    for statement in create_statements(indexes=False, into=tables):
        cursor.execute(statement)
    if indexes:
        create_indexes(cursor, dialect, tables)


def _index_names(cursor: Cursor, dialect: Dialect) -> set[tuple[str, str]]:
    """(table, index) of every index of the database's tables."""
    if dialect == "sqlite":
        cursor.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'index'")
    else:
        cursor.execute(
            "SELECT tablename, indexname FROM pg_indexes WHERE schemaname = current_schema()"
        )
    return {(str(table), str(index)) for table, index in cursor.fetchall()}


def create_indexes(cursor: Cursor, dialect: Dialect, tables: TableSet = LIVE) -> None:
    """The secondary indexes the queries use, unless the table has them already (under the
    name a build's tag gave them: ``index_name``)."""
    existing = _index_names(cursor, dialect)
    for table in TABLES:
        physical = tables.name(table)
        for columns, statement in zip(
            table.indexes, tables.statements[table.name].indexes, strict=True
        ):
            base = index_name(table.name, columns)
            if any(
                owner == physical and (name == base or name.startswith(base + "__"))
                for owner, name in existing
            ):
                continue
            cursor.execute(statement)


def drop_tables(cursor: Cursor, tables: TableSet = LIVE) -> None:
    """Drop every read-model table of the set and its tracking position: they are rebuilt from
    the ledger."""
    for table in TABLES:
        cursor.execute(tables.statements[table.name].drop)
    cursor.execute(tables.tracking_sql.drop)


def switch(cursor: Cursor, shadow: TableSet) -> None:
    """Replace the live read models (and their tracking position) by the ``shadow`` set, within
    the caller's transaction: a reader sees the old tables or the new ones, never a mixture."""
    drop_tables(cursor, LIVE)
    for table in TABLES:
        cursor.execute(_rename(shadow.name(table), table.name))
    cursor.execute(_rename(shadow.tracking, LIVE.tracking))


def _rename(old: str, new: str) -> str:
    return _text(
        "ALTER TABLE {old} RENAME TO {new}", old=sql.Identifier(old), new=sql.Identifier(new)
    )


_FREEZE = _text("LOCK TABLE {tracking} IN EXCLUSIVE MODE", tracking=sql.Identifier(TRACKING_TABLE))


def freeze(cursor: Cursor, dialect: Dialect) -> None:
    """Keep every other projector from applying a page to the live read models until the
    caller's transaction ends; readers go on. PostgreSQL: a lock on the tracking table that
    conflicts with a page's first statement (``claim_position``). SQLite: the caller's write
    transaction holds the database's write lock already."""
    if dialect == "postgres":
        cursor.execute(_FREEZE)


TRACKING_QUERY = (
    f"SELECT position, schema_version FROM {TRACKING_TABLE} WHERE name = ?",
    (TRACKING_NAME,),
)


def read_tracking(cursor: Cursor, tables: TableSet = LIVE) -> tuple[int, int] | None:
    """(position, schema version) of the read models, or None before the first run."""
    cursor.execute(tables.tracking_sql.read, (TRACKING_NAME,))
    return tracking(cursor.fetchone())


def tracking(row: Any) -> tuple[int, int] | None:
    """(position, schema version) from a row of ``TRACKING_QUERY``."""
    return None if row is None else (int(row[0]), int(row[1]))


def start_tracking(cursor: Cursor, tables: TableSet = LIVE) -> None:
    """Position 0 of the current schema, unless a position is already recorded."""
    if read_tracking(cursor, tables) is None:
        cursor.execute(tables.tracking_sql.start, (TRACKING_NAME, SCHEMA_VERSION))


def claim_position(cursor: Cursor, position: int, tables: TableSet = LIVE) -> bool:
    """Lock the tracking row if it still says ``position``; False if another projector moved it.

    The first statement of a page's transaction: on PostgreSQL it takes the row lock, on SQLite the
    database's write lock, so two projectors never apply the same page.
    """
    cursor.execute(tables.tracking_sql.claim, (TRACKING_NAME, position))
    return cursor.fetchone() is not None


def advance_position(cursor: Cursor, position: int, tables: TableSet = LIVE) -> None:
    cursor.execute(tables.tracking_sql.advance, (position, TRACKING_NAME))


class Writer:
    """A write transaction of the projector: plain statements, and rows by the page, in one set
    of tables."""

    def __init__(
        self,
        cursor: Cursor,
        dialect: Dialect,
        psycopg_cursor: Any = None,
        tables: TableSet = LIVE,
    ) -> None:
        self.cursor = cursor
        self.dialect = dialect
        self.tables = tables
        self._psycopg_cursor = psycopg_cursor

    def load(self, table: Table, owners: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Every stored row of ``table`` that belongs to one of ``owners``."""
        if not owners:
            return []
        statement = self.tables.statements[table.name].select_by_owner[self.dialect]
        self.cursor.execute(statement, (many(self.dialect, owners),))
        return [tuple(r) for r in self.cursor.fetchall()]

    def delete(self, table: Table, keys: Sequence[tuple[Any, ...]]) -> None:
        """Delete the rows with these primary keys."""
        if not keys:
            return
        statement = self.tables.statements[table.name].delete_by_key[self.dialect]
        if self.dialect == "sqlite":
            self.cursor.executemany(statement, keys)
            return
        self.cursor.execute(statement, [list(column) for column in zip(*keys, strict=True)])

    def insert(self, table: Table, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert stored values (``Table.values``) in bulk."""
        if not rows:
            return
        statements = self.tables.statements[table.name]
        if self.dialect == "sqlite":
            self.cursor.executemany(statements.insert, rows)
            return
        with self._psycopg_cursor.copy(statements.copy) as copy:
            copy.set_types([_copy_type(sql) for _, sql in table.columns])
            write_row = copy.write_row
            for row in rows:
                write_row(row)


def _postgres(ledger: Ledger) -> PostgresDatastore:
    # Binary results and COPY need psycopg's own cursors, which ledger.database does not hand out.
    datastore = getattr(ledger.recorder, "datastore", None)
    assert isinstance(datastore, PostgresDatastore)
    return datastore


def read_rows(ledger: Ledger, sql: str, params: Sequence[Any]) -> list[Any]:
    """The rows of one query, as one statement (binary results on PostgreSQL)."""
    if ledger.database.dialect == "sqlite":
        with ledger.database.transaction(write=False) as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    # One statement on an autocommit connection is its own transaction: no BEGIN, no COMMIT.
    with (
        _postgres(ledger).get_connection() as connection,
        connection.cursor(row_factory=tuple_row, binary=True) as cursor,
    ):
        cursor.execute(sql.replace("?", "%s"), params)
        return cursor.fetchall()


@contextmanager
def write_transaction(ledger: Ledger, tables: TableSet = LIVE) -> Iterator[Writer]:
    """One write transaction on the ledger's database, writing ``tables``; committed if the
    block succeeds."""
    database = ledger.database
    if database.dialect == "sqlite":
        with database.transaction(write=True) as cursor:
            # The writer connection is the pool's only one (shared with the ledger's writes): a
            # larger page cache keeps the read models' index pages in memory between pages.
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            yield Writer(cursor, "sqlite", tables=tables)
        return
    with (
        _postgres(ledger).get_connection() as connection,
        connection.transaction(),
        connection.cursor(row_factory=tuple_row) as cursor,
    ):
        # A read model is rebuilt from the ledger, and its rows commit with their tracking
        # position: if a crash loses the last commits, the projector simply applies those pages
        # again. So the page need not wait for its WAL to reach the disk.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield Writer(QmarkCursor(cursor), "postgres", cursor, tables)


def table_dump(
    cursor: Cursor, tables: Iterable[Table] = TABLES, into: TableSet = LIVE
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read-model table, sorted: for comparing two states of the read models."""
    dump: dict[str, list[tuple[Any, ...]]] = {}
    for table in tables:
        cursor.execute(into.statements[table.name].select_all)
        dump[table.name] = sorted(
            (tuple(row) for row in cursor.fetchall()),
            key=lambda row: tuple((value is None, value) for value in row),
        )
    return dump
