"""What every handler needs before it writes: who the actor is, the aggregates it names, and whether
the actor may act on them (п. 2.1–2.4).

Everything here reads; nothing writes. Aggregates come from the repository as copies, so a handler
that refuses after loading leaves no trace.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate

from ejournal.commands.errors import refuse
from ejournal.ledger.actor import ADMINISTRATION, NIL, Actor, Grant, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import (
    Account,
    Enrolment,
    Roster,
    School,
    SchoolClass,
    SchoolYear,
    TeachingAssignment,
)
from ejournal.ledger.domain.rosters import as_roster
from ejournal.ledger.domain.school import DEFAULT_TIME_ZONE
from ejournal.ledger.logs import school_log_id

A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True, slots=True)
class Principal:
    """The actor as the ledger knows it: its person and the grants both session and account hold."""

    actor: Actor
    person_id: UUID | None
    """None for the service itself."""
    grants: frozenset[Grant]

    def role(self, roles: Iterable[Role], school_id: UUID | None = None) -> Role | None:
        """The first of ``roles`` (stable order) held in ``school_id`` or deployment-wide."""
        for role in sorted(roles):
            if Grant(role, school_id) in self.grants or Grant(role, None) in self.grants:
                return role
        return None

    def require(self, roles: Iterable[Role], school_id: UUID | None = None) -> Role:
        """The role under which the actor may act; raises ``NotAllowed`` (``role.required``)."""
        roles = frozenset(roles)
        role = self.role(roles, school_id)
        if role is None:
            raise refuse("role.required", roles=roles)
        return role


def principal(ledger: Ledger, actor: Actor) -> Principal:
    """Check the actor's account and return what it may do.

    The service (account NIL holding ``system``) needs no account. Anyone else needs an account
    neither locked nor reported compromised, whose credential version is the session's (п. 4.2,
    4.4); their grants are those the session claims and the account still holds, so a revoked
    role stops working at once.
    Raises ``NotAllowed``.
    """
    if actor.account_id == NIL and actor.holds(Role.SYSTEM):
        return Principal(actor, None, actor.grants)
    account = ledger.find(actor.account_id, Account)
    if account is None:
        raise refuse("account.unknown")
    if account.locked:
        raise refuse("account.locked")
    if account.compromised:
        raise refuse("account.compromised")
    if actor.credential_version != account.credential_version:
        raise refuse("account.credentials_revoked")
    return Principal(actor, account.person_id, frozenset(actor.grants & account.grants))


def load(ledger: Ledger, aggregate_id: UUID, kind: type[A], code: str, **details: Any) -> A:
    """The aggregate ``aggregate_id``; raises the refusal ``code`` if there is no such ``kind``."""
    aggregate = ledger.find(aggregate_id, kind)
    if aggregate is None:
        raise refuse(code, **details)
    return aggregate


def load_roster(ledger: Ledger, roster_id: UUID) -> Roster:
    """A class, group or individual curriculum; raises ``NotFound`` (``roster.not_found``)."""
    roster = as_roster(ledger.find(roster_id, Aggregate))
    if roster is None:
        raise refuse("roster.not_found")
    return roster


def class_of(ledger: Ledger, roster: Roster) -> SchoolClass:
    """The class a roster belongs to (a class belongs to itself)."""
    if isinstance(roster, SchoolClass):
        return roster
    return load(ledger, roster.class_id, SchoolClass, "class.not_found")


def in_roster(roster: Roster, school_class: SchoolClass, student_id: UUID, day: date) -> bool:
    """Whether the student belongs to the roster on ``day``, and to its class too."""
    if not roster.is_member(student_id, day):
        return False
    return roster is school_class or school_class.is_member(student_id, day)


def members_on(roster: Roster, school_class: SchoolClass, day: date) -> frozenset[UUID]:
    return frozenset(s for s in roster.members_on(day) if in_roster(roster, school_class, s, day))


def enrolment_of(ledger: Ledger, student_id: UUID, year_start: int) -> Enrolment | None:
    """The student's stints in the classes of that school year, in any school (None: never
    enrolled that year)."""
    return ledger.find(Enrolment.create_id(student_id=student_id, year_start=year_start), Enrolment)


def pupil_of(ledger: Ledger, school_id: UUID, year_start: int, student_id: UUID) -> bool:
    """Whether the student is enrolled now (an open stint) in a class of the school's year: what
    makes a person a pupil of a school (п. 2.2). A student who left, or is in another school's
    class, is not."""
    enrolment = enrolment_of(ledger, student_id, year_start)
    placement = enrolment.current() if enrolment is not None else None
    return placement is not None and placement.school_id == school_id


def load_school(ledger: Ledger, school_id: UUID) -> School:
    return load(ledger, school_id, School, "school.not_found")


def load_year(ledger: Ledger, school_id: UUID, year_start: int) -> SchoolYear:
    """The school year; raises ``NotFound`` (``year.not_found``)."""
    year_id = SchoolYear.create_id(school_id=school_id, year_start=year_start)
    return load(ledger, year_id, SchoolYear, "year.not_found", year=_year_name(year_start))


def writable_year(ledger: Ledger, school_id: UUID, year_start: int) -> SchoolYear:
    """The school year, if records are still accepted; raises ``NotFound`` or ``Conflict``."""
    year = load_year(ledger, school_id, year_start)
    if year.closed:
        raise refuse("year.closed")
    return year


def year_log(school_id: UUID, year_start: int) -> str:
    """The log of the school year a record belongs to (I1)."""
    return school_log_id(school_id, year_start)


def school_zone(ledger: Ledger, school_id: UUID | None) -> ZoneInfo:
    """The school's time zone: its days and deadlines are counted in it (Moscow time for no
    school, or one the ledger does not hold)."""
    school = None if school_id is None else ledger.find(school_id, School)
    return ZoneInfo(school.time_zone if school is not None else DEFAULT_TIME_ZONE)


def local_today(ledger: Ledger, school: School, now: datetime | None = None) -> date:
    """Today in the school's time zone, by the server clock."""
    moment = ledger.clock() if now is None else now
    return moment.astimezone(ZoneInfo(school.time_zone)).date()


