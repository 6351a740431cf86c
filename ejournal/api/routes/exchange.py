"""School data in and out (п. 2.2, 2.9): the administration imports the school's spreadsheets
(the file itself is the request body: CSV or XLSX, up to 20 MB) and exports the year's set-up in
the same format; whoever may read a class journal page or a summary sheet may export it to XLSX or
CSV. The import is all or nothing: a file with a bad row is refused whole (422
``import.refused``, every bad row named) and nothing is written; ``dry_run`` checks without
writing."""

from __future__ import annotations

import time
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Body, Query, Response
from fastapi.responses import JSONResponse

from ejournal import commands as c
from ejournal.api.deps import AccessLogDep, CurrentCaller, LedgerDep, ServicesDep, VaultDep
from ejournal.api.errors import PROBLEM_JSON, TYPE_PREFIX, ApiError, problem_responses
from ejournal.api.freshness import POLL_SECONDS, WAIT_SECONDS
from ejournal.api.policy import class_journal_reader, class_reader, load_class, school_reader
from ejournal.api.routes.reads import From, To, check_range
from ejournal.api.schemas.common import Name, YearStart
from ejournal.api.schemas.exchange import (
    CsvEncoding,
    ExportFormat,
    ImportRefusedOut,
    ImportReportOut,
)
from ejournal.api.threads import OneTripRoute
from ejournal.commands.errors import refuse
from ejournal.exchange.exports import (
    journal_tables,
    setup_tables,
    side_by_side,
    summary_tables,
    vault_names,
)
from ejournal.exchange.files import MAX_BYTES, Table, csv_bytes, xlsx_bytes
from ejournal.exchange.importer import Importer, Upload
from ejournal.exchange.setup import read_setup
from ejournal.exchange.sheets import KINDS, kind_named
from ejournal.identity.access_log import Access
from ejournal.ledger.domain import SchoolYear
from ejournal.projections.queries import Queries

