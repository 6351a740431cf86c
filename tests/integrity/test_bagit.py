"""BagIt 1.0 writer and validator (RFC 8493), checked against the independent ``bagit`` package."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import bagit
import pytest

from ejournal.integrity.bagit import BagWriter, decode_path, encode_path, verify_bag
from ejournal.integrity.errors import ManifestError


def make_bag(root: Path) -> Path:
    writer = BagWriter(root)
    writer.add_payload("log/entries.csv", b"index\r\n0\r\n")
    with writer.open_payload("big.bin") as stream:
        for _ in range(3):
            stream.write(bytes(range(256)) * 1000)
    writer.add_payload("имя файла.txt", "Сводная ведомость\n".encode())
    writer.add_tag_file("guide/README.txt", b"tag file\n")
    return writer.finish([("Source-Organization", "СОШ № 1")], bagging_date=date(2026, 6, 1))


def test_a_written_bag_validates_with_ours_and_the_bagit_package(tmp_path: Path) -> None:
    root = make_bag(tmp_path / "bag")
    report = verify_bag(root)
    assert report.payload_files == 3
    assert report.info_value("Payload-Oxum") == f"{report.payload_octets}.3"
    assert report.info_value("source-organization") == "СОШ № 1"
    assert bagit.Bag(str(root)).is_valid()
    completed = subprocess.run(
        [sys.executable, "-m", "bagit", "--validate", str(root)], capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr


def test_nothing_is_left_behind_when_writing_is_aborted(tmp_path: Path) -> None:
    writer = BagWriter(tmp_path / "bag")
    writer.add_payload("a.txt", b"a")
    writer.abort()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="invalid path"):
        BagWriter(tmp_path / "other").add_payload("../escape", b"")


@pytest.mark.parametrize(
    ("tamper", "message", "where"),
    [
        (lambda r: (r / "data/big.bin").write_bytes(b"x"), "changed", "data/big.bin"),
        (lambda r: (r / "data/log/entries.csv").unlink(), "missing", "data/log/entries.csv"),
        (lambda r: (r / "data/new.txt").write_bytes(b"new"), "added", "data/new.txt"),
        (lambda r: (r / "extra-tag.txt").write_bytes(b"new"), "added", "extra-tag.txt"),
        (lambda r: (r / "guide/README.txt").write_bytes(b"x"), "changed", "guide/README.txt"),
        (lambda r: (r / "bagit.txt").write_text("BagIt-Version: 0.97\n"), "BagIt 1.0", "bagit.txt"),
    ],
    ids=["changed byte", "file removed", "payload file added", "tag file added", "tag changed",
         "declaration"],
)  # fmt: skip
def test_tampering_is_named(tmp_path: Path, tamper, message: str, where: str) -> None:  # type: ignore[no-untyped-def]
    root = make_bag(tmp_path / "bag")
    tamper(root)
    with pytest.raises(ManifestError, match=message) as info:
        verify_bag(root)
    assert info.value.where == where


def test_payload_oxum_must_match(tmp_path: Path) -> None:
    root = make_bag(tmp_path / "bag")
    info = (root / "bag-info.txt").read_text()
    (root / "bag-info.txt").write_text(info.replace("Payload-Oxum: ", "Payload-Oxum: 1"))
    tag = (root / "tagmanifest-sha256.txt").read_text().splitlines()
    import hashlib

    digest = hashlib.sha256((root / "bag-info.txt").read_bytes()).hexdigest()
    (root / "tagmanifest-sha256.txt").write_text(
        "".join(
            (f"{digest}  bag-info.txt" if line.endswith("bag-info.txt") else line) + "\n"
            for line in tag
        )
    )
    with pytest.raises(ManifestError, match="Payload-Oxum"):
        verify_bag(root)


def test_manifest_paths_round_trip() -> None:
    for path in ("a/b.txt", "100%.txt", "line\nbreak", "cr\rlf"):
        assert decode_path(encode_path(path)) == path
    assert encode_path("100%\r\n") == "100%25%0D%0A"
