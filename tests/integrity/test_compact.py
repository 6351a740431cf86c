from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ejournal.integrity.compact import CompactRange
from ejournal.integrity.rfc6962 import EMPTY_ROOT, hash_leaf, root_of
from tests.integrity import naive

DATA = [b"entry %d" % i for i in range(301)]
HASHES = [hash_leaf(entry) for entry in DATA]


def test_empty_range() -> None:
    compact = CompactRange()
    assert compact.size == 0
    assert compact.root() == EMPTY_ROOT
    assert compact.state() == (0, ())


def test_frontier_has_one_hash_per_set_bit_of_size() -> None:
    compact = CompactRange()
    for size, leaf_hash in enumerate(HASHES[:70], 1):
        compact.append(leaf_hash)
        stored_size, hashes = compact.state()
        assert stored_size == size
        assert len(hashes) == size.bit_count()


def test_frontier_hashes_are_the_perfect_subtree_roots() -> None:
    compact = CompactRange()
    compact.extend(HASHES[:13])  # 13 = 8 + 4 + 1
    assert compact.state() == (13, (root_of(HASHES[0:8]), root_of(HASHES[8:12]), HASHES[12]))


@settings(max_examples=150, deadline=None)
@given(size=st.integers(0, 300), data=st.data())
def test_root_matches_naive_and_resumes_from_state(size: int, data: st.DataObject) -> None:
    split = data.draw(st.integers(0, size), label="split")
    whole = CompactRange()
    whole.extend(HASHES[:size])
    assert whole.root() == naive.mth(DATA[:size]) == root_of(HASHES[:size])

    first = CompactRange()
    for leaf_hash in HASHES[:split]:
        first.append(leaf_hash)
    resumed = CompactRange.from_state(*first.state())
    resumed.extend(HASHES[split:size])
    assert resumed.state() == whole.state()
    assert resumed.root() == whole.root()


def test_copy_is_independent() -> None:
    compact = CompactRange()
    compact.extend(HASHES[:5])
    twin = compact.copy()
    twin.append(HASHES[5])
    assert compact.size == 5
    assert compact.root() == root_of(HASHES[:5])
    assert twin.root() == root_of(HASHES[:6])


def test_append_rejects_wrong_size() -> None:
    compact = CompactRange()
    with pytest.raises(ValueError, match="leaf hash has 33 bytes, expected 32"):
        compact.append(bytes(33))
    assert compact.size == 0


def test_extend_keeps_leaves_before_a_bad_one() -> None:
    compact = CompactRange()
    with pytest.raises(ValueError, match="leaf hash has 0 bytes"):
        compact.extend([HASHES[0], HASHES[1], b""])
    assert compact.size == 2
    assert compact.root() == root_of(HASHES[:2])


@pytest.mark.parametrize(
    ("size", "hashes", "message"),
    [
        (-1, [], "must not be negative"),
        (3, [bytes(32)], "a tree of 3 leaves has 2 frontier hashes, got 1"),
        (4, [bytes(32), bytes(32)], "a tree of 4 leaves has 1 frontier hashes, got 2"),
        (1, [bytes(31)], "frontier hash 0 has 31 bytes"),
    ],
)
def test_from_state_rejects_inconsistent_state(
    size: int, hashes: list[bytes], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        CompactRange.from_state(size, hashes)
