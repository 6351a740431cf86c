"""A log's static export in C2SP tlog-tiles form (``integrity.tiles``), from the database.

The export is of a log's latest signed checkpoint: its note as stored (signature lines included,
and the witnesses' cosignatures kept for it)
and the tiles and entry bundles of the entries it covers. The entries are streamed from the
database in index order and each leaf is recomputed from its row (as ``replay`` does), checked
against the stored leaf hash, and handed to a ``TileWriter``: one bundle and one tile at a time in
memory. The tiles' root must be the signed root, or nothing is published.

Files are written into a staging directory beside the target and moved into place only when the
whole log has verified, the checkpoint last: a mirror serving the target directory never shows a
checkpoint whose tiles are not all there, nor tiles of a log that failed. Files of an earlier
export stay (the full tiles of a log never change; partial tiles of an older size may be served).
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import uuid
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ejournal.integrity.checkpoint import open_checkpoint
from ejournal.integrity.errors import LeafMismatchError, MissingEntryError, RootMismatchError
from ejournal.integrity.leaf import LogLeafEncoder, leaf_hash
from ejournal.integrity.note import Verifier
from ejournal.integrity.tiles import CHECKPOINT_PATH, MAX_ENTRY_SIZE, Tile, TileWriter
from ejournal.ledger.checkpoints import StoredCheckpoint
from ejournal.ledger.cosignatures import cosigned_note, load_cosignatures
from ejournal.ledger.database import Database
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.replay import StoredValueError, uuid_bytes

_LEAF_COLUMNS = (
    "idx",
    "originator_id",
    "originator_version",
    "topic",
    "recorded_at",
    "actor_id",
    "actor_role",
    "credential_version",
    "session_id",
    "payload_sha256",
    "leaf_hash",
)
_UUID_COLUMNS = frozenset(("originator_id", "actor_id", "session_id"))
_UNREADABLE = (TypeError, ValueError, AttributeError, OverflowError, struct.error)
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_RESERVED = frozenset(("tile", CHECKPOINT_PATH))


class TilesExportError(LedgerError):
    """A log cannot be exported as tiles: no signed checkpoint, a log ID that is no directory
    path, or an entry too long for an entry bundle."""


@dataclass(frozen=True, slots=True)
class ExportedLog:
    """A log written as tiles."""

    log_id: str
    size: int
    root_hash: bytes
    directory: Path
    files: int
    """Tiles and bundles written, and the checkpoint."""


def log_directory(root: Path, log_id: str) -> Path:
    """Where the export of every log puts ``log_id``: its ID as a relative path under ``root``
    (``school/<uuid>/2025-2026``), as the origin names it after the deployment's prefix.

    Raises ``TilesExportError`` if a segment of the ID is not a plain name, or is ``tile`` or
    ``checkpoint`` (it would mix with another log's files).
    """
    segments = log_id.split("/")
    for segment in segments:
        if _SEGMENT.fullmatch(segment) is None or segment in _RESERVED:
            raise TilesExportError(f"log ID {log_id!r} cannot name a directory")
    return root.joinpath(*segments)


def _select(dialect: str) -> str:
    columns = ", ".join(
        f"uuid_send({name})" if dialect == "postgres" and name in _UUID_COLUMNS else name
        for name in _LEAF_COLUMNS
    )
    return f"SELECT {columns} FROM {EVENTS_TABLE} WHERE log_id = ? AND idx < ? ORDER BY idx"


class _Staging:
    """A directory beside ``target`` that the files are written to, then moved into it."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.folder = target.parent / f".{target.name}.export-{uuid.uuid4().hex[:12]}"
        self.files: list[str] = []
        self._made: set[Path] = set()

    def write(self, path: str, data: bytes) -> None:
        file = self.folder / path
        if file.parent not in self._made:
            file.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(file.parent)
        file.write_bytes(data)
        self.files.append(path)

    def write_tile(self, tile: Tile, data: bytes) -> None:
        self.write(tile.path, data)

    def publish(self) -> None:
        """Move every file into the target, the checkpoint last, and remove the staging."""
        made: set[Path] = set()
        for path in sorted(self.files, key=lambda path: path == CHECKPOINT_PATH):
            destination = self.target / path
            if destination.parent not in made:
                destination.parent.mkdir(parents=True, exist_ok=True)
                made.add(destination.parent)
            os.replace(self.folder / path, destination)
        self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def export_tiles(
    database: Database,
    checkpoint: StoredCheckpoint,
    directory: Path,
    *,
    verifiers: Sequence[Verifier],
    origin: str,
) -> ExportedLog:
    """Write the log of ``checkpoint`` as tiles into ``directory``: the checkpoint's note, and the
    tiles and bundles of its first ``checkpoint.size`` entries.

    ``verifiers`` are the keys the checkpoint may be signed by, ``origin`` the deployment's
    prefix. Raises the errors of ``open_checkpoint`` for a note that does not verify;
    ``MissingEntryError`` if an entry it covers is missing; ``LeafMismatchError`` if a row's
    recomputed leaf differs from its stored leaf hash (``StoredValueError`` for a column of the
    wrong type); ``RootMismatchError`` if the tiles' root is not the signed one;
    ``TilesExportError`` for an entry too long for a bundle; ``OSError`` writing. Nothing reaches
    ``directory`` unless the whole log verifies.
    """
    log_id = checkpoint.log_id
    where = f"log {log_id} checkpoint at size {checkpoint.size}"
    signed, _ = open_checkpoint(checkpoint.note, verifiers, origin=f"{origin}/{log_id}")
    staging = _Staging(directory)
    try:
        writer = TileWriter(staging.write_tile)
        to_bytes: Callable[[Any], bytes] = (
            bytes.fromhex if database.dialect == "sqlite" else uuid_bytes
        )
        with closing(database.stream(_select(database.dialect), (log_id, checkpoint.size))) as rows:
            _write_entries(log_id, rows, writer, to_bytes)
        if writer.size < checkpoint.size:
            raise MissingEntryError(
                "entries covered by the signed checkpoint are missing",
                expected=f"{checkpoint.size} entries",
                found=f"{writer.size} entries",
                where=f"log {log_id} index {writer.size}",
            )
        root = writer.finish()
        if root != signed.root_hash:
            raise RootMismatchError(
                "the entries' root is not the signed root",
                expected=signed.root_hash.hex(),
                found=root.hex(),
                where=where,
            )
        # The witnesses' cosignatures ride on the note, as on receipts and archives: a tiles
        # client that does not know a witness's key ignores its line.
        cosignatures = load_cosignatures(database, log_id)
        note = cosigned_note(checkpoint.note, log_id, checkpoint.size, cosignatures)
        staging.write(CHECKPOINT_PATH, note.encode("utf-8"))
        staging.publish()
    except BaseException:
        staging.discard()
        raise
    return ExportedLog(log_id, checkpoint.size, root, directory, len(staging.files))


def _write_entries(
    log_id: str, rows: Any, writer: TileWriter, to_bytes: Callable[[Any], bytes]
) -> None:
    """Recompute each row's leaf, check it against the stored leaf hash, and append it."""
    encode = LogLeafEncoder(log_id).encode
    index = 0
    try:
        for row in rows:
            index = writer.size
            (idx, originator, version, topic, recorded_at, actor, role, credential, session,
             digest, stored_hash) = row  # fmt: skip
            if idx != index:
                raise MissingEntryError(
                    "log index is not dense",
                    expected=f"index {index}",
                    found=f"index {idx}",
                    where=f"log {log_id} index {index}",
                )
            leaf = encode(
                idx,
                to_bytes(originator),
                version,
                topic,
                recorded_at,
                to_bytes(actor),
                role,
                credential,
                to_bytes(session),
                bytes(digest),
            )
            recomputed = leaf_hash(leaf)
            if recomputed != bytes(stored_hash):
                raise LeafMismatchError(
                    "the leaf recomputed from the stored row differs from the stored leaf hash",
                    expected=bytes(stored_hash).hex(),
                    found=recomputed.hex(),
                    where=f"log {log_id} index {index}",
                )
            if len(leaf) > MAX_ENTRY_SIZE:
                raise TilesExportError(
                    f"log {log_id} index {index}: a leaf of {len(leaf)} bytes does not fit an "
                    "entry bundle (at most 65,535)"
                )
            writer.append(leaf)
    except _UNREADABLE as e:  # a LeafFormatError is a ValueError
        raise StoredValueError(
            f"the stored row cannot be read as an entry: {e}", where=f"log {log_id} index {index}"
        ) from e