def authorise_setup(who: Principal, school_id: UUID) -> Role:
    """Administration of that school sets up the year (п. 2.2); raises ``NotAllowed``."""
    role = who.role(ADMINISTRATION, school_id)
    if role is None:
        raise refuse("setup.administration_only")
    return role


def year_for_setup(
    ledger: Ledger, actor: Actor, school_id: UUID, year_start: int
) -> tuple[Role, SchoolYear]:
    """The role ``actor`` sets up the school's year under, and the year, still writable.

    Raises ``NotAllowed`` or ``NotFound`` (``school.not_found``, ``year.not_found``), or
    ``Conflict`` (``year.closed``).
    """
    who = principal(ledger, actor)
    load_school(ledger, school_id)
    role = authorise_setup(who, school_id)
    return role, writable_year(ledger, school_id, year_start)


def class_for_setup(
    ledger: Ledger, actor: Actor, class_id: UUID
) -> tuple[Role, SchoolYear, SchoolClass]:
    """The role ``actor`` sets up the class under, its year (still writable) and the class.

    Raises ``NotAllowed``, ``NotFound`` (``class.not_found``) or ``Conflict`` (``year.closed``).
    """
    who = principal(ledger, actor)
    school_class = load(ledger, class_id, SchoolClass, "class.not_found")
    role = authorise_setup(who, school_class.school_id)
    year = writable_year(ledger, school_class.school_id, school_class.year_start)
    return role, year, school_class


def assignment_of(
    ledger: Ledger, roster_id: UUID, subject_id: UUID, teacher_id: UUID
) -> TeachingAssignment | None:
    assignment_id = TeachingAssignment.create_id(
        roster_id=roster_id, subject_id=subject_id, teacher_id=teacher_id
    )
    return ledger.find(assignment_id, TeachingAssignment)


def teaches(
    ledger: Ledger, who: Principal, roster: Roster, subject_id: UUID, day: date | None
) -> bool:
    """Whether ``who`` is a teacher of the school assigned to the roster's subject.

    With ``day``, the assignment must be in force on that day; without, it must not have ended.
    """
    if who.person_id is None or who.role({Role.TEACHER}, roster.school_id) is None:
        return False
    assignment = assignment_of(ledger, roster.id, subject_id, who.person_id)
    if assignment is None:
        return False
    return assignment.is_current if day is None else assignment.active_on(day)


def authorise_teaching(
    ledger: Ledger,
    who: Principal,
    roster: Roster,
    school_class: SchoolClass,
    subject_id: UUID,
    day: date | None,
) -> Role:
    """A subject teacher writes only the rosters and subjects they teach (п. 2.3); a class
    teacher, by that role, writes nothing (п. 2.4); nobody else writes the journal.

    Returns the role the write is recorded under; raises ``NotAllowed``.
    """
    if teaches(ledger, who, roster, subject_id, day):
        return Role.TEACHER
    school_id = roster.school_id
    is_class_teacher = who.person_id is not None and school_class.class_teacher_id == who.person_id
    if is_class_teacher:
        raise refuse("journal.class_teacher_read_only")
    if who.role({Role.TEACHER}, school_id):
        raise refuse("journal.not_assigned")
    if who.role({Role.CLASS_TEACHER}, school_id):
        raise refuse("journal.class_teacher_read_only")
    raise refuse("journal.not_a_teacher")


def check_roster_subject(year: SchoolYear, roster: Roster, subject_id: UUID) -> None:
    """The subject exists in the year, and is the group's or curriculum's own subject.

    Raises ``NotFound`` or ``InvalidInput``.
    """
    if subject_id not in year.subjects:
        raise refuse("subject.not_found")
    if not isinstance(roster, SchoolClass) and roster.subject_id != subject_id:
        raise refuse("roster.subject_mismatch")


def non_blank(text: str) -> str:
    """``text`` without surrounding blanks ('' if it was only blanks)."""
    return text.strip()


def _year_name(year_start: int) -> str:
    return f"{year_start}/{year_start + 1}"
