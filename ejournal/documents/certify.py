"""Certified printouts (п. 1.6, 2.9, 3.1): sign a checkpoint, build the document, have the head sign
its SHA-256 (a ledger event), render PDF/A with the certification block and QR code.

The steps of ``print_document``:

1. sign a checkpoint of the school year's log (or take the latest, if nothing is new): the document
   rests on it, and states its log, size and root;
2. build the document's data from the entries / aggregates as of that checkpoint; its canonical
   JSON is what is certified;
3. with a signer: register the head's key in the year's log if needed, sign the certificate
   (``integrity.certificate``) and record it (``commands.CertifyDocument``);
4. render the PDF/A-3b with the data attached and the certification block.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from ejournal import commands as c
from ejournal.archive.summary import DOCUMENT_KIND, canonical_json
from ejournal.documents.documents import (
    Names,
    class_journal_document,
    class_journal_view,
    display_name,
    get_roster,
    summary_sheet_document,
    summary_sheet_view,
    weekly_diary_document,
    weekly_diary_view,
)
from ejournal.documents.render import CertificationBlock, render
from ejournal.integrity.certificate import Certificate, document_digest, sign_certificate
from ejournal.integrity.note import Ed25519Signer
from ejournal.ledger.actor import Actor
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer, StoredCheckpoint
from ejournal.ledger.domain import Account, SchoolClass
from ejournal.ledger.domain.certification import SignatoryKey
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.logs import school_log_id


class PrintoutError(LedgerError):
    """A printout cannot be made: the log has no entries to rest on, or the signer is not the
    actor's registered signatory."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Printout:
    """A rendered printout: the PDF, the data it shows and certifies, and the certificate."""

    kind: str
    title: str
    pdf: bytes
    data: bytes
    document: Mapping[str, Any]
    checkpoint: StoredCheckpoint
    certificate: str | None
    certification_id: UUID | None


def rest_on_checkpoint(checkpointer: Checkpointer, log_id: str) -> StoredCheckpoint:
    """Sign a checkpoint of everything ``log_id`` holds, or return the latest if nothing is new.

    Raises ``PrintoutError`` for a log with no entries, and the checkpointer's errors.
    """
    signed = checkpointer.checkpoint(log_id)
    latest = signed or checkpointer.latest(log_id)
    if latest is None:
        raise PrintoutError(f"{log_id} has no entries to print")
    return latest


def ensure_signatory_key(
    ledger: Ledger, *, actor: Actor, signer: Ed25519Signer, school_id: UUID, year_start: int
) -> None:
    """Register ``signer``'s verifier key for the actor in the year's log, unless it is already
    the current one. Raises ``CommandError`` (e.g. the actor is not the head)."""
    person_id = _person_of(ledger, actor)
    key = _find_key(ledger, school_id, year_start, person_id)
    if key is not None and key.current == signer.vkey:
        return
    c.handle(
        c.RegisterSignatoryKey(
            actor=actor,
            school_id=school_id,
            year_start=year_start,
            vkey=signer.vkey,
            reason="" if key is None else "новый ключ подписи",
        ),
        ledger,
    )


def _find_key(
    ledger: Ledger, school_id: UUID, year_start: int, person_id: UUID
) -> SignatoryKey | None:
    return ledger.find(SignatoryKey.create_id(school_id, year_start, person_id), SignatoryKey)


def _person_of(ledger: Ledger, actor: Actor) -> UUID:
    account = ledger.get(actor.account_id, Account)
    person_id: UUID = account.person_id
    return person_id


def certify(
    ledger: Ledger,
    *,
    actor: Actor,
    signer: Ed25519Signer,
    school_id: UUID,
    year_start: int,
    kind: str,
    title: str,
    data: bytes,
    checkpoint: StoredCheckpoint,
    origin: str,
) -> tuple[str, UUID]:
    """Have ``actor`` (the head) certify ``data`` with ``signer``: returns the signed certificate
    and the certification's ID. Raises ``CommandError`` if the command is refused."""
    ensure_signatory_key(
        ledger, actor=actor, signer=signer, school_id=school_id, year_start=year_start
    )
    certificate = Certificate(
        kind=kind,
        school_id=school_id,
        signer_id=_person_of(ledger, actor),
        document_sha256=document_digest(data),
        origin=f"{origin}/{checkpoint.log_id}",
        size=checkpoint.size,
        root_hash=checkpoint.root_hash,
        certified_at=ledger.clock().replace(microsecond=0),
    )
    note = sign_certificate(certificate, [signer])
    certification_id = c.handle(
        c.CertifyDocument(
            actor=actor,
            school_id=school_id,
            year_start=year_start,
            kind=kind,
            title=title,
            certificate=note,
        ),
        ledger,
    )
    return note, certification_id


def _block(
    *,
    ledger: Ledger,
    note: str,
    school_name: str,
    signer: Ed25519Signer,
    actor: Actor,
    names: Names | None,
    checkpoint: StoredCheckpoint,
    data: bytes,
) -> CertificationBlock:
    certificate = Certificate.from_text(note[: note.rindex("\n\n") + 1])
    person = _person_of(ledger, actor)
    return CertificationBlock(
        school=school_name,
        signer=f"{display_name(person, names)}, руководитель ОУ",
        date=certificate.certified_at.strftime("%d.%m.%Y %H:%M UTC"),
        log=checkpoint.log_id,
        size=checkpoint.size,
        root=checkpoint.root_hash.hex(),
        sha256=document_digest(data).hex(),
        key=signer.vkey,
        certificate=note,
    )


