"""The access log (п. 1.7, 152-ФЗ): who read whose personal data or diary, what, and when.

Append-only (the database refuses UPDATE and DELETE), written before the data is returned, in a
transaction of its own or, on the event loop, with the entries of other reads (``GroupedEntries``):
a read that was not logged is not served.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from ejournal.identity.authenticator import Caller
from ejournal.integrity.leaf import from_micros, micros
from ejournal.ledger.async_database import AsyncDatabase, Gathered, Statement
from ejournal.ledger.database import Database


class Access(StrEnum):
    """What was read."""

    DIARY = "diary"
    PERSONAL_DATA = "personal_data"
    CLASS_JOURNAL = "class_journal"
    SUMMARY_SHEET = "summary_sheet"
    MONITOR = "monitor"
    """The monitor of journal keeping: each student a flag names (a late mark, п. 2.5, 2.8)."""
    MARKS = "marks"
    """A pupil's marks of the year, subject by subject (п. 1.5, 1.6): the pupil."""
    RECEIPT = "receipt"
    """A receipt of one of a pupil's marks (п. 1.6, 2.10): the pupil."""
    REENTRY = "reentry"
    """The re-entry worklist of п. 4.4: each child an invalidated operation names (logged as
    ``class_journal`` before names were shown)."""
    ACCESS_LOG = "access_log"
    """The access log read by the head: each person it names (whose data, and a pupil who
    read), now that it shows their names."""
    ROSTER = "roster"
    """A roster's pupils (``GET /rosters/{id}/students``): each pupil listed."""
    ME = "me"
    """The caller's own page (``GET /me``): each pupil it names (a parent's children, the pupil
    themself, the pupil of an individual curriculum the caller teaches)."""


PAGE_READS = frozenset({Access.CLASS_JOURNAL, Access.SUMMARY_SHEET})
"""Reads logged under the page read (a roster, a class); every other read's subject is a person."""


@dataclass(frozen=True, slots=True)
class AccessRecord:
    id: int
    at: datetime
    reader_account_id: UUID
    reader_role: str
    session_id: UUID
    school_id: UUID | None
    subject_id: UUID
    """Whose data: a person, or the class or roster whose page was read."""
    what: Access


class AccessLog:
    def __init__(self, database: Database) -> None:
        self._database = database

    def record(
        self,
        caller: Caller,
        role: str,
        what: Access,
        subjects: list[UUID] | tuple[UUID, ...],
        *,
        school_id: UUID | None,
        now: datetime,
    ) -> None:
        """Log one read by ``caller`` (acting as ``role``) of each of ``subjects``."""
        if subjects:
            rows = entry_rows(caller, role, what, subjects, school_id, now)
            self._database.write_one(
                f"INSERT INTO access_log ({_COLUMNS}) VALUES "
                + ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(rows)),
                [value for row in rows for value in row],
            )

    def entries(
        self,
        *,
        school_id: UUID | None = None,
        subject_id: UUID | None = None,
        after_id: int = 0,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[AccessRecord]:
        """Entries after ``after_id``, oldest first; or, with ``before_id``, the latest before it,
        newest first (what a head reads first). Filtered by school and by subject."""
        sql = (
            "SELECT id, at, reader_account_id, reader_role, session_id, school_id, subject_id, "
            "what FROM access_log WHERE id > ?"
        )
        params: list[object] = [after_id]
        if before_id is not None:
            sql += " AND id < ?"
            params.append(before_id)
        if school_id is not None:
            sql += " AND school_id = ?"
            params.append(str(school_id))
        if subject_id is not None:
            sql += " AND subject_id = ?"
            params.append(str(subject_id))
        sql += " ORDER BY id DESC LIMIT ?" if before_id is not None else " ORDER BY id LIMIT ?"
        params.append(limit)
        with self._database.transaction(write=False) as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        return [
            AccessRecord(
                id=int(row[0]),
                at=from_micros(int(row[1])),
                reader_account_id=UUID(row[2]),
                reader_role=row[3],
                session_id=UUID(row[4]),
                school_id=UUID(row[5]) if row[5] else None,
                subject_id=UUID(row[6]),
                what=Access(row[7]),
            )
            for row in rows
        ]


Row = tuple[int, str, str, str, str | None, str, str]
"""An entry's columns: at, reader_account_id, reader_role, session_id, school_id, subject_id,
what."""

_COLUMNS = "at, reader_account_id, reader_role, session_id, school_id, subject_id, what"


def entry_rows(
    caller: Caller,
    role: str,
    what: Access,
    subjects: list[UUID] | tuple[UUID, ...],
    school_id: UUID | None,
    now: datetime,
) -> list[Row]:
    """The entries of one read by ``caller`` (acting as ``role``) of each of ``subjects``."""
    school = None if school_id is None else str(school_id)
    reader, session = str(caller.actor.account_id), str(caller.session_id)
    return [
        (micros(now), reader, role, session, school, str(subject), what.value)
        for subject in subjects
    ]


class GroupedEntries:
    """Entries of reads served on the event loop (PostgreSQL), written many to a round trip.

    Each read waits until its own entries are written, as with ``AccessLog.record``: nothing is
    served unlogged. While one round trip is in flight, the entries of the reads that arrive
    meanwhile gather for the next one, with no timer: a lone read costs one round trip, as
    before, and under load one insert and one commit log many reads (each round trip and each
    commit costs this process and PostgreSQL more than a row does). ``query`` goes in every round
    trip, after the insert: each read gets its rows, read after the read began (the diary: the
    version of the read models to serve). A read may add a query of its own (``write_and_read``:
    the diary, the names of the people it shows), sent once however many reads of the round trip
    ask it.
    """

    def __init__(self, database: AsyncDatabase, query: Statement) -> None:
        self._database = database
        self._query = query
        self._gathered = Gathered(self._write_all)

    async def write(self, rows: list[Row]) -> list[Any]:
        """Write ``rows`` (``entry_rows``) and return the rows of ``query``. Raises
        ``DatabaseUnavailableError`` if the insert failed: none of its entries were written."""
        version, _ = await self._gathered((rows, None))
        return version

    async def write_and_read(self, rows: list[Row], also: Statement) -> tuple[list[Any], list[Any]]:
        """``write``, and the rows of ``also``, read in the same round trip after the insert."""
        return await self._gathered((rows, also))

    async def _write_all(
        self, batch: list[tuple[list[Row], Statement | None]]
    ) -> list[tuple[list[Any], list[Any]]]:
        rows = [row for each, _ in batch for row in each]
        columns = [list(column) for column in zip(*rows, strict=True)]
        asked = [None if also is None else _statement_key(also) for _, also in batch]
        distinct: dict[Hashable, Statement] = {}
        for key, (_, also) in zip(asked, batch, strict=True):
            if key is not None and also is not None:
                distinct.setdefault(key, also)
        found = await self._database.together(
            (_GROUPED_INSERT, columns), self._query, *distinct.values()
        )
        version, extra = found[1], dict(zip(distinct, found[2:], strict=True))
        return [(version, [] if key is None else extra[key]) for key in asked]


def _statement_key(statement: Statement) -> Hashable:
    """The same for the same SQL and parameters; unique where a parameter is not hashable."""
    key = (statement[0], tuple(statement[1]))
    try:
        hash(key)
    except TypeError:
        return object()
    return key


# One statement text for any number of rows, so that PostgreSQL keeps it prepared.
_GROUPED_INSERT = (
    f"INSERT INTO access_log ({_COLUMNS}) SELECT * FROM unnest(?::bigint[], ?::text[], "
    "?::text[], ?::text[], ?::text[], ?::text[], ?::text[])"
)
