"""Period, year, exam and final marks of one student in one subject and year (п. 2.8, 2.9)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ejournal.ledger.domain.ids import natural_id


@dataclass(frozen=True, slots=True)
class AttestationMark:
    kind: str
    period: str | None
    value: str
    """One of ``ATTESTATION_VALUES``, as the regulation writes it («5», «ОСВ», «Н/А», «зачёт» …)."""
    roster_id: UUID
    revisions: int = 0


class AttestationRecord(Aggregate):
    """The attestation marks of a student in a subject for a school year.

    Each (kind, period) holds one current value; setting it again is a revision with a reason.
    """

    class Opened(Aggregate.Created):
        school_id: UUID
        year_start: int
        student_id: UUID
        subject_id: UUID

    class MarkSet(Aggregate.Event):
        kind: str
        period: str | None
        value: str
        roster_id: UUID
        reason: str
        """Empty for the first value of (kind, period); why it changed for a revision."""

        def apply(self, aggregate: Any) -> None:
            record: AttestationRecord = aggregate
            key = (self.kind, self.period)
            previous = record.marks.get(key)
            revisions = 0 if previous is None else previous.revisions + 1
            record.marks[key] = AttestationMark(
                self.kind, self.period, self.value, self.roster_id, revisions
            )

    @staticmethod
    def create_id(school_id: UUID, year_start: int, student_id: UUID, subject_id: UUID) -> UUID:
        """The record of ``student_id`` in ``subject_id`` for the school's year."""
        return natural_id("attestation", school_id, year_start, student_id, subject_id)

    def __init__(
        self, *, school_id: UUID, year_start: int, student_id: UUID, subject_id: UUID
    ) -> None:
        self.school_id = school_id
        self.year_start = year_start
        self.student_id = student_id
        self.subject_id = subject_id
        self.marks: dict[tuple[str, str | None], AttestationMark] = {}

    @classmethod
    def open(
        cls,
        *,
        school_id: UUID,
        year_start: int,
        student_id: UUID,
        subject_id: UUID,
        at: datetime,
    ) -> AttestationRecord:
        """A new record with no marks yet."""
        return cls._create(
            cls.Opened,
            school_id=school_id,
            year_start=year_start,
            student_id=student_id,
            subject_id=subject_id,
            timestamp=at,
        )

    def set_mark(
        self,
        *,
        kind: str,
        period: str | None,
        value: str,
        roster_id: UUID,
        reason: str,
        at: datetime,
    ) -> None:
        """Precondition: a reason is given when (kind, period) already has a value."""
        self.trigger_event(
            self.MarkSet,
            kind=kind,
            period=period,
            value=value,
            roster_id=roster_id,
            reason=reason,
            timestamp=at,
        )

    def mark(self, kind: str, period: str | None) -> AttestationMark | None:
        """The current mark of (kind, period), if any."""
        return self.marks.get((kind, period))
