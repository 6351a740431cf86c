"""Compromised logins (п. 4.3–4.4): report a breach, date its receipt, invalidate a session; the
audit view of the rules and the re-entry worklist. The commands decide who may write; reads are
for auditors and a school's administration (their school), and the worklist also for the author
whose operations were excluded.

An invalidated session ends at once, in the database, so every server process refuses it from its
next request. The worklist shows what operations would have recorded about children (marks,
attendance, comments): each read is in the access log (п. 1.7), under the school of the record.
Each item names its children and its author for the school's staff (``api.names``); auditors
get IDs only."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import UUID

from eventsourcing.domain import Aggregate
from fastapi import APIRouter, status

from ejournal import commands as c
from ejournal.api.commands import accepted, created
from ejournal.api.deps import (
    AccessLogDep,
    AuthDep,
    CurrentActor,
    CurrentCaller,
    LedgerDep,
    NamesDep,
    ServicesDep,
)
from ejournal.api.errors import ApiError, problem_responses
from ejournal.api.names import People, shows_names
from ejournal.api.policy import administered_schools, administration, audit_scope
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
from ejournal.identity.access_log import Access, AccessLog
from ejournal.identity.authenticator import Caller
from ejournal.identity.names import Names
from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import Lesson
from ejournal.projections.errors import NotProjected
from ejournal.projections.reentry import ExcludedOperation, InvalidationQueries, InvalidationRule

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
    summary="Declare every operation of a session invalid and end the session at once (head or "
    "deputy of a school of the session's account; п. 4.4)",
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
    try:
        invalidated = created(command, ledger)
    except c.CommandError as e:
        if e.code == "session.already_invalidated":
            # Asked again by someone who may (the handler checks that first): end the session,
            # should an earlier request have been cut short between recording and ending it.
            auth.end_session(session_id, "session invalidated")
        raise
    # Every operation of the session is invalid (п. 4.4): it ends now, for every process, so that
    # nothing it sends from now on is accepted.
    auth.end_session(session_id, "session invalidated")
    return invalidated


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
    rule_id: UUID, caller: CurrentCaller, services: ServicesDep
) -> list[FlaggedOperationOut]:
    scope = audit_scope(caller)
    try:
        rule = InvalidationQueries(services.ledger.database).rule(rule_id)
    except NotProjected as e:
        raise ApiError("read.not_found", detail=str(e)) from e
    if not _sees(scope.schools, rule):
        raise ApiError("access.denied")
    # In a region the rule reaches operations on every server (``projections.directory``).
    flagged = []
    for cell in services.cells():
        copies = services.copies(cell.server)  # each log's operations once, where it lives
        held = InvalidationQueries(cell.ledger.database).flagged(rule)
        flagged += [flag for flag in held if flag.log_id not in copies]
    flagged.sort(key=lambda f: (f.recorded_at, f.log_id, f.index))
    return [FlaggedOperationOut.model_validate(f) for f in flagged]


@router.get(
    "/reentry",
    response_model=list[ExcludedOperationOut],
    summary="The re-entry worklist: invalidated operations made with your login, or, for the "
    "administration, concerning your schools, so that legitimate entries are made again "
    "(auditors: all of them)",
)
def reentry_worklist(
    caller: CurrentCaller, services: ServicesDep, access_log: AccessLogDep, names: NamesDep
) -> list[ExcludedOperationOut]:
    ledger = services.ledger
    schools = administered_schools(caller)
    found: list[ExcludedOperation] = []
    children: list[set[UUID]] = []
    for cell in services.cells():  # in a region, each server's excluded operations
        queries = InvalidationQueries(cell.ledger.database)
        if caller.holds(Role.AUDITOR):
            held = queries.worklist()
        elif schools:
            held = queries.worklist(school_ids=schools)
        else:
            held = queries.worklist(author_id=caller.actor.account_id)
        copies = services.copies(cell.server)  # each log's operations once, where it lives
        held = [item for item in held if item.log_id not in copies]
        found += held
        children += [_children(cell.ledger, item) for item in held]
    _log_children(caller, ledger, access_log, found, children)
    shown = _names(caller, ledger, names, found, children)
    return [
        ExcludedOperationOut.model_validate(item).model_copy(update={"names": item_names})
        for item, item_names in zip(found, shown, strict=True)
    ]


def _log_children(
    caller: Caller,
    ledger: Ledger,
    access_log: AccessLog,
    found: list[ExcludedOperation],
    children: list[set[UUID]],
) -> None:
    """Write the read of every child the worklist names (``children``, item by item) to the
    access log (п. 1.7) before it is returned: one entry per child, under the school of the
    record."""
    by_school: dict[UUID | None, set[UUID]] = {}
    for item, named in zip(found, children, strict=True):
        by_school.setdefault(item.school_id, set()).update(named)
    now = ledger.clock()
    for school_id, named in by_school.items():
        if named:
            role = _reader_role(caller, school_id)
            access_log.record(
                caller,
                role,
                Access.REENTRY,
                sorted(named, key=str),
                school_id=school_id,
                now=now,
            )


def _names(
    caller: Caller,
    ledger: Ledger,
    names: Names,
    found: list[ExcludedOperation],
    children: list[set[UUID]],
) -> list[dict[UUID, str]]:
    """Each item's names — its children and who made the operation (the provenance's account) —
    where the caller reads the item's school as its staff; none for an auditor. The children
    are those ``_log_children`` logged."""
    people = People()
    allowed = []
    for item, named in zip(found, children, strict=True):
        role = _reader_role(caller, item.school_id)
        # The role held in the item's school (an author without one any more sees no names).
        allowed.append(shows_names(role) and caller.holds(role, item.school_id))
        if allowed[-1]:
            people.recorded(item.provenance)
            for child in named:
                people.pupil(child)
    display = names.display(people.wanted(ledger))
    shown = []
    for item, named, sees in zip(found, children, allowed, strict=True):
        ids = (item.provenance.actor_id, *named) if sees else ()
        shown.append({i: display[i] for i in ids if i in display})
    return shown


def _children(ledger: Ledger, item: ExcludedOperation) -> set[UUID]:
    """The children whose data an excluded operation shows: those its payload names (a mark's,
    a comment's or a message's student, the register's students), or, for an event that names
    none, the child of the record it changed (a corrected or cancelled mark, an attestation
    record)."""
    named = set(_named_students(item.detail))
    if named:
        return named
    record = ledger.find(item.originator_id, Aggregate)
    student = getattr(record, "student_id", None)
    if isinstance(student, UUID):
        return {student}
    mark_id = item.detail.get("mark_id")
    if isinstance(record, Lesson) and isinstance(mark_id, str):
        mark = record.marks.get(UUID(mark_id))
        if mark is not None:
            return {mark.student_id}
    return set()


def _named_students(detail: object) -> list[UUID]:
    """Every student ID in an event's payload (IDs as hex): the values of ``student_id`` keys,
    and the first of each attendance pair (``codes``), at any depth."""
    found = []
    for value in _student_values(detail):
        try:
            found.append(UUID(str(value)))
        except ValueError:
            continue
    return found


def _student_values(detail: object) -> Iterator[object]:
    if isinstance(detail, list):
        for value in detail:
            yield from _student_values(value)
    elif isinstance(detail, dict):
        for key, value in detail.items():
            if key == "student_id":
                yield value
            elif key == "codes" and isinstance(value, list):
                yield from (pair[0] for pair in value if isinstance(pair, list) and pair)
            else:
                yield from _student_values(value)


def _reader_role(caller: Caller, school_id: UUID | None) -> Role:
    """The role the caller read the school's part of the worklist as."""
    if caller.holds(Role.AUDITOR):
        return Role.AUDITOR
    if school_id is not None and (role := administration(caller, school_id)) is not None:
        return role
    # The author of the operations, as whom they hold in that school.
    held = sorted(g.role for g in caller.actor.grants if g.school_id in (school_id, None))
    return held[0] if held else Role.TEACHER


def _sees(schools: frozenset[UUID] | None, rule: InvalidationRule) -> bool:
    return schools is None or rule.school_id in schools
