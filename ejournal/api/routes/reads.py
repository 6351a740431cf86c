"""What people look at (п. 1.5–1.6, 2.2–2.4, 2.9): the class journal page, the diary, the summary
sheet and the monitor of journal keeping. Each is checked by ``api.policy`` first, logged in the
access log where it shows children's data (п. 1.7), then read from the projections.

Every read is of one school's data, established from the data (a roster's or class's school, the
school in whose class a student is enrolled), and logged under that school. Each carries the names
of the people it shows, for a reader allowed to see them (``api.names``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from ejournal import commands as c
from ejournal.api.deps import (
    AccessLogDep,
    CurrentCaller,
    LedgerDep,
    NamesDep,
    ReadsDep,
    ServicesDep,
)
from ejournal.api.errors import problem_responses
from ejournal.api.names import (
    class_order,
    display_on_loop,
    joined,
    journal_people,
    monitor_people,
    names_from_rows,
    names_statement,
    shows_names,
    summary_people,
    with_names,
)
from ejournal.api.policy import (
    class_journal_reader,
    class_reader,
    diary_reader,
    load_class,
    school_reader,
    teacher_reader,
)
from ejournal.api.reads import Audience, DiaryKey, ReadModels, RenderedDiary
from ejournal.api.schemas.common import Name, SchoolDate, YearStart
from ejournal.api.schemas.reads import (
    ClassJournalOut,
    DiaryOut,
    FamilyDiaryOut,
    MonitorOut,
    SummarySheetOut,
)
from ejournal.api.threads import OneTripRoute
from ejournal.commands.errors import refuse
from ejournal.identity.access_log import Access, entry_rows
from ejournal.identity.names import Names
from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import SchoolClass
from ejournal.ledger.errors import NotInMemory

router = APIRouter(
    route_class=OneTripRoute, tags=["reading"], responses=problem_responses(401, 403, 404, 422, 503)
)

MAX_DAYS = 62
From = Annotated[SchoolDate | None, Query(alias="from", description="First day (inclusive)")]
To = Annotated[SchoolDate | None, Query(alias="to", description="Last day (inclusive)")]


def check_range(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and not 0 <= (end - start).days <= MAX_DAYS:
        raise refuse("period.invalid", detail=f"от 0 до {MAX_DAYS} дней")


@router.get(
    "/journal/{roster_id}/{subject_id}",
    response_model=ClassJournalOut,
    summary="The class journal page of a class, group or curriculum's subject",
)
def class_journal(
    roster_id: UUID,
    subject_id: UUID,
    caller: CurrentCaller,
    ledger: LedgerDep,
    reads: ReadsDep,
    log: AccessLogDep,
    names: NamesDep,
    start: From = None,
    end: To = None,
) -> ClassJournalOut:
    check_range(start, end)
    roster = c.load_roster(ledger, roster_id)
    role = class_journal_reader(ledger, caller, roster, subject_id)
    log.record(
        caller,
        role,
        Access.CLASS_JOURNAL,
        [roster_id],
        school_id=roster.school_id,
        now=ledger.clock(),
    )
    return checked_class_journal(ledger, reads, names, role, roster_id, subject_id, start, end)


def checked_class_journal(
    ledger: Ledger,
    reads: ReadModels,
    names: Names,
    role: Role,
    roster_id: UUID,
    subject_id: UUID,
    start: date | None,
    end: date | None,
) -> ClassJournalOut:
    """``class_journal`` for a reader already checked and logged in ``role`` (the lesson page
    logs its read on the event loop, ``web.pages.lesson``)."""
    page = reads.class_journal(roster_id, subject_id, start, end)
    page.names = joined(names, ledger, role, journal_people(page))
    page.rows = class_order(page.rows, page.names, lambda row: row.student_id)
    return page


@router.get(
    "/schools/{school_id}/years/{year_start}/students/{student_id}/diary",
    response_model=DiaryOut | FamilyDiaryOut,
    summary="A pupil's diary in the school's year, for a week or given days (the read is "
    "logged): the staff's with every mark's history and provenance, the student's and the "
    "parents' with the current marks only",
)
async def diary(
    school_id: UUID,
    year_start: YearStart,
    student_id: UUID,
    caller: CurrentCaller,
    services: ServicesDep,
    start: From = None,
    end: To = None,
    class_id: Annotated[
        UUID | None, Query(description="A class teacher's class, if the student is in it")
    ] = None,
) -> Response:
    # The busiest read: served on the event loop when everything it needs is in memory
    # (``ledger.async_database``), else in a thread, as the other routes are.
    check_range(start, end)
    ledger, reads, log = services.ledger, services.reads, services.access_log
    names = Names(services.vault)

    def access(student_class: Callable[[], UUID | None]) -> tuple[Role, DiaryKey]:
        # The reader's right in the school, and the student a pupil of it that year: the diary
        # read is then that school year's, and logged under that school.
        role = diary_reader(ledger, caller, school_id, year_start, student_id, student_class)
        first, last = _diary_days(ledger, school_id, start, end)
        return role, (student_id, school_id, year_start, first, last, Audience.of(role))

    def in_thread() -> bytes:
        role, key = access(
            lambda: class_of_student(ledger, reads, school_id, year_start, student_id, class_id)
        )
        log.record(
            caller, role, Access.DIARY, [student_id], school_id=school_id, now=ledger.clock()
        )
        rendered = reads.diary_json(key)
        return with_names(rendered.json, _diary_names(names, role, rendered))

    body = None
    if services.aio is not None and services.aio.ready and services.diary_log is not None:
        try:
            with ledger.memory_only():
                # A class teacher's class comes from the read models: that is for the thread.
                role, key = access(_in_the_database)
        except NotInMemory:
            pass
        else:
            # The read is logged in the round trip that reads the version to serve, and the
            # names of whom the diary showed when last rendered (most often, whom it shows).
            logged = entry_rows(caller, role, Access.DIARY, [student_id], school_id, ledger.clock())
            known = reads.diary_people(key) if shows_names(role) else None
            asked = names_statement(names, known)
            found = None
            if asked is None:
                version = await services.diary_log.write(logged)
            else:
                version, found = await services.diary_log.write_and_read(logged, asked)
            rendered = reads.rendered_diary(key, version)
            if rendered is None:
                rendered = await run_in_threadpool(reads.diary_json, key)
            shown = {}
            if found is not None and rendered.people == known:
                shown = names_from_rows(names, rendered.people, found)
            elif shows_names(role):
                shown = await display_on_loop(names, services.aio, rendered.people)
            body = with_names(rendered.json, shown)
    if body is None:
        body = await run_in_threadpool(in_thread)
    # Rendered once per version of the read models and audience (``ReadModels.diary_json``);
    # what ``response_model`` documents, validated when it was rendered; the names joined now.
    return Response(body, media_type="application/json")


def _diary_names(names: Names, role: Role, rendered: RenderedDiary) -> dict[UUID, str]:
    return names.display(rendered.people) if shows_names(role) else {}


def _diary_days(
    ledger: Ledger, school_id: UUID, start: date | None, end: date | None
) -> tuple[date, date]:
    """The days asked for; by default the week of today in the school's time zone."""
    if start is None or end is None:
        zone = c.school_zone(ledger, school_id)
        if start is None:
            anchor = end or ledger.clock().astimezone(zone).date()
            start = anchor - timedelta(days=anchor.weekday())
        if end is None:
            end = start + timedelta(days=6)
    return start, end


