"""Setting up the school year (п. 2.2): the head and deputies form its sections; a teacher may
also load the КТП of what they teach (п. 2.6). The commands check who may."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from ejournal import commands as c
from ejournal.api.commands import accepted, created
from ejournal.api.deps import CurrentActor, LedgerDep
from ejournal.api.errors import problem_responses
from ejournal.api.schemas.common import Accepted, Created, Name, YearStart
from ejournal.api.schemas.setup import (
    BellScheduleIn,
    ClassIn,
    ClassTeacherIn,
    CurriculumIn,
    DatedIn,
    GroupIn,
    HolidayIn,
    ParentIn,
    PeriodsIn,
    PlanIn,
    ReasonIn,
    SchoolYearIn,
    StudentIn,
    SubjectIn,
    TeacherIn,
    WithdrawalIn,
    WorkTypeIn,
)
from ejournal.api.threads import OneTripRoute
from ejournal.ledger.domain.values import BellSlot, PeriodScheme, PlanItem

router = APIRouter(
    route_class=OneTripRoute,
    tags=["school year setup"],
    responses=problem_responses(401, 403, 404, 409, 422),
)

YEAR = "/schools/{school_id}/years/{year_start}"


@router.post(
    "/schools/{school_id}/years",
    response_model=Created,
    status_code=status.HTTP_201_CREATED,
    summary="Open a school year",
)
def open_year(
    school_id: UUID, body: SchoolYearIn, actor: CurrentActor, ledger: LedgerDep
) -> Created:
    return created(c.OpenSchoolYear(actor=actor, school_id=school_id, **body.fields()), ledger)


@router.put(YEAR + "/periods/{scheme}", response_model=Accepted, summary="Define reporting periods")
def define_periods(
    school_id: UUID,
    year_start: YearStart,
    scheme: PeriodScheme,
    body: PeriodsIn,
    actor: CurrentActor,
    ledger: LedgerDep,
) -> Accepted:
    periods = tuple(c.PeriodSpec(p.name, p.starts_on, p.ends_on) for p in body.periods)
    command = c.DefinePeriods(
        actor=actor, school_id=school_id, year_start=year_start, scheme=scheme, periods=periods
    )
    return accepted(command, ledger)


@router.post(YEAR + "/holidays", response_model=Accepted, summary="Declare holidays")
def declare_holiday(
    school_id: UUID, year_start: YearStart, body: HolidayIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    command = c.DeclareHoliday(
        actor=actor, school_id=school_id, year_start=year_start, **body.fields()
    )
    return accepted(command, ledger)


@router.post(
    YEAR + "/subjects",
    response_model=Created,
    status_code=status.HTTP_201_CREATED,
    summary="Add a subject",
)
def add_subject(
    school_id: UUID, year_start: YearStart, body: SubjectIn, actor: CurrentActor, ledger: LedgerDep
) -> Created:
    command = c.AddSubject(actor=actor, school_id=school_id, year_start=year_start, **body.fields())
    return created(command, ledger)


@router.post(
    YEAR + "/work-types",
    response_model=Created,
    status_code=status.HTTP_201_CREATED,
    summary="Define a type of work with its weight (п. 2.6)",
)
def define_work_type(
    school_id: UUID, year_start: YearStart, body: WorkTypeIn, actor: CurrentActor, ledger: LedgerDep
) -> Created:
    command = c.DefineWorkType(
        actor=actor, school_id=school_id, year_start=year_start, **body.fields()
    )
    return created(command, ledger)


@router.put(
    YEAR + "/bell-schedules/{name}", response_model=Accepted, summary="Define a bell schedule"
)
def define_bell_schedule(
    school_id: UUID,
    year_start: YearStart,
    name: Name,
    body: BellScheduleIn,
    actor: CurrentActor,
    ledger: LedgerDep,
) -> Accepted:
    slots = tuple(BellSlot(s.number, s.starts_at, s.ends_at) for s in body.slots)
    command = c.DefineBellSchedule(
        actor=actor, school_id=school_id, year_start=year_start, name=name, slots=slots
    )
    return accepted(command, ledger)


@router.post(YEAR + "/close", response_model=Accepted, summary="Close the year's journal (п. 2.11)")
def close_year(
    school_id: UUID, year_start: YearStart, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    command = c.CloseSchoolYear(actor=actor, school_id=school_id, year_start=year_start)
    return accepted(command, ledger)


@router.post(YEAR + "/reopen", response_model=Accepted, summary="Reopen the year's journal")
def reopen_year(
    school_id: UUID, year_start: YearStart, body: ReasonIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    command = c.ReopenSchoolYear(
        actor=actor, school_id=school_id, year_start=year_start, **body.fields()
    )
    return accepted(command, ledger)


@router.post(
    YEAR + "/classes",
    response_model=Created,
    status_code=status.HTTP_201_CREATED,
    summary="Open a class",
)
def open_class(
    school_id: UUID, year_start: YearStart, body: ClassIn, actor: CurrentActor, ledger: LedgerDep
) -> Created:
    command = c.OpenClass(actor=actor, school_id=school_id, year_start=year_start, **body.fields())
    return created(command, ledger)


@router.put(
    "/classes/{class_id}/class-teacher", response_model=Accepted, summary="Assign the class teacher"
)
def assign_class_teacher(
    class_id: UUID, body: ClassTeacherIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    return accepted(c.AssignClassTeacher(actor=actor, class_id=class_id, **body.fields()), ledger)


@router.post("/classes/{class_id}/students", response_model=Accepted, summary="Enrol a student")
def enrol_student(
    class_id: UUID, body: StudentIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    return accepted(c.EnrolStudent(actor=actor, class_id=class_id, **body.fields()), ledger)


@router.post(
    "/classes/{class_id}/students/{student_id}/withdrawal",
    response_model=Accepted,
    summary="Withdraw a student from the class",
)
def withdraw_student(
    class_id: UUID, student_id: UUID, body: WithdrawalIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    command = c.WithdrawStudent(
        actor=actor, class_id=class_id, student_id=student_id, **body.fields()
    )
    return accepted(command, ledger)


@router.post(
    "/classes/{class_id}/groups",
    response_model=Created,
    status_code=status.HTTP_201_CREATED,
    summary="Form a group of the class for a subject",
)
def form_group(class_id: UUID, body: GroupIn, actor: CurrentActor, ledger: LedgerDep) -> Created:
    return created(c.FormGroup(actor=actor, class_id=class_id, **body.fields()), ledger)


@router.post(
    "/groups/{group_id}/members", response_model=Accepted, summary="Add a student to a group"
)
def add_group_member(
    group_id: UUID, body: StudentIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    return accepted(c.AddGroupMember(actor=actor, group_id=group_id, **body.fields()), ledger)


@router.post(
    "/groups/{group_id}/members/{student_id}/removal",
    response_model=Accepted,
    summary="Remove a student from a group",
)
def remove_group_member(
    group_id: UUID, student_id: UUID, body: DatedIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    command = c.RemoveGroupMember(
        actor=actor, group_id=group_id, student_id=student_id, **body.fields()
    )
    return accepted(command, ledger)


@router.post(
    "/classes/{class_id}/individual-curricula",
    response_model=Created,
    status_code=status.HTTP_201_CREATED,
    summary="Open an individual curriculum",
)
def open_curriculum(
    class_id: UUID, body: CurriculumIn, actor: CurrentActor, ledger: LedgerDep
) -> Created:
    command = c.OpenIndividualCurriculum(actor=actor, class_id=class_id, **body.fields())
    return created(command, ledger)


@router.post(
    "/rosters/{roster_id}/teachers",
    response_model=Created,
    status_code=status.HTTP_201_CREATED,
    summary="Assign a teacher to a class, group or curriculum for a subject (п. 2.3)",
)
def assign_teacher(
    roster_id: UUID, body: TeacherIn, actor: CurrentActor, ledger: LedgerDep
) -> Created:
    return created(c.AssignTeacher(actor=actor, roster_id=roster_id, **body.fields()), ledger)


@router.post(
    "/rosters/{roster_id}/teachers/unassignment",
    response_model=Accepted,
    summary="End a teacher's assignment",
)
def unassign_teacher(
    roster_id: UUID, body: TeacherIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    return accepted(c.UnassignTeacher(actor=actor, roster_id=roster_id, **body.fields()), ledger)


@router.post(
    YEAR + "/students/{student_id}/parents",
    response_model=Accepted,
    summary="Link a parent to a student (п. 1.6)",
)
def link_parent(
    school_id: UUID,
    year_start: YearStart,
    student_id: UUID,
    body: ParentIn,
    actor: CurrentActor,
    ledger: LedgerDep,
) -> Accepted:
    command = c.LinkParent(
        actor=actor,
        school_id=school_id,
        year_start=year_start,
        student_id=student_id,
        **body.fields(),
    )
    return accepted(command, ledger)


@router.post(
    YEAR + "/students/{student_id}/parents/{parent_id}/unlink",
    response_model=Accepted,
    summary="Unlink a parent from a student",
)
def unlink_parent(
    school_id: UUID,
    year_start: YearStart,
    student_id: UUID,
    parent_id: UUID,
    body: ReasonIn,
    actor: CurrentActor,
    ledger: LedgerDep,
) -> Accepted:
    command = c.UnlinkParent(
        actor=actor,
        school_id=school_id,
        year_start=year_start,
        student_id=student_id,
        parent_id=parent_id,
        **body.fields(),
    )
    return accepted(command, ledger)


@router.put(
    "/rosters/{roster_id}/subjects/{subject_id}/plan",
    response_model=Created,
    summary="Import the КТП of a roster's subject (its teacher, or the administration; п. 2.6)",
)
def import_plan(
    roster_id: UUID, subject_id: UUID, body: PlanIn, actor: CurrentActor, ledger: LedgerDep
) -> Created:
    items = tuple(PlanItem(i.number, i.topic, i.hours) for i in body.items)
    command = c.ImportKtp(actor=actor, roster_id=roster_id, subject_id=subject_id, items=items)
    return created(command, ledger)
