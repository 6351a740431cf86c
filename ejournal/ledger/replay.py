"""Replaying a log from its stored rows: every leaf, the chain and the Merkle frontier.

This is the verifier's hot path (it runs once per entry of every log), so it works on the raw
column values: UUIDs as 16 bytes (``uuid_send`` on PostgreSQL, hex text on SQLite), topics and roles
encoded once per distinct value.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from uuid import UUID

from ejournal.integrity.compact import CompactRange
from ejournal.integrity.errors import ChainError, LeafMismatchError, MissingEntryError
from ejournal.integrity.leaf import CHAIN_GENESIS, LEAF_HASH_PREFIX, Leaf, LogLeafEncoder
from ejournal.ledger.database import Dialect

_sha256 = hashlib.sha256


COLUMN_NAMES = (
    "log_id, idx, originator_id, originator_version, topic, state, recorded_at, actor_id, "
    "actor_role, credential_version, session_id, payload_sha256, leaf_hash, chain_hash"
)
"""A row of the events table as ``LogReplay.feed`` reads it."""


_UNREADABLE = (TypeError, ValueError, AttributeError, OverflowError, struct.error)
"""What reading a stored value of the wrong type raises on the way to a leaf (a ``str`` payload
hashed, a ``float`` index packed, a ``bytes`` topic encoded …)."""


class StoredValueError(LeafMismatchError):
    """A stored column holds a value of the wrong type or size (a payload rewritten as TEXT, a time
    as REAL, a hash as hex text …): the row cannot be the one its entry was made from."""


def row_columns(dialect: Dialect) -> str:
    """``COLUMN_NAMES`` for a SELECT, with PostgreSQL's UUIDs sent as their 16 raw bytes."""
    if dialect == "sqlite":
        return COLUMN_NAMES
    return ", ".join(
        f"uuid_send({name})" if name in ("originator_id", "actor_id", "session_id") else name
        for name in COLUMN_NAMES.split(", ")
    )


def uuid_bytes(value: Any) -> bytes:
    """A stored UUID as 16 bytes: from hex text (SQLite), raw bytes (``uuid_send``) or a UUID."""
    if isinstance(value, str):
        return bytes.fromhex(value)
    if isinstance(value, UUID):
        return value.bytes
    return bytes(value)


def leaf_of_row(row: Sequence[Any]) -> Leaf:
    """The leaf that a stored row (``row_columns``) commits to, its digest taken as stored."""
    return Leaf(
        log_id=row[0],
        index=row[1],
        originator_id=UUID(bytes=uuid_bytes(row[2])),
        originator_version=row[3],
        topic=row[4],
        recorded_at=row[6],
        actor_id=UUID(bytes=uuid_bytes(row[7])),
        actor_role=row[8],
        credential_version=row[9],
        session_id=UUID(bytes=uuid_bytes(row[10])),
        payload_sha256=bytes(row[11]),
    )


