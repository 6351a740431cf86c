"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 signatures.

A note is a text ending in a newline, a blank line, and one or more signature lines
``— <key name> base64(key ID ‖ signature)`` (em dash U+2014). The key ID of an Ed25519 key is
``SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]``; a verifier key is written
``name+hex(key ID)+base64(0x01 ‖ public key)``.

Opening a note follows the specification and golang.org/x/mod/sumdb/note: signatures by unknown
keys (name and key ID not both known) are ignored; every signature by a known key must verify; at
least one must. Parsing is strict: valid UTF-8, no control characters but newline, canonical
base64, at most ``MAX_SIGNATURES`` signature lines. Unlike sumdb/note, a repeated signature line by
a known key is verified again rather than skipped, so a note never carries a bad signature by a
key the reader trusts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ejournal.integrity._b64 import b64decode, b64encode
from ejournal.integrity.errors import (
    MalformedNoteError,
    MalformedVerifierKeyError,
    SignatureError,
    UnknownKeyError,
)

ED25519_SIGNATURE_TYPE = 0x01
"""The signature type byte of Ed25519 in key IDs and verifier keys."""

MAX_SIGNATURES = 100
"""Most signature lines a note may carry (the specification asks to accept at least 16)."""

SIGNATURE_PREFIX = "\u2014 "
"""Every signature line starts with an em dash and a space."""

_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_ED25519_PUBLIC_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64


def is_valid_key_name(name: str) -> bool:
    """Return whether ``name`` can name a key: non-empty, no Unicode space, no ``+``, no control
    character. Raises nothing."""
    return (
        bool(name)
        and "+" not in name
        and not any(char.isspace() for char in name)
        and _CONTROL.search(name) is None
    )


def key_id(name: str, signature_type: int, public_key: bytes) -> bytes:
    """Return the 4-byte key ID ``SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]``. Raises nothing."""
    material = name.encode("utf-8") + b"\n" + bytes((signature_type,)) + public_key
    return hashlib.sha256(material).digest()[:4]


def parse_vkey(vkey: str, signature_type: int) -> tuple[str, Ed25519PublicKey]:
    """The name and Ed25519 public key of a verifier key ``name+hex(key ID)+base64(type ‖ key)``
    of ``signature_type`` (0x01 for note signatures, 0x04 for timestamped cosignatures).

    Raises ``MalformedVerifierKeyError`` if it is malformed, of another type, or its key ID is not
    the one computed from its name, type and key.
    """
    name, _, rest = vkey.partition("+")
    hex_id, _, encoded = rest.partition("+")
    if not is_valid_key_name(name):
        raise MalformedVerifierKeyError("invalid key name in verifier key", found=repr(name))
    if len(hex_id) != 8 or not all(char in "0123456789abcdef" for char in hex_id):
        raise MalformedVerifierKeyError(
            "key ID in verifier key is not 8 lowercase hex digits", found=repr(hex_id)
        )
    try:
        material = b64decode(encoded)
    except ValueError as e:
        raise MalformedVerifierKeyError(f"key in verifier key: {e}") from e
    if not material or material[0] != signature_type:
        raise MalformedVerifierKeyError(
            "verifier key is not an Ed25519 key of the expected signature type",
            expected=f"type {signature_type:#04x}",
            found=f"type {material[0]:#04x}" if material else "no key",
        )
    if len(material) != 1 + _ED25519_PUBLIC_KEY_SIZE:
        raise MalformedVerifierKeyError(
            "Ed25519 public key has the wrong size",
            expected=f"{_ED25519_PUBLIC_KEY_SIZE} bytes",
            found=f"{len(material) - 1} bytes",
        )
    try:
        public_key = Ed25519PublicKey.from_public_bytes(material[1:])
    except ValueError as e:
        raise MalformedVerifierKeyError(f"invalid Ed25519 public key: {e}") from e
    computed = key_id(name, signature_type, material[1:])
    if computed != bytes.fromhex(hex_id):
        raise MalformedVerifierKeyError(
            "key ID in verifier key does not match its name and key",
            expected=computed.hex(),
            found=hex_id,
        )
    return name, public_key


