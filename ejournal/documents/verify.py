"""Verifying a certified printout (п. 3.1): its embedded data against the certificate, the
certificate's signature, and the checkpoint it rests on."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from pypdf import PdfReader

from ejournal.integrity.certificate import Certificate, open_certificate, verify_document
from ejournal.integrity.checkpoint import open_checkpoint
from ejournal.integrity.errors import DocumentMismatchError, RootMismatchError
from ejournal.integrity.note import Verifier

ATTACHMENT = "document.json"


@dataclass(frozen=True, slots=True)
class VerifiedPrintout:
    certificate: Certificate
    data: bytes
    signed_by: tuple[str, ...]


def embedded_data(pdf: bytes) -> bytes:
    """The certified data attached to a printout. Raises ``DocumentMismatchError`` if absent."""
    try:
        attachments = PdfReader(io.BytesIO(pdf)).attachments
        found = attachments.get(ATTACHMENT, [])
    except Exception as e:
        raise DocumentMismatchError(f"not a readable PDF: {e}") from e
    if len(found) != 1:
        raise DocumentMismatchError(f"the PDF must carry exactly one {ATTACHMENT}")
    return found[0]


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
    return VerifiedPrintout(
        certificate=certificate, data=data, signed_by=tuple(sorted(note.signatures))
    )
