"""The read models the HTTP layer serves: ``projections.queries`` behind the response schemas.

``projections/`` owns the read models, their tables, the projector and the queries; this module
only turns what the queries return (frozen dataclasses) into the response schemas, and its
``NotProjected`` into a 404 (``read.not_found``).

A diary is read for one school year (the school whose right the reader holds) and for one
audience: the staff see every mark with its history and provenance (``DiaryOut``), the student and
the parents the current marks only (``FamilyDiaryOut``). Both are in the key of a rendered diary.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from ejournal.api.errors import ApiError
from ejournal.api.schemas.reads import (
    ClassJournalOut,
    DiaryOut,
    FamilyDiaryOut,
    MonitorOut,
    SummarySheetOut,
)
from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.projections.errors import NotProjected
from ejournal.projections.queries import Queries, SchoolTies, Version
from ejournal.projections.storage import tracking
from ejournal.projections.views import AVERAGE_PLACES, Diary

RENDERED_DIARY_BYTES = 64 << 20
"""Rendered diaries kept per process (a demo week is about 30 KB): least recently read go first."""


class Audience(StrEnum):
    """Whom a diary is rendered for."""

    STAFF = "staff"
    """The administration and the class teacher: every mark, its history and provenance."""
    FAMILY = "family"
    """The student and the parents: the current marks, no history, no provenance (п. 1.5)."""

    @classmethod
    def of(cls, role: Role) -> Audience:
        """The audience of a reader acting as ``role``."""
        return cls.FAMILY if role in (Role.STUDENT, Role.PARENT) else cls.STAFF


_DIARY_SCHEMAS: dict[Audience, type[BaseModel]] = {
    Audience.STAFF: DiaryOut,
    Audience.FAMILY: FamilyDiaryOut,
}


def _render(diary: Diary, audience: Audience) -> bytes:
    if audience is Audience.FAMILY:
        diary = diary.current()
    return _DIARY_SCHEMAS[audience].model_validate(diary).model_dump_json().encode()


DiaryKey = tuple[UUID, UUID, int, date, date, Audience]
"""(student, school, year start, first day, last day, audience): what a rendered diary depends
on besides the version of the read models."""


class ReadModels:
    def __init__(self, ledger: Ledger) -> None:
        self._queries = Queries(ledger.database, clock=ledger.clock)
        self._diaries = _RenderedDiaries(RENDERED_DIARY_BYTES)

    def class_journal(
        self, roster_id: UUID, subject_id: UUID, start: date | None, end: date | None
    ) -> ClassJournalOut:
        page = self._queries.class_journal(roster_id, subject_id, start, end)
        return ClassJournalOut.model_validate(page)

    def diary_json(self, key: DiaryKey) -> bytes:
        """The student's diary in the school's year, for the audience (``DiaryOut`` or
        ``FamilyDiaryOut``), as JSON, rendered once per version of the read models: while the
        projector has applied nothing new, a diary read again costs one query."""
        rendered = self._diaries.get(key, self._queries.version())
        if rendered is None:
            student_id, school_id, year_start, start, end, audience = key
            version, diary = self._queries.diary_at_version(
                student_id, start, end, school=(school_id, year_start)
            )
            rendered = _render(diary, audience)
            self._diaries.put(key, version, rendered)
        return rendered

    def rendered_diary(self, key: DiaryKey, tracking_rows: list[Any]) -> bytes | None:
        """``diary_json`` if it was rendered at the version of the read models that
        ``tracking_rows`` (the rows of ``TRACKING_QUERY``, read on the event loop) give, else
        None: it is then read with ``diary_json``, in a thread."""
        version = tracking(tracking_rows[0] if tracking_rows else None)
        return self._diaries.get(key, version)

    def student_class(self, school_id: UUID, year_start: int, student_id: UUID) -> UUID | None:
        """The class the student is, or was last, enrolled in that school year."""
        return self._queries.student_class(school_id, year_start, student_id)

    def teaches_in(self, school_id: UUID, year_start: int, teacher_id: UUID) -> bool:
        """Whether the person teaches in, or is a class teacher of, the school's year."""
        return self._queries.teaches_in(school_id, year_start, teacher_id)

    def ties(self, person_id: UUID, school_id: UUID) -> SchoolTies:
        """What the read models know ties the person to the school (``Queries.ties``)."""
        return self._queries.ties(person_id, school_id)

    def summary_sheet(
        self, class_id: UUID, period: str | None, *, places: int = AVERAGE_PLACES
    ) -> SummarySheetOut:
        try:
            sheet = self._queries.summary_sheet(class_id, period, places=places)
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


class _RenderedDiaries:
    """An LRU of rendered diaries, each valid at the version of the read models it was read at."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._size = 0
        self._entries: OrderedDict[Hashable, tuple[Version, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Version) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or version is None or entry[0] != version:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: Hashable, version: Version, rendered: bytes) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old[1])
            if old is not None and old[0] is not None and version is not None and old[0] > version:
                version, rendered = old  # a concurrent read rendered a newer one
            self._entries[key] = (version, rendered)
            self._size += len(rendered)
            while self._size > self._max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._size -= len(dropped)
