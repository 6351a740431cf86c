"""The class journal of a roster's subject for a reporting period (п. 2.3–2.8): pupils × lessons
with marks and absences, each pupil's weighted average of the period, the period mark where the
reader may see the class's summary sheet, the lessons' topics and homework, and the history of
every corrected or cancelled mark (п. 1.4).

Read through ``api.routes.reads.class_journal`` (its policy: the subject teacher, the class
teacher read-only, the administration; the read logged). The API serves at most 62 days a read;
a longer period (a third quarter) is read in parts and joined."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.responses import Response

from ejournal import commands as c
from ejournal.api.bootstrap import Services
from ejournal.api.deps import ServicesDep
from ejournal.api.errors import ApiError
from ejournal.api.names import class_order
from ejournal.api.policy import class_of
from ejournal.api.routes.reads import MAX_DAYS, class_journal, summary_sheet
from ejournal.api.schemas.reads import CellOut, ClassJournalOut, JournalRowOut, MarkOut
from ejournal.commands.errors import CommandError, refuse
from ejournal.identity.authenticator import Caller
from ejournal.identity.names import Names
from ejournal.ledger.actor import ADMINISTRATION, Role
from ejournal.ledger.application import Ledger
from ejournal.projections.lists import Lists, PeriodEntry
from ejournal.projections.views import Average
from ejournal.web.access import PageCaller, PageRoute
from ejournal.web.frame import frame
from ejournal.web.render import render

router = APIRouter(route_class=PageRoute)


@dataclass(frozen=True, slots=True)
class Row:
    student_id: UUID
    name: str
    cells: list[CellOut]
    average: Decimal | None
    period_mark: str | None


def pick_period(periods: list[PeriodEntry], asked: str | None, today: date) -> PeriodEntry | None:
    """The period asked for by name, else the one of today, else the nearest one before today."""
    if not periods:
        return None
    for period in periods:
        if period.name == asked:
            return period
    for period in periods:
        if period.starts_on <= today <= period.ends_on:
            return period
    past = [p for p in periods if p.starts_on <= today]
    return past[-1] if past else periods[0]


def held_days(period: PeriodEntry, today: date) -> tuple[date, date]:
    """The days of the period up to today: the timetable plans lessons ahead, and a journal
    shows those held (a period to come: its first day)."""
    return period.starts_on, max(period.starts_on, min(period.ends_on, today))


def read_journal(
    caller: Caller, services: Services, roster_id: UUID, subject_id: UUID, first: date, last: date
) -> ClassJournalOut:
    """The class journal from ``first`` to ``last``, in reads of at most ``MAX_DAYS`` joined."""
    names = Names(services.vault)
    parts = []
    start = first
    while start <= last:
        end = min(last, start + timedelta(days=MAX_DAYS - 1))
        parts.append(
            class_journal(
                roster_id,
                subject_id,
                caller,
                services.ledger,
                services.reads,
                services.access_log,
                names,
                start=start,
                end=end,
            )
        )
        start = end + timedelta(days=1)
    return parts[0] if len(parts) == 1 else _joined(parts)


def _joined(parts: list[ClassJournalOut]) -> ClassJournalOut:
    """Parts of one journal, side by side: a pupil absent from a part has empty cells there."""
    cells: dict[UUID, list[CellOut]] = {}
    width = 0
    for part in parts:
        for row in part.rows:
            cells.setdefault(row.student_id, [CellOut(attendance=None, marks=[])] * width)
            cells[row.student_id].extend(row.cells)
        width += len(part.lessons)
        for pupil_cells in cells.values():
            pupil_cells.extend([CellOut(attendance=None, marks=[])] * (width - len(pupil_cells)))
    names = {k: v for part in parts for k, v in part.names.items()}
    rows = [JournalRowOut(student_id=s, cells=row) for s, row in cells.items()]
    return parts[0].model_copy(
        update={
            "ends_on": parts[-1].ends_on,
            "lessons": [lesson for part in parts for lesson in part.lessons],
            "rows": class_order(rows, names, lambda row: row.student_id),
            "names": names,
        }
    )


def average(marks: list[MarkOut], period: str) -> Decimal | None:
    """The weighted average of the current marks, as the summary sheet counts it
    (``projections.views.Average``)."""
    live = [m for m in marks if not m.cancelled]
    weighted = sum((m.weight * m.value for m in live), Decimal(0))
    weights = sum((m.weight for m in live), Decimal(0))
    return Average(period, weighted, weights, len(live)).rounded


def _period_marks(
    caller: Caller, services: Services, class_id: UUID, subject_id: UUID, period: str
) -> dict[UUID, str] | None:
    """Each pupil's period mark in the subject, from the class's summary sheet, for a reader of
    it (the class teacher, the administration); None for the others."""
    roles = {grant.role for grant in caller.actor.grants}
    if not roles & (ADMINISTRATION | {Role.CLASS_TEACHER}):
        return None
    try:
        sheet = summary_sheet(
            class_id,
            caller,
            services.ledger,
            services.reads,
            services.access_log,
            Names(services.vault),
            period=period,
        )
    except (CommandError, ApiError):
        return None  # a class teacher of another class
    if subject_id not in [s.subject_id for s in sheet.subjects]:
        return {}
    column = [s.subject_id for s in sheet.subjects].index(subject_id)
    found = {}
    for row in sheet.rows:
        mark = row.cells[column].periods[0] if row.cells[column].periods else None
        if mark is not None:
            found[row.student_id] = mark.value
    return found


@router.get("/class-journal/{roster_id}/{subject_id}")
def class_journal_page(
    request: Request,
    roster_id: UUID,
    subject_id: UUID,
    caller: PageCaller,
    services: ServicesDep,
) -> Response:
    ledger = services.ledger
    roster = c.load_roster(ledger, roster_id)
    school_class = class_of(ledger, roster)
    periods = Lists(ledger.database).periods(
        roster.school_id, roster.year_start, school_class.period_scheme
    )
    today = ledger.clock().astimezone(c.school_zone(ledger, roster.school_id)).date()
    period = pick_period(periods, request.query_params.get("period"), today)
    if period is None:
        raise refuse("period.invalid", detail="периоды учебного года не заданы")
    first, last = held_days(period, today)
    journal = read_journal(caller, services, roster_id, subject_id, first, last)
    period_marks = _period_marks(caller, services, school_class.id, subject_id, period.name)
    rows = [
        Row(
            row.student_id,
            journal.names.get(row.student_id, "имя не внесено"),
            row.cells,
            average([m for cell in row.cells for m in cell.marks], period.name),
            None if period_marks is None else period_marks.get(row.student_id),
        )
        for row in journal.rows
    ]
    subject = _subject_name(ledger, roster.school_id, roster.year_start, subject_id)
    changed = [
        (row, mark, lesson)
        for row in rows
        for lesson, cell in zip(journal.lessons, row.cells, strict=True)
        for mark in cell.marks
        if mark.history
    ]
    page = frame(
        request,
        caller,
        services,
        roster_name=roster.name,
        class_name=school_class.name,
        class_id=school_class.id,
        subject=subject,
        journal=journal,
        rows=rows,
        periods=periods,
        period=period,
        show_period_marks=period_marks is not None,
        writer=_writes(caller, journal),
        changed=changed,
        names=journal.names,
    )
    return render(request, "teacher/class_journal.html", page)


def _writes(caller: Caller, journal: ClassJournalOut) -> bool:
    """Whether the reader teaches these lessons (links to the lesson pages); a class teacher and
    the administration read only."""
    return any(lesson.teacher_id == caller.person_id for lesson in journal.lessons)


def _subject_name(ledger: Ledger, school_id: UUID, year_start: int, subject_id: UUID) -> str:
    for subject in Lists(ledger.database).subjects(school_id, year_start):
        if subject.subject_id == subject_id:
            return subject.name
    return ""
