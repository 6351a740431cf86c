"""The compact range (frontier) of a Merkle tree: its root in O(log n) memory, one leaf at a time.

A tree of ``size`` leaves is the concatenation of perfect subtrees, one for each set bit of
``size``, largest (leftmost) first. The compact range keeps only their roots. Appending a leaf adds
a subtree of one leaf and merges equal-sized neighbours, exactly as a binary counter carries: the
number of merges is the number of trailing one-bits of the old size (amortised one hash per leaf).

The ledger streams every leaf of a log through ``append`` while verifying, and persists ``state()``
so it can resume with ``CompactRange.from_state`` instead of rereading the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from ejournal.integrity.rfc6962 import EMPTY_ROOT, HASH_SIZE, NODE_PREFIX

_sha256 = hashlib.sha256


class CompactRange:
    """The roots of the perfect subtrees that make up a tree of ``size`` leaves, left to right."""

    __slots__ = ("_hashes", "_size")

    def __init__(self) -> None:
        """Start an empty tree. Raises nothing."""
        self._size = 0
        self._hashes: list[bytes] = []

    @classmethod
    def from_state(cls, size: int, hashes: Sequence[bytes]) -> CompactRange:
        """Resume from a stored frontier, as returned by ``state()``.

        Raises ``ValueError`` if ``size`` is negative, if the number of hashes is not the number of
        set bits of ``size``, or if a hash is not 32 bytes.
        """
        if size < 0:
            raise ValueError(f"tree size must not be negative, got {size}")
        if len(hashes) != size.bit_count():
            raise ValueError(
                f"a tree of {size} leaves has {size.bit_count()} frontier hashes, got {len(hashes)}"
            )
        for position, item in enumerate(hashes):
            if len(item) != HASH_SIZE:
                raise ValueError(
                    f"frontier hash {position} has {len(item)} bytes, expected {HASH_SIZE}"
                )
        compact = cls()
        compact._size = size
        compact._hashes = [bytes(item) for item in hashes]
        return compact

    def state(self) -> tuple[int, tuple[bytes, ...]]:
        """Return ``(size, hashes)`` to persist; ``from_state`` accepts it back. Raises nothing."""
        return self._size, tuple(self._hashes)

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    def append(self, leaf_hash: bytes) -> None:
        """Add the next leaf, given its leaf hash.

        Raises ``ValueError`` if ``leaf_hash`` is not 32 bytes.
        """
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash has {len(leaf_hash)} bytes, expected {HASH_SIZE}")
        hashes = self._hashes
        node = leaf_hash
        carry = self._size
        # Each trailing one-bit of the old size is a perfect subtree of the same height as ``node``.
        while carry & 1:
            node = _sha256(NODE_PREFIX + hashes.pop() + node).digest()
            carry >>= 1
        hashes.append(node)
        self._size += 1

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        """Append several leaves in order; the same as calling ``append`` for each.

        Raises ``ValueError`` if a leaf hash is not 32 bytes; the leaves before it stay appended.
        """
        hashes = self._hashes
        size = self._size
        sha256, prefix = _sha256, NODE_PREFIX
        try:
            for leaf_hash in leaf_hashes:
                if len(leaf_hash) != HASH_SIZE:
                    raise ValueError(f"leaf hash has {len(leaf_hash)} bytes, expected {HASH_SIZE}")
                node = leaf_hash
                carry = size
                while carry & 1:
                    node = sha256(prefix + hashes.pop() + node).digest()
                    carry >>= 1
                hashes.append(node)
                size += 1
        finally:
            self._size = size

    def root(self) -> bytes:
        """Return the RFC 6962 root of all leaves appended so far (``EMPTY_ROOT`` when none).

        Raises nothing.
        """
        hashes = self._hashes
        if not hashes:
            return EMPTY_ROOT
        node = hashes[-1]
        for left in reversed(hashes[:-1]):
            node = _sha256(NODE_PREFIX + left + node).digest()
        return node

    def copy(self) -> CompactRange:
        """Return an independent copy. Raises nothing."""
        twin = CompactRange()
        twin._size = self._size
        twin._hashes = list(self._hashes)
        return twin

    def __repr__(self) -> str:
        return f"CompactRange(size={self._size})"
