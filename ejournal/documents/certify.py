"""Certified printouts (п. 1.6, 2.9, 3.1): a document resting on a signed checkpoint, its SHA-256
signed, rendered as PDF/A with the certification block and the QR code.

Who certifies:

- **the head** (``HeadSignature``): the head's own key, unsealed with the head's passphrase, signs
  the certificate, and the certification is recorded in the year's log (``CertifyDocument``).
  The year close certifies its summary sheets so, and ``ejournal print … --head`` any printout;
- **the journal, on the school's behalf** (``ServiceSeal``): the deployment's signing keys, the
  ones that sign the checkpoints, sign the certificate of a printout made on request (a parent's
  weekly diary, journal pages, a summary sheet through the API), where no head is present to
  give a passphrase. Nothing is recorded in the log: the read that asked for it is in the access
  log (п. 1.7), and the certificate binds the document to a checkpoint the deployment signed.
  Its ``signer`` is the school's ID.

Steps of ``print_document``: the document is built as of the checkpoint given (``build``), its
canonical JSON is certified, and the PDF/A-3b carries the data, the certificate and the signed
checkpoint as attachments.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from ejournal import commands as c
from ejournal.archive.summary import DOCUMENT_KIND, canonical_json
from ejournal.documents.documents import (
    class_journal_document,
    get_roster,
    summary_sheet_document,
    weekly_diary_document,
)
from ejournal.documents.people import Names, display_name
from ejournal.documents.render import CertificationBlock, render
from ejournal.documents.views import class_journal_view, summary_sheet_view, weekly_diary_view
from ejournal.integrity.certificate import Certificate, document_digest, sign_certificate
from ejournal.integrity.note import Ed25519Signer
from ejournal.ledger.actor import Actor
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer, StoredCheckpoint
from ejournal.ledger.domain import Account, SchoolClass
from ejournal.ledger.domain.certification import SignatoryKey
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.logs import school_log_id

JOURNAL_KIND = "class-journal"
DIARY_KIND = "weekly-diary"
TIME_FORMAT = "%d.%m.%Y %H:%M"


class PrintoutError(LedgerError):
    """A printout cannot be made: the log has no entries to rest on, or the seal no key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HeadSignature:
    """The head certifies with their own key (``SignatoryKeyStore``), recorded in the log."""

    actor: Actor
    signer: Ed25519Signer


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceSeal:
    """The deployment's signing keys certify on the school's behalf (see the module's text)."""

    signers: Sequence[Ed25519Signer]


