"""Verification of the ledger against its database (I2, I3, I5, I6).

The verifier streams every row of every log in index order and recomputes, from the stored bytes:
the payload digest, the leaf, the leaf hash, the chain hash and the Merkle tree (a compact range, so
memory stays O(log n) per log). At each signed checkpoint of the log it checks that the recomputed
root is the signed root, that the signature is by a trusted key, and that the stored consistency
proof from the previous checkpoint holds. It stops at the first discrepancy and raises a
``VerificationError`` naming the log, the index and what differs. Entries after a log's last
checkpoint are reported as unsigned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from integrity.checkpoint import open_checkpoint
from integrity.errors import (
    ConsistencyProofError,
    MissingEntryError,
    RootMismatchError,
    VerificationError,
)
from integrity.leaf import CHAIN_GENESIS
from integrity.note import Verifier
from integrity.proof import verify_consistency
from ledger.checkpoints import StoredCheckpoint, load_checkpoints
from ledger.database import Database
from ledger.recorders import EVENTS_TABLE
from ledger.replay import ROW_COLUMNS, LogReplay

_ROWS = f"SELECT {ROW_COLUMNS} FROM {EVENTS_TABLE} ORDER BY log_id, idx"


@dataclass(slots=True)
class LogSummary:
    """What verification established about one log."""

    log_id: str
    size: int = 0
    chain_head: bytes = CHAIN_GENESIS
    root: bytes = b""
    checkpoints: int = 0
    signed_size: int = 0

    @property
    def unsigned(self) -> int:
        """Entries after the last checkpoint: verified, but not yet covered by a signature."""
        return self.size - self.signed_size


@dataclass(slots=True)
class LedgerReport:
    """The logs that verified, in log ID order."""

    logs: list[LogSummary] = field(default_factory=list)

    @property
    def entries(self) -> int:
        return sum(log.size for log in self.logs)


class _CheckpointCheck:
    """Checks a log's checkpoints, in size order, as its replay reaches each size."""

    def __init__(
        self,
        log_id: str,
        stored: list[StoredCheckpoint],
        verifiers: Sequence[Verifier],
        origin: str,
    ) -> None:
        self.log_id = log_id
        self.pending = iter(stored)
        self.next = next(self.pending, None)
        self.previous: StoredCheckpoint | None = None
        self.verifiers = verifiers
        self.origin = origin
        self.signed_size = 0
        self.count = 0

    def reached(self, size: int, root: Callable[[], bytes]) -> None:
        while self.next is not None and self.next.size == size:
            self._check(self.next, root())
            self.previous, self.next = self.next, next(self.pending, None)

    def _check(self, stored: StoredCheckpoint, root: bytes) -> None:
        where = f"log {self.log_id} checkpoint at size {stored.size}"
        try:
            checkpoint, _ = open_checkpoint(stored.note, self.verifiers, origin=self.origin)
        except VerificationError as e:
            raise type(e)(e.message, expected=e.expected, found=e.found, where=where) from e
        if checkpoint.size != stored.size or checkpoint.root_hash != root:
            raise RootMismatchError(
                "the signed checkpoint does not match the entries",
                expected=f"size {stored.size} root {root.hex()}",
                found=f"size {checkpoint.size} root {checkpoint.root_hash.hex()}",
                where=where,
            )
        if self.previous is not None:
            try:
                verify_consistency(
                    size1=self.previous.size,
                    size2=stored.size,
                    proof=list(stored.consistency_proof),
                    root1=self.previous.root_hash,
                    root2=root,
                )
            except ConsistencyProofError as e:
                raise ConsistencyProofError(
                    e.message, expected=e.expected, found=e.found, where=where
                ) from e
        self.signed_size = stored.size
        self.count += 1

    def finish(self, size: int) -> None:
        if self.next is not None:
            raise MissingEntryError(
                "entries covered by a signed checkpoint are missing (the log was truncated)",
                expected=f"at least {self.next.size} entries",
                found=f"{size} entries",
                where=f"log {self.log_id} index {size}",
            )


def verify_ledger(
    database: Database,
    *,
    verifiers: Sequence[Verifier] = (),
    origin: str = "",
    progress: Callable[[int], None] | None = None,
) -> LedgerReport:
    """Verify every entry of every log, and every checkpoint against the trusted ``verifiers``.

    ``origin`` is the deployment's checkpoint origin prefix (a log's origin is ``origin/log_id``).
    Raises ``MissingEntryError`` (an index gap, or entries a checkpoint covers are gone),
    ``LeafMismatchError``, ``ChainError``, ``RootMismatchError`` (a checkpoint's root is not the
    entries' root), ``ConsistencyProofError``, and the signature errors of
    ``integrity.checkpoint.open_checkpoint`` (``UnknownKeyError`` for a checkpoint no trusted key
    signed). Calls ``progress(n)`` every few thousand entries.
    """
    checkpoints = load_checkpoints(database)
    report = LedgerReport()

    def start(log_id: str) -> tuple[LogReplay, _CheckpointCheck]:
        stored = checkpoints.pop(log_id, [])
        return LogReplay(log_id), _CheckpointCheck(log_id, stored, verifiers, f"{origin}/{log_id}")

    def close(replay: LogReplay, check: _CheckpointCheck) -> None:
        check.finish(replay.size)
        report.logs.append(
            LogSummary(
                replay.log_id,
                size=replay.size,
                chain_head=replay.chain_head,
                root=replay.tree.root(),
                checkpoints=check.count,
                signed_size=check.signed_size,
            )
        )

    current: tuple[LogReplay, _CheckpointCheck] | None = None
    for checked, row in enumerate(database.stream(_ROWS), start=1):
        if current is None or row[0] != current[0].log_id:
            if current is not None:
                close(*current)
            current = start(row[0])
        replay, check = current
        replay.feed(row)
        check.reached(replay.size, replay.tree.root)
        if progress is not None and checked % 4096 == 0:
            progress(checked)
    if current is not None:
        close(*current)
    for log_id in sorted(checkpoints):
        # Signed checkpoints of a log that has no entry left at all.
        close(*start(log_id))
    if progress is not None:
        progress(report.entries)
    return report
