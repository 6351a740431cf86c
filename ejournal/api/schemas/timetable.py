"""Bodies and answers of the timetable (п. 2.2): a class's version from a date, what it did to the
lessons, the timetable as of a day, the class's week, and the administration's decisions on one
lesson (a substitute, a cancellation, п. 2.3)."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated
from uuid import UUID

from pydantic import Field

from ejournal.api.schemas.common import Id, Input, Name, Output, Reason, SmallInt
from ejournal.api.schemas.reads import ViewOut, names_field
from ejournal.ledger.domain import TimetableEntry


class TimetableEntryIn(Input):
    weekday: SmallInt = Field(description="ISO day of the week: 1 Monday … 6 Saturday")
    slot: SmallInt = Field(description="The lesson's number in the class's bell schedule")
    roster_id: Id = Field(description="The class, one of its groups or individual curricula")
    subject_id: Id
    teacher_id: Id = Field(description="A person assigned to teach the roster's subject")
    room: Name = ""


class TimetableIn(Input):
    entries: Annotated[list[TimetableEntryIn], Field(max_length=400)] = Field(
        description="Every weekly lesson of the class from the date on"
    )

    def timetable_entries(self) -> tuple[TimetableEntry, ...]:
        return tuple(
            TimetableEntry(e.weekday, e.slot, e.roster_id, e.subject_id, e.teacher_id, e.room)
            for e in self.entries
        )


class KeptLessonOut(Output):
    lesson_id: UUID
    roster_id: UUID
    on: date
    slot: int
    reason: str = Field(description="records, substitute, cancelled or outside_timetable")
    note: str = Field(description="The reason as a report says it, in Russian")


class TimetableChangeOut(Output):
    timetable_id: UUID
    effective_from: date
    scheduled: int = Field(description="New lessons")
    replanned: int = Field(
        description="Lessons nothing is written in given another subject, teacher, room or "
        "bell time (or held again)"
    )
    cancelled: int = Field(description="Lessons nothing is written in that are no longer held")
    kept: list[KeptLessonOut] = Field(
        description="Lessons the new version would have otherwise, left as they are, by day"
    )


class SubstituteIn(Input):
    teacher_id: Id = Field(
        description="A teacher of the school's timetable; the lesson's own teacher ends the "
        "substitution"
    )
    reason: Reason


class EntryOut(ViewOut):
    weekday: int = Field(description="ISO: 1 Monday … 6 Saturday")
    slot: int
    starts_at: time | None = Field(description="None: the bell schedule no longer has the slot")
    ends_at: time | None
    roster_id: UUID
    roster_kind: str = Field(description="class, group or individual")
    roster_name: str
    subject_id: UUID
    subject: str
    teacher_id: UUID
    room: str


class TimetableOut(Output):
    class_id: UUID
    class_name: str
    bell_schedule: str
    on: date = Field(description="The day the timetable is read as of")
    effective_from: date | None = Field(description="The version in force; none: no timetable")
    versions: list[date] = Field(description="Every version's first day, in order")
    entries: list[EntryOut] = Field(description="By weekday and slot")
    names: dict[UUID, str] = names_field()


class WeekLessonOut(ViewOut):
    lesson_id: UUID
    on: date
    slot: int
    starts_at: time
    ends_at: time
    roster_id: UUID
    roster_kind: str
    roster_name: str
    subject_id: UUID
    subject: str
    teacher_id: UUID = Field(description="Who teaches it: the substitute, if there is one")
    substitute_for: UUID | None = Field(description="The lesson's own teacher, if substituted")
    substitution_reason: str | None = Field(description="The staff's only")
    room: str
    cancelled: bool = Field(description="«урок отменён»")
    cancellation_reason: str | None = Field(description="The staff's only")


class ClassWeekOut(Output):
    class_id: UUID
    class_name: str
    starts_on: date = Field(description="Monday")
    ends_on: date = Field(description="Sunday")
    lessons: list[WeekLessonOut] = Field(description="By day, start and slot")
    names: dict[UUID, str] = names_field()
