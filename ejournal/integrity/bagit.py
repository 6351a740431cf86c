"""BagIt 1.0 (RFC 8493): a writer and a strict, streaming validator, with SHA-256 manifests.

A bag is a directory::

    bagit.txt                 "BagIt-Version: 1.0" and "Tag-File-Character-Encoding: UTF-8"
    bag-info.txt              "Label: value" lines (Bagging-Date, Payload-Oxum, …)
    manifest-sha256.txt       "<sha256 hex> <path>" for every file under data/
    tagmanifest-sha256.txt    the same for every tag file (all files outside data/ but itself)
    data/…                    the payload

The validator is stricter than the RFC requires, because a bag here is evidence: every file outside
``data/`` must be listed in the tag manifest (so an added tag file is found too), symbolic links are
refused, and ``Payload-Oxum`` must match. Files are hashed in chunks, so memory stays flat whatever
their size. Every failure is a ``ManifestError`` whose ``where`` is the file's path in the bag.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import BinaryIO

from ejournal.integrity.errors import ManifestError

BAGIT_VERSION = "1.0"
BAGIT_TXT = "bagit.txt"
BAG_INFO_TXT = "bag-info.txt"
PAYLOAD_MANIFEST = "manifest-sha256.txt"
TAG_MANIFEST = "tagmanifest-sha256.txt"
PAYLOAD_DIR = "data"
BAGIT_DECLARATION = f"BagIt-Version: {BAGIT_VERSION}\nTag-File-Character-Encoding: UTF-8\n"
"""The exact content of ``bagit.txt`` that this module writes and accepts."""

_CHUNK = 1 << 20
_HEX64 = re.compile(r"[0-9a-f]{64}")
_INFO_LABEL = re.compile(r"[^:\s][^:]*")


def encode_path(path: str) -> str:
    """A manifest path as RFC 8493 §2.1.3 writes it: ``%``, CR and LF percent-encoded.

    Raises nothing.
    """
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def decode_path(text: str) -> str:
    """The inverse of ``encode_path`` (case-insensitive hex digits). Raises nothing."""
    return re.sub(
        r"%(25|0[dD]|0[aA])",
        lambda m: {"25": "%", "0d": "\r", "0a": "\n"}[m.group(1).lower()],
        text,
    )


def sha256_file(path: Path) -> tuple[str, int]:
    """The SHA-256 (hex) and size of a file, read in chunks. Raises ``OSError``."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


