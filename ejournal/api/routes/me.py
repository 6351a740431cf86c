"""The way in (п. 2.1–2.4, 1.6): ``GET /me``, the caller and what each of their roles reaches,
and ``GET /me/lessons``, a teacher's lessons of a day or a week with how far each one's journal
is kept. A client that knows only a login and a password finds every ID its work needs here and
in the lists (``routes.lists``).

``GET /me`` extends ``GET /auth/me`` (the same account and session fields, first): ``/auth/me``
stays the cheap check of a session, read from the ledger alone; ``/me`` adds the read models.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query

from ejournal.api.deps import AccessLogDep, CurrentCaller, NamesDep, ServicesDep
from ejournal.api.errors import problem_responses
from ejournal.api.names import NAMED_ROLES, People, joined
from ejournal.api.policy import teaching_schools
from ejournal.api.routes.auth import me as account
from ejournal.api.schemas.me import (
    ChildOut,
    ClassRefOut,
    HomeOut,
    LessonsQuery,
    LessonStateOut,
    MyLessonsOut,
    MySchoolOut,
    MyYearOut,
    TeachingOut,
)
from ejournal.api.threads import OneTripRoute
from ejournal.commands.errors import refuse
from ejournal.identity.access_log import Access, AccessLog
from ejournal.identity.authenticator import Caller
from ejournal.ledger.actor import Role
from ejournal.ledger.domain.school import DEFAULT_TIME_ZONE
from ejournal.projections.reach import SchoolReach, YearReach

router = APIRouter(route_class=OneTripRoute, tags=["me"])

MAX_DAYS = 62
"""The longest span of ``GET /me/lessons``, as of a diary: two months."""


def _roles(caller: Caller) -> dict[UUID, frozenset[Role]]:
    """School → the roles the caller holds there (deployment-wide roles reach no school)."""
    held: dict[UUID, set[Role]] = defaultdict(set)
    for grant in caller.actor.grants:
        if grant.school_id is not None:
            held[grant.school_id].add(grant.role)
    return {school: frozenset(roles) for school, roles in held.items()}


def _today(now: datetime, zone: str) -> date:
    return now.astimezone(ZoneInfo(zone)).date()


@router.get(
    "/me",
    response_model=HomeOut,
    summary="The caller's account and session, and in each school they hold a role in, every "
    "year with what each role reaches: a teacher's assignments, a class teacher's classes, a "
    "parent's children with their class, a pupil's own class (each pupil named is logged)",
    responses=problem_responses(401, 403, 503),
)
def home(
    caller: CurrentCaller, services: ServicesDep, log: AccessLogDep, names: NamesDep
) -> HomeOut:
    ledger = services.ledger
    now = ledger.clock()
    roles = _roles(caller)
    schools = services.reach().schools(caller.person_id, roles)
    _log_pupils(log, caller, schools, now)
    # Names for a person of a school (auditors, support and system administrators get IDs).
    named = sorted(set().union(*roles.values()) & NAMED_ROLES)
    shown = joined(names, ledger, named[0], _people(caller, schools)) if named else {}
    return HomeOut(
        **account(caller).model_dump(),
        schools=[_school_out(school, _today(now, school.time_zone)) for school in schools],
        names=shown,
    )


def _people(caller: Caller, schools: list[SchoolReach]) -> People:
    """The caller, and the pupils the page names."""
    people = People()
    for school in schools:
        for year in school.years:
            if year.own_class is not None:
                people.pupil(caller.person_id)
            for child in year.children:
                people.pupil(child.student_id)
            for teaching in year.teaching:
                people.pupil(teaching.student_id)
    people.adult(caller.person_id)
    return people


def _log_pupils(log: AccessLog, caller: Caller, schools: list[SchoolReach], now: datetime) -> None:
    """The pupils the page names are children's data (п. 1.7): each is logged, under the school
    whose records name them and the role that reached them, before the page is returned."""
    for school in schools:
        named: dict[Role, list[UUID]] = defaultdict(list)
        for year in school.years:
            named[Role.PARENT] += [child.student_id for child in year.children]
            named[Role.TEACHER] += [t.student_id for t in year.teaching if t.student_id is not None]
            if year.own_class is not None:
                named[Role.STUDENT].append(caller.person_id)
        for role, pupils in named.items():
            unique = list(dict.fromkeys(pupils))
            log.record(caller, role, Access.ME, unique, school_id=school.school_id, now=now)


def _school_out(school: SchoolReach, today: date) -> MySchoolOut:
    return MySchoolOut(
        school_id=school.school_id,
        name=school.name,
        time_zone=school.time_zone,
        roles=sorted(school.roles),
        years=[_year_out(year, today) for year in school.years],
    )


def _year_out(reach: YearReach, today: date) -> MyYearOut:
    year = reach.year
    return MyYearOut(
        year_start=year.year_start,
        starts_on=year.starts_on,
        ends_on=year.ends_on,
        closed=year.closed,
        current=year.starts_on <= today <= year.ends_on,
        teaching=[TeachingOut.model_validate(t) for t in reach.teaching],
        class_teacher_of=[ClassRefOut.model_validate(k) for k in reach.class_teacher_of],
        children=[ChildOut.model_validate(child) for child in reach.children],
        own_class=None if reach.own_class is None else ClassRefOut.model_validate(reach.own_class),
    )


@router.get(
    "/me/lessons",
    response_model=MyLessonsOut,
    summary="The caller's lessons as a teacher, from `from` to `to` (by default today in the "
    "school's time zone; at most 62 days), each with its state: topic set, register taken, "
    "homework given, number of marks; the lessons the caller takes as a substitute too, and "
    "cancelled ones marked",
    responses=problem_responses(401, 403, 422, 503),
)
def my_lessons(
    query: Annotated[LessonsQuery, Query()],
    caller: CurrentCaller,
    services: ServicesDep,
    names: NamesDep,
) -> MyLessonsOut:
    ledger = services.ledger
    schools = sorted(teaching_schools(caller))
    reach = services.reach()
    first, last = query.start, query.end
    if first is None and last is None:
        # Today in each school's time zone: a teacher of two zones sees both todays.
        zones = reach.time_zones(schools)
        days = [_today(ledger.clock(), zones.get(s, DEFAULT_TIME_ZONE)) for s in schools]
        first, last = min(days), max(days)
    first = first or last
    last = last or first
    assert first is not None and last is not None
    if not 0 <= (last - first).days <= MAX_DAYS - 1:
        raise refuse("period.invalid", detail=f"от 1 до {MAX_DAYS} дней, «from» не позже «to»")
    found = reach.lessons(caller.person_id, schools, first, last)
    replaced = People()
    for lesson in found:
        replaced.adult(lesson.substitute_for)
    return MyLessonsOut(
        starts_on=first,
        ends_on=last,
        lessons=[LessonStateOut.model_validate(x) for x in found],
        names=joined(names, ledger, Role.TEACHER, replaced),
    )
