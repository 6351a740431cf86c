"""The canonical bytes of a log entry (the leaf), its leaf hash, and the hash chain.

This module is the single definition of the leaf; ``docs/ledger-format.md`` describes the same bytes
for people, with a known-answer example that ``tests/integrity/test_leaf.py`` checks.

A leaf commits to everything an auditor needs to judge one record (invariant I3): which log and
where in it, which event (originator and version), what kind of event (topic), when the server
recorded it, who made it (account, role, credential version, session), and the SHA-256 of the
stored payload bytes.
The payload itself is not in the leaf, only its digest: a payload can be removed at the end of its
retention period, or its personal data crypto-shredded, and every leaf, chain and checkpoint still
verifies.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

LEAF_MAGIC = b"EJL1"
"""Format tag and version of the leaf encoding; a new encoding gets a new tag."""

LEAF_HASH_PREFIX = b"\x00"
"""RFC 6962 domain separation: leaf hashes are SHA-256(0x00 ‖ leaf)."""

CHAIN_GENESIS = bytes(32)
"""The chain hash that precedes index 0 of every log."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_U16 = struct.Struct(">H")
_INDEX_AND_ORIGINATOR = struct.Struct(">Q16sQ")
_TIME_ACCOUNT = struct.Struct(">q16s")
_CREDENTIAL_SESSION_DIGEST = struct.Struct(">I16s32s")


class LeafFormatError(ValueError):
    """Raised when bytes are not a well-formed leaf, or a field cannot be encoded."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Leaf:
    """The fields of one log entry, in the order they are encoded."""

    log_id: str
    index: int
    originator_id: UUID
    originator_version: int
    topic: str
    recorded_at: int
    """Microseconds since 1970-01-01T00:00:00Z, from the server's clock."""
    actor_id: UUID
    actor_role: str
    credential_version: int
    session_id: UUID
    payload_sha256: bytes


