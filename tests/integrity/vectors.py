"""Where the shared test vectors are: ``../shared/vectors`` next to the repository, or else the
directory named by the environment variable ``EJOURNAL_VECTORS``."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

_BESIDE_REPOSITORY = Path(__file__).resolve().parents[3] / "shared" / "vectors"


def vectors_dir() -> Path:
    if _BESIDE_REPOSITORY.is_dir():
        return _BESIDE_REPOSITORY
    configured = os.environ.get("EJOURNAL_VECTORS")
    if configured:
        return Path(configured)
    return _BESIDE_REPOSITORY  # missing: the tests that count vector files fail and say so


VECTORS = vectors_dir()
MERKLE = VECTORS / "transparency-dev-merkle"
C2SP = VECTORS / "c2sp"


def probe_files(kind: str) -> list[Path]:
    """The transparency-dev probe files of ``kind`` ("inclusion" or "consistency"), sorted."""
    return sorted((MERKLE / "testdata" / kind).rglob("*.json"))


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def b64(value: str | None) -> bytes:
    """Decode a probe's base64 field; ``""`` and ``null`` mean empty."""
    return base64.b64decode(value or "")


def b64_list(values: list[str] | None) -> list[bytes]:
    return [b64(value) for value in values or []]
