"""C2SP tlog-cosignature (https://c2sp.org/tlog-cosignature): a witness's timestamped Ed25519
cosignature of a checkpoint.

A cosignature is one more signature line on the checkpoint's signed note::

    — witness.example.com/w1 base64(key ID ‖ timestamp ‖ Ed25519 signature)

The key ID is ``SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4]`` (signature type 0x04, so the same
Ed25519 key can never be taken for a log's note key); the timestamp is 8 bytes, big-endian POSIX
seconds, at most 2**63-1; the signed message is::

    cosignature/v1
    time <timestamp>
    <the checkpoint's note text, every line, with its final newline>

``CosignatureSigner`` and ``CosignatureVerifier`` are ``note.NoteSigner`` and
``note.NoteVerifier``: ``note.sign_note`` and ``note.open_note`` work with them unchanged.
A cosigned checkpoint is the log's signed note with the witnesses' lines appended
(``add_signature_lines``); ``verify_cosignatures`` counts the valid ones against a quorum.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ejournal.integrity._b64 import b64encode
from ejournal.integrity.errors import QuorumError, UnknownKeyError
from ejournal.integrity.note import (
    SIGNATURE_PREFIX,
    NoteSignature,
    is_valid_key_name,
    key_id,
    open_note,
    parse_vkey,
    split_note,
)

COSIGNATURE_V1_TYPE = 0x04
"""The signature type byte of timestamped Ed25519 cosignatures in key IDs and verifier keys."""

COSIGNATURE_HEADER = "cosignature/v1\n"
"""The first line of every signed message: domain separation from the log's own signatures."""

MAX_TIMESTAMP = 2**63 - 1

_TIMESTAMP_SIZE = 8
_ED25519_SIGNATURE_SIZE = 64


def cosigned_message(text: str | bytes, timestamp: int) -> bytes:
    """The message a cosignature at ``timestamp`` signs over the checkpoint note ``text``.

    Raises ``ValueError`` if ``timestamp`` is outside 0..2**63-1.
    """
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise ValueError(f"cosignature timestamp {timestamp} is out of range")
    body = text.encode("utf-8") if isinstance(text, str) else text
    return f"{COSIGNATURE_HEADER}time {timestamp}\n".encode("ascii") + body


def cosignature_timestamp(signature: bytes) -> int:
    """The timestamp of a cosignature (the signature bytes after the key ID).

    Raises ``ValueError`` if the signature is not 8 + 64 bytes.
    """
    if len(signature) != _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
        raise ValueError(f"a cosignature has 72 bytes, not {len(signature)}")
    return int.from_bytes(signature[:_TIMESTAMP_SIZE], "big")


class CosignatureVerifier:
    """A witness's cosignature verifier: its name and Ed25519 public key."""

    __slots__ = ("_key_id", "_name", "_public_key", "_public_key_bytes")

    def __init__(self, *, name: str, public_key: Ed25519PublicKey) -> None:
        """Raises ``ValueError`` if ``name`` is not a valid key name."""
        if not is_valid_key_name(name):
            raise ValueError(f"invalid key name {name!r}")
        self._name = name
        self._public_key = public_key
        self._public_key_bytes = public_key.public_bytes_raw()
        self._key_id = key_id(name, COSIGNATURE_V1_TYPE, self._public_key_bytes)

    @classmethod
    def from_vkey(cls, vkey: str) -> CosignatureVerifier:
        """Parse a witness verifier key ``name+hex(key ID)+base64(0x04 ‖ public key)``.

        Raises ``MalformedVerifierKeyError`` if it is malformed, not of type 0x04, or its key ID
        does not match.
        """
        name, public_key = parse_vkey(vkey, COSIGNATURE_V1_TYPE)
        return cls(name=name, public_key=public_key)

    @property
    def name(self) -> str:
        """The witness's key name."""
        return self._name

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID (of type 0x04)."""
        return self._key_id

    @property
    def vkey(self) -> str:
        """The verifier key ``name+hex(key ID)+base64(0x04 ‖ public key)``."""
        material = bytes((COSIGNATURE_V1_TYPE,)) + self._public_key_bytes
        return f"{self._name}+{self._key_id.hex()}+{b64encode(material)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Return whether ``signature`` (timestamp ‖ Ed25519 signature) is this witness's
        cosignature of the note text ``message``. Raises nothing."""
        if len(signature) != _TIMESTAMP_SIZE + _ED25519_SIGNATURE_SIZE:
            return False
        timestamp = cosignature_timestamp(signature)
        if timestamp > MAX_TIMESTAMP:
            return False
        try:
            self._public_key.verify(
                signature[_TIMESTAMP_SIZE:], cosigned_message(message, timestamp)
            )
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CosignatureVerifier):
            return NotImplemented
        return (self._name, self._public_key_bytes) == (other._name, other._public_key_bytes)

    def __hash__(self) -> int:
        return hash((COSIGNATURE_V1_TYPE, self._name, self._public_key_bytes))

    def __repr__(self) -> str:
        return f"CosignatureVerifier({self.vkey!r})"


