from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ejournal.integrity.errors import ConsistencyProofError, InclusionProofError
from ejournal.integrity.proof import (
    consistency_proof,
    consistency_proof_from_subtrees,
    inclusion_proof,
    inclusion_proof_from_subtrees,
    root_from_consistency_proof,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from ejournal.integrity.rfc6962 import hash_children, hash_leaf, root_of
from tests.integrity import naive
from tests.integrity.vectors import MERKLE, VECTORS, load_json

REFERENCE = load_json(MERKLE / "reference-tree.json")
SEVEN = [bytes.fromhex(value) for value in REFERENCE["leafInputsHex"][:7]]
EXAMPLE = (VECTORS / "rfc6962-example" / "example-7-leaves.txt").read_text(encoding="utf-8")

DATA = [b"entry %d" % i for i in range(301)]
HASHES = [hash_leaf(entry) for entry in DATA]


def _labels() -> dict[str, bytes]:
    """The RFC's node labels: a..f and j are leaves, g..i and k, l interior nodes."""
    labels = dict(zip("abcdefj", (hash_leaf(entry) for entry in SEVEN), strict=True))
    for parent, left, right in [
        ("g", "a", "b"),
        ("h", "c", "d"),
        ("i", "e", "f"),
        ("k", "g", "h"),
        ("l", "i", "j"),
    ]:
        labels[parent] = hash_children(labels[left], labels[right])
    labels["root"] = hash_children(labels["k"], labels["l"])
    return labels


def _example_lines(function: str) -> list[tuple[int, list[str]]]:
    pattern = re.compile(rf"{function}\((\d+), D\[7\]\) = \[([a-z, ]*)\]")
    found = [(int(m), labels.split(", ")) for m, labels in pattern.findall(EXAMPLE)]
    assert found, f"no {function} lines in the RFC example"
    return found


def test_rfc_example_tree_structure() -> None:
    labels = _labels()
    leaf_hashes = [hash_leaf(entry) for entry in SEVEN]
    assert root_of(leaf_hashes) == labels["root"]
    assert labels["root"] == bytes.fromhex(REFERENCE["rootHashesHexBySize"][7])
    assert root_of(leaf_hashes[:4]) == labels["k"]
    assert root_of(leaf_hashes[4:]) == labels["l"]


@pytest.mark.parametrize(("index", "expected"), _example_lines("PATH"))
def test_rfc_example_audit_paths(index: int, expected: list[str]) -> None:
    labels = _labels()
    leaf_hashes = [hash_leaf(entry) for entry in SEVEN]
    proof = inclusion_proof(index, 7, leaf_hashes)
    assert proof == [labels[name] for name in expected]
    verify_inclusion(
        leaf_hash=leaf_hashes[index], index=index, size=7, proof=proof, root=labels["root"]
    )


@pytest.mark.parametrize(("size1", "expected"), _example_lines("PROOF"))
def test_rfc_example_consistency_proofs(size1: int, expected: list[str]) -> None:
    labels = _labels()
    leaf_hashes = [hash_leaf(entry) for entry in SEVEN]
    proof = consistency_proof(size1, 7, leaf_hashes)
    assert proof == [labels[name] for name in expected]
    verify_consistency(
        size1=size1,
        size2=7,
        proof=proof,
        root1=root_of(leaf_hashes[:size1]),
        root2=labels["root"],
    )


def test_rfc_example_has_four_paths_and_three_proofs() -> None:
    assert [index for index, _ in _example_lines("PATH")] == [0, 3, 4, 6]
    assert [size for size, _ in _example_lines("PROOF")] == [3, 4, 6]


# --- generation ----------------------------------------------------------------------------------


def test_subtree_callable_is_asked_for_one_hash_per_level() -> None:
    asked: list[tuple[int, int]] = []

    def subtree_root(lo: int, hi: int) -> bytes:
        asked.append((lo, hi))
        return root_of(HASHES[lo:hi])

    assert inclusion_proof_from_subtrees(5, 11, subtree_root) == inclusion_proof(5, 11, HASHES)
    assert asked == [(8, 11), (0, 4), (6, 8), (4, 5)]
    asked.clear()
    assert consistency_proof_from_subtrees(6, 11, subtree_root) == consistency_proof(6, 11, HASHES)
    assert asked == [(8, 11), (0, 4), (6, 8), (4, 6)]


def test_consistency_proof_of_equal_sizes_is_empty() -> None:
    assert consistency_proof(5, 5, HASHES) == []


@pytest.mark.parametrize(("index", "size"), [(0, 0), (3, 3), (-1, 4)])
def test_inclusion_proof_rejects_index_outside_tree(index: int, size: int) -> None:
    with pytest.raises(ValueError, match="is outside a tree of size"):
        inclusion_proof(index, size, HASHES)


@pytest.mark.parametrize(("size1", "size2"), [(0, 0), (0, 5), (6, 5), (-1, 2)])
def test_consistency_proof_rejects_impossible_sizes(size1: int, size2: int) -> None:
    with pytest.raises(ValueError, match="no consistency proof from size"):
        consistency_proof(size1, size2, HASHES)


def test_generation_needs_enough_leaves() -> None:
    with pytest.raises(ValueError, match="tree size 5 needs 5 leaf hashes, got 4"):
        inclusion_proof(1, 5, HASHES[:4])
    with pytest.raises(ValueError, match="tree size 5 needs 5 leaf hashes, got 4"):
        consistency_proof(1, 5, HASHES[:4])


# --- verification errors carry expected and calculated roots -------------------------------------


def test_inclusion_error_carries_expected_and_calculated_root() -> None:
    proof = inclusion_proof(2, 10, HASHES)
    wrong_root = bytes(32)
    with pytest.raises(InclusionProofError, match="calculated root of tree size 10") as caught:
        verify_inclusion(leaf_hash=HASHES[2], index=2, size=10, proof=proof, root=wrong_root)
    assert caught.value.expected == wrong_root.hex()
    assert caught.value.found == root_of(HASHES[:10]).hex()


def test_consistency_error_carries_expected_and_calculated_root() -> None:
    proof = consistency_proof(3, 10, HASHES)
    root1, root2 = root_of(HASHES[:3]), root_of(HASHES[:10])
    with pytest.raises(ConsistencyProofError, match="new tree \\(size 10\\)") as caught:
        verify_consistency(size1=3, size2=10, proof=proof, root1=root1, root2=bytes(32))
    assert caught.value.expected == bytes(32).hex()
    assert caught.value.found == root2.hex()


def test_inclusion_rejects_negative_numbers() -> None:
    with pytest.raises(InclusionProofError, match="negative leaf index -1"):
        root_from_inclusion_proof(leaf_hash=HASHES[0], index=-1, size=4, proof=[])


def test_consistency_rejects_negative_numbers() -> None:
    with pytest.raises(ConsistencyProofError, match="negative tree size"):
        verify_consistency(size1=-1, size2=4, proof=[], root1=HASHES[0], root2=HASHES[0])


def test_roots_must_be_32_bytes() -> None:
    proof = inclusion_proof(1, 4, HASHES)
    with pytest.raises(InclusionProofError, match="root has 31 bytes"):
        verify_inclusion(leaf_hash=HASHES[1], index=1, size=4, proof=proof, root=bytes(31))
    proof = consistency_proof(1, 4, HASHES)
    root1, root2 = HASHES[0], root_of(HASHES[:4])
    with pytest.raises(ConsistencyProofError, match="root1 has 33 bytes"):
        verify_consistency(size1=1, size2=4, proof=proof, root1=root1 + b"x", root2=root2)
    with pytest.raises(ConsistencyProofError, match="root2 has 0 bytes"):
        verify_consistency(size1=1, size2=4, proof=proof, root1=root1, root2=b"")


def test_proof_one_hash_too_long_is_rejected() -> None:
    proof = [*inclusion_proof(4, 8, HASHES), HASHES[0]]
    with pytest.raises(InclusionProofError, match="wrong proof length") as caught:
        verify_inclusion(
            leaf_hash=HASHES[4], index=4, size=8, proof=proof, root=root_of(HASHES[:8])
        )
    assert (caught.value.expected, caught.value.found) == ("3 hashes", "4 hashes")


# --- cross-checks against the naive RFC transcription --------------------------------------------


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, 300), label="size")
    return size, draw(st.integers(0, size - 1), label="index")


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    size2 = draw(st.integers(1, 300), label="size2")
    return draw(st.integers(1, size2), label="size1"), size2


