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

A log's checkpoints live in the same database as its entries, so a forger with the database can
remove the last entries together with the checkpoints that cover them. ``verify_witnessed`` closes
that gap with checkpoints kept *outside* the database (by an auditor, from
``GET /ledger/checkpoints`` or ``ejournal export-checkpoints``): the log must still be at least that
long, and its Merkle root at that size must be the witnessed one.

Every column is checked for its type as well as its value: on PostgreSQL the events and checkpoint
tables must have the column types the ledger creates; on SQLite, whose columns take any value, a
value of the wrong type (a payload rewritten as TEXT) is named with its entry like any other change
(``replay.StoredValueError``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import closing, suppress
from dataclasses import dataclass, field
from itertools import groupby, islice
from operator import itemgetter
from typing import Any

from ejournal.integrity.checkpoint import Checkpoint, open_checkpoint
from ejournal.integrity.cosignature import CosignatureVerifier, verify_cosignatures
from ejournal.integrity.errors import (
    ConsistencyProofError,
    MalformedCheckpointError,
    MissingEntryError,
    OriginMismatchError,
    QuorumError,
    RootMismatchError,
    VerificationError,
)
from ejournal.integrity.leaf import CHAIN_GENESIS
from ejournal.integrity.note import Verifier
from ejournal.integrity.proof import verify_consistency
from ejournal.ledger.checkpoints import StoredCheckpoint, load_checkpoints
from ejournal.ledger.cosignatures import cosigned_note, load_cosignatures
from ejournal.ledger.database import Database
from ejournal.ledger.invalidation import EXEMPT_TOPICS, Rule, load_rules
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.replay import LogReplay, StoredValueError, row_columns, uuid_bytes

_ROWS = "SELECT {columns} FROM " + EVENTS_TABLE + " ORDER BY log_id, idx"
_LOG_ROWS = "SELECT {columns} FROM " + EVENTS_TABLE + " WHERE log_id = ? ORDER BY idx"
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
    checkpoint_sizes: tuple[int, ...] = ()
    """The sizes of the log's checkpoints stored in the database."""
    roots: dict[int, bytes] = field(default_factory=dict)
    """The root at each size a witnessed checkpoint asked about (``verify_ledger(witness=…)``)."""

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
    copies: list[LogSummary] = field(default_factory=list)
    """Logs verified with the database that live on another server: the copies a move's source
    keeps (``ledger.fences``), set apart by ``without_copies``."""

    @property
    def entries(self) -> int:
        return sum(log.size for log in self.logs)

    def without_copies(self, copies: Collection[str]) -> LedgerReport:
        """This report with the logs of ``copies`` moved to ``copies``, and the operations the
        rules reach in them left out of ``invalidated`` and ``flagged``: in a region each log,
        and each of its operations, is reported once, by the server the log lives on."""
        if not copies:
            return self
        return LedgerReport(
            logs=[log for log in self.logs if log.log_id not in copies],
            rules=self.rules,
            invalidated=[entry for entry in self.invalidated if entry.log_id not in copies],
            flagged=[entry for entry in self.flagged if entry.log_id not in copies],
            copies=[*self.copies, *(log for log in self.logs if log.log_id in copies)],
        )


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
    witness: Sequence[int] = (),
) -> LogSummary:
    replay = LogReplay(log_id, to_bytes=to_bytes)
    by_size = {checkpoint.size: checkpoint for checkpoint in stored}
    roots: dict[int, bytes] = {}
    for size in sorted({*by_size, *witness}):
        feeder.feed(replay, rows, size - replay.size)
        checkpoint = by_size.get(size)
        if replay.size < size:
            if checkpoint is not None:
                raise check.truncated(checkpoint, replay.size)
            continue  # a witnessed size beyond the log: ``verify_witnessed`` names it
        if checkpoint is not None:
            check.check(checkpoint, replay.tree.root())
        if size in witness:
            roots[size] = replay.tree.root()
    feeder.feed(replay, rows, None)
    return LogSummary(
        log_id,
        size=replay.size,
        chain_head=replay.chain_head,
        root=replay.tree.root(),
        checkpoints=len(stored),
        signed_size=stored[-1].size if stored else 0,
        checkpoint_sizes=tuple(by_size),
        roots=roots,
    )


