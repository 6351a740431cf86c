"""The test vectors in ``tests/vectors`` (sources and licences in its ``SOURCES.md``)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
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
