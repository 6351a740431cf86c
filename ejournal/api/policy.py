"""Who may read what (п. 1.6, 1.7, 2.1–2.4). Writes are the commands' to judge; reads are ours.

Each check returns the role under which the read is made (it goes into the access log) or raises
``ApiError`` (``access.denied``, or ``access.support_no_journal`` for technical support, which
never reads the journal). Relations come from the ledger's own aggregates, found by their natural
IDs: a teacher's assignment, a class's class teacher, a student's parents.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from ejournal.api.errors import ApiError
from ejournal.commands.errors import refuse
from ejournal.identity.authenticator import Caller
from ejournal.ledger.actor import ADMINISTRATION, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import (
    Guardianship,
    Roster,
    SchoolClass,
    TeachingAssignment,
)


def denied(caller: Caller) -> ApiError:
    if caller.holds(Role.SUPPORT):
        return ApiError("access.support_no_journal")
    return ApiError("access.denied")


def administration(caller: Caller, school_id: UUID) -> Role | None:
    """Head or deputy of the school (the head first)."""
    for role in (Role.HEAD, Role.DEPUTY):
        if caller.holds(role, school_id):
            return role
    return None


def load_class(ledger: Ledger, class_id: UUID) -> SchoolClass:
    school_class = ledger.find(class_id, SchoolClass)
    if school_class is None:
        raise refuse("class.not_found")
    return school_class


def class_of(ledger: Ledger, roster: Roster) -> SchoolClass:
    if isinstance(roster, SchoolClass):
        return roster
    return load_class(ledger, roster.class_id)


def is_class_teacher(caller: Caller, school_class: SchoolClass) -> bool:
    return school_class.class_teacher_id == caller.person_id and caller.holds(
        Role.CLASS_TEACHER, school_class.school_id
    )


def class_journal_reader(ledger: Ledger, caller: Caller, roster: Roster, subject_id: UUID) -> Role:
    """The page of a roster's subject: its teacher (п. 2.3), the class teacher for every subject
    of the class, read-only (п. 2.4), and the administration (п. 2.2)."""
    school_id = roster.school_id
    if (role := administration(caller, school_id)) is not None:
        return role
    if caller.holds(Role.TEACHER, school_id):
        assignment_id = TeachingAssignment.create_id(
            roster_id=roster.id, subject_id=subject_id, teacher_id=caller.person_id
        )
        if ledger.find(assignment_id, TeachingAssignment) is not None:
            return Role.TEACHER
    if is_class_teacher(caller, class_of(ledger, roster)):
        return Role.CLASS_TEACHER
    raise denied(caller)


def diary_reader(
    ledger: Ledger,
    caller: Caller,
    school_id: UUID,
    year_start: int,
    student_id: UUID,
    student_class: Callable[[], UUID | None],
) -> Role:
    """A student's diary: the student, each linked parent (п. 1.6), the class teacher of the
    student's class (``student_class()``, asked only of a class teacher), and the
    administration."""
    if (role := administration(caller, school_id)) is not None:
        return role
    if caller.person_id == student_id and caller.holds(Role.STUDENT, school_id):
        return Role.STUDENT
    if caller.holds(Role.PARENT, school_id):
        guardianship_id = Guardianship.create_id(
            school_id=school_id, year_start=year_start, student_id=student_id
        )
        guardianship = ledger.find(guardianship_id, Guardianship)
        if guardianship is not None and caller.person_id in guardianship.parent_ids:
            return Role.PARENT
    if caller.holds(Role.CLASS_TEACHER, school_id) and (class_id := student_class()) is not None:
        school_class = ledger.find(class_id, SchoolClass)
        if school_class is not None and is_class_teacher(caller, school_class):
            return Role.CLASS_TEACHER
    raise denied(caller)


def class_reader(caller: Caller, school_class: SchoolClass) -> Role:
    """The summary sheet and monitor of a class: the administration and its class teacher."""
    if (role := administration(caller, school_class.school_id)) is not None:
        return role
    if is_class_teacher(caller, school_class):
        return Role.CLASS_TEACHER
    raise denied(caller)


def school_reader(caller: Caller, school_id: UUID) -> Role:
    """A whole school's monitor: the administration only."""
    if (role := administration(caller, school_id)) is not None:
        return role
    raise denied(caller)


def teacher_reader(caller: Caller, school_id: UUID, teacher_id: UUID) -> Role:
    """One teacher's monitor: the administration, and the teacher themself."""
    if (role := administration(caller, school_id)) is not None:
        return role
    if teacher_id == caller.person_id and caller.holds(Role.TEACHER, school_id):
        return Role.TEACHER
    raise denied(caller)


@dataclass(frozen=True, slots=True)
class AuditScope:
    """Which logs an audit reader sees: every log (auditors), or their schools' (administration)."""

    role: Role
    schools: frozenset[UUID] | None
    """None: every log, the system log included."""

    def sees(self, log_id: str) -> bool:
        if self.schools is None:
            return True
        parts = log_id.split("/")
        return len(parts) == 3 and parts[0] == "school" and _uuid(parts[1]) in self.schools


def administered_schools(caller: Caller) -> frozenset[UUID]:
    """The schools in which the caller is the head or a deputy."""
    return frozenset(
        grant.school_id
        for grant in caller.actor.grants
        if grant.role in ADMINISTRATION and grant.school_id is not None
    )


def audit_scope(caller: Caller) -> AuditScope:
    """The ledger, checkpoints, receipts and verification: auditors see every log; a head or
    deputy the logs of their schools. Nobody else."""
    if caller.holds(Role.AUDITOR):
        return AuditScope(Role.AUDITOR, None)
    schools = administered_schools(caller)
    if schools:
        role = Role.HEAD if any(g.role is Role.HEAD for g in caller.actor.grants) else Role.DEPUTY
        return AuditScope(role, schools)
    raise denied(caller)


def access_log_reader(caller: Caller, school_id: UUID | None) -> Role:
    """The access log: auditors (all of it) and the head of a school (that school's)."""
    if caller.holds(Role.AUDITOR):
        return Role.AUDITOR
    if school_id is not None and caller.holds(Role.HEAD, school_id):
        return Role.HEAD
    raise denied(caller)


def personal_data_reader(caller: Caller, person_id: UUID, school_id: UUID | None) -> Role:
    """A person's own data, or the administration of the school that registered them, or a
    system administrator."""
    if caller.person_id == person_id:
        return next(iter(sorted(g.role for g in caller.actor.grants)), Role.STUDENT)
    if school_id is not None and (role := administration(caller, school_id)) is not None:
        return role
    if caller.holds(Role.SYSTEM_ADMIN):
        return Role.SYSTEM_ADMIN
    raise denied(caller)


def personal_data_keeper(caller: Caller, school_id: UUID | None) -> Role:
    """Who enters a person's data: the administration of the school, or a system administrator."""
    if school_id is not None and (role := administration(caller, school_id)) is not None:
        return role
    if caller.holds(Role.SYSTEM_ADMIN):
        return Role.SYSTEM_ADMIN
    raise denied(caller)


def disposer(caller: Caller, school_id: UUID | None) -> Role:
    """Who destroys a person's data at the end of retention: the head (п. 1.2), or a system
    administrator."""
    if school_id is not None and caller.holds(Role.HEAD, school_id):
        return Role.HEAD
    if caller.holds(Role.SYSTEM_ADMIN):
        return Role.SYSTEM_ADMIN
    raise denied(caller)


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None
