"""Whom lessons are for (п. 2.2, 2.3): classes and their students, groups of a class for a subject,
and one student's individual curriculum.

Only the head or a deputy of the school opens rosters and moves students in and out of them; a
membership is dated, so the journal knows who belonged on each lesson's day. Every record goes to
the school year's log.

A pupil of a school in a school year is a student enrolled in one of its classes that year
(п. 2.2). The class records the stint, and the student's ``Enrolment`` of the year records it too,
across schools, so that another school's class, a parent link (``commands.families``) and the
diary's readers (``api.policy``) can tell whose pupil the student is without reading every class.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from ejournal.commands._access import (
    authorise_setup,
    class_for_setup,
    class_of,
    enrolment_of,
    load,
    non_blank,
    principal,
    writable_year,
    year_for_setup,
    year_log,
)
from ejournal.commands.base import Command
from ejournal.commands.errors import refuse
from ejournal.commands.school_year import DEFAULT_BELL_SCHEDULE
from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import (
    Enrolment,
    Group,
    IndividualCurriculum,
    Roster,
    SchoolClass,
    SchoolYear,
)
from ejournal.ledger.domain.values import PeriodScheme

_LETTER = re.compile(r"[А-ЯЁA-Z]")


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenClass(Command[UUID]):
    school_id: UUID
    year_start: int
    grade: int
    letter: str
    period_scheme: PeriodScheme
    bell_schedule: str = DEFAULT_BELL_SCHEDULE


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


def _record_in_year(ledger: Ledger, cmd: Command[object], role: Role, roster: Roster) -> None:
    log_id = year_log(roster.school_id, roster.year_start)
    ledger.record(roster, log_id=log_id, actor=cmd.actor, role=role)


# Classes and their students.


def handle_open_class(cmd: OpenClass, ledger: Ledger) -> UUID:
    """A class of the year (п. 2.2), on a period scheme and a bell schedule the year defines."""
    role, year = year_for_setup(ledger, cmd.actor, cmd.school_id, cmd.year_start)
    if isinstance(cmd.grade, bool) or not isinstance(cmd.grade, int) or not 1 <= cmd.grade <= 11:
        raise refuse("class.invalid_grade", grade=cmd.grade)
    letter = non_blank(cmd.letter).upper()
    if not _LETTER.fullmatch(letter):
        raise refuse("class.invalid_letter", letter=cmd.letter)
    if cmd.period_scheme not in set(PeriodScheme):
        raise refuse("period.unknown_scheme", scheme=cmd.period_scheme)
    if not year.periods(cmd.period_scheme):
        raise refuse("period.scheme_not_defined", scheme=PeriodScheme(cmd.period_scheme))
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
    _record_in_year(ledger, cmd, role, school_class)
    return school_class.id


def handle_enrol_student(cmd: EnrolStudent, ledger: Ledger) -> None:
    """The student belongs to the class from ``on``, a day of the year (п. 2.2).

    The rule (п. 2.2): in a school year a student is in one class at a time, in one school. A
    student whose stint in a class of another school is still open or ends after ``on`` is that
    school's pupil, not this one's to take (``student.of_another_school``); a stint in another
    class of this school is refused too (``student.in_another_class``). A transfer is the
    withdrawal there (``WithdrawStudent``, by that school) and then the enrolment here, from that
    day on. The stint is recorded in the class and in the student's ``Enrolment`` of the year, in
    one save.
    """
    role, year, school_class = class_for_setup(ledger, cmd.actor, cmd.class_id)
    if cmd.on not in year.days:
        raise refuse("enrolment.invalid_date", on=cmd.on)
    if school_class.members.current(cmd.student_id) is not None:
        raise refuse("student.already_enrolled")
    now = ledger.clock()
    enrolment = enrolment_of(ledger, cmd.student_id, school_class.year_start) or Enrolment.open(
        student_id=cmd.student_id, year_start=school_class.year_start, at=now
    )
    elsewhere = enrolment.overlapping(school_class.id, cmd.on)
    if elsewhere is not None and elsewhere.school_id != school_class.school_id:
        raise refuse("student.of_another_school")
    if elsewhere is not None:
        raise refuse("student.in_another_class")
    school_class.enrol(cmd.student_id, cmd.on, at=now)
    enrolment.enrol(school_class.school_id, school_class.id, cmd.on, at=now)
    log_id = year_log(school_class.school_id, school_class.year_start)
    ledger.record(school_class, enrolment, log_id=log_id, actor=cmd.actor, role=role)


def handle_withdraw_student(cmd: WithdrawStudent, ledger: Ledger) -> None:
    """The student leaves the class, with a reason (п. 2.2); their past records stay. The
    student's ``Enrolment`` of the year ends the stint too: from ``on`` another class, of this
    school or another, may enrol them."""
    role, year, school_class = class_for_setup(ledger, cmd.actor, cmd.class_id)
    stint = school_class.members.current(cmd.student_id)
    if stint is None:
        raise refuse("student.not_enrolled")
    if cmd.on not in year.days or cmd.on < stint.starts_on:
        raise refuse("enrolment.invalid_date", on=cmd.on)
    reason = non_blank(cmd.reason)
    if not reason:
        raise refuse("reason.required")
    now = ledger.clock()
    school_class.withdraw(cmd.student_id, cmd.on, reason, at=now)
    changed: list[Enrolment] = []
    enrolment = enrolment_of(ledger, cmd.student_id, school_class.year_start)
    # An enrolment recorded before the record existed has none; the class alone then says it.
    if enrolment is not None and any(
        p.class_id == school_class.id and p.is_open for p in enrolment.placements
    ):
        enrolment.withdraw(school_class.id, cmd.on, at=now)
        changed.append(enrolment)
    log_id = year_log(school_class.school_id, school_class.year_start)
    ledger.record(school_class, *changed, log_id=log_id, actor=cmd.actor, role=role)


# Groups and individual curricula.


def handle_form_group(cmd: FormGroup, ledger: Ledger) -> UUID:
    """A group of the class for one of the year's subjects (п. 2.3); names are per subject."""
    role, year, school_class = class_for_setup(ledger, cmd.actor, cmd.class_id)
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
    """A student of the class joins the group from ``on`` (п. 2.3)."""
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
    """The student leaves the group; ``on`` is the first day they no longer belong (п. 2.3)."""
    role, year, group, _ = _group_for_setup(ledger, cmd, cmd.group_id)
    stint = group.members.current(cmd.student_id)
    if stint is None:
        raise refuse("group.not_a_member")
    if cmd.on not in year.days or cmd.on < stint.starts_on:
        raise refuse("enrolment.invalid_date", on=cmd.on)
    group.remove_member(cmd.student_id, cmd.on, at=ledger.clock())
    _record_in_year(ledger, cmd, role, group)


def handle_open_individual_curriculum(cmd: OpenIndividualCurriculum, ledger: Ledger) -> UUID:
    """One student of the class learns a subject on their own curriculum from ``on`` (п. 2.3)."""
    role, year, school_class = class_for_setup(ledger, cmd.actor, cmd.class_id)
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
