"""Merkle inclusion and consistency proofs: generation (RFC 9162 §2.1.3.1, §2.1.4.1) and
verification (§2.1.3.2, §2.1.4.2).

Generation works over any source of subtree hashes: ``subtree_root(lo, hi)`` must return the
Merkle tree hash of leaves ``lo .. hi-1``. A database-backed ledger can answer that from stored
nodes; ``inclusion_proof`` and ``consistency_proof`` answer it from a sequence of leaf hashes.

Verification follows the RFC algorithms step by step, after checking up front that every hash is
32 bytes and that the proof has exactly the number of hashes the sizes call for, so that an error
says what is wrong. A consistency proof from the empty tree is refused, as in transparency-dev:
everything is consistent with nothing, so such a "proof" proves nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from ejournal.integrity.errors import ConsistencyProofError, InclusionProofError
from ejournal.integrity.rfc6962 import HASH_SIZE, NODE_PREFIX, root_of

SubtreeRoot = Callable[[int, int], bytes]
"""``subtree_root(lo, hi)``: the Merkle tree hash of the leaves with indices ``lo <= i < hi``."""

_sha256 = hashlib.sha256


def _node(left: bytes, right: bytes) -> bytes:
    return _sha256(NODE_PREFIX + left + right).digest()


def _split(count: int) -> int:
    """The largest power of two smaller than ``count`` (``count >= 2``)."""
    return 1 << ((count - 1).bit_length() - 1)


def _from_leaves(leaf_hashes: Sequence[bytes], size: int) -> SubtreeRoot:
    if len(leaf_hashes) < size:
        raise ValueError(f"tree size {size} needs {size} leaf hashes, got {len(leaf_hashes)}")

    def subtree_root(lo: int, hi: int) -> bytes:
        return root_of(leaf_hashes[lo:hi])

    return subtree_root


# --- generation ----------------------------------------------------------------------------------


def inclusion_proof_from_subtrees(index: int, size: int, subtree_root: SubtreeRoot) -> list[bytes]:
    """Return PATH(index, D[size]), the audit path of a leaf, leaf's sibling first (RFC 9162
    §2.1.3.1), asking ``subtree_root`` for one subtree hash per level.

    Raises ``ValueError`` unless ``0 <= index < size``.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        mid = lo + _split(hi - lo)
        if index < mid:
            path.append(subtree_root(mid, hi))
            hi = mid
        else:
            path.append(subtree_root(lo, mid))
            lo = mid
    path.reverse()  # collected from the root down; the path starts at the leaf
    return path


def consistency_proof_from_subtrees(
    size1: int, size2: int, subtree_root: SubtreeRoot
) -> list[bytes]:
    """Return PROOF(size1, D[size2]), the consistency proof between two tree sizes (RFC 9162
    §2.1.4.1), asking ``subtree_root`` for one subtree hash per level. Equal sizes give ``[]``.

    Raises ``ValueError`` unless ``0 < size1 <= size2``: there is no proof from the empty tree.
    """
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    descent: list[bytes] = []
    lo, hi = 0, size2
    whole_old_tree = True  # the RFC's flag b: is D[lo:hi] still the old tree's own root?
    while size1 != hi:
        mid = lo + _split(hi - lo)
        if size1 <= mid:
            descent.append(subtree_root(mid, hi))
            hi = mid
        else:
            descent.append(subtree_root(lo, mid))
            lo = mid
            whole_old_tree = False
    base = [] if whole_old_tree else [subtree_root(lo, hi)]
    descent.reverse()
    return base + descent


