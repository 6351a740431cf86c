"""Certifying printed documents (п. 1.2, 3.1): the head registers a signing key for the year, then
certifies documents with signed certificates (``integrity.certificate``).

The handlers never see a private key: the head's key signs the certificate outside the command, and
the handler checks the signature against the key registered in the year's log before it records
the certification. Certification is allowed on a closed year: archiving a closed year's summary
sheets is what it is for (п. 2.11).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from ejournal.commands._access import load_school, load_year, non_blank, principal, year_log
from ejournal.commands.base import Command
from ejournal.commands.errors import refuse, verification_detail
from ejournal.integrity.certificate import open_certificate
from ejournal.integrity.errors import VerificationError
from ejournal.integrity.note import Verifier
from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain.certification import DocumentCertification, SignatoryKey


@dataclass(frozen=True, kw_only=True, slots=True)
class RegisterSignatoryKey(Command[UUID]):
    """The head's verifier key (C2SP vkey) for certifying the year's documents; a second key
    replaces the first and needs a reason. Returns the key record's ID."""

    school_id: UUID
    year_start: int
    vkey: str
    reason: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class CertifyDocument(Command[UUID]):
    """Record the head's signed ``certificate`` of a document; returns the certification's ID."""

    school_id: UUID
    year_start: int
    kind: str
    title: str
    certificate: str


def _head(ledger: Ledger, cmd: RegisterSignatoryKey | CertifyDocument) -> UUID:
    who = principal(ledger, cmd.actor)
    load_school(ledger, cmd.school_id)
    if who.person_id is None or who.role({Role.HEAD}, cmd.school_id) is None:
        raise refuse("certification.head_only")
    load_year(ledger, cmd.school_id, cmd.year_start)
    return who.person_id


def handle_register_signatory_key(cmd: RegisterSignatoryKey, ledger: Ledger) -> UUID:
    person_id = _head(ledger, cmd)
    try:
        Verifier.from_vkey(cmd.vkey.strip())
    except VerificationError as e:
        raise refuse("signatory.invalid_key", detail=verification_detail(e)) from e
    vkey = cmd.vkey.strip()
    key_id = SignatoryKey.create_id(cmd.school_id, cmd.year_start, person_id)
    key = ledger.find(key_id, SignatoryKey)
    now = ledger.clock()
    if key is None:
        key = SignatoryKey.register(
            school_id=cmd.school_id,
            year_start=cmd.year_start,
            person_id=person_id,
            vkey=vkey,
            at=now,
        )
    elif vkey in key.vkeys:
        raise refuse("signatory.already_registered")
    else:
        reason = non_blank(cmd.reason)
        if not reason:
            raise refuse("reason.required")
        key.replace(vkey, reason, at=now)
    log_id = year_log(cmd.school_id, cmd.year_start)
    ledger.record(key, log_id=log_id, actor=cmd.actor, role=Role.HEAD)
    return key.id


def handle_certify_document(cmd: CertifyDocument, ledger: Ledger) -> UUID:
    person_id = _head(ledger, cmd)
    key_id = SignatoryKey.create_id(cmd.school_id, cmd.year_start, person_id)
    key = ledger.find(key_id, SignatoryKey)
    if key is None:
        raise refuse("certification.no_key")
    verifier = Verifier.from_vkey(key.current)
    try:
        certificate, _ = open_certificate(cmd.certificate, [verifier])
    except VerificationError as e:
        raise refuse("certification.invalid", detail=verification_detail(e)) from e
    log_id = year_log(cmd.school_id, cmd.year_start)
    mismatches = [
        name
        for name, ok in (
            ("вид документа", certificate.kind == cmd.kind),
            ("ОУ", certificate.school_id == cmd.school_id),
            ("подписант", certificate.signer_id == person_id),
            ("журнал", certificate.origin.endswith("/" + log_id)),
        )
        if not ok
    ]
    if mismatches:
        raise refuse("certification.invalid", detail="не совпадает " + ", ".join(mismatches))
    digest = certificate.document_sha256.hex()
    certification_id = DocumentCertification.create_id(cmd.school_id, cmd.year_start, digest)
    if ledger.find(certification_id, DocumentCertification) is not None:
        raise refuse("certification.duplicate")
    certification = DocumentCertification.certify(
        school_id=cmd.school_id,
        year_start=cmd.year_start,
        kind=cmd.kind,
        title=non_blank(cmd.title),
        document_sha256=digest,
        certificate=cmd.certificate,
        signer_id=person_id,
        vkey=verifier.vkey,
        at=ledger.clock(),
    )
    ledger.record(certification, log_id=log_id, actor=cmd.actor, role=Role.HEAD)
    return certification.id