class NoteSigner(Protocol):
    """What ``sign_note`` needs from a signer."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def sign(self, message: bytes) -> bytes: ...


class NoteVerifier(Protocol):
    """What ``open_note`` needs from a verifier."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def verify(self, message: bytes, signature: bytes) -> bool: ...


class Verifier:
    """An Ed25519 note verifier: a key name and a public key."""

    __slots__ = ("_key_id", "_name", "_public_key", "_public_key_bytes")

    def __init__(self, *, name: str, public_key: Ed25519PublicKey) -> None:
        """Raises ``ValueError`` if ``name`` is not a valid key name."""
        if not is_valid_key_name(name):
            raise ValueError(f"invalid key name {name!r}")
        self._name = name
        self._public_key = public_key
        self._public_key_bytes = public_key.public_bytes_raw()
        self._key_id = key_id(name, ED25519_SIGNATURE_TYPE, self._public_key_bytes)

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        """Parse a verifier key ``name+hex(key ID)+base64(0x01 ‖ public key)``; no surrounding
        whitespace.

        Raises ``MalformedVerifierKeyError`` if it is malformed, not Ed25519, or its key ID is not
        the one computed from its name and key.
        """
        name, public_key = parse_vkey(vkey, ED25519_SIGNATURE_TYPE)
        return cls(name=name, public_key=public_key)

    @property
    def name(self) -> str:
        """The key name."""
        return self._name

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID."""
        return self._key_id

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return self._public_key_bytes

    @property
    def vkey(self) -> str:
        """The verifier key string ``name+hex(key ID)+base64(0x01 ‖ public key)``."""
        material = bytes((ED25519_SIGNATURE_TYPE,)) + self._public_key_bytes
        return f"{self._name}+{self._key_id.hex()}+{b64encode(material)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Return whether ``signature`` is this key's Ed25519 signature of ``message``.

        Raises nothing.
        """
        if len(signature) != _ED25519_SIGNATURE_SIZE:
            return False
        try:
            self._public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Verifier):
            return NotImplemented
        return (self._name, self._public_key_bytes) == (other._name, other._public_key_bytes)

    def __hash__(self) -> int:
        return hash((self._name, self._public_key_bytes))

    def __repr__(self) -> str:
        return f"Verifier({self.vkey!r})"


class Ed25519Signer:
    """An Ed25519 note signer: a key name and a private key."""

    __slots__ = ("_private_key", "_verifier")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        """Raises ``ValueError`` if ``name`` is not a valid key name."""
        self._private_key = private_key
        self._verifier = Verifier(name=name, public_key=private_key.public_key())

    @property
    def name(self) -> str:
        """The key name."""
        return self._verifier.name

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID."""
        return self._verifier.key_id

    @property
    def vkey(self) -> str:
        """The verifier key string that checks this signer's signatures."""
        return self._verifier.vkey

    def verifier(self) -> Verifier:
        """Return the verifier of this signer's signatures. Raises nothing."""
        return self._verifier

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of ``message``. Raises nothing."""
        return self._private_key.sign(message)

    def __repr__(self) -> str:
        return f"Ed25519Signer({self._verifier.vkey!r})"


def generate_signer(name: str) -> Ed25519Signer:
    """Return a signer with a new random Ed25519 key.

    Raises ``ValueError`` if ``name`` is not a valid key name.
    """
    return Ed25519Signer(name, Ed25519PrivateKey.generate())


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, key ID, and the signature without the key ID."""

    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True, slots=True)
class VerifiedNote:
    """A note whose text is signed by at least one known key.

    ``signatures`` maps the name of each known key that signed to its signature (the first line,
    should a name have several known keys); ``unverified`` are the ignored lines by unknown keys.
    """

    text: str
    signatures: Mapping[str, NoteSignature]
    unverified: tuple[NoteSignature, ...] = field(default=())


def _check_characters(message: str) -> None:
    control = _CONTROL.search(message)
    if control is not None:
        raise MalformedNoteError(
            f"note contains control character {control.group()!r} at {control.start()}"
        )
    try:
        message.encode("utf-8")
    except UnicodeEncodeError as e:
        raise MalformedNoteError(f"note is not valid Unicode: {e.reason}") from e