def inclusion_proof(index: int, size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the audit path of leaf ``index`` in the tree of the first ``size`` leaf hashes.

    Raises ``ValueError`` unless ``0 <= index < size <= len(leaf_hashes)``, or if a leaf hash is not
    32 bytes.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    return inclusion_proof_from_subtrees(index, size, _from_leaves(leaf_hashes, size))


def consistency_proof(size1: int, size2: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the consistency proof from the tree of the first ``size1`` leaf hashes to the tree of
    the first ``size2``.

    Raises ``ValueError`` unless ``0 < size1 <= size2 <= len(leaf_hashes)``, or if a leaf hash is
    not 32 bytes.
    """
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    return consistency_proof_from_subtrees(size1, size2, _from_leaves(leaf_hashes, size2))


# --- verification --------------------------------------------------------------------------------
#
# The shape of transparency-dev/merkle's proof/verify.go. An audit path to leaf ``index`` in a
# tree of ``size`` leaves splits in two: below the level where the paths to ``index`` and to the
# last leaf part, every level has a sibling (the "inner" part, left or right as the index's bit
# says); above it, only the levels where ``index`` is in a right subtree do, each a left sibling
# (the "border"). A consistency proof from ``size1`` is the suffix of the audit path to leaf
# ``size1 - 1`` above the old tree's rightmost perfect subtree (the "seed"), preceded by the
# seed's hash unless that subtree is the whole old tree, whose root the verifier already holds.


def _decompose(index: int, size: int) -> tuple[int, int]:
    """The lengths of the inner and border parts of the audit path to ``index`` in ``size``."""
    inner = (index ^ (size - 1)).bit_length()
    return inner, (index >> inner).bit_count()


def _chain_inner(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    """Hash ``seed`` up the inner part of a path: each sibling on the side ``index``'s bit says."""
    for level, sibling in enumerate(proof):
        seed = _node(seed, sibling) if (index >> level) & 1 == 0 else _node(sibling, seed)
    return seed


def _chain_inner_right(seed: bytes, proof: Sequence[bytes], index: int) -> bytes:
    """Like ``_chain_inner`` but only with the left siblings: the root of the tree that ends at
    ``index``, which the right siblings (leaves after it) are not part of."""
    for level, sibling in enumerate(proof):
        if (index >> level) & 1:
            seed = _node(sibling, seed)
    return seed


def _chain_border_right(seed: bytes, proof: Sequence[bytes]) -> bytes:
    """Hash ``seed`` up the border part of a path: every sibling is on the left."""
    for sibling in proof:
        seed = _node(sibling, seed)
    return seed


def _check_hash(
    value: bytes, name: str, error: type[InclusionProofError | ConsistencyProofError]
) -> None:
    if len(value) != HASH_SIZE:
        raise error(
            f"{name} has {len(value)} bytes",
            expected=f"{HASH_SIZE} bytes",
            found=f"{len(value)} bytes",
        )


def _check_proof(
    proof: Sequence[bytes],
    wanted: int,
    between: str,
    error: type[InclusionProofError | ConsistencyProofError],
) -> None:
    for position, item in enumerate(proof):
        _check_hash(item, f"proof hash {position}", error)
    if len(proof) != wanted:
        raise error(
            f"wrong proof length {between}",
            expected=f"{wanted} hashes",
            found=f"{len(proof)} hashes",
        )


def root_from_inclusion_proof(
    *, leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes]
) -> bytes:
    """Return the root that an audit path leads to from a leaf hash (RFC 9162 §2.1.3.2, without
    the final comparison).

    Raises ``InclusionProofError`` if ``index`` is not below ``size``, if the leaf hash or a proof
    hash is not 32 bytes, or if the proof has more or fewer hashes than the sizes call for.
    """
    if index < 0 or size < 0:
        raise InclusionProofError(f"negative leaf index {index} or tree size {size}")
    if index >= size:
        raise InclusionProofError(f"leaf index {index} is not below tree size {size}")
    _check_hash(leaf_hash, "leaf hash", InclusionProofError)
    inner, border = _decompose(index, size)
    _check_proof(proof, inner + border, f"for leaf {index} of {size}", InclusionProofError)
    node = _chain_inner(leaf_hash, proof[:inner], index)
    return _chain_border_right(node, proof[inner:])


def verify_inclusion(
    *, leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that the leaf with hash ``leaf_hash`` is at ``index`` in the tree of ``size`` leaves
    whose root is ``root`` (RFC 9162 §2.1.3.2).

    Raises ``InclusionProofError`` for any malformed input (see ``root_from_inclusion_proof``), if
    ``root`` is not 32 bytes, and when the calculated root differs from ``root``; ``expected`` is
    ``root`` and ``found`` the calculated root, in hex.
    """
    calculated = root_from_inclusion_proof(leaf_hash=leaf_hash, index=index, size=size, proof=proof)
    _check_hash(root, "root", InclusionProofError)
    if calculated != root:
        raise InclusionProofError(
            f"calculated root of tree size {size} differs from the expected root",
            expected=root.hex(),
            found=calculated.hex(),
        )


def root_from_consistency_proof(
    *, size1: int, size2: int, proof: Sequence[bytes], root1: bytes
) -> bytes:
    """Return the root of the tree of ``size2`` leaves that a consistency proof leads to from the
    tree of ``size1`` leaves with root ``root1`` (RFC 9162 §2.1.4.2, without the final comparison
    with the new root). ``0 < size1 < size2``.

    Raises ``ConsistencyProofError`` if the sizes are not so, if ``root1`` or a proof hash is not
    32 bytes, if the proof has more or fewer hashes than the sizes call for, or if the proof does
    not lead to ``root1`` (``expected`` is ``root1`` and ``found`` the calculated root, in hex).
    """
    if size1 < 0 or size2 < 0:
        raise ConsistencyProofError(f"negative tree size {size1} or {size2}")
    if not 0 < size1 < size2:
        raise ConsistencyProofError(f"no consistency proof from size {size1} to size {size2}")
    _check_hash(root1, "root1", ConsistencyProofError)
    inner, border = _decompose(size1 - 1, size2)
    shift = (size1 & -size1).bit_length() - 1  # the seed is a perfect subtree of 2**shift leaves
    inner -= shift
    whole_old_tree = size1 == 1 << shift
    wanted = inner + border + (0 if whole_old_tree else 1)
    _check_proof(proof, wanted, f"from size {size1} to {size2}", ConsistencyProofError)
    seed, path = (root1, proof) if whole_old_tree else (proof[0], proof[1:])
    mask = (size1 - 1) >> shift
    old_root = _chain_border_right(_chain_inner_right(seed, path[:inner], mask), path[inner:])
    if old_root != root1:
        raise ConsistencyProofError(
            f"calculated root of the old tree (size {size1}) differs from root1",
            expected=root1.hex(),
            found=old_root.hex(),
        )
    return _chain_border_right(_chain_inner(seed, path[:inner], mask), path[inner:])


def verify_consistency(
    *, size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of ``size2`` leaves with root ``root2`` extends the tree of ``size1``
    leaves with root ``root1`` (RFC 9162 §2.1.4.2).

    Equal sizes need an empty proof and equal roots (compared as given, whatever their length).
    Raises ``ConsistencyProofError`` if ``size1`` is 0 or greater than ``size2``, if a root or a
    proof hash is not 32 bytes, if the proof has more or fewer hashes than the sizes call for, or if
    a calculated root differs from the given one (``expected`` is the given root and ``found`` the
    calculated one, in hex).
    """
    if size1 < 0 or size2 < 0:
        raise ConsistencyProofError(f"negative tree size {size1} or {size2}")
    if size2 < size1:
        raise ConsistencyProofError(f"tree size {size2} is smaller than the old size {size1}")
    if size1 == 0:
        raise ConsistencyProofError("no consistency proof from the empty tree (size1 is 0)")
    if size1 == size2:
        _verify_same_size(size1, proof, root1, root2)
        return
    _check_hash(root1, "root1", ConsistencyProofError)
    _check_hash(root2, "root2", ConsistencyProofError)
    calculated = root_from_consistency_proof(size1=size1, size2=size2, proof=proof, root1=root1)
    if calculated != root2:
        raise ConsistencyProofError(
            f"calculated root of the new tree (size {size2}) differs from root2",
            expected=root2.hex(),
            found=calculated.hex(),
        )


def _verify_same_size(size: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    if proof:
        raise ConsistencyProofError(
            f"sizes are equal ({size}) but the proof is not empty",
            expected="0 hashes",
            found=f"{len(proof)} hashes",
        )
    if root1 != root2:
        raise ConsistencyProofError(
            f"sizes are equal ({size}) but the roots differ",
            expected=root1.hex(),
            found=root2.hex(),
        )
