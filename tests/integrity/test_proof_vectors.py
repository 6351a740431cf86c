"""Every transparency-dev/merkle probe: valid ones verify, ``wantErr`` ones raise the right error
for the right reason (the expected message depends on the mutation named by ``desc``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ejournal.integrity.errors import ConsistencyProofError, InclusionProofError
from ejournal.integrity.proof import root_from_inclusion_proof, verify_consistency, verify_inclusion
from tests.integrity.vectors import MERKLE, b64, b64_list, load_json, probe_files

INCLUSION = probe_files("inclusion")
CONSISTENCY = probe_files("consistency")

_WRONG_LENGTH = "wrong proof length"
_GARBAGE = r"proof hash \d+ has 0 bytes"
_INDEX = "is not below tree size"
_ROOT = "calculated root"
_EMPTY_TREE = r"empty tree \(size1 is 0\)"

INCLUSION_REASONS = {
    "empty leaf": "leaf hash has 0 bytes",
    "empty root and leaf": "leaf hash has 0 bytes",
    "wrong leaf": "leaf hash has 9 bytes",
    "empty root": f"{_INDEX}|leaf hash has 0 bytes|root has 0 bytes|{_ROOT}",
    "empty root and random leaf": f"{_INDEX}|{_ROOT}",
    "random leaf": f"{_INDEX}|root has 0 bytes",
    "random root": _ROOT,
    "inserted component": _WRONG_LENGTH,
    "removed component": _WRONG_LENGTH,
    "preceding root": _WRONG_LENGTH,
    "trailing root": _WRONG_LENGTH,
    "preceding garbage": _GARBAGE,
    "trailing garbage": _GARBAGE,
    "leafIdx XOR @2": f"{_INDEX}|{_WRONG_LENGTH}|{_ROOT}",
    "leafIdx plus @1": f"{_INDEX}|{_ROOT}",
    "leafIdx sub @1": f"{_INDEX}|{_WRONG_LENGTH}|{_ROOT}",
    "modified proof[0] bit @3": _ROOT,
    "modified proof[1] bit @3": _ROOT,
    "modified proof[2] bit @3": _ROOT,
    "treeSize div @2": f"{_INDEX}|{_WRONG_LENGTH}",
    "treeSize mul @2": _WRONG_LENGTH,
}

CONSISTENCY_REASONS = {
    "consistency check on empty tree (size1 is zero) is useless": _EMPTY_TREE,
    "roots do not match and sizes are zero": _EMPTY_TREE,
    "size1 is zero and does not equal size2": _EMPTY_TREE,
    "size1 is zero and size2 is not zero": _EMPTY_TREE,
    "sizes are equal (zero) and proof is empty": _EMPTY_TREE,
    "sizes are equal (zero) but roots are not": _EMPTY_TREE,
    "sizes match but proof is not empty and sizes are zero": _EMPTY_TREE,
    "sizes match but proof is not empty and sizes are one": "sizes are equal .* proof is not empty",
    "roots do not not match and sizes are one": r"sizes are equal \(1\) but the roots differ",
    "sizes are equal (one) but roots are not": r"sizes are equal \(1\) but the roots differ",
    "size1 is greater than size2": "is smaller than the old size",
    "size1 is greater than size2 again": "is smaller than the old size",
    "sizes do not watch and proof is empty": "root1 has 12 bytes",
    "empty proof": _WRONG_LENGTH,
    "truncated proof": _WRONG_LENGTH,
    "preceding proof @0": _WRONG_LENGTH,
    "preceding root1": _WRONG_LENGTH,
    "preceding root2": _WRONG_LENGTH,
    "trailing root1": _WRONG_LENGTH,
    "trailing root2": _WRONG_LENGTH,
    "preceding garbage": _GARBAGE,
    "trailing garbage": _GARBAGE,
    "modified proof@0 bit @4": "calculated root of the (old|new) tree",
    "modified proof@1 bit @4": "calculated root of the (old|new) tree",
    "modified proof@2 bit @4": "calculated root of the (old|new) tree",
    "swapped roots": "calculated root of the (old|new) tree",
    "wrong root1": "root1 has 9 bytes",
    "wrong root2": "root2 has 9 bytes",
    "size1 XOR @2": f"{_WRONG_LENGTH}|{_EMPTY_TREE}",
    "size1 plus @1": f"{_WRONG_LENGTH}|proof is not empty",
    "size1 sub @1": f"{_WRONG_LENGTH}|{_EMPTY_TREE}",
    "size2 div @2": f"{_WRONG_LENGTH}|proof is not empty|is smaller than the old size",
    "size2 mul @2": _WRONG_LENGTH,
}


def _id(path: Path) -> str:
    return path.relative_to(MERKLE / "testdata").as_posix()


def test_all_probe_files_are_present() -> None:
    assert len(INCLUSION) == 98
    assert len(CONSISTENCY) == 98


@pytest.mark.parametrize("path", INCLUSION, ids=_id)
def test_inclusion_probe(path: Path) -> None:
    probe = load_json(path)
    arguments = {
        "leaf_hash": b64(probe["leafHash"]),
        "index": probe["leafIdx"],
        "size": probe["treeSize"],
        "proof": b64_list(probe["proof"]),
    }
    root = b64(probe["root"])
    if probe["wantErr"]:
        with pytest.raises(InclusionProofError, match=INCLUSION_REASONS[probe["desc"]]):
            verify_inclusion(**arguments, root=root)
    else:
        verify_inclusion(**arguments, root=root)
        assert root_from_inclusion_proof(**arguments) == root


@pytest.mark.parametrize("path", CONSISTENCY, ids=_id)
def test_consistency_probe(path: Path) -> None:
    probe = load_json(path)
    arguments = {
        "size1": probe["size1"],
        "size2": probe["size2"],
        "proof": b64_list(probe["proof"]),
        "root1": b64(probe["root1"]),
        "root2": b64(probe["root2"]),
    }
    if probe["wantErr"]:
        with pytest.raises(ConsistencyProofError, match=CONSISTENCY_REASONS[probe["desc"]]):
            verify_consistency(**arguments)
    else:
        verify_consistency(**arguments)
