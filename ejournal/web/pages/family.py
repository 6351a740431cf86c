"""The family's pages (п. 1.5, 1.6): a pupil's diary of the week, their marks subject by subject,
the diary's certified printout, and the parents' e-mail digest.

Every read goes through the API's own route functions: they check the reader's right
(``policy.diary_reader``: the pupil, a linked parent, the class teacher, the administration),
file the read in the access log (п. 1.7) and return what is drawn here. A parent who edits the
URL to another child's diary is refused there, before anything of that child is read or logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any
from uuid import UUID

import orjson
from fastapi import APIRouter, Query, Request
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ejournal import commands as c
from ejournal.api.bootstrap import Services
from ejournal.api.deps import AccessLogDep, LedgerDep, NamesDep, ReadsDep, ServicesDep
from ejournal.api.routes.marks import student_marks
from ejournal.api.routes.me import home as home_read
from ejournal.api.routes.printouts import diary_printout
from ejournal.api.routes.reads import diary as diary_read
from ejournal.api.schemas.common import SchoolDate, YearStart
from ejournal.api.schemas.marks import PeriodMarksOut, StudentMarksOut
from ejournal.api.schemas.me import HomeOut
from ejournal.identity.authenticator import Caller
from ejournal.identity.names import Names
from ejournal.ledger.actor import Role
from ejournal.ledger.errors import NotInMemory
from ejournal.web.access import PageCaller, PageRoute
from ejournal.web.frame import frame
from ejournal.web.recent import Recent
from ejournal.web.render import PAGE_HEADERS, environment, render

router = APIRouter(route_class=PageRoute)

WEEKS: Recent[tuple[bytes, date], Markup] = Recent(size=256)
"""The weeks drawn lately, by the diary's JSON and today: the busiest page draws each week once
per version of it."""
PAGES: Recent[tuple[UUID, bytes, date], bytes] = Recent(size=1024, seconds=60)
"""Whole pages drawn lately, by session, the diary's JSON and today: a parent who opens the
week again is served it as drawn, for a minute at most (as the frame's name and the children
are)."""
SWITCHERS: Recent[tuple[UUID, UUID], list[Diary]] = Recent(size=4096, seconds=60)
"""A parent's children in a school, by session, for a minute: ``GET /me`` (a query of the read
models, the children's names from the vault and their logging) once a minute, not each page."""

Week = Annotated[SchoolDate | None, Query(description="A day of the week shown")]

ATTENDANCE = {
    "Н": "отсутствовал(а)",
    "Б": "болезнь",
    "П": "уважительная причина",
    "ОП": "опоздание",
}
"""The register's codes (п. 2.5) as a parent reads them next to the code."""


@dataclass(frozen=True, slots=True)
class Diary:
    """A diary the caller may open: a child of theirs, or their own."""

    school_id: UUID
    year_start: int
    student_id: UUID
    name: str
    class_name: str

    @property
    def href(self) -> str:
        return f"/diary/{self.school_id}/{self.year_start}/{self.student_id}"

    @property
    def label(self) -> str:
        return f"{self.name}, {self.class_name}" if self.class_name else self.name


def diaries(found: HomeOut, caller: Caller) -> list[Diary]:
    """The diaries of ``GET /me``: each child's and the pupil's own, of the current school year
    (or of the latest one, between years)."""
    shown: list[Diary] = []
    for school in found.schools:
        years = [y for y in school.years if y.children or y.own_class is not None]
        if not years:
            continue
        year = next((y for y in years if y.current), years[-1])
        for child in year.children:
            name = found.names.get(child.student_id, "Ребёнок")
            klass = child.school_class.name if child.school_class is not None else ""
            shown.append(Diary(school.school_id, year.year_start, child.student_id, name, klass))
        if year.own_class is not None:
            name = found.names.get(caller.person_id, "Мой дневник")
            shown.append(
                Diary(
                    school.school_id,
                    year.year_start,
                    caller.person_id,
                    name,
                    year.own_class.name,
                )
            )
    return shown


