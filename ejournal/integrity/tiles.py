"""C2SP tlog-tiles (https://c2sp.org/tlog-tiles): a log as static files, written and verified.

A tiled log is a directory (served as it is, the *prefix* of the specification) holding:

* ``checkpoint``: the signed checkpoint (C2SP tlog-checkpoint) the tiles are of;
* ``tile/<L>/<N>``: hash tiles of 256 hashes of 32 bytes. Level 0 holds leaf hashes; a hash at
  level ``L`` is the RFC 6962 root of a full tile at level ``L - 1``, so the ``N``-th tile of level
  ``L`` spans the leaves ``N * 256**(L+1)`` to ``(N + 1) * 256**(L+1)``;
* ``tile/entries/<N>``: entry bundles, the 256 entries of level-0 tile ``N``, each a big-endian
  uint16 length and the entry's bytes. An entry of our logs is its leaf (``leaf.py``), so a reader
  recomputes the leaf hashes SHA-256(0x00 ‖ leaf) from the bundles alone.

``N`` is written in three-digit path elements, all but the last prefixed with ``x``
(1234067 → ``x001/x234/067``). The rightmost tile of each level whose width ``W`` is
``floor(size / 256**L) mod 256 > 0`` is *partial*: ``<N>.p/<W>``, never hashed into the level
above. The checkpoint's root is computed from the tiles: the partial tiles of every level, top
down, are the perfect subtrees (compact range) of the tree.

``TileWriter`` produces the files of a log one entry at a time, holding at most 256 hashes per
level (O(log n) memory); ``verify_tiles`` reads a directory back, one file at a time, with no
database: the checkpoint's signature, every entry against its level-0 tile, every tile against the
level below, and the root against the checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ejournal.integrity.checkpoint import Checkpoint, open_checkpoint
from ejournal.integrity.compact import CompactRange
from ejournal.integrity.errors import (
    OriginMismatchError,
    RootMismatchError,
    TileError,
    VerificationError,
)
from ejournal.integrity.leaf import LeafFormatError, LogLeafEncoder, decode_leaf
from ejournal.integrity.note import NoteVerifier, VerifiedNote
from ejournal.integrity.rfc6962 import HASH_SIZE, hash_leaf, root_of

TILE_HEIGHT = 8
"""Each tile is a subtree of height 8: its hashes are the leaves of 256-wide perfect subtrees."""

TILE_WIDTH = 1 << TILE_HEIGHT
"""Hashes in a full tile (and entries in a full bundle): 256."""

MAX_LEVEL = 63
"""The highest level a tile path may name."""

MAX_ENTRY_SIZE = 0xFFFF
"""An entry in a bundle is prefixed by a uint16 length: at most 65,535 bytes."""

CHECKPOINT_PATH = "checkpoint"
"""Where the signed checkpoint lives in a tiled log's directory."""


@dataclass(frozen=True, slots=True)
class Tile:
    """One file of a tiled log: a hash tile at ``level``, or an entry bundle (``level`` None)."""

    level: int | None
    index: int
    width: int = TILE_WIDTH

    def __post_init__(self) -> None:
        if self.level is not None and not 0 <= self.level <= MAX_LEVEL:
            raise ValueError(f"tile level {self.level} is outside 0..{MAX_LEVEL}")
        if self.index < 0:
            raise ValueError(f"tile index {self.index} is negative")
        if not 1 <= self.width <= TILE_WIDTH:
            raise ValueError(f"tile width {self.width} is outside 1..{TILE_WIDTH}")

    @property
    def path(self) -> str:
        """The path inside the log's directory: ``tile/<L>/<N>[.p/<W>]`` or
        ``tile/entries/<N>[.p/<W>]``."""
        level = "entries" if self.level is None else str(self.level)
        partial = "" if self.width == TILE_WIDTH else f".p/{self.width}"
        return f"tile/{level}/{encode_tile_index(self.index)}{partial}"

    def leaves(self, position: int) -> tuple[int, int]:
        """The leaves ``[start, end)`` that hash ``position`` of this tile covers."""
        span = TILE_WIDTH ** (self.level or 0)
        start = (self.index * TILE_WIDTH + position) * span
        return start, start + span


def encode_tile_index(index: int) -> str:
    """Return the path elements of a tile index: zero-padded groups of three digits, all but the
    last prefixed with ``x`` (1234067 → ``x001/x234/067``, 5 → ``005``).

    Raises ``ValueError`` for a negative index.
    """
    if index < 0:
        raise ValueError(f"tile index {index} is negative")
    digits = str(index)
    digits = digits.zfill(-(-len(digits) // 3) * 3)
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*(f"x{group}" for group in groups[:-1]), groups[-1]])


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    """Return an entry bundle: each entry as a big-endian uint16 length and its bytes.

    Raises ``ValueError`` for an entry longer than ``MAX_ENTRY_SIZE``.
    """
    parts: list[bytes] = []
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise ValueError(f"an entry of {len(entry)} bytes does not fit a uint16 length")
        parts += (len(entry).to_bytes(2, "big"), entry)
    return b"".join(parts)


