"""The docs describe the code as it is: every path they name exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ejournal"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# A path in backticks: something with a slash, or a Python module file.
PATH = re.compile(r"`([\w./-]+(?:/[\w./-]*|\.py))`")


def _exists(name: str) -> bool:
    """Relative to the repository, the docs, the package or one of its rooms."""
    bases = [ROOT, ROOT / "docs", PACKAGE, *(p for p in PACKAGE.iterdir() if p.is_dir())]
    return any((base / name).exists() for base in bases)


@pytest.mark.parametrize("doc", [d for d in DOCS if d.name != "performance-history.md"], ids=str)
def test_every_path_a_doc_names_exists(doc: Path) -> None:
    names = {m for m in PATH.findall(doc.read_text(encoding="utf-8")) if "://" not in m}
    missing = sorted(name for name in names if not _exists(name))
    assert not missing, f"{doc.name} names paths that do not exist: {missing}"
