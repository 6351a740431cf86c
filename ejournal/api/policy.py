"""Who may read what (п. 1.6, 1.7, 2.1–2.4). Writes are the commands' to judge; reads are ours.

Each check returns the role under which the read is made (it goes into the access log) or raises
``ApiError`` (``access.denied``, or ``access.support_no_journal`` for technical support, which
never reads the journal). Relations come from the ledger's own aggregates, found by their natural
IDs: a teacher's assignment, a class's class teacher, a student's parents, a student's enrolment.

A right is held in a school, so a read first establishes which school the data belongs to, from
the data itself, never from the request's path alone: a roster's or class's own school, and for a
student, the school in whose class they are enrolled that year (``pupil_in_year``). A student who is
no pupil of the school named is ``student.not_in_school`` (404) for everybody, the administration
included; the read, and its access-log entry, are then the school's whose data it is.
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
    Account,
    Enrolment,
    Guardianship,
    Lesson,
    Roster,
    SchoolClass,
    SchoolYear,
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
    of the class, read-only (п. 2.4), and the administration (п. 2.2). The subject must be one
    of the roster's school year (else ``subject.not_found``): the page is the roster's school's."""
    role = _class_journal_role(ledger, caller, roster, subject_id)
    year_id = SchoolYear.create_id(school_id=roster.school_id, year_start=roster.year_start)
    year = ledger.find(year_id, SchoolYear)
    if year is None or subject_id not in year.subjects:
        raise refuse("subject.not_found")
    return role


def lesson_reader(ledger: Ledger, caller: Caller, lesson: Lesson, roster: Roster) -> Role:
    """The journal of one lesson's day: the readers of its class journal
    (``class_journal_reader``), and the substitute named for the lesson, who teaches and writes
    that one lesson (п. 2.3) and so must see its pupils."""
    substitution = lesson.substitution
    if (
        substitution is not None
        and substitution.teacher_id == caller.person_id
        and caller.holds(Role.TEACHER, lesson.school_id)
    ):
        return Role.TEACHER
    return class_journal_reader(ledger, caller, roster, lesson.subject_id)


def _class_journal_role(ledger: Ledger, caller: Caller, roster: Roster, subject_id: UUID) -> Role:
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


def pupil_in_year(
    ledger: Ledger,
    school_id: UUID,
    year_start: int,
    student_id: UUID,
    in_read_models: Callable[[], bool],
) -> bool:
    """Whether the student was enrolled, at any time of the year, in a class of the school: whose
    pupil the diary of that year is (п. 1.5, 2.2). From the student's ``Enrolment`` of the year;
    where it does not say so (an enrolment recorded before it was kept), ``in_read_models()``:
    whether the diary's own rows, the class stints, are that school year's."""
    enrolment_id = Enrolment.create_id(student_id=student_id, year_start=year_start)
    enrolment = ledger.find(enrolment_id, Enrolment)
    if enrolment is not None and enrolment.in_school(school_id):
        return True
    return in_read_models()


def diary_reader(
    ledger: Ledger,
    caller: Caller,
    school_id: UUID,
    year_start: int,
    student_id: UUID,
    student_class: Callable[[], UUID | None],
) -> Role:
    """A student's diary in a school's year: the student, each linked parent (п. 1.6), the class
    teacher of the student's class (``student_class()``, the student's class of that school
    year; asked only of a class teacher), and the administration (п. 2.2). Whoever reads, the
    student must be a pupil of that school that year (``pupil_in_year``), else
    ``student.not_in_school``: a right in one school reads nothing of another's."""
    role = _diary_role(ledger, caller, school_id, year_start, student_id, student_class)
    if not pupil_in_year(
        ledger, school_id, year_start, student_id, lambda: student_class() is not None
    ):
        raise refuse("student.not_in_school")
    return role


def _diary_role(
    ledger: Ledger,
    caller: Caller,
    school_id: UUID,
    year_start: int,
    student_id: UUID,
    student_class: Callable[[], UUID | None],
) -> Role:
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
        if _class_teacher_in_year(caller, school_class, school_id, year_start):
            return Role.CLASS_TEACHER
    raise denied(caller)


def _class_teacher_in_year(
    caller: Caller, school_class: SchoolClass | None, school_id: UUID, year_start: int
) -> bool:
    """Whether the caller is the class teacher of ``school_class``, a class of that school year."""
    return (
        school_class is not None
        and school_class.school_id == school_id
        and school_class.year_start == year_start
        and is_class_teacher(caller, school_class)
    )


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


def teacher_reader(
    caller: Caller, school_id: UUID, teacher_id: UUID, teaches_here: Callable[[], bool]
) -> Role:
    """One teacher's monitor: the teacher themself, and the administration of a school the
    teacher teaches in that year (``teaches_here()``, else ``read.not_found``: the monitor of
    another school's teacher is not this school's to read)."""
    if teacher_id == caller.person_id and caller.holds(Role.TEACHER, school_id):
        return Role.TEACHER
    if (role := administration(caller, school_id)) is not None:
        if not teaches_here():
            raise ApiError("read.not_found", detail="учитель не работает в ОУ в этом учебном году")
        return role
    raise denied(caller)