def print_document(
    ledger: Ledger,
    *,
    checkpointer: Checkpointer,
    kind: str,
    school_id: UUID,
    year_start: int,
    build: Callable[[StoredCheckpoint], dict[str, Any]],
    view: Callable[[Mapping[str, Any]], dict[str, Any]],
    actor: Actor | None = None,
    signer: Ed25519Signer | None = None,
    names: Names | None = None,
) -> Printout:
    """Make a printout: checkpoint, data (``build``), certification (with a signer), PDF/A.

    Raises ``PrintoutError``, ``CommandError`` (certification refused), ``RenderError``.
    """
    log_id = school_log_id(school_id, year_start)
    checkpoint = rest_on_checkpoint(checkpointer, log_id)
    document = build(checkpoint)
    data = canonical_json(document)
    note: str | None = None
    certification_id: UUID | None = None
    block = None
    if signer is not None:
        if actor is None:
            raise PrintoutError("certifying needs the head as actor")
        note, certification_id = certify(
            ledger,
            actor=actor,
            signer=signer,
            school_id=school_id,
            year_start=year_start,
            kind=kind,
            title=document["title"],
            data=data,
            checkpoint=checkpoint,
            origin=checkpointer.origin,
        )
        block = _block(
            ledger=ledger,
            note=note,
            school_name=document["school"]["name"],
            signer=signer,
            actor=actor,
            names=names,
            checkpoint=checkpoint,
            data=data,
        )
    moment = ledger.clock().replace(microsecond=0)
    pdf = render(document=data, view=view(document), block=block, timestamp=moment)
    return Printout(
        kind=kind,
        title=document["title"],
        pdf=pdf,
        data=data,
        document=document,
        checkpoint=checkpoint,
        certificate=note,
        certification_id=certification_id,
    )


def print_summary_sheet(
    ledger: Ledger,
    *,
    checkpointer: Checkpointer,
    class_id: UUID,
    period: str | None = None,
    actor: Actor | None = None,
    signer: Ed25519Signer | None = None,
    names: Names | None = None,
) -> Printout:
    """The summary sheet of a class for the year, or for ``period`` (п. 2.9), certified when a
    signer is given. Raises what ``print_document`` raises, and ``SummaryError``."""
    school_class = ledger.get(class_id, SchoolClass)
    school_id, year_start = school_class.school_id, school_class.year_start
    return print_document(
        ledger,
        checkpointer=checkpointer,
        kind=DOCUMENT_KIND,
        school_id=school_id,
        year_start=year_start,
        build=lambda checkpoint: summary_sheet_document(
            ledger,
            school_id=school_id,
            year_start=year_start,
            class_id=class_id,
            checkpoint=checkpoint,
            origin=checkpointer.origin,
            period=period,
            names=names,
        ),
        view=summary_sheet_view,
        actor=actor,
        signer=signer,
        names=names,
    )


def print_class_journal(
    ledger: Ledger,
    *,
    checkpointer: Checkpointer,
    roster_id: UUID,
    subject_id: UUID,
    first_day: date,
    last_day: date,
    actor: Actor | None = None,
    signer: Ed25519Signer | None = None,
    names: Names | None = None,
) -> Printout:
    """Class journal pages of a roster's subject between two days (п. 3.1)."""
    roster = get_roster(ledger, roster_id)
    return print_document(
        ledger,
        checkpointer=checkpointer,
        kind="class-journal",
        school_id=roster.school_id,
        year_start=roster.year_start,
        build=lambda checkpoint: class_journal_document(
            ledger,
            roster_id=roster_id,
            subject_id=subject_id,
            first_day=first_day,
            last_day=last_day,
            checkpoint=checkpoint,
            origin=checkpointer.origin,
            names=names,
        ),
        view=class_journal_view,
        actor=actor,
        signer=signer,
        names=names,
    )


def print_weekly_diary(
    ledger: Ledger,
    *,
    checkpointer: Checkpointer,
    class_id: UUID,
    student_id: UUID,
    week_of: date,
    actor: Actor | None = None,
    signer: Ed25519Signer | None = None,
    names: Names | None = None,
) -> Printout:
    """A student's weekly diary printout for parents (п. 1.6)."""
    school_class = ledger.get(class_id, SchoolClass)
    return print_document(
        ledger,
        checkpointer=checkpointer,
        kind="weekly-diary",
        school_id=school_class.school_id,
        year_start=school_class.year_start,
        build=lambda checkpoint: weekly_diary_document(
            ledger,
            class_id=class_id,
            student_id=student_id,
            week_of=week_of,
            checkpoint=checkpoint,
            origin=checkpointer.origin,
            names=names,
        ),
        view=weekly_diary_view,
        actor=actor,
        signer=signer,
        names=names,
    )


def certification_time(printout: Printout) -> datetime | None:
    """When a printout was certified (None if it was not). Raises nothing."""
    if printout.certificate is None:
        return None
    text = printout.certificate[: printout.certificate.rindex("\n\n") + 1]
    return Certificate.from_text(text).certified_at
