"""RFC 6962 Merkle tree hashing: leaf and node hashes with domain separation, and the tree hash.

``MTH({}) = SHA-256()``, ``MTH({d0}) = SHA-256(0x00 ‖ d0)``, and for ``n > 1`` with ``k`` the
largest power of two smaller than ``n``:
``MTH(D[n]) = SHA-256(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n]))`` (RFC 6962 §2.1, RFC 9162 §2.1.1).
The prefixes keep a leaf from ever being mistaken for an interior node (second preimages).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32
"""Size in bytes of every hash in the tree (SHA-256)."""

LEAF_PREFIX = b"\x00"
"""Prepended to leaf data before hashing."""

NODE_PREFIX = b"\x01"
"""Prepended to the two child hashes of an interior node before hashing."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the empty tree: SHA-256 of the empty string."""

_sha256 = hashlib.sha256


def hash_leaf(data: bytes) -> bytes:
    """Return the leaf hash SHA-256(0x00 ‖ data). Raises nothing."""
    return _sha256(LEAF_PREFIX + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """Return the interior node hash SHA-256(0x01 ‖ left ‖ right). Raises nothing."""
    return _sha256(NODE_PREFIX + left + right).digest()


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle tree hash of a sequence of leaf hashes (``EMPTY_ROOT`` when empty).

    Works level by level: adjacent pairs are hashed and an odd last node moves up unchanged, which
    builds exactly the RFC 6962 tree (the left subtree of every node is the largest perfect one).

    Raises ``ValueError`` if a leaf hash is not 32 bytes.
    """
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    for position, item in enumerate(level):
        if len(item) != HASH_SIZE:
            raise ValueError(f"leaf hash {position} has {len(item)} bytes, expected {HASH_SIZE}")
    sha256, prefix = _sha256, NODE_PREFIX
    while len(level) > 1:
        paired = [
            sha256(prefix + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]
