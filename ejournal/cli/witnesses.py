"""The witness options of ``verify``, ``verify-proof`` and ``verify-archive``: the witnesses'
keys (``--witness-key FILE``, the witnesses file format of ``witness.settings``), the quorum of
cosignatures a checkpoint needs to count, and asking the witnesses for their latest view."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from ejournal.cli.common import console, fail
from ejournal.integrity.checkpoint import Checkpoint
from ejournal.integrity.cosignature import verify_cosignatures
from ejournal.integrity.errors import QuorumError
from ejournal.integrity.note import Verifier
from ejournal.ledger.verify import cosigned_by_witness
from ejournal.witness.client import WitnessUnavailable, latest_checkpoints
from ejournal.witness.settings import (
    KnownWitness,
    WitnessSettingsError,
    endpoints,
    read_witnesses,
)

WitnessKeys = Annotated[
    list[Path] | None,
    typer.Option(
        "--witness-key",
        help="A file of witnesses ([URL] VKEY a line, docs/operations.md); repeatable.",
    ),
]
Quorum = Annotated[
    int | None,
    typer.Option(
        "--quorum",
        help="How many of the witnesses must have cosigned a checkpoint for it to count "
        "(default 1 with --witness-key).",
    ),
]
AskWitnesses = Annotated[
    bool,
    typer.Option(
        "--ask-witnesses",
        help="Ask the witnesses with a URL for the latest checkpoint they cosigned of each log: "
        "fail if the database holds less (truncated) or another history (a fork).",
    ),
]


@dataclass(slots=True)
class WitnessCheck:
    """The witnesses an auditor trusts, the quorum, and whether to ask them."""

    known: list[KnownWitness]
    quorum: int
    ask: bool = False
    answered: list[str] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)

    def check_note(self, note: str) -> list[str]:
        """The names of the witnesses whose valid cosignatures make ``note`` count. Raises
        ``QuorumError`` if fewer than the quorum, ``SignatureError`` for a bad one."""
        return sorted(verify_cosignatures(note, [w.verifier for w in self.known], self.quorum))

    def latest(self, verifiers: list[Verifier], origin: str) -> dict[str, list[Checkpoint]]:
        """What the witnesses cosigned last of each log of ``origin``. Raises ``QuorumError``
        if fewer than the quorum answer, and the errors of ``cosigned_by_witness``."""
        found: dict[str, list[Checkpoint]] = {}
        for endpoint in endpoints(self.known):
            try:
                text = latest_checkpoints(endpoint, origin + "/")
            except WitnessUnavailable:
                self.unreachable.append(endpoint.name)
                continue
            for log_id, checkpoints in cosigned_by_witness(
                text, endpoint.verifier, verifiers, origin
            ).items():
                found.setdefault(log_id, []).extend(checkpoints)
            self.answered.append(endpoint.name)
        if len(self.answered) < max(self.quorum, 1):
            raise QuorumError(
                "too few witnesses answered",
                expected=f"at least {max(self.quorum, 1)}",
                found=f"{len(self.answered)} (unreachable: {', '.join(self.unreachable) or '-'})",
            )
        return found

    def as_json(self, cosigned: dict[str, int]) -> dict[str, object]:
        return {
            "quorum": self.quorum,
            "keys": [w.verifier.name for w in self.known],
            "asked": self.answered,
            "unreachable": self.unreachable,
            "cosigned_size": cosigned,
        }

    def print(self, cosigned: dict[str, int]) -> None:
        names = ", ".join(w.verifier.name for w in self.known)
        console.print(f"  witnesses: {names}; quorum {self.quorum}", highlight=False)
        if self.answered:
            console.print(
                f"  the database holds what {', '.join(self.answered)} cosigned last",
                highlight=False,
            )
        for log_id, size in sorted(cosigned.items()):
            console.print(f"  {log_id}: cosigned by the quorum up to size {size}", highlight=False)


def witness_check(
    paths: list[Path] | None, quorum: int | None, *, ask: bool
) -> WitnessCheck | None:
    """The witness check the options ask for; None without ``--witness-key``. Fails (exit 2)
    for an unreadable file or a quorum larger than the witnesses."""
    if not paths:
        if quorum or ask:
            fail("--quorum and --ask-witnesses need --witness-key FILE")
        return None
    try:
        known = [witness for path in paths for witness in read_witnesses(path)]
    except WitnessSettingsError as e:
        fail(str(e))
    quorum = 1 if quorum is None else quorum
    if not 0 <= quorum <= len(known):
        fail(f"--quorum {quorum} is not between 0 and the {len(known)} witnesses given")
    return WitnessCheck(known, quorum, ask)


def require_quorum(check: WitnessCheck | None, note: str) -> list[str]:
    """The witnesses that cosigned ``note`` (none without a check). Raises ``QuorumError`` and
    ``SignatureError`` as ``WitnessCheck.check_note``."""
    return [] if check is None else check.check_note(note)
