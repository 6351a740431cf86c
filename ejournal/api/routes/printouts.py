"""Certified printouts on request (п. 1.6, 2.9, 3.1): class journal pages, a pupil's weekly diary
(a parent's "printout on request"), and a class's summary sheet of a period or the year, each a
PDF/A-3b with the names, the certification block and the QR code (``documents.certify``).

Who may ask is who may read the same page (``api.policy``); the read is logged in the access log
as that page's read is (п. 1.7). Each printout rests on the latest signed checkpoint of the year's
log, and is sealed by the journal on the school's behalf (``api.printing``).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from ejournal import commands as c
from ejournal.api.deps import AccessLogDep, CurrentCaller, LedgerDep, ReadsDep, ServicesDep
from ejournal.api.errors import ApiError, problem_responses
from ejournal.api.names import shows_names
from ejournal.api.policy import class_journal_reader, class_reader, diary_reader, load_class
from ejournal.api.printing import printed_names
from ejournal.api.routes.reads import class_of_student
from ejournal.api.schemas.common import Name, SchoolDate, YearStart
from ejournal.archive.summary import SummaryError
from ejournal.archive.transliteration import class_file_stem
from ejournal.commands.errors import refuse
from ejournal.documents.certify import (
    Printout,
    print_class_journal,
    print_summary_sheet,
    print_weekly_diary,
)
from ejournal.identity.access_log import Access
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import Enrolment, SchoolClass, SchoolYear
from ejournal.ledger.logs import school_log_id

router = APIRouter(tags=["printouts"], responses=problem_responses(401, 403, 404, 422, 503))

PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The printout, PDF/A-3b"}
}
MAX_DAYS = 130
"""The longest period of journal pages: a half-year."""


def _pdf(printout: Printout, name: str) -> Response:
    return Response(
        printout.pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )


def _stem(school_class: SchoolClass) -> str:
    return class_file_stem(school_class.grade, school_class.letter)


def _today(ledger: Ledger, school_id: UUID) -> date:
    return ledger.clock().astimezone(c.school_zone(ledger, school_id)).date()


@router.get(
    "/journal/{roster_id}/{subject_id}/printout",
    response_class=Response,
    responses=PDF,
    summary="Class journal pages of a class, group or curriculum's subject for a period, "
    "certified (PDF/A): attendance and marks by lesson, topics and homework",
)
def class_journal_printout(
    roster_id: UUID,
    subject_id: UUID,
    caller: CurrentCaller,
    ledger: LedgerDep,
    log: AccessLogDep,
    services: ServicesDep,
    start: Annotated[
        SchoolDate | None, Query(alias="from", description="First day (default: the month's)")
    ] = None,
    end: Annotated[
        SchoolDate | None, Query(alias="to", description="Last day (default: today)")
    ] = None,
) -> Response:
    roster = c.load_roster(ledger, roster_id)
    role = class_journal_reader(ledger, caller, roster, subject_id)
    end = end or _today(ledger, roster.school_id)
    start = start or end.replace(day=1)
    if not 0 <= (end - start).days <= MAX_DAYS:
        raise refuse("period.invalid", detail=f"от 0 до {MAX_DAYS} дней")
    checkpoint = services.printing.checkpoint(school_log_id(roster.school_id, roster.year_start))
    seal = services.printing.seal()
    log.record(
        caller, role, Access.CLASS_JOURNAL, [roster_id], school_id=roster.school_id,
        now=ledger.clock(),
    )  # fmt: skip
    printout = print_class_journal(
        ledger,
        checkpoint=checkpoint,
        origin=services.printing.origin,
        roster_id=roster_id,
        subject_id=subject_id,
        first_day=start,
        last_day=end,
        certifier=seal,
        names=printed_names(services.vault, shows_names(role)),
    )
    return _pdf(printout, f"journal-{start:%Y%m%d}-{end:%Y%m%d}")


@router.get(
    "/schools/{school_id}/years/{year_start}/students/{student_id}/diary/printout",
    response_class=Response,
    responses=PDF,
    summary="A pupil's weekly diary, certified (PDF/A): the parents' printout on request "
    "(п. 1.6); the read is logged",
)
def diary_printout(
    school_id: UUID,
    year_start: YearStart,
    student_id: UUID,
    caller: CurrentCaller,
    ledger: LedgerDep,
    reads: ReadsDep,
    log: AccessLogDep,
    services: ServicesDep,
    week: Annotated[
        SchoolDate | None, Query(description="A day of the week (default: this week)")
    ] = None,
    class_id: Annotated[
        UUID | None, Query(description="The student's class, if known to the caller")
    ] = None,
) -> Response:
    def student_class() -> UUID | None:
        # The ledger's enrolment of the year first: a printout does not wait for the read models.
        enrolment = ledger.find(
            Enrolment.create_id(student_id=student_id, year_start=year_start), Enrolment
        )
        placed = [] if enrolment is None else enrolment.placements
        classes = [p.class_id for p in placed if p.school_id == school_id]
        if classes:
            return class_id if class_id in classes else classes[-1]
        return class_of_student(ledger, reads, school_id, year_start, student_id, class_id)

    role = diary_reader(ledger, caller, school_id, year_start, student_id, student_class)
    found = student_class()
    if found is None:
        raise refuse("student.not_in_school")
    checkpoint = services.printing.checkpoint(school_log_id(school_id, year_start))
    seal = services.printing.seal()
    log.record(caller, role, Access.DIARY, [student_id], school_id=school_id, now=ledger.clock())
    day = week or _today(ledger, school_id)
    printout = print_weekly_diary(
        ledger,
        checkpoint=checkpoint,
        origin=services.printing.origin,
        class_id=found,
        student_id=student_id,
        week_of=day,
        certifier=seal,
        names=printed_names(services.vault, shows_names(role)),
    )
    monday = day - timedelta(days=day.weekday())
    return _pdf(printout, f"diary-{monday:%Y%m%d}")


@router.get(
    "/classes/{class_id}/summary-sheet/printout",
    response_class=Response,
    responses=PDF,
    summary="The class's summary sheet of a period or of the year, certified (PDF/A, п. 2.9)",
)
def summary_sheet_printout(
    class_id: UUID,
    caller: CurrentCaller,
    ledger: LedgerDep,
    log: AccessLogDep,
    services: ServicesDep,
    period: Annotated[
        Name | None, Query(description="One period (I четверть …); the year without it")
    ] = None,
) -> Response:
    school_class = load_class(ledger, class_id)
    role = class_reader(caller, school_class)
    if period is not None:
        year = ledger.get(
            SchoolYear.create_id(
                school_id=school_class.school_id, year_start=school_class.year_start
            ),
            SchoolYear,
        )
        if period not in {p.name for p in year.periods(school_class.period_scheme)}:
            raise refuse("attestation.unknown_period", period=period)
    log_id = school_log_id(school_class.school_id, school_class.year_start)
    checkpoint = services.printing.checkpoint(log_id)
    seal = services.printing.seal()
    log.record(
        caller, role, Access.SUMMARY_SHEET, [class_id], school_id=school_class.school_id,
        now=ledger.clock(),
    )  # fmt: skip
    try:
        printout = print_summary_sheet(
            ledger,
            checkpoint=checkpoint,
            origin=services.printing.origin,
            class_id=class_id,
            period=period,
            certifier=seal,
            names=printed_names(services.vault, shows_names(role)),
        )
    except SummaryError as e:  # the class is newer than the latest checkpoint
        raise ApiError("printout.not_signed_yet", detail=str(e)) from e
    return _pdf(printout, f"summary-sheet-{_stem(school_class)}")
