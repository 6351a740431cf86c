"""Receipts: a proof that one record is in its log, under a signed checkpoint (C2SP tlog-proof)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from uuid import UUID

from ejournal.integrity.leaf import encode_leaf, leaf_hash
from ejournal.integrity.note import Verifier
from ejournal.integrity.proof import inclusion_proof
from ejournal.integrity.receipt import Receipt, verify_receipt
from ejournal.ledger.checkpoints import load_checkpoints
from ejournal.ledger.cosignatures import cosigned_note, load_cosignatures
from ejournal.ledger.database import Database
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.replay import LogReplay, leaf_of_row, row_columns


class NotProvableError(LedgerError):
    """The event is unknown, or no signed checkpoint covers it yet."""


def prove_event(
    database: Database,
    originator_id: UUID,
    version: int,
    *,
    verifiers: Sequence[Verifier],
    origin: str,
) -> Receipt:
    """A receipt for the event ``originator_id`` v``version`` under its log's latest checkpoint.

    The receipt is verified against ``verifiers`` before it is returned. Raises
    ``NotProvableError``, and the verification errors of ``LogReplay.feed`` and ``verify_receipt``
    if the stored log does not support the proof.
    """
    ((receipt, _),) = prove_events(
        database, [(originator_id, version)], verifiers=verifiers, origin=origin
    )
    return receipt


def prove_events(
    database: Database,
    events: Sequence[tuple[UUID, int]],
    *,
    verifiers: Sequence[Verifier],
    origin: str,
) -> list[tuple[Receipt, bytes | None]]:
    """Receipts for ``events`` (originator ID, version) of one log, in their order, all under
    the log's latest checkpoint, each with the event's payload as stored (None once removed at
    the end of its retention): one replay of the log proves them all (a mark's receipt proves
    its lesson, its recording and its correction together).

    Raises ``NotProvableError`` if an event is unknown, the events are of more than one log or
    no signed checkpoint covers one of them yet; and as ``prove_event``.
    """
    rows = []
    with database.transaction(write=False) as cursor:
        for originator_id, version in events:
            cursor.execute(
                f"SELECT {row_columns(database.dialect)} FROM {EVENTS_TABLE} "
                "WHERE originator_id = ? AND originator_version = ?",
                (database.uuid(originator_id), version),
            )
            row = cursor.fetchone()
            if row is None:
                raise NotProvableError(f"no event {originator_id} v{version}")
            rows.append(row)
    log_ids = {row[0] for row in rows}
    if len(log_ids) != 1:
        raise NotProvableError(f"the events are of {len(log_ids)} logs, not one")
    (log_id,) = log_ids
    last = max(row[1] for row in rows)
    covering = [cp for cp in load_checkpoints(database).get(log_id, []) if cp.size > last]
    if not covering:
        raise NotProvableError(
            f"{log_id} index {last} is not covered by a signed checkpoint yet: "
            "run `ejournal checkpoint`"
        )
    checkpoint = covering[-1]
    # The witnesses' cosignatures ride on the note: a verifier that does not know them ignores them.
    note = cosigned_note(
        checkpoint.note, log_id, checkpoint.size, load_cosignatures(database, log_id)
    )
    replay = LogReplay(log_id)
    with closing(
        database.stream(
            f"SELECT {row_columns(database.dialect)} FROM {EVENTS_TABLE} "
            "WHERE log_id = ? AND idx < ? ORDER BY idx",
            (log_id, checkpoint.size),
        )
    ) as stream:
        leaf_hashes = replay.feed_many(stream, keep=True)
    receipts = []
    for row in rows:
        index = row[1]
        leaf = encode_leaf(leaf_of_row(row))
        assert leaf_hash(leaf) == leaf_hashes[index]
        receipt = Receipt(
            leaf=leaf,
            index=index,
            proof=tuple(inclusion_proof(index, checkpoint.size, leaf_hashes)),
            checkpoint=note,
        )
        verify_receipt(receipt, verifiers, origin=f"{origin}/{log_id}")
        receipts.append((receipt, None if row[5] is None else bytes(row[5])))
    return receipts
