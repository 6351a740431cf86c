"""Parents' e-mail subscription to the weekly diary digest (п. 1.6).

A parent subscribes an address for a linked child and confirms it by the link or the code of the
confirmation message; every digest carries a one-click unsubscribe link (RFC 8058). The links are
the only routes without a session: their token is the authority, and the ledger records the step
as the service's. A class teacher reads the addresses the mail server refused.

In a region (``ledger.placement``) each server has a mail service of its own, beside its schools'
logs: a subscription is made on its school's server (the body names the school), its steps go to
the server that holds it (``subscription_id`` routes as a school's record does), a parent's list
gathers every server's, and a link, which names no server, goes to the server that issued its
token (each is asked).
"""

from __future__ import annotations

import html
import logging
from datetime import datetime
from typing import Annotated
from uuid import UUID

from eventsourcing.persistence import PersistenceError
from fastapi import APIRouter, Depends, Path
from fastapi.responses import HTMLResponse
from pydantic import AfterValidator, Field

from ejournal.api.bootstrap import Services
from ejournal.api.deps import CurrentCaller, DirectoryDep, LedgerDep, ServicesDep
from ejournal.api.errors import ApiError, problem_responses
from ejournal.api.policy import administration, denied, is_class_teacher, load_class
from ejournal.api.schemas.common import Accepted, Id, Input, Output, YearStart
from ejournal.api.threads import OneTripRoute
from ejournal.commands.errors import refuse
from ejournal.identity.vault import PersonForgotten
from ejournal.ledger.domain import MailSubscription
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.placement import ServerUnavailableError
from ejournal.mail.addresses import AddressError, normalise_address
from ejournal.mail.mailer import Mailer
from ejournal.mail.outbox import Outbox
from ejournal.mail.subscriptions import SubscriptionInfo, Subscriptions
from ejournal.mail.tokens import LinkInvalid

log = logging.getLogger("ejournal.api")

DOWN = (LedgerError, PersistenceError)
"""What asking a server that is down raises: opening it, or a statement on it."""

router = APIRouter(
    route_class=OneTripRoute,
    tags=["e-mail"],
    responses=problem_responses(401, 403, 404, 409, 422, 503),
)


def _mailer(services: Services) -> Mailer:
    if services.mail is None:
        raise ApiError("mail.unavailable")
    return services.mail


def get_subscriptions(services: ServicesDep) -> Subscriptions:
    return _mailer(services).subscriptions


def get_outbox(services: ServicesDep) -> Outbox:
    return _mailer(services).outbox


def subscriptions_everywhere(services: Services, parent_id: UUID) -> list[SubscriptionInfo]:
    """The parent's subscriptions on every server, server by server (a subscription is on its
    school's). A server that is down is left out (logged): the rest are still shown."""
    _mailer(services)
    found = []
    for server in services.servers:
        try:
            found += _mailer(services.cell(server)).subscriptions.subscriptions_of(parent_id)
        except DOWN as e:
            log.warning("the subscriptions on server %s are left out: %s", server, e)
    return found


def _issuer(services: Services, token: str) -> Subscriptions:
    """The subscriptions of the server whose mail service issued a link's ``token``: the link
    names no server, so each is asked (one lookup of the token's SHA-256 each). Raises
    ``mail.link_invalid`` if none did, and ``ServerUnavailableError`` (503) if none that
    answers did while one does not answer: the link may be that one's."""
    _mailer(services)
    down: ServerUnavailableError | None = None
    for server in services.servers:
        try:
            subscriptions = _mailer(services.cell(server)).subscriptions
            if subscriptions.issued(token):
                return subscriptions
        except DOWN as e:
            down = ServerUnavailableError(server, str(e))
    if down is not None:
        raise down
    raise ApiError("mail.link_invalid")


