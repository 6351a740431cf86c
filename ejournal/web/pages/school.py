"""The pages of a school's administration (the head and the deputies): the summary sheets of the
classes (п. 2.9) and the monitor of journal keeping with its filters; compromised logins — breach
reports, session invalidation and the re-entry worklist (п. 4.3–4.4); the access log (п. 1.7);
closing the year (п. 2.11) and downloading its archive.

Every read and write goes through the API's route functions: they check ``api.policy``, log the
reads of children's data and return the models these pages render."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from starlette.background import BackgroundTask
from starlette.responses import FileResponse, RedirectResponse, Response

from ejournal.api.bootstrap import Services
from ejournal.api.deps import (
    AccessLogDep,
    AuthDep,
    LedgerDep,
    NamesDep,
    ReadsDep,
    ServicesDep,
)
from ejournal.api.errors import ApiError, status_of
from ejournal.api.policy import load_class, school_reader
from ejournal.api.routes.audit import access_log as access_log_read
from ejournal.api.routes.breach import (
    invalidate_session,
    list_invalidations,
    reentry_worklist,
    report_breach,
)
from ejournal.api.routes.lists import classes as classes_read
from ejournal.api.routes.lists import teachers as teachers_read
from ejournal.api.routes.me import home as home_read
from ejournal.api.routes.printouts import summary_sheet_printout
from ejournal.api.routes.reads import monitor as monitor_read
from ejournal.api.routes.reads import summary_sheet as summary_read
from ejournal.api.routes.setup import close_year as close_year_write
from ejournal.api.schemas.breach import BreachReportIn, SessionInvalidationIn
from ejournal.api.schemas.lists import ClassesOut, ClassesQuery
from ejournal.api.schemas.paging import ListQuery
from ejournal.archive.errors import ArchiveError
from ejournal.commands.errors import ROLE_NAMES, CommandError, refuse
from ejournal.documents.year_close import archive_at_checkpoint
from ejournal.identity.access_log import AccessLog
from ejournal.identity.authenticator import Caller
from ejournal.identity.names import Names
from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import Account, School, SchoolYear
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.logs import school_log_id
from ejournal.projections.lists import Lists
from ejournal.web.access import CheckedForm, PageCaller, PageRoute
from ejournal.web.frame import frame, settle
from ejournal.web.render import render
from ejournal.web.wording import ACCESS_NAMES, EVENT_NAMES, FILED_BY, short_id

router = APIRouter(route_class=PageRoute)

YEAR = "/school/{school_id}/{year_start}"
MOMENT_FORMAT = "%Y-%m-%dT%H:%M"
"""How an <input type="datetime-local"> sends a moment: the school's local time, to the minute."""


@router.get("/school")
def school_start(
    caller: PageCaller, services: ServicesDep, log: AccessLogDep, names: NamesDep
) -> Response:
    """The first school the caller administers, in its current year (or its latest)."""
    found = home_read(caller, services, log, names)
    for school in found.schools:
        if {Role.HEAD, Role.DEPUTY} & set(school.roles) and school.years:
            year = next((y for y in school.years if y.current), school.years[-1])
            return RedirectResponse(f"/school/{school.school_id}/{year.year_start}", 303)
    raise ApiError("access.denied")


def _school(ledger: Ledger, school_id: UUID, year_start: int) -> dict[str, Any]:
    """The school's name and the year's state, for the heading of every page."""
    school = ledger.find(school_id, School)
    year = ledger.find(SchoolYear.create_id(school_id=school_id, year_start=year_start), SchoolYear)
    if school is None or year is None:
        raise refuse("year.not_found", year=f"{year_start}/{year_start + 1}")
    return {
        "school_id": school_id,
        "school_name": school.name,
        "year_start": year_start,
        "year_name": f"{year_start}/{year_start + 1}",
        "year_closed": year.closed,
        "zone": school.time_zone,
    }


def _classes(
    request: Request, caller: Caller, ledger: Ledger, names: Names, sid: UUID, year: int
) -> ClassesOut:
    """The year's classes (their names, for the pages' links, filters and rows)."""
    return classes_read(sid, year, ClassesQuery(limit=500), request, caller, ledger, names)


@router.get(YEAR)
def overview(
    request: Request,
    school_id: UUID,
    year_start: int,
    caller: PageCaller,
    services: ServicesDep,
    ledger: LedgerDep,
    names: NamesDep,
) -> Response:
    role = school_reader(caller, school_id)
    found = _classes(request, caller, ledger, names, school_id, year_start)
    page = frame(
        request,
        caller,
        services,
        **_school(ledger, school_id, year_start),
        classes=found.items,
        names=found.names,
        is_head=role is Role.HEAD,
    )
    return render(request, "school/overview.html", page)