def micros(moment: datetime) -> int:
    """Return an aware datetime as whole microseconds since the Unix epoch (UTC).

    Raises ``LeafFormatError`` for a naive datetime: a record's time must not depend on where it
    is read.
    """
    if moment.tzinfo is None:
        raise LeafFormatError("recorded time must be timezone-aware")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    """Return the UTC datetime for microseconds since the Unix epoch."""
    return datetime.fromtimestamp(value // 1_000_000, UTC).replace(microsecond=value % 1_000_000)


def _text(value: str, field: str) -> bytes:
    data = value.encode("utf-8")
    if len(data) > 0xFFFF:
        raise LeafFormatError(f"{field} is longer than 65535 bytes")
    return _U16.pack(len(data)) + data


def encode_leaf(leaf: Leaf) -> bytes:
    """Return the canonical bytes of a leaf.

    Layout (big-endian; ``str`` is a u16 byte length then UTF-8):
    ``"EJL1" ‖ str log_id ‖ u64 index ‖ uuid16 originator_id ‖ u64 originator_version ‖
    str topic ‖ i64 recorded_at_us ‖ uuid16 actor_id ‖ str actor_role ‖ u32 credential_version ‖
    uuid16 session_id ‖ 32 payload_sha256``.

    Raises ``LeafFormatError`` if a field is out of range.
    """
    if len(leaf.payload_sha256) != 32:
        raise LeafFormatError("payload digest must be 32 bytes")
    try:
        return b"".join(
            (
                LEAF_MAGIC,
                _text(leaf.log_id, "log id"),
                _INDEX_AND_ORIGINATOR.pack(
                    leaf.index, leaf.originator_id.bytes, leaf.originator_version
                ),
                _text(leaf.topic, "topic"),
                _TIME_ACCOUNT.pack(leaf.recorded_at, leaf.actor_id.bytes),
                _text(leaf.actor_role, "actor role"),
                _CREDENTIAL_SESSION_DIGEST.pack(
                    leaf.credential_version, leaf.session_id.bytes, leaf.payload_sha256
                ),
            )
        )
    except struct.error as e:
        raise LeafFormatError(f"leaf field out of range: {e}") from e


def decode_leaf(data: bytes) -> Leaf:
    """Parse canonical leaf bytes; the inverse of ``encode_leaf``.

    Raises ``LeafFormatError`` on a wrong tag, a truncated field, invalid UTF-8 or trailing bytes.
    """
    view = memoryview(data)
    pos = 0

    def take(n: int) -> bytes:
        nonlocal pos
        if pos + n > len(view):
            raise LeafFormatError(f"leaf truncated at byte {pos}")
        chunk = bytes(view[pos : pos + n])
        pos += n
        return chunk

    def text(field: str) -> str:
        (length,) = _U16.unpack(take(2))
        try:
            return take(length).decode("utf-8")
        except UnicodeDecodeError as e:
            raise LeafFormatError(f"{field} is not UTF-8") from e

    if take(4) != LEAF_MAGIC:
        raise LeafFormatError("not an EJL1 leaf")
    log_id = text("log id")
    index, originator, version = _INDEX_AND_ORIGINATOR.unpack(take(_INDEX_AND_ORIGINATOR.size))
    topic = text("topic")
    recorded_at, actor = _TIME_ACCOUNT.unpack(take(_TIME_ACCOUNT.size))
    role = text("actor role")
    credential, session, digest = _CREDENTIAL_SESSION_DIGEST.unpack(
        take(_CREDENTIAL_SESSION_DIGEST.size)
    )
    if pos != len(view):
        raise LeafFormatError(f"{len(view) - pos} trailing bytes after leaf")
    return Leaf(
        log_id=log_id,
        index=index,
        originator_id=UUID(bytes=originator),
        originator_version=version,
        topic=topic,
        recorded_at=recorded_at,
        actor_id=UUID(bytes=actor),
        actor_role=role,
        credential_version=credential,
        session_id=UUID(bytes=session),
        payload_sha256=digest,
    )


def leaf_hash(leaf_bytes: bytes) -> bytes:
    """Return the RFC 6962 leaf hash SHA-256(0x00 ‖ leaf)."""
    return hashlib.sha256(LEAF_HASH_PREFIX + leaf_bytes).digest()


def chain_hash(previous: bytes, leaf_hash_: bytes) -> bytes:
    """Return the next chain hash SHA-256(previous chain hash ‖ leaf hash)."""
    return hashlib.sha256(previous + leaf_hash_).digest()


class LogLeafEncoder:
    """Encodes the leaves of one log from raw fields, quickly: the write and verify hot paths.

    Takes UUIDs as their 16 bytes and caches the encoding of the few distinct topics and roles.
    Produces exactly the bytes of ``encode_leaf`` (a property test checks it).
    """

    __slots__ = ("_prefix", "_texts")

    def __init__(self, log_id: str) -> None:
        self._prefix = LEAF_MAGIC + _text(log_id, "log id")
        self._texts: dict[str, bytes] = {}

    @property
    def prefix(self) -> bytes:
        """The bytes of every leaf of the log before its index (the tag and the log ID); the
        index follows as 8 bytes, big-endian."""
        return self._prefix

    def _cached(self, value: str, field: str) -> bytes:
        encoded = self._texts.get(value)
        if encoded is None:
            encoded = self._texts[value] = _text(value, field)
        return encoded

    def encode(
        self,
        index: int,
        originator_id: bytes,
        originator_version: int,
        topic: str,
        recorded_at: int,
        actor_id: bytes,
        actor_role: str,
        credential_version: int,
        session_id: bytes,
        digest: bytes,
    ) -> bytes:
        """The canonical leaf. Raises ``LeafFormatError`` if a field is out of range."""
        if not (len(originator_id) == len(actor_id) == len(session_id) == 16 and len(digest) == 32):
            raise LeafFormatError("UUIDs must be 16 bytes and the payload digest 32 bytes")
        try:
            return b"".join(
                (
                    self._prefix,
                    _INDEX_AND_ORIGINATOR.pack(index, originator_id, originator_version),
                    self._cached(topic, "topic"),
                    _TIME_ACCOUNT.pack(recorded_at, actor_id),
                    self._cached(actor_role, "actor role"),
                    _CREDENTIAL_SESSION_DIGEST.pack(credential_version, session_id, digest),
                )
            )
        except struct.error as e:
            raise LeafFormatError(f"leaf field out of range: {e}") from e
