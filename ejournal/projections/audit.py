"""The read-model audit: is every row of the read models the one the ledger gives?

The ledger verifies itself (``ledger.verify``), but the read models are plain tables beside it: an
``UPDATE rm_mark SET value = 5`` where the ledger says 2 changes what the journal, the diary and
the summary sheet show, and nothing in the ledger notices. The audit projects the whole ledger
again, into the ``storage.AUDIT`` tables beside the live ones (``Projector.beside``), up to the
position the live read models are at; then, in one transaction in which both sets are at that
position and no projector moves the live one, it compares them table by table in SQL (``EXCEPT``
both ways, so only the rows that differ leave the database) and reports each such row by its
table and primary key: a value changed (which columns, stored and expected), a row that should not
be there, or a row that is missing. The audit tables are dropped afterwards.

``ejournal verify --read-models`` runs it after the ledger has verified.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from ejournal.ledger.application import Ledger
from ejournal.projections import storage
from ejournal.projections.invalidation import RuleSource
from ejournal.projections.projector import Progress, Projector
from ejournal.projections.storage import AUDIT, LIVE, TableSet, Writer
from ejournal.projections.tables import TABLES, Table

DEFAULT_LIMIT = 1_000
"""Differences reported per table at most; the report says when there were more."""


@dataclass(frozen=True, slots=True)
class RowDifference:
    """A row of a read model that differs from the one projected from the ledger."""

    table: str
    key: tuple[tuple[str, Any], ...]
    """(column, value) of the row's primary key."""
    columns: tuple[str, ...]
    stored: tuple[Any, ...] | None
    """The row as stored; None if it is missing."""
    expected: tuple[Any, ...] | None
    """The row as the ledger gives it; None if the ledger gives no such row."""

    @property
    def changed(self) -> tuple[str, ...]:
        """The columns whose stored value differs (every column if the row is missing or extra)."""
        if self.stored is None or self.expected is None:
            return self.columns
        return tuple(
            column
            for column, mine, theirs in zip(self.columns, self.stored, self.expected, strict=True)
            if mine != theirs
        )

    def describe(self) -> str:
        """``rm_mark (lesson_key=12, nid=57): value stored 5, expected 2``."""
        where = f"{self.table} ({', '.join(f'{k}={v!r}' for k, v in self.key)})"
        if self.stored is None:
            return f"{where}: missing (the ledger gives this row)"
        if self.expected is None:
            return f"{where}: not in the ledger (no event gives this row)"
        stored, expected = (
            dict(zip(self.columns, self.stored, strict=True)),
            dict(zip(self.columns, self.expected, strict=True)),
        )
        changes = "; ".join(
            f"{column} stored {stored[column]!r}, expected {expected[column]!r}"
            for column in self.changed
        )
        return f"{where}: {changes}"

    def as_json(self) -> dict[str, Any]:
        def row(values: tuple[Any, ...] | None) -> dict[str, Any] | None:
            return None if values is None else dict(zip(self.columns, values, strict=True))

        return {
            "table": self.table,
            "key": dict(self.key),
            "changed": list(self.changed),
            "stored": row(self.stored),
            "expected": row(self.expected),
        }


@dataclass(slots=True)
class AuditReport:
    """What the audit compared, and every row it found different."""

    position: int
    """The notification ID both sets of read models were at."""
    tables: int
    rows: int
    """Rows of the live read models compared."""
    differences: list[RowDifference] = field(default_factory=list)
    complete: bool = True
    """False if a table had more than the limit of differences (the rest are not listed)."""

    @property
    def agrees(self) -> bool:
        return not self.differences


def audit_read_models(
    ledger: Ledger,
    *,
    rules: RuleSource | None = None,
    limit: int = DEFAULT_LIMIT,
    progress: Progress | None = None,
    projector: Projector | None = None,
) -> AuditReport | None:
    """Project the ledger beside the live read models and compare the two (see the module).
    None if the projector was stopped before it got there."""
    projector = projector or Projector(ledger, rules=rules)
    return projector.beside(AUDIT, lambda writer: _compare(writer, limit), progress=progress)


def _compare(writer: Writer, limit: int) -> AuditReport:
    audit = writer.tables
    tracking = storage.read_tracking(writer.cursor, audit)
    report = AuditReport(position=tracking[0] if tracking else 0, tables=len(TABLES), rows=0)
    for table in TABLES:
        writer.cursor.execute(_count(table))
        report.rows += int(writer.cursor.fetchone()[0])
        found, complete = _table_differences(writer, table, audit, limit)
        report.differences.extend(found)
        report.complete = report.complete and complete
    return report


def _count(table: Table) -> str:
    return sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(table.name)).as_string(None)


def _except(table: Table, first: TableSet, second: TableSet) -> str:
    """The rows of ``table`` in the set ``first`` that are not in ``second``, in key order, at
    most ``?`` of them."""
    template = sql.SQL(
        "SELECT {columns} FROM {first} EXCEPT SELECT {columns} FROM {second} "
        "ORDER BY {order} LIMIT ?"
    )
    return template.format(
        columns=sql.SQL(", ").join(map(sql.Identifier, table.column_names)),
        first=sql.Identifier(first.name(table)),
        second=sql.Identifier(second.name(table)),
        order=sql.SQL(", ").join(sql.SQL(str(position + 1)) for position in table.key_positions),
    ).as_string(None)


def _table_differences(
    writer: Writer, table: Table, audit: TableSet, limit: int
) -> tuple[list[RowDifference], bool]:
    cursor = writer.cursor
    cursor.execute(_except(table, LIVE, audit), (limit + 1,))
    stored = [tuple(row) for row in cursor.fetchall()]
    cursor.execute(_except(table, audit, LIVE), (limit + 1,))
    expected = [tuple(row) for row in cursor.fetchall()]
    complete = len(stored) <= limit and len(expected) <= limit
    by_key: dict[tuple[Any, ...], list[tuple[Any, ...] | None]] = {}
    for row in stored[:limit]:
        by_key.setdefault(table.key_of(row), [None, None])[0] = row
    for row in expected[:limit]:
        by_key.setdefault(table.key_of(row), [None, None])[1] = row
    differences = [
        RowDifference(
            table=table.name,
            key=tuple(zip(table.key, key, strict=True)),
            columns=table.column_names,
            stored=mine,
            expected=theirs,
        )
        for key, (mine, theirs) in sorted(by_key.items(), key=lambda item: _sortable(item[0]))
    ]
    return differences, complete


def _sortable(key: Sequence[Any]) -> tuple[tuple[bool, Any], ...]:
    return tuple((value is None, 0 if value is None else value) for value in key)
