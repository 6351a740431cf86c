"""The witness's answer to ``add-checkpoint`` (C2SP tlog-witness), apart from HTTP.

A witness trusts the log keys it was configured with. A checkpoint's origin must be a trusted key's
name or start with it and a slash (``journal.example.ru`` signs ``journal.example.ru/<log>``:
one deployment key signs each school year's log, docs/adr/0013-witnesses.md); otherwise 404. The
note must carry a valid signature by such a key (403). Then, atomically: the old size must be the
size the witness last cosigned for the origin (409 with that size), the consistency proof must lead
from that checkpoint to the new one (422), and at the same size the roots must be equal (409).
Only then is the checkpoint recorded and cosigned (200).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ejournal.integrity.checkpoint import Checkpoint
from ejournal.integrity.cosignature import CosignatureSigner
from ejournal.integrity.errors import ConsistencyProofError, VerificationError
from ejournal.integrity.note import Verifier, open_note, split_note
from ejournal.integrity.proof import verify_consistency
from ejournal.witness.protocol import (
    SIZE_CONTENT_TYPE,
    AddCheckpoint,
    MalformedRequestError,
    encode_size,
)
from ejournal.witness.store import Cosigned, WitnessStore, WitnessTransaction

TEXT = "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def _text(status: int, message: str) -> Answer:
    return Answer(status, TEXT, (message + "\n").encode("utf-8"))


class Witness:
    """Cosigns checkpoints of the trusted logs consistently; keeps what it cosigned."""

    def __init__(
        self, store: WitnessStore, signer: CosignatureSigner, log_keys: Sequence[Verifier]
    ) -> None:
        self.store = store
        self.signer = signer
        self.log_keys = list(log_keys)

    def keys_for(self, origin: str) -> list[Verifier]:
        """The trusted log keys that may sign checkpoints of ``origin``."""
        return [
            key for key in self.log_keys if origin == key.name or origin.startswith(key.name + "/")
        ]

    def add_checkpoint(self, body: bytes) -> Answer:
        """The answer to one ``add-checkpoint`` request body. Raises nothing."""
        try:
            request = AddCheckpoint.decode(body)
            text, _ = split_note(request.note)
            checkpoint = Checkpoint.from_body(text)
        except (MalformedRequestError, VerificationError) as e:
            return _text(400, f"malformed request: {e}")
        keys = self.keys_for(checkpoint.origin)
        if not keys:
            return _text(404, f"unknown log origin {checkpoint.origin}")
        try:
            open_note(request.note, keys)
        except VerificationError as e:
            return _text(403, f"the checkpoint is not signed by a trusted log key: {e}")
        if request.old_size > checkpoint.size:
            return _text(400, f"old size {request.old_size} exceeds size {checkpoint.size}")
        with self.store.transaction() as transaction:
            return self._check_and_cosign(transaction, request, checkpoint, text)

    def _check_and_cosign(
        self,
        transaction: WitnessTransaction,
        request: AddCheckpoint,
        checkpoint: Checkpoint,
        text: str,
    ) -> Answer:
        latest = transaction.latest(checkpoint.origin)
        latest_size = latest.size if latest is not None else 0
        if request.old_size != latest_size:
            return Answer(409, SIZE_CONTENT_TYPE, encode_size(latest_size))
        refusal = self._inconsistency(latest, request, checkpoint)
        if refusal is not None:
            transaction.refuse(checkpoint.origin, checkpoint.size, request.note, refusal.reason)
            return refusal.answer
        line = self.signer.cosign(text)
        if latest is None or latest.size != checkpoint.size:
            transaction.record(
                Cosigned(
                    checkpoint.origin, checkpoint.size, checkpoint.root_hash, request.note, line
                )
            )
        return Answer(200, TEXT, line.encode("utf-8"))

    @staticmethod
    def _inconsistency(
        latest: Cosigned | None, request: AddCheckpoint, checkpoint: Checkpoint
    ) -> _Refusal | None:
        if latest is None:
            if request.proof:
                return _Refusal(422, "the consistency proof from size 0 must be empty")
            return None
        if latest.size == checkpoint.size:
            if latest.root_hash != checkpoint.root_hash:
                fork = f"another root at size {latest.size} was cosigned (a fork)"
                return _Refusal(409, fork, latest.size)
            return None
        try:
            verify_consistency(
                size1=latest.size,
                size2=checkpoint.size,
                proof=list(request.proof),
                root1=latest.root_hash,
                root2=checkpoint.root_hash,
            )
        except ConsistencyProofError as e:
            return _Refusal(422, f"not consistent with size {latest.size}: {e}")
        return None


@dataclass(frozen=True, slots=True)
class _Refusal:
    status: int
    reason: str
    size: int = 0
    """For a 409: the size the witness holds, which the answer carries (``text/x.tlog.size``)."""

    @property
    def answer(self) -> Answer:
        if self.status == 409:
            return Answer(409, SIZE_CONTENT_TYPE, encode_size(self.size))
        return _text(self.status, self.reason)
