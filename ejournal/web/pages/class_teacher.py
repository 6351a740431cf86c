"""The class teacher's page (п. 2.4): the class's journal in every subject, read-only (each
pupil's weighted average and period mark per subject, from the summary sheet, and a link to each
subject's journal), the attendance of the period pupil by pupil, and the parents' e-mail digests
the mail server refused (bounces), to follow up.

Read through ``api.routes.reads.summary_sheet`` (the class teacher and the administration), the
class journals of the class's subjects for the attendance (the same policy, each read logged) and
``api.routes.subscriptions.bounces``."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from ejournal import commands as c
from ejournal.api.deps import ServicesDep
from ejournal.api.errors import ApiError
from ejournal.api.names import People, joined
from ejournal.api.policy import class_reader, load_class
from ejournal.api.routes.reads import summary_sheet
from ejournal.api.routes.subscriptions import BounceOut, bounces, get_outbox
from ejournal.api.schemas.reads import SubjectOut
from ejournal.commands.errors import refuse
from ejournal.identity.authenticator import Caller
from ejournal.identity.names import Names
from ejournal.ledger.domain import SchoolClass
from ejournal.ledger.domain.values import AttendanceCode
from ejournal.projections.lists import Lists
from ejournal.web.access import PageCaller, PageRoute
from ejournal.web.frame import frame
from ejournal.web.pages.journal import held_days, pick_period, read_journal
from ejournal.web.render import render

router = APIRouter(route_class=PageRoute)

CODES = tuple(code.value for code in AttendanceCode)


@dataclass(frozen=True, slots=True)
class SubjectJournal:
    """A subject's journal of the class: the class's own, or a group's."""

    subject_id: UUID
    subject: str
    roster_id: UUID
    roster_name: str


def _journals(
    services: ServicesDep, school_class: SchoolClass, subjects: list[SubjectOut]
) -> list[SubjectJournal]:
    """The journals of the class's subjects: a subject taught in groups has one per group."""
    found = Lists(services.ledger.database).classes(
        school_class.school_id, school_class.year_start, school_class.grade
    )
    groups = next((k.groups for k in found if k.class_id == school_class.id), ())
    journals = []
    for subject in subjects:
        rosters = [(g.group_id, g.name) for g in groups if g.subject_id == subject.subject_id]
        for roster_id, name in rosters or [(school_class.id, school_class.name)]:
            journals.append(SubjectJournal(subject.subject_id, subject.name, roster_id, name))
    return journals


def _attendance(
    caller: Caller, services: ServicesDep, journals: list[SubjectJournal], days: tuple[date, date]
) -> dict[UUID, Counter[str]]:
    """Pupil → the lessons of the period with each register code, over every subject."""
    counts: dict[UUID, Counter[str]] = {}
    for journal in journals:
        read = read_journal(caller, services, journal.roster_id, journal.subject_id, *days)
        for row in read.rows:
            tally = counts.setdefault(row.student_id, Counter())
            tally.update(cell.attendance for cell in row.cells if cell.attendance)
    return counts


def _bounces(caller: Caller, services: ServicesDep, class_id: UUID) -> list[BounceOut] | None:
    """The refused digests; None where the school sends no mail (no SMTP server set up)."""
    try:
        outbox = get_outbox(services)
    except ApiError as unavailable:
        if unavailable.code != "mail.unavailable":
            raise
        return None
    return bounces(class_id, caller, services.ledger, outbox)


@router.get("/class/{class_id}")
def class_page(
    request: Request, class_id: UUID, caller: PageCaller, services: ServicesDep
) -> Response:
    ledger = services.ledger
    school_class = load_class(ledger, class_id)
    role = class_reader(caller, school_class)
    periods = Lists(ledger.database).periods(
        school_class.school_id, school_class.year_start, school_class.period_scheme
    )
    today = ledger.clock().astimezone(c.school_zone(ledger, school_class.school_id)).date()
    period = pick_period(periods, request.query_params.get("period"), today)
    if period is None:
        raise refuse("period.invalid", detail="периоды учебного года не заданы")
    names = Names(services.vault)
    sheet = summary_sheet(
        class_id, caller, ledger, services.reads, services.access_log, names, period=period.name
    )
    journals = _journals(services, school_class, sheet.subjects)
    refused = _bounces(caller, services, class_id)
    people = People()
    for bounce in refused or ():
        people.pupil(bounce.student_id)
        people.adult(bounce.parent_id)
    page = frame(
        request,
        caller,
        services,
        school_class=school_class,
        sheet=sheet,
        periods=periods,
        period=period,
        journals=journals,
        attendance=_attendance(caller, services, journals, held_days(period, today)),
        codes=CODES,
        bounces=refused,
        names={**sheet.names, **joined(names, ledger, role, people)},
    )
    return render(request, "teacher/class.html", page)
