"""The lesson page (п. 2.5–2.7): the register, the marks with their work type, the topic from the
КТП and the homework, on one screen; each form saved without reloading the page (htmx swaps the
lesson's body), or by POST → redirect → GET without JavaScript.

It reads the class journal of the lesson's roster and subject for the lesson's day (the pupils
of that day with their names, ``api.routes.reads.checked_class_journal``) for the readers of
that journal and the lesson's substitute (``api.policy.lesson_reader``), the read logged, and
writes through the API's route functions, whose commands check that the caller teaches the
lesson (п. 2.3). A refused write is shown above the lesson, which is
drawn again as it is: nothing was written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ejournal import commands as c
from ejournal.api.bootstrap import Services
from ejournal.api.deps import ServicesDep
from ejournal.api.errors import ApiError, field_message, status_of
from ejournal.api.policy import lesson_reader
from ejournal.api.routes import journal as writes
from ejournal.api.routes.lists import work_types
from ejournal.api.routes.reads import checked_class_journal
from ejournal.api.schemas.journal import (
    AttendanceIn,
    CancellationIn,
    CorrectionIn,
    HomeworkIn,
    MarkIn,
    TopicIn,
)
from ejournal.api.schemas.paging import ListQuery
from ejournal.commands.errors import CommandError, refuse
from ejournal.identity.access_log import Access, entry_rows
from ejournal.identity.authenticator import Caller
from ejournal.identity.names import Names
from ejournal.ledger.actor import Role
from ejournal.ledger.domain import Lesson
from ejournal.ledger.domain.plan import ThematicPlan
from ejournal.ledger.domain.values import AttendanceCode
from ejournal.ledger.errors import NotInMemory
from ejournal.projections.storage import tracking
from ejournal.web.access import CheckedForm, Form, PageCaller, PageRoute
from ejournal.web.frame import frame, settle
from ejournal.web.recent import Recent
from ejournal.web.render import PAGE_HEADERS, render

router = APIRouter(route_class=PageRoute)

PAGES: Recent[tuple[UUID, UUID, str, str | None, tuple[int, int] | None], bytes] = Recent(
    size=1024, seconds=60
)
"""Lesson pages drawn lately, by session, lesson, what the page says and the read models'
version: a page asked again draws nothing while nothing new is projected (a minute at most, as
the frame's name)."""

CHOICES = (("", "present"), *((code.value, code.name.lower()) for code in AttendanceCode))
"""The register's choices (п. 2.5), each with the ASCII key of its radio's ID: «present» (no
code), then Н, Б, П, ОП."""
MARK_CHOICES = (5, 4, 3, 2, 1)
SAVED = {
    "attendance": "Посещаемость сохранена.",
    "topic": "Тема урока сохранена.",
    "homework": "Домашнее задание сохранено.",
    "mark": "Отметка поставлена.",
    "corrected": "Отметка исправлена.",
    "cancelled": "Отметка отменена.",
}
"""What the page says after each write (the key rides in the redirect's query)."""


class FormProblem(Exception):
    """A form field that cannot be read as its type (a mark that is not a number)."""


@dataclass(frozen=True, slots=True)
class Saved:
    """What a write says once it is recorded, or why it was refused."""

    message: str
    refused: bool = False
    details: tuple[str, ...] = ()
    status: int = 422
    """A refusal's HTTP status, as the API answers it."""


def _lesson(services: Services, lesson_id: UUID) -> Lesson:
    lesson = services.ledger.find(lesson_id, Lesson)
    if lesson is None:
        raise refuse("lesson.not_found")
    assert isinstance(lesson, Lesson)
    return lesson


def _plan_items(services: Services, lesson: Lesson) -> list[tuple[int, str]]:
    """The КТП's items as the topic's choices: (number, «12. Тема»), in order (a year's plan
    has a hundred and more: labelled here once, not looked up option by option)."""
    plan_id = ThematicPlan.create_id(roster_id=lesson.roster_id, subject_id=lesson.subject_id)
    plan = services.ledger.find(plan_id, ThematicPlan)
    items = [] if plan is None else sorted(plan.items.values(), key=lambda item: item.number)
    return [(item.number, f"{item.number}. {item.topic}") for item in items]


def _page(
    request: Request,
    caller: Caller,
    services: Services,
    lesson_id: UUID,
    saved: Saved | None,
    *,
    logged_as: Role | None = None,
) -> HTMLResponse:
    """The lesson page: its pupils from the class journal of the lesson's day, for a reader
    checked (``policy.lesson_reader``) and logged here, or already, as ``logged_as``."""
    ledger = services.ledger
    lesson = _lesson(services, lesson_id)
    roster = c.load_roster(ledger, lesson.roster_id)
    if logged_as is None:
        logged_as = lesson_reader(ledger, caller, lesson, roster)
        services.access_log.record(
            caller,
            logged_as,
            Access.CLASS_JOURNAL,
            [roster.id],
            school_id=roster.school_id,
            now=ledger.clock(),
        )
    journal = checked_class_journal(
        ledger,
        services.reads,
        Names(services.vault),
        logged_as,
        lesson.roster_id,
        lesson.subject_id,
        lesson.on,
        lesson.on,
    )
    shown = next((x for x in journal.lessons if x.lesson_id == lesson_id), None)
    if shown is None:  # planned a moment ago and not yet in the read models
        raise refuse("lesson.not_found")
    column = journal.lessons.index(shown)
    pupils = [
        {
            "i": index,
            "sid": str(row.student_id),
            "name": journal.names.get(row.student_id, "имя не внесено"),
            "code": row.cells[column].attendance or "",
            "marks": row.cells[column].marks,
        }
        for index, row in enumerate(journal.rows)
    ]
    types = work_types(lesson.school_id, lesson.year_start, ListQuery(), request, caller, ledger)
    # A refusal drawn for htmx is a 200: the page swaps it in as it would any answer, without an
    # error in the console; drawn as a whole page, it carries the refusal's status.
    status = 200
    if saved is not None and saved.refused and request.headers.get("HX-Request") != "true":
        status = saved.status
    page = frame(
        request,
        caller,
        services,
        lesson=shown,
        roster_name=roster.name,
        pupils=pupils,
        names=journal.names,
        choices=CHOICES,
        mark_choices=MARK_CHOICES,
        work_types=types.items,
        plan_items=_plan_items(services, lesson),
        register_taken=lesson.registers > 0,
        saved=saved,
    )
    return render(request, "teacher/lesson.html", page, status_code=status)


@router.get("/lesson/{lesson_id}")
async def lesson_page(
    request: Request, lesson_id: UUID, caller: PageCaller, services: ServicesDep
) -> Response:
    said = request.query_params.get("saved", "")
    saved = Saved(SAVED[said]) if said in SAVED else None
    reader = _reader_in_memory(caller, services, lesson_id)
    if reader is None:
        return await run_in_threadpool(_page, request, caller, services, lesson_id, saved)
    # As the diary (ADR 0014): the read logged in the round trip that reads the read models'
    # version, and the page drawn once per version for the session that reads it again.
    role, school_id, roster_id = reader
    assert services.diary_log is not None
    logged = entry_rows(
        caller, role, Access.CLASS_JOURNAL, [roster_id], school_id, services.ledger.clock()
    )
    version = tracking(next(iter(await services.diary_log.write(logged)), None))
    key = (caller.session_id, lesson_id, said, request.headers.get("HX-Request"), version)
    drawn = PAGES.get(key)
    if drawn is None:
        response = await run_in_threadpool(
            _page, request, caller, services, lesson_id, saved, logged_as=role
        )
        drawn = bytes(response.body)
        if version is not None:
            PAGES.put(key, drawn)
    return HTMLResponse(drawn, headers=PAGE_HEADERS)


def _reader_in_memory(
    caller: Caller, services: Services, lesson_id: UUID
) -> tuple[Role, UUID, UUID] | None:
    """The caller's role as a reader of the lesson's journal, the school and the roster, checked
    on the event loop from the aggregates in memory (PostgreSQL); None if that takes the
    database. Refuses as ``_page`` does (``policy.lesson_reader``)."""
    if services.aio is None or not services.aio.ready or services.diary_log is None:
        return None
    ledger = services.ledger
    try:
        with ledger.memory_only():
            lesson = _lesson(services, lesson_id)
            roster = c.load_roster(ledger, lesson.roster_id)
            role = lesson_reader(ledger, caller, lesson, roster)
    except NotInMemory:
        return None
    return role, roster.school_id, roster.id


def _write(
    request: Request,
    caller: Caller,
    services: Services,
    lesson_id: UUID,
    done: str,
    write: Callable[[], object],
) -> Response:
    """Run ``write``; then the lesson as it now is, with ``done`` or the refusal above it: the
    lesson's body for htmx, else a redirect to the page (a refusal is drawn at once)."""
    try:
        write()
    except (CommandError, ApiError) as refused:
        if isinstance(refused, CommandError):
            problem = Saved(refused.message, refused=True, status=status_of(refused))
        else:
            problem = Saved(refused.title, refused=True, status=refused.status)
        try:
            return _page(request, caller, services, lesson_id, problem)
        except (CommandError, ApiError):
            raise refused from None  # not the caller's lesson to see either: its refusal
    except ValidationError as invalid:
        details = tuple(field_message(e) for e in invalid.errors())
        problem = Saved("Не сохранено: проверьте поля формы.", refused=True, details=details)
        return _page(request, caller, services, lesson_id, problem)
    except FormProblem as invalid:
        return _page(request, caller, services, lesson_id, Saved(str(invalid), refused=True))
    settle(services)
    if request.headers.get("HX-Request") == "true":
        return _page(request, caller, services, lesson_id, Saved(SAVED[done]))
    return RedirectResponse(f"/lesson/{lesson_id}?saved={done}", status_code=303)


def _number(form: Form, name: str, what: str) -> int:
    try:
        return int(form.get(name).strip())
    except ValueError:
        raise FormProblem(f"Не сохранено: выберите {what}.") from None


def _optional_number(form: Form, name: str) -> int | None:
    value = form.get(name).strip()
    return int(value) if value.isdigit() else None


@router.post("/lesson/{lesson_id}/attendance")
def save_attendance(
    request: Request, lesson_id: UUID, caller: PageCaller, services: ServicesDep, form: CheckedForm
) -> Response:
    # Every pupil's choice is sent; those present send the empty code and are left out.
    codes = {pupil: code for pupil, code in form.starting("code:").items() if code}

    def write() -> object:
        return writes.record_attendance(
            lesson_id, AttendanceIn.model_validate({"codes": codes}), caller.actor, services.ledger
        )

    return _write(request, caller, services, lesson_id, "attendance", write)


@router.post("/lesson/{lesson_id}/topic")
def save_topic(
    request: Request, lesson_id: UUID, caller: PageCaller, services: ServicesDep, form: CheckedForm
) -> Response:
    def write() -> object:
        body = TopicIn(topic=form.get("topic"), plan_item=_optional_number(form, "plan_item"))
        return writes.set_topic(lesson_id, body, caller.actor, services.ledger)

    return _write(request, caller, services, lesson_id, "topic", write)


@router.post("/lesson/{lesson_id}/homework")
def save_homework(
    request: Request, lesson_id: UUID, caller: PageCaller, services: ServicesDep, form: CheckedForm
) -> Response:
    def write() -> object:
        fields = {name: form.get(name) for name in ("text", "pages", "tasks")}
        body = HomeworkIn.model_validate({**fields, "due_on": form.get("due_on") or None})
        return writes.assign_homework(lesson_id, body, caller.actor, services.ledger)

    return _write(request, caller, services, lesson_id, "homework", write)


@router.post("/lesson/{lesson_id}/marks")
def save_mark(
    request: Request, lesson_id: UUID, caller: PageCaller, services: ServicesDep, form: CheckedForm
) -> Response:
    def write() -> object:
        if not form.get("student_id"):
            raise FormProblem("Не сохранено: выберите ученика.")
        if not form.get("work_type_id"):
            raise FormProblem("Не сохранено: выберите вид работы.")
        body = MarkIn.model_validate(
            {
                "student_id": form.get("student_id"),
                "value": _number(form, "value", "отметку"),
                "work_type_id": form.get("work_type_id"),
                "checked_on": form.get("checked_on") or None,
            }
        )
        return writes.record_mark(lesson_id, body, caller.actor, services.ledger)

    return _write(request, caller, services, lesson_id, "mark", write)


@router.post("/lesson/{lesson_id}/marks/{mark_id}")
def change_mark(
    request: Request,
    lesson_id: UUID,
    mark_id: UUID,
    caller: PageCaller,
    services: ServicesDep,
    form: CheckedForm,
) -> Response:
    """A correction (a new value) or a cancellation, each with its reason (п. 1.4): the button
    pressed says which."""
    cancel = form.get("action") == "cancel"
    ledger = services.ledger

    def write() -> object:
        if cancel:
            undo = CancellationIn(reason=form.get("reason"))
            return writes.cancel_mark(lesson_id, mark_id, undo, caller.actor, ledger)
        body = CorrectionIn(
            value=_number(form, "value", "новую отметку"), reason=form.get("reason")
        )
        return writes.correct_mark(lesson_id, mark_id, body, caller.actor, ledger)

    done = "cancelled" if cancel else "corrected"
    return _write(request, caller, services, lesson_id, done, write)