def sign_note(text: str, signers: Iterable[NoteSigner]) -> str:
    """Return the signed note: ``text``, a blank line, and one signature line per signer.

    Raises ``MalformedNoteError`` if ``text`` does not end in a newline or contains a control
    character other than newline; ``ValueError`` if there is no signer, more than
    ``MAX_SIGNATURES``, or a signer's name or key ID is invalid.
    """
    if not text.endswith("\n"):
        raise MalformedNoteError("note text must end with a newline")
    _check_characters(text)
    message = text.encode("utf-8")
    lines = []
    for signer in signers:
        if not is_valid_key_name(signer.name):
            raise ValueError(f"invalid key name {signer.name!r}")
        if len(signer.key_id) != 4:
            raise ValueError(f"key ID of {signer.name!r} is not 4 bytes")
        signature = b64encode(signer.key_id + signer.sign(message))
        lines.append(f"{SIGNATURE_PREFIX}{signer.name} {signature}\n")
    if not lines:
        raise ValueError("a note needs at least one signer")
    if len(lines) > MAX_SIGNATURES:
        raise ValueError(f"more than {MAX_SIGNATURES} signers")
    return text + "\n" + "".join(lines)


def _parse_signature(line: str, number: int) -> NoteSignature:
    where = f"signature line {number}"
    if not line.startswith(SIGNATURE_PREFIX):
        raise MalformedNoteError("signature line does not start with an em dash", where=where)
    name, space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    if not space or not is_valid_key_name(name):
        raise MalformedNoteError(f"invalid key name {name!r}", where=where)
    try:
        raw = b64decode(encoded)
    except ValueError as e:
        raise MalformedNoteError(f"signature is not base64: {e}", where=where) from e
    if len(raw) < 5:
        raise MalformedNoteError("signature is shorter than a key ID and one byte", where=where)
    return NoteSignature(name=name, key_id=raw[:4], signature=raw[4:])


def split_note(note: str | bytes) -> tuple[str, tuple[NoteSignature, ...]]:
    """Return the text of a note and its signature lines, parsed but not verified.

    The result must not be trusted: use ``open_note``. Raises ``MalformedNoteError`` if the note
    is not UTF-8, contains a control character other than newline, has no signature block after a
    blank line, has more than ``MAX_SIGNATURES`` signature lines, or a line is malformed.
    """
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as e:
            raise MalformedNoteError(f"note is not UTF-8: {e.reason} at byte {e.start}") from e
    _check_characters(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedNoteError("note does not end with a signature line and a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError(
            "too many signature lines",
            expected=f"at most {MAX_SIGNATURES}",
            found=str(len(lines)),
        )
    signatures = tuple(_parse_signature(line, number) for number, line in enumerate(lines, 1))
    return text, signatures


def open_note(note: str | bytes, verifiers: Iterable[NoteVerifier]) -> VerifiedNote:
    """Verify a signed note against known keys and return its text and verified signatures.

    Signatures by keys not among ``verifiers`` (matched by name and key ID together) are ignored.
    Raises ``MalformedNoteError`` if the note is malformed (see ``split_note``);
    ``SignatureError`` if a signature by a known key does not verify; ``UnknownKeyError`` if no
    signature is by a known key; ``ValueError`` if two verifiers share a name and key ID.
    """
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for candidate in verifiers:
        slot = (candidate.name, candidate.key_id)
        if slot in known and known[slot] != candidate:
            raise ValueError(f"two verifiers for key {candidate.name} {candidate.key_id.hex()}")
        known[slot] = candidate
    text, signatures = split_note(note)
    message = text.encode("utf-8")
    verified: dict[str, NoteSignature] = {}
    unverified: list[NoteSignature] = []
    for number, signature in enumerate(signatures, 1):
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            unverified.append(signature)
            continue
        if not verifier.verify(message, signature.signature):
            raise SignatureError(
                f"signature by {signature.name} (key ID {signature.key_id.hex()}) does not verify",
                where=f"signature line {number}",
            )
        verified.setdefault(signature.name, signature)
    if not verified:
        names = ", ".join(sorted({f"{name}+{key.hex()}" for name, key in known})) or "none"
        found = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in signatures)
        raise UnknownKeyError("note is not signed by any known key", expected=names, found=found)
    return VerifiedNote(
        text=text, signatures=MappingProxyType(verified), unverified=tuple(unverified)
    )
