"""Submitting each log's latest checkpoint to the deployment's witnesses, in the background.

It runs after the checkpoint schedule has signed what was due (``ledger.checkpoints
.CheckpointSchedule``'s ``after_signing``), never in a request: a witness that is down delays no
write. For each witness it submits the latest checkpoint of every log that the witness has not
cosigned yet, with the old size it last cosigned (known from the stored cosignatures) and the
consistency proof from there. A 409 names the size the witness holds: if that is a stored
checkpoint of the log, the proof is made from it and the checkpoint submitted once more. A
witness that does not answer is left alone for ``retry_seconds``, doubled at each failure up to
``retry_max_seconds``; its backlog is caught up at once when it is back (only the latest
checkpoint of each log is needed: it proves consistency with everything before).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence

from ejournal.integrity.errors import VerificationError
from ejournal.ledger.checkpoints import (
    StoredCheckpoint,
    checkpoint_at,
    consistency_proof_between,
    latest_checkpoints,
)
from ejournal.ledger.clock import Clock, system_clock
from ejournal.ledger.cosignatures import (
    cosigned_sizes,
    create_cosignature_table,
    load_cosignatures,
    store_cosignature,
)
from ejournal.ledger.database import Database
from ejournal.ledger.errors import LedgerError
from ejournal.witness.client import (
    DEFAULT_TIMEOUT,
    WitnessConflict,
    WitnessEndpoint,
    WitnessError,
    WitnessUnavailable,
    add_checkpoint,
)
from ejournal.witness.protocol import AddCheckpoint
from ejournal.witness.settings import witnesses_from_environment

_log = logging.getLogger(__name__)


class WitnessSubmitter:
    """Gets the latest checkpoint of each log cosigned by each witness, retrying with backoff."""

    def __init__(
        self,
        database: Database,
        witnesses: Sequence[WitnessEndpoint],
        *,
        clock: Clock = system_clock,
        timeout: float = DEFAULT_TIMEOUT,
        retry_seconds: float = 1.0,
        retry_max_seconds: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._database = database
        self.witnesses = list(witnesses)
        self._clock = clock
        self._timeout = timeout
        self._retry_seconds = retry_seconds
        self._retry_max_seconds = retry_max_seconds
        self._monotonic = monotonic
        self._delay: dict[str, float] = {}
        self._retry_at: dict[str, float] = {}
        create_cosignature_table(database)

    def submit_due(self) -> int:
        """Submit what each witness lacks (skipping the ones backing off); return how many
        cosignatures were stored. Raises nothing: failures are logged and retried later."""
        try:
            latest = latest_checkpoints(self._database)
            cosignatures = load_cosignatures(self._database)
        except (LedgerError, VerificationError):
            _log.exception("cannot read the checkpoints to submit to the witnesses")
            return 0
        stored = 0
        for witness in self.witnesses:
            if self._monotonic() < self._retry_at.get(witness.name, 0.0):
                continue
            lacking = [
                checkpoint
                for checkpoint in latest
                if not any(
                    line.startswith(f"\u2014 {witness.name} ")
                    for line in cosignatures.get((checkpoint.log_id, checkpoint.size), ())
                )
            ]
            stored += self._submit_all(witness, lacking)
        return stored

    def _submit_all(self, witness: WitnessEndpoint, lacking: list[StoredCheckpoint]) -> int:
        if not lacking:
            return 0
        known = cosigned_sizes(self._database, witness.name)
        stored = 0
        for checkpoint in lacking:
            try:
                line = self._submit(witness, checkpoint, known.get(checkpoint.log_id, 0))
            except WitnessUnavailable as e:
                self._back_off(witness, e)
                return stored
            except (WitnessError, LedgerError, VerificationError) as e:
                _log.error(
                    "witness %s refused %s at size %d: %s",
                    witness.name, checkpoint.log_id, checkpoint.size, e,
                )  # fmt: skip
                continue
            store_cosignature(
                self._database,
                checkpoint.log_id,
                checkpoint.size,
                witness.name,
                line,
                clock=self._clock,
            )
            stored += 1
        self._delay.pop(witness.name, None)
        self._retry_at.pop(witness.name, None)
        return stored

    def _submit(self, witness: WitnessEndpoint, checkpoint: StoredCheckpoint, old_size: int) -> str:
        """The witness's cosignature line; once more from the size a 409 names."""
        try:
            return add_checkpoint(
                witness, self._request(checkpoint, old_size), timeout=self._timeout
            )
        except WitnessConflict as conflict:
            if conflict.size > checkpoint.size:
                raise WitnessConflict(conflict.size) from conflict
            request = self._request(checkpoint, conflict.size)
            return add_checkpoint(witness, request, timeout=self._timeout)

    def _request(self, checkpoint: StoredCheckpoint, old_size: int) -> AddCheckpoint:
        """The add-checkpoint request from ``old_size``, which must be a stored checkpoint's size
        (or 0). Raises ``LedgerError`` if it is not one."""
        if old_size == 0:
            return AddCheckpoint(old_size=0, proof=(), note=checkpoint.note)
        old = checkpoint_at(self._database, checkpoint.log_id, old_size)
        if old is None:
            raise LedgerError(
                f"the witness holds size {old_size} of {checkpoint.log_id}, which the database "
                "has no checkpoint of"
            )
        proof = consistency_proof_between(self._database, old, checkpoint)
        return AddCheckpoint(old_size=old_size, proof=tuple(proof), note=checkpoint.note)

    def _back_off(self, witness: WitnessEndpoint, error: Exception) -> None:
        delay = min(
            self._retry_max_seconds, self._delay.get(witness.name, self._retry_seconds / 2) * 2
        )
        self._delay[witness.name] = delay
        self._retry_at[witness.name] = self._monotonic() + delay
        _log.warning("witness %s unavailable, next try in %.0f s: %s", witness.name, delay, error)


def submitter_from_environment(
    database: Database, environ: Mapping[str, str] = os.environ, *, clock: Clock = system_clock
) -> WitnessSubmitter | None:
    """The submitter to the witnesses of ``EJOURNAL_WITNESS_FILE``, or None if none is set.
    Raises ``WitnessSettingsError`` for a malformed file."""
    witnesses = witnesses_from_environment(environ)
    return WitnessSubmitter(database, witnesses, clock=clock) if witnesses else None
