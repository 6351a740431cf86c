"""Verification of the ledger against its database: every leaf, every chain, every event (I2, I3, I6).

The verifier streams the entries of every log in index order, joined with their stored events, and
recomputes each leaf from the stored bytes: the payload digest from the payload, the leaf hash from the
canonical leaf, the chain hash from the previous one. It stops at the first discrepancy and raises a
``VerificationError`` naming the log, the index and what differs. Memory stays constant: one row and
one running chain hash per log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from integrity.errors import ChainError, LeafMismatchError, MissingEntryError
from integrity.leaf import CHAIN_GENESIS, Leaf, chain_hash, encode_leaf, leaf_hash
from ledger.database import Database
from ledger.recorders import EVENTS_TABLE

_ENTRIES = f"""
SELECT log_id, idx, originator_id, originator_version, topic, state, recorded_at, actor_id,
       actor_role, credential_version, session_id, payload_sha256, leaf_hash, chain_hash
FROM {EVENTS_TABLE}
ORDER BY log_id, idx
"""


@dataclass(slots=True)
class LogSummary:
    """What verification established about one log."""

    log_id: str
    size: int = 0
    chain_head: bytes = CHAIN_GENESIS


@dataclass(slots=True)
class LedgerReport:
    """The logs that verified, in log ID order."""

    logs: list[LogSummary] = field(default_factory=list)

    @property
    def entries(self) -> int:
        return sum(log.size for log in self.logs)


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(hex=value)


def verify_ledger(
    database: Database, *, progress: Callable[[int], None] | None = None
) -> LedgerReport:
    """Verify every entry of every log.

    Raises ``MissingEntryError`` (an index gap: an entry is gone or out of place),
    ``LeafMismatchError`` (payload digest or leaf hash differs from the stored bytes) or
    ``ChainError`` (chain hash differs). Calls ``progress(n)`` every few thousand entries.
    """
    report = LedgerReport()
    log: LogSummary | None = None
    checked = 0
    for row in database.stream(_ENTRIES):
        (log_id, index, originator, version, topic, state, recorded_at, actor, role, credential,
         session, digest, stored_leaf_hash, stored_chain_hash) = row  # fmt: skip
        if log is None or log_id != log.log_id:
            log = LogSummary(log_id)
            report.logs.append(log)
        where = f"log {log_id} index {index}"
        if index != log.size:
            raise MissingEntryError(
                "log index is not dense",
                expected=f"index {log.size}",
                found=f"index {index}",
                where=f"log {log_id} index {log.size}",
            )
        digest = bytes(digest)
        if state is not None and hashlib.sha256(state).digest() != digest:
            raise LeafMismatchError(
                "stored payload bytes differ from the digest in the leaf",
                expected=digest.hex(),
                found=hashlib.sha256(state).hexdigest(),
                where=where,
            )
        leaf = Leaf(
            log_id=log_id,
            index=index,
            originator_id=_uuid(originator),
            originator_version=version,
            topic=topic,
            recorded_at=recorded_at,
            actor_id=_uuid(actor),
            actor_role=role,
            credential_version=credential,
            session_id=_uuid(session),
            payload_sha256=digest,
        )
        recomputed = leaf_hash(encode_leaf(leaf))
        if recomputed != bytes(stored_leaf_hash):
            raise LeafMismatchError(
                "the leaf recomputed from the stored event and entry differs from the stored leaf "
                "hash (identity, topic, time, actor or payload changed)",
                expected=bytes(stored_leaf_hash).hex(),
                found=recomputed.hex(),
                where=where,
            )
        expected_chain = chain_hash(log.chain_head, recomputed)
        if expected_chain != bytes(stored_chain_hash):
            raise ChainError(
                "chain hash differs",
                expected=expected_chain.hex(),
                found=bytes(stored_chain_hash).hex(),
                where=where,
            )
        log.chain_head = expected_chain
        log.size += 1
        checked += 1
        if progress is not None and checked % 4096 == 0:
            progress(checked)
    if progress is not None:
        progress(checked)
    return report
