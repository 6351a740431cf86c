"""C2SP tlog-tiles: the files ``TileWriter`` produces are the spec's (checked by an independent
reader written from the spec, ``tlog_tiles_reader``, and by the spec's own examples), and
``verify_tiles`` names the file, hash or entry of every tampering."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from ejournal.integrity.checkpoint import Checkpoint, sign_checkpoint
from ejournal.integrity.errors import (
    OriginMismatchError,
    RootMismatchError,
    SignatureError,
    TileError,
    UnknownKeyError,
)
from ejournal.integrity.leaf import LogLeafEncoder
from ejournal.integrity.note import Ed25519Signer, generate_signer
from ejournal.integrity.tiles import (
    MAX_ENTRY_SIZE,
    Tile,
    TileWriter,
    decode_bundle,
    encode_bundle,
    encode_tile_index,
    root_from_partial_tiles,
    verify_tiles,
)
from tests.integrity.tlog_tiles_reader import ReaderError, mth, read_tiled_log, spec_path

LOG = "school/00000000-0000-0000-0000-000000000001/2025-2026"
ORIGIN = f"tiles.test/{LOG}"
SIGNER = generate_signer("tiles.test")


def leaves(count: int, log_id: str = LOG) -> list[bytes]:
    """``count`` ejournal leaves of one log: distinct, cheap, of realistic size."""
    encode = LogLeafEncoder(log_id).encode
    actor, session = uuid.UUID(int=7).bytes, uuid.UUID(int=8).bytes
    return [
        encode(
            index,
            uuid.UUID(int=index).bytes,
            1,
            "ejournal.commands.journal:MarkRecorded",
            1_756_700_000_000_000 + index,
            actor,
            "teacher",
            1,
            session,
            hashlib.sha256(index.to_bytes(8, "big")).digest(),
        )
        for index in range(count)
    ]


def write_log(
    directory: Path, entries: list[bytes], signer: Ed25519Signer = SIGNER, origin: str = ORIGIN
) -> bytes:
    """The tiled log of ``entries`` in ``directory``, with a checkpoint signed by ``signer``."""

    def sink(tile: Tile, data: bytes) -> None:
        path = directory / tile.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    writer = TileWriter(sink)
    for entry in entries:
        writer.append(entry)
    root = writer.finish()
    note = sign_checkpoint(Checkpoint(origin, len(entries), root), [signer])
    (directory / "checkpoint").write_text(note, encoding="utf-8")
    return root


def test_tile_paths_follow_the_spec_examples() -> None:
    # tlog-tiles: "index 1234067 will be encoded as x001/x234/067".
    assert encode_tile_index(1234067) == "x001/x234/067"
    assert Tile(0, 1234067).path == "tile/0/x001/x234/067"
    assert Tile(0, 1234067, 5).path == "tile/0/x001/x234/067.p/5"
    assert Tile(None, 1234067, 255).path == "tile/entries/x001/x234/067.p/255"
    assert Tile(63, 0).path == "tile/63/000"
    for index in (*range(0, 2100, 7), 999, 1000, 999_999, 1_000_000, 2**40, 2**64 - 1):
        assert encode_tile_index(index) == spec_path(0, index, 256)[len("tile/0/") :]


@pytest.mark.parametrize(
    ("tile", "message"),
    [
        (lambda: Tile(64, 0), "level 64"),
        (lambda: Tile(0, -1), "negative"),
        (lambda: Tile(0, 0, 0), "width 0"),
        (lambda: Tile(None, 0, 257), "width 257"),
    ],
)
def test_a_tile_outside_the_spec_is_refused(tile: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tile()  # type: ignore[operator]


def test_the_spec_example_of_a_tree_of_70000(tmp_path: Path) -> None:
    # "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0
    # tile of width 112, one full level 1 tile, one partial level 1 tile of width 17, and one
    # partial level 2 tile of width 1."
    entries = leaves(70_000)
    root = write_log(tmp_path, entries)
    level0 = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "tile/0").rglob("*"))
    assert len([p for p in level0 if p.count("/") == 2 and not p.endswith(".p")]) == 273
    assert (tmp_path / "tile/0/273.p/112").stat().st_size == 112 * 32
    assert (tmp_path / "tile/entries/273.p/112").is_file()
    assert sorted(p.name for p in (tmp_path / "tile/1").iterdir()) == ["000", "001.p"]
    assert (tmp_path / "tile/1/001.p/17").stat().st_size == 17 * 32
    assert [p.relative_to(tmp_path).as_posix() for p in (tmp_path / "tile/2").rglob("*")] == [
        "tile/2/000.p",
        "tile/2/000.p/1",
    ]
    read = read_tiled_log(tmp_path, SIGNER.vkey)
    assert (read.size, read.root, read.entries, read.extra) == (70_000, root, entries, set())
    verified = verify_tiles(tmp_path, [SIGNER.verifier()])
    assert (verified.checkpoint.size, verified.checkpoint.root_hash, verified.log_id) == (
        70_000,
        root,
        LOG,
    )
    assert verified.files == 274 * 2 + 3 + 1  # bundles and level-0 tiles, levels 1–2, checkpoint


def test_a_tree_of_256_has_a_partial_level_1_tile_of_width_1(tmp_path: Path) -> None:
    # "a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile
    # of width 1."
    entries = leaves(256)
    root = write_log(tmp_path, entries)
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert files == ["checkpoint", "tile/0/000", "tile/1/000.p/1", "tile/entries/000"]
    assert (tmp_path / "tile/1/000.p/1").read_bytes() == root
    assert read_tiled_log(tmp_path, SIGNER.vkey).extra == set()


@pytest.mark.parametrize("size", [1, 2, 3, 7, 255, 256, 257, 511, 512, 513, 1000, 65_536])
def test_every_size_reads_back_as_the_spec_says(size: int, tmp_path: Path) -> None:
    entries = leaves(size)
    root = write_log(tmp_path, entries)
    assert root == mth([hashlib.sha256(b"\x00" + entry).digest() for entry in entries])
    read = read_tiled_log(tmp_path, SIGNER.vkey)
    assert (read.entries, read.extra) == (entries, set())
    assert verify_tiles(tmp_path, [SIGNER.verifier()], origin=ORIGIN).checkpoint.size == size


def test_an_empty_log_has_no_tiles_and_the_empty_root(tmp_path: Path) -> None:
    root = write_log(tmp_path, [])
    assert root == hashlib.sha256(b"").digest()
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint"]
    assert verify_tiles(tmp_path, [SIGNER.verifier()]).log_id == ""


def test_bundles_round_trip_and_refuse_what_a_uint16_cannot_hold() -> None:
    entries = [b"", b"a", bytes(300), bytes(MAX_ENTRY_SIZE)]
    bundle = encode_bundle(entries)
    assert bundle[:2] == b"\x00\x00" and bundle[2:5] == b"\x00\x01a"
    assert decode_bundle(bundle, 4) == entries
    with pytest.raises(ValueError, match="65536 bytes does not fit"):
        encode_bundle([bytes(MAX_ENTRY_SIZE + 1)])
    with pytest.raises(ValueError, match="65536 bytes does not fit"):
        TileWriter(lambda tile, data: None).append(bytes(MAX_ENTRY_SIZE + 1))
    with pytest.raises(TileError, match="bundle entry 4: the entry bundle ends inside an entry"):
        decode_bundle(bundle, 5)
    with pytest.raises(TileError, match="bytes after the last entry"):
        decode_bundle(bundle + b"\x00", 4)
    with pytest.raises(TileError, match="entry 3: the entry bundle ends inside an entry"):
        decode_bundle(bundle[:-1], 4)


def test_the_writer_is_finished_once() -> None:
    writer = TileWriter(lambda tile, data: None)
    writer.append(b"x")
    writer.finish()
    with pytest.raises(ValueError, match="finished"):
        writer.append(b"y")
    with pytest.raises(ValueError, match="finished"):
        writer.finish()


def test_partial_widths_must_add_up_to_the_size() -> None:
    with pytest.raises(ValueError, match="a tree of 3 leaves has 2 frontier hashes, got 1"):
        root_from_partial_tiles(3, [[bytes(32)]])


@pytest.fixture
def log_of_600(tmp_path: Path) -> Path:
    """Two full bundles and level-0 tiles, a partial one of 88, a partial level-1 tile of 2."""
    write_log(tmp_path, leaves(600))
    return tmp_path


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_changed_leaf_hash_is_named_by_its_tile_and_entry(log_of_600: Path) -> None:
    flip(log_of_600 / "tile/0/001", 5 * 32 + 31)
    with pytest.raises(TileError, match=r"tile/0/001 hash 5: .* leaf hash of entry 261"):
        verify_tiles(log_of_600, [SIGNER.verifier()])
    with pytest.raises(ReaderError, match="tile/0/001 differs"):
        read_tiled_log(log_of_600, SIGNER.vkey)


def test_a_changed_entry_is_named_by_the_tile_that_no_longer_matches(log_of_600: Path) -> None:
    # The last byte of an entry is the last byte of its payload digest: still a leaf.
    bundle = log_of_600 / "tile/entries/002.p/88"
    entries = decode_bundle(bundle.read_bytes(), 88)
    flip(bundle, sum(2 + len(entry) for entry in entries[:11]) - 1)
    with pytest.raises(TileError, match=r"tile/0/002\.p/88 hash 10: .* leaf hash of entry 522"):
        verify_tiles(log_of_600, [SIGNER.verifier()])


def test_a_changed_level_1_tile_is_named(log_of_600: Path) -> None:
    flip(log_of_600 / "tile/1/000.p/2", 32)
    with pytest.raises(TileError, match=r"tile/1/000\.p/2 hash 1: .* root of entries 256\.\.511"):
        verify_tiles(log_of_600, [SIGNER.verifier()])


def test_an_entry_and_its_tile_changed_together_break_the_level_above(log_of_600: Path) -> None:
    entries = leaves(600)
    entries[3] = entries[3][:-1] + bytes([entries[3][-1] ^ 1])
    forged = log_of_600 / "forged"
    write_log(forged, entries)
    for path in ("tile/entries/000", "tile/0/000"):
        (log_of_600 / path).write_bytes((forged / path).read_bytes())
    with pytest.raises(TileError, match=r"tile/1/000\.p/2 hash 0: .* root of entries 0\.\.255"):
        verify_tiles(log_of_600, [SIGNER.verifier()])


def test_every_tile_rewritten_leaves_the_root_unsigned(tmp_path: Path) -> None:
    entries = leaves(600)
    write_log(tmp_path, entries)
    signed = (tmp_path / "checkpoint").read_bytes()
    entries[599] = entries[599][:-1] + bytes([entries[599][-1] ^ 1])
    write_log(tmp_path, entries)
    (tmp_path / "checkpoint").write_bytes(signed)
    with pytest.raises(RootMismatchError, match="checkpoint: the root of the tiles is not the"):
        verify_tiles(tmp_path, [SIGNER.verifier()])


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("tile/entries/001", r"tile/entries/001: the file is missing"),
        ("tile/0/002.p/88", r"tile/0/002\.p/88: the file is missing"),
        ("tile/1/000.p/2", r"tile/1/000\.p/2: the file is missing"),
    ],
)
def test_a_missing_file_is_named(log_of_600: Path, path: str, message: str) -> None:
    (log_of_600 / path).unlink()
    with pytest.raises(TileError, match=message):
        verify_tiles(log_of_600, [SIGNER.verifier()])


def test_a_tile_of_the_wrong_size_is_named(log_of_600: Path) -> None:
    tile = log_of_600 / "tile/0/000"
    tile.write_bytes(tile.read_bytes() + bytes(32))
    with pytest.raises(TileError, match=r"tile/0/000: the tile has the wrong size .*8192 bytes"):
        verify_tiles(log_of_600, [SIGNER.verifier()])


def test_a_bundle_with_trailing_bytes_is_named(log_of_600: Path) -> None:
    bundle = log_of_600 / "tile/entries/000"
    bundle.write_bytes(bundle.read_bytes() + b"\x00\x00")
    with pytest.raises(TileError, match=r"tile/entries/000: bytes after the last entry"):
        verify_tiles(log_of_600, [SIGNER.verifier()])


def test_entries_out_of_place_are_named(tmp_path: Path) -> None:
    entries = leaves(10)
    entries[2], entries[3] = entries[3], entries[2]
    write_log(tmp_path, entries)  # a consistent, signed tree of misplaced leaves
    with pytest.raises(
        TileError, match=r"tile/entries/000\.p/10 entry 2 \(index 2\): the entry names another "
    ):
        verify_tiles(tmp_path, [SIGNER.verifier()])


def test_entries_that_are_not_leaves_are_named(tmp_path: Path) -> None:
    write_log(tmp_path, [b"EJL1", b"not a leaf"])
    with pytest.raises(TileError, match=r"000\.p/2 entry 0 \(index 0\): the entry is not an"):
        verify_tiles(tmp_path, [SIGNER.verifier()])


def test_entries_of_another_log_than_the_origin_are_refused(tmp_path: Path) -> None:
    write_log(tmp_path, leaves(3, log_id="school/other/2025-2026"))
    with pytest.raises(OriginMismatchError, match="entries are of another log"):
        verify_tiles(tmp_path, [SIGNER.verifier()])
    mixed = tmp_path / "mixed"
    write_log(mixed, [*leaves(1), *leaves(2, log_id="other")[1:]])
    with pytest.raises(TileError, match=r"entry 1 \(index 1\): the entry names another log"):
        verify_tiles(mixed, [SIGNER.verifier()])


def test_the_checkpoint_must_be_signed_by_a_trusted_key(log_of_600: Path) -> None:
    with pytest.raises(UnknownKeyError, match=r"^checkpoint: "):
        verify_tiles(log_of_600, [generate_signer("tiles.test").verifier()])
    checkpoint = log_of_600 / "checkpoint"
    checkpoint.write_text(checkpoint.read_text().replace("\n600\n", "\n599\n"))
    with pytest.raises(SignatureError, match=r"^checkpoint: "):
        verify_tiles(log_of_600, [SIGNER.verifier()])
    with pytest.raises(ReaderError, match="bad signature"):
        read_tiled_log(log_of_600, SIGNER.vkey)


def test_a_missing_checkpoint_or_another_origin_is_named(log_of_600: Path) -> None:
    with pytest.raises(OriginMismatchError, match=r"^checkpoint: checkpoint is from another log"):
        verify_tiles(log_of_600, [SIGNER.verifier()], origin="tiles.test/other")
    (log_of_600 / "checkpoint").unlink()
    with pytest.raises(TileError, match=r"^checkpoint: the file is missing"):
        verify_tiles(log_of_600, [SIGNER.verifier()])
