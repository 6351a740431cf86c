from __future__ import annotations

import hashlib

import pytest

from ejournal.integrity.compact import CompactRange
from ejournal.integrity.rfc6962 import (
    EMPTY_ROOT,
    LEAF_PREFIX,
    NODE_PREFIX,
    hash_children,
    hash_leaf,
    root_of,
)
from tests.integrity.vectors import MERKLE, load_json

REFERENCE = load_json(MERKLE / "reference-tree.json")
INPUTS = [bytes.fromhex(value) for value in REFERENCE["leafInputsHex"]]
LEAF_HASHES = [bytes.fromhex(value) for value in REFERENCE["leafHashesHex"]]
ROOTS = [bytes.fromhex(value) for value in REFERENCE["rootHashesHexBySize"]]


def test_reference_tree_has_roots_for_sizes_0_to_8() -> None:
    assert len(INPUTS) == len(LEAF_HASHES) == 8
    assert len(ROOTS) == 9


def test_prefixes_and_empty_root() -> None:
    assert LEAF_PREFIX == b"\x00"
    assert NODE_PREFIX == b"\x01"
    assert EMPTY_ROOT == hashlib.sha256(b"").digest() == ROOTS[0]


def test_leaf_hashes_of_reference_inputs() -> None:
    assert [hash_leaf(data) for data in INPUTS] == LEAF_HASHES


def test_hash_children_is_prefixed_concatenation() -> None:
    left, right = LEAF_HASHES[0], LEAF_HASHES[1]
    assert hash_children(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    assert hash_children(left, right) == ROOTS[2]


@pytest.mark.parametrize("size", range(9))
def test_root_of_reference_tree(size: int) -> None:
    assert root_of(LEAF_HASHES[:size]) == ROOTS[size]


@pytest.mark.parametrize("size", range(9))
def test_compact_range_root_of_reference_tree(size: int) -> None:
    compact = CompactRange()
    for leaf_hash in LEAF_HASHES[:size]:
        compact.append(leaf_hash)
    assert compact.size == size
    assert compact.root() == ROOTS[size]


def test_root_of_rejects_short_hashes() -> None:
    with pytest.raises(ValueError, match="leaf hash 1 has 31 bytes"):
        root_of([LEAF_HASHES[0], LEAF_HASHES[1][:31]])
