"""School-year archives (I7): the log inside a BagIt bag, and its offline verification.

The payload of an archive bag (``data/``)::

    log/log.json             {"format": "ejournal-archive-log/1", "log_id", "origin", "size"}
    log/entries.csv          one row per entry, in index order (``ENTRY_COLUMNS``)
    log/checkpoints.jsonl    one signed checkpoint a line, in size order (``CHECKPOINT_FIELDS``)
    keys/checkpoint.vkeys    verifier keys of the deployment's checkpoint signers (C2SP vkeys)
    keys/signatories.vkeys   verifier keys of the people who certify documents
    documents/<name>.json    the data a certified document shows (canonical bytes)
    documents/<name>.certificate   its certificate (``integrity.certificate``), the QR's content
    documents/<name>.csv / .pdf    the same document for people: CSV and PDF/A

``entries.csv`` (RFC 4180, UTF-8, CRLF, a header row) holds, per entry, the columns of the stored
row: UUIDs in their canonical hyphenated form, ``recorded_at`` in microseconds since the epoch
(UTC), the three hashes in lowercase hex, and the payload bytes exactly as stored, in standard
base64 — empty when the payload was disposed of at the end of its retention period. The leaf
commits to the payload's digest only, so every leaf still verifies without it.

``verify_archive`` streams the entries (memory O(log n)) and checks, in order: the bag's manifests
(``integrity.bagit``), the format, each payload against its digest, each leaf against the stored
leaf hash, the hash chain, the Merkle root and chain head at every checkpoint, each checkpoint's
signature and origin, the consistency proof between consecutive checkpoints, that the last
checkpoint covers every entry, and each document against its certificate. Observers (the ledger's
summary-sheet recomputation, for one) see every entry and may raise at the end.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from ejournal.integrity.bagit import PAYLOAD_DIR, verify_bag
from ejournal.integrity.certificate import open_certificate, verify_document
from ejournal.integrity.checkpoint import Checkpoint, open_checkpoint
from ejournal.integrity.compact import CompactRange
from ejournal.integrity.errors import (
    ArchiveFormatError,
    ChainError,
    ConsistencyProofError,
    DocumentMismatchError,
    LeafMismatchError,
    MissingEntryError,
    RootMismatchError,
    VerificationError,
)
from ejournal.integrity.leaf import CHAIN_GENESIS, LEAF_HASH_PREFIX, LeafFormatError, LogLeafEncoder
from ejournal.integrity.note import Verifier
from ejournal.integrity.proof import verify_consistency

LOG_FORMAT = "ejournal-archive-log/1"
LOG_JSON = "log/log.json"
ENTRIES_CSV = "log/entries.csv"
CHECKPOINTS_JSONL = "log/checkpoints.jsonl"
CHECKPOINT_KEYS = "keys/checkpoint.vkeys"
SIGNATORY_KEYS = "keys/signatories.vkeys"
DOCUMENTS_DIR = "documents"

ENTRY_COLUMNS = (
    "index",
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
    "chain_hash",
    "payload",
)
"""The header of ``entries.csv``, in order."""

CHECKPOINT_FIELDS = ("size", "signed_at", "chain_head", "consistency_proof", "note")
"""The keys of each line of ``checkpoints.jsonl``: tree size, signing time (µs since the epoch),
chain hash after the last covered entry (hex), the RFC 9162 consistency proof from the previous
checkpoint (a list of hex hashes; empty for the first), and the signed note, verbatim."""

_sha256 = hashlib.sha256


@dataclass(frozen=True, slots=True)
class ArchiveEntry:
    """One entry of an archived log, as ``entries.csv`` holds it. ``payload`` is None when the
    payload was disposed of."""

    index: int
    originator_id: UUID
    originator_version: int
    topic: str
    recorded_at: int
    actor_id: UUID
    actor_role: str
    credential_version: int
    session_id: UUID
    payload_sha256: bytes
    leaf_hash: bytes
    chain_hash: bytes
    payload: bytes | None

    def csv_row(self) -> list[str]:
        """The row of ``entries.csv``. Raises nothing."""
        return [
            str(self.index),
            str(self.originator_id),
            str(self.originator_version),
            self.topic,
            str(self.recorded_at),
            str(self.actor_id),
            self.actor_role,
            str(self.credential_version),
            str(self.session_id),
            self.payload_sha256.hex(),
            self.leaf_hash.hex(),
            self.chain_hash.hex(),
            "" if self.payload is None else base64.b64encode(self.payload).decode("ascii"),
        ]


@dataclass(frozen=True, slots=True)
class ArchivedCheckpoint:
    """One line of ``checkpoints.jsonl``."""

    size: int
    signed_at: int
    chain_head: bytes
    consistency_proof: tuple[bytes, ...]
    note: str

    def json_line(self) -> bytes:
        """The line of ``checkpoints.jsonl``, newline included. Raises nothing."""
        record = {
            "size": self.size,
            "signed_at": self.signed_at,
            "chain_head": self.chain_head.hex(),
            "consistency_proof": [item.hex() for item in self.consistency_proof],
            "note": self.note,
        }
        return json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n"


def write_entries_header(stream: io.TextIOBase | Any) -> Any:
    """A ``csv.writer`` on ``stream`` that has written the header of ``entries.csv``."""
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(ENTRY_COLUMNS)
    return writer


def read_vkeys(text: str, *, where: str) -> list[Verifier]:
    """Verifier keys, one a line; blank lines and ``#`` comments are skipped.

    Raises ``MalformedVerifierKeyError`` (naming the line) for a malformed key.
    """
    verifiers = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            verifiers.append(Verifier.from_vkey(line))
        except VerificationError as e:
            raise type(e)(
                e.message, expected=e.expected, found=e.found, where=f"{where} line {number}"
            ) from e
    return verifiers


# --- reading -------------------------------------------------------------------------------------


def _fail(message: str, where: str, **details: str) -> ArchiveFormatError:
    return ArchiveFormatError(message, where=where, **details)


def _hash(text: str, name: str, where: str) -> bytes:
    if len(text) != 64 or text != text.lower():
        raise _fail(f"{name} is not 64 lowercase hex digits", where, found=repr(text[:70]))
    try:
        return bytes.fromhex(text)
    except ValueError as e:
        raise _fail(f"{name} is not hex", where) from e


def _uuid(text: str, name: str, where: str) -> UUID:
    try:
        value = UUID(text)
    except ValueError as e:
        raise _fail(f"{name} is not a UUID", where, found=repr(text[:40])) from e
    if str(value) != text:
        raise _fail(f"{name} is not a canonical UUID", where, found=repr(text))
    return value


def _integer(text: str, name: str, where: str) -> int:
    if not text or not (text.isdigit() or (text[0] == "-" and text[1:].isdigit())):
        raise _fail(f"{name} is not an integer", where, found=repr(text[:30]))
    if str(int(text)) != text:
        raise _fail(f"{name} is not a canonical integer", where, found=repr(text))
    return int(text)


def _entry(row: list[str], where: str) -> ArchiveEntry:
    if len(row) != len(ENTRY_COLUMNS):
        raise _fail(
            "wrong number of columns",
            where,
            expected=str(len(ENTRY_COLUMNS)),
            found=str(len(row)),
        )
    (index, originator, version, topic, recorded_at, actor, role, credential, session, digest,
     leaf_hash, chain_hash, payload) = row  # fmt: skip
    payload_bytes: bytes | None = None
    if payload:
        try:
            payload_bytes = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as e:
            raise _fail("payload is not base64", where) from e
        if base64.b64encode(payload_bytes).decode("ascii") != payload:
            raise _fail("payload is not canonical base64", where)
    return ArchiveEntry(
        index=_integer(index, "index", where),
        originator_id=_uuid(originator, "originator_id", where),
        originator_version=_integer(version, "originator_version", where),
        topic=topic,
        recorded_at=_integer(recorded_at, "recorded_at", where),
        actor_id=_uuid(actor, "actor_id", where),
        actor_role=role,
        credential_version=_integer(credential, "credential_version", where),
        session_id=_uuid(session, "session_id", where),
        payload_sha256=_hash(digest, "payload_sha256", where),
        leaf_hash=_hash(leaf_hash, "leaf_hash", where),
        chain_hash=_hash(chain_hash, "chain_hash", where),
        payload=payload_bytes,
    )


def read_entries(
    path: Path, *, name: str = f"{PAYLOAD_DIR}/{ENTRIES_CSV}"
) -> Iterator[ArchiveEntry]:
    """Stream the entries of ``entries.csv``, parsed but not verified.

    Raises ``ArchiveFormatError`` (``where`` is the file and line) for a wrong header, a row with
    the wrong number of columns, or a value not in its canonical form; ``OSError`` if unreadable.
    """
    with path.open("r", encoding="utf-8", newline="") as stream:
        rows = csv.reader(stream, strict=True)
        try:
            header = next(rows, None)
            if header is None or tuple(header) != ENTRY_COLUMNS:
                raise _fail(
                    "entries header differs",
                    f"{name} line 1",
                    expected=",".join(ENTRY_COLUMNS),
                    found=",".join(header or [])[:200],
                )
            for row in rows:
                yield _entry(row, f"{name} line {rows.line_num}")
        except (csv.Error, UnicodeDecodeError) as e:
            raise _fail(f"not a well-formed CSV file: {e}", name) from e


def read_checkpoints(
    path: Path, *, name: str = f"{PAYLOAD_DIR}/{CHECKPOINTS_JSONL}"
) -> list[ArchivedCheckpoint]:
    """The lines of ``checkpoints.jsonl``, parsed but not verified, in file order.

    Raises ``ArchiveFormatError`` for a line that is not a JSON object with exactly
    ``CHECKPOINT_FIELDS``, or whose values have the wrong type or form.
    """
    checkpoints = []
    with path.open("rb") as stream:
        for number, line in enumerate(stream, 1):
            where = f"{name} line {number}"
            try:
                record = json.loads(line)
            except ValueError as e:
                raise _fail(f"not JSON: {e}", where) from e
            if not isinstance(record, dict) or set(record) != set(CHECKPOINT_FIELDS):
                raise _fail("wrong fields", where, expected=", ".join(CHECKPOINT_FIELDS))
            size, signed_at, chain_head = record["size"], record["signed_at"], record["chain_head"]
            proof, note = record["consistency_proof"], record["note"]
            if not (isinstance(size, int) and isinstance(signed_at, int)) or isinstance(size, bool):
                raise _fail("size and signed_at must be integers", where)
            if not isinstance(note, str) or not isinstance(chain_head, str):
                raise _fail("note and chain_head must be strings", where)
            if not isinstance(proof, list) or not all(isinstance(item, str) for item in proof):
                raise _fail("consistency_proof must be a list of hex strings", where)
            checkpoints.append(
                ArchivedCheckpoint(
                    size=size,
                    signed_at=signed_at,
                    chain_head=_hash(chain_head, "chain_head", where),
                    consistency_proof=tuple(_hash(item, "proof hash", where) for item in proof),
                    note=note,
                )
            )
    return checkpoints


@dataclass(frozen=True, slots=True)
class LogHeader:
    """``log.json``: which log the archive holds, under which checkpoint origin, and how many
    entries."""

    log_id: str
    origin: str
    size: int

    def json_bytes(self) -> bytes:
        """The content of ``log.json``. Raises nothing."""
        record = {"format": LOG_FORMAT, "log_id": self.log_id, "origin": self.origin}
        record["size"] = self.size  # type: ignore[assignment]
        return json.dumps(record, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


def read_log_header(root: Path) -> LogHeader:
    """Parse ``data/log/log.json``. Raises ``ArchiveFormatError``."""
    where = f"{PAYLOAD_DIR}/{LOG_JSON}"
    try:
        record = json.loads((root / PAYLOAD_DIR / LOG_JSON).read_bytes())
    except OSError as e:
        raise _fail("log header is missing", where) from e
    except ValueError as e:
        raise _fail(f"log header is not JSON: {e}", where) from e
    if not isinstance(record, dict) or record.get("format") != LOG_FORMAT:
        raise _fail("not an archived log header", where, expected=LOG_FORMAT)
    log_id, origin, size = record.get("log_id"), record.get("origin"), record.get("size")
    if not isinstance(log_id, str) or not isinstance(origin, str) or not isinstance(size, int):
        raise _fail("log_id, origin and size are required", where)
    return LogHeader(log_id=log_id, origin=origin, size=size)


# --- verification --------------------------------------------------------------------------------


class ArchiveObserver(Protocol):
    """Sees every entry of a verified archive, in order, and judges what it saw at the end."""

    def observe(self, entry: ArchiveEntry) -> None:
        """Called once per entry, after its leaf and chain hash verified. May raise a
        ``VerificationError``."""

    def finish(self, root: Path, report: ArchiveReport) -> None:
        """Called once after every entry and checkpoint verified. May raise a
        ``VerificationError``."""


@dataclass(slots=True)
class ArchiveReport:
    """What verification established about an archive."""

    log_id: str = ""
    origin: str = ""
    entries: int = 0
    disposed_payloads: int = 0
    checkpoints: int = 0
    root: bytes = b""
    chain_head: bytes = CHAIN_GENESIS
    keys_source: str = ""
    payload_files: int = 0
    documents: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    """What was checked, in order, for people."""

    def to_json(self) -> dict[str, object]:
        """A JSON-ready summary. Raises nothing."""
        return {
            "ok": True,
            "log_id": self.log_id,
            "origin": self.origin,
            "entries": self.entries,
            "disposed_payloads": self.disposed_payloads,
            "checkpoints": self.checkpoints,
            "root": self.root.hex(),
            "chain_head": self.chain_head.hex(),
            "trusted_keys": self.keys_source,
            "payload_files": self.payload_files,
            "documents": list(self.documents),
            "checks": list(self.checks),
        }


class _Replay:
    """Recomputes leaves, the chain and the tree of an archived log."""

    def __init__(self, log_id: str, where: str) -> None:
        self.encoder = LogLeafEncoder(log_id)
        self.tree = CompactRange()
        self.chain = CHAIN_GENESIS
        self.where = where

    def feed(self, entry: ArchiveEntry) -> None:
        index = self.tree.size
        where = f"{self.where} index {entry.index}"
        if entry.index != index:
            raise MissingEntryError(
                "log index is not dense", expected=f"index {index}", found=f"index {entry.index}",
                where=f"{self.where} index {index}",
            )  # fmt: skip
        if entry.payload is not None:
            digest = _sha256(entry.payload).digest()
            if digest != entry.payload_sha256:
                raise LeafMismatchError(
                    "payload bytes differ from the digest in the leaf",
                    expected=entry.payload_sha256.hex(),
                    found=digest.hex(),
                    where=where,
                )
        try:
            leaf = self.encoder.encode(
                entry.index,
                entry.originator_id.bytes,
                entry.originator_version,
                entry.topic,
                entry.recorded_at,
                entry.actor_id.bytes,
                entry.actor_role,
                entry.credential_version,
                entry.session_id.bytes,
                entry.payload_sha256,
            )
        except LeafFormatError as e:
            raise ArchiveFormatError(f"entry cannot be encoded as a leaf: {e}", where=where) from e
        leaf_hash = _sha256(LEAF_HASH_PREFIX + leaf).digest()
        if leaf_hash != entry.leaf_hash:
            raise LeafMismatchError(
                "the leaf recomputed from the entry differs from its leaf hash "
                "(identity, topic, time, actor or payload digest changed)",
                expected=entry.leaf_hash.hex(),
                found=leaf_hash.hex(),
                where=where,
            )
        chain = _sha256(self.chain + leaf_hash).digest()
        if chain != entry.chain_hash:
            raise ChainError(
                "chain hash differs",
                expected=chain.hex(),
                found=entry.chain_hash.hex(),
                where=where,
            )
        self.chain = chain
        self.tree.append(leaf_hash)


class _Checkpoints:
    """Checks each archived checkpoint when the replay reaches its size."""

    def __init__(
        self, checkpoints: Sequence[ArchivedCheckpoint], verifiers: Sequence[Verifier], origin: str
    ) -> None:
        self.pending = list(checkpoints)
        self.verifiers = verifiers
        self.origin = origin
        self.verified: list[Checkpoint] = []
        self.previous: Checkpoint | None = None
        self.name = f"{PAYLOAD_DIR}/{CHECKPOINTS_JSONL}"

    def opened(self) -> list[tuple[ArchivedCheckpoint, Checkpoint]]:
        """Open every note first: a bad signature is reported before any entry is replayed."""
        opened = []
        last = 0
        for number, archived in enumerate(self.pending, 1):
            where = f"{self.name} line {number} (size {archived.size})"
            try:
                checkpoint, _ = open_checkpoint(archived.note, self.verifiers, origin=self.origin)
            except VerificationError as e:
                raise type(e)(e.message, expected=e.expected, found=e.found, where=where) from e
            if checkpoint.size != archived.size:
                raise RootMismatchError(
                    "the signed size differs from the line's size",
                    expected=str(archived.size),
                    found=str(checkpoint.size),
                    where=where,
                )
            if archived.size <= last:
                raise ArchiveFormatError(
                    "checkpoints are not in increasing size order",
                    expected=f"size above {last}",
                    found=str(archived.size),
                    where=where,
                )
            last = archived.size
            opened.append((archived, checkpoint))
        return opened

    @staticmethod
    def check(
        number: int,
        archived: ArchivedCheckpoint,
        checkpoint: Checkpoint,
        replay: _Replay,
        previous: Checkpoint | None,
        name: str,
    ) -> None:
        where = f"{name} line {number} (size {archived.size})"
        root = replay.tree.root()
        if checkpoint.root_hash != root:
            raise RootMismatchError(
                "the signed root differs from the root of the entries",
                expected=root.hex(),
                found=checkpoint.root_hash.hex(),
                where=where,
            )
        if archived.chain_head != replay.chain:
            raise ChainError(
                "the checkpoint's chain head differs from the entries' chain",
                expected=replay.chain.hex(),
                found=archived.chain_head.hex(),
                where=where,
            )
        if previous is None:
            if archived.consistency_proof:
                raise ConsistencyProofError(
                    "the first checkpoint has a consistency proof", where=where
                )
            return
        try:
            verify_consistency(
                size1=previous.size,
                size2=checkpoint.size,
                proof=list(archived.consistency_proof),
                root1=previous.root_hash,
                root2=checkpoint.root_hash,
            )
        except ConsistencyProofError as e:
            raise ConsistencyProofError(
                e.message, expected=e.expected, found=e.found, where=where
            ) from e


def _keys(root: Path, verifiers: Sequence[Verifier] | None) -> tuple[list[Verifier], str]:
    path = root / PAYLOAD_DIR / CHECKPOINT_KEYS
    if not path.is_file():
        raise ArchiveFormatError("checkpoint verifier keys are missing", where=str(CHECKPOINT_KEYS))
    bag_keys = read_vkeys(path.read_text("utf-8"), where=f"{PAYLOAD_DIR}/{CHECKPOINT_KEYS}")
    if verifiers is not None:
        return list(verifiers), "given keys (independent of the archive)"
    return bag_keys, "the archive's own keys (not independent: pass trusted keys)"


def signatory_verifiers(root: Path, given: Sequence[Verifier] | None = None) -> list[Verifier]:
    """The keys documents are certified with: ``given``, else the archive's own list.

    Raises ``ArchiveFormatError`` if neither is there, ``MalformedVerifierKeyError`` for a bad key.
    """
    if given is not None:
        return list(given)
    path = root / PAYLOAD_DIR / SIGNATORY_KEYS
    if not path.is_file():
        raise ArchiveFormatError(
            "signatory keys are missing", where=f"{PAYLOAD_DIR}/{SIGNATORY_KEYS}"
        )
    return read_vkeys(path.read_text("utf-8"), where=f"{PAYLOAD_DIR}/{SIGNATORY_KEYS}")


def _check_documents(
    root: Path,
    signatories: Sequence[Verifier],
    checkpoints: Sequence[Checkpoint],
    report: ArchiveReport,
) -> None:
    directory = root / PAYLOAD_DIR / DOCUMENTS_DIR
    if not directory.is_dir():
        return
    signed = {(c.origin, c.size, c.root_hash) for c in checkpoints}
    names = sorted({path.name.split(".")[0] for path in directory.iterdir()})
    for name in names:
        base = f"{PAYLOAD_DIR}/{DOCUMENTS_DIR}/{name}"
        certificate_path = directory / f"{name}.certificate"
        document_path = directory / f"{name}.json"
        if not certificate_path.is_file() or not document_path.is_file():
            raise ArchiveFormatError(
                "a document needs both its data (.json) and its certificate (.certificate)",
                where=base,
            )
        try:
            certificate, _ = open_certificate(certificate_path.read_bytes(), signatories)
        except VerificationError as e:
            raise type(e)(
                e.message, expected=e.expected, found=e.found, where=f"{base}.certificate"
            ) from e
        verify_document(certificate, document_path.read_bytes(), where=f"{base}.json")
        if (certificate.origin, certificate.size, certificate.root_hash) not in signed:
            raise DocumentMismatchError(
                "the certificate rests on a checkpoint that is not in the archive",
                found=f"{certificate.origin} size {certificate.size}",
                where=f"{base}.certificate",
            )
        report.documents.append(name)


def certificates(root: Path) -> Iterator[tuple[str, str]]:
    """(name, signed note) of every document certificate in the archive. Raises ``OSError``."""
    directory = root / PAYLOAD_DIR / DOCUMENTS_DIR
    if directory.is_dir():
        for path in sorted(directory.glob("*.certificate")):
            yield path.name.removesuffix(".certificate"), path.read_text("utf-8")


def verify_archive(
    root: Path,
    *,
    verifiers: Sequence[Verifier] | None = None,
    signatories: Sequence[Verifier] | None = None,
    observers: Iterable[ArchiveObserver] = (),
    progress: Callable[[int, int], None] | None = None,
) -> ArchiveReport:
    """Verify an archive bag offline: manifests, entries, chain, checkpoints, documents.

    ``verifiers`` are the trusted checkpoint keys (default: the archive's own, reported as not
    independent); ``signatories`` the trusted certifying keys (default: the archive's own).
    ``progress(entries done, entries in the log)`` is called as the entries stream.

    Raises ``ManifestError`` (a file changed, missing or added), ``ArchiveFormatError``,
    ``LeafMismatchError`` (a payload byte, or an entry's column changed), ``ChainError``,
    ``MissingEntryError``, ``RootMismatchError`` (a checkpoint that does not match the entries),
    the signature errors of ``open_checkpoint`` (``SignatureError``, ``UnknownKeyError``,
    ``MalformedNoteError``, ``MalformedCheckpointError``, ``OriginMismatchError``),
    ``ConsistencyProofError``, ``DocumentMismatchError``, ``MalformedCertificateError``, and what
    the observers raise.
    """
    observers = list(observers)
    report = ArchiveReport()
    bag = verify_bag(root)
    report.payload_files = bag.payload_files
    report.checks.append("bag: BagIt 1.0 declaration, tag and payload manifests, Payload-Oxum")
    for required in (LOG_JSON, ENTRIES_CSV, CHECKPOINTS_JSONL, CHECKPOINT_KEYS):
        if not (root / PAYLOAD_DIR / required).is_file():
            raise ArchiveFormatError(
                "a required file of the archive is missing", where=f"{PAYLOAD_DIR}/{required}"
            )
    header = read_log_header(root)
    report.log_id, report.origin = header.log_id, header.origin
    trusted, report.keys_source = _keys(root, verifiers)
    plan = _Checkpoints(
        read_checkpoints(root / PAYLOAD_DIR / CHECKPOINTS_JSONL), trusted, header.origin
    )
    opened = plan.opened()
    report.checks.append(f"checkpoints: {len(opened)} signed notes open with the trusted keys")
    if not opened:
        raise ArchiveFormatError("the archive has no signed checkpoint", where=plan.name)
    final = opened[-1][0].size
    if header.size != final:
        raise ArchiveFormatError(
            "log.json size differs from the final checkpoint",
            expected=str(final),
            found=str(header.size),
            where=f"{PAYLOAD_DIR}/{LOG_JSON}",
        )
    replay = _Replay(header.log_id, f"log {header.log_id}")
    queue = iter(enumerate(opened, 1))
    upcoming = next(queue, None)
    previous: Checkpoint | None = None
    for entry in read_entries(root / PAYLOAD_DIR / ENTRIES_CSV):
        if replay.tree.size >= final:
            raise ArchiveFormatError(
                "entries after the final checkpoint are not covered by a signature",
                expected=f"{final} entries",
                found=f"entry {entry.index}",
                where=f"{PAYLOAD_DIR}/{ENTRIES_CSV}",
            )
        replay.feed(entry)
        if entry.payload is None:
            report.disposed_payloads += 1
        for observer in observers:
            observer.observe(entry)
        while upcoming is not None and upcoming[1][0].size == replay.tree.size:
            number, (archived, checkpoint) = upcoming
            _Checkpoints.check(number, archived, checkpoint, replay, previous, plan.name)
            previous = checkpoint
            upcoming = next(queue, None)
        if progress is not None and (replay.tree.size % 4096 == 0 or replay.tree.size == final):
            progress(replay.tree.size, final)
    if upcoming is not None:
        raise MissingEntryError(
            "entries covered by a signed checkpoint are missing (the log was truncated)",
            expected=f"{upcoming[1][0].size} entries",
            found=f"{replay.tree.size} entries",
            where=f"log {header.log_id} index {replay.tree.size}",
        )
    report.entries = replay.tree.size
    report.checkpoints = len(opened)
    report.root = replay.tree.root()
    report.chain_head = replay.chain
    report.checks.append(
        f"entries: {report.entries} payload digests, leaves, chain; roots and chain heads at every "
        "checkpoint; consistency between consecutive checkpoints"
    )
    _check_documents(root, signatory_verifiers(root, signatories), [c for _, c in opened], report)
    report.checks.append(f"documents: {len(report.documents)} certificates and their data")
    for observer in observers:
        observer.finish(root, report)
    return report
