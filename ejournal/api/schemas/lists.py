"""The lists (``GET /schools/{id}/years/{year}/classes`` …, ``GET /rosters/{id}/students``): their
query parameters and their pages. The people a page shows are named in its ``names``
(``api.names``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from pydantic import Field

from ejournal.api.schemas.common import SchoolDate
from ejournal.api.schemas.paging import Count, ListQuery, PageOut
from ejournal.api.schemas.reads import ViewOut, names_field
from ejournal.ledger.domain.values import PeriodScheme


class ClassesQuery(ListQuery):
    grade: Annotated[Count | None, Field(ge=1, le=11, description="Only this grade's classes")] = (
        None
    )


class PeriodsQuery(ListQuery):
    scheme: PeriodScheme | None = Field(None, description="Only this scheme's periods")


class PupilsQuery(ListQuery):
    on: SchoolDate | None = Field(
        None,
        description="The pupils of this day (ГГГГ-ММ-ДД); by default today in the school's time "
        "zone, or the year's nearer end for a year that is over or to come",
    )


class GroupOut(ViewOut):
    group_id: UUID
    name: str
    subject_id: UUID


class ClassOut(ViewOut):
    class_id: UUID
    name: str = Field(description="As the journal writes it: 5«А»")
    grade: int
    period_scheme: str
    class_teacher_id: UUID | None
    groups: list[GroupOut]


class ClassesOut(PageOut):
    """A school year's classes by grade and name."""

    items: list[ClassOut]
    names: dict[UUID, str] = names_field()


class TaughtOut(ViewOut):
    roster_id: UUID
    roster_name: str = Field(description="5«А», a group's name, or a pupil's curriculum's")
    subject_id: UUID
    subject: str


class TeacherOut(ViewOut):
    teacher_id: UUID
    teaching: list[TaughtOut] = Field(description="By class, then subject")
    class_teacher_of: list[UUID] = Field(description="The classes the teacher leads")


class TeachersOut(PageOut):
    """A school year's teachers, by name for a reader who sees names, else by ID."""

    items: list[TeacherOut]
    names: dict[UUID, str] = names_field()


class YearSubjectOut(ViewOut):
    subject_id: UUID
    name: str


class SubjectsOut(PageOut):
    """A school year's subjects, in the order the set-up added them."""

    items: list[YearSubjectOut]


class WorkTypeOut(ViewOut):
    work_type_id: UUID
    name: str
    weight: Decimal = Field(description="The weight of its marks in a weighted average (п. 2.6)")
    written: bool = Field(description="A written work: its marks carry the day checking ended")


class WorkTypesOut(PageOut):
    """A school year's types of work, in the order they were defined."""

    items: list[WorkTypeOut]


class PeriodOut(ViewOut):
    scheme: str
    name: str
    ordinal: int
    starts_on: date
    ends_on: date


class PeriodsOut(PageOut):
    """A school year's reporting periods, by scheme and order."""

    items: list[PeriodOut]


class StintOut(ViewOut):
    starts_on: date
    ends_on: date | None = Field(description="The first day no longer in it; none: still there")


class PupilOut(ViewOut):
    student_id: UUID
    stints: list[StintOut] = Field(description="Every stint in the roster that year, oldest first")


class PupilsOut(PageOut):
    """A roster's pupils on a day, as a class list: by name for a reader who sees names, else by
    the day they first joined; then by ID."""

    roster_id: UUID
    on: date
    items: list[PupilOut]
    names: dict[UUID, str] = names_field()
