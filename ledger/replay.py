"""Replaying a log from its stored rows: every leaf, the chain and the Merkle frontier."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from integrity.compact import CompactRange
from integrity.errors import ChainError, LeafMismatchError, MissingEntryError
from integrity.leaf import CHAIN_GENESIS, Leaf, chain_hash, encode_leaf, leaf_hash

ROW_COLUMNS = (
    "log_id, idx, originator_id, originator_version, topic, state, recorded_at, actor_id, "
    "actor_role, credential_version, session_id, payload_sha256, leaf_hash, chain_hash"
)


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(hex=value)


def leaf_of_row(row: Sequence[Any]) -> Leaf:
    """The leaf that a stored row (``ROW_COLUMNS``) commits to, its digest taken as stored."""
    return Leaf(
        log_id=row[0],
        index=row[1],
        originator_id=_uuid(row[2]),
        originator_version=row[3],
        topic=row[4],
        recorded_at=row[6],
        actor_id=_uuid(row[7]),
        actor_role=row[8],
        credential_version=row[9],
        session_id=_uuid(row[10]),
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
    ) -> None:
        self.log_id = log_id
        self.chain_head = chain_head
        self.tree = frontier if frontier is not None else CompactRange()

    @property
    def size(self) -> int:
        return self.tree.size

    def feed(self, row: Sequence[Any]) -> bytes:
        """Check the next row (``ROW_COLUMNS``) and return its leaf hash.

        Raises ``MissingEntryError`` (index not the next one), ``LeafMismatchError`` (payload or
        leaf differ from the stored bytes) or ``ChainError``.
        """
        index = row[1]
        where = f"log {self.log_id} index {index}"
        if index != self.size:
            raise MissingEntryError(
                "log index is not dense",
                expected=f"index {self.size}",
                found=f"index {index}",
                where=f"log {self.log_id} index {self.size}",
            )
        state, digest = row[5], bytes(row[11])
        if state is not None:
            actual = hashlib.sha256(state).digest()
            if actual != digest:
                raise LeafMismatchError(
                    "stored payload bytes differ from the digest in the leaf",
                    expected=digest.hex(),
                    found=actual.hex(),
                    where=where,
                )
        recomputed = leaf_hash(encode_leaf(leaf_of_row(row)))
        if recomputed != bytes(row[12]):
            raise LeafMismatchError(
                "the leaf recomputed from the stored row differs from the stored leaf hash "
                "(identity, topic, time, actor or payload changed)",
                expected=bytes(row[12]).hex(),
                found=recomputed.hex(),
                where=where,
            )
        expected_chain = chain_hash(self.chain_head, recomputed)
        if expected_chain != bytes(row[13]):
            raise ChainError(
                "chain hash differs",
                expected=expected_chain.hex(),
                found=bytes(row[13]).hex(),
                where=where,
            )
        self.chain_head = expected_chain
        self.tree.append(recomputed)
        return recomputed
