"""Signed checkpoints of each log (I5): C2SP tlog-checkpoints, Ed25519, stored and published.

A checkpoint is signed on demand, when a log has ``every_entries`` unsigned entries or its oldest
unsigned entry is ``every_seconds`` old, and at year close. A new checkpoint is built on the
previous one: the checkpointer opens the previous signed note, resumes its Merkle frontier (and
checks that the frontier's root is the signed root), replays only the new rows — recomputing each
leaf and the chain — and proves consistency from the previous tree to the new one before it signs.
It never signs a tree that does not extend the previous one.

Each stored checkpoint keeps its frontier (O(log n) hashes, to resume from), the chain head, and
the consistency proof from the previous checkpoint (for archives and auditors).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
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
from ejournal.ledger.recorders import EVENTS_TABLE, SCHEMA_LOCK
from ejournal.ledger.replay import LogReplay, row_columns

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


def _split(blob: bytes) -> tuple[bytes, ...]:
    return tuple(blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE))


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
        every_entries: int = 10_000,
        every_seconds: float = 300.0,
    ) -> None:
        """``origin`` prefixes each log's checkpoint origin (``origin/log_id``); ``verifiers``
        are the keys a previous checkpoint may be signed by (active and retired)."""
        self._database = database
        self.origin = origin
        self._signers = list(signers)
        self._verifiers = list(verifiers)
        self._clock = clock
        self.every_entries = every_entries
        self.every_seconds = every_seconds
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

        Raises ``CheckpointError`` if the log does not extend its previous checkpoint, and the
        errors of ``LogReplay.feed`` if a new row does not verify.
        """
        previous = self.latest(log_id)
        replay, new_leaves = self._replay_from(log_id, previous)
        if replay.size == (previous.size if previous else 0):
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
        is older than ``every_seconds``."""
        oldest_allowed = micros(self._clock()) - int(self.every_seconds * 1_000_000)
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT e.log_id, COUNT(*), MIN(e.recorded_at) FROM {EVENTS_TABLE} e "
                "LEFT JOIN (SELECT log_id, MAX(size) AS size FROM checkpoints GROUP BY log_id) c "
                "ON c.log_id = e.log_id WHERE e.idx >= COALESCE(c.size, 0) GROUP BY e.log_id"
            )
            pending = cursor.fetchall()
        due = [
            log_id
            for log_id, unsigned, oldest in pending
            if unsigned >= self.every_entries or oldest <= oldest_allowed
        ]
        signed = [self.checkpoint(log_id) for log_id in sorted(due)]
        return [checkpoint for checkpoint in signed if checkpoint is not None]

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
        rows = self._database.stream(
            f"SELECT {row_columns(self._database.dialect)} FROM {EVENTS_TABLE} "
            "WHERE log_id = ? AND idx >= ? ORDER BY idx",
            (log_id, replay.size),
        )
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


class CheckpointSchedule:
    """Signs the checkpoints that are due (every N entries or T seconds) in a background thread."""

    def __init__(self, checkpointer: Checkpointer, *, poll_seconds: float = 10.0) -> None:
        self._checkpointer = checkpointer
        self._poll_seconds = poll_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

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
        while not self._stopping.wait(self._poll_seconds):
            try:
                self._checkpointer.checkpoint_due()
            except Exception:  # keep signing later ones; the failure is logged, verify names it
                _log.exception("signing due checkpoints failed")
