"""The lists a client finds its way by, once ``GET /me`` has named its schools and years: a school
year's classes, teachers, subjects, work types and periods, and a roster's pupils on a day
(п. 2.2–2.6).

Each is checked by ``api.policy`` first. The set-up lists name no child (the staff's names, in
the classes and teachers lists, are the staff's to read); a roster's pupils are children's data
(п. 1.7), so each pupil of the page is logged in the access log, under the roster's school,
before the page is returned. Paging: ``api.schemas.paging``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from starlette.datastructures import URL

from ejournal import commands as c
from ejournal.api.deps import AccessLogDep, CurrentCaller, LedgerDep, NamesDep
from ejournal.api.errors import problem_responses
from ejournal.api.names import People, class_order, joined
from ejournal.api.policy import EVERY_ROLE, STAFF, roster_pupils_reader, year_list_reader
from ejournal.api.schemas.common import YearStart
from ejournal.api.schemas.lists import (
    ClassesOut,
    ClassesQuery,
    PeriodsOut,
    PeriodsQuery,
    PupilsOut,
    PupilsQuery,
    SubjectsOut,
    TeachersOut,
    WorkTypesOut,
)
from ejournal.api.schemas.paging import ListQuery
from ejournal.api.threads import OneTripRoute
from ejournal.commands.errors import refuse
from ejournal.identity.access_log import Access
from ejournal.identity.authenticator import Caller
from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import SchoolYear
from ejournal.projections.lists import Lists

router = APIRouter(
    route_class=OneTripRoute, tags=["lists"], responses=problem_responses(401, 403, 404, 422, 503)
)

YEAR = "/schools/{school_id}/years/{year_start}"


def page_fields(items: Sequence[Any], query: ListQuery, url: URL) -> dict[str, Any]:
    """The page ``query`` asks of ``items`` (the whole list, in its order), with the link to the
    next page: the request's own path and query with the next offset."""
    end = query.offset + query.limit
    following = None
    if end < len(items):
        after = url.include_query_params(offset=end, limit=query.limit)
        following = f"{after.path}?{after.query}"
    return {
        "items": list(items[query.offset : end]),
        "total": len(items),
        "limit": query.limit,
        "offset": query.offset,
        "next": following,
    }


def _year(
    ledger: Ledger, caller: Caller, school_id: UUID, year_start: int, roles: frozenset[Role]
) -> Role:
    """The role under which the caller reads a list of the school year: who may, before whether
    the year exists (another school's years are not this caller's to probe)."""
    role = year_list_reader(caller, school_id, roles)
    year_id = SchoolYear.create_id(school_id=school_id, year_start=year_start)
    if ledger.find(year_id, SchoolYear) is None:
        raise refuse("year.not_found", year=f"{year_start}/{year_start + 1}")
    return role


@router.get(
    YEAR + "/classes",
    response_model=ClassesOut,
    summary="The school year's classes, each with its groups (the staff; auditors)",
)
def classes(
    school_id: UUID,
    year_start: YearStart,
    query: Annotated[ClassesQuery, Query()],
    request: Request,
    caller: CurrentCaller,
    ledger: LedgerDep,
    names: NamesDep,
) -> ClassesOut:
    role = _year(ledger, caller, school_id, year_start, STAFF)
    found = Lists(ledger.database).classes(school_id, year_start, query.grade)
    page = ClassesOut.model_validate(page_fields(found, query, request.url))
    teachers = People()
    for school_class in page.items:
        teachers.adult(school_class.class_teacher_id)
    page.names = joined(names, ledger, role, teachers)
    return page


@router.get(
    YEAR + "/teachers",
    response_model=TeachersOut,
    summary="The school year's teachers, each with what they teach and the classes they lead "
    "(the staff; auditors without names)",
)
def teachers(
    school_id: UUID,
    year_start: YearStart,
    query: Annotated[ListQuery, Query()],
    request: Request,
    caller: CurrentCaller,
    ledger: LedgerDep,
    names: NamesDep,
) -> TeachersOut:
    # The administration finds here whose monitor to read (п. 2.2), a teacher their colleagues.
    role = _year(ledger, caller, school_id, year_start, STAFF)
    found = Lists(ledger.database).teachers(school_id, year_start)
    everyone = People()
    for teacher in found:
        everyone.adult(teacher.teacher_id)
    named = joined(names, ledger, role, everyone)
    ordered = class_order(found, named, lambda t: t.teacher_id)
    page = TeachersOut.model_validate(page_fields(ordered, query, request.url))
    shown = {t.teacher_id for t in page.items}
    page.names = {person: name for person, name in named.items() if person in shown}
    return page


