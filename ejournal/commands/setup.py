"""Setting up a school year (п. 2.2): periods, holidays, subjects, work types, bells, classes,
students, groups, individual curricula, teachers' assignments, parents, КТП.

Only the head or a deputy of the school sets the year up; a teacher may also import the КТП of a
roster and subject they teach (п. 2.6). Every record goes to the school year's log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import pairwise
from uuid import UUID, uuid4

from ejournal.commands._access import (
    Principal,
    authorise_setup,
    authorise_teaching,
    check_roster_subject,
    class_of,
    load,
    load_roster,
    load_school,
    non_blank,
    principal,
    teaches,
    writable_year,
    year_log,
)
from ejournal.commands.base import Command
from ejournal.commands.errors import refuse
from ejournal.ledger.actor import ADMINISTRATION, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import (
    Group,
    Guardianship,
    IndividualCurriculum,
    Roster,
    SchoolClass,
    SchoolYear,
    TeachingAssignment,
    ThematicPlan,
)
from ejournal.ledger.domain.values import (
    BellSlot,
    DateRange,
    Period,
    PeriodScheme,
    PlanItem,
    RosterKind,
    Weight,
    WorkType,
)

DEFAULT_BELL_SCHEDULE = "основное"
MAX_WEIGHT = 10
MAX_PLAN_HOURS = 10
MAX_SLOT = 20
_LETTER = re.compile(r"[А-ЯЁA-Z]")


@dataclass(frozen=True, slots=True)
class PeriodSpec:
    """A named reporting period, from ``starts_on`` to ``ends_on`` inclusive."""

    name: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenSchoolYear(Command[UUID]):
    """Open the year starting 1 September ``year_start``; returns the school year's ID."""

    school_id: UUID
    year_start: int
    starts_on: date | None = None
    """1 September of ``year_start`` unless given."""
    ends_on: date | None = None
    """31 August of the next year unless given."""


@dataclass(frozen=True, kw_only=True, slots=True)
class DefinePeriods(Command[None]):
    """Define (or redefine) the periods of one scheme: quarters, half-years or trimesters."""

    school_id: UUID
    year_start: int
    scheme: PeriodScheme
    periods: tuple[PeriodSpec, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class DeclareHoliday(Command[None]):
    school_id: UUID
    year_start: int
    name: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True, kw_only=True, slots=True)
class CloseSchoolYear(Command[None]):
    school_id: UUID
    year_start: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ReopenSchoolYear(Command[None]):
    school_id: UUID
    year_start: int
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AddSubject(Command[UUID]):
    school_id: UUID
    year_start: int
    name: str
    subject_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, kw_only=True, slots=True)
class DefineWorkType(Command[UUID]):
    """A type of work marks are given for, with its weight (п. 2.6)."""

    school_id: UUID
    year_start: int
    name: str
    weight: Weight
    written: bool
    work_type_id: UUID = field(default_factory=uuid4)


@dataclass(frozen=True, kw_only=True, slots=True)
class DefineBellSchedule(Command[None]):
    """Define (or redefine) a bell schedule: lesson number → start and end time."""

    school_id: UUID
    year_start: int
    slots: tuple[BellSlot, ...]
    name: str = DEFAULT_BELL_SCHEDULE


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenClass(Command[UUID]):
    school_id: UUID
    year_start: int
    grade: int
    letter: str
    period_scheme: PeriodScheme
    bell_schedule: str = DEFAULT_BELL_SCHEDULE


@dataclass(frozen=True, kw_only=True, slots=True)
class AssignClassTeacher(Command[None]):
    class_id: UUID
    teacher_id: UUID
    """A person."""


@dataclass(frozen=True, kw_only=True, slots=True)
class EnrolStudent(Command[None]):
    class_id: UUID
    student_id: UUID
    on: date


@dataclass(frozen=True, kw_only=True, slots=True)
class WithdrawStudent(Command[None]):
    """The student leaves the class; ``on`` is the first day they no longer belong."""

    class_id: UUID
    student_id: UUID
    on: date
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class FormGroup(Command[UUID]):
    """A group of a class for a subject (английский язык, группа 1); returns its ID."""

    class_id: UUID
    subject_id: UUID
    name: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AddGroupMember(Command[None]):
    group_id: UUID
    student_id: UUID
    on: date


