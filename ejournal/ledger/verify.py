"""Verification of the ledger against its database (I2, I3, I5, I6).

The verifier streams every row of every log in index order and recomputes, from the stored bytes:
the payload digest, the leaf, the leaf hash, the chain hash and the Merkle tree (a compact range, so
memory stays O(log n) per log). At each signed checkpoint of the log it checks that the recomputed
root is the signed root, that the signature is by a trusted key, and that the stored consistency
proof from the previous checkpoint holds. It stops at the first discrepancy and raises a
``VerificationError`` naming the log, the index and what differs. Entries after a log's last
checkpoint are reported as unsigned.

It also recomputes, from the leaves alone (actor, credential version, session, recorded time), the
set of operations that the rules of п. 4.4 recorded in the ledger declare invalid, and the set a
breach report flags for review (``ledger.invalidation``): ``ejournal verify`` checks the first
against what the read models exclude.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from itertools import groupby, islice
from operator import itemgetter
from typing import Any

from ejournal.integrity.checkpoint import open_checkpoint
from ejournal.integrity.errors import (
    ConsistencyProofError,
    MissingEntryError,
    RootMismatchError,
    VerificationError,
)
from ejournal.integrity.leaf import CHAIN_GENESIS
from ejournal.integrity.note import Verifier
from ejournal.integrity.proof import verify_consistency
from ejournal.ledger.checkpoints import StoredCheckpoint, load_checkpoints
from ejournal.ledger.database import Database
from ejournal.ledger.invalidation import EXEMPT_TOPICS, Rule, load_rules
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.replay import LogReplay, row_columns, uuid_bytes

_ROWS = "SELECT {columns} FROM " + EVENTS_TABLE + " ORDER BY log_id, idx"
_CHUNK = 8192


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


@dataclass(frozen=True, slots=True)
class RuledEntry:
    """An entry a rule of п. 4.4 reaches: invalid, or flagged for review."""

    log_id: str
    index: int
    originator_id: str
    """32-digit hex."""
    originator_version: int
    topic: str
    rule: str


@dataclass(slots=True)
class LedgerReport:
    """The logs that verified, in log ID order, and what the rules of п. 4.4 reach."""

    logs: list[LogSummary] = field(default_factory=list)
    rules: tuple[Rule, ...] = ()
    invalidated: list[RuledEntry] = field(default_factory=list)
    flagged: list[RuledEntry] = field(default_factory=list)

    @property
    def entries(self) -> int:
        return sum(log.size for log in self.logs)


class _CheckpointCheck:
    """Checks each checkpoint of one log against the root its replay reached."""

    def __init__(self, log_id: str, verifiers: Sequence[Verifier], origin: str) -> None:
        self.log_id = log_id
        self.verifiers = verifiers
        self.origin = origin
        self.previous: StoredCheckpoint | None = None

    def check(self, stored: StoredCheckpoint, root: bytes) -> None:
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
        self.previous = stored

    def truncated(self, stored: StoredCheckpoint, size: int) -> MissingEntryError:
        return MissingEntryError(
            "entries covered by a signed checkpoint are missing (the log was truncated)",
            expected=f"at least {stored.size} entries",
            found=f"{size} entries",
            where=f"log {self.log_id} index {size}",
        )


class _Feeder:
    """Feeds rows to a replay in chunks, so that progress moves while memory stays flat."""

    def __init__(self, progress: Callable[[int], None] | None) -> None:
        self.progress = progress
        self.done = 0

    def feed(self, replay: LogReplay, rows: Iterator[Sequence[Any]], count: int | None) -> None:
        """Feed ``count`` rows (all if None), fewer if ``rows`` runs out."""
        while count is None or count > 0:
            chunk = _CHUNK if count is None else min(_CHUNK, count)
            before = replay.size
            replay.feed_many(islice(rows, chunk))
            fed = replay.size - before
            self.done += fed
            if self.progress is not None:
                self.progress(self.done)
            if fed < chunk:
                return
            if count is not None:
                count -= fed


def _verify_log(
    log_id: str,
    rows: Iterator[Sequence[Any]],
    stored: list[StoredCheckpoint],
    check: _CheckpointCheck,
    feeder: _Feeder,
    to_bytes: Callable[[Any], bytes],
) -> LogSummary:
    replay = LogReplay(log_id, to_bytes=to_bytes)
    for checkpoint in stored:
        feeder.feed(replay, rows, checkpoint.size - replay.size)
        if replay.size < checkpoint.size:
            raise check.truncated(checkpoint, replay.size)
        check.check(checkpoint, replay.tree.root())
    feeder.feed(replay, rows, None)
    return LogSummary(
        log_id,
        size=replay.size,
        chain_head=replay.chain_head,
        root=replay.tree.root(),
        checkpoints=len(stored),
        signed_size=stored[-1].size if stored else 0,
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
    signed). Calls ``progress(entries so far)`` as it goes.
    """
    checkpoints = load_checkpoints(database)
    to_bytes = bytes.fromhex if database.dialect == "sqlite" else bytes
    feeder = _Feeder(progress)
    report = LedgerReport(rules=load_rules(database))
    with closing(database.stream(_ROWS.format(columns=row_columns(database.dialect)))) as stream:
        # The rows carry IDs as hex text (SQLite) or as their 16 bytes (PostgreSQL).
        as_stored = str if database.dialect == "sqlite" else bytes.fromhex
        rows = _ruled(stream, report, as_stored) if report.rules else stream
        for log_id, log_rows in groupby(rows, key=itemgetter(0)):
            check = _CheckpointCheck(log_id, verifiers, f"{origin}/{log_id}")
            stored = checkpoints.pop(log_id, [])
            report.logs.append(_verify_log(log_id, log_rows, stored, check, feeder, to_bytes))
    for log_id, stored in sorted(checkpoints.items()):
        # Signed checkpoints of a log that has no entry left at all.
        check = _CheckpointCheck(log_id, verifiers, f"{origin}/{log_id}")
        report.logs.append(_verify_log(log_id, iter(()), stored, check, feeder, to_bytes))
    return report


def _ruled(
    rows: Iterator[Sequence[Any]], report: LedgerReport, stored: Callable[[str], Any]
) -> Iterator[Sequence[Any]]:
    """Pass ``rows`` on, noting in ``report`` each entry a rule invalidates or flags.

    ``stored`` turns a rule's hex ID into the value the rows carry, so that the hot path is two
    set lookups per row; only the rows they find are converted and asked in full.
    """
    accounts = {stored(rule.account_id) for rule in report.rules}
    sessions = {stored(rule.session_id) for rule in report.rules if rule.session_id is not None}
    for row in rows:
        if (row[7] in accounts or row[10] in sessions) and row[4] not in EXEMPT_TOPICS:
            _note(report, row, uuid_bytes(row[7]).hex(), uuid_bytes(row[10]).hex())
        yield row


def _note(report: LedgerReport, row: Sequence[Any], actor: str, session: str) -> None:
    log_id, index, oid, version, topic = row[0], row[1], row[2], row[3], row[4]
    version_of_credentials, at = row[9], row[6]
    for rule in report.rules:
        invalid = rule.matches(actor, session, version_of_credentials, at)
        if invalid or rule.flags(actor, version_of_credentials, at):
            entry = RuledEntry(log_id, index, uuid_bytes(oid).hex(), version, topic, rule.name)
            (report.invalidated if invalid else report.flagged).append(entry)
            if invalid:
                return