@router.get(YEAR + "/summary/{class_id}")
def summary(
    request: Request,
    school_id: UUID,
    year_start: int,
    class_id: UUID,
    caller: PageCaller,
    services: ServicesDep,
    ledger: LedgerDep,
    reads: ReadsDep,
    log: AccessLogDep,
    names: NamesDep,
) -> Response:
    sheet = summary_read(class_id, caller, ledger, reads, log, names)
    if sheet.school_id != school_id or sheet.year_start != year_start:
        raise refuse("class.not_found")
    # Only the columns the sheet has anything in: the year's, the exams' and the final marks
    # appear in May, a period's once its first mark is given.
    rows = sheet.rows
    finals = [
        kind
        for kind in ("year", "exam", "final")
        if any(getattr(cell, kind) is not None for row in rows for cell in row.cells)
    ]
    school = _school(ledger, school_id, year_start)
    # A period not begun has nothing to show: its column waits for it (a phone's width is
    # better spent on the periods that have marks).
    today = ledger.clock().astimezone(ZoneInfo(school["zone"])).date()
    begun = [(i, p) for i, p in enumerate(sheet.periods) if p.starts_on <= today]
    page = frame(
        request,
        caller,
        services,
        **school,
        sheet=sheet,
        periods=begun or list(enumerate(sheet.periods)),
        finals=finals,
    )
    return render(request, "school/summary.html", page)


@router.get(YEAR + "/summary/{class_id}/printout")
def summary_printout(
    school_id: UUID,
    year_start: int,
    class_id: UUID,
    caller: PageCaller,
    ledger: LedgerDep,
    log: AccessLogDep,
    services: ServicesDep,
) -> Response:
    """The certified summary sheet of the year so far (п. 2.9), in the browser's session."""
    school_class = load_class(ledger, class_id)
    if school_class.school_id != school_id or school_class.year_start != year_start:
        raise refuse("class.not_found")
    return summary_sheet_printout(class_id, caller, ledger, log, services, None)


def _uuid_or_none(text: str) -> UUID | None:
    """A filter's or a choice's value: empty is none («все»); anything but an ID is not found."""
    if not text.strip():
        return None
    try:
        return UUID(text.strip())
    except ValueError:
        raise ApiError("read.not_found") from None


@router.get(YEAR + "/monitor")
def monitor(
    request: Request,
    school_id: UUID,
    year_start: int,
    caller: PageCaller,
    services: ServicesDep,
    ledger: LedgerDep,
    reads: ReadsDep,
    log: AccessLogDep,
    names: NamesDep,
    class_id: str = "",
    teacher_id: str = "",
) -> Response:
    chosen_class = _uuid_or_none(class_id)
    chosen_teacher = _uuid_or_none(teacher_id)
    found = monitor_read(
        school_id,
        year_start,
        caller,
        ledger,
        reads,
        log,
        names,
        class_id=chosen_class,
        teacher_id=chosen_teacher,
    )
    school_classes = _classes(request, caller, ledger, names, school_id, year_start)
    teachers = teachers_read(
        school_id, year_start, ListQuery(limit=500), request, caller, ledger, names
    )
    class_names = {k.class_id: k.name for k in school_classes.items}
    subject_names = {s.subject_id: s.subject for t in teachers.items for s in t.teaching}
    page = frame(
        request,
        caller,
        services,
        **_school(ledger, school_id, year_start),
        found=found,
        classes=school_classes.items,
        teachers=teachers.items,
        teacher_names=teachers.names,
        class_names=class_names,
        subject_names=subject_names,
        chosen_class=chosen_class,
        chosen_teacher=chosen_teacher,
    )
    return render(request, "school/monitor.html", page)


# --- compromised logins (п. 4.3–4.4)


def _staff_accounts(
    request: Request, caller: Caller, ledger: Ledger, names: Names, school_id: UUID, year_start: int
) -> list[tuple[UUID, str]]:
    """The accounts of the year's teachers, as «name — login», by name: whom the head may report
    on behalf of (a breach report names the account; the head knows the person)."""
    teachers = teachers_read(
        school_id, year_start, ListQuery(limit=500), request, caller, ledger, names
    )
    people = [t.teacher_id for t in teachers.items]
    by_person = Lists(ledger.database).accounts_of(people)
    ids = [account for person in people for account in by_person.get(person, [])]
    accounts = ledger.find_many(ids, Account)
    options = []
    for person in people:
        for account_id in by_person.get(person, []):
            account = accounts.get(account_id)
            if account is not None:
                shown = teachers.names.get(person, "имя не внесено")
                options.append((account_id, f"{shown} — {account.login}"))
    return options


