"""A student's parents (законные представители) for a school year (п. 1.5, 1.6, 2.2).

A linked parent reads the student's diary and the teachers' messages (п. 1.5) and may subscribe to
its weekly e-mail digest (п. 1.6). Only the head or a deputy of the school links and unlinks
parents; the links of a student are one guardianship, recorded in the school year's log.

A school links parents to its own pupils only: a student enrolled that year in a class of the school
(``commands.rosters``). A pupil of another school is that school's to link.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from ejournal.commands._access import non_blank, pupil_of, year_for_setup, year_log
from ejournal.commands.base import Command
from ejournal.commands.errors import refuse
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import Guardianship


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


def handle_link_parent(cmd: LinkParent, ledger: Ledger) -> None:
    """The parent (a person) is the student's for the year; the first link opens the record.

    The rule (п. 1.6, 2.2): the student must be a pupil of the school that year, enrolled now (a
    stint not ended) in one of its classes; otherwise ``student.not_in_school``, whatever the
    student is elsewhere: a link would let the parent read the diary under this school's name.
    """
    role, _ = year_for_setup(ledger, cmd.actor, cmd.school_id, cmd.year_start)
    if not pupil_of(ledger, cmd.school_id, cmd.year_start, cmd.student_id):
        raise refuse("student.not_in_school")
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
    """The parent is no longer a parent of record of the student, with a reason."""
    role, _ = year_for_setup(ledger, cmd.actor, cmd.school_id, cmd.year_start)
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