def verify_ledger(
    database: Database,
    *,
    verifiers: Sequence[Verifier] = (),
    origin: str = "",
    progress: Callable[[int], None] | None = None,
    witness: Mapping[str, Sequence[int]] | None = None,
    directory: Database | None = None,
) -> LedgerReport:
    """Verify every entry of every log, and every checkpoint against the trusted ``verifiers``.

    ``directory``: in a region (``ledger.placement``), the database of the system log, whose
    rules of п. 4.4 reach this server's operations too; verify it first.

    ``origin`` is the deployment's checkpoint origin prefix (a log's origin is ``origin/log_id``).
    Raises ``MissingEntryError`` (an index gap, or entries a checkpoint covers are gone),
    ``LeafMismatchError``, ``ChainError``, ``RootMismatchError`` (a checkpoint's root is not the
    entries' root), ``ConsistencyProofError``, and the signature errors of
    ``integrity.checkpoint.open_checkpoint`` (``UnknownKeyError`` for a checkpoint no trusted key
    signed); ``StoredValueError`` (a ``LeafMismatchError``) for a column of the wrong type. Calls
    ``progress(entries so far)`` as it goes. ``witness`` names, by log, sizes whose roots the
    report keeps (``LogSummary.roots``), for ``verify_witnessed``.
    """
    check_column_types(database)
    checkpoints = load_checkpoints(database)
    to_bytes = _to_bytes(database)
    feeder = _Feeder(progress)
    rules, unreadable = read_rules(directory or database)
    report = LedgerReport(rules=rules)
    sizes = witness or {}
    with closing(database.stream(_ROWS.format(columns=row_columns(database.dialect)))) as stream:
        rows = _ruled(stream, report, _as_stored(database)) if report.rules else stream
        for log_id, log_rows in groupby(rows, key=itemgetter(0)):
            check = _CheckpointCheck(log_id, verifiers, f"{origin}/{log_id}")
            stored = checkpoints.pop(log_id, [])
            report.logs.append(
                _verify_log(
                    log_id, log_rows, stored, check, feeder, to_bytes, sizes.get(log_id, ())
                )
            )
    for log_id, stored in sorted(checkpoints.items()):
        # Signed checkpoints of a log that has no entry left at all.
        check = _CheckpointCheck(log_id, verifiers, f"{origin}/{log_id}")
        report.logs.append(_verify_log(log_id, iter(()), stored, check, feeder, to_bytes))
    if unreadable is not None:
        raise unreadable_rules(unreadable) from unreadable
    return report


def verify_log(
    database: Database,
    log_id: str,
    stored: list[StoredCheckpoint],
    *,
    verifiers: Sequence[Verifier] = (),
    origin: str = "",
    rules: tuple[Rule, ...] = (),
    witness: Sequence[int] = (),
) -> LedgerReport:
    """Verify one log as ``verify_ledger`` verifies each: its entries, its ``stored`` checkpoints
    and what ``rules`` reach in it; the report holds that log alone. For ``ejournal verify
    --jobs``, where each process verifies logs of its own (``verify_jobs``). Raises what
    ``verify_ledger`` raises for an entry or a checkpoint."""
    report = LedgerReport(rules=rules)
    sql = _LOG_ROWS.format(columns=row_columns(database.dialect))
    with closing(database.stream(sql, (log_id,))) as stream:
        rows = _ruled(stream, report, _as_stored(database)) if rules else stream
        check = _CheckpointCheck(log_id, verifiers, f"{origin}/{log_id}")
        summary = _verify_log(
            log_id, rows, stored, check, _Feeder(None), _to_bytes(database), witness
        )
    report.logs.append(summary)
    return report


def _to_bytes(database: Database) -> Callable[[Any], bytes]:
    """How a stored UUID becomes its 16 bytes: hex text on SQLite, raw bytes on PostgreSQL."""
    return bytes.fromhex if database.dialect == "sqlite" else bytes


def _as_stored(database: Database) -> Callable[[str], Any]:
    """How a rule's hex ID becomes the value the rows carry (``_ruled``)."""
    return str if database.dialect == "sqlite" else bytes.fromhex


def read_rules(database: Database) -> tuple[tuple[Rule, ...], Exception | None]:
    """The rules of п. 4.4, or none and why not: a rule event whose payload a forger rewrote
    (as TEXT, say) is then named by the replay, at its entry, rather than here. Once every
    entry verified, raise ``unreadable_rules`` of the reason."""
    try:
        return load_rules(database), None
    except (TypeError, ValueError, KeyError, AttributeError) as e:
        return (), e


