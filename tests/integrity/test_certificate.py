"""Document certificates (п. 3.1): encoding, signature, and the document they name."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from ejournal.integrity.certificate import (
    Certificate,
    document_digest,
    open_certificate,
    sign_certificate,
    verify_document,
)
from ejournal.integrity.errors import (
    DocumentMismatchError,
    MalformedCertificateError,
    SignatureError,
    UnknownKeyError,
)
from ejournal.integrity.note import generate_signer

CERTIFICATE = Certificate(
    kind="summary-sheet",
    school_id=UUID(int=1),
    signer_id=UUID(int=101),
    document_sha256=document_digest(b'{"a":1}'),
    origin="journal.example.ru/school/x/2025-2026",
    size=42,
    root_hash=bytes(range(32)),
    certified_at=datetime(2026, 6, 1, 10, 0, tzinfo=UTC),
)


def test_round_trip_and_signature() -> None:
    assert Certificate.from_text(CERTIFICATE.to_text()) == CERTIFICATE
    signer = generate_signer("signatory-1")
    note = sign_certificate(CERTIFICATE, [signer])
    opened, verified = open_certificate(note, [signer.verifier()])
    assert opened == CERTIFICATE
    assert set(verified.signatures) == {"signatory-1"}
    verify_document(opened, b'{"a":1}')
    with pytest.raises(DocumentMismatchError, match="differs from the certified one"):
        verify_document(opened, b'{"a":2}')


def test_a_changed_line_or_another_key_fails() -> None:
    signer = generate_signer("signatory-1")
    note = sign_certificate(CERTIFICATE, [signer])
    with pytest.raises(SignatureError, match="does not verify"):
        open_certificate(note.replace("size 42", "size 43"), [signer.verifier()])
    with pytest.raises(UnknownKeyError):
        open_certificate(note, [generate_signer("signatory-2").verifier()])


@pytest.mark.parametrize(
    "text",
    [
        "ejournal-certificate/v1\nkind x\n",
        CERTIFICATE.to_text().replace("kind summary-sheet", "kind Summary"),
        CERTIFICATE.to_text().replace("size 42", "size 042"),
        CERTIFICATE.to_text().replace("ejournal-certificate/v1", "other/v1"),
        CERTIFICATE.to_text()[:-1],
    ],
)
def test_malformed_certificates_are_refused(text: str) -> None:
    with pytest.raises(MalformedCertificateError):
        Certificate.from_text(text)