@settings(max_examples=200, deadline=None)
@given(size=st.integers(0, 300))
def test_root_of_matches_naive(size: int) -> None:
    assert root_of(HASHES[:size]) == naive.mth(DATA[:size])


@settings(max_examples=200, deadline=None)
@given(case=tree_and_index(), flip=st.integers(0, 255))
def test_inclusion_matches_naive_and_verifies(case: tuple[int, int], flip: int) -> None:
    size, index = case
    proof = inclusion_proof(index, size, HASHES)
    assert proof == naive.path(index, DATA[:size])
    root = naive.mth(DATA[:size])
    verify_inclusion(leaf_hash=HASHES[index], index=index, size=size, proof=proof, root=root)
    assert (
        root_from_inclusion_proof(leaf_hash=HASHES[index], index=index, size=size, proof=proof)
        == root
    )
    if proof:  # flipping any bit anywhere in the path breaks it
        position, bit = divmod(flip, 8)
        broken = list(proof)
        item = bytearray(broken[position % len(proof)])
        item[bit % 32] ^= 1 << (flip % 8)
        broken[position % len(proof)] = bytes(item)
        with pytest.raises(InclusionProofError, match="calculated root"):
            verify_inclusion(
                leaf_hash=HASHES[index], index=index, size=size, proof=broken, root=root
            )
    with pytest.raises(InclusionProofError):
        verify_inclusion(
            leaf_hash=HASHES[index], index=index, size=size, proof=proof[:-1] or [root], root=root
        )