def unreadable_rules(reason: Exception) -> StoredValueError:
    """The error for rule events that cannot be read once every entry verified: their payloads
    are then the ones recorded, and the ledger itself holds them so."""
    return StoredValueError(f"the п. 4.4 rule events cannot be read: {reason}", where="system log")


_EVENT_COLUMN_TYPES = {
    EVENTS_TABLE: {
        "originator_id": "uuid",
        "originator_version": "bigint",
        "topic": "text",
        "state": "bytea",
        "notification_id": "bigint",
        "log_id": "text",
        "idx": "bigint",
        "recorded_at": "bigint",
        "actor_id": "uuid",
        "actor_role": "text",
        "credential_version": "integer",
        "session_id": "uuid",
        "payload_sha256": "bytea",
        "leaf_hash": "bytea",
        "chain_hash": "bytea",
    },
    "checkpoints": {
        "log_id": "text",
        "size": "bigint",
        "root_hash": "bytea",
        "chain_head": "bytea",
        "frontier": "bytea",
        "consistency_proof": "bytea",
        "note": "text",
        "signed_at": "bigint",
    },
}


def check_column_types(database: Database) -> None:
    """PostgreSQL: raise ``StoredValueError`` if a column of the events or checkpoints table has
    another type than the ledger gives it (``ALTER TABLE … TYPE`` changes a whole column; the
    rows would be read as other Python values). SQLite types each value instead: the replay
    checks those."""
    if database.dialect != "postgres":
        return
    with database.transaction(write=False) as cursor:
        cursor.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name IN (?, ?)",
            tuple(_EVENT_COLUMN_TYPES),
        )
        found = {(table, column): kind for table, column, kind in cursor.fetchall()}
    for table, columns in _EVENT_COLUMN_TYPES.items():
        for column, kind in columns.items():
            actual = found.get((table, column))
            if actual is not None and actual != kind:
                raise StoredValueError(
                    "a ledger column was given another type",
                    expected=kind,
                    found=actual,
                    where=f"table {table} column {column}",
                )


def read_checkpoint_notes(text: str) -> list[str]:
    """The signed checkpoint notes of a file kept outside the database: notes one after another,
    separated by a blank line (``ejournal export-checkpoints``), or the JSON of
    ``GET /ledger/checkpoints`` (a list of objects with a ``note``). Raises
    ``MalformedCheckpointError`` if it is neither."""
    text = text.replace("\r\n", "\n")
    if text.lstrip().startswith(("[", "{")):
        try:
            document = json.loads(text)
            items = document if isinstance(document, list) else [document]
            notes = [str(item["note"]) for item in items]
        except (ValueError, KeyError, TypeError) as e:
            raise MalformedCheckpointError(f"not a list of checkpoints: {e!r}") from e
    else:
        # A note is its text (no blank line in a checkpoint), a blank line and its signatures.
        blocks = [block.strip("\n") for block in text.strip("\n").split("\n\n")]
        if len(blocks) % 2 or not all(blocks):
            raise MalformedCheckpointError(
                "not signed checkpoint notes separated by blank lines",
                expected="text, a blank line, signature lines; then the next note",
                found=f"{len(blocks)} blocks of lines",
            )
        notes = [f"{blocks[i]}\n\n{blocks[i + 1]}\n" for i in range(0, len(blocks), 2)]
    if not notes:
        raise MalformedCheckpointError("no checkpoint")
    return notes


def witnessed_checkpoints(
    notes: Sequence[str], verifiers: Sequence[Verifier], origin: str
) -> dict[str, list[Checkpoint]]:
    """The checkpoints of ``notes``, by log ID, each signed by one of ``verifiers`` for a log of
    the deployment ``origin``. Raises the errors of ``open_checkpoint`` and
    ``OriginMismatchError`` (with ``where`` naming the note) for one that is not."""
    by_log: dict[str, list[Checkpoint]] = {}
    for number, note in enumerate(notes, 1):
        where = f"witnessed checkpoint {number}"
        try:
            checkpoint, _ = open_checkpoint(note, verifiers)
        except VerificationError as e:
            raise type(e)(e.message, expected=e.expected, found=e.found, where=where) from e
        log_id = checkpoint.origin.removeprefix(f"{origin}/")
        if log_id == checkpoint.origin or not log_id:
            raise OriginMismatchError(
                "the checkpoint is of another deployment",
                expected=f"{origin}/<log>",
                found=checkpoint.origin,
                where=where,
            )
        by_log.setdefault(log_id, []).append(checkpoint)
    return by_log


