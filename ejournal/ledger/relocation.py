"""Moving logs between two PostgreSQL databases: copy, fence, compare (issue 24, item 3).

A school's logs (one per school year, ``logs.school_log_id``) move from the server they live on
to another one, while the school keeps writing; docs/adr/0017-moving-a-school.md gives the
reasons. The pieces, each resumable and safe to run again:

- ``copy_logs``: every event row of the logs, byte for byte (only the notification ID is the
  target's own), in index order and in batches, each batch one target transaction that holds
  the log's write lock and continues exactly where the target's copy ends; then the signed
  checkpoints it covers, their witnesses' cosignatures, and the keys that verify them.
- ``fences.fence_logs``: the database itself refuses further events of the logs.
- ``compare_logs``: on the target, each log's latest signed checkpoint is the source's and the
  copied entries, recomputed, give its root.
- ``move_logs``: the order in which they make a move under write load lose nothing.

Where a school is placed (the directory of schools and servers) is not decided here: ``move_logs``
calls the placement's switch when the target is proven equal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.postgres import PostgresDatastore

from ejournal.integrity.checkpoint import open_checkpoint
from ejournal.integrity.note import Verifier
from ejournal.ledger.checkpoints import (
    Checkpointer,
    create_checkpoint_table,
    latest_checkpoints,
    load_checkpoints,
)
from ejournal.ledger.cosignatures import create_cosignature_table
from ejournal.ledger.database import Database
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.fences import RELOCATING, fence_logs, fences, require_postgres, unfence_logs
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.recorders import EVENTS_TABLE, log_lock
from ejournal.ledger.signatories import SignatoryKeyStore
from ejournal.ledger.verify import verify_log

COPY_BATCH = 2000
"""Rows per target transaction: the log's lock is held for one batch, and a writer of the log on
the target (there is none until the move ends: the log is fenced there) would wait that long."""

_ROW = (
    "originator_id, originator_version, topic, state, log_id, idx, recorded_at, actor_id, "
    "actor_role, credential_version, session_id, payload_sha256, leaf_hash, chain_hash"
)
_INSERT_ROWS = (
    f"INSERT INTO {EVENTS_TABLE} ({_ROW}) "
    "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[], %b::text[], "
    "%b::bigint[], %b::bigint[], %b::uuid[], %b::text[], %b::integer[], %b::uuid[], "
    "%b::bytea[], %b::bytea[], %b::bytea[])"
)
_CHECKPOINT = "log_id, size, root_hash, chain_head, frontier, consistency_proof, note, signed_at"
_COSIGNATURE = "log_id, size, witness, line, received_at"
_SIGNATORY_TOPICS = (
    "ledger.domain.certification:SignatoryKey.Registered",
    "ledger.domain.certification:SignatoryKey.Replaced",
)


class RelocationError(LedgerError):
    """Logs cannot be moved as asked (nothing written), or their copies differ."""


@dataclass(frozen=True, slots=True)
class CopiedLog:
    log_id: str
    copied: int
    """Event rows this call copied."""
    size: int
    """Entries the target holds now."""


@dataclass(frozen=True, slots=True)
class MovedLog:
    """A log proven equal on both databases: its size and root at the latest signed checkpoint."""

    log_id: str
    size: int
    root_hex: str


def copy_logs(
    source: Database,
    target: Database,
    log_ids: Iterable[str],
    *,
    batch: int = COPY_BATCH,
    progress: Callable[[str, int], None] | None = None,
) -> list[CopiedLog]:
    """Copy what the target lacks of each log of ``log_ids``, and the keys and checkpoints that
    verify it. ``progress(log, entries on the target)`` after each committed batch.

    Idempotent and resumable: each batch continues after the target's last entry of the log,
    having checked that this entry is the source's (same index, same chain hash), so a copy
    stopped anywhere, or run twice, doubles nothing. The target's schema must exist (a ``Ledger``
    opened on it once creates it). Raises ``FenceError`` for SQLite, ``RelocationError`` for the
    same database twice, an unknown log or a target without the ledger's tables (nothing
    written), or a target whose copy is not a prefix of the source's log.
    """
    logs = _checked(source, target, log_ids)
    _prepare_target(target)
    _create_side_tables(source)  # a source that never signed or cosigned has none yet
    _copy_keys(source, target, logs)
    copied = []
    for log_id in logs:
        count = _copy_rows(source, target, log_id, batch, progress)
        size = _size(target, log_id)
        _copy_checkpoints(source, target, log_id, size)
        copied.append(CopiedLog(log_id, count, size))
    return copied


def compare_logs(
    source: Database,
    target: Database,
    log_ids: Iterable[str],
    *,
    verifiers: Sequence[Verifier],
    origin: str,
) -> list[MovedLog]:
    """Prove each log equal on both databases, after its source was fenced and signed.

    For each log: the source's latest signed checkpoint covers every entry it holds; the target
    holds the same checkpoint (size, root, note) and exactly that many entries; the note's
    signature verifies with ``verifiers`` for origin ``origin/<log>``; and the target's entries,
    recomputed leaf by leaf (``verify.verify_log``, every checkpoint of the log on the target
    checked on the way), give that root. Raises ``RelocationError`` naming the first log that
    differs, or a ``VerificationError`` from the recomputation.
    """
    logs = _checked(source, target, log_ids)
    stored = load_checkpoints(target)
    report = []
    for log_id in logs:
        mine = latest_checkpoints(source, log_id)
        if not mine or mine[0].size != _size(source, log_id):
            signed = mine[0].size if mine else 0
            raise RelocationError(
                f"log {log_id}: the source's last checkpoint (size {signed}) does not cover its "
                f"{_size(source, log_id)} entries: fence it and sign one first"
            )
        theirs = latest_checkpoints(target, log_id)
        expected = mine[0]
        if not theirs or (theirs[0].size, theirs[0].root_hash, theirs[0].note) != (
            expected.size,
            expected.root_hash,
            expected.note,
        ):
            found = f"size {theirs[0].size} root {theirs[0].root_hash.hex()}" if theirs else "none"
            raise RelocationError(
                f"log {log_id}: the target's latest checkpoint is not the source's: expected "
                f"size {expected.size} root {expected.root_hash.hex()}, found {found}"
            )
        open_checkpoint(expected.note, verifiers, origin=f"{origin}/{log_id}")
        summary = verify_log(
            target, log_id, stored.get(log_id, []), verifiers=verifiers, origin=origin
        ).logs[0]
        if (summary.size, summary.root) != (expected.size, expected.root_hash):
            raise RelocationError(
                f"log {log_id}: the target's entries give size {summary.size} root "
                f"{summary.root.hex()}, the source signed size {expected.size} root "
                f"{expected.root_hash.hex()}"
            )
        report.append(MovedLog(log_id, expected.size, expected.root_hash.hex()))
    return report


def move_logs(
    source: Database,
    target: Database,
    log_ids: Iterable[str],
    *,
    checkpointer: Checkpointer,
    verifiers: Sequence[Verifier],
    source_name: str,
    target_name: str,
    switch: Callable[[], None],
    batch: int = COPY_BATCH,
) -> list[MovedLog]:
    """Move ``log_ids`` from ``source`` to ``target`` while their school keeps writing, and call
    ``switch`` (the placement's: the logs live on ``target_name`` from then on) once the target
    is proven equal. ``checkpointer`` signs on the source; ``verifiers`` check its signatures.

    The steps, in this order:

    1. fence the logs on the target (they live on ``source_name``): nothing but the copy writes
       them there, and the target's checkpoint schedule leaves them to the source's signatures;
    2. copy them, while the source's writers go on (the bulk of the rows);
    3. fence them on the source (they live on ``target_name``): the fence waits for the writers
       that hold a log's lock, and every writer after it is refused (``LogMovedError``), so the
       source's logs are final;
    4. copy the tail, what was written during step 2;
    5. sign a checkpoint on the source at each log's final head, if its last one is behind;
    6. copy it, and compare (``compare_logs``);
    7. ``switch()``;
    8. lift the target's fence: the logs are written there from now on.

    Why the source is fenced before the switch, not after: a process whose placement is stale
    (it read the directory before the switch) still sends the school's writes to the source.
    Fenced first, the source refuses them, and the writer retries where the placement now
    says; switched first, the source would accept them after the tail was copied, and they
    would be on no server the school is read from: lost, or a fork of the log.

    Interrupted at any step, running it again resumes: fences are idempotent, the copy continues
    where it stopped, a checkpoint is signed only if the last one is behind, ``switch`` must be
    idempotent itself (it names where the logs live). To roll back instead, before ``switch``:
    ``unfence_logs(source, log_ids)``, and the source writes again. The target's copy stays, fenced
    and not placed (nothing is deleted from a ledger, I4); a later move continues it. Once the
    target writes the logs (after step 8), running the move again is refused
    (``RelocationError``): move them back instead, from the target.
    """
    logs = _checked(source, target, log_ids)
    on_source, on_target = fences(source), fences(target)
    done = [log for log in logs if on_source.get(log) == target_name and log not in on_target]
    if done:
        raise RelocationError(
            f"log {done[0]} has moved to {target_name} already: its source is fenced and "
            "the target writes it"
        )
    fence_logs(target, logs, lives_on=source_name)
    copy_logs(source, target, logs, batch=batch)
    fence_logs(source, logs, lives_on=target_name)
    copy_logs(source, target, logs, batch=batch)
    for log_id in logs:
        latest = checkpointer.latest(log_id)
        if latest is None or latest.size < _size(source, log_id):
            checkpointer.checkpoint(log_id)
    copy_logs(source, target, logs, batch=batch)
    report = compare_logs(source, target, logs, verifiers=verifiers, origin=checkpointer.origin)
    switch()
    unfence_logs(target, logs)
    return report


def _checked(source: Database, target: Database, log_ids: Iterable[str]) -> list[str]:
    """The logs, each once, in order, having checked the two databases and that the source holds
    every log. Raises ``FenceError`` (SQLite) or ``RelocationError``."""
    require_postgres(source, "move logs")
    require_postgres(target, "move logs")
    if _identity(source) == _identity(target):
        raise RelocationError("the source and the target are the same database")
    logs = sorted(set(log_ids))
    if not logs:
        raise RelocationError("no log to move")
    with source.transaction(write=False) as cursor:
        cursor.execute(f"SELECT DISTINCT log_id FROM {EVENTS_TABLE} WHERE log_id = ANY(?)", (logs,))
        known = {row[0] for row in cursor.fetchall()}
    missing = [log for log in logs if log not in known]
    if missing:
        raise RelocationError(f"no log {missing[0]!r} on the source: it has no entry")
    return logs


def _identity(database: Database) -> tuple[Any, ...]:
    """The cluster's system identifier and the database's name: the same only for one database."""
    with database.transaction(write=False) as cursor:
        cursor.execute("SELECT system_identifier, current_database() FROM pg_control_system()")
        return tuple(cursor.fetchone())


def _prepare_target(target: Database) -> None:
    with target.transaction(write=False) as cursor:
        cursor.execute(f"SELECT to_regclass('{EVENTS_TABLE}') IS NOT NULL")
        if not cursor.fetchone()[0]:
            raise RelocationError(
                "the target has no ledger tables: open a Ledger on it once to create them"
            )
    _create_side_tables(target)


def _create_side_tables(database: Database) -> None:
    """The tables beside the events that a copy reads or writes, created as their owners do."""
    create_checkpoint_table(database)
    create_cosignature_table(database)
    KeyStore(database)
    SignatoryKeyStore(database)


def _size(database: Database, log_id: str) -> int:
    with database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT COALESCE(MAX(idx) + 1, 0) FROM {EVENTS_TABLE} WHERE log_id = ?", (log_id,)
        )
        return int(cursor.fetchone()[0])


def _datastore(database: Database) -> PostgresDatastore:
    datastore = database.datastore
    assert isinstance(datastore, PostgresDatastore)
    return datastore


def _copy_rows(
    source: Database,
    target: Database,
    log_id: str,
    batch: int,
    progress: Callable[[str, int], None] | None,
) -> int:
    """Copy the rows the target lacks, batch by batch; how many were copied."""
    copied = 0
    reads = _datastore(source)
    while True:
        with _datastore(target).get_connection() as conn, conn.transaction():
            # The fence admits the copy; every insert takes its log's lock before its
            # notification IDs (ADR 0015), and the target's head read under it is final.
            conn.execute("SELECT set_config(%s, 'on', true)", (RELOCATING,))
            conn.execute("SELECT pg_advisory_xact_lock(%s::integer, %s::integer)", log_lock(log_id))
            head = conn.execute(
                f"SELECT idx, chain_hash FROM {EVENTS_TABLE} WHERE log_id = %s "
                "ORDER BY idx DESC LIMIT 1",
                (log_id,),
            ).fetchone()
            # From the target's last entry (to check it is the source's), or from the first.
            start, wanted = (0, batch) if head is None else (head["idx"], batch + 1)
            with reads.get_connection() as read:
                rows = read.execute(
                    f"SELECT {_ROW} FROM {EVENTS_TABLE} WHERE log_id = %s AND idx >= %s "
                    "ORDER BY idx LIMIT %s",
                    (log_id, start, wanted),
                ).fetchall()
            if head is not None:
                _continues(log_id, head, rows)
                rows = rows[1:]
            if not rows:
                return copied
            values = (tuple(row.values()) for row in rows)
            columns = [list(column) for column in zip(*values, strict=True)]
            inserted = conn.execute(_INSERT_ROWS, columns).rowcount
            if inserted != len(rows):
                raise RelocationError(f"log {log_id}: inserted {inserted} of {len(rows)} rows")
        copied += len(rows)
        if progress is not None:
            progress(log_id, rows[-1]["idx"] + 1)


def _continues(log_id: str, head: Any, rows: Sequence[Any]) -> None:
    """Raise ``RelocationError`` unless the source's entry at the target's head is that head."""
    index, chain = head["idx"], bytes(head["chain_hash"])
    if not rows or rows[0]["idx"] != index or bytes(rows[0]["chain_hash"]) != chain:
        raise RelocationError(
            f"log {log_id}: the target's copy is not a prefix of the source's log: its entry "
            f"{index} differs or the source does not have it"
        )


def _copy_checkpoints(source: Database, target: Database, log_id: str, size: int) -> None:
    """Copy the log's checkpoints of at most ``size`` entries (those the target's entries cover),
    and their cosignatures. A checkpoint the target has at the same size must be the same."""
    with source.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT {_CHECKPOINT} FROM checkpoints WHERE log_id = ? AND size <= ? ORDER BY size",
            (log_id, size),
        )
        checkpoints = cursor.fetchall()
        cursor.execute(
            f"SELECT {_COSIGNATURE} FROM checkpoint_cosignatures WHERE log_id = ? AND size <= ?",
            (log_id, size),
        )
        cosignatures = cursor.fetchall()
    with target.transaction(write=True) as cursor:
        for row in checkpoints:
            cursor.execute(
                f"INSERT INTO checkpoints ({_CHECKPOINT}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (log_id, size) DO NOTHING",
                row,
            )
            cursor.execute(
                "SELECT root_hash, note FROM checkpoints WHERE log_id = ? AND size = ?",
                (log_id, row[1]),
            )
            root, note = cursor.fetchone()
            if (bytes(root), note) != (bytes(row[2]), row[6]):
                raise RelocationError(
                    f"log {log_id}: the target has another checkpoint at size {row[1]}"
                )
        for row in cosignatures:
            cursor.execute(
                f"INSERT INTO checkpoint_cosignatures ({_COSIGNATURE}) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (log_id, size, witness) DO NOTHING",
                row,
            )


def _copy_keys(source: Database, target: Database, logs: Sequence[str]) -> None:
    """Copy the signing keys the target lacks (the deployment's: its checkpoints of these logs
    verify, and its schedule signs them after the move, with the same sealing secret), and the
    certifying keys whose public halves these logs register (their holders certify there next).
    Rows as they are, sealed; a key the target has stays as it is there."""
    with source.transaction(write=False) as cursor:
        cursor.execute(
            "SELECT vkey, name, sealed_private, created_at, retired_at FROM signing_keys"
        )
        signing = cursor.fetchall()
        cursor.execute(
            f"SELECT state FROM {EVENTS_TABLE} WHERE log_id = ANY(?) AND topic = ANY(?)",
            (list(logs), list(_SIGNATORY_TOPICS)),
        )
        vkeys = [json.loads(bytes(row[0]))["vkey"] for row in cursor.fetchall() if row[0]]
        cursor.execute(
            "SELECT vkey, person_id, sealed_private, created_at FROM signatory_keys "
            "WHERE vkey = ANY(?)",
            (vkeys,),
        )
        signatory = cursor.fetchall()
    with target.transaction(write=True) as cursor:
        for row in signing:
            cursor.execute(
                "INSERT INTO signing_keys (vkey, name, sealed_private, created_at, retired_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (vkey) DO NOTHING",
                row,
            )
        for row in signatory:
            cursor.execute(
                "INSERT INTO signatory_keys (vkey, person_id, sealed_private, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (vkey) DO NOTHING",
                row,
            )
