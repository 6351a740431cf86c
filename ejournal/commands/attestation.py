"""Period, year, exam and final marks (п. 2.8): 1–5, «ОСВ», «Н/А», «зачёт», «незачёт».

The subject teacher of the student's class, group or curriculum sets them. Setting a value that is
already there again is a revision, which needs a reason (п. 1.4). The last-week window of п. 2.8 is
not enforced here: late marks are accepted and flagged by the monitoring projections.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from ejournal.commands._access import (
    authorise_teaching,
    check_roster_subject,
    class_of,
    in_roster,
    load_roster,
    load_school,
    local_today,
    non_blank,
    principal,
    writable_year,
    year_log,
)
from ejournal.commands.base import Command
from ejournal.commands.errors import refuse
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import AttestationRecord
from ejournal.ledger.domain.values import ATTESTATION_VALUES, AttestationKind


@dataclass(frozen=True, kw_only=True, slots=True)
class _SetAttestationMark(Command[UUID]):
    roster_id: UUID
    """The class, group or curriculum in which the teacher teaches the student the subject."""
    subject_id: UUID
    student_id: UUID
    value: str | int
    """1–5 (as a number or a string), «ОСВ», «Н/А», «зачёт» or «незачёт»."""
    reason: str = ""
    """Required when the mark already has a value."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SetPeriodMark(_SetAttestationMark):
    """The mark for a reporting period of the class's scheme (I четверть, 1 полугодие …)."""

    period: str


@dataclass(frozen=True, kw_only=True, slots=True)
class SetYearMark(_SetAttestationMark):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class SetExamMark(_SetAttestationMark):
    pass


@dataclass(frozen=True, kw_only=True, slots=True)
class SetFinalMark(_SetAttestationMark):
    pass


def attestation_value(value: str | int) -> str:
    """The value as the regulation writes it; raises ``InvalidInput``."""
    if isinstance(value, bool):
        raise refuse("attestation.invalid_value", value=value)
    text = str(value).strip()
    if text not in ATTESTATION_VALUES:
        raise refuse("attestation.invalid_value", value=value)
    return text


def _set(
    cmd: _SetAttestationMark, ledger: Ledger, kind: AttestationKind, period: str | None
) -> UUID:
    who = principal(ledger, cmd.actor)
    roster = load_roster(ledger, cmd.roster_id)
    school_class = class_of(ledger, roster)
    school = load_school(ledger, roster.school_id)
    year = writable_year(ledger, roster.school_id, roster.year_start)
    check_roster_subject(year, roster, cmd.subject_id)
    role = authorise_teaching(ledger, who, roster, school_class, cmd.subject_id, None)
    periods = year.periods(school_class.period_scheme)
    if period is not None:
        found = year.period(school_class.period_scheme, period)
        if found is None:
            raise refuse("attestation.unknown_period", period=period)
        last_day = found.days.ends_on
    else:
        last_day = periods[-1].days.ends_on if periods else year.days.ends_on
    # The student is judged as a member on the period's last day, or today if that is earlier.
    day: date = min(local_today(ledger, school), last_day)
    if not in_roster(roster, school_class, cmd.student_id, day):
        raise refuse("student.not_in_roster", on=day)
    value = attestation_value(cmd.value)
    now = ledger.clock()
    record_id = AttestationRecord.create_id(
        school_id=roster.school_id,
        year_start=roster.year_start,
        student_id=cmd.student_id,
        subject_id=cmd.subject_id,
    )
    record = ledger.find(record_id, AttestationRecord) or AttestationRecord.open(
        school_id=roster.school_id,
        year_start=roster.year_start,
        student_id=cmd.student_id,
        subject_id=cmd.subject_id,
        at=now,
    )
    reason = non_blank(cmd.reason)
    previous = record.mark(kind.value, period)
    if previous is not None:
        if previous.value == value:
            raise refuse("attestation.unchanged")
        if not reason:
            raise refuse("attestation.reason_required")
    record.set_mark(
        kind=kind.value, period=period, value=value, roster_id=roster.id, reason=reason, at=now
    )
    ledger.record(
        record, log_id=year_log(roster.school_id, roster.year_start), actor=cmd.actor, role=role
    )
    return record.id


def handle_set_period_mark(cmd: SetPeriodMark, ledger: Ledger) -> UUID:
    return _set(cmd, ledger, AttestationKind.PERIOD, non_blank(cmd.period))


def handle_set_year_mark(cmd: SetYearMark, ledger: Ledger) -> UUID:
    return _set(cmd, ledger, AttestationKind.YEAR, None)


def handle_set_exam_mark(cmd: SetExamMark, ledger: Ledger) -> UUID:
    return _set(cmd, ledger, AttestationKind.EXAM, None)


def handle_set_final_mark(cmd: SetFinalMark, ledger: Ledger) -> UUID:
    return _set(cmd, ledger, AttestationKind.FINAL, None)
