"""Verifying a certified printout (п. 3.1) from the PDF alone and the trusted keys.

A printout carries its data (``document.json``), its certificate (``certificate.txt``, the QR
code's text) and the signed checkpoint it rests on (``checkpoint.txt``). ``verify_printout_file``
checks, in order, and raises at the first that fails:

1. the three attachments are there;
2. the QR code on the page holds exactly the attached certificate (its modules, read from the
   image in the PDF, against the QR code of the certificate's text);
3. the certificate is signed by a trusted key: a head's certifying key (``signatory-<person>``,
   the person being the certificate's signer) or a deployment key (the journal's seal, the signer
   being the school);
4. the attached data is the certified data (SHA-256);
5. the checkpoint is signed by a trusted deployment key, is the one the certificate names (origin,
   size, root), and the data names it too.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pypdf import PdfReader
from pypdf.generic import DictionaryObject, StreamObject

from ejournal.documents.render import qr_modules
from ejournal.integrity.certificate import Certificate, open_certificate, verify_document
from ejournal.integrity.checkpoint import open_checkpoint
from ejournal.integrity.errors import DocumentMismatchError, RootMismatchError, SignatureError
from ejournal.integrity.note import Verifier

ATTACHMENT = "document.json"
CERTIFICATE = "certificate.txt"
CHECKPOINT = "checkpoint.txt"
SIGNATORY_PREFIX = "signatory-"


@dataclass(frozen=True, slots=True)
class VerifiedPrintout:
    certificate: Certificate
    data: bytes
    signed_by: tuple[str, ...]
    checks: list[str] = field(default_factory=list)
    """What was checked, one line each, for the reader."""


def attachments(pdf: bytes) -> dict[str, bytes]:
    """The files attached to a PDF, by name. Raises ``DocumentMismatchError`` if it is not a
    readable PDF, or a name is attached twice."""
    try:
        found = PdfReader(io.BytesIO(pdf)).attachments
        files = {name: list(contents) for name, contents in found.items()}
    except Exception as e:  # pypdf raises many kinds for a damaged file; all mean the same here
        raise DocumentMismatchError(f"not a readable PDF: {e}") from e
    doubled = sorted(name for name, contents in files.items() if len(contents) != 1)
    if doubled:
        raise DocumentMismatchError(f"the PDF carries {', '.join(doubled)} more than once")
    return {name: contents[0] for name, contents in files.items()}


def embedded_data(pdf: bytes) -> bytes:
    """The certified data attached to a printout. Raises ``DocumentMismatchError`` if absent."""
    return _attached(attachments(pdf), ATTACHMENT)


def _attached(files: dict[str, bytes], name: str) -> bytes:
    if name not in files:
        raise DocumentMismatchError(f"the PDF must carry {name}", where=name)
    return files[name]


def _images(pdf: bytes) -> Iterator[StreamObject]:
    reader = PdfReader(io.BytesIO(pdf))
    for page in reversed(reader.pages):  # the certification block is on the last page
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources else None
        for ref in (xobjects.get_object() if xobjects else DictionaryObject()).values():
            xobject = ref.get_object()
            if isinstance(xobject, StreamObject) and xobject.get("/Subtype") == "/Image":
                yield xobject


def _modules(image: StreamObject) -> list[list[bool]] | None:
    """The image as rows of dark (True) and light pixels, if it is 8-bit gray or RGB."""
    width, height = image.get("/Width"), image.get("/Height")
    if not isinstance(width, int) or not isinstance(height, int):
        return None
    if image.get("/BitsPerComponent") != 8:
        return None
    samples = image.get_data()
    channels = len(samples) // (width * height) if width * height else 0
    if channels not in (1, 3) or len(samples) != width * height * channels:
        return None
    stride = width * channels
    return [
        [samples[row * stride + col * channels] < 128 for col in range(width)]
        for row in range(height)
    ]


def verify_qr_code(pdf: bytes, note: str) -> None:
    """Check that the PDF shows the QR code of ``note``. Raises ``DocumentMismatchError``."""
    expected = qr_modules(note)
    images = [_modules(image) for image in _images(pdf)]
    if expected in images:
        return
    raise DocumentMismatchError(
        "the QR code on the page does not hold the attached certificate"
        if any(images)
        else "the PDF shows no QR code",
        expected=f"the QR code of {CERTIFICATE} ({len(expected) - 8} modules a side)",
        found=f"{len([i for i in images if i])} other image(s)",
    )


def verify_signer(certificate: Certificate, signed_by: Sequence[str]) -> str:
    """Who certified, as the key that signed says: a head's certifying key must be the
    certificate's signer's, a deployment key seals for the school. Returns it in words; raises
    ``SignatureError`` when the key and the certificate's signer disagree."""
    for name in signed_by:
        if name.startswith(SIGNATORY_PREFIX):
            if name != f"{SIGNATORY_PREFIX}{certificate.signer_id}":
                raise SignatureError(
                    "the certificate is signed by another person's key",
                    expected=f"{SIGNATORY_PREFIX}{certificate.signer_id}",
                    found=name,
                )
            return f"the head's key {name}"
        if certificate.signer_id != certificate.school_id:
            raise SignatureError(
                "a deployment key seals only for the school",
                expected=f"signer {certificate.school_id} (the school)",
                found=f"signer {certificate.signer_id}",
            )
        return f"the journal's key {name}, on the school's behalf"
    raise SignatureError("no trusted key signed the certificate")


