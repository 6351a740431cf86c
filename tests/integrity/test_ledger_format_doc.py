"""docs/ledger-format.md's known-answer example equals what integrity/leaf.py produces."""

from __future__ import annotations

import re
from pathlib import Path

from ejournal.integrity.leaf import CHAIN_GENESIS, chain_hash, encode_leaf, leaf_hash
from tests.integrity.test_leaf import KNOWN_LEAF

DOC = Path(__file__).resolve().parents[2] / "docs" / "ledger-format.md"


def fenced(label: str) -> str:
    match = re.search(rf"```{label}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert match, f"no ```{label} block in {DOC.name}"
    return "".join(match.group(1).split())


def test_documented_leaf_bytes_and_hashes_match_the_code() -> None:
    encoded = encode_leaf(KNOWN_LEAF)
    assert fenced("leaf-hex") == encoded.hex()
    assert fenced("leaf-hash") == leaf_hash(encoded).hex()
    assert fenced("chain-hash") == chain_hash(CHAIN_GENESIS, leaf_hash(encoded)).hex()