def _in_the_database() -> UUID | None:
    raise NotInMemory("the read models")


def class_of_student(
    ledger: Ledger,
    reads: ReadModels,
    school_id: UUID,
    year_start: int,
    student_id: UUID,
    named: UUID | None,
) -> UUID | None:
    """The student's class that year: the named one, if the ledger has the student in it, else
    what the read models know."""
    if named is not None:
        school_class = ledger.find(named, SchoolClass)
        if (
            school_class is not None
            and school_class.school_id == school_id
            and school_class.year_start == year_start
            and student_id in school_class.members.stints
        ):
            return named
    return reads.student_class(school_id, year_start, student_id)


@router.get(
    "/classes/{class_id}/summary-sheet",
    response_model=SummarySheetOut,
    summary="The class's summary sheet of attestation (сводная ведомость, п. 2.9)",
)
def summary_sheet(
    class_id: UUID,
    caller: CurrentCaller,
    ledger: LedgerDep,
    reads: ReadsDep,
    log: AccessLogDep,
    names: NamesDep,
    period: Annotated[
        Name | None, Query(description="Only this period's column (I четверть …)")
    ] = None,
) -> SummarySheetOut:
    school_class = load_class(ledger, class_id)
    role = class_reader(caller, school_class)
    log.record(
        caller,
        role,
        Access.SUMMARY_SHEET,
        [class_id],
        school_id=school_class.school_id,
        now=ledger.clock(),
    )
    sheet = reads.summary_sheet(class_id, period)
    sheet.names = joined(names, ledger, role, summary_people(sheet))
    sheet.rows = class_order(sheet.rows, sheet.names, lambda row: row.student_id)
    return sheet


@router.get(
    "/schools/{school_id}/years/{year_start}/monitor",
    response_model=MonitorOut,
    summary="The monitor of journal keeping (п. 2.2, 2.5–2.8): the whole school (administration), "
    "one class (also its class teacher) or one teacher (also that teacher)",
)
def monitor(
    school_id: UUID,
    year_start: YearStart,
    caller: CurrentCaller,
    ledger: LedgerDep,
    reads: ReadsDep,
    log: AccessLogDep,
    names: NamesDep,
    class_id: UUID | None = None,
    teacher_id: UUID | None = None,
) -> MonitorOut:
    # The monitor reads one school's year only (its queries are kept to it); a class or a
    # teacher named must be that school year's.
    if class_id is not None:
        school_class = load_class(ledger, class_id)
        if school_class.school_id != school_id or school_class.year_start != year_start:
            raise refuse("class.not_found")
        role = class_reader(caller, school_class)
    elif teacher_id is not None:
        role = teacher_reader(
            caller,
            school_id,
            teacher_id,
            lambda: reads.teaches_in(school_id, year_start, teacher_id),
        )
    else:
        role = school_reader(caller, school_id)
    found = reads.monitor(school_id, year_start, teacher_id=teacher_id, class_id=class_id)
    # A flag about a student's mark is that child's data (п. 1.7): logged before it is returned.
    students = list(dict.fromkeys(f.student_id for f in found.flags if f.student_id is not None))
    log.record(caller, role, Access.MONITOR, students, school_id=school_id, now=ledger.clock())
    found.names = joined(names, ledger, role, monitor_people(found))
    return found