SubscriptionsDep = Annotated[Subscriptions, Depends(get_subscriptions)]
OutboxDep = Annotated[Outbox, Depends(get_outbox)]
Token = Annotated[str, Path(min_length=20, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


def _address(text: str) -> str:
    try:
        return normalise_address(text)
    except AddressError as e:
        raise ValueError(str(e)) from e


EmailAddress = Annotated[str, Field(max_length=254), AfterValidator(_address)]


class SubscriptionIn(Input):
    school_id: Id
    year_start: YearStart
    student_id: Id
    address: EmailAddress = Field(description="The parent's e-mail address (kept in the vault)")
    attach_pdf: bool = Field(default=False, description="Attach the week's diary as PDF")


class SubscriptionOut(Output):
    subscription_id: UUID
    school_id: UUID
    year_start: int
    student_id: UUID
    state: str = Field(description="pending, active, cancelled or bounced")
    attach_pdf: bool
    address: str | None = Field(description="Masked, e.g. iv***@example.ru")


class SubscriptionRequested(Output):
    subscription_id: UUID
    state: str = "pending"


class ConfirmationIn(Input):
    code: Annotated[str, Field(min_length=1, max_length=20)]


class BounceOut(Output):
    subscription_id: UUID
    student_id: UUID
    parent_id: UUID
    week: str = Field(description="The digest's ISO week; empty for a confirmation message")
    reply_code: int | None
    detail: str = Field(description="The mail server's reply, the address left out")
    at: datetime


@router.post(
    "/mail/subscriptions",
    response_model=SubscriptionRequested,
    status_code=201,
    summary="Subscribe an e-mail address to a linked child's weekly digest (a parent)",
)
def subscribe(
    body: SubscriptionIn, caller: CurrentCaller, services: ServicesDep
) -> SubscriptionRequested:
    # The server of the school year's log keeps its subscriptions (a closed year may be apart).
    school = services.for_year(body.school_id, body.year_start)
    try:
        subscription_id = _mailer(school).subscriptions.subscribe(
            caller.actor,
            caller.person_id,
            school_id=body.school_id,
            year_start=body.year_start,
            student_id=body.student_id,
            address=body.address,
            attach_pdf=body.attach_pdf,
        )
    except PersonForgotten as e:
        raise ApiError("person.forgotten") from e
    if school.mail_schedule is not None:
        school.mail_schedule.wake()  # the confirmation message goes out now
    return SubscriptionRequested(subscription_id=subscription_id)


@router.get(
    "/mail/subscriptions",
    response_model=list[SubscriptionOut],
    summary="The caller's subscriptions",
)
def my_subscriptions(caller: CurrentCaller, services: DirectoryDep) -> list[SubscriptionOut]:
    return [
        SubscriptionOut(
            subscription_id=s.subscription_id,
            school_id=s.school_id,
            year_start=s.year_start,
            student_id=s.student_id,
            state=s.state,
            attach_pdf=s.attach_pdf,
            address=s.address,
        )
        for s in subscriptions_everywhere(services, caller.person_id)
    ]


@router.post(
    "/mail/subscriptions/{subscription_id}/confirmation",
    response_model=Accepted,
    summary="Confirm with the code of the confirmation message (the subscribing parent)",
)
def confirm_with_code(
    subscription_id: UUID,
    body: ConfirmationIn,
    caller: CurrentCaller,
    subscriptions: SubscriptionsDep,
    ledger: LedgerDep,
) -> Accepted:
    # Only the subscribing parent tries a code: another's wrong code would count against the
    # subscription's own parent, whose codes are void after too many.
    subscription = ledger.find(subscription_id, MailSubscription)
    if subscription is None:
        raise refuse("subscription.not_found")
    if subscription.parent_id != caller.person_id:
        raise refuse("subscription.not_yours")
    try:
        subscriptions.confirm_with_code(caller.actor, subscription_id, body.code)
    except LinkInvalid as e:
        raise ApiError("mail.code_invalid") from e
    return Accepted()


@router.post(
    "/mail/subscriptions/{subscription_id}/cancellation",
    response_model=Accepted,
    summary="Unsubscribe (the subscribing parent)",
)
def unsubscribe(
    subscription_id: UUID, caller: CurrentCaller, subscriptions: SubscriptionsDep
) -> Accepted:
    subscriptions.unsubscribe(caller.actor, subscription_id, "отписка в личном кабинете")
    return Accepted()


@router.get(
    "/classes/{class_id}/mail-bounces",
    response_model=list[BounceOut],
    summary="Digests the mail server refused for good, for the class teacher to follow up",
)
def bounces(
    class_id: UUID, caller: CurrentCaller, ledger: LedgerDep, outbox: OutboxDep
) -> list[BounceOut]:
    school_class = load_class(ledger, class_id)
    if not is_class_teacher(caller, school_class) and (
        administration(caller, school_class.school_id) is None
    ):
        raise denied(caller)
    return [
        BounceOut(
            subscription_id=b.subscription_id,
            student_id=b.student_id,
            parent_id=b.parent_id,
            week=b.week,
            reply_code=b.reply_code,
            detail=b.detail,
            at=b.at,
        )
        for b in outbox.bounces(class_id)
    ]


# --- the links of the messages: no session, the token is the authority -------------------------


def _page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    page = (
        "<!DOCTYPE html><html lang='ru'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"{body}</body></html>"
    )
    return HTMLResponse(page, status_code=status)


def _form(action: str, button: str) -> str:
    # A GET only shows the form: mail scanners that open links must not confirm or unsubscribe.
    return (
        f"<form method='post' action='{html.escape(action, quote=True)}'>"
        f"<button type='submit'>{html.escape(button)}</button></form>"
    )


@router.get(
    "/mail/confirm/{token}",
    response_class=HTMLResponse,
    summary="The confirmation link: a page with the button that confirms",
)
def confirm_page(token: Token) -> HTMLResponse:
    return _page(
        "Подтверждение подписки",
        "<p>Подтвердите подписку на еженедельную рассылку электронного дневника.</p>"
        + _form(f"/mail/confirm/{token}", "Подтвердить подписку"),
    )


@router.post(
    "/mail/confirm/{token}",
    response_class=HTMLResponse,
    summary="Confirm the subscription of the link",
)
def confirm_link(token: Token, services: DirectoryDep) -> HTMLResponse:
    try:
        _issuer(services, token).confirm_with_token(token)
    except LinkInvalid as e:
        raise ApiError("mail.link_invalid") from e
    return _page(
        "Подписка подтверждена",
        "<p>Каждую неделю на этот адрес будет приходить дневник. Отписаться можно по ссылке "
        "из любого письма.</p>",
    )


@router.get(
    "/mail/unsubscribe/{token}",
    response_class=HTMLResponse,
    summary="The unsubscribe link: a page with the button that unsubscribes",
)
def unsubscribe_page(token: Token) -> HTMLResponse:
    return _page(
        "Отписка от рассылки",
        "<p>Отписаться от еженедельной рассылки электронного дневника?</p>"
        + _form(f"/mail/unsubscribe/{token}", "Отписаться"),
    )


@router.post(
    "/mail/unsubscribe/{token}",
    response_class=HTMLResponse,
    summary="Unsubscribe by the link of a message (also RFC 8058 one-click)",
)
def unsubscribe_link(token: Token, services: DirectoryDep) -> HTMLResponse:
    try:
        _, was_on = _issuer(services, token).unsubscribe_with_token(token)
    except LinkInvalid as e:
        raise ApiError("mail.link_invalid") from e
    title = "Вы отписались от рассылки" if was_on else "Подписка уже была отменена"
    return _page(title, "<p>Письма с дневником на этот адрес больше не придут.</p>")