router = APIRouter(
    route_class=OneTripRoute,
    tags=["import and export"],
    responses=problem_responses(401, 403, 404, 422, 503),
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
KIND_NAMES = ", ".join(k.name for k in KINDS)
FILE_BODY = {
    "requestBody": {
        "required": True,
        "description": "The file itself: XLSX, or CSV in UTF-8 or Windows-1251 with «;» or «,».",
        "content": {
            XLSX: {"schema": {"type": "string", "format": "binary"}},
            CSV: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}
EXPORTED: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file",
        "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}, CSV: {}},
    }
}
Format = Annotated[ExportFormat, Query(description="xlsx, or csv (one table)")]
Encoding = Annotated[CsvEncoding, Query(description="Of a CSV file")]
Kind = Annotated[Name | None, Query(description=f"The sheet kind: {KIND_NAMES} (one sheet: CSV)")]


@router.post(
    "/schools/{school_id}/years/{year_start}/import",
    response_model=ImportReportOut,
    summary="Import a spreadsheet of the school's data, all or nothing (head, deputy)",
    openapi_extra=FILE_BODY,
    responses={
        422: {
            "model": ImportRefusedOut,
            "description": "Refused: the report's rows (or an invalid request)",
            "content": {
                PROBLEM_JSON: {
                    "schema": {
                        "anyOf": [
                            {"$ref": "#/components/schemas/ImportRefusedOut"},
                            {"$ref": "#/components/schemas/Problem"},
                        ]
                    }
                }
            },
        }
    },
)
def import_file(
    school_id: UUID,
    year_start: YearStart,
    content: Annotated[bytes, Body(media_type=CSV)],
    caller: CurrentCaller,
    services: ServicesDep,
    dry_run: Annotated[bool, Query(description="Check every row, write nothing")] = False,
    kind: Kind = None,
    name: Annotated[
        Name | None, Query(description="The file's name (a CSV file's name may tell its kind)")
    ] = None,
) -> ImportReportOut | JSONResponse:
    school_reader(caller, school_id)
    if kind is not None and kind_named(kind) is None:
        raise ApiError("request.invalid", detail=f"вид листа — один из: {KIND_NAMES}")
    if len(content) > MAX_BYTES:
        raise ApiError("request.too_large")
    _read_models_current(services)
    upload = Upload(name or "файл", content, kind)
    report = Importer(services.ledger, services.vault).run(
        [upload], actor=caller.actor, school_id=school_id, year_start=year_start, dry_run=dry_run
    )
    out = ImportReportOut.of(report)
    if report.accepted:
        return out
    title = ApiError("import.refused")
    refused = ImportRefusedOut(
        type=TYPE_PREFIX + title.code,
        title=title.title,
        status=title.status,
        code=title.code,
        clause=title.clause,
        detail=f"Ошибок: {len(out.problems)}.",
        report=out,
    )
    return JSONResponse(
        refused.model_dump(exclude_none=True), status_code=422, media_type=PROBLEM_JSON
    )


def _read_models_current(services: ServicesDep) -> None:
    """Wait until the read models include every write so far: the import recognises the
    school's people by them (a file sent twice in a row must not bring its people twice)."""
    projector = services.projector
    if projector is None or not projector.running:
        return
    head = projector.head()
    deadline = time.monotonic() + WAIT_SECONDS
    while projector.position() < head:
        if time.monotonic() > deadline:
            raise ApiError("service.unavailable", detail="Данные для чтения ещё не обновлены.")
        projector.wake()
        time.sleep(POLL_SECONDS)


@router.get(
    "/schools/{school_id}/years/{year_start}/export",
    response_class=Response,
    responses=EXPORTED,
    summary="The year's set-up in the import's format: subjects, staff, classes, pupils, parents, "
    "assignments, timetable, КТП (head, deputy; the read of their personal data is logged)",
)
def export_setup(
    school_id: UUID,
    year_start: YearStart,
    caller: CurrentCaller,
    ledger: LedgerDep,
    vault: VaultDep,
    log: AccessLogDep,
    format: Format = ExportFormat.XLSX,
    encoding: Encoding = CsvEncoding.UTF8,
    kind: Kind = None,
) -> Response:
    role = school_reader(caller, school_id)
    chosen = None if kind is None else kind_named(kind)
    if kind is not None and chosen is None:
        raise ApiError("request.invalid", detail=f"вид листа — один из: {KIND_NAMES}")
    if (
        ledger.find(SchoolYear.create_id(school_id=school_id, year_start=year_start), SchoolYear)
        is None
    ):
        raise refuse("year.not_found", year=f"{year_start}/{year_start + 1}")
    setup = read_setup(ledger, vault, school_id, year_start)
    log.record(
        caller,
        role,
        Access.PERSONAL_DATA,
        sorted(setup.people),
        school_id=school_id,
        now=ledger.clock(),
    )
    tables = setup_tables(setup)
    name = f"Настройка {year_start}-{year_start + 1}"
    if chosen is not None:
        tables = [t for t in tables if t.title == chosen.title]
        name = f"{name} {chosen.title}"
    elif format is ExportFormat.CSV:
        raise ApiError("export.one_sheet")
    return _file(tables, format, encoding, name)


@router.get(
    "/journal/{roster_id}/{subject_id}/export",
    response_class=Response,
    responses=EXPORTED,
    summary="The class journal page of a class, group or curriculum's subject as XLSX or CSV",
)
def export_journal(
    roster_id: UUID,
    subject_id: UUID,
    caller: CurrentCaller,
    ledger: LedgerDep,
    services: ServicesDep,
    log: AccessLogDep,
    start: From = None,
    end: To = None,
    format: Format = ExportFormat.XLSX,
    encoding: Encoding = CsvEncoding.UTF8,
) -> Response:
    check_range(start, end)
    roster = c.load_roster(ledger, roster_id)
    role = class_journal_reader(ledger, caller, roster, subject_id)
    log.record(
        caller, role, Access.CLASS_JOURNAL, [roster_id], school_id=roster.school_id,
        now=ledger.clock(),
    )  # fmt: skip
    page = Queries(ledger.database).class_journal(roster_id, subject_id, start, end)
    year_id = SchoolYear.create_id(school_id=roster.school_id, year_start=roster.year_start)
    subject = ledger.get(year_id, SchoolYear).subjects[subject_id].name
    title = f"{roster.name} {subject}"
    tables = journal_tables(page, vault_names(services.vault), title=_sheet(title))
    if format is ExportFormat.CSV:
        tables = tables[:1]
    return _file(tables, format, encoding, f"Журнал {title}{_days(start, end)}")


@router.get(
    "/classes/{class_id}/summary-sheet/export",
    response_class=Response,
    responses=EXPORTED,
    summary="The class's summary sheet (сводная ведомость, п. 2.9) as XLSX or CSV",
)
def export_summary_sheet(
    class_id: UUID,
    caller: CurrentCaller,
    ledger: LedgerDep,
    services: ServicesDep,
    log: AccessLogDep,
    period: Annotated[Name | None, Query(description="Only this period (I четверть …)")] = None,
    format: Format = ExportFormat.XLSX,
    encoding: Encoding = CsvEncoding.UTF8,
) -> Response:
    school_class = load_class(ledger, class_id)
    role = class_reader(caller, school_class)
    log.record(
        caller, role, Access.SUMMARY_SHEET, [class_id], school_id=school_class.school_id,
        now=ledger.clock(),
    )  # fmt: skip
    sheet = Queries(ledger.database).summary_sheet(class_id, period)
    tables = summary_tables(sheet, vault_names(services.vault))
    if format is ExportFormat.CSV and len(tables) > 1:
        tables = [side_by_side(tables, "Сводная ведомость")]
    scope = f" {period}" if period else ""
    return _file(tables, format, encoding, f"Сводная ведомость {school_class.name}{scope}")


def _sheet(title: str) -> str:
    return title[:31]


def _days(start: date | None, end: date | None) -> str:
    if start is None and end is None:
        return ""
    first = start.strftime("%d.%m.%Y") if start else "…"
    last = end.strftime("%d.%m.%Y") if end else "…"
    return f" {first}–{last}"


def _file(tables: list[Table], format: ExportFormat, encoding: CsvEncoding, name: str) -> Response:
    """The tables as a file to download, named ``name`` (Cyrillic, RFC 6266)."""
    if format is ExportFormat.XLSX:
        content, media, suffix = xlsx_bytes(tables), XLSX, "xlsx"
    else:
        codec = "utf-8-sig" if encoding is CsvEncoding.UTF8 else "cp1251"
        charset = "utf-8" if encoding is CsvEncoding.UTF8 else "windows-1251"
        content, media, suffix = (
            csv_bytes(tables[0], encoding=codec),
            f"{CSV}; charset={charset}",
            "csv",
        )
    filename = f"{name}.{suffix}".replace("/", "-").replace("«", "").replace("»", "")
    disposition = f"attachment; filename=\"export.{suffix}\"; filename*=UTF-8''{quote(filename)}"
    return Response(content, media_type=media, headers={"Content-Disposition": disposition})
