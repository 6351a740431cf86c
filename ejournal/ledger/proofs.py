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
    with database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT {row_columns(database.dialect)} FROM {EVENTS_TABLE} "
            "WHERE originator_id = ? AND originator_version = ?",
            (database.uuid(originator_id), version),
        )
        row = cursor.fetchone()
    if row is None:
        raise NotProvableError(f"no event {originator_id} v{version}")
    log_id, index = row[0], row[1]
    covering = [cp for cp in load_checkpoints(database).get(log_id, []) if cp.size > index]
    if not covering:
        raise NotProvableError(
            f"{log_id} index {index} is not covered by a signed checkpoint yet: "
            "run `ejournal checkpoint`"
        )
    checkpoint = covering[-1]
    replay = LogReplay(log_id)
    with closing(
        database.stream(
            f"SELECT {row_columns(database.dialect)} FROM {EVENTS_TABLE} "
            "WHERE log_id = ? AND idx < ? ORDER BY idx",
            (log_id, checkpoint.size),
        )
    ) as rows:
        leaf_hashes = replay.feed_many(rows, keep=True)
    leaf = encode_leaf(leaf_of_row(row))
    assert leaf_hash(leaf) == leaf_hashes[index]
    receipt = Receipt(
        leaf=leaf,
        index=index,
        proof=tuple(inclusion_proof(index, checkpoint.size, leaf_hashes)),
        checkpoint=checkpoint.note,
    )
    verify_receipt(receipt, verifiers, origin=f"{origin}/{log_id}")
    return receipt