@settings(max_examples=200, deadline=None)
@given(sizes=two_sizes(), flip=st.integers(0, 255))
def test_consistency_matches_naive_and_verifies(sizes: tuple[int, int], flip: int) -> None:
    size1, size2 = sizes
    proof = consistency_proof(size1, size2, HASHES)
    assert proof == naive.proof(size1, DATA[:size2])
    root1, root2 = naive.mth(DATA[:size1]), naive.mth(DATA[:size2])
    verify_consistency(size1=size1, size2=size2, proof=proof, root1=root1, root2=root2)
    if proof:
        position = (flip // 8) % len(proof)
        broken = list(proof)
        item = bytearray(broken[position])
        item[flip % 32] ^= 1 << (flip % 8)
        broken[position] = bytes(item)
        with pytest.raises(ConsistencyProofError, match="calculated root"):
            verify_consistency(size1=size1, size2=size2, proof=broken, root1=root1, root2=root2)
        with pytest.raises(ConsistencyProofError, match="wrong proof length"):
            verify_consistency(size1=size1, size2=size2, proof=proof[:-1], root1=root1, root2=root2)
    if size1 < size2:  # the roots swapped, or the new root replaced, never verify
        with pytest.raises(ConsistencyProofError, match="calculated root"):
            verify_consistency(size1=size1, size2=size2, proof=proof, root1=root2, root2=root1)
        assert (
            root_from_consistency_proof(size1=size1, size2=size2, proof=proof, root1=root1) == root2
        )


def test_root_from_consistency_proof_refuses_a_proof_that_does_not_lead_to_the_old_root() -> None:
    proof = consistency_proof(6, 10, HASHES)
    root1 = naive.mth(DATA[:6])
    with pytest.raises(ConsistencyProofError, match=r"old tree \(size 6\) differs") as caught:
        root_from_consistency_proof(size1=6, size2=10, proof=proof, root1=bytes(32))
    assert caught.value.expected == bytes(32).hex()
    assert caught.value.found == root1.hex()
    with pytest.raises(ConsistencyProofError, match="no consistency proof from size 6 to size 6"):
        root_from_consistency_proof(size1=6, size2=6, proof=[], root1=root1)
