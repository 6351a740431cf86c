"""C2SP tlog-cosignature: our signer and verifier against an independent implementation written
here from the specification (https://c2sp.org/tlog-cosignature), with no project code, and the
specification's own example."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ejournal.integrity.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ejournal.integrity.cosignature import (
    CosignatureSigner,
    CosignatureVerifier,
    add_signature_lines,
    cosignature_timestamp,
    cosigned_message,
    verify_cosignatures,
)
from ejournal.integrity.errors import (
    MalformedVerifierKeyError,
    QuorumError,
    SignatureError,
)
from ejournal.integrity.note import generate_signer

# The specification's example: a checkpoint cosigned by witness.example.com/w1 at 1679315147.
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_COSIGNATURE = (
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dl"
    "rDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
)
SPEC_MESSAGE = (
    "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)
NOW = 1_760_000_000


# --- the independent implementation: hashlib, base64, struct and Ed25519 only -------------------


def spec_key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + b"\x04" + public_key).digest()[:4]


def spec_vkey(name: str, public_key: bytes) -> str:
    material = base64.b64encode(b"\x04" + public_key).decode()
    return f"{name}+{spec_key_id(name, public_key).hex()}+{material}"


def spec_cosign(name: str, key: Ed25519PrivateKey, body: str, timestamp: int) -> str:
    message = b"cosignature/v1\n" + f"time {timestamp}\n".encode() + body.encode()
    public = key.public_key().public_bytes_raw()
    raw = spec_key_id(name, public) + struct.pack(">Q", timestamp) + key.sign(message)
    return f"\u2014 {name} {base64.b64encode(raw).decode()}\n"


def spec_verify(line: str, body: str, name: str, public_key: Ed25519PublicKey) -> int:
    """The timestamp of a valid cosignature line by ``name``; raises on anything else."""
    assert line.startswith("\u2014 ") and line.endswith("\n")
    line_name, encoded = line[2:-1].split(" ")
    assert line_name == name
    raw = base64.b64decode(encoded, validate=True)
    assert raw[:4] == spec_key_id(name, public_key.public_bytes_raw())
    (timestamp,) = struct.unpack(">Q", raw[4:12])
    assert timestamp < 2**63
    message = b"cosignature/v1\n" + f"time {timestamp}\n".encode() + body.encode()
    public_key.verify(raw[12:], message)
    assert len(raw) == 4 + 8 + 64
    return int(timestamp)


# --- the tests ----------------------------------------------------------------------------------


def _witness(name: str = "witness.example/w1") -> tuple[Ed25519PrivateKey, CosignatureSigner]:
    key = Ed25519PrivateKey.generate()
    return key, CosignatureSigner(name, key, clock=lambda: NOW)


def _checkpoint_note() -> tuple[str, str, list[object]]:
    log = generate_signer("ejournal.test")
    body = Checkpoint("ejournal.test/school-2025", 5, bytes(range(32))).to_body()
    return body, sign_checkpoint(Checkpoint.from_body(body), [log]), [log.verifier()]


def test_the_spec_example_timestamp_and_signed_message() -> None:
    raw = base64.b64decode(SPEC_COSIGNATURE.split(" ")[2])
    assert cosignature_timestamp(raw[4:]) == 1679315147
    assert cosigned_message(SPEC_BODY, 1679315147) == SPEC_MESSAGE.encode()


def test_our_cosignature_verifies_with_the_independent_implementation() -> None:
    key, signer = _witness()
    body, _, _ = _checkpoint_note()
    line = signer.cosign(body)
    assert spec_verify(line, body, "witness.example/w1", key.public_key()) == NOW
    assert signer.vkey == spec_vkey("witness.example/w1", key.public_key().public_bytes_raw())


def test_an_independent_cosignature_verifies_with_ours() -> None:
    key = Ed25519PrivateKey.generate()
    body, note, log_verifiers = _checkpoint_note()
    vkey = spec_vkey("witness.example/w2", key.public_key().public_bytes_raw())
    cosigned = note + spec_cosign("witness.example/w2", key, body, 1679315147)
    witnesses = [CosignatureVerifier.from_vkey(vkey)]
    assert dict(verify_cosignatures(cosigned, witnesses, 1)) == {"witness.example/w2": 1679315147}
    # The log's own verification ignores the cosignature line, as C2SP asks.
    checkpoint, _ = open_checkpoint(cosigned, log_verifiers)  # type: ignore[arg-type]
    assert checkpoint.size == 5


def test_a_quorum_counts_distinct_witnesses() -> None:
    (_, first), (_, second) = _witness("w.example/1"), _witness("w.example/2")
    body, note, _ = _checkpoint_note()
    witnesses = [first.verifier(), second.verifier()]
    one = add_signature_lines(note, [first.cosign(body)])
    with pytest.raises(QuorumError, match=r"too few .*expected 2 of w\.example/1, w\.example/2"):
        verify_cosignatures(one, witnesses, 2)
    # The same line twice is one cosignature: it is not appended again.
    assert add_signature_lines(one, [first.cosign(body)]).count("w.example/1") == 1
    both = add_signature_lines(one, [second.cosign(body)])
    assert set(verify_cosignatures(both, witnesses, 2)) == {"w.example/1", "w.example/2"}


def test_a_cosignature_of_another_checkpoint_does_not_verify() -> None:
    _, signer = _witness()
    _, note, _ = _checkpoint_note()
    other = Checkpoint("ejournal.test/school-2025", 6, bytes(32)).to_body()
    forged = note + signer.cosign(other)
    with pytest.raises(SignatureError, match="does not verify"):
        verify_cosignatures(forged, [signer.verifier()], 1)


def test_a_plain_note_signature_by_the_witness_key_is_not_a_cosignature() -> None:
    """The key ID's type byte 0x04 separates cosignatures from note signatures (type 0x01)."""
    key, signer = _witness()
    body, note, _ = _checkpoint_note()
    public = key.public_key().public_bytes_raw()
    note_key_id = hashlib.sha256(b"witness.example/w1\n\x01" + public).digest()[:4]
    raw = note_key_id + key.sign(body.encode())
    plain = note + f"\u2014 witness.example/w1 {base64.b64encode(raw).decode()}\n"
    with pytest.raises(QuorumError, match="found none"):
        verify_cosignatures(plain, [signer.verifier()], 1)


def test_a_timestamp_beyond_2_63_is_refused() -> None:
    key = Ed25519PrivateKey.generate()
    body, note, _ = _checkpoint_note()
    line = spec_cosign("w.example/late", key, body, 2**63)
    verifier = CosignatureVerifier(name="w.example/late", public_key=key.public_key())
    with pytest.raises(SignatureError, match="does not verify"):
        verify_cosignatures(note + line, [verifier], 1)


def test_a_note_verifier_key_is_not_a_witness_key() -> None:
    log = generate_signer("ejournal.test")
    with pytest.raises(MalformedVerifierKeyError, match="expected type 0x04, found type 0x01"):
        CosignatureVerifier.from_vkey(log.vkey)