@dataclass(frozen=True, kw_only=True, slots=True)
class RemoveGroupMember(Command[None]):
    group_id: UUID
    student_id: UUID
    on: date


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenIndividualCurriculum(Command[UUID]):
    class_id: UUID
    student_id: UUID
    subject_id: UUID
    on: date


@dataclass(frozen=True, kw_only=True, slots=True)
class AssignTeacher(Command[UUID]):
    """Teacher ``teacher_id`` (a person) teaches ``subject_id`` to a class, group or curriculum."""

    roster_id: UUID
    subject_id: UUID
    teacher_id: UUID
    on: date


@dataclass(frozen=True, kw_only=True, slots=True)
class UnassignTeacher(Command[None]):
    roster_id: UUID
    subject_id: UUID
    teacher_id: UUID
    on: date
    """The first day the teacher no longer teaches it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class LinkParent(Command[None]):
    school_id: UUID
    year_start: int
    student_id: UUID
    parent_id: UUID


@dataclass(frozen=True, kw_only=True, slots=True)
class UnlinkParent(Command[None]):
    school_id: UUID
    year_start: int
    student_id: UUID
    parent_id: UUID
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ImportKtp(Command[UUID]):
    """Import (or replace) the КТП of a roster's subject; returns the plan's ID."""

    roster_id: UUID
    subject_id: UUID
    items: tuple[PlanItem, ...]


def _within(days: DateRange, year: DateRange) -> bool:
    """Whether ``days`` is a well-ordered range inside ``year``."""
    return days.starts_on <= days.ends_on and days.starts_on in year and days.ends_on in year


def _whole(value: object) -> bool:
    """An int that is not a bool (True is no number of hours)."""
    return isinstance(value, int) and not isinstance(value, bool)


# The year itself.


def _year_for_setup(
    ledger: Ledger, cmd: Command[object], school_id: UUID, year_start: int
) -> tuple[Principal, Role, SchoolYear]:
    who = principal(ledger, cmd.actor)
    load_school(ledger, school_id)
    role = authorise_setup(who, school_id)
    return who, role, writable_year(ledger, school_id, year_start)


def handle_open_school_year(cmd: OpenSchoolYear, ledger: Ledger) -> UUID:
    who = principal(ledger, cmd.actor)
    load_school(ledger, cmd.school_id)
    role = authorise_setup(who, cmd.school_id)
    year_id = SchoolYear.create_id(school_id=cmd.school_id, year_start=cmd.year_start)
    name = f"{cmd.year_start}/{cmd.year_start + 1}"
    if ledger.find(year_id, SchoolYear) is not None:
        raise refuse("year.already_open", year=name)
    if not 2000 <= cmd.year_start <= 2200:
        raise refuse("year.invalid_dates", starts_on=cmd.year_start, ends_on="")
    starts_on = cmd.starts_on or date(cmd.year_start, 9, 1)
    ends_on = cmd.ends_on or date(cmd.year_start + 1, 8, 31)
    within = date(cmd.year_start, 8, 1) <= starts_on < ends_on <= date(cmd.year_start + 1, 8, 31)
    if not within:
        raise refuse("year.invalid_dates", starts_on=starts_on, ends_on=ends_on)
    year = SchoolYear.open(
        school_id=cmd.school_id,
        year_start=cmd.year_start,
        starts_on=starts_on,
        ends_on=ends_on,
        at=ledger.clock(),
    )
    ledger.record(year, log_id=year_log(cmd.school_id, cmd.year_start), actor=cmd.actor, role=role)
    return year.id


def handle_define_periods(cmd: DefinePeriods, ledger: Ledger) -> None:
    _, role, year = _year_for_setup(ledger, cmd, cmd.school_id, cmd.year_start)
    if cmd.scheme not in set(PeriodScheme):
        raise refuse("period.unknown_scheme", scheme=cmd.scheme)
    periods = [Period(non_blank(p.name), DateRange(p.starts_on, p.ends_on)) for p in cmd.periods]
    if not periods:
        raise refuse("period.invalid", detail="нет ни одного периода")
    names = [p.name for p in periods]
    if "" in names or len(set(names)) != len(names):
        raise refuse("period.invalid", detail="названия должны быть непустыми и разными")
    for period in periods:
        days = period.days
        if not _within(days, year.days):
            raise refuse("period.invalid", detail=f"«{period.name}» вне учебного года")
    for earlier, later in pairwise(periods):
        if later.days.starts_on <= earlier.days.ends_on:
            raise refuse("period.invalid", detail=f"«{later.name}» пересекается или не по порядку")
    year.define_periods(PeriodScheme(cmd.scheme).value, periods, at=ledger.clock())
    ledger.record(year, log_id=year_log(cmd.school_id, cmd.year_start), actor=cmd.actor, role=role)


def handle_declare_holiday(cmd: DeclareHoliday, ledger: Ledger) -> None:
    _, role, year = _year_for_setup(ledger, cmd, cmd.school_id, cmd.year_start)
    name = non_blank(cmd.name)
    if not name:
        raise refuse("holiday.invalid", detail="нет названия")
    days = DateRange(cmd.starts_on, cmd.ends_on)
    if not _within(days, year.days):
        raise refuse("holiday.invalid", detail="даты вне учебного года или не по порядку")
    year.declare_holiday(name, days, at=ledger.clock())
    ledger.record(year, log_id=year_log(cmd.school_id, cmd.year_start), actor=cmd.actor, role=role)


def handle_close_school_year(cmd: CloseSchoolYear, ledger: Ledger) -> None:
    _, role, year = _year_for_setup(ledger, cmd, cmd.school_id, cmd.year_start)
    year.close(at=ledger.clock())
    ledger.record(year, log_id=year_log(cmd.school_id, cmd.year_start), actor=cmd.actor, role=role)


def handle_reopen_school_year(cmd: ReopenSchoolYear, ledger: Ledger) -> None:
    who = principal(ledger, cmd.actor)
    load_school(ledger, cmd.school_id)
    role = authorise_setup(who, cmd.school_id)
    year = load(
        ledger,
        SchoolYear.create_id(school_id=cmd.school_id, year_start=cmd.year_start),
        SchoolYear,
        "year.not_found",
        year=f"{cmd.year_start}/{cmd.year_start + 1}",
    )
    if not year.closed:
        raise refuse("year.not_closed")
    reason = non_blank(cmd.reason)
    if not reason:
        raise refuse("reason.required")
    year.reopen(reason, at=ledger.clock())
    ledger.record(year, log_id=year_log(cmd.school_id, cmd.year_start), actor=cmd.actor, role=role)


def handle_add_subject(cmd: AddSubject, ledger: Ledger) -> UUID:
    _, role, year = _year_for_setup(ledger, cmd, cmd.school_id, cmd.year_start)
    name = non_blank(cmd.name)
    if not name:
        raise refuse("subject.invalid_name")
    if year.subject_named(name) is not None or cmd.subject_id in year.subjects:
        raise refuse("subject.duplicate", name=name)
    year.add_subject(cmd.subject_id, name, at=ledger.clock())
    ledger.record(year, log_id=year_log(cmd.school_id, cmd.year_start), actor=cmd.actor, role=role)
    return cmd.subject_id


def handle_define_work_type(cmd: DefineWorkType, ledger: Ledger) -> UUID:
    _, role, year = _year_for_setup(ledger, cmd, cmd.school_id, cmd.year_start)
    name = non_blank(cmd.name)
    if not name:
        raise refuse("work_type.invalid", detail="нет названия")
    weight = cmd.weight
    # bool is an int, and a float weight would make averages inexact: both are refused.
    if isinstance(weight, bool) or not isinstance(weight, int | Decimal):
        raise refuse("work_type.invalid", detail="вес — целое или десятичное число")
    if isinstance(weight, Decimal) and not weight.is_finite():
        raise refuse("work_type.invalid", detail="вес — конечное число")
    if not 0 < weight <= MAX_WEIGHT:
        raise refuse("work_type.invalid", detail=f"вес от 0 до {MAX_WEIGHT}")
    if year.work_type_named(name) is not None or cmd.work_type_id in year.work_types:
        raise refuse("work_type.duplicate", name=name)
    work_type = WorkType(cmd.work_type_id, name, weight, bool(cmd.written))
    year.define_work_type(work_type, at=ledger.clock())
    ledger.record(year, log_id=year_log(cmd.school_id, cmd.year_start), actor=cmd.actor, role=role)
    return cmd.work_type_id


def handle_define_bell_schedule(cmd: DefineBellSchedule, ledger: Ledger) -> None:
    _, role, year = _year_for_setup(ledger, cmd, cmd.school_id, cmd.year_start)
    name = non_blank(cmd.name)
    slots = sorted(cmd.slots, key=lambda s: s.number)
    if not name or not slots:
        raise refuse("bell.invalid_slots", detail="нет названия или уроков")
    numbers = [s.number for s in slots]
    if len(set(numbers)) != len(numbers) or not all(0 <= n <= MAX_SLOT for n in numbers):
        raise refuse("bell.invalid_slots", detail="номера уроков повторяются или вне 0–20")
    if any(s.starts_at >= s.ends_at for s in slots):
        raise refuse("bell.invalid_slots", detail="урок заканчивается раньше, чем начинается")
    if any(b.starts_at < a.ends_at for a, b in pairwise(slots)):
        raise refuse("bell.invalid_slots", detail="уроки пересекаются")
    year.define_bell_schedule(name, slots, at=ledger.clock())
    ledger.record(year, log_id=year_log(cmd.school_id, cmd.year_start), actor=cmd.actor, role=role)


# Classes and their students.


def handle_open_class(cmd: OpenClass, ledger: Ledger) -> UUID:
    _, role, year = _year_for_setup(ledger, cmd, cmd.school_id, cmd.year_start)
    if isinstance(cmd.grade, bool) or not isinstance(cmd.grade, int) or not 1 <= cmd.grade <= 11:
        raise refuse("class.invalid_grade", grade=cmd.grade)
    letter = non_blank(cmd.letter).upper()
    if not _LETTER.fullmatch(letter):
        raise refuse("class.invalid_letter", letter=cmd.letter)
    if cmd.period_scheme not in set(PeriodScheme):
        raise refuse("period.unknown_scheme", scheme=cmd.period_scheme)
    if not year.periods(cmd.period_scheme):
        raise refuse("period.scheme_not_defined", scheme=cmd.period_scheme)
    if cmd.bell_schedule not in year.bell_schedules:
        raise refuse("bell.unknown_schedule", name=cmd.bell_schedule)
    class_id = SchoolClass.create_id(
        school_id=cmd.school_id, year_start=cmd.year_start, grade=cmd.grade, letter=letter
    )
    if ledger.find(class_id, SchoolClass) is not None:
        raise refuse("class.already_open", name=f"{cmd.grade}«{letter}»")
    school_class = SchoolClass.open(
        school_id=cmd.school_id,
        year_start=cmd.year_start,
        grade=cmd.grade,
        letter=letter,
        period_scheme=PeriodScheme(cmd.period_scheme).value,
        bell_schedule=cmd.bell_schedule,
        at=ledger.clock(),
    )
    ledger.record(
        school_class, log_id=year_log(cmd.school_id, cmd.year_start), actor=cmd.actor, role=role
    )
    return school_class.id


def _class_for_setup(
    ledger: Ledger, cmd: Command[object], class_id: UUID
) -> tuple[Role, SchoolYear, SchoolClass]:
    who = principal(ledger, cmd.actor)
    school_class = load(ledger, class_id, SchoolClass, "class.not_found")
    role = authorise_setup(who, school_class.school_id)
    year = writable_year(ledger, school_class.school_id, school_class.year_start)
    return role, year, school_class


def _record_in_year(
    ledger: Ledger, cmd: Command[object], role: Role, aggregate: Roster | ThematicPlan
) -> None:
    log_id = year_log(aggregate.school_id, aggregate.year_start)
    ledger.record(aggregate, log_id=log_id, actor=cmd.actor, role=role)


def handle_assign_class_teacher(cmd: AssignClassTeacher, ledger: Ledger) -> None:
    role, _, school_class = _class_for_setup(ledger, cmd, cmd.class_id)
    school_class.assign_class_teacher(cmd.teacher_id, at=ledger.clock())
    _record_in_year(ledger, cmd, role, school_class)


def handle_enrol_student(cmd: EnrolStudent, ledger: Ledger) -> None:
    role, year, school_class = _class_for_setup(ledger, cmd, cmd.class_id)
    if cmd.on not in year.days:
        raise refuse("enrolment.invalid_date", on=cmd.on)
    if school_class.members.current(cmd.student_id) is not None:
        raise refuse("student.already_enrolled")
    school_class.enrol(cmd.student_id, cmd.on, at=ledger.clock())
    _record_in_year(ledger, cmd, role, school_class)


def handle_withdraw_student(cmd: WithdrawStudent, ledger: Ledger) -> None:
    role, year, school_class = _class_for_setup(ledger, cmd, cmd.class_id)
    stint = school_class.members.current(cmd.student_id)
    if stint is None:
        raise refuse("student.not_enrolled")
    if cmd.on not in year.days or cmd.on < stint.starts_on:
        raise refuse("enrolment.invalid_date", on=cmd.on)
    reason = non_blank(cmd.reason)
    if not reason:
        raise refuse("reason.required")
    school_class.withdraw(cmd.student_id, cmd.on, reason, at=ledger.clock())
    _record_in_year(ledger, cmd, role, school_class)


# Groups and individual curricula.


def handle_form_group(cmd: FormGroup, ledger: Ledger) -> UUID:
    role, year, school_class = _class_for_setup(ledger, cmd, cmd.class_id)
    if cmd.subject_id not in year.subjects:
        raise refuse("subject.not_found")
    name = non_blank(cmd.name)
    if not name:
        raise refuse("group.invalid_name")
    group_id = Group.create_id(class_id=cmd.class_id, subject_id=cmd.subject_id, name=name)
    if ledger.find(group_id, Group) is not None:
        raise refuse("group.already_formed", name=name)
    group = Group.form(
        school_id=school_class.school_id,
        year_start=school_class.year_start,
        class_id=school_class.id,
        subject_id=cmd.subject_id,
        name=name,
        at=ledger.clock(),
    )
    _record_in_year(ledger, cmd, role, group)
    return group.id


def _group_for_setup(
    ledger: Ledger, cmd: Command[object], group_id: UUID
) -> tuple[Role, SchoolYear, Group, SchoolClass]:
    who = principal(ledger, cmd.actor)
    group = load(ledger, group_id, Group, "group.not_found")
    role = authorise_setup(who, group.school_id)
    year = writable_year(ledger, group.school_id, group.year_start)
    return role, year, group, class_of(ledger, group)


def handle_add_group_member(cmd: AddGroupMember, ledger: Ledger) -> None:
    role, year, group, school_class = _group_for_setup(ledger, cmd, cmd.group_id)
    if cmd.on not in year.days:
        raise refuse("enrolment.invalid_date", on=cmd.on)
    if not school_class.is_member(cmd.student_id, cmd.on):
        raise refuse("student.not_in_class", on=cmd.on)
    if group.members.current(cmd.student_id) is not None:
        raise refuse("group.already_member")
    group.add_member(cmd.student_id, cmd.on, at=ledger.clock())
    _record_in_year(ledger, cmd, role, group)


def handle_remove_group_member(cmd: RemoveGroupMember, ledger: Ledger) -> None:
    role, year, group, _ = _group_for_setup(ledger, cmd, cmd.group_id)
    stint = group.members.current(cmd.student_id)
    if stint is None:
        raise refuse("group.not_a_member")
    if cmd.on not in year.days or cmd.on < stint.starts_on:
        raise refuse("enrolment.invalid_date", on=cmd.on)
    group.remove_member(cmd.student_id, cmd.on, at=ledger.clock())
    _record_in_year(ledger, cmd, role, group)


def handle_open_individual_curriculum(cmd: OpenIndividualCurriculum, ledger: Ledger) -> UUID:
    role, year, school_class = _class_for_setup(ledger, cmd, cmd.class_id)
    if cmd.subject_id not in year.subjects:
        raise refuse("subject.not_found")
    if cmd.on not in year.days:
        raise refuse("enrolment.invalid_date", on=cmd.on)
    if not school_class.is_member(cmd.student_id, cmd.on):
        raise refuse("student.not_in_class", on=cmd.on)
    curriculum_id = IndividualCurriculum.create_id(
        class_id=cmd.class_id, student_id=cmd.student_id, subject_id=cmd.subject_id
    )
    if ledger.find(curriculum_id, IndividualCurriculum) is not None:
        raise refuse("curriculum.already_open")
    curriculum = IndividualCurriculum.open(
        school_id=school_class.school_id,
        year_start=school_class.year_start,
        class_id=school_class.id,
        student_id=cmd.student_id,
        subject_id=cmd.subject_id,
        starts_on=cmd.on,
        at=ledger.clock(),
    )
    _record_in_year(ledger, cmd, role, curriculum)
    return curriculum.id


# Who teaches what.


def handle_assign_teacher(cmd: AssignTeacher, ledger: Ledger) -> UUID:
    who = principal(ledger, cmd.actor)
    roster = load_roster(ledger, cmd.roster_id)
    role = authorise_setup(who, roster.school_id)
    year = writable_year(ledger, roster.school_id, roster.year_start)
    check_roster_subject(year, roster, cmd.subject_id)
    if cmd.on not in year.days:
        raise refuse("enrolment.invalid_date", on=cmd.on)
    assignment_id = TeachingAssignment.create_id(
        roster_id=roster.id, subject_id=cmd.subject_id, teacher_id=cmd.teacher_id
    )
    assignment = ledger.find(assignment_id, TeachingAssignment)
    now = ledger.clock()
    if assignment is None:
        assignment = TeachingAssignment.assign(
            school_id=roster.school_id,
            year_start=roster.year_start,
            roster_id=roster.id,
            roster_kind=RosterKind(roster.kind).value,
            subject_id=cmd.subject_id,
            teacher_id=cmd.teacher_id,
            starts_on=cmd.on,
            at=now,
        )
    elif assignment.is_current:
        raise refuse("assignment.duplicate")
    elif cmd.on < (assignment.stints[-1].ends_on or cmd.on):
        raise refuse("enrolment.invalid_date", on=cmd.on)
    else:
        assignment.resume(cmd.on, at=now)
    log_id = year_log(roster.school_id, roster.year_start)
    ledger.record(assignment, log_id=log_id, actor=cmd.actor, role=role)
    return assignment.id


def handle_unassign_teacher(cmd: UnassignTeacher, ledger: Ledger) -> None:
    who = principal(ledger, cmd.actor)
    roster = load_roster(ledger, cmd.roster_id)
    role = authorise_setup(who, roster.school_id)
    year = writable_year(ledger, roster.school_id, roster.year_start)
    assignment_id = TeachingAssignment.create_id(
        roster_id=roster.id, subject_id=cmd.subject_id, teacher_id=cmd.teacher_id
    )
    assignment = ledger.find(assignment_id, TeachingAssignment)
    if assignment is None or not assignment.is_current:
        raise refuse("assignment.not_found")
    if cmd.on not in year.days or cmd.on < assignment.stints[-1].starts_on:
        raise refuse("enrolment.invalid_date", on=cmd.on)
    assignment.end(cmd.on, at=ledger.clock())
    log_id = year_log(roster.school_id, roster.year_start)
    ledger.record(assignment, log_id=log_id, actor=cmd.actor, role=role)


# Parents.


def handle_link_parent(cmd: LinkParent, ledger: Ledger) -> None:
    _, role, _ = _year_for_setup(ledger, cmd, cmd.school_id, cmd.year_start)
    guardianship_id = Guardianship.create_id(
        school_id=cmd.school_id, year_start=cmd.year_start, student_id=cmd.student_id
    )
    now = ledger.clock()
    guardianship = ledger.find(guardianship_id, Guardianship) or Guardianship.open(
        school_id=cmd.school_id, year_start=cmd.year_start, student_id=cmd.student_id, at=now
    )
    if cmd.parent_id in guardianship.parent_ids:
        raise refuse("parent.already_linked")
    guardianship.link(cmd.parent_id, at=now)
    log_id = year_log(cmd.school_id, cmd.year_start)
    ledger.record(guardianship, log_id=log_id, actor=cmd.actor, role=role)


def handle_unlink_parent(cmd: UnlinkParent, ledger: Ledger) -> None:
    _, role, _ = _year_for_setup(ledger, cmd, cmd.school_id, cmd.year_start)
    guardianship_id = Guardianship.create_id(
        school_id=cmd.school_id, year_start=cmd.year_start, student_id=cmd.student_id
    )
    guardianship = ledger.find(guardianship_id, Guardianship)
    if guardianship is None or cmd.parent_id not in guardianship.parent_ids:
        raise refuse("parent.not_linked")
    reason = non_blank(cmd.reason)
    if not reason:
        raise refuse("reason.required")
    guardianship.unlink(cmd.parent_id, reason, at=ledger.clock())
    log_id = year_log(cmd.school_id, cmd.year_start)
    ledger.record(guardianship, log_id=log_id, actor=cmd.actor, role=role)


# The КТП.


def _plan_items(items: tuple[PlanItem, ...]) -> tuple[PlanItem, ...]:
    if not items:
        raise refuse("plan.invalid_items", detail="нет ни одного пункта")
    cleaned = []
    for item in items:
        number, hours = item.number, item.hours
        if not _whole(number) or number < 1:
            raise refuse("plan.invalid_items", detail=f"номер пункта {number!r}")
        if not _whole(hours) or not 1 <= hours <= MAX_PLAN_HOURS:
            raise refuse("plan.invalid_items", detail=f"часы пункта {number}")
        topic = non_blank(item.topic)
        if not topic:
            raise refuse("plan.invalid_items", detail=f"нет темы пункта {number}")
        cleaned.append(PlanItem(number, topic, hours))
    numbers = [i.number for i in cleaned]
    if len(set(numbers)) != len(numbers):
        raise refuse("plan.invalid_items", detail="номера пунктов повторяются")
    return tuple(sorted(cleaned, key=lambda i: i.number))


def handle_import_ktp(cmd: ImportKtp, ledger: Ledger) -> UUID:
    who = principal(ledger, cmd.actor)
    roster = load_roster(ledger, cmd.roster_id)
    school_id = roster.school_id
    year = writable_year(ledger, school_id, roster.year_start)
    check_roster_subject(year, roster, cmd.subject_id)
    # The teacher of the subject plans it (п. 2.6); the administration may load plans for them.
    admin = who.role(ADMINISTRATION, school_id)
    if teaches(ledger, who, roster, cmd.subject_id, None) or admin is None:
        school_class = class_of(ledger, roster)
        role = authorise_teaching(ledger, who, roster, school_class, cmd.subject_id, None)
    else:
        role = admin
    items = _plan_items(cmd.items)
    plan_id = ThematicPlan.create_id(roster_id=roster.id, subject_id=cmd.subject_id)
    plan = ledger.find(plan_id, ThematicPlan)
    if plan is None:
        plan = ThematicPlan.import_items(
            school_id=school_id,
            year_start=roster.year_start,
            roster_id=roster.id,
            subject_id=cmd.subject_id,
            items=items,
            at=ledger.clock(),
        )
    else:
        plan.replace(items, at=ledger.clock())
    _record_in_year(ledger, cmd, role, plan)
    return plan.id
