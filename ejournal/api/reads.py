"""The read models the HTTP layer serves: ``projections.queries`` behind the response schemas.

``projections/`` owns the read models, their tables, the projector and the queries; this module
only turns what the queries return (frozen dataclasses) into the response schemas, and its
``NotProjected`` into a 404 (``read.not_found``).

A diary is read for one school year (the school whose right the reader holds) and for one
audience: the staff see every mark with its history and provenance (``DiaryOut``), the student and
the parents the current marks only (``FamilyDiaryOut``). Both are in the key of a rendered diary.
A rendered diary holds no names: it keeps whom it shows, and the route joins their names at each
read (``api.names``), so that no cached diary outlives a name changed or forgotten in the vault.

With hot-standby replicas (``projections.replicas``), the diary, the class journal page and the
summary sheet are read on a replica that has the read models at least where the primary had them
when the read began, else on the primary: a request that sent its caller's position has already
waited for the primary to get there (``api.freshness``), so the caller reads its writes
(docs/adr/0016-replica-reads.md). The other reads, the checks of the policy among them, stay on
the primary.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel

from ejournal.api.errors import ApiError
from ejournal.api.names import diary_people
from ejournal.api.schemas.marks import StudentMarksOut
from ejournal.api.schemas.reads import (
    ClassJournalOut,
    DiaryOut,
    FamilyDiaryOut,
    MonitorOut,
    SummarySheetOut,
)
from ejournal.identity.names import Wanted
from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.projections.errors import NotProjected
from ejournal.projections.queries import Queries, SchoolTies, Version
from ejournal.projections.replicas import ReplicaFailure, Replicas
from ejournal.projections.storage import tracking
from ejournal.projections.views import AVERAGE_PLACES, Diary, Lesson, Mark

RENDERED_DIARY_BYTES = 64 << 20
"""Rendered diaries kept per process (a demo week is about 30 KB): least recently read go first."""
T = TypeVar("T")


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


@dataclass(frozen=True, slots=True)
class RenderedDiary:
    json: bytes
    """The diary's schema as JSON, without ``names``."""
    people: Wanted
    """Whom it shows, to be named at each read (``api.names.with_names``)."""


def _render(diary: Diary, audience: Audience, ledger: Ledger) -> RenderedDiary:
    if audience is Audience.FAMILY:
        diary = diary.current()
    schema = _DIARY_SCHEMAS[audience].model_validate(diary)
    people = diary_people(diary, provenance=audience is Audience.STAFF)
    return RenderedDiary(schema.model_dump_json(exclude={"names"}).encode(), people.wanted(ledger))


DiaryKey = tuple[UUID, UUID, int, date, date, Audience]
"""(student, school, year start, first day, last day, audience): what a rendered diary depends
on besides the version of the read models."""


