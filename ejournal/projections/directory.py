"""A schools' server's read models follow the directory's: schools, accounts and п. 4.4's rules.

In a region (``ledger.placement``) the system log lives in the directory database, and its
events are projected there. The read models of a server that holds schools need three of its
tables: the schools (their names and time zones), the accounts (the person behind an actor) and
the rules of п. 4.4, which decide which of the server's operations every view leaves out. The
server's projector copies them from the directory's read models (``Projector``,
``_follow_directory``) and re-projects what a new rule reaches, so a breach report recorded once
in the directory takes its account's operations out of the views on every server.

The copy is made at a position of the directory's read models, recorded in the server's tracking
table under ``DIRECTORY_TRACKING``. Before a page of its own events is applied, the server's
projector brings the directory's read models to the directory's head and copies what changed:
every event of the page was recorded after the school and account it names were in the
directory's log, so the page is applied with them in place.
"""

from __future__ import annotations

from typing import Any

from ejournal.ledger.database import Database
from ejournal.projections import storage
from ejournal.projections.storage import LIVE, TableSet, Writer
from ejournal.projections.tables import ACCOUNTS, INVALIDATIONS, SCHEMA_VERSION, SCHOOLS, Table

DIRECTORY_TRACKING = "directory"
"""The tracking row of the directory's position the copy was made at."""
COPIED: tuple[Table, ...] = (SCHOOLS, INVALIDATIONS)
"""Copied whole when the directory moves: small, and their rows change (a school renamed, a
breach report's receipt antedated)."""
ADDED: tuple[Table, ...] = (ACCOUNTS,)
"""Copied by what is new: an account's row never changes once registered, and there are as many
as people."""


class DirectorySnapshot:
    """The directory's followed rows at one position of its read models."""

    def __init__(self, position: int, rows: dict[Table, list[tuple[Any, ...]]]) -> None:
        self.position = position
        self.rows = rows

    @classmethod
    def read(cls, directory: Database, after: int) -> DirectorySnapshot:
        """The directory's position, its ``COPIED`` tables and the ``ADDED`` rows of operations
        after position ``after``, in one snapshot."""
        rows: dict[Table, list[tuple[Any, ...]]] = {}
        with directory.transaction(write=False, snapshot=True) as cursor:
            tracking = storage.read_tracking(cursor)
            position = tracking[0] if tracking else 0
            for table in COPIED:
                cursor.execute(LIVE.statements[table.name].select_all)
                rows[table] = [tuple(r) for r in cursor.fetchall()]
            for table in ADDED:
                cursor.execute(f"{LIVE.statements[table.name].select_all} WHERE nid > ?", (after,))
                rows[table] = [tuple(r) for r in cursor.fetchall()]
        return cls(position, rows)


def followed_position(cursor: Any, tables: TableSet = LIVE) -> int:
    """The directory's position the set's copy was made at (0: none yet)."""
    cursor.execute(tables.tracking_sql.read, (DIRECTORY_TRACKING,))
    row = cursor.fetchone()
    return 0 if row is None else int(row[0])


def copy_into(writer: Writer, snapshot: DirectorySnapshot) -> set[Table]:
    """Write the snapshot's rows into ``writer``'s set where they differ, and record its
    position; returns the tables that changed."""
    changed: set[Table] = set()
    cursor = writer.cursor
    for table in COPIED:
        cursor.execute(writer.tables.statements[table.name].select_all)
        own = {table.key_of(row): tuple(row) for row in cursor.fetchall()}
        theirs = {table.key_of(row): row for row in snapshot.rows[table]}
        stale = [key for key, row in own.items() if theirs.get(key) != row]
        fresh = [row for key, row in theirs.items() if own.get(key) != row]
        if stale or fresh:
            changed.add(table)
        writer.delete(table, stale)
        writer.insert(table, fresh)
    for table in ADDED:
        if snapshot.rows[table]:
            changed.add(table)
            writer.insert(table, snapshot.rows[table])
    cursor.execute(writer.tables.tracking_sql.read, (DIRECTORY_TRACKING,))
    if cursor.fetchone() is None:
        cursor.execute(writer.tables.tracking_sql.start, (DIRECTORY_TRACKING, SCHEMA_VERSION))
    cursor.execute(writer.tables.tracking_sql.advance, (snapshot.position, DIRECTORY_TRACKING))
    return changed