class LogReplay:
    """Recomputes one log's entries in index order: leaves, chain and Merkle frontier."""

    def __init__(
        self,
        log_id: str,
        *,
        chain_head: bytes = CHAIN_GENESIS,
        frontier: CompactRange | None = None,
        to_bytes: Callable[[Any], bytes] = uuid_bytes,
    ) -> None:
        if not isinstance(log_id, str):
            raise StoredValueError(
                "stored column log_id holds a value of the wrong type",
                expected=_TEXT,
                found=_kind_of(log_id),
                where=f"log {log_id!r}",
            )
        self.log_id = log_id
        self.chain_head = chain_head
        self.tree = frontier if frontier is not None else CompactRange()
        self._encoder = LogLeafEncoder(log_id)
        self._to_bytes = to_bytes

    @property
    def size(self) -> int:
        return self.tree.size

    def feed(self, row: Sequence[Any]) -> bytes:
        """Check the next row (``row_columns``) and return its leaf hash.

        Raises ``MissingEntryError`` (index not the next one), ``LeafMismatchError`` (payload or
        leaf differ from the stored bytes; ``StoredValueError`` if a column holds a value of the
        wrong type or size) or ``ChainError``.
        """
        return self.feed_many((row,), keep=True)[0]

    def feed_many(self, rows: Iterable[Sequence[Any]], *, keep: bool = False) -> list[bytes]:
        """``feed`` every row in order; the leaf hashes are returned only if ``keep``.

        One loop with everything it touches in local variables: this is the verifier's hot path.
        """
        encode, to_bytes, append = self._encoder.encode, self._to_bytes, self.tree.append
        chain, size, log_id = self.chain_head, self.tree.size, self.log_id
        kept: list[bytes] = []
        row: Sequence[Any] = ()
        try:
            for row in rows:
                (_, index, originator, version, topic, state, recorded_at, actor, role, credential,
                 session, digest, stored_leaf_hash, stored_chain_hash) = row  # fmt: skip
                if index != size:
                    _check_types(row, log_id, size, to_bytes)
                    raise MissingEntryError(
                        "log index is not dense",
                        expected=f"index {size}",
                        found=f"index {index}",
                        where=f"log {log_id} index {size}",
                    )
                if state is not None and _sha256(state).digest() != digest:
                    raise LeafMismatchError(
                        "stored payload bytes differ from the digest in the leaf",
                        expected=bytes(digest).hex(),
                        found=_sha256(state).hexdigest(),
                        where=f"log {log_id} index {index}",
                    )
                leaf = encode(
                    index,
                    to_bytes(originator),
                    version,
                    topic,
                    recorded_at,
                    to_bytes(actor),
                    role,
                    credential,
                    to_bytes(session),
                    bytes(digest),
                )
                recomputed = _sha256(LEAF_HASH_PREFIX + leaf).digest()
                if recomputed != stored_leaf_hash:
                    _check_types(row, log_id, size, to_bytes)
                    raise LeafMismatchError(
                        "the leaf recomputed from the stored row differs from the stored leaf "
                        "hash (identity, topic, time, actor or payload changed)",
                        expected=bytes(stored_leaf_hash).hex(),
                        found=recomputed.hex(),
                        where=f"log {log_id} index {index}",
                    )
                next_chain = _sha256(chain + recomputed).digest()
                if next_chain != stored_chain_hash:
                    _check_types(row, log_id, size, to_bytes)
                    raise ChainError(
                        "chain hash differs",
                        expected=next_chain.hex(),
                        found=bytes(stored_chain_hash).hex(),
                        where=f"log {log_id} index {index}",
                    )
                chain = next_chain
                append(recomputed)
                size += 1
                if keep:
                    kept.append(recomputed)
        except _UNREADABLE as e:
            # Only a row of the wrong shape gets here: name its column, or at least its entry.
            _check_types(row, log_id, size, to_bytes)
            raise StoredValueError(
                f"the stored row cannot be read as an entry: {e}",
                where=f"log {log_id} index {size}",
            ) from e
        finally:
            self.chain_head = chain
        return kept


_TEXT, _INTEGER, _BYTES, _UUID = "text", "integer", "bytes", "uuid"
_COLUMN_KINDS = (
    ("log_id", _TEXT),
    ("idx", _INTEGER),
    ("originator_id", _UUID),
    ("originator_version", _INTEGER),
    ("topic", _TEXT),
    ("state", _BYTES),
    ("recorded_at", _INTEGER),
    ("actor_id", _UUID),
    ("actor_role", _TEXT),
    ("credential_version", _INTEGER),
    ("session_id", _UUID),
    ("payload_sha256", _BYTES),
    ("leaf_hash", _BYTES),
    ("chain_hash", _BYTES),
)
_HASH_COLUMNS = frozenset(("payload_sha256", "leaf_hash", "chain_hash"))


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return _INTEGER
    if isinstance(value, str):
        return _TEXT
    if isinstance(value, bytes | bytearray | memoryview):
        return _BYTES
    return type(value).__name__


def _column_fault(
    column: str, kind: str, value: Any, to_bytes: Callable[[Any], bytes]
) -> tuple[str, str] | None:
    """(expected, found) if ``value`` is not what the ledger stores in ``column``, else None."""
    if value is None:
        return None if column == "state" else (kind, "NULL")
    found = _kind_of(value)
    if kind == _UUID:
        try:
            ok = len(to_bytes(value)) == 16
        except _UNREADABLE:
            ok = False
        return None if ok else ("a UUID as stored by the ledger", f"{found} {str(value)[:40]!r}")
    if found != kind:
        return kind, found
    if column in _HASH_COLUMNS and len(value) != 32:
        return "32 bytes", f"{len(value)} bytes"
    return None


def _check_types(
    row: Sequence[Any], log_id: str, index: int, to_bytes: Callable[[Any], bytes]
) -> None:
    """Raise ``StoredValueError`` naming the first column of ``row`` whose value has the wrong type
    or size; return if every column is as the ledger writes it."""
    if len(row) != len(_COLUMN_KINDS):
        return
    for (column, kind), value in zip(_COLUMN_KINDS, row, strict=True):
        fault = _column_fault(column, kind, value, to_bytes)
        if fault is not None:
            raise StoredValueError(
                f"stored column {column} holds a value of the wrong type or size",
                expected=fault[0],
                found=fault[1],
                where=f"log {log_id} index {index}",
            )