class ReadModels:
    def __init__(self, ledger: Ledger, replicas: Replicas | None = None) -> None:
        self._ledger = ledger
        self._queries = Queries(ledger.database, clock=ledger.clock)
        self._diaries = _RenderedDiaries(RENDERED_DIARY_BYTES)
        self._replicas = replicas

    @property
    def replicas(self) -> Replicas | None:
        """The replicas these reads go to when they can; None: all go to the primary."""
        return self._replicas

    def close(self) -> None:
        """Close the replicas' connections (the primary's are the ledger's)."""
        if self._replicas is not None:
            self._replicas.close()

    def _on_replica(self, read: Callable[[Queries], T], position: int | None = None) -> T:
        """``read`` on a replica whose read models are projected up to ``position`` (the
        primary's, read now, if None), else on the primary. A replica that fails the read is
        left alone for a while (``Replicas.failed``) and the primary reads instead: a replica
        fails no read."""
        if self._replicas is None:
            return read(self._queries)
        if position is None:
            position = _position(self._queries.version())
        replica = self._replicas.serving(position)
        if replica is not None:
            try:
                found = read(replica.queries)
            except ReplicaFailure as e:
                self._replicas.failed(replica, e)
            else:
                self._replicas.served(replica)
                return found
        return read(self._queries)

    def class_journal(
        self, roster_id: UUID, subject_id: UUID, start: date | None, end: date | None
    ) -> ClassJournalOut:
        page = self._on_replica(lambda q: q.class_journal(roster_id, subject_id, start, end))
        return ClassJournalOut.model_validate(page)

    def diary_json(self, key: DiaryKey) -> RenderedDiary:
        """The student's diary in the school's year, for the audience (``DiaryOut`` or
        ``FamilyDiaryOut``), as JSON without names, rendered once per version of the read models:
        while the projector has applied nothing new, a diary read again costs one query."""
        version = self._queries.version()
        rendered = self._diaries.get(key, version)
        if rendered is None:
            student_id, school_id, year_start, start, end, audience = key
            version, diary = self._on_replica(
                lambda q: q.diary_at_version(
                    student_id, start, end, school=(school_id, year_start)
                ),
                _position(version),
            )
            rendered = _render(diary, audience, self._ledger)
            self._diaries.put(key, version, rendered)
        return rendered

    def rendered_diary(self, key: DiaryKey, tracking_rows: list[Any]) -> RenderedDiary | None:
        """``diary_json`` if it was rendered at the version of the read models that
        ``tracking_rows`` (the rows of ``TRACKING_QUERY``, read on the event loop) give, else
        None: it is then read with ``diary_json``, in a thread."""
        version = tracking(tracking_rows[0] if tracking_rows else None)
        return self._diaries.get(key, version)

    def diary_people(self, key: DiaryKey) -> Wanted | None:
        """Whom the diary of ``key`` showed when it was last rendered, at whatever version: what
        to ask the vault for in the round trip that finds the version to serve."""
        return self._diaries.people(key)

    def student_class(self, school_id: UUID, year_start: int, student_id: UUID) -> UUID | None:
        """The class the student is, or was last, enrolled in that school year."""
        return self._queries.student_class(school_id, year_start, student_id)

    def teaches_in(self, school_id: UUID, year_start: int, teacher_id: UUID) -> bool:
        """Whether the person teaches in, or is a class teacher of, the school's year."""
        return self._queries.teaches_in(school_id, year_start, teacher_id)

    def student_marks(self, student_id: UUID, school_id: UUID, year_start: int) -> StudentMarksOut:
        """The pupil's marks in the school's year (``Queries.progress``), without names."""
        try:
            found = self._queries.progress(student_id, school_id, year_start)
        except NotProjected as e:
            raise ApiError("read.not_found", detail=str(e)) from e
        return StudentMarksOut.model_validate(found)

    def lesson_mark(self, lesson_id: UUID, mark_id: UUID) -> tuple[Lesson, Mark] | None:
        """A lesson's mark and its lesson as the read models hold them (``Queries.lesson_mark``)."""
        return self._queries.lesson_mark(lesson_id, mark_id)

    def ties(self, person_id: UUID, school_id: UUID) -> SchoolTies:
        """What the read models know ties the person to the school (``Queries.ties``)."""
        return self._queries.ties(person_id, school_id)

    def summary_sheet(
        self, class_id: UUID, period: str | None, *, places: int = AVERAGE_PLACES
    ) -> SummarySheetOut:
        try:
            sheet = self._on_replica(lambda q: q.summary_sheet(class_id, period, places=places))
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
        self._entries: OrderedDict[Hashable, tuple[Version, RenderedDiary]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, version: Version) -> RenderedDiary | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or version is None or entry[0] != version:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def people(self, key: Hashable) -> Wanted | None:
        with self._lock:
            entry = self._entries.get(key)
            return None if entry is None else entry[1].people

    def put(self, key: Hashable, version: Version, rendered: RenderedDiary) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= _size(old[1])
            if old is not None and old[0] is not None and version is not None and old[0] > version:
                version, rendered = old  # a concurrent read rendered a newer one
            self._entries[key] = (version, rendered)
            self._size += _size(rendered)
            while self._size > self._max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._size -= _size(dropped)


def _position(version: Version) -> int:
    return version[0] if version is not None else 0


def _size(rendered: RenderedDiary) -> int:
    # The JSON, and about what a dict entry of two UUIDs and a style costs.
    return len(rendered.json) + 200 * len(rendered.people)
