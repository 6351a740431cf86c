"""The auditor's page of the ledger (I5–I8, п. 2.10): its logs, each log's latest signed
checkpoint, the result of the last verification (run from the page when asked), a log's latest
records, and a receipt for any record to download and verify offline (``ejournal verify-proof``).

The reads are the API's (``api.routes.audit``): the same scope (auditors see every log, a
school's administration its own) and the same refusals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from ejournal.api.deps import LedgerDep, ServicesDep
from ejournal.api.errors import ApiError
from ejournal.api.routes.audit import list_checkpoints, list_entries, list_logs, verification
from ejournal.api.routes.audit import receipt as receipt_read
from ejournal.api.schemas.audit import VerificationOut
from ejournal.commands.errors import ROLE_NAMES
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import School
from ejournal.ledger.logs import SYSTEM_LOG
from ejournal.ledger.retention import RetentionError, school_year_of_log
from ejournal.web.access import PageCaller, PageRoute
from ejournal.web.frame import frame
from ejournal.web.render import render
from ejournal.web.wording import EVENT_NAMES

router = APIRouter(route_class=PageRoute)

RECENT = 20
"""How many of a log's latest records the page lists, each with its receipt."""


@dataclass(frozen=True, slots=True)
class Verified:
    """The last verification run from the page, kept by the server until it restarts."""

    at: datetime
    result: VerificationOut


def log_title(ledger: Ledger, log_id: str) -> str:
    """A log as a person names it: «Системный журнал», or the school and its year."""
    if log_id == SYSTEM_LOG:
        return "Системный журнал (учётные записи, нарушения входа)"
    try:
        school_id, year_start = school_year_of_log(log_id)
    except RetentionError:
        return log_id
    school = ledger.find(school_id, School)
    name = school.name if school is not None else "школа"
    return f"{name}, {year_start}/{year_start + 1} учебный год"


@router.get("/ledger")
def ledger_page(
    request: Request,
    caller: PageCaller,
    services: ServicesDep,
    ledger: LedgerDep,
    log: str = "",
    verify: str = "",
) -> Response:
    logs = list_logs(caller, services)
    checkpoints = list_checkpoints(caller, services)
    if verify:
        request.app.state.last_verification = Verified(
            ledger.clock(), verification(caller, services)
        )
    last: Verified | None = getattr(request.app.state, "last_verification", None)
    titles = {entry.log_id: log_title(ledger, entry.log_id) for entry in logs}
    chosen = next((entry for entry in logs if entry.log_id == log), None)
    entries: list[Any] = []
    if chosen is not None:
        start = max(0, chosen.size - RECENT)
        held = services.for_log(chosen.log_id).ledger  # in a region, the log's server
        entries = list(reversed(list_entries(caller, held, chosen.log_id, start, RECENT)))
    page = frame(
        request,
        caller,
        services,
        logs=logs,
        checkpoints=checkpoints,
        titles=titles,
        last=last,
        chosen=chosen,
        entries=entries,
        event_names=EVENT_NAMES,
        role_names={role.value: name for role, name in ROLE_NAMES.items()},
    )
    return render(request, "ledger/index.html", page)


@router.get("/ledger/proof")
def proof_by_form(
    caller: PageCaller,
    services: ServicesDep,
    ledger: LedgerDep,
    record: str = "",
    version: str = "",
) -> Response:
    """The receipt form's answer: the record's ID and version as typed."""
    try:
        originator_id = UUID(record.strip())
        number = int(version.strip())
    except ValueError:
        raise ApiError(
            "request.invalid", detail="Укажите идентификатор записи (UUID) и номер её версии."
        ) from None
    held = services.locating(originator_id)  # in a region, the record's server
    return proof(originator_id, number, caller, held, held.ledger)


@router.get("/ledger/proof/{originator_id}/{version}")
def proof(
    originator_id: UUID,
    version: int,
    caller: PageCaller,
    services: ServicesDep,
    ledger: LedgerDep,
) -> Response:
    """The record's receipt (C2SP tlog-proof) as a file to keep and verify offline."""
    if not 1 <= version <= 2**62:  # the API's bounds on its path
        raise ApiError("receipt.not_provable")
    found = receipt_read(originator_id, version, caller, ledger, services)
    name = f"receipt-{originator_id.hex[:8]}-v{version}.proof"
    return Response(
        found.receipt,
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