def decode_bundle(data: bytes, count: int, *, path: str = "entry bundle") -> list[bytes]:
    """Return the ``count`` entries of an entry bundle; the inverse of ``encode_bundle``.

    Raises ``TileError`` (``where`` names ``path`` and the entry) if the bundle ends inside an
    entry or before ``count`` entries, or has bytes after the last one.
    """
    entries: list[bytes] = []
    position = 0
    for number in range(count):
        length = int.from_bytes(data[position : position + 2], "big")
        end = position + 2 + length
        if end > len(data):
            raise TileError(
                "the entry bundle ends inside an entry",
                expected=f"{count} entries",
                found=f"{number} whole entries in {len(data)} bytes",
                where=f"{path} entry {number}",
            )
        entries.append(data[position + 2 : end])
        position = end
    if position != len(data):
        raise TileError(
            "bytes after the last entry of the bundle",
            expected=f"{position} bytes ({count} entries)",
            found=f"{len(data)} bytes",
            where=path,
        )
    return entries


TileSink = Callable[[Tile, bytes], None]
"""Receives each file a ``TileWriter`` produces, in order."""


class TileWriter:
    """Produces the tiles of a log from its entries, in order, one file at a time.

    Each full bundle and level-0 tile is handed to ``sink`` at its 256th entry, each full tile of a
    level above when its 256th hash is; ``finish`` hands over the partial ones and returns the
    root. Memory: at most 256 entries and 256 hashes per level.
    """

    __slots__ = ("_entries", "_finished", "_full", "_levels", "_sink", "_size")

    def __init__(self, sink: TileSink) -> None:
        self._sink = sink
        self._entries: list[bytes] = []
        self._levels: list[list[bytes]] = [[]]
        """The hashes of each level not yet in a full tile (fewer than 256)."""
        self._full: list[int] = [0]
        """How many full tiles each level has."""
        self._size = 0
        self._finished = False

    @property
    def size(self) -> int:
        """The number of entries appended."""
        return self._size

    def append(self, entry: bytes) -> None:
        """Add the next entry. Raises ``ValueError`` for an entry longer than
        ``MAX_ENTRY_SIZE``, or after ``finish``; what ``sink`` raises."""
        if self._finished:
            raise ValueError("the tiles are finished")
        if len(entry) > MAX_ENTRY_SIZE:
            raise ValueError(f"an entry of {len(entry)} bytes does not fit a uint16 length")
        self._entries.append(entry)
        self._levels[0].append(hash_leaf(entry))
        self._size += 1
        if len(self._entries) == TILE_WIDTH:
            self._sink(Tile(None, self._full[0]), encode_bundle(self._entries))
            self._entries = []
            self._flush_full(0)

    def _flush_full(self, level: int) -> None:
        """Hand over the full tile of ``level`` and carry its root to the level above, as long as
        that fills a tile too."""
        while len(self._levels[level]) == TILE_WIDTH:
            hashes = self._levels[level]
            self._sink(Tile(level, self._full[level]), b"".join(hashes))
            self._full[level] += 1
            self._levels[level] = []
            if level + 1 == len(self._levels):
                self._levels.append([])
                self._full.append(0)
            self._levels[level + 1].append(root_of(hashes))
            level += 1

    def finish(self) -> bytes:
        """Hand over the partial bundle and tiles, and return the RFC 6962 root of the entries.

        Raises ``ValueError`` if called twice; what ``sink`` raises.
        """
        if self._finished:
            raise ValueError("the tiles are finished")
        self._finished = True
        if self._entries:
            self._sink(Tile(None, self._full[0], len(self._entries)), encode_bundle(self._entries))
        for level, hashes in enumerate(self._levels):
            if hashes:
                self._sink(Tile(level, self._full[level], len(hashes)), b"".join(hashes))
        return root_from_partial_tiles(self._size, self._levels)


def root_from_partial_tiles(size: int, partial: list[list[bytes]]) -> bytes:
    """Return the root of a tree of ``size`` leaves from the hashes of its partial tiles, by level
    (``partial[L]`` has ``floor(size / 256**L) mod 256`` hashes).

    Every hash of a level-``L`` tile is a perfect subtree of ``256**L`` leaves; taking the levels
    top down and each partial tile's hashes in perfect runs by the bits of its width gives the
    compact range of the tree, whose root is the tree's. Raises ``ValueError`` if the widths do
    not add up to ``size``.
    """
    frontier: list[bytes] = []
    for hashes in reversed(partial):
        start = 0
        for bit in reversed(range(TILE_HEIGHT)):
            run = 1 << bit
            if len(hashes) & run:
                frontier.append(root_of(hashes[start : start + run]))
                start += run
    return CompactRange.from_state(size, frontier).root()


@dataclass(frozen=True, slots=True)
class VerifiedTiles:
    """What ``verify_tiles`` established about a tiled log."""

    checkpoint: Checkpoint
    note: VerifiedNote
    log_id: str
    """The log the entries name (empty for a log of no entries)."""
    files: int
    """The tiles and bundles read."""