Certifier = HeadSignature | ServiceSeal


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
    key = ledger.find(SignatoryKey.create_id(school_id, year_start, person_id), SignatoryKey)
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
    certificate = _certificate(
        ledger, kind, school_id, _person_of(ledger, actor), data, checkpoint, origin
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


def _certificate(
    ledger: Ledger,
    kind: str,
    school_id: UUID,
    signer_id: UUID,
    data: bytes,
    checkpoint: StoredCheckpoint,
    origin: str,
) -> Certificate:
    return Certificate(
        kind=kind,
        school_id=school_id,
        signer_id=signer_id,
        document_sha256=document_digest(data),
        origin=f"{origin}/{checkpoint.log_id}",
        size=checkpoint.size,
        root_hash=checkpoint.root_hash,
        certified_at=ledger.clock().replace(microsecond=0),
    )


def certificate_of(note: str) -> Certificate:
    """The certificate a signed note carries (unverified: for showing it). Raises
    ``MalformedCertificateError``."""
    return Certificate.from_text(note[: note.rindex("\n\n") + 1])


def entries(count: int) -> str:
    """«1 запись», «3 записи», «775 записей». Raises nothing."""
    if count % 10 == 1 and count % 100 != 11:
        word = "запись"
    elif count % 10 in (2, 3, 4) and count % 100 not in (12, 13, 14):
        word = "записи"
    else:
        word = "записей"
    return f"{count:,} {word}".replace(",", "\u00a0")  # 42 899: a Russian thousands space


def school_time(ledger: Ledger, school_id: UUID, moment: datetime) -> str:
    """``moment`` in the school's time zone, ДД.ММ.ГГГГ ЧЧ:ММ. Raises nothing."""
    return moment.astimezone(c.school_zone(ledger, school_id)).strftime(TIME_FORMAT)


def certification_block(
    ledger: Ledger,
    *,
    note: str,
    school_name: str,
    signer: str,
    key: str,
    checkpoint: StoredCheckpoint,
    data: bytes,
    head: bool,
) -> CertificationBlock:
    """What the certification block shows, the times in the school's time zone."""
    certificate = certificate_of(note)
    signed_at = datetime.fromtimestamp(
        checkpoint.signed_at / 1e6, tz=certificate.certified_at.tzinfo
    )
    school = certificate.school_id
    return CertificationBlock(
        heading="ЗАВЕРЕНО ЭЛЕКТРОННОЙ ПОДПИСЬЮ РУКОВОДИТЕЛЯ ОУ"
        if head
        else "ЗАВЕРЕНО ЭЛЕКТРОННОЙ ПОДПИСЬЮ ЭЛЕКТРОННОГО ЖУРНАЛА",
        school=school_name,
        signer=signer,
        date=school_time(ledger, school, certificate.certified_at),
        as_of=f"контрольная точка журнала от {school_time(ledger, school, signed_at)} "
        f"({entries(checkpoint.size)})",
        log=checkpoint.log_id,
        size=checkpoint.size,
        root=checkpoint.root_hash.hex(),
        sha256=document_digest(data).hex(),
        key=key,
        certificate=note,
        checkpoint=checkpoint.note,
    )


def _certified(
    ledger: Ledger,
    certifier: Certifier,
    *,
    kind: str,
    school_id: UUID,
    year_start: int,
    document: Mapping[str, Any],
    data: bytes,
    checkpoint: StoredCheckpoint,
    origin: str,
    names: Names | None,
) -> tuple[CertificationBlock, str, UUID | None]:
    """Certify ``data``: the block to show, the signed certificate, the certification's ID (the
    head's only)."""
    school_name = document["school"]["name"]
    if isinstance(certifier, HeadSignature):
        note, certification_id = certify(
            ledger,
            actor=certifier.actor,
            signer=certifier.signer,
            school_id=school_id,
            year_start=year_start,
            kind=kind,
            title=document["title"],
            data=data,
            checkpoint=checkpoint,
            origin=origin,
        )
        person = _person_of(ledger, certifier.actor)
        signer = f"{display_name(person, names)}, руководитель ОУ"
        key = certifier.signer.vkey
    else:
        if not certifier.signers:
            raise PrintoutError("the service seal has no signing key")
        certificate = _certificate(ledger, kind, school_id, school_id, data, checkpoint, origin)
        note, certification_id = sign_certificate(certificate, certifier.signers), None
        key = certifier.signers[0].vkey
        signer = f"электронный журнал ОУ (автоматически), ключ {certifier.signers[0].name}"
    block = certification_block(
        ledger,
        note=note,
        school_name=school_name,
        signer=signer,
        key=key,
        checkpoint=checkpoint,
        data=data,
        head=isinstance(certifier, HeadSignature),
    )
    return block, note, certification_id


def print_document(
    ledger: Ledger,
    *,
    checkpoint: StoredCheckpoint,
    origin: str,
    kind: str,
    school_id: UUID,
    year_start: int,
    build: Callable[[StoredCheckpoint], dict[str, Any]],
    view: Callable[[Mapping[str, Any]], dict[str, Any]],
    certifier: Certifier | None = None,
    names: Names | None = None,
) -> Printout:
    """Make a printout of the document ``build`` makes as of ``checkpoint``, certified by
    ``certifier`` (uncertified without one), as PDF/A.

    Raises ``PrintoutError``, ``CommandError`` (the head's certification refused),
    ``RenderError``.
    """
    document = build(checkpoint)
    data = canonical_json(document)
    note: str | None = None
    certification_id: UUID | None = None
    block = None
    if certifier is not None:
        block, note, certification_id = _certified(
            ledger,
            certifier,
            kind=kind,
            school_id=school_id,
            year_start=year_start,
            document=document,
            data=data,
            checkpoint=checkpoint,
            origin=origin,
            names=names,
        )
    moment = (
        certificate_of(note).certified_at
        if note is not None
        else ledger.clock().replace(microsecond=0)
    )
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
    checkpoint: StoredCheckpoint,
    origin: str,
    class_id: UUID,
    period: str | None = None,
    certifier: Certifier | None = None,
    names: Names | None = None,
) -> Printout:
    """The summary sheet of a class for the year, or for ``period`` (п. 2.9). Raises what
    ``print_document`` raises, and ``SummaryError``."""
    school_class = ledger.get(class_id, SchoolClass)
    school_id, year_start = school_class.school_id, school_class.year_start
    return print_document(
        ledger,
        checkpoint=checkpoint,
        origin=origin,
        kind=DOCUMENT_KIND,
        school_id=school_id,
        year_start=year_start,
        build=lambda at: summary_sheet_document(
            ledger,
            school_id=school_id,
            year_start=year_start,
            class_id=class_id,
            checkpoint=at,
            origin=origin,
            period=period,
            names=names,
        ),
        view=summary_sheet_view,
        certifier=certifier,
        names=names,
    )


