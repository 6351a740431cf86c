"""Personal data in the vault (п. 1.7, I9): entered by the school's administration, read by the
person and the administration (each read logged), destroyed at disposition (``forget``).

The school that first enters a person's data keeps it, so only a school the person belongs to may
(a pupil enrolled in one of its classes, a parent linked to one of its students, staff with a role
there), or a system administrator: ``policy.personal_data_registrar``."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from ejournal.api.deps import AccessLogDep, CurrentCaller, LedgerDep, ReadsDep, VaultDep
from ejournal.api.errors import ApiError, problem_responses
from ejournal.api.policy import (
    disposer,
    person_belongs,
    personal_data_keeper,
    personal_data_reader,
    personal_data_registrar,
)
from ejournal.api.reads import ReadModels
from ejournal.api.schemas.common import Accepted
from ejournal.api.schemas.people import PersonIn, PersonOut
from ejournal.api.threads import OneTripRoute
from ejournal.identity.access_log import Access
from ejournal.identity.authenticator import Caller
from ejournal.identity.vault import PersonalData, PersonForgotten
from ejournal.ledger.application import Ledger
from ejournal.mail.addresses import subscription_contacts

router = APIRouter(
    route_class=OneTripRoute,
    prefix="/people",
    tags=["personal data"],
    responses=problem_responses(401, 403, 404, 410, 422, 503),
)


@router.put("/{person_id}", response_model=Accepted, summary="Store or replace a person's data")
def put_person(
    person_id: UUID,
    body: PersonIn,
    caller: CurrentCaller,
    vault: VaultDep,
    ledger: LedgerDep,
    reads: ReadsDep,
) -> Accepted:
    known, school_id = vault.school_of(person_id)
    # A person stays with the school that registered them; only a new one takes the body's, and
    # only if the person belongs to that school.
    if known:
        personal_data_keeper(caller, school_id)
    else:
        _registrar(caller, ledger, reads, person_id, body.school_id)
    try:
        stored = vault.get(person_id) if known else None
        # Subscriptions' addresses are not the form's to replace (a body may only send them back
        # unchanged): dropping them would silently stop the parent's digests.
        kept = subscription_contacts(stored.data.contacts) if stored is not None else {}
        sent = subscription_contacts(body.contacts)
        if any(kept.get(kind) != address for kind, address in sent.items()):
            detail = "адрес подписки на рассылку изменяется только через саму подписку"
            raise ApiError("request.invalid", detail=detail)
        data = PersonalData(body.full_name, body.birth_date, {**body.contacts, **kept})
        vault.put(
            person_id, data, school_id=school_id if known else body.school_id, now=ledger.clock()
        )
    except PersonForgotten as e:
        raise ApiError("person.forgotten") from e
    return Accepted()


def _registrar(
    caller: Caller, ledger: Ledger, reads: ReadModels, person_id: UUID, school_id: UUID | None
) -> None:
    """Refuse the first entry of a person's data unless ``personal_data_registrar`` allows it."""

    def belongs() -> bool:
        # Asked only of the administration of ``school_id``, which is then a school.
        school = school_id or UUID(int=0)
        year = _school_year_of(ledger)

        def ties() -> tuple[bool, tuple[UUID, ...]]:
            found = reads.ties(person_id, school)
            return found.pupil or found.parent, found.accounts

        return person_belongs(ledger, person_id, school, (year - 1, year, year + 1), ties)

    personal_data_registrar(caller, school_id, belongs)


def _school_year_of(ledger: Ledger) -> int:
    """The year of 1 September of the school year under way by the server clock."""
    today = ledger.clock().date()
    return today.year if today.month >= 9 else today.year - 1


@router.get(
    "/{person_id}", response_model=PersonOut, summary="A person's data (the read is logged)"
)
def get_person(
    person_id: UUID,
    caller: CurrentCaller,
    vault: VaultDep,
    log: AccessLogDep,
    ledger: LedgerDep,
) -> PersonOut:
    known, school_id = vault.school_of(person_id)
    role = personal_data_reader(caller, person_id, school_id)
    if not known:
        raise ApiError("person.not_found")
    try:
        stored = vault.get(person_id)
    except PersonForgotten as e:
        raise ApiError("person.forgotten") from e
    if stored is None:
        raise ApiError("person.not_found")
    log.record(
        caller, role, Access.PERSONAL_DATA, [person_id], school_id=school_id, now=ledger.clock()
    )
    return PersonOut(
        person_id=person_id,
        school_id=stored.school_id,
        full_name=stored.data.full_name,
        birth_date=stored.data.birth_date,
        contacts=dict(stored.data.contacts),
    )


@router.post(
    "/{person_id}/forget",
    response_model=Accepted,
    summary="Destroy a person's data key (disposition; the head or a system administrator)",
)
def forget_person(
    person_id: UUID, caller: CurrentCaller, vault: VaultDep, ledger: LedgerDep
) -> Accepted:
    known, school_id = vault.school_of(person_id)
    disposer(caller, school_id)
    if not known:
        raise ApiError("person.not_found")
    if not vault.forget(person_id, now=ledger.clock()):
        raise ApiError("person.forgotten")
    return Accepted()