_IN_SCHOOL = (Role.HEAD, Role.DEPUTY, Role.TEACHER, Role.CLASS_TEACHER, Role.STUDENT, Role.PARENT)
"""The roles held in a school, the administration first: the role a list is read under."""
EVERY_ROLE = frozenset(_IN_SCHOOL)
STAFF = frozenset({Role.HEAD, Role.DEPUTY, Role.TEACHER, Role.CLASS_TEACHER})


def year_list_reader(caller: Caller, school_id: UUID, roles: frozenset[Role]) -> Role:
    """A school year's set-up lists: whoever holds one of ``roles`` in the school, and auditors
    (these lists name no person). The subjects, work types and periods are every role's of the
    school (the diary's subjects, the weights behind an average, the quarters); the classes are
    the staff's (a pupil and a parent find their own class in ``GET /me``)."""
    for role in _IN_SCHOOL:
        if role in roles and caller.holds(role, school_id):
            return role
    if caller.holds(Role.AUDITOR):
        return Role.AUDITOR
    raise denied(caller)


def roster_pupils_reader(
    ledger: Ledger, caller: Caller, roster: Roster, projected: Callable[[], bool]
) -> Role:
    """A roster's pupils (children's data, п. 1.7): the administration of the roster's school
    (п. 2.2), a teacher assigned to it in any subject or taking one of its lessons as a
    substitute (п. 2.3), and the class teacher of its class (п. 2.4). ``projected()``: whether
    the read models have the caller teaching it."""
    if (role := administration(caller, roster.school_id)) is not None:
        return role
    if caller.holds(Role.TEACHER, roster.school_id) and (
        projected() or _assigned(ledger, caller, roster)
    ):
        return Role.TEACHER
    if is_class_teacher(caller, class_of(ledger, roster)):
        return Role.CLASS_TEACHER
    raise denied(caller)


def _assigned(ledger: Ledger, caller: Caller, roster: Roster) -> bool:
    """Whether the ledger has the caller assigned to the roster in one of its subjects: a group's
    or a curriculum's own, or any of the year's for a class. Asked when the read models do not
    (yet) say so: an assignment made a moment ago counts at once."""
    if isinstance(roster, SchoolClass):
        year_id = SchoolYear.create_id(school_id=roster.school_id, year_start=roster.year_start)
        year = ledger.find(year_id, SchoolYear)
        subjects = list(year.subjects) if year is not None else []
    else:
        subjects = [roster.subject_id]
    return any(
        ledger.find(
            TeachingAssignment.create_id(
                roster_id=roster.id, subject_id=subject, teacher_id=caller.person_id
            ),
            TeachingAssignment,
        )
        is not None
        for subject in subjects
    )


def teaching_schools(caller: Caller) -> frozenset[UUID]:
    """The schools in which the caller holds the teacher's role: whose lessons they list."""
    schools = frozenset(
        grant.school_id
        for grant in caller.actor.grants
        if grant.role is Role.TEACHER and grant.school_id is not None
    )
    if not schools:
        raise denied(caller)
    return schools


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


def personal_data_registrar(
    caller: Caller, school_id: UUID | None, belongs: Callable[[], bool]
) -> Role:
    """Who first enters the data of a person the vault does not hold (п. 1.7): a system
    administrator, or the administration of a school the person belongs to (``belongs()``:
    ``person_belongs``); the school keeps the data from then on. The administration of another
    school is refused (``person.not_of_school``): it would take the data from the person's own
    school."""
    if school_id is not None and (role := administration(caller, school_id)) is not None:
        if belongs():
            return role
        if not caller.holds(Role.SYSTEM_ADMIN):
            raise ApiError("person.not_of_school")
    if caller.holds(Role.SYSTEM_ADMIN):
        return Role.SYSTEM_ADMIN
    raise denied(caller)


def person_belongs(
    ledger: Ledger,
    person_id: UUID,
    school_id: UUID,
    years: tuple[int, ...],
    ties: Callable[[], tuple[bool, tuple[UUID, ...]]],
) -> bool:
    """Whether the person belongs to the school: a pupil enrolled in one of its classes, a
    parent linked to one of its students, or staff whose account holds a role there. The
    ledger answers for pupils of ``years`` (this school year and the next: no wait for the read
    models); ``ties()`` gives what the read models know (pupil or parent in any year, and the
    person's accounts, whose grants the ledger holds)."""
    for year_start in years:
        enrolment = ledger.find(
            Enrolment.create_id(student_id=person_id, year_start=year_start), Enrolment
        )
        if enrolment is not None and enrolment.in_school(school_id):
            return True
    pupil_or_parent, accounts = ties()
    if pupil_or_parent:
        return True
    for account_id in accounts:
        account = ledger.find(account_id, Account)
        if account is not None and any(g.school_id == school_id for g in account.grants):
            return True
    return False


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
