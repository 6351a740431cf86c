"""Schools, accounts and the set-up of a school year (п. 2.2): the context the journal is read in.

Periods, subjects, work types, rosters with their dated membership, teaching assignments,
guardianships and the КТП are kept as rows, so that queries join them with lessons and marks and
the projector never loads an aggregate.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from ejournal.ledger.domain import (
    Account,
    Group,
    Guardianship,
    IndividualCurriculum,
    School,
    SchoolClass,
    SchoolYear,
    TeachingAssignment,
    ThematicPlan,
)
from ejournal.ledger.domain.values import RosterKind
from ejournal.projections.decoding import Fields
from ejournal.projections.handlers.base import Kind, Owned, Page, first, handles
from ejournal.projections.tables import (
    ACCOUNTS,
    ASSIGNMENT_STINTS,
    ASSIGNMENTS,
    BELL_SLOTS,
    GUARDIANS,
    GUARDIANSHIPS,
    HOLIDAYS,
    MEMBERS,
    PERIODS,
    PLAN_ITEMS,
    PLANS,
    ROSTERS,
    SCHOOLS,
    SUBJECTS,
    WORK_TYPES,
    YEARS,
    AccountRow,
    AssignmentRow,
    AssignmentStintRow,
    BellSlotRow,
    GuardianRow,
    GuardianshipRow,
    HolidayRow,
    MemberRow,
    Operation,
    PeriodRow,
    PlanItemRow,
    PlanRow,
    RosterRow,
    SchoolRow,
    SubjectRow,
    WorkTypeRow,
    YearRow,
)

SCHOOL = Kind("School", SCHOOLS)
ACCOUNT = Kind("Account", ACCOUNTS)
YEAR = Kind(
    "SchoolYear",
    YEARS,
    (
        (PERIODS, lambda r: (r.scheme, r.name)),
        (HOLIDAYS, lambda r: r.op.nid),
        (BELL_SLOTS, lambda r: (r.schedule, r.number)),
        (SUBJECTS, lambda r: r.subject_id),
        (WORK_TYPES, lambda r: r.work_type_id),
    ),
)
ROSTER = Kind("Roster", ROSTERS, ((MEMBERS, lambda r: r.op.nid),))
ASSIGNMENT = Kind("TeachingAssignment", ASSIGNMENTS, ((ASSIGNMENT_STINTS, lambda r: r.op.nid),))
GUARDIANSHIP = Kind("Guardianship", GUARDIANSHIPS, ((GUARDIANS, lambda r: r.parent_id),))
PLAN = Kind("ThematicPlan", PLANS, ((PLAN_ITEMS, lambda r: r.number),))


# --- schools and accounts -------------------------------------------------------------------------


@handles(SCHOOL, School.Registered, creates=True)
def school_registered(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.primary = SchoolRow(state.aggregate_id, f["name"], f["time_zone"], op)
    page.zones[state.aggregate_id] = ZoneInfo(f["time_zone"])


@handles(SCHOOL, School.Renamed)
def school_renamed(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    school: SchoolRow = state.row
    school.name = f["name"]


@handles(ACCOUNT, Account.Registered, creates=True)
def account_registered(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.primary = AccountRow(state.aggregate_id, f["person_id"], op)


# --- the school year ------------------------------------------------------------------------------


@handles(YEAR, SchoolYear.Opened, creates=True)
def year_opened(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.primary = YearRow(
        state.aggregate_id,
        f["school_id"],
        f["year_start"],
        f["starts_on"],
        f["ends_on"],
        0,
        None,
        None,
        None,
        None,
        op,
    )


@handles(YEAR, SchoolYear.PeriodsDefined)
def periods_defined(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    periods = state.rows(PERIODS)
    scheme = f["scheme"]
    for key in [k for k in periods if k[0] == scheme]:
        del periods[key]
    for ordinal, p in enumerate(f["periods"]):
        row = PeriodRow(state.key, scheme, p["name"], ordinal, p["starts_on"], p["ends_on"], op)
        periods[(scheme, row.name)] = row
    year: YearRow = state.row
    year.periods_at = first(year.periods_at, op.recorded_at)


@handles(YEAR, SchoolYear.HolidayDeclared)
def holiday_declared(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    row = HolidayRow(state.key, f["name"], f["starts_on"], f["ends_on"], op)
    state.rows(HOLIDAYS)[op.nid] = row


@handles(YEAR, SchoolYear.SubjectAdded)
def subject_added(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.rows(SUBJECTS)[f["subject_id"]] = SubjectRow(state.key, f["subject_id"], f["name"], op)
    year: YearRow = state.row
    year.subjects_at = first(year.subjects_at, op.recorded_at)


@handles(YEAR, SchoolYear.WorkTypeDefined)
def work_type_defined(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.rows(WORK_TYPES)[f["work_type_id"]] = WorkTypeRow(
        state.key, f["work_type_id"], f["name"], str(f["weight"]), int(f["written"]), op
    )
    year: YearRow = state.row
    year.work_types_at = first(year.work_types_at, op.recorded_at)


@handles(YEAR, SchoolYear.BellScheduleDefined)
def bell_schedule_defined(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    # Lessons carry their own start and end times; the timetable reads the bells' (a later
    # definition of a schedule supersedes).
    slots = state.rows(BELL_SLOTS)
    name = f["name"]
    for key in [k for k in slots if k[0] == name]:
        del slots[key]
    for s in f["slots"]:
        row = BellSlotRow(state.key, name, s["number"], s["starts_at"], s["ends_at"], op)
        slots[(name, row.number)] = row
    year: YearRow = state.row
    year.bells_at = first(year.bells_at, op.recorded_at)


@handles(YEAR, SchoolYear.Closed)
def year_closed(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    year: YearRow = state.row
    year.closed = 1


@handles(YEAR, SchoolYear.Reopened)
def year_reopened(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    year: YearRow = state.row
    year.closed = 0


# --- rosters and their members --------------------------------------------------------------------


def _roster(state: Owned, f: Fields, op: Operation, **values: Any) -> RosterRow:
    defaults: dict[str, Any] = {
        "subject_id": None,
        "grade": None,
        "period_scheme": None,
        "class_teacher_id": None,
        "student_id": None,
        "bell_schedule": None,
    }
    return RosterRow(
        roster_id=state.aggregate_id,
        school_id=f["school_id"],
        year_start=f["year_start"],
        op=op,
        **{**defaults, **values},
    )


def _join(state: Owned, student_id: str, on: str, op: Operation) -> None:
    state.rows(MEMBERS)[op.nid] = MemberRow(state.key, student_id, on, None, op)


def _leave(state: Owned, student_id: str, on: str) -> None:
    for row in state.rows(MEMBERS).values():
        if row.student_id == student_id and row.ends_on is None:
            row.ends_on = on


@handles(ROSTER, SchoolClass.Opened, creates=True)
def class_opened(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.primary = _roster(
        state,
        f,
        op,
        kind=RosterKind.CLASS.value,
        class_id=state.aggregate_id,
        name=f"{f['grade']}«{f['letter']}»",
        grade=f["grade"],
        period_scheme=f["period_scheme"],
        bell_schedule=f["bell_schedule"],
    )


@handles(ROSTER, SchoolClass.ClassTeacherAssigned)
def class_teacher_assigned(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    school_class: RosterRow = state.row
    school_class.class_teacher_id = f["teacher_id"]


@handles(ROSTER, SchoolClass.StudentEnrolled)
def student_enrolled(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    _join(state, f["student_id"], f["on"], op)


@handles(ROSTER, SchoolClass.StudentWithdrawn)
def student_withdrawn(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    _leave(state, f["student_id"], f["on"])


@handles(ROSTER, Group.Formed, creates=True)
def group_formed(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.primary = _roster(
        state,
        f,
        op,
        kind=RosterKind.GROUP.value,
        class_id=f["class_id"],
        name=f["name"],
        subject_id=f["subject_id"],
    )


@handles(ROSTER, Group.MemberAdded)
def member_added(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    _join(state, f["student_id"], f["on"], op)


@handles(ROSTER, Group.MemberRemoved)
def member_removed(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    _leave(state, f["student_id"], f["on"])


@handles(ROSTER, IndividualCurriculum.Opened, creates=True)
def curriculum_opened(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.primary = _roster(
        state,
        f,
        op,
        kind=RosterKind.INDIVIDUAL.value,
        class_id=f["class_id"],
        name="индивидуальный учебный план",
        subject_id=f["subject_id"],
        student_id=f["student_id"],
    )
    _join(state, f["student_id"], f["starts_on"], op)


@handles(ROSTER, IndividualCurriculum.Closed)
def curriculum_closed(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    curriculum: RosterRow = state.row
    _leave(state, curriculum.student_id or "", f["on"])


# --- who teaches what, whose parents, the КТП -----------------------------------------------------


@handles(ASSIGNMENT, TeachingAssignment.Assigned, creates=True)
def teacher_assigned(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.primary = AssignmentRow(
        state.aggregate_id,
        f["school_id"],
        f["year_start"],
        f["roster_id"],
        f["subject_id"],
        f["teacher_id"],
        op,
    )
    state.rows(ASSIGNMENT_STINTS)[op.nid] = AssignmentStintRow(state.key, f["starts_on"], None, op)


@handles(ASSIGNMENT, TeachingAssignment.Ended)
def assignment_ended(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    for row in state.rows(ASSIGNMENT_STINTS).values():
        if row.ends_on is None:
            row.ends_on = f["on"]


@handles(ASSIGNMENT, TeachingAssignment.Resumed)
def assignment_resumed(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.rows(ASSIGNMENT_STINTS)[op.nid] = AssignmentStintRow(state.key, f["on"], None, op)


@handles(GUARDIANSHIP, Guardianship.Opened, creates=True)
def guardianship_opened(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.primary = GuardianshipRow(
        state.aggregate_id, f["school_id"], f["year_start"], f["student_id"], op
    )


@handles(GUARDIANSHIP, Guardianship.ParentLinked)
def parent_linked(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.rows(GUARDIANS)[f["parent_id"]] = GuardianRow(state.key, f["parent_id"], op)


@handles(GUARDIANSHIP, Guardianship.ParentUnlinked)
def parent_unlinked(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.rows(GUARDIANS).pop(f["parent_id"], None)


def _plan_items(state: Owned, f: Fields, op: Operation) -> None:
    items = state.rows(PLAN_ITEMS)
    items.clear()
    for item in f["items"]:
        items[item["number"]] = PlanItemRow(
            state.key, item["number"], item["topic"], item["hours"], op
        )


@handles(PLAN, ThematicPlan.Imported, creates=True)
def plan_imported(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.primary = PlanRow(state.aggregate_id, f["roster_id"], f["subject_id"], op)
    _plan_items(state, f, op)


@handles(PLAN, ThematicPlan.Replaced)
def plan_replaced(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    _plan_items(state, f, op)