def _data_names(data: bytes, certificate: Certificate) -> None:
    try:
        log: dict[str, Any] = json.loads(data)["log"]
        named = (log["origin"], int(log["size"]), bytes.fromhex(log["root"]))
    except (ValueError, KeyError, TypeError) as e:
        raise DocumentMismatchError(f"the data names no checkpoint: {e!r}", where=ATTACHMENT) from e
    if named != (certificate.origin, certificate.size, certificate.root_hash):
        raise RootMismatchError(
            "the data names another checkpoint than its certificate",
            expected=f"{certificate.origin} size {certificate.size}",
            found=f"{named[0]} size {named[1]}",
            where=ATTACHMENT,
        )


def verify_printout(
    pdf: bytes,
    certificate_note: str,
    *,
    signatories: Sequence[Verifier],
    checkpoint_verifiers: Sequence[Verifier] = (),
    checkpoint_note: str | None = None,
) -> VerifiedPrintout:
    """Verify a printout against its certificate (the QR code's content): the signatory's
    signature, the embedded data's SHA-256, and — given the signed checkpoint the certificate
    names and the deployment's keys — that checkpoint's signature, size and root.

    Raises ``DocumentMismatchError``, the errors of ``open_certificate`` and ``open_checkpoint``,
    and ``RootMismatchError`` if the checkpoint is not the one the certificate names.
    """
    certificate, note = open_certificate(certificate_note, signatories)
    data = embedded_data(pdf)
    verify_document(certificate, data, where=ATTACHMENT)
    checks = [f"certificate signed by {', '.join(sorted(note.signatures))}"]
    checks.append(
        f"{ATTACHMENT} is the certified data (SHA-256 {certificate.document_sha256.hex()})"
    )
    if checkpoint_note is not None:
        checkpoint, _ = open_checkpoint(
            checkpoint_note, checkpoint_verifiers, origin=certificate.origin
        )
        if (checkpoint.size, checkpoint.root_hash) != (certificate.size, certificate.root_hash):
            raise RootMismatchError(
                "the certificate names another checkpoint",
                expected=f"size {certificate.size} root {certificate.root_hash.hex()}",
                found=f"size {checkpoint.size} root {checkpoint.root_hash.hex()}",
            )
        checks.append(f"checkpoint {certificate.origin} at size {certificate.size} is signed")
    return VerifiedPrintout(
        certificate=certificate,
        data=data,
        signed_by=tuple(sorted(note.signatures)),
        checks=checks,
    )


def verify_printout_file(pdf: bytes, *, verifiers: Sequence[Verifier]) -> VerifiedPrintout:
    """Verify a printout from the PDF alone with ``verifiers`` (the deployment's keys and the
    heads' certifying keys, kept outside the database): see the module's text.

    Raises ``DocumentMismatchError`` (an attachment missing, the QR code or the data not the
    certified ones), ``SignatureError`` and ``UnknownKeyError`` (no trusted key signed, or one
    that may not sign for this signer), ``MalformedNoteError``, ``MalformedCertificateError``,
    ``MalformedCheckpointError``, ``OriginMismatchError`` and ``RootMismatchError``.
    """
    files = attachments(pdf)
    note = _attached(files, CERTIFICATE).decode("utf-8", "replace")
    checkpoint_note = _attached(files, CHECKPOINT).decode("utf-8", "replace")
    data = _attached(files, ATTACHMENT)
    verify_qr_code(pdf, note)
    verified = verify_printout(
        pdf,
        note,
        signatories=verifiers,
        checkpoint_verifiers=[v for v in verifiers if not v.name.startswith(SIGNATORY_PREFIX)],
        checkpoint_note=checkpoint_note,
    )
    who = verify_signer(verified.certificate, verified.signed_by)
    _data_names(data, verified.certificate)
    certificate = verified.certificate
    checks = [
        f"the QR code holds {CERTIFICATE}",
        f"certified by {who} ({certificate.kind}, school {certificate.school_id})",
        *verified.checks[1:],
        f"{ATTACHMENT} rests on that checkpoint",
    ]
    return VerifiedPrintout(
        certificate=certificate, data=data, signed_by=verified.signed_by, checks=checks
    )