def _breaches_page(
    request: Request,
    caller: Caller,
    services: Services,
    ledger: Ledger,
    log: AccessLog,
    names: Names,
    school_id: UUID,
    year_start: int,
    *,
    error: str | None = None,
    status: int = 200,
    filled: dict[str, str] | None = None,
) -> Response:
    school_reader(caller, school_id)
    school = _school(ledger, school_id, year_start)
    rules = [r for r in list_invalidations(caller, ledger) if r.school_id == school_id]
    worklist = [
        w for w in reentry_worklist(caller, services, log, names) if w.school_id == school_id
    ]
    options = _staff_accounts(request, caller, ledger, names, school_id, year_start)
    labels = dict(options)
    for rule in rules:
        if rule.account_id not in labels:
            account = ledger.find(rule.account_id, Account)
            labels[rule.account_id] = account.login if account is not None else "—"
    now = ledger.clock().astimezone(ZoneInfo(school["zone"])).strftime(MOMENT_FORMAT)
    page = frame(
        request,
        caller,
        services,
        **school,
        rules=rules,
        worklist=worklist,
        options=options,
        account_labels=labels,
        now_local=now,
        error=error,
        filled=filled or {},
        session=request.query_params.get("session", ""),
        reported=request.query_params.get("reported") == "1",
        invalidated=request.query_params.get("invalidated") == "1",
        event_names=EVENT_NAMES,
        filed_by=FILED_BY,
        can_report=caller.holds(Role.HEAD, school_id),
    )
    return render(request, "school/breaches.html", page, status_code=status)


@router.get(YEAR + "/breaches")
def breaches(
    request: Request,
    school_id: UUID,
    year_start: int,
    caller: PageCaller,
    services: ServicesDep,
    ledger: LedgerDep,
    log: AccessLogDep,
    names: NamesDep,
) -> Response:
    return _breaches_page(request, caller, services, ledger, log, names, school_id, year_start)


def _moment(text: str, zone: str, what: str) -> datetime | None:
    """A moment the form sent in the school's local time (ДД.ММ.ГГГГ ЧЧ:ММ as the browser shows
    it); empty: none."""
    if not text.strip():
        return None
    try:
        local = datetime.strptime(text.strip(), MOMENT_FORMAT)
    except ValueError:
        detail = f"«{what}»: укажите дату и время (ДД.ММ.ГГГГ ЧЧ:ММ)"
        raise ApiError("request.invalid", detail=detail) from None
    return local.replace(tzinfo=ZoneInfo(zone))


@router.post(YEAR + "/breaches")
def file_breach_report(
    request: Request,
    school_id: UUID,
    year_start: int,
    caller: PageCaller,
    services: ServicesDep,
    ledger: LedgerDep,
    auth: AuthDep,
    log: AccessLogDep,
    names: NamesDep,
    form: CheckedForm,
) -> Response:
    school_reader(caller, school_id)
    zone = _school(ledger, school_id, year_start)["zone"]
    account = _uuid_or_none(form.get("account_id"))
    received = _moment(form.get("received_at"), zone, "когда получено сообщение")
    learned = _moment(form.get("learned_at"), zone, "когда стало известно о нарушении")
    suspected = _moment(form.get("suspected_since"), zone, "начало подозрения")
    if account is None:
        return _breaches_page(
            request, caller, services, ledger, log, names, school_id, year_start,
            error="Выберите учётную запись.", status=422, filled=dict(form.pairs),
        )  # fmt: skip
    # The owner learned of it no later than the head received the report: by default, then.
    learned = learned or received or ledger.clock()
    body = BreachReportIn(
        account_id=account, learned_at=learned, suspected_since=suspected, received_at=received
    )
    try:
        report_breach(body, caller.actor, ledger, auth)
    except CommandError as refused:  # shown above the form, with what was filled in
        return _breaches_page(
            request, caller, services, ledger, log, names, school_id, year_start,
            error=refused.message, status=status_of(refused), filled=dict(form.pairs),
        )  # fmt: skip
    settle(services)
    return RedirectResponse(f"/school/{school_id}/{year_start}/breaches?reported=1", 303)


@router.post(YEAR + "/sessions")
def invalidate(
    request: Request,
    school_id: UUID,
    year_start: int,
    caller: PageCaller,
    services: ServicesDep,
    ledger: LedgerDep,
    auth: AuthDep,
    form: CheckedForm,
) -> Response:
    session_id = _uuid_or_none(form.get("session_id"))
    if session_id is None:
        raise ApiError("session.not_found")
    body = SessionInvalidationIn(school_id=school_id, reason=form.get("reason"))
    invalidate_session(session_id, body, caller.actor, ledger, auth)
    settle(services)
    return RedirectResponse(f"/school/{school_id}/{year_start}/breaches?invalidated=1", 303)


