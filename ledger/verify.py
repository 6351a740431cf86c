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
from ledger.recorders import ENTRIES_TABLE

_ENTRIES_WITH_EVENTS = f"""
SELECT e.log_id, e.idx, e.originator_id, e.originator_version, s.topic, s.state,
       e.recorded_at, e.actor_id, e.actor_role, e.credential_version, e.session_id,
       e.payload_sha256, e.leaf_hash, e.chain_hash
FROM {ENTRIES_TABLE} e
LEFT JOIN stored_events s
  ON s.originator_id = e.originator_id AND s.originator_version = e.originator_version
ORDER BY e.log_id, e.idx
"""

_EVENT_WITHOUT_ENTRY = f"""
SELECT s.originator_id, s.originator_version, s.topic
FROM stored_events s
LEFT JOIN {ENTRIES_TABLE} e
  ON e.originator_id = s.originator_id AND e.originator_version = s.originator_version
WHERE e.log_id IS NULL
LIMIT 1
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
    """Verify every entry of every log, and that every stored event has an entry.

    Raises ``MissingEntryError`` (an index gap, an entry whose event is gone, an event with no entry),
    ``LeafMismatchError`` (payload digest or leaf hash differs from the stored bytes) or
    ``ChainError`` (chain hash differs). Calls ``progress(n)`` every few thousand entries.
    """
    report = LedgerReport()
    log: LogSummary | None = None
    checked = 0
    for row in database.stream(_ENTRIES_WITH_EVENTS):
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
        if topic is None:
            raise MissingEntryError(
                "the entry's event is missing from the event store",
                expected=f"event {originator} v{version}",
                found="no event",
                where=where,
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
    with database.transaction(write=False) as cursor:
        cursor.execute(_EVENT_WITHOUT_ENTRY)
        orphan = cursor.fetchone()
    if orphan is not None:
        raise MissingEntryError(
            "a stored event has no log entry",
            expected="one entry per event",
            found=f"event {_uuid(orphan[0])} v{orphan[1]} ({orphan[2]}) without entry",
            where=f"event {_uuid(orphan[0])} v{orphan[1]}",
        )
    return report
