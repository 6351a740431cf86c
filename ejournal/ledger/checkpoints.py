"""Signed checkpoints of each log (I5): C2SP tlog-checkpoints, Ed25519, stored and published.

A checkpoint is signed on demand, when a log has ``every_entries`` unsigned entries or its oldest
unsigned entry is ``every_seconds`` old, and at year close. The server's ``CheckpointSchedule``
asks for the due ones every ``poll_seconds``, so every entry is covered by a signed checkpoint
within ``every_seconds + poll_seconds`` of being recorded (``bound_seconds``): entries removed
from the end of a log after that are missing from a checkpoint an auditor may hold outside the
database (``ejournal verify --checkpoint``). A new checkpoint is built on the
previous one: the checkpointer opens the previous signed note, resumes its Merkle frontier (and
checks that the frontier's root is the signed root), replays only the new rows — recomputing each
leaf and the chain — and proves consistency from the previous tree to the new one before it signs.
It never signs a tree that does not extend the previous one.

Each stored checkpoint keeps its frontier (O(log n) hashes, to resume from), the chain head, and
the consistency proof from the previous checkpoint (for archives and auditors).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from ejournal.integrity.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ejournal.integrity.compact import CompactRange
from ejournal.integrity.errors import RootMismatchError
from ejournal.integrity.leaf import micros
from ejournal.integrity.note import Ed25519Signer, Verifier
from ejournal.integrity.proof import consistency_proof_from_subtrees, verify_consistency
from ejournal.integrity.rfc6962 import HASH_SIZE, hash_children, root_of
from ejournal.ledger.clock import Clock, system_clock
from ejournal.ledger.database import Database
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.fences import fences
from ejournal.ledger.gaps import Gaps, settle_on
from ejournal.ledger.keys import KeyStore, secret_from_environment
from ejournal.ledger.recorders import EVENTS_TABLE, SCHEMA_LOCK
from ejournal.ledger.replay import LogReplay, StoredValueError, row_columns
from ejournal.ledger.settings import CHECKPOINT_EVERY_ENTRIES, CHECKPOINT_EVERY_SECONDS, Settings

_CREATE = """
CREATE TABLE IF NOT EXISTS checkpoints (
    log_id TEXT NOT NULL,
    size BIGINT NOT NULL,
    root_hash {bytes} NOT NULL,
    chain_head {bytes} NOT NULL,
    frontier {bytes} NOT NULL,
    consistency_proof {bytes} NOT NULL,
    note TEXT NOT NULL,
    signed_at BIGINT NOT NULL,
    PRIMARY KEY (log_id, size)
)"""
_COLUMNS = "log_id, size, root_hash, chain_head, frontier, consistency_proof, note, signed_at"


_log = logging.getLogger(__name__)


class CheckpointError(LedgerError):
    """A checkpoint could not be signed: the log does not extend the previous checkpoint."""


class UnknownLogError(CheckpointError):
    """There is no such log: it has neither an entry nor a checkpoint."""


def _split(blob: bytes) -> tuple[bytes, ...]:
    return tuple(blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE))


_HASHES = "bytes, a multiple of 32"
_CHECKPOINT_KINDS: tuple[tuple[str, type | tuple[type, ...], str], ...] = (
    ("log_id", str, "text"),
    ("size", int, "integer"),
    ("root_hash", (bytes, memoryview), "32 bytes"),
    ("chain_head", (bytes, memoryview), "32 bytes"),
    ("frontier", (bytes, memoryview), _HASHES),
    ("consistency_proof", (bytes, memoryview), _HASHES),
    ("note", str, "text ending in a newline"),
    ("signed_at", int, "integer"),
)


def _checkpoint_fault(value: Any, kind: type | tuple[type, ...], expected: str) -> bool:
    if not isinstance(value, kind) or isinstance(value, bool):
        return True
    sized: Any = value
    if expected == "32 bytes":
        return len(sized) != HASH_SIZE
    if expected == _HASHES:
        return len(sized) % HASH_SIZE != 0
    if expected.startswith("text ending"):
        return not sized.endswith("\n")
    return False


def _check_checkpoint_row(row: Sequence[Any]) -> None:
    """Raise ``StoredValueError`` naming the first column of a stored checkpoint whose value has
    the wrong type or size (the table is as open to a forger as the events)."""
    for (column, kind, expected), value in zip(_CHECKPOINT_KINDS, row, strict=True):
        if _checkpoint_fault(value, kind, expected):
            found = "NULL" if value is None else type(value).__name__
            if isinstance(value, bytes | memoryview | str) and not isinstance(value, kind):
                found = f"{found} {str(value)[:40]!r}"
            elif isinstance(value, bytes | memoryview | str):
                found = f"{found} of length {len(value)}"
            raise StoredValueError(
                f"stored checkpoint column {column} holds a value of the wrong type or size",
                expected=expected,
                found=found,
                where=f"log {row[0]} checkpoint at size {row[1]}",
            )


@dataclass(frozen=True, slots=True)
class StoredCheckpoint:
    log_id: str
    size: int
    root_hash: bytes
    chain_head: bytes
    frontier: tuple[bytes, ...]
    consistency_proof: tuple[bytes, ...]
    note: str
    signed_at: int

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> StoredCheckpoint:
        """A stored checkpoint from its row (``_COLUMNS``). Raises ``StoredValueError`` if a
        column holds a value of the wrong type or size."""
        _check_checkpoint_row(row)
        return cls(
            log_id=row[0],
            size=row[1],
            root_hash=bytes(row[2]),
            chain_head=bytes(row[3]),
            frontier=_split(bytes(row[4])),
            consistency_proof=_split(bytes(row[5])),
            note=row[6],
            signed_at=row[7],
        )


def create_checkpoint_table(database: Database) -> None:
    """Create the checkpoints table, append-only like the events (I4)."""
    with database.transaction(write=True) as cursor:
        if database.dialect == "sqlite":
            cursor.execute(_CREATE.format(bytes="BLOB"))
            for operation in ("UPDATE", "DELETE"):
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS checkpoints_refuse_{operation.lower()} "
                    f"BEFORE {operation} ON checkpoints BEGIN "
                    f"SELECT RAISE(ABORT, 'checkpoints are append-only: {operation}'); END"
                )
            return
        # Serialised with the recorder's schema setup: concurrent DDL would deadlock.
        cursor.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
        cursor.execute(_CREATE.format(bytes="bytea"))
        cursor.execute(
            "CREATE OR REPLACE TRIGGER ejournal_append_only BEFORE UPDATE OR DELETE "
            "ON checkpoints FOR EACH ROW EXECUTE FUNCTION ejournal_refuse_change()"
        )


def load_checkpoints(database: Database) -> dict[str, list[StoredCheckpoint]]:
    """Every stored checkpoint, by log, in size order. Raises nothing if there is no table yet."""
    create_checkpoint_table(database)
    with database.transaction(write=False) as cursor:
        cursor.execute(f"SELECT {_COLUMNS} FROM checkpoints ORDER BY log_id, size")
        rows = cursor.fetchall()
    by_log: dict[str, list[StoredCheckpoint]] = {}
    for row in rows:
        by_log.setdefault(row[0], []).append(StoredCheckpoint.from_row(row))
    return by_log


def latest_checkpoints(database: Database, log_id: str | None = None) -> list[StoredCheckpoint]:
    """The latest stored checkpoint of every log (or only of ``log_id``), in log ID order. Raises
    ``StoredValueError`` for a stored checkpoint of the wrong shape."""
    create_checkpoint_table(database)
    only = "" if log_id is None else "AND c.log_id = ? "
    with database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT {_COLUMNS} FROM checkpoints c WHERE c.size = "
            f"(SELECT MAX(size) FROM checkpoints WHERE log_id = c.log_id) {only}ORDER BY c.log_id",
            () if log_id is None else (log_id,),
        )
        return [StoredCheckpoint.from_row(row) for row in cursor.fetchall()]


def checkpoint_at(database: Database, log_id: str, size: int) -> StoredCheckpoint | None:
    """The stored checkpoint of ``log_id`` at ``size``, if there is one."""
    with database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT {_COLUMNS} FROM checkpoints WHERE log_id = ? AND size = ?", (log_id, size)
        )
        row = cursor.fetchone()
    return StoredCheckpoint.from_row(row) if row else None


class Checkpointer:
    """Signs checkpoints of the logs in one database."""

    def __init__(
        self,
        database: Database,
        *,
        origin: str,
        signers: Sequence[Ed25519Signer],
        verifiers: Sequence[Verifier],
        clock: Clock = system_clock,
        every_entries: int = CHECKPOINT_EVERY_ENTRIES,
        every_seconds: float = CHECKPOINT_EVERY_SECONDS,
    ) -> None:
        """``origin`` prefixes each log's checkpoint origin (``origin/log_id``); ``verifiers``
        are the keys a previous checkpoint may be signed by (active and retired)."""
        if every_entries < 1 or every_seconds <= 0:
            raise ValueError("every_entries and every_seconds must be positive")
        self._database = database
        self.origin = origin
        self._signers = list(signers)
        self._verifiers = list(verifiers)
        self._clock = clock
        self.every_entries = every_entries
        self.every_seconds = every_seconds
        nid = "rowid" if database.dialect == "sqlite" else "notification_id"
        self._max_nid_sql = f"SELECT COALESCE(MAX({nid}), 0) FROM {EVENTS_TABLE}"
        self._new_events_sql = (
            f"SELECT {nid}, log_id FROM {EVENTS_TABLE} WHERE {nid} > ? ORDER BY {nid}"
        )
        self._gaps = Gaps(database.dialect)
        self._seen: int | None = None
        """The notification ID up to which ``_candidates`` accounts for the events."""
        self._candidates: set[str] = set()
        """The logs that may have unsigned entries: every log at the first look, then those with
        events recorded since (and those not signed yet)."""
        create_checkpoint_table(database)

    def origin_of(self, log_id: str) -> str:
        return f"{self.origin}/{log_id}"

    def latest(self, log_id: str) -> StoredCheckpoint | None:
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT {_COLUMNS} FROM checkpoints WHERE log_id = ? ORDER BY size DESC LIMIT 1",
                (log_id,),
            )
            row = cursor.fetchone()
        return StoredCheckpoint.from_row(row) if row else None

    def checkpoint(self, log_id: str) -> StoredCheckpoint | None:
        """Sign a checkpoint of everything ``log_id`` holds now; None if nothing is new.

        Raises ``UnknownLogError`` if the log has neither an entry nor a checkpoint,
        ``CheckpointError`` if it does not extend its previous checkpoint, and the errors of
        ``LogReplay.feed`` if a new row does not verify.
        """
        previous = self.latest(log_id)
        replay, new_leaves = self._replay_from(log_id, previous)
        if replay.size == (previous.size if previous else 0):
            if previous is None:
                raise UnknownLogError(f"no log {log_id!r}: it has no entry and no checkpoint")
            return None
        root = replay.tree.root()
        proof: list[bytes] = []
        if previous is not None:
            proof = self._consistency_proof(previous, new_leaves)
            verify_consistency(
                size1=previous.size,
                size2=replay.size,
                proof=proof,
                root1=previous.root_hash,
                root2=root,
            )
        note = sign_checkpoint(Checkpoint(self.origin_of(log_id), replay.size, root), self._signers)
        stored = StoredCheckpoint(
            log_id=log_id,
            size=replay.size,
            root_hash=root,
            chain_head=replay.chain_head,
            frontier=replay.tree.state()[1],
            consistency_proof=tuple(proof),
            note=note,
            signed_at=micros(self._clock()),
        )
        with self._database.transaction(write=True) as cursor:
            cursor.execute(
                f"INSERT INTO checkpoints ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    stored.log_id,
                    stored.size,
                    stored.root_hash,
                    stored.chain_head,
                    b"".join(stored.frontier),
                    b"".join(stored.consistency_proof),
                    stored.note,
                    stored.signed_at,
                ),
            )
        return stored

    def checkpoint_due(self) -> list[StoredCheckpoint]:
        """Sign every log that has ``every_entries`` unsigned entries or whose oldest unsigned entry
        is older than ``every_seconds``.

        The first call looks at every log; later ones only at the logs with events recorded
        since the previous call (found by notification ID, up to the first missing ID that may
        still appear: ``ledger.gaps``) or not signed then, so a frequent schedule stays cheap
        however long the logs grow. A fenced log (``ledger.fences``) waits until its fence is
        lifted. A log that cannot be signed is tried again at the next call; the others are
        signed all the same, and the first failure is raised afterwards.
        """
        oldest_allowed = micros(self._clock()) - int(self.every_seconds * 1_000_000)
        # A fenced log lives elsewhere (ADR 0017): its copy here is signed only by its own
        # server's checkpoints, copied with it, or the copied ones would not chain. It stays a
        # candidate, signed once the fence is lifted.
        fenced = fences(self._database)
        due = []
        for log_id, (unsigned, oldest) in sorted(self._unsigned().items()):
            if unsigned == 0:
                self._candidates.discard(log_id)
            elif log_id in fenced:
                continue
            elif unsigned >= self.every_entries or oldest <= oldest_allowed:
                due.append(log_id)
        signed, failure = [], None
        for log_id in due:
            try:
                checkpoint = self.checkpoint(log_id)
            except Exception as e:  # one log that does not verify must not stop the others
                failure = failure or e
                continue
            self._candidates.discard(log_id)
            if checkpoint is not None:
                signed.append(checkpoint)
        if failure is not None:
            raise failure
        return signed

    def _unsigned(self) -> dict[str, tuple[int, int]]:
        """(how many unsigned entries, the oldest one's recorded time) of each candidate log."""
        found: dict[str, tuple[int, int]] = {}
        with self._database.transaction(write=False) as cursor:
            if self._seen is None:
                cursor.execute(self._max_nid_sql)
                head = int(cursor.fetchone()[0])
                cursor.execute(f"SELECT DISTINCT log_id FROM {EVENTS_TABLE}")
                self._candidates.update(row[0] for row in cursor.fetchall())
                # Until every gap below the head is final, the next call looks at every log again.
                if settle_on(cursor, self._gaps.settle(head)):
                    self._seen = head
            else:
                cursor.execute(self._new_events_sql, (self._seen,))
                rows = cursor.fetchall()
                self._candidates.update(row[1] for row in rows)
                ids = [int(row[0]) for row in rows]
                passable = self._gaps.passable(self._seen, ids)
                if passable < len(ids):
                    settle_on(cursor, self._gaps.settle(ids[-1]))
                self._seen = ids[passable - 1] if passable else self._seen
            for log_id in self._candidates:
                cursor.execute(
                    "SELECT COALESCE(MAX(size), 0) FROM checkpoints WHERE log_id = ?", (log_id,)
                )
                size = int(cursor.fetchone()[0])
                cursor.execute(
                    f"SELECT COUNT(*), MIN(recorded_at) FROM {EVENTS_TABLE} "
                    "WHERE log_id = ? AND idx >= ?",
                    (log_id, size),
                )
                count, oldest = cursor.fetchone()
                found[log_id] = (int(count), int(oldest or 0))
        return found

    def _replay_from(
        self, log_id: str, previous: StoredCheckpoint | None
    ) -> tuple[LogReplay, list[bytes]]:
        if previous is None:
            replay = LogReplay(log_id)
        else:
            checkpoint, _ = open_checkpoint(
                previous.note, self._verifiers, origin=self.origin_of(log_id)
            )
            frontier = CompactRange.from_state(previous.size, previous.frontier)
            if checkpoint.root_hash != previous.root_hash or frontier.root() != previous.root_hash:
                raise CheckpointError(
                    f"stored frontier of {log_id} at size {previous.size} is not the signed tree"
                )
            replay = LogReplay(log_id, chain_head=previous.chain_head, frontier=frontier)
        # Closed even when a row does not verify: an abandoned stream would keep its connection
        # (and, on PostgreSQL, its snapshot) until the garbage collector found it.
        with closing(
            self._database.stream(
                f"SELECT {row_columns(self._database.dialect)} FROM {EVENTS_TABLE} "
                "WHERE log_id = ? AND idx >= ? ORDER BY idx",
                (log_id, replay.size),
            )
        ) as rows:
            return replay, replay.feed_many(rows, keep=True)

    @staticmethod
    def _consistency_proof(previous: StoredCheckpoint, new_leaves: list[bytes]) -> list[bytes]:
        """The RFC 9162 proof from the previous tree to the new one, from the previous frontier and
        the new leaves only: every subtree a proof needs lies in one or the other."""
        old_size = previous.size
        known: dict[tuple[int, int], bytes] = {}
        start = 0
        for bit in reversed(range(old_size.bit_length())):
            if old_size >> bit & 1:
                known[(start, start + (1 << bit))] = previous.frontier[len(known)]
                start += 1 << bit

        def subtree_root(lo: int, hi: int) -> bytes:
            if (lo, hi) in known:
                return known[(lo, hi)]
            if lo >= old_size:
                return root_of(new_leaves[lo - old_size : hi - old_size])
            if hi <= old_size:
                raise KeyError((lo, hi))  # inside the old tree but not on its frontier
            split = 1 << ((hi - lo - 1).bit_length() - 1)
            return hash_children(subtree_root(lo, lo + split), subtree_root(lo + split, hi))

        try:
            return consistency_proof_from_subtrees(
                old_size, old_size + len(new_leaves), subtree_root
            )
        except KeyError as e:
            raise RootMismatchError(
                "cannot prove consistency from the previous checkpoint's frontier",
                where=f"log {previous.log_id} size {previous.size}",
            ) from e


def consistency_proof_between(
    database: Database, old: StoredCheckpoint, new: StoredCheckpoint
) -> list[bytes]:
    """The RFC 9162 consistency proof from the stored checkpoint ``old`` to the later ``new``
    of the same log, from ``old``'s frontier and the entries between them (for a witness that
    last cosigned ``old``: checkpoints it missed are skipped).

    Raises ``RootMismatchError`` if the entries do not lead from ``old``'s root to ``new``'s,
    and the errors of ``LogReplay.feed`` if a row does not verify.
    """
    if old.size == new.size:
        return []
    frontier = CompactRange.from_state(old.size, old.frontier)
    replay = LogReplay(old.log_id, chain_head=old.chain_head, frontier=frontier)
    with closing(
        database.stream(
            f"SELECT {row_columns(database.dialect)} FROM {EVENTS_TABLE} "
            "WHERE log_id = ? AND idx >= ? AND idx < ? ORDER BY idx",
            (old.log_id, old.size, new.size),
        )
    ) as rows:
        leaves = replay.feed_many(rows, keep=True)
    if replay.size != new.size or replay.tree.root() != new.root_hash:
        raise RootMismatchError(
            "the entries do not lead from one stored checkpoint to the next",
            expected=f"size {new.size} root {new.root_hash.hex()}",
            found=f"size {replay.size} root {replay.tree.root().hex()}",
            where=f"log {old.log_id} size {old.size}",
        )
    return Checkpointer._consistency_proof(old, leaves)


class CheckpointSchedule:
    """Signs the checkpoints that are due (every N entries or T seconds) in a background thread.

    It asks every ``poll_seconds`` (by default a fifth of the checkpointer's ``every_seconds``,
    between 0.5 and 10 s), so an entry waits at most ``bound_seconds`` for its signature.
    """

    def __init__(
        self,
        checkpointer: Checkpointer,
        *,
        poll_seconds: float | None = None,
        after_signing: Callable[[], object] | None = None,
    ) -> None:
        """``after_signing`` runs in the schedule's thread after each round of signing (the
        witnesses' submission, ``witness.submitter``): it never delays a write."""
        self._checkpointer = checkpointer
        self._after_signing = after_signing
        self.poll_seconds = (
            poll_seconds
            if poll_seconds is not None
            else min(10.0, max(0.5, checkpointer.every_seconds / 5))
        )
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def bound_seconds(self) -> float:
        """The longest an entry stays unsigned while the schedule runs (plus the signing time)."""
        return self._checkpointer.every_seconds + self.poll_seconds

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="ejournal-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stopping.wait(self.poll_seconds):
            try:
                self._checkpointer.checkpoint_due()
            except Exception:  # keep signing later ones; the failure is logged, verify names it
                _log.exception("signing due checkpoints failed")
            if self._after_signing is not None:
                try:
                    self._after_signing()
                except Exception:  # the next round tries again
                    _log.exception("after signing checkpoints")


def scheduled_checkpoints(
    database: Database,
    settings: Settings,
    *,
    clock: Clock = system_clock,
    environ: Mapping[str, str] = os.environ,
    after_signing: Callable[[], object] | None = None,
) -> CheckpointSchedule | None:
    """The schedule that signs due checkpoints for a server process, or None (logged) if no
    signing key can be unsealed with the secret in ``environ``. Exactly one process of a
    deployment runs it: the server, or the supervisor of its workers."""
    keys = KeyStore(database, clock=clock)
    try:
        signers = keys.signers(secret_from_environment(environ))
    except LedgerError as e:
        _log.warning("checkpoints are not signed automatically: %s", e)
        return None
    checkpointer = Checkpointer(
        database,
        origin=settings.origin,
        signers=signers,
        verifiers=keys.verifiers(),
        clock=clock,
        every_entries=settings.checkpoint_every_entries,
        every_seconds=settings.checkpoint_every_seconds,
    )
    return CheckpointSchedule(checkpointer, after_signing=after_signing)
