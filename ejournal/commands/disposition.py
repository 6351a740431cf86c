"""Disposition of records whose retention period has expired (ГОСТ Р ИСО 15489-1; п. 3.3).

The head of the school (п. 1.2), or the service on a schedule, disposes of a school year's expired
payloads: the plan lists the due entries, a ``DispositionAct`` naming them is recorded in the same
log, and their payloads are removed under the database's one exception to append-only
(``ledger.append_only``). See ``ledger.retention`` for the procedure and the schedule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID, uuid4

from ejournal.commands._access import load_school, local_today, non_blank, principal
from ejournal.commands.base import Command
from ejournal.commands.errors import refuse
from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain.disposition import DispositionAct
from ejournal.ledger.retention import (
    DEFAULT_SCHEDULE,
    DispositionPlan,
    RetentionError,
    RetentionSchedule,
    plan_disposition,
    remove_payloads,
    school_year_of_log,
)


@dataclass(frozen=True, slots=True)
class DispositionResult:
    act_id: UUID
    plan: DispositionPlan
    removed: int


@dataclass(frozen=True, kw_only=True, slots=True)
class DisposeExpiredRecords(Command[DispositionResult]):
    """Dispose of the expired payloads of one school year's log, recording a disposition act."""

    log_id: str
    reason: str
    schedule: RetentionSchedule = DEFAULT_SCHEDULE
    act_id: UUID = field(default_factory=uuid4)


_OPERATORS = frozenset({Role.SYSTEM, Role.SYSTEM_ADMIN})


def handle_dispose_expired_records(cmd: DisposeExpiredRecords, ledger: Ledger) -> DispositionResult:
    try:
        school_id, year_start = school_year_of_log(cmd.log_id)
    except RetentionError:
        raise refuse("disposition.not_a_school_log", log_id=cmd.log_id) from None
    who = principal(ledger, cmd.actor)
    school = load_school(ledger, school_id)
    role = who.role({Role.HEAD}, school_id) or who.role(_OPERATORS)
    if role is None:
        raise refuse("disposition.not_allowed")
    reason = non_blank(cmd.reason)
    if not reason:
        raise refuse("reason.required")
    today = local_today(ledger, school)
    plan = plan_disposition(ledger.database, cmd.log_id, schedule=cmd.schedule, on=today)
    if plan.count == 0:
        raise refuse("disposition.nothing_due", on=today)
    act = DispositionAct.record(
        act_id=cmd.act_id,
        log_id=cmd.log_id,
        school_id=school_id,
        year_start=year_start,
        classes=plan.act_classes(),
        topics=plan.topics,
        ranges=plan.ranges,
        count=plan.count,
        reason=reason,
        disposed_on=today,
        at=ledger.clock(),
    )
    ledger.record(act, log_id=cmd.log_id, actor=cmd.actor, role=role)
    removed = remove_payloads(ledger.database, log_id=cmd.log_id, act_id=act.id, ranges=plan.ranges)
    return DispositionResult(act_id=act.id, plan=plan, removed=removed)