class _HashingWriter:
    """A binary file being written into a bag, hashed as it goes."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        self.size += len(data)
        return self._stream.write(data)

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


class BagWriter:
    """Writes a bag into ``root``, which must not exist yet.

    Files go into ``<root>.partial`` first and the directory is renamed to ``root`` by ``finish``:
    a bag that exists is complete. ``abort`` removes the partial directory.
    """

    def __init__(self, root: Path) -> None:
        """Raises ``FileExistsError`` if ``root`` or its partial directory exists."""
        self.root = root
        self._partial = root.with_name(root.name + ".partial")
        if root.exists() or self._partial.exists():
            raise FileExistsError(f"{root} (or {self._partial.name}) already exists")
        (self._partial / PAYLOAD_DIR).mkdir(parents=True)
        self._payload: dict[str, str] = {}
        self._tags: dict[str, str] = {}
        self._octets = 0

    def _target(self, relative: str) -> Path:
        parts = Path(relative).parts
        if not parts or relative.startswith("/") or ".." in parts or "\\" in relative:
            raise ValueError(f"invalid path in bag: {relative!r}")
        target = self._partial.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    @contextmanager
    def open_payload(self, relative: str) -> Iterator[_HashingWriter]:
        """Write ``data/<relative>`` in pieces; it is hashed as it is written.

        Raises ``ValueError`` for an absolute path, ``..`` or a path already written.
        """
        if relative in self._payload:
            raise ValueError(f"payload file {relative!r} written twice")
        with self._target(f"{PAYLOAD_DIR}/{relative}").open("xb") as stream:
            writer = _HashingWriter(stream)
            yield writer
        self._payload[relative] = writer.hexdigest()
        self._octets += writer.size

    def add_payload(self, relative: str, data: bytes) -> str:
        """Write ``data/<relative>`` and return its SHA-256 (hex). Raises ``ValueError`` as
        ``open_payload`` does."""
        with self.open_payload(relative) as stream:
            stream.write(data)
        return self._payload[relative]

    def add_tag_file(self, relative: str, data: bytes) -> None:
        """Write a tag file (outside ``data/``); the tag manifest will list it.

        Raises ``ValueError`` for a reserved name or a path inside ``data/``.
        """
        reserved = {BAGIT_TXT, BAG_INFO_TXT, PAYLOAD_MANIFEST, TAG_MANIFEST}
        if relative in reserved or relative.split("/")[0] == PAYLOAD_DIR:
            raise ValueError(f"{relative!r} is not a free tag file name")
        self._target(relative).write_bytes(data)
        self._tags[relative] = hashlib.sha256(data).hexdigest()

    def finish(self, info: Sequence[tuple[str, str]], *, bagging_date: date) -> Path:
        """Write ``bagit.txt``, ``bag-info.txt`` (``info`` then ``Bagging-Date`` and
        ``Payload-Oxum``), both manifests, and move the bag into place; returns its root.

        Raises ``ValueError`` if a label or value cannot be written on one line.
        """
        lines = [*info, ("Bagging-Date", bagging_date.isoformat())]
        lines.append(("Payload-Oxum", f"{self._octets}.{len(self._payload)}"))
        for label, value in lines:
            if not _INFO_LABEL.fullmatch(label) or label != label.strip():
                raise ValueError(f"invalid bag-info label {label!r}")
            if "\n" in value or "\r" in value:
                raise ValueError(f"bag-info value of {label} spans lines")
        self._write_tag(BAGIT_TXT, BAGIT_DECLARATION.encode("utf-8"))
        self._write_tag(
            BAG_INFO_TXT, "".join(f"{label}: {value}\n" for label, value in lines).encode()
        )
        manifest = "".join(
            f"{digest}  {PAYLOAD_DIR}/{encode_path(path)}\n"
            for path, digest in sorted(self._payload.items())
        )
        self._write_tag(PAYLOAD_MANIFEST, manifest.encode("utf-8"))
        tag_manifest = "".join(
            f"{digest}  {encode_path(path)}\n" for path, digest in sorted(self._tags.items())
        )
        (self._partial / TAG_MANIFEST).write_bytes(tag_manifest.encode("utf-8"))
        self._partial.rename(self.root)
        return self.root

    def _write_tag(self, relative: str, data: bytes) -> None:
        (self._partial / relative).write_bytes(data)
        self._tags[relative] = hashlib.sha256(data).hexdigest()

    def abort(self) -> None:
        """Remove everything written so far. Raises nothing."""
        shutil.rmtree(self._partial, ignore_errors=True)


# --- validation ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BagReport:
    """What a valid bag holds: its bag-info lines and the size of its payload."""

    info: tuple[tuple[str, str], ...]
    payload_files: int
    payload_octets: int

    def info_value(self, label: str) -> str | None:
        """The first value of ``label`` (case-insensitive), if present. Raises nothing."""
        wanted = label.lower()
        return next((value for name, value in self.info if name.lower() == wanted), None)


def _read_text(root: Path, relative: str) -> str:
    path = root / relative
    if path.is_symlink() or not path.is_file():
        raise ManifestError("required tag file is missing", where=relative)
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise ManifestError(f"not UTF-8: {e.reason}", where=relative) from e


def read_bag_info(root: Path) -> tuple[tuple[str, str], ...]:
    """The labels and values of ``bag-info.txt``, folded lines joined, in order.

    Raises ``ManifestError`` if the file is missing, not UTF-8, or a line is not ``Label: value``.
    """
    text = _read_text(root, BAG_INFO_TXT)
    info: list[tuple[str, str]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if line[:1] in (" ", "\t") and info:
            label, value = info[-1]
            info[-1] = (label, f"{value} {line.strip()}")
            continue
        label, colon, value = line.partition(":")
        if not colon or not _INFO_LABEL.fullmatch(label.strip()):
            raise ManifestError("line is not 'Label: value'", where=f"{BAG_INFO_TXT} line {number}")
        info.append((label.strip(), value.strip()))
    return tuple(info)


def _read_manifest(root: Path, relative: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    for number, line in enumerate(_read_text(root, relative).splitlines(), 1):
        digest, _, path = line.partition(" ")
        path = decode_path(path.lstrip(" \t"))
        where = f"{relative} line {number}"
        if not _HEX64.fullmatch(digest.lower()) or not path:
            raise ManifestError("line is not '<sha256> <path>'", where=where)
        parts = path.split("/")
        if path.startswith("/") or ".." in parts or "" in parts or "\\" in path:
            raise ManifestError(f"path {path!r} leaves the bag or is not normalised", where=where)
        if path in entries:
            raise ManifestError(f"{path} is listed twice", where=where)
        entries[path] = digest.lower()
    return entries


def _files_under(root: Path, directory: Path) -> Iterator[str]:
    for current, dirnames, filenames in os.walk(directory, followlinks=False):
        base = Path(current)
        for name in sorted(dirnames):
            if (base / name).is_symlink():
                raise ManifestError(
                    "symbolic links are not allowed in a bag",
                    where=(base / name).relative_to(root).as_posix(),
                )
        dirnames.sort()
        for name in sorted(filenames):
            path = base / name
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                raise ManifestError("symbolic links are not allowed in a bag", where=relative)
            yield relative


def _check_files(
    root: Path,
    listed: dict[str, str],
    present: set[str],
    progress: Callable[[int], None] | None,
) -> int:
    octets = 0
    for relative in sorted(listed):
        if relative not in present:
            raise ManifestError(
                "file listed in the manifest is missing", expected=listed[relative], where=relative
            )
        digest, size = sha256_file(root / relative)
        octets += size
        if progress is not None:
            progress(size)
        if digest != listed[relative]:
            raise ManifestError(
                "file content differs from the manifest (changed)",
                expected=listed[relative],
                found=digest,
                where=relative,
            )
    return octets


def verify_bag(root: Path, *, progress: Callable[[int], None] | None = None) -> BagReport:
    """Validate a BagIt 1.0 bag with SHA-256 manifests: the declaration, every tag file against
    the tag manifest, every payload file against the payload manifest, that no file is present
    that a manifest does not list, and ``Payload-Oxum``. Calls ``progress(bytes hashed)`` per file.

    Raises ``ManifestError`` naming the first file that is missing, added, changed or malformed.
    """
    if not root.is_dir():
        raise ManifestError("bag directory does not exist", where=str(root))
    declaration = _read_text(root, BAGIT_TXT)
    if declaration.replace("\r\n", "\n") != BAGIT_DECLARATION:
        raise ManifestError(
            "not a BagIt 1.0 declaration with UTF-8 tag files",
            expected=repr(BAGIT_DECLARATION),
            found=repr(declaration[:120]),
            where=BAGIT_TXT,
        )
    all_files = set(_files_under(root, root))
    payload = {path for path in all_files if path.startswith(f"{PAYLOAD_DIR}/")}
    tags = all_files - payload - {TAG_MANIFEST}
    tag_manifest = _read_manifest(root, TAG_MANIFEST)
    for relative in sorted(tags):
        if relative not in tag_manifest:
            raise ManifestError("file is not listed in the tag manifest (added)", where=relative)
    for relative in tag_manifest:
        if relative.startswith(f"{PAYLOAD_DIR}/") or relative == TAG_MANIFEST:
            raise ManifestError("tag manifest lists a payload file or itself", where=relative)
    for required in (BAG_INFO_TXT, PAYLOAD_MANIFEST, BAGIT_TXT):
        if required not in tag_manifest:
            raise ManifestError("tag manifest does not cover a required tag file", where=required)
    _check_files(root, tag_manifest, tags, None)
    manifest = _read_manifest(root, PAYLOAD_MANIFEST)
    for relative in sorted(payload):
        if relative not in manifest:
            raise ManifestError(
                "file is not listed in the payload manifest (added)", where=relative
            )
    for relative in manifest:
        if not relative.startswith(f"{PAYLOAD_DIR}/"):
            raise ManifestError("payload manifest lists a file outside data/", where=relative)
    octets = _check_files(root, manifest, payload, progress)
    info = read_bag_info(root)
    report = BagReport(info=info, payload_files=len(manifest), payload_octets=octets)
    oxum = report.info_value("Payload-Oxum")
    actual = f"{octets}.{len(manifest)}"
    if oxum is not None and oxum != actual:
        raise ManifestError(
            "Payload-Oxum does not match the payload",
            expected=oxum,
            found=actual,
            where=BAG_INFO_TXT,
        )
    return report