@router.get(
    YEAR + "/subjects",
    response_model=SubjectsOut,
    summary="The school year's subjects (everyone of the school; auditors)",
)
def subjects(
    school_id: UUID,
    year_start: YearStart,
    query: Annotated[ListQuery, Query()],
    request: Request,
    caller: CurrentCaller,
    ledger: LedgerDep,
) -> SubjectsOut:
    _year(ledger, caller, school_id, year_start, EVERY_ROLE)
    found = Lists(ledger.database).subjects(school_id, year_start)
    return SubjectsOut.model_validate(page_fields(found, query, request.url))


@router.get(
    YEAR + "/work-types",
    response_model=WorkTypesOut,
    summary="The school year's types of work with their weights (п. 2.6; everyone of the "
    "school; auditors)",
)
def work_types(
    school_id: UUID,
    year_start: YearStart,
    query: Annotated[ListQuery, Query()],
    request: Request,
    caller: CurrentCaller,
    ledger: LedgerDep,
) -> WorkTypesOut:
    _year(ledger, caller, school_id, year_start, EVERY_ROLE)
    found = Lists(ledger.database).work_types(school_id, year_start)
    return WorkTypesOut.model_validate(page_fields(found, query, request.url))


@router.get(
    YEAR + "/periods",
    response_model=PeriodsOut,
    summary="The school year's reporting periods, of every scheme or of one (everyone of the "
    "school; auditors)",
)
def periods(
    school_id: UUID,
    year_start: YearStart,
    query: Annotated[PeriodsQuery, Query()],
    request: Request,
    caller: CurrentCaller,
    ledger: LedgerDep,
) -> PeriodsOut:
    _year(ledger, caller, school_id, year_start, EVERY_ROLE)
    scheme = None if query.scheme is None else query.scheme.value
    found = Lists(ledger.database).periods(school_id, year_start, scheme)
    return PeriodsOut.model_validate(page_fields(found, query, request.url))


@router.get(
    "/rosters/{roster_id}/students",
    response_model=PupilsOut,
    summary="The pupils of a class, group or individual curriculum on a day, with their stints "
    "(administration, the roster's teachers, the class teacher; each pupil listed is logged)",
)
def roster_students(
    roster_id: UUID,
    query: Annotated[PupilsQuery, Query()],
    request: Request,
    caller: CurrentCaller,
    ledger: LedgerDep,
    log: AccessLogDep,
    names: NamesDep,
) -> PupilsOut:
    roster = c.load_roster(ledger, roster_id)
    lists = Lists(ledger.database)
    role = roster_pupils_reader(
        ledger, caller, roster, lambda: lists.teaches_roster(roster_id, caller.person_id)
    )
    on = query.on or today_in_year(ledger, roster.school_id, roster.year_start)
    found = lists.pupils(roster_id, on)
    # In the order of a class list, by name, for a reader who sees names: the whole roster (a
    # class at most) is named to be ordered, the page shows and logs only its own pupils.
    everyone = People()
    for pupil in found:
        everyone.pupil(pupil.student_id)
    named = joined(names, ledger, role, everyone)
    page = page_fields(class_order(found, named, lambda p: p.student_id), query, request.url)
    # Children's data (п. 1.7): each pupil shown is logged, under the roster's school, first.
    shown = [pupil.student_id for pupil in page["items"]]
    log.record(caller, role, Access.ROSTER, shown, school_id=roster.school_id, now=ledger.clock())
    on_page = {student_id: named[student_id] for student_id in shown if student_id in named}
    return PupilsOut.model_validate({**page, "roster_id": roster_id, "on": on, "names": on_page})


def today_in_year(ledger: Ledger, school_id: UUID, year_start: int) -> date:
    """Today in the school's time zone, or the year's nearer end if today is not one of its
    days (a year that is over, or to come)."""
    today = ledger.clock().astimezone(c.school_zone(ledger, school_id)).date()
    year = ledger.find(SchoolYear.create_id(school_id=school_id, year_start=year_start), SchoolYear)
    if year is None:
        return today
    return min(max(today, year.days.starts_on), year.days.ends_on)