class CosignatureSigner:
    """A witness's cosigner: its name, its Ed25519 private key and its clock (POSIX seconds)."""

    __slots__ = ("_clock", "_private_key", "_verifier")

    def __init__(
        self,
        name: str,
        private_key: Ed25519PrivateKey,
        *,
        clock: Callable[[], int] = lambda: int(time.time()),
    ) -> None:
        """Raises ``ValueError`` if ``name`` is not a valid key name."""
        self._private_key = private_key
        self._clock = clock
        self._verifier = CosignatureVerifier(name=name, public_key=private_key.public_key())

    @property
    def name(self) -> str:
        return self._verifier.name

    @property
    def key_id(self) -> bytes:
        return self._verifier.key_id

    @property
    def vkey(self) -> str:
        return self._verifier.vkey

    def verifier(self) -> CosignatureVerifier:
        """The verifier of this cosigner's cosignatures. Raises nothing."""
        return self._verifier

    def sign(self, message: bytes) -> bytes:
        """Return timestamp ‖ Ed25519 signature of ``cosigned_message(message, now)``.

        Raises ``ValueError`` if the clock is outside 0..2**63-1.
        """
        timestamp = self._clock()
        signature = self._private_key.sign(cosigned_message(message, timestamp))
        return timestamp.to_bytes(_TIMESTAMP_SIZE, "big") + signature

    def cosign(self, text: str) -> str:
        """The signature line ``— name base64(key ID ‖ timestamp ‖ signature)\\n`` of the note
        text ``text`` (a checkpoint body). Raises ``ValueError`` as ``sign``."""
        signature = self.key_id + self.sign(text.encode("utf-8"))
        return f"{SIGNATURE_PREFIX}{self.name} {b64encode(signature)}\n"

    def __repr__(self) -> str:
        return f"CosignatureSigner({self.vkey!r})"


def add_signature_lines(note: str, lines: Iterable[str]) -> str:
    """The signed note ``note`` with the signature ``lines`` appended (a line it has already is
    not repeated): how a checkpoint carries its witnesses' cosignatures.

    Raises ``MalformedNoteError`` if the result is not a well-formed note (a line that is not a
    signature line, too many lines).
    """
    text, _ = split_note(note)
    have = set(note[len(text) + 1 :].splitlines(keepends=True))
    added = [line if line.endswith("\n") else line + "\n" for line in lines]
    combined = note + "".join(line for line in dict.fromkeys(added) if line not in have)
    split_note(combined)
    return combined


def verify_cosignatures(
    note: str | bytes, witnesses: Sequence[CosignatureVerifier], quorum: int
) -> Mapping[str, int]:
    """Check that at least ``quorum`` of ``witnesses`` cosigned the note; return the name of each
    witness whose cosignature verified and its timestamp.

    The note's own signature is not checked here (``checkpoint.open_checkpoint`` with the log's
    keys does that). Lines by other keys are ignored, as C2SP asks. Raises ``SignatureError`` if a
    line by one of ``witnesses`` does not verify, ``QuorumError`` if fewer than ``quorum`` did,
    ``MalformedNoteError`` for a malformed note, ``ValueError`` if ``quorum`` is negative.
    """
    if quorum < 0:
        raise ValueError("a quorum cannot be negative")
    if quorum == 0:
        return MappingProxyType({})
    try:
        verified = open_note(note, witnesses).signatures
    except UnknownKeyError as e:
        verified = MappingProxyType({})
        cause: Exception | None = e
    else:
        cause = None
    timestamps = {name: _timestamp(signature) for name, signature in verified.items()}
    if len(timestamps) < quorum:
        text, _ = split_note(note)
        origin = text.split("\n", 1)[0]
        raise QuorumError(
            "the checkpoint has too few valid witness cosignatures",
            expected=f"{quorum} of {', '.join(sorted(w.name for w in witnesses)) or 'none'}",
            found=", ".join(sorted(timestamps)) or "none",
            where=f"checkpoint of {origin}",
        ) from cause
    return MappingProxyType(timestamps)


def _timestamp(signature: NoteSignature) -> int:
    return cosignature_timestamp(signature.signature)
