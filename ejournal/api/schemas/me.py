"""The caller's own page (``GET /me``) and a teacher's lessons (``GET /me/lessons``): where a
client that knows only a login finds every ID its role's work needs, and the names of the people
it shows (``api.names``)."""

from __future__ import annotations

from datetime import date, time
from uuid import UUID

from pydantic import Field

from ejournal.api.schemas.auth import MeOut
from ejournal.api.schemas.common import SchoolDate
from ejournal.api.schemas.lists import StintOut
from ejournal.api.schemas.paging import QueryParameters
from ejournal.api.schemas.reads import ViewOut, names_field
from ejournal.ledger.actor import Role


class ClassRefOut(ViewOut):
    class_id: UUID
    name: str = Field(description="As the journal writes it: 5«А»")
    grade: int


class TeachingOut(ViewOut):
    """An assignment to teach a roster's subject (п. 2.3)."""

    assignment_id: UUID
    roster_id: UUID = Field(description="The class's own ID, a group's or a curriculum's")
    roster_kind: str = Field(description="class, group or individual")
    roster_name: str
    school_class: ClassRefOut = Field(serialization_alias="class")
    subject_id: UUID
    subject: str
    student_id: UUID | None = Field(description="The pupil of an individual curriculum")
    stints: list[StintOut]


class ChildOut(ViewOut):
    student_id: UUID
    school_class: ClassRefOut | None = Field(
        serialization_alias="class", description="The class the child is, or was last, in"
    )


class MyYearOut(ViewOut):
    year_start: int
    starts_on: date
    ends_on: date
    closed: bool
    current: bool = Field(description="Today, in the school's time zone, is one of its days")
    teaching: list[TeachingOut] = Field(description="A teacher's assignments")
    class_teacher_of: list[ClassRefOut]
    children: list[ChildOut] = Field(description="A parent's children, with their class")
    own_class: ClassRefOut | None = Field(description="A pupil's class")


class MySchoolOut(ViewOut):
    school_id: UUID
    name: str
    time_zone: str
    roles: list[Role] = Field(description="The roles the caller holds in the school")
    years: list[MyYearOut] = Field(description="Every school year of the school, oldest first")


class HomeOut(MeOut):
    """``GET /auth/me``'s account and session, and what each role of the caller reaches."""

    schools: list[MySchoolOut] = Field(description="The schools the caller holds a role in")
    names: dict[UUID, str] = names_field()


class LessonsQuery(QueryParameters):
    start: SchoolDate | None = Field(None, alias="from", description="First day (inclusive)")
    end: SchoolDate | None = Field(None, alias="to", description="Last day (inclusive)")


class LessonStateOut(ViewOut):
    lesson_id: UUID
    school_id: UUID
    year_start: int
    on: date
    slot: int
    starts_at: time
    ends_at: time
    roster_id: UUID
    roster_kind: str
    roster_name: str
    school_class: ClassRefOut = Field(serialization_alias="class")
    subject_id: UUID
    subject: str
    topic: str
    plan_item: int | None
    topic_set: bool = Field(description="A topic or a КТП item is set (п. 2.6)")
    register_taken: bool = Field(description="The attendance register was recorded (п. 2.5)")
    homework_given: bool = Field(description="Homework was set (п. 2.7)")
    marks: int = Field(description="Current marks (not cancelled)")
    room: str = Field(description="Empty: not given")
    substitute_for: UUID | None = Field(
        description="The lesson's own teacher, when the caller takes it as a substitute"
    )
    cancelled: bool = Field(description="The lesson is not held: nothing is written in it")


class MyLessonsOut(ViewOut):
    starts_on: date
    ends_on: date
    lessons: list[LessonStateOut] = Field(
        description="By day, start and slot: the caller's own, and those the caller takes as a "
        "substitute (not those a substitute takes instead of the caller)"
    )
    names: dict[UUID, str] = names_field()
