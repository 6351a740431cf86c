"""Who teaches whom (п. 2.2–2.4): a class's class teacher, and the subject teachers of a class,
group or individual curriculum.

Only the head or a deputy of the school assigns teachers. A subject teacher's assignment is dated:
it decides which rosters and days they may write in the journal (п. 2.3); a class teacher, by that
role, only reads it (п. 2.4). Every record goes to the school year's log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from ejournal.commands._access import (
    assignment_of,
    authorise_setup,
    check_roster_subject,
    class_for_setup,
    load_roster,
    principal,
    writable_year,
    year_log,
)
from ejournal.commands.base import Command
from ejournal.commands.errors import refuse
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import TeachingAssignment
from ejournal.ledger.domain.values import RosterKind


@dataclass(frozen=True, kw_only=True, slots=True)
class AssignClassTeacher(Command[None]):
    class_id: UUID
    teacher_id: UUID
    """A person."""


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


def handle_assign_class_teacher(cmd: AssignClassTeacher, ledger: Ledger) -> None:
    """The class's class teacher (п. 2.4) from now on."""
    role, _, school_class = class_for_setup(ledger, cmd.actor, cmd.class_id)
    school_class.assign_class_teacher(cmd.teacher_id, at=ledger.clock())
    log_id = year_log(school_class.school_id, school_class.year_start)
    ledger.record(school_class, log_id=log_id, actor=cmd.actor, role=role)


def handle_assign_teacher(cmd: AssignTeacher, ledger: Ledger) -> UUID:
    """The teacher teaches the roster's subject from ``on`` (п. 2.3); an ended assignment resumes.

    Returns the assignment's ID.
    """
    who = principal(ledger, cmd.actor)
    roster = load_roster(ledger, cmd.roster_id)
    role = authorise_setup(who, roster.school_id)
    year = writable_year(ledger, roster.school_id, roster.year_start)
    check_roster_subject(year, roster, cmd.subject_id)
    if cmd.on not in year.days:
        raise refuse("enrolment.invalid_date", on=cmd.on)
    assignment = assignment_of(ledger, roster.id, cmd.subject_id, cmd.teacher_id)
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
    """The teacher no longer teaches the roster's subject from ``on`` (п. 2.3)."""
    who = principal(ledger, cmd.actor)
    roster = load_roster(ledger, cmd.roster_id)
    role = authorise_setup(who, roster.school_id)
    year = writable_year(ledger, roster.school_id, roster.year_start)
    assignment = assignment_of(ledger, roster.id, cmd.subject_id, cmd.teacher_id)
    if assignment is None or not assignment.is_current:
        raise refuse("assignment.not_found")
    if cmd.on not in year.days or cmd.on < assignment.stints[-1].starts_on:
        raise refuse("enrolment.invalid_date", on=cmd.on)
    assignment.end(cmd.on, at=ledger.clock())
    log_id = year_log(roster.school_id, roster.year_start)
    ledger.record(assignment, log_id=log_id, actor=cmd.actor, role=role)
