"""The access log (п. 1.7, 152-ФЗ): who read whose personal data or diary, what, and when.

Append-only (the database refuses UPDATE and DELETE), written in its own transaction before the
data is returned: a read that was not logged is not served.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from api.auth import Caller
from integrity.leaf import from_micros, micros
from ledger.async_database import Statement
from ledger.database import Database


class Access(StrEnum):
    """What was read."""

    DIARY = "diary"
    PERSONAL_DATA = "personal_data"
    CLASS_JOURNAL = "class_journal"
    SUMMARY_SHEET = "summary_sheet"


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
            self._database.write_one(*entry(caller, role, what, subjects, school_id, now))

    def entries(
        self,
        *,
        school_id: UUID | None = None,
        subject_id: UUID | None = None,
        after_id: int = 0,
        limit: int = 100,
    ) -> list[AccessRecord]:
        """Entries after ``after_id``, oldest first, filtered by school and by subject."""
        sql = (
            "SELECT id, at, reader_account_id, reader_role, session_id, school_id, subject_id, "
            "what FROM access_log WHERE id > ?"
        )
        params: list[object] = [after_id]
        if school_id is not None:
            sql += " AND school_id = ?"
            params.append(str(school_id))
        if subject_id is not None:
            sql += " AND subject_id = ?"
            params.append(str(subject_id))
        sql += " ORDER BY id LIMIT ?"
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


def entry(
    caller: Caller,
    role: str,
    what: Access,
    subjects: list[UUID] | tuple[UUID, ...],
    school_id: UUID | None,
    now: datetime,
) -> Statement:
    """The statement of ``AccessLog.record``, for a caller that runs it elsewhere (on the event
    loop): one statement for all the rows, atomic."""
    row = (micros(now), str(caller.actor.account_id), role, str(caller.session_id))
    return (
        "INSERT INTO access_log (at, reader_account_id, reader_role, session_id, "
        "school_id, subject_id, what) VALUES "
        + ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(subjects)),
        [
            value
            for subject in subjects
            for value in (
                *row,
                None if school_id is None else str(school_id),
                str(subject),
                what.value,
            )
        ],
    )
