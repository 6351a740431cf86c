"""The archive tamper catalogue (п. 2.10, I7): each change is detected and named by
``verify-archive``. A naive change is caught by the manifests; a careful forger who rewrites the
manifests too is caught by the content: leaves, chain, signatures, certificates, recomputation."""

from __future__ import annotations

import base64
import csv
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import bagit
import pytest

from ejournal.archive.summary import canonical_json, summary_csv
from ejournal.archive.verifier import verify_archive
from ejournal.documents.render import render
from ejournal.integrity.certificate import Certificate, document_digest, sign_certificate
from ejournal.integrity.errors import (
    ArchiveFormatError,
    DocumentMismatchError,
    LeafMismatchError,
    ManifestError,
    MissingEntryError,
    MissingPayloadError,
    SignatureError,
    UnknownKeyError,
    VerificationError,
)
from ejournal.integrity.note import generate_signer
from tests.archive.support import ArchivedYear, remanifest

SHEET = "data/documents/summary-05-A"
ENTRIES = "data/log/entries.csv"


def _rows(root: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO((root / ENTRIES).read_text("utf-8"), newline="")))


def _write_rows(root: Path, rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    (root / ENTRIES).write_bytes(buffer.getvalue().encode("utf-8"))


def change_csv_cell(root: Path, year: ArchivedYear) -> None:
    path = root / f"{SHEET}.csv"
    path.write_text(
        path.read_text("utf-8").replace(",period,I четверть,5,0,", ",period,I четверть,4,0,", 1),
        "utf-8",
    )


def change_entry_cell(root: Path, year: ArchivedYear) -> None:
    rows = _rows(root)
    rows[5][6] = "head" if rows[5][6] != "head" else "deputy"  # actor_role of index 4
    _write_rows(root, rows)


def change_payload_byte(root: Path, year: ArchivedYear) -> None:
    rows = _rows(root)
    payload = bytearray(base64.b64decode(rows[8][12]))
    payload[20] ^= 0x01
    rows[8][12] = base64.b64encode(bytes(payload)).decode()
    _write_rows(root, rows)


def remove_payload(root: Path, year: ArchivedYear) -> None:
    rows = _rows(root)
    rows[8][12] = ""
    _write_rows(root, rows)


def truncate_log(root: Path, year: ArchivedYear) -> None:
    _write_rows(root, _rows(root)[:-3])


def _edit_checkpoint(root: Path, edit: Callable[[str], str]) -> None:
    path = root / "data/log/checkpoints.jsonl"
    lines = path.read_text("utf-8").splitlines()
    record = json.loads(lines[0])
    record["note"] = edit(record["note"])
    lines[0] = json.dumps(record, ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", "utf-8")


def change_checkpoint_line(root: Path, year: ArchivedYear) -> None:
    def edit(note: str) -> str:
        origin, size, rest = note.split("\n", 2)
        return f"{origin}\n{int(size) - 1}\n{rest}"

    _edit_checkpoint(root, edit)


def change_signature(root: Path, year: ArchivedYear) -> None:
    def edit(note: str) -> str:
        head, _, signature = note.rpartition(" ")
        raw = bytearray(base64.b64decode(signature))
        raw[10] ^= 0x80
        return f"{head} {base64.b64encode(bytes(raw)).decode()}\n"

    _edit_checkpoint(root, edit)


def remove_pdf(root: Path, year: ArchivedYear) -> None:
    (root / f"{SHEET}.pdf").unlink()


def remove_checkpoints(root: Path, year: ArchivedYear) -> None:
    (root / "data/log/checkpoints.jsonl").unlink()


def add_file(root: Path, year: ArchivedYear) -> None:
    (root / "data/documents/summary-05-B.csv").write_text("row\r\n", "utf-8")


def disagree_with_entries(root: Path, year: ArchivedYear) -> None:
    """A summary sheet that says 4 where the entries say 5, certified with the head's own key."""
    document = json.loads((root / f"{SHEET}.json").read_bytes())
    first = document["marks"][0]
    first["value"] = "4" if first["value"] != "4" else "3"
    data = canonical_json(document)
    old = Certificate.from_text(
        (root / f"{SHEET}.certificate").read_text("utf-8").split("\n\n")[0] + "\n"
    )
    new = Certificate(
        **{**{f: getattr(old, f) for f in old.__slots__}, "document_sha256": document_digest(data)}
    )  # type: ignore[attr-defined]
    (root / f"{SHEET}.json").write_bytes(data)
    (root / f"{SHEET}.certificate").write_text(sign_certificate(new, [year.head_signer]), "utf-8")
    (root / f"{SHEET}.csv").write_bytes(summary_csv(document))
    (root / f"{SHEET}.pdf").write_bytes(
        render(document=data, view={"title": "x"}, block=None, timestamp=old.certified_at)
    )


@dataclass(frozen=True)
class Tamper:
    change: Callable[[Path, ArchivedYear], None]
    error: type[VerificationError]
    match: str
    where: str


CATALOGUE = {
    "CSV cell changed": Tamper(
        change_csv_cell, DocumentMismatchError, "CSV differs", f"{SHEET}.csv"
    ),
    "entry column changed": Tamper(
        change_entry_cell, LeafMismatchError, "leaf recomputed", "index 4"
    ),
    "payload byte": Tamper(
        change_payload_byte, LeafMismatchError, "payload bytes differ", "index 7"
    ),
    "payload removed": Tamper(remove_payload, MissingPayloadError, "no disposition act", "index 7"),
    "log truncated": Tamper(truncate_log, MissingEntryError, "truncated", "index"),
    "checkpoint line": Tamper(change_checkpoint_line, SignatureError, "does not verify", "line 1"),
    "signature": Tamper(change_signature, SignatureError, "does not verify", "line 1"),
    "file removed": Tamper(remove_pdf, DocumentMismatchError, "missing", f"{SHEET}.pdf"),
    "log file removed": Tamper(remove_checkpoints, ArchiveFormatError, "missing", "checkpoints"),
    "file added": Tamper(add_file, ArchiveFormatError, "both its data", "summary-05-B"),
    "summary sheet disagrees": Tamper(
        disagree_with_entries, DocumentMismatchError, "disagrees with the entries", f"{SHEET}.json"
    ),
}


@pytest.fixture
def copy(archived_year: ArchivedYear, tmp_path: Path) -> Path:
    return Path(shutil.copytree(archived_year.result.archive, tmp_path / "archive"))


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_a_careful_forger_is_caught_by_the_content(
    name: str, archived_year: ArchivedYear, copy: Path
) -> None:
    tamper = CATALOGUE[name]
    tamper.change(copy, archived_year)
    remanifest(copy)
    assert bagit.Bag(str(copy)).is_valid()  # the manifests alone no longer tell
    with pytest.raises(tamper.error, match=tamper.match) as info:
        verify_archive(copy, verifiers=archived_year.verifiers)
    assert tamper.where in str(info.value.where)


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("CSV cell changed", f"{SHEET}.csv"),
        ("payload byte", ENTRIES),
        ("checkpoint line", "data/log/checkpoints.jsonl"),
        ("file removed", f"{SHEET}.pdf"),
        ("file added", "data/documents/summary-05-B.csv"),
    ],
)
def test_a_naive_change_is_caught_by_the_manifests(
    name: str, where: str, archived_year: ArchivedYear, copy: Path
) -> None:
    CATALOGUE[name].change(copy, archived_year)
    assert not bagit.Bag(str(copy)).is_valid()
    with pytest.raises(ManifestError) as info:
        verify_archive(copy, verifiers=archived_year.verifiers)
    assert info.value.where == where


def test_untrusted_keys_are_refused(archived_year: ArchivedYear) -> None:
    with pytest.raises(UnknownKeyError, match="not signed by any known key"):
        verify_archive(
            archived_year.result.archive, verifiers=[generate_signer("other").verifier()]
        )
    report = verify_archive(archived_year.result.archive)
    assert "not independent" in report.keys_source
