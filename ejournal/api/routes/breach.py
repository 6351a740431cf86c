"""Compromised logins (п. 4.3–4.4): report a breach, date its receipt, invalidate a session; the
audit view of the rules and the re-entry worklist. The commands decide who may write; reads are
for auditors and a school's administration (their school), and the worklist also for the author
whose operations were excluded."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, status

from ejournal import commands as c
from ejournal.api.commands import accepted, created
from ejournal.api.deps import AuthDep, CurrentActor, CurrentCaller, LedgerDep
from ejournal.api.errors import ApiError, problem_responses
from ejournal.api.policy import administered_schools, audit_scope
from ejournal.api.schemas.breach import (
    BreachReportIn,
    ExcludedOperationOut,
    FlaggedOperationOut,
    InvalidationRuleOut,
    ReceiptIn,
    SessionInvalidationIn,
)
from ejournal.api.schemas.common import Accepted, Created
from ejournal.api.threads import OneTripRoute
from ejournal.ledger.actor import Role
from ejournal.projections.errors import NotProjected
from ejournal.projections.reentry import InvalidationQueries, InvalidationRule

router = APIRouter(
    route_class=OneTripRoute,
    tags=["compromised logins"],
    responses=problem_responses(401, 403, 404, 409, 422),
)


@router.post(
    "/breach-reports",
    response_model=Created,
    status_code=status.HTTP_201_CREATED,
    summary="Report a login compromised: your own, or on a user's behalf (head, support). The "
    "account is stopped at once and its operations from the receipt on are invalid (п. 4.3–4.4)",
)
def report_breach(
    body: BreachReportIn, actor: CurrentActor, ledger: LedgerDep, auth: AuthDep
) -> Created:
    reported = created(c.ReportBreach(actor=actor, **body.fields()), ledger)
    auth.end_sessions(body.account_id, "breach reported")
    return reported


@router.post(
    "/breach-reports/{report_id}/receipts",
    response_model=Accepted,
    summary="Date your receipt of a report back to when you received it outside the service "
    "(head of the school, support; п. 4.4: the earlier receipt counts)",
)
def antedate_receipt(
    report_id: UUID, body: ReceiptIn, actor: CurrentActor, ledger: LedgerDep
) -> Accepted:
    command = c.AntedateBreachReceipt(actor=actor, report_id=report_id, **body.fields())
    return accepted(command, ledger)


@router.post(
    "/sessions/{session_id}/invalidation",
    response_model=Created,
    status_code=status.HTTP_201_CREATED,
    summary="Declare every operation of a session invalid (head or deputy of a school of the "
    "session's account; п. 4.4)",
)
def invalidate_session(
    session_id: UUID,
    body: SessionInvalidationIn,
    actor: CurrentActor,
    ledger: LedgerDep,
    auth: AuthDep,
) -> Created:
    account_id = auth.session_account(session_id)
    if account_id is None:
        raise ApiError("session.not_found")
    command = c.InvalidateSession(
        actor=actor, session_id=session_id, account_id=account_id, **body.fields()
    )
    return created(command, ledger)


@router.get(
    "/invalidations",
    response_model=list[InvalidationRuleOut],
    summary="The rules of п. 4.4 in force (auditors; the administration: their schools')",
)
def list_invalidations(caller: CurrentCaller, ledger: LedgerDep) -> list[InvalidationRuleOut]:
    scope = audit_scope(caller)
    rules = InvalidationQueries(ledger.database).rules()
    return [InvalidationRuleOut.model_validate(r) for r in rules if _sees(scope.schools, r)]


@router.get(
    "/invalidations/{rule_id}/flagged",
    response_model=list[FlaggedOperationOut],
    summary="Valid operations of a compromised login made while the breach was suspected: "
    "to review",
)
def list_flagged(
    rule_id: UUID, caller: CurrentCaller, ledger: LedgerDep
) -> list[FlaggedOperationOut]:
    scope = audit_scope(caller)
    queries = InvalidationQueries(ledger.database)
    try:
        rule = queries.rule(rule_id)
    except NotProjected as e:
        raise ApiError("read.not_found", detail=str(e)) from e
    if not _sees(scope.schools, rule):
        raise ApiError("access.denied")
    return [FlaggedOperationOut.model_validate(f) for f in queries.flagged(rule)]


@router.get(
    "/reentry",
    response_model=list[ExcludedOperationOut],
    summary="The re-entry worklist: invalidated operations made with your login, or, for the "
    "administration, concerning your schools, so that legitimate entries are made again "
    "(auditors: all of them)",
)
def reentry_worklist(caller: CurrentCaller, ledger: LedgerDep) -> list[ExcludedOperationOut]:
    queries = InvalidationQueries(ledger.database)
    schools = administered_schools(caller)
    if caller.holds(Role.AUDITOR):
        found = queries.worklist()
    elif schools:
        found = queries.worklist(school_ids=schools)
    else:
        found = queries.worklist(author_id=caller.actor.account_id)
    return [ExcludedOperationOut.model_validate(item) for item in found]


def _sees(schools: frozenset[UUID] | None, rule: InvalidationRule) -> bool:
    return schools is None or rule.school_id in schools
