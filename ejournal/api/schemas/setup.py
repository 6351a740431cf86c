"""Bodies of the school-year setup (п. 2.2) and of schools and accounts."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from ejournal.api.schemas.common import (
    Choice,
    Id,
    Input,
    IsoTime,
    Login,
    Name,
    Number,
    Reason,
    SchoolDate,
    SmallInt,
    YearStart,
)
from ejournal.ledger.actor import Role
from ejournal.ledger.domain.values import PeriodScheme

Weight = Annotated[Number, Field(max_digits=6, decimal_places=3, allow_inf_nan=False)]


class SchoolIn(Input):
    name: Name
    time_zone: Annotated[str, Field(max_length=64)] = "Europe/Moscow"


class AccountIn(Input):
    login: Login
    person_id: Id


class GrantIn(Input):
    role: Choice[Role]
    school_id: Id | None = Field(
        default=None, description="The school of a school role; none for auditor, support …"
    )


class ReasonIn(Input):
    reason: Reason


class SchoolYearIn(Input):
    year_start: YearStart
    starts_on: SchoolDate | None = None
    ends_on: SchoolDate | None = None


class PeriodIn(Input):
    name: Name
    starts_on: SchoolDate
    ends_on: SchoolDate


class PeriodsIn(Input):
    periods: Annotated[list[PeriodIn], Field(max_length=12)]


class HolidayIn(Input):
    name: Name
    starts_on: SchoolDate
    ends_on: SchoolDate


class SubjectIn(Input):
    name: Name
    subject_id: Id | None = None


class WorkTypeIn(Input):
    name: Name
    weight: Weight
    written: bool
    work_type_id: Id | None = None

    def fields(self) -> dict[str, Any]:
        # A whole weight goes as an int: 2, not Decimal("2.000").
        whole = self.weight == self.weight.to_integral_value()
        return {**super().fields(), "weight": int(self.weight) if whole else self.weight}


class BellSlotIn(Input):
    number: SmallInt
    starts_at: IsoTime
    ends_at: IsoTime


class BellScheduleIn(Input):
    slots: Annotated[list[BellSlotIn], Field(max_length=30)]


class ClassIn(Input):
    grade: SmallInt
    letter: Annotated[Name, Field(max_length=4)]
    period_scheme: Choice[PeriodScheme]
    bell_schedule: Name = "основное"


class ClassTeacherIn(Input):
    teacher_id: Id


class StudentIn(Input):
    student_id: Id
    on: SchoolDate


class WithdrawalIn(Input):
    on: SchoolDate
    reason: Reason


class GroupIn(Input):
    subject_id: Id
    name: Name


class DatedIn(Input):
    on: SchoolDate


class CurriculumIn(Input):
    student_id: Id
    subject_id: Id
    on: SchoolDate


class TeacherIn(Input):
    subject_id: Id
    teacher_id: Id
    on: SchoolDate


class ParentIn(Input):
    parent_id: Id


class PlanItemIn(Input):
    number: SmallInt
    topic: Name
    hours: SmallInt = 1


class PlanIn(Input):
    items: Annotated[list[PlanItemIn], Field(max_length=400)]