def print_class_journal(
    ledger: Ledger,
    *,
    checkpoint: StoredCheckpoint,
    origin: str,
    roster_id: UUID,
    subject_id: UUID,
    first_day: date,
    last_day: date,
    certifier: Certifier | None = None,
    names: Names | None = None,
) -> Printout:
    """Class journal pages of a roster's subject between two days (п. 3.1)."""
    roster = get_roster(ledger, roster_id)
    return print_document(
        ledger,
        checkpoint=checkpoint,
        origin=origin,
        kind=JOURNAL_KIND,
        school_id=roster.school_id,
        year_start=roster.year_start,
        build=lambda at: class_journal_document(
            ledger,
            roster_id=roster_id,
            subject_id=subject_id,
            first_day=first_day,
            last_day=last_day,
            checkpoint=at,
            origin=origin,
            names=names,
        ),
        view=class_journal_view,
        certifier=certifier,
        names=names,
    )


def print_weekly_diary(
    ledger: Ledger,
    *,
    checkpoint: StoredCheckpoint,
    origin: str,
    class_id: UUID,
    student_id: UUID,
    week_of: date,
    certifier: Certifier | None = None,
    names: Names | None = None,
) -> Printout:
    """A student's weekly diary printout for parents (п. 1.6)."""
    school_class = ledger.get(class_id, SchoolClass)
    return print_document(
        ledger,
        checkpoint=checkpoint,
        origin=origin,
        kind=DIARY_KIND,
        school_id=school_class.school_id,
        year_start=school_class.year_start,
        build=lambda at: weekly_diary_document(
            ledger,
            class_id=class_id,
            student_id=student_id,
            week_of=week_of,
            checkpoint=at,
            origin=origin,
            names=names,
        ),
        view=weekly_diary_view,
        certifier=certifier,
        names=names,
    )


def log_of(ledger: Ledger, school_class_or_roster: UUID) -> str:
    """The year log a class's or roster's printouts rest on. Raises ``AggregateNotFoundError``."""
    roster = get_roster(ledger, school_class_or_roster)
    return school_log_id(roster.school_id, roster.year_start)


def certification_time(printout: Printout) -> datetime | None:
    """When a printout was certified (None if it was not). Raises nothing."""
    return (
        None if printout.certificate is None else certificate_of(printout.certificate).certified_at
    )