def verify_witnessed(report: LedgerReport, witnessed: Mapping[str, Sequence[Checkpoint]]) -> None:
    """Check the verified database (``report``, made with ``witness`` = the sizes of
    ``witnessed``) against signed checkpoints kept outside it.

    Raises ``MissingEntryError`` if a log is shorter than a witnessed checkpoint (its tail, and
    the checkpoints covering it, were removed) or a witnessed checkpoint is missing from the
    database; ``RootMismatchError`` if the log's root at a witnessed size is another (a fork).
    """
    logs = {log.log_id: log for log in report.logs}
    for log_id, checkpoints in sorted(witnessed.items()):
        log = logs.get(log_id, LogSummary(log_id))
        longest = max(checkpoints, key=lambda checkpoint: checkpoint.size)
        if log.size < longest.size:
            raise MissingEntryError(
                "the log is shorter than a signed checkpoint kept outside the database: "
                "its last entries were removed",
                expected=f"at least {longest.size} entries",
                found=f"{log.size} entries",
                where=f"log {log_id} index {log.size}",
            )
        for checkpoint in sorted(checkpoints, key=lambda checkpoint: checkpoint.size):
            where = f"log {log_id} checkpoint at size {checkpoint.size}"
            root = log.roots.get(checkpoint.size)
            if root != checkpoint.root_hash:
                raise RootMismatchError(
                    "the log differs from a signed checkpoint kept outside the database (a fork)",
                    expected=checkpoint.root_hash.hex(),
                    found="nothing" if root is None else root.hex(),
                    where=where,
                )
            if checkpoint.size not in log.checkpoint_sizes:
                raise MissingEntryError(
                    "a signed checkpoint kept outside the database is missing from it",
                    expected=f"a checkpoint at size {checkpoint.size}",
                    found="sizes " + (", ".join(map(str, log.checkpoint_sizes)) or "none"),
                    where=where,
                )


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
            # A value of the wrong type is passed over here: the replay names its entry next.
            with suppress(TypeError, ValueError):
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


def witnessed_sizes(
    database: Database, witnesses: Sequence[CosignatureVerifier], quorum: int
) -> dict[str, int]:
    """The largest checkpoint size of each log that at least ``quorum`` of ``witnesses`` cosigned
    (0 if none): entries beyond it are signed by the log alone.

    Raises ``SignatureError`` (with ``where`` naming the checkpoint) if a stored cosignature line
    by one of ``witnesses`` does not verify, and the errors of ``load_checkpoints``.
    """
    cosignatures = load_cosignatures(database)
    sizes: dict[str, int] = {}
    for log_id, checkpoints in load_checkpoints(database).items():
        sizes[log_id] = 0
        for stored in checkpoints:
            note = cosigned_note(stored.note, log_id, stored.size, cosignatures)
            try:
                verify_cosignatures(note, witnesses, quorum)
            except QuorumError:
                continue
            except VerificationError as e:
                where = f"log {log_id} checkpoint at size {stored.size}"
                raise type(e)(e.message, expected=e.expected, found=e.found, where=where) from e
            sizes[log_id] = stored.size
    return sizes


def cosigned_by_witness(
    text: str, witness: CosignatureVerifier, verifiers: Sequence[Verifier], origin: str
) -> dict[str, list[Checkpoint]]:
    """The checkpoints a witness served (``GET /checkpoints``), by log: each must carry the
    witness's valid cosignature and the deployment's signature. An empty answer is no checkpoint.

    Raises ``QuorumError`` or ``SignatureError`` for a note the witness did not cosign, and the
    errors of ``witnessed_checkpoints``.
    """
    if not text.strip():
        return {}
    notes = read_checkpoint_notes(text)
    for number, note in enumerate(notes, 1):
        try:
            verify_cosignatures(note, [witness], 1)
        except VerificationError as e:
            where = f"checkpoint {number} served by witness {witness.name}"
            raise type(e)(e.message, expected=e.expected, found=e.found, where=where) from e
    return witnessed_checkpoints(notes, verifiers, origin)
