"""A teacher's day (п. 2.5–2.7): the lessons of a day from the timetable with what each still
lacks, and the monitor's findings about the teacher's journal keeping (п. 2.2). Read through
``GET /me/lessons`` and the teacher's monitor (``api.routes.reads.monitor``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from ejournal.api.deps import ServicesDep
from ejournal.api.routes.me import my_lessons
from ejournal.api.routes.reads import monitor
from ejournal.api.schemas.me import LessonsQuery
from ejournal.api.schemas.reads import FlagOut
from ejournal.commands import school_zone
from ejournal.identity.authenticator import Caller
from ejournal.identity.names import Names
from ejournal.ledger.actor import Role
from ejournal.projections.reach import YearReach
from ejournal.web.access import PageCaller, PageRoute
from ejournal.web.frame import frame
from ejournal.web.render import render

router = APIRouter(route_class=PageRoute)


@dataclass(frozen=True, slots=True)
class SchoolFlags:
    """The monitor's findings of the teacher in one school's year, with the names they need."""

    school: str
    flags: list[FlagOut]
    classes: dict[UUID, str]
    subjects: dict[UUID, str]
    names: dict[UUID, str]


def _day(asked: str | None) -> date | None:
    try:
        return date.fromisoformat(asked) if asked else None
    except ValueError:
        return None


def _teaching_years(
    caller: Caller, services: ServicesDep, today: date
) -> list[tuple[str, YearReach]]:
    """The school years the caller teaches in on ``today``: whose monitor the day shows."""
    schools = {
        grant.school_id: frozenset({Role.TEACHER})
        for grant in caller.actor.grants
        if grant.role is Role.TEACHER and grant.school_id is not None
    }
    found = []
    for school in services.reach().schools(caller.person_id, schools):
        for year in school.years:
            if year.year.starts_on <= today <= year.year.ends_on and year.teaching:
                found.append((school.name, year))
    return found


def _flags(caller: Caller, services: ServicesDep, today: date) -> list[SchoolFlags]:
    found = []
    for school_name, reach in _teaching_years(caller, services, today):
        cell = services.for_year(reach.year.school_id, reach.year.year_start)
        read = monitor(
            reach.year.school_id,
            reach.year.year_start,
            caller,
            cell.ledger,
            cell.reads,
            services.access_log,
            Names(services.vault),
            teacher_id=caller.person_id,
        )
        classes = {t.school_class.class_id: t.school_class.name for t in reach.teaching}
        subjects = {t.subject_id: t.subject for t in reach.teaching}
        found.append(SchoolFlags(school_name, read.flags, classes, subjects, read.names))
    return found


@router.get("/day")
def my_day(request: Request, caller: PageCaller, services: ServicesDep) -> Response:
    asked = _day(request.query_params.get("date"))
    query = LessonsQuery.model_validate({} if asked is None else {"from": asked})
    lessons = my_lessons(query, caller, services, Names(services.vault))
    day = lessons.starts_on
    zone = school_zone(services.ledger, lessons.lessons[0].school_id if lessons.lessons else None)
    now = services.ledger.clock().astimezone(zone).replace(tzinfo=None)
    page = frame(
        request,
        caller,
        services,
        day=day,
        today=asked is None,
        previous=day - timedelta(days=1),
        following=day + timedelta(days=1),
        lessons=lessons.lessons,
        now=now,
        names=lessons.names,
        monitors=_flags(caller, services, day),
    )
    return render(request, "teacher/day.html", page)
