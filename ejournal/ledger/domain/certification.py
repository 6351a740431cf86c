"""Certification of printed documents (п. 3.1, 2.9): the signatory's key and each certificate.

A head certifies a printout by signing its data's SHA-256 with an Ed25519 key
(``integrity.certificate``). Both the key and each certificate are records of the school year's log,
so an archive of the year shows who certified what, with which key, resting on which checkpoint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ejournal.ledger.domain.ids import natural_id


class SignatoryKey(Aggregate):
    """The verifier keys (C2SP vkeys) a person certifies documents with, in one school year."""

    class Registered(Aggregate.Created):
        school_id: UUID
        year_start: int
        person_id: UUID
        vkey: str

    class Replaced(Aggregate.Event):
        """A new key from now on (the old one lost or compromised); earlier certificates keep
        verifying with the old key, which stays in ``vkeys``."""

        vkey: str
        reason: str

        def apply(self, aggregate: Any) -> None:
            key: SignatoryKey = aggregate
            key.vkeys.append(self.vkey)

    @staticmethod
    def create_id(school_id: UUID, year_start: int, person_id: UUID) -> UUID:
        """The signatory key record of ``person_id`` in the school's year."""
        return natural_id("signatory-key", school_id, year_start, person_id)

    def __init__(self, *, school_id: UUID, year_start: int, person_id: UUID, vkey: str) -> None:
        self.school_id = school_id
        self.year_start = year_start
        self.person_id = person_id
        self.vkeys = [vkey]

    @property
    def current(self) -> str:
        """The key the person certifies with now."""
        return self.vkeys[-1]

    @classmethod
    def register(
        cls, *, school_id: UUID, year_start: int, person_id: UUID, vkey: str, at: datetime
    ) -> SignatoryKey:
        """A person's first key in the year; the caller has parsed ``vkey``."""
        return cls._create(
            cls.Registered,
            school_id=school_id,
            year_start=year_start,
            person_id=person_id,
            vkey=vkey,
            timestamp=at,
        )

    def replace(self, vkey: str, reason: str, *, at: datetime) -> None:
        """Certify with ``vkey`` from now on. Precondition: a new key and a reason."""
        self.trigger_event(self.Replaced, vkey=vkey, reason=reason, timestamp=at)


class DocumentCertification(Aggregate):
    """One certified document: its kind and title, its data's SHA-256, and the signed certificate
    (the C2SP note a printout's QR code holds)."""

    class Certified(Aggregate.Created):
        school_id: UUID
        year_start: int
        kind: str
        title: str
        document_sha256: str
        """Lowercase hex."""
        certificate: str
        """The signed note, verbatim."""
        signer_id: UUID
        vkey: str

    @staticmethod
    def create_id(school_id: UUID, year_start: int, document_sha256: str) -> UUID:
        """The certification of the document with that SHA-256 (hex) in the school's year."""
        return natural_id("certification", school_id, year_start, document_sha256)

    def __init__(
        self,
        *,
        school_id: UUID,
        year_start: int,
        kind: str,
        title: str,
        document_sha256: str,
        certificate: str,
        signer_id: UUID,
        vkey: str,
    ) -> None:
        self.school_id = school_id
        self.year_start = year_start
        self.kind = kind
        self.title = title
        self.document_sha256 = document_sha256
        self.certificate = certificate
        self.signer_id = signer_id
        self.vkey = vkey

    @classmethod
    def certify(
        cls,
        *,
        school_id: UUID,
        year_start: int,
        kind: str,
        title: str,
        document_sha256: str,
        certificate: str,
        signer_id: UUID,
        vkey: str,
        at: datetime,
    ) -> DocumentCertification:
        """A new certification; the caller has verified ``certificate``."""
        return cls._create(
            cls.Certified,
            id=cls.create_id(school_id, year_start, document_sha256),
            school_id=school_id,
            year_start=year_start,
            kind=kind,
            title=title,
            document_sha256=document_sha256,
            certificate=certificate,
            signer_id=signer_id,
            vkey=vkey,
            timestamp=at,
        )
