"""Document certificates: a signatory's C2SP signed note over a document's SHA-256 (п. 3.1).

A certified printout (a summary sheet, journal pages, a weekly diary) carries the data it shows as
canonical bytes (``document.json``, embedded in the PDF and kept in archives). Its certificate is a
signed note whose text is, line by line::

    ejournal-certificate/v1
    kind summary-sheet
    school 0c4e…-…                     (the school's UUID)
    signer 0000…-…                     (the signatory's person UUID; the school's for the
                                        journal's seal, signed by a deployment key)
    sha256 <64 hex digits>             (SHA-256 of the document bytes)
    checkpoint <origin>                (the signed checkpoint the document rests on)
    size <tree size>
    root <base64 root hash>
    certified 2026-06-01T10:00:00Z     (server time, UTC, seconds)

followed by the signature lines of the note (Ed25519; the key name is the signatory's). The QR code
of a printout holds exactly this note, so a verifier with the signatory's verifier key and the
deployment's checkpoint keys can check a paper copy against the document data and the log.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from ejournal.integrity._b64 import b64decode, b64encode
from ejournal.integrity.errors import DocumentMismatchError, MalformedCertificateError
from ejournal.integrity.note import NoteSigner, NoteVerifier, VerifiedNote, open_note, sign_note

CERTIFICATE_HEADER = "ejournal-certificate/v1"
"""The first line of every certificate text."""

_FIELDS = ("kind", "school", "signer", "sha256", "checkpoint", "size", "root", "certified")
_KIND = re.compile(r"[a-z][a-z0-9-]{0,63}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True, slots=True, kw_only=True)
class Certificate:
    """What a signatory certifies: that the document of ``kind`` with SHA-256 ``document_sha256``,
    drawn from the log under checkpoint (``origin``, ``size``, ``root_hash``), is authentic.

    Raises ``MalformedCertificateError`` on construction if a field cannot be written: a kind
    that is not lowercase letters, digits and hyphens, a digest that is not 32 bytes, an origin
    with spaces or control characters, a negative size, or a naive time.
    """

    kind: str
    school_id: UUID
    signer_id: UUID
    document_sha256: bytes
    origin: str
    size: int
    root_hash: bytes
    certified_at: datetime

    def __post_init__(self) -> None:
        if not _KIND.fullmatch(self.kind):
            raise MalformedCertificateError("invalid document kind", found=repr(self.kind))
        if len(self.document_sha256) != 32 or len(self.root_hash) != 32:
            raise MalformedCertificateError("document digest and root must be 32 bytes")
        if not self.origin or any(char.isspace() or ord(char) < 32 for char in self.origin):
            raise MalformedCertificateError("invalid checkpoint origin", found=repr(self.origin))
        if isinstance(self.size, bool) or not 0 <= self.size < 2**64:
            raise MalformedCertificateError("tree size out of range", found=repr(self.size))
        if self.certified_at.tzinfo is None:
            raise MalformedCertificateError("certification time must be timezone-aware")

    def to_text(self) -> str:
        """The note text of this certificate. Raises nothing."""
        values = (
            self.kind,
            str(self.school_id),
            str(self.signer_id),
            self.document_sha256.hex(),
            self.origin,
            str(self.size),
            b64encode(self.root_hash),
            self.certified_at.astimezone(UTC).strftime(_TIME_FORMAT),
        )
        pairs = zip(_FIELDS, values, strict=True)
        lines = [CERTIFICATE_HEADER, *(f"{name} {value}" for name, value in pairs)]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def from_text(cls, text: str) -> Certificate:
        """Parse a certificate text; the inverse of ``to_text``.

        Raises ``MalformedCertificateError`` if a line is missing, out of order, extra, or a value
        is not in its canonical form.
        """
        if not text.endswith("\n"):
            raise MalformedCertificateError("certificate text must end with a newline")
        lines = text[:-1].split("\n")
        if lines[0] != CERTIFICATE_HEADER:
            raise MalformedCertificateError(
                "not a certificate", expected=CERTIFICATE_HEADER, found=repr(lines[0][:40])
            )
        if len(lines) != 1 + len(_FIELDS):
            raise MalformedCertificateError(
                "wrong number of lines",
                expected=str(1 + len(_FIELDS)),
                found=str(len(lines)),
            )
        values: dict[str, str] = {}
        for name, line in zip(_FIELDS, lines[1:], strict=True):
            label, space, value = line.partition(" ")
            if label != name or not space or not value:
                raise MalformedCertificateError(
                    "unexpected line", expected=f"{name} <value>", found=repr(line[:60])
                )
            values[name] = value
        try:
            school_id, signer_id = UUID(values["school"]), UUID(values["signer"])
            certified_at = datetime.strptime(values["certified"], _TIME_FORMAT).replace(tzinfo=UTC)
            root_hash = b64decode(values["root"])
        except ValueError as e:
            raise MalformedCertificateError(f"invalid value: {e}") from e
        if not _HEX64.fullmatch(values["sha256"]) or not _DECIMAL.fullmatch(values["size"]):
            raise MalformedCertificateError("digest or size is not canonical")
        certificate = cls(
            kind=values["kind"],
            school_id=school_id,
            signer_id=signer_id,
            document_sha256=bytes.fromhex(values["sha256"]),
            origin=values["checkpoint"],
            size=int(values["size"]),
            root_hash=root_hash,
            certified_at=certified_at,
        )
        if certificate.to_text() != text:
            raise MalformedCertificateError("certificate text is not canonical")
        return certificate


def document_digest(document: bytes) -> bytes:
    """SHA-256 of a document's bytes. Raises nothing."""
    return hashlib.sha256(document).digest()


def sign_certificate(certificate: Certificate, signers: Iterable[NoteSigner]) -> str:
    """The certificate as a signed note. Raises ``ValueError`` if there is no valid signer."""
    return sign_note(certificate.to_text(), signers)


def open_certificate(
    note: str | bytes, verifiers: Iterable[NoteVerifier]
) -> tuple[Certificate, VerifiedNote]:
    """Verify a signed certificate against the signatories' verifier keys and parse it.

    Raises what ``note.open_note`` raises (``MalformedNoteError``, ``SignatureError``,
    ``UnknownKeyError``) and ``MalformedCertificateError`` if the signed text is not a certificate.
    """
    verified = open_note(note, verifiers)
    return Certificate.from_text(verified.text), verified


def verify_document(certificate: Certificate, document: bytes, *, where: str | None = None) -> None:
    """Check that ``document`` is the one the certificate names.

    Raises ``DocumentMismatchError`` with the certified and the actual SHA-256.
    """
    found = document_digest(document)
    if found != certificate.document_sha256:
        raise DocumentMismatchError(
            "document differs from the certified one",
            expected=certificate.document_sha256.hex(),
            found=found.hex(),
            where=where,
        )