class _Reader:
    """Reads the files of a tiled log and checks each tile against the recomputed one."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files = 0

    def read(self, path: str) -> bytes:
        try:
            data = (self.directory / path).read_bytes()
        except FileNotFoundError:
            raise TileError("the file is missing", where=path) from None
        except OSError as e:
            raise TileError(f"the file cannot be read: {e.strerror or e}", where=path) from e
        self.files += 1
        return data

    def check(self, tile: Tile, expected: bytes) -> None:
        """A ``TileSink``: the file of ``tile`` must hold exactly ``expected``."""
        if tile.level is None:
            return  # the bundle was read to produce ``expected``, strictly (``decode_bundle``)
        path = tile.path
        found = self.read(path)
        if len(found) != len(expected):
            raise TileError(
                "the tile has the wrong size",
                expected=f"{len(expected)} bytes ({tile.width} hashes)",
                found=f"{len(found)} bytes",
                where=path,
            )
        for position in range(tile.width):
            at = slice(position * HASH_SIZE, (position + 1) * HASH_SIZE)
            if found[at] != expected[at]:
                start, end = tile.leaves(position)
                what = (
                    f"the leaf hash of entry {start}"
                    if tile.level == 0
                    else f"the root of entries {start}..{end - 1}"
                )
                raise TileError(
                    f"the tile's hash differs from {what}, recomputed from the entries",
                    expected=expected[at].hex(),
                    found=found[at].hex(),
                    where=f"{path} hash {position}",
                )


class _LeafCheck:
    """Checks that each entry is the ejournal leaf of one log at its index.

    The first entry is decoded in full; every later one must start with the same tag and log ID
    and its own index (one comparison: this runs once per entry). One that does not is decoded to
    say what it is instead.
    """

    def __init__(self) -> None:
        self.log_id = ""
        self._prefix = b""

    def __call__(self, entry: bytes, index: int, path: str) -> None:
        if self._prefix and entry.startswith(self._prefix + index.to_bytes(8, "big")):
            return
        where = f"{path} entry {index % TILE_WIDTH} (index {index})"
        try:
            leaf = decode_leaf(entry)
        except LeafFormatError as e:
            raise TileError(f"the entry is not an ejournal leaf: {e}", where=where) from e
        if leaf.index != index:
            raise TileError(
                "the entry names another index",
                expected=str(index),
                found=str(leaf.index),
                where=where,
            )
        if self._prefix:
            raise TileError(
                "the entry names another log", expected=self.log_id, found=leaf.log_id, where=where
            )
        self.log_id = leaf.log_id
        self._prefix = LogLeafEncoder(leaf.log_id).prefix


def verify_tiles(
    directory: Path, verifiers: Iterable[NoteVerifier], *, origin: str | None = None
) -> VerifiedTiles:
    """Verify the tiled log in ``directory`` against trusted ``verifiers``, reading files only.

    Checks the checkpoint's signature (and, with ``origin``, that it is that log's); that every
    entry names one log and its own index (an ejournal leaf), and the checkpoint's origin ends
    with that log's ID; that every level-0 tile holds the leaf hashes of its bundle's entries and
    every tile above the roots of the full tiles below; and that the root is the checkpoint's.

    Raises ``TileError`` naming the file (and the hash or entry in it) that is missing, malformed
    or differs; ``RootMismatchError`` if the tiles' root is not the signed one; the errors of
    ``checkpoint.open_checkpoint`` (``where`` = ``checkpoint``) for the checkpoint;
    ``OriginMismatchError`` if the entries are of another log than the checkpoint's origin.
    """
    reader = _Reader(directory)
    note = reader.read(CHECKPOINT_PATH)
    try:
        checkpoint, verified = open_checkpoint(note, verifiers, origin=origin)
    except VerificationError as e:
        raise type(e)(e.message, expected=e.expected, found=e.found, where=CHECKPOINT_PATH) from e
    writer = TileWriter(reader.check)
    leaf_check = _LeafCheck()
    for bundle in range(-(-checkpoint.size // TILE_WIDTH)):
        width = min(TILE_WIDTH, checkpoint.size - bundle * TILE_WIDTH)
        path = Tile(None, bundle, width).path
        for entry in decode_bundle(reader.read(path), width, path=path):
            leaf_check(entry, writer.size, path)
            if writer.size == 0:
                _check_origin(checkpoint.origin, leaf_check.log_id, path)
            writer.append(entry)
    root = writer.finish()
    if root != checkpoint.root_hash:
        raise RootMismatchError(
            "the root of the tiles is not the signed root",
            expected=checkpoint.root_hash.hex(),
            found=root.hex(),
            where=CHECKPOINT_PATH,
        )
    return VerifiedTiles(checkpoint, verified, leaf_check.log_id, reader.files)


def _check_origin(origin: str, log_id: str, path: str) -> None:
    if not origin.endswith(f"/{log_id}"):
        raise OriginMismatchError(
            "the entries are of another log than the checkpoint",
            expected=f"<deployment>/{log_id}",
            found=origin,
            where=f"{path} entry 0",
        )
