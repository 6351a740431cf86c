"""The parents' e-mail digest of the week's diary (п. 1.6): subscribing an address for a child,
confirming it with the code of the confirmation message, unsubscribing.

The API's subscription routes do the work (``api.routes.subscriptions``): only a linked parent
subscribes, the address goes to the vault, a confirmation message to the outbox. Without an SMTP
server (``EJOURNAL_SMTP_HOST``) e-mail is off: the page says so and offers no form.

In a region the page starts from the directory's services, as ``GET /me`` and the parent's list
gather every server's part; each step goes to the server of its school or subscription, as the
API's routes send it.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from ejournal.api.bootstrap import Services
from ejournal.api.deps import DirectoryDep
from ejournal.api.errors import API_CATALOGUE, ApiError, status_of
from ejournal.api.routes.me import home as home_read
from ejournal.api.routes.subscriptions import (
    ConfirmationIn,
    SubscriptionIn,
    confirm_with_code,
    get_subscriptions,
    my_subscriptions,
    subscribe,
    unsubscribe,
)
from ejournal.commands.errors import CommandError
from ejournal.identity.authenticator import Caller
from ejournal.identity.names import Names
from ejournal.web.access import CheckedForm, PageCaller, PageRoute
from ejournal.web.frame import frame, settle
from ejournal.web.pages.family import diaries
from ejournal.web.render import render

router = APIRouter(route_class=PageRoute)

STATES = {
    "pending": "ждёт подтверждения",
    "active": "действует",
    "cancelled": "отменена",
    "bounced": "почтовый сервер не принимает письма на этот адрес",
}
DONE = {
    "requested": "Письмо с кодом подтверждения отправлено на ваш адрес. Введите код из письма "
    "ниже или перейдите по ссылке в письме.",
    "confirmed": "Подписка подтверждена: дневник будет приходить каждую неделю.",
    "cancelled": "Подписка отменена: письма больше не придут.",
}


@router.get("/subscriptions")
def subscriptions_page(
    request: Request,
    caller: PageCaller,
    services: DirectoryDep,
) -> Response:
    done = DONE.get(request.query_params.get("done", ""))
    return _page(request, caller, services, done=done)


@router.post("/subscriptions")
def subscribe_page(
    request: Request,
    caller: PageCaller,
    services: DirectoryDep,
    form: CheckedForm,
) -> Response:
    school, year, student = [*form.get("child").split(":"), "", "", ""][:3]
    try:
        body = SubscriptionIn.model_validate(
            {
                "school_id": school,
                "year_start": year,
                "student_id": student,
                "address": form.get("address").strip(),
                "attach_pdf": form.get("attach_pdf") == "on",
            },
            strict=False,
        )
    except ValidationError as invalid:
        error = _invalid(invalid)
        page = _page(request, caller, services, error=error, form=form.pairs)
        page.status_code = 422
        return page
    held = services.for_year(body.school_id, body.year_start)  # the year's server keeps them
    try:
        subscribe(body, caller, held)
    except (ApiError, CommandError) as refused:
        return _refused(request, caller, services, refused, form.pairs)
    settle(held)
    return RedirectResponse("/subscriptions?done=requested", status_code=303)


@router.post("/subscriptions/{subscription_id}/confirmation")
def confirm_page(
    request: Request,
    subscription_id: UUID,
    caller: PageCaller,
    services: DirectoryDep,
    form: CheckedForm,
) -> Response:
    code = form.get("code").strip()
    try:
        body = ConfirmationIn(code=code)
    except ValidationError:
        error = "Введите код из письма."
        page = _page(request, caller, services, error=error)
        page.status_code = 422
        return page
    held = services.locating(subscription_id)  # the server that holds the subscription
    try:
        confirm_with_code(subscription_id, body, caller, get_subscriptions(held), held.ledger)
    except (ApiError, CommandError) as refused:
        return _refused(request, caller, services, refused, [])
    settle(held)
    return RedirectResponse("/subscriptions?done=confirmed", status_code=303)


@router.post("/subscriptions/{subscription_id}/cancellation")
def cancel_page(
    request: Request,
    subscription_id: UUID,
    caller: PageCaller,
    services: DirectoryDep,
    form: CheckedForm,
) -> Response:
    held = services.locating(subscription_id)  # the server that holds the subscription
    try:
        unsubscribe(subscription_id, caller, get_subscriptions(held))
    except (ApiError, CommandError) as refused:
        return _refused(request, caller, services, refused, [])
    settle(held)
    return RedirectResponse("/subscriptions?done=cancelled", status_code=303)


def _page(
    request: Request,
    caller: Caller,
    services: Services,
    *,
    done: str | None = None,
    error: str | None = None,
    form: list[tuple[str, str]] | None = None,
) -> Response:
    """The page: the caller's children (``GET /me`` names and logs them) and subscriptions."""
    read = home_read(caller, services, services.access_log, Names(services.vault))
    found = diaries(read, caller)
    children = [d for d in found if d.student_id != caller.person_id]
    mail_on = services.mail is not None
    mine = my_subscriptions(caller, services) if mail_on else []
    labels = {d.student_id: d.label for d in children}
    sent = dict(form or [])
    page = frame(
        request,
        caller,
        services,
        children=children,
        mail_on=mail_on,
        subscriptions=mine,
        labels=labels,
        states=STATES,
        done=done,
        error=error,
        sent_child=sent.get("child", ""),
        sent_address=sent.get("address", ""),
        sent_pdf=sent.get("attach_pdf") == "on",
    )
    return render(request, "family/subscriptions.html", page)


def _refused(
    request: Request,
    caller: Caller,
    services: Services,
    refused: ApiError | CommandError,
    form: list[tuple[str, str]],
) -> Response:
    """A refusal the parent can act on, on the page itself with its status; e-mail being off
    is the error page's (``web.errors``)."""
    if isinstance(refused, ApiError):
        if refused.code == "mail.unavailable":
            raise refused
        status, error = API_CATALOGUE[refused.code].status, API_CATALOGUE[refused.code].title
    else:
        status, error = status_of(refused), refused.message
    page = _page(request, caller, services, error=error, form=form)
    page.status_code = status
    return page


def _invalid(invalid: ValidationError) -> str:
    fields = {str(e["loc"][0]) for e in invalid.errors() if e["loc"]}
    if "address" in fields:
        return "Проверьте адрес электронной почты: он записан с ошибкой."
    return "Выберите ребёнка из списка."