# --- the access log (п. 1.7)


@router.get(YEAR + "/access-log")
def access_log(
    request: Request,
    school_id: UUID,
    year_start: int,
    caller: PageCaller,
    services: ServicesDep,
    ledger: LedgerDep,
    log: AccessLogDep,
    names: NamesDep,
    before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> Response:
    # Newest first: a head opens the log to see who read what lately.
    entries = access_log_read(
        caller, log, ledger, names, school_id=school_id, before_id=before or 2**62
    )
    school = _school(ledger, school_id, year_start)
    school_classes = _classes(request, caller, ledger, names, school_id, year_start)
    rosters = {k.class_id: k.name for k in school_classes.items}
    rosters.update(
        {g.group_id: f"{k.name}, {g.name}" for k in school_classes.items for g in k.groups}
    )
    page = frame(
        request,
        caller,
        services,
        **school,
        entries=entries,
        rosters=rosters,
        access_names=ACCESS_NAMES,
        role_names={role.value: name for role, name in ROLE_NAMES.items()},
        earlier=entries[-1].id if len(entries) == 100 else None,
        short_id=short_id,
    )
    return render(request, "school/access_log.html", page)


# --- closing the year (п. 2.11)


@router.get(YEAR + "/close")
def close_form(
    request: Request,
    school_id: UUID,
    year_start: int,
    caller: PageCaller,
    services: ServicesDep,
    ledger: LedgerDep,
) -> Response:
    role = school_reader(caller, school_id)
    page = frame(
        request,
        caller,
        services,
        **_school(ledger, school_id, year_start),
        error=None,
        is_head=role is Role.HEAD,
        closed_now=request.query_params.get("closed") == "1",
    )
    return render(request, "school/close.html", page)


@router.post(YEAR + "/close")
def close(
    request: Request,
    school_id: UUID,
    year_start: int,
    caller: PageCaller,
    services: ServicesDep,
    ledger: LedgerDep,
    form: CheckedForm,
) -> Response:
    role = school_reader(caller, school_id)
    if form.get("confirm") != "yes":
        page = frame(
            request,
            caller,
            services,
            **_school(ledger, school_id, year_start),
            error="Подтвердите закрытие года: отметьте, что понимаете последствия.",
            is_head=role is Role.HEAD,
            closed_now=False,
        )
        return render(request, "school/close.html", page, status_code=422)
    close_year_write(school_id, year_start, caller.actor, ledger)
    settle(services)
    return RedirectResponse(f"/school/{school_id}/{year_start}/close?closed=1", 303)


@router.get(YEAR + "/archive")
def archive(
    school_id: UUID,
    year_start: int,
    caller: PageCaller,
    services: ServicesDep,
    ledger: LedgerDep,
) -> Response:
    """The year's archive (a BagIt bag, zipped) up to the log's latest signed checkpoint, built
    by the code ``ejournal archive`` runs and verified before it is sent. A request signs no
    checkpoint (``api.printing``): the bag ends where the latest signature does."""
    school_reader(caller, school_id)
    _school(ledger, school_id, year_start)
    checkpoint = services.printing.checkpoint(school_log_id(school_id, year_start))
    folder = Path(tempfile.mkdtemp(prefix="ejournal-archive-"))
    try:
        bag, _ = archive_at_checkpoint(
            ledger,
            checkpoint=checkpoint,
            checkpoint_verifiers=KeyStore(ledger.database).verifiers(),
            school_id=school_id,
            year_start=year_start,
            origin=services.printing.origin,
            out=folder / "bag",
        )
        name = f"archive-{year_start}-{year_start + 1}.zip"
        zipped = folder / name
        with zipfile.ZipFile(zipped, "w", compression=zipfile.ZIP_DEFLATED) as out:
            for path in sorted(bag.rglob("*")):
                if path.is_file():
                    out.write(path, Path(name[:-4]) / path.relative_to(bag))
    except ArchiveError as e:
        shutil.rmtree(folder, ignore_errors=True)
        # A п. 4.4 rule not yet under a signed checkpoint of the system log (or the like): the
        # schedule signs it within minutes.
        detail = "Недавние записи системного журнала ещё не заверены контрольной точкой."
        raise ApiError("printout.not_signed_yet", detail=detail) from e
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        zipped,
        media_type="application/zip",
        filename=name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
