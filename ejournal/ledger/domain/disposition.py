"""Disposition acts (ГОСТ Р ИСО 15489-1 disposition; the retention schedule of the brief).

An act records, in the log whose records it disposes of, which payloads are removed and why: the
retention classes that expired, their periods and disposal dates, the topics, and the exact index
ranges. The entries themselves stay: every leaf, chain hash and checkpoint still verifies, and the
act explains each missing payload to an auditor.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate


class DispositionAct(Aggregate):
    """One disposition of expired payloads of one log."""

    class Recorded(Aggregate.Created):
        log_id: str
        school_id: UUID
        year_start: int
        classes: tuple[dict[str, Any], ...]
        """Per expired retention class: ``name``, ``years``, ``disposal_date`` (date)."""
        topics: tuple[str, ...]
        ranges: tuple[tuple[int, int], ...]
        """Index ranges ``[from, to)`` whose payloads are removed: maximal runs of due entries."""
        count: int
        reason: str
        disposed_on: date

    def __init__(
        self,
        *,
        log_id: str,
        school_id: UUID,
        year_start: int,
        classes: tuple[dict[str, Any], ...],
        topics: tuple[str, ...],
        ranges: tuple[tuple[int, int], ...],
        count: int,
        reason: str,
        disposed_on: date,
    ) -> None:
        self.log_id = log_id
        self.school_id = school_id
        self.year_start = year_start
        self.classes = classes
        self.topics = topics
        self.ranges = tuple(tuple(r) for r in ranges)
        self.count = count
        self.reason = reason
        self.disposed_on = disposed_on

    @classmethod
    def record(
        cls,
        *,
        act_id: UUID,
        log_id: str,
        school_id: UUID,
        year_start: int,
        classes: tuple[dict[str, Any], ...],
        topics: tuple[str, ...],
        ranges: tuple[tuple[int, int], ...],
        count: int,
        reason: str,
        disposed_on: date,
        at: datetime,
    ) -> DispositionAct:
        """A new act; the caller has planned the ranges from the log."""
        return cls._create(
            cls.Recorded,
            id=act_id,
            log_id=log_id,
            school_id=school_id,
            year_start=year_start,
            classes=classes,
            topics=topics,
            ranges=ranges,
            count=count,
            reason=reason,
            disposed_on=disposed_on,
            timestamp=at,
        )
