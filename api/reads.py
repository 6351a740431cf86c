"""The read models the HTTP layer serves: ``projections.queries`` behind the response schemas.

``projections/`` owns the read models, their tables, the projector and the queries; this module
only turns what the queries return (frozen dataclasses) into the response schemas, and its
``NotProjected`` into a 404 (``read.not_found``).
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from api.errors import ApiError
from api.schemas.reads import ClassJournalOut, DiaryOut, MonitorOut, SummarySheetOut
from ledger.application import Ledger
from projections.errors import NotProjected
from projections.queries import Queries


class ReadModels:
    def __init__(self, ledger: Ledger) -> None:
        self._queries = Queries(ledger.database, clock=ledger.clock)

    def class_journal(
        self, roster_id: UUID, subject_id: UUID, start: date | None, end: date | None
    ) -> ClassJournalOut:
        page = self._queries.class_journal(roster_id, subject_id, start, end)
        return ClassJournalOut.model_validate(page)

    def diary(self, student_id: UUID, start: date, end: date) -> DiaryOut:
        return DiaryOut.model_validate(self._queries.diary_days(student_id, start, end))

    def student_class(self, school_id: UUID, year_start: int, student_id: UUID) -> UUID | None:
        """The class the student is, or was last, enrolled in that school year."""
        return self._queries.student_class(school_id, year_start, student_id)

    def summary_sheet(self, class_id: UUID, period: str | None) -> SummarySheetOut:
        try:
            sheet = self._queries.summary_sheet(class_id, period)
        except NotProjected as e:
            raise ApiError("read.not_found", detail=str(e)) from e
        return SummarySheetOut.model_validate(sheet)

    def monitor(
        self,
        school_id: UUID,
        year_start: int,
        *,
        teacher_id: UUID | None,
        class_id: UUID | None,
        now: datetime | None = None,
    ) -> MonitorOut:
        found = self._queries.monitor(
            school_id, year_start, teacher_id=teacher_id, class_id=class_id, now=now
        )
        return MonitorOut.model_validate(found)
