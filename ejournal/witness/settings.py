"""Which witnesses a deployment submits to, and which an auditor trusts: a witnesses file.

One witness a line, ``#`` starts a comment::

    # the district's witness
    https://witness.rayon.example/ witness.rayon.example/1+1a2b3c4d+BHn…
    # a regional archive's, known by its key only (an auditor checking cosignatures offline)
    archive.region.example/w+5e6f7a8b+BOq…

A line is a URL and the witness's verifier key (type 0x04, ``ejournal witness init`` prints it),
or the verifier key alone. The service reads the file named by ``EJOURNAL_WITNESS_FILE``;
``verify``, ``verify-proof`` and ``verify-archive`` read the same format (``--witness-key``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ejournal.integrity.cosignature import CosignatureVerifier
from ejournal.integrity.errors import VerificationError
from ejournal.witness.client import WitnessEndpoint

WITNESS_FILE_VARIABLE = "EJOURNAL_WITNESS_FILE"


class WitnessSettingsError(ValueError):
    """A witnesses file cannot be read or has a malformed line."""


@dataclass(frozen=True, slots=True)
class KnownWitness:
    """A witness's key, and where to reach it if known."""

    verifier: CosignatureVerifier
    url: str | None = None


def parse_witnesses(text: str, *, where: str) -> list[KnownWitness]:
    """The witnesses of a witnesses file's text. Raises ``WitnessSettingsError`` naming the line
    that is malformed, or if two lines name one witness."""
    found: dict[str, KnownWitness] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if raw.lstrip().startswith("#") else raw.strip()
        if not line:
            continue
        fields = line.split()
        url = fields[0] if len(fields) == 2 else None
        if len(fields) > 2 or (url is not None and not url.startswith(("http://", "https://"))):
            raise WitnessSettingsError(f"{where} line {number}: expected [URL] VKEY")
        try:
            verifier = CosignatureVerifier.from_vkey(fields[-1])
        except VerificationError as e:
            raise WitnessSettingsError(f"{where} line {number}: {e}") from e
        if verifier.name in found:
            raise WitnessSettingsError(f"{where} line {number}: {verifier.name} appears twice")
        found[verifier.name] = KnownWitness(verifier, url)
    return list(found.values())


def read_witnesses(path: Path) -> list[KnownWitness]:
    """The witnesses of the file ``path``. Raises ``WitnessSettingsError``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise WitnessSettingsError(f"cannot read witnesses from {path}: {e}") from e
    return parse_witnesses(text, where=str(path))


def endpoints(witnesses: list[KnownWitness]) -> list[WitnessEndpoint]:
    """The witnesses that have a URL, as endpoints to submit to or ask."""
    return [WitnessEndpoint(w.url, w.verifier) for w in witnesses if w.url is not None]


def witnesses_from_environment(environ: Mapping[str, str] = os.environ) -> list[WitnessEndpoint]:
    """The witnesses the service submits to: those with a URL in ``EJOURNAL_WITNESS_FILE`` (none
    if unset). Raises ``WitnessSettingsError``."""
    path = environ.get(WITNESS_FILE_VARIABLE)
    if not path:
        return []
    return endpoints(read_witnesses(Path(path)))