@router.get("/diary")
def diary_home(
    request: Request,
    caller: PageCaller,
    services: ServicesDep,
    ledger: LedgerDep,
    log: AccessLogDep,
    names: NamesDep,
) -> Response:
    """The diary of the caller's only child (or their own); a choice when there are several."""
    found = diaries(home_read(caller, services, log, names), caller)
    if len(found) == 1:
        return RedirectResponse(found[0].href, status_code=303)
    page = frame(request, caller, services, diaries=found)
    return render(request, "family/choose.html", page)


# --- the diary of the week ----------------------------------------------------------------------


@router.get("/diary/{school_id}/{year_start}/{student_id}")
async def diary_page(
    request: Request,
    school_id: UUID,
    year_start: YearStart,
    student_id: UUID,
    caller: PageCaller,
    services: ServicesDep,
    week: Week = None,
) -> Response:
    start = None if week is None else week - timedelta(days=week.weekday())
    end = None if start is None else start + timedelta(days=6)
    # The API's read: the right checked, the read logged, the family's view (current marks).
    answer = await diary_read(school_id, year_start, student_id, caller, services, start, end)
    body = bytes(answer.body)
    # Most often the week is drawn already and the frame's name and children are held: then
    # the page is drawn here, on the event loop, for a thread trip's worth less (ADR 0014).
    try:
        with services.ledger.memory_only():
            return _diary_page(
                request, caller, services, school_id, year_start, body, memory_only=True
            )
    except NotInMemory:
        return await run_in_threadpool(
            _diary_page, request, caller, services, school_id, year_start, body
        )


def _diary_page(
    request: Request,
    caller: Caller,
    services: Services,
    school_id: UUID,
    year_start: int,
    body: bytes,
    *,
    memory_only: bool = False,
) -> Response:
    """The page around the diary's JSON ``body``. With ``memory_only``, whatever is not held in
    memory (the week not drawn yet, a name, the children) raises ``NotInMemory``."""
    today = services.ledger.clock().astimezone(c.school_zone(services.ledger, school_id)).date()
    drawn = PAGES.get((caller.session_id, body, today))
    if drawn is not None:
        return HTMLResponse(drawn, headers=PAGE_HEADERS)
    shown = orjson.loads(body)
    names: dict[str, str] = shown["names"]
    monday = date.fromisoformat(shown["starts_on"])
    student_id = UUID(shown["student_id"])
    this_monday = today - timedelta(days=today.weekday())
    base = f"/diary/{school_id}/{year_start}/{student_id}"
    week = WEEKS.get((body, today))
    if week is None:
        if memory_only:
            raise NotInMemory("the week")
        # Drawn once per version of the diary (the API renders its JSON once per version too):
        # the same bytes, read by a caller the API has just let read them, draw the same week.
        context = {"days": _days(shown["days"], today), "names": names, "attendance": ATTENDANCE}
        week = Markup(environment().get_template("family/week.html").render(context))
        WEEKS.put((body, today), week)
    page = frame(
        request,
        caller,
        services,
        memory_only=memory_only,
        student_name=names.get(str(student_id), "Ученик"),
        week=week,
        monday=monday,
        sunday=monday + timedelta(days=6),
        is_this_week=monday == this_monday,
        base=base,
        previous_week=f"{base}?week={monday - timedelta(days=7)}",
        next_week=f"{base}?week={monday + timedelta(days=7)}",
        this_week=base,
        printout=f"{base}/printout?week={monday}",
        switcher=_switcher(caller, services, school_id, student_id, memory_only=memory_only),
        switch_to="diary",
        switch_query="" if monday == this_monday else f"?week={monday}",
        tab="diary",
        **_tabs(caller, school_id, year_start, student_id),
    )
    response = render(request, "family/diary.html", page)
    PAGES.put((caller.session_id, body, today), bytes(response.body))
    return response


def _tabs(caller: Caller, school_id: UUID, year_start: int, student_id: UUID) -> dict[str, Any]:
    """What the tabs of a pupil's pages link to (``family/tabs.html``)."""
    return {
        "diary_href": f"/diary/{school_id}/{year_start}/{student_id}",
        "marks_href": f"/marks/{school_id}/{year_start}/{student_id}",
        "shown_student": student_id,
        "subscribes": caller.holds(Role.PARENT, school_id) and caller.person_id != student_id,
    }


