"""Messages from a teacher to a student's parents (п. 1.5): shown in the student's diary."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate


class ParentMessage(Aggregate):
    """One message about one student; the parents are those linked to the student."""

    class Sent(Aggregate.Created):
        school_id: UUID
        year_start: int
        roster_id: UUID
        subject_id: UUID
        student_id: UUID
        author_id: UUID
        text: str

    def __init__(
        self,
        *,
        school_id: UUID,
        year_start: int,
        roster_id: UUID,
        subject_id: UUID,
        student_id: UUID,
        author_id: UUID,
        text: str,
    ) -> None:
        self.school_id = school_id
        self.year_start = year_start
        self.roster_id = roster_id
        self.subject_id = subject_id
        self.student_id = student_id
        self.author_id = author_id
        self.text = text

    @classmethod
    def send(
        cls,
        *,
        message_id: UUID,
        school_id: UUID,
        year_start: int,
        roster_id: UUID,
        subject_id: UUID,
        student_id: UUID,
        author_id: UUID,
        text: str,
        at: datetime,
    ) -> ParentMessage:
        """A new message about ``student_id``, written by ``author_id`` (a person)."""
        return cls._create(
            cls.Sent,
            id=message_id,
            school_id=school_id,
            year_start=year_start,
            roster_id=roster_id,
            subject_id=subject_id,
            student_id=student_id,
            author_id=author_id,
            text=text,
            timestamp=at,
        )