def _days(days: list[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """The days to draw: Monday to Friday always, a weekend day only with lessons or messages;
    dates as dates, times as ЧЧ:ММ."""
    drawn = []
    for day in days:
        on = date.fromisoformat(day["on"])
        if on.weekday() >= 5 and not day["lessons"] and not day["messages"]:
            continue
        for entry in day["lessons"]:
            lesson = entry["lesson"]
            lesson["starts_at"] = lesson["starts_at"][:5]
            lesson["ends_at"] = lesson["ends_at"][:5]
            homework = lesson.get("homework")
            if homework and homework.get("due_on"):
                homework["due_on"] = date.fromisoformat(homework["due_on"])
        drawn.append({**day, "on": on, "today": on == today})
    return drawn


def _switcher(
    caller: Caller,
    services: Services,
    school_id: UUID,
    student_id: UUID,
    *,
    memory_only: bool = False,
) -> list[Diary]:
    """A parent's children of that school, for the switcher (only asked of a parent: a pupil
    has one diary). ``GET /me`` names and logs them."""
    if not caller.holds(Role.PARENT, school_id):
        return []
    key = (caller.session_id, school_id)
    known = SWITCHERS.get(key)
    if known is None:
        if memory_only:
            raise NotInMemory("the children")
        found = home_read(caller, services, services.access_log, Names(services.vault))
        known = [d for d in diaries(found, caller) if d.school_id == school_id]
        SWITCHERS.put(key, known)
    return known


@router.get("/diary/{school_id}/{year_start}/{student_id}/printout")
def diary_printout_page(
    school_id: UUID,
    year_start: YearStart,
    student_id: UUID,
    caller: PageCaller,
    ledger: LedgerDep,
    reads: ReadsDep,
    log: AccessLogDep,
    services: ServicesDep,
    week: Week = None,
) -> Response:
    """The week's diary as the certified PDF (п. 1.6), in the browser's session."""
    return diary_printout(
        school_id, year_start, student_id, caller, ledger, reads, log, services, week, None
    )


# --- marks by subject ---------------------------------------------------------------------------


@router.get("/marks/{school_id}/{year_start}/{student_id}")
def marks_page(
    request: Request,
    school_id: UUID,
    year_start: YearStart,
    student_id: UUID,
    caller: PageCaller,
    services: ServicesDep,
    ledger: LedgerDep,
    reads: ReadsDep,
    log: AccessLogDep,
    names: NamesDep,
    period: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    found = student_marks(school_id, year_start, student_id, caller, ledger, reads, log, names)
    today = ledger.clock().astimezone(c.school_zone(ledger, school_id)).date()
    chosen = _chosen_period(found, period, today)
    rows = [
        (subject, next((p for p in subject.periods if p.period == chosen), None))
        for subject in found.subjects
    ]
    page = frame(
        request,
        caller,
        services,
        found=found,
        student_name=found.names.get(student_id, "Ученик"),
        chosen=chosen,
        rows=rows,
        base=f"/marks/{school_id}/{year_start}/{student_id}",
        attendance=ATTENDANCE,
        switcher=_switcher(caller, services, school_id, student_id),
        switch_to="marks",
        tab="marks",
        **_tabs(caller, school_id, year_start, student_id),
        average=_average,
    )
    return render(request, "family/marks.html", page)


def _chosen_period(found: StudentMarksOut, asked: str | None, today: date) -> str | None:
    """The period asked for; by default today's, or the last one begun, or the first."""
    known = [p.name for p in found.periods]
    if asked in known:
        return asked
    begun = [p for p in found.periods if p.starts_on <= today]
    current = [p for p in begun if today <= p.ends_on]
    if current:
        return current[0].name
    if begun:
        return begun[-1].name
    return known[0] if known else None


def _average(period: PeriodMarksOut | None) -> str:
    """The weighted average as a journal writes it (4,35), or a dash when there is none."""
    if period is None or period.average.value is None:
        return "—"
    return str(period.average.value).replace(".", ",")
