"""Year close (п. 2.11, 3.2): the journal closes, the summary sheet is certified, the final
checkpoint signed, and the archive verifies offline with ours and the independent bagit package."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import bagit
import pytest

from ejournal import commands as c
from ejournal.archive.verifier import archive_entry_count, verify_archive
from ejournal.documents.year_close import close_school_year
from ejournal.integrity.archive import read_entries
from ejournal.integrity.certificate import open_certificate
from ejournal.ledger.actor import Role
from ejournal.ledger.domain.certification import DocumentCertification
from ejournal.ledger.verify import verify_ledger
from tests.archive.support import ORIGIN, ArchivedYear
from tests.commands.school import count_events, refused


def test_the_archive_validates_with_the_bagit_package_and_ours(archived_year: ArchivedYear) -> None:
    # п. 2.10, I7
    root = archived_year.result.archive
    assert bagit.Bag(str(root)).is_valid()
    completed = subprocess.run(
        [sys.executable, "-m", "bagit", "--validate", str(root)], capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stderr
    seen: list[tuple[int, int]] = []
    report = verify_archive(
        root, verifiers=archived_year.verifiers, progress=lambda n, t: seen.append((n, t))
    )
    assert report.entries == archive_entry_count(root) == archived_year.result.final_checkpoint.size
    assert seen[-1] == (report.entries, report.entries)
    assert report.documents == ["summary-05-A"]
    assert report.keys_source.startswith("given keys")
    assert any("1 of 1 recomputed" in check for check in report.checks)
    json.dumps(report.to_json())


def test_the_archive_holds_the_iso_15489_metadata_and_a_guide(archived_year: ArchivedYear) -> None:
    # п. 3.3: ГОСТ Р ИСО 15489-1
    root = archived_year.result.archive
    metadata = json.loads((root / "data/metadata.json").read_text("utf-8"))
    for key in (
        "identifier",
        "title",
        "creator",
        "dates",
        "classification",
        "access",
        "retention",
        "format_of_records",
        "provenance",
        "relationships",
        "records",
    ):
        assert metadata[key], key  # fmt: skip
    retention = {r["class"]: r for r in metadata["retention"]}
    assert retention["class_journal"]["disposal_date"] == "2032-01-01"
    assert retention["summary_sheet"]["disposal_date"] == "2052-01-01"
    assert metadata["records"][0]["files"]["pdf"]["path"] == "documents/summary-05-A.pdf"
    assert "verify-archive" in (root / "data/README.md").read_text("utf-8")


def test_the_year_is_closed_to_writes_and_reopens_with_a_reason(
    archived_year: ArchivedYear,
) -> None:
    school = archived_year.school
    ledger = school.ledger
    with refused(ledger, c.Conflict, "year.closed"):
        school.lesson(slot=2)
    with refused(ledger, c.InvalidInput, "reason.required"):
        c.handle(c.ReopenSchoolYear(actor=school.head, school_id=school.school_id,
                                    year_start=2025, reason=" "), ledger)  # fmt: skip


def test_the_summary_sheet_shows_the_attestation_marks(archived_year: ArchivedYear) -> None:
    # п. 2.8, 2.9
    root = archived_year.result.archive
    rows = list(csv.DictReader(io.StringIO((root / "data/documents/summary-05-A.csv").read_text())))
    marks = {(r["student"], r["subject"], r["attestation"], r["period"]): r for r in rows}
    assert marks[("Абдуллаев Магомед", "Математика", "period", "I четверть")]["value"] == "5"
    revised = marks[("Иванова Мария", "Математика", "period", "I четверть")]
    assert (revised["value"], revised["revisions"]) == ("5", "1")
    assert marks[("Гасанова Patimat", "Математика", "period", "I четверть")]["value"] == "ОСВ"
    assert marks[("Ёлкин Пётр", "Математика", "period", "I четверть")]["value"] == "Н/А"
    assert marks[("Абдуллаев Магомед", "Английский язык", "year", "")]["value"] == "4"
    assert marks[("Шамилов Руслан", "", "", "")]["value"] == ""


def test_certification_is_recorded_in_the_log(archived_year: ArchivedYear) -> None:
    # п. 1.2, 3.1: the head's signature over the document hash is a ledger event
    school, result = archived_year.school, archived_year.result
    sheet = result.sheets[0]
    assert sheet.certification_id is not None and sheet.certificate is not None
    certification = school.ledger.get(sheet.certification_id, DocumentCertification)
    assert isinstance(certification, DocumentCertification)
    assert certification.certificate == sheet.certificate
    certificate, _ = open_certificate(sheet.certificate, [archived_year.head_signer.verifier()])
    assert certificate.size == result.sheets_checkpoint.size
    assert certificate.origin == f"{ORIGIN}/{school.log_id}"
    entries = list(read_entries(result.archive / "data/log/entries.csv"))
    topics = [e.topic for e in entries]
    assert "ledger.domain.school:SchoolYear.Closed" in topics
    assert topics.index("ledger.domain.school:SchoolYear.Closed") < result.sheets_checkpoint.size
    assert topics[-1].endswith("DocumentCertification.Certified")
    report = verify_ledger(school.ledger.database, verifiers=archived_year.verifiers, origin=ORIGIN)
    assert report.entries > 0


def test_certification_refusals(archived_year: ArchivedYear) -> None:
    school = archived_year.school
    ledger = school.ledger
    year = {"school_id": school.school_id, "year_start": 2025}
    note = archived_year.result.sheets[0].certificate
    assert note is not None
    certify = {"kind": "summary-sheet", "title": "Сводная ведомость", "certificate": note}
    with refused(ledger, c.NotAllowed, "certification.head_only"):
        c.handle(c.CertifyDocument(actor=school.deputy, **year, **certify), ledger)
    with refused(ledger, c.Conflict, "certification.duplicate"):
        c.handle(c.CertifyDocument(actor=school.head, **year, **certify), ledger)
    with refused(ledger, c.InvalidInput, "certification.invalid"):
        c.handle(
            c.CertifyDocument(actor=school.head, **year, **{**certify, "kind": "class-journal"}),
            ledger,
        )
    # One character of the signed text changed (a replace of "42" changed nothing when the note,
    # random keys and all, held no "42": the test then failed with certification.duplicate).
    body, blank, signatures = note.partition("\n\n")
    forged = body[:-1] + ("0" if body[-1] != "0" else "1") + blank + signatures
    with refused(ledger, c.InvalidInput, "certification.invalid"):
        c.handle(
            c.CertifyDocument(actor=school.head, **year, **{**certify, "certificate": forged}),
            ledger,
        )
    with refused(ledger, c.InvalidInput, "signatory.invalid_key"):
        c.handle(c.RegisterSignatoryKey(actor=school.head, **year, vkey="nope"), ledger)
    with refused(ledger, c.Conflict, "signatory.already_registered"):
        c.handle(
            c.RegisterSignatoryKey(actor=school.head, **year, vkey=archived_year.head_signer.vkey),
            ledger,
        )
    second_head = school.account(f"head-two-{len(school.accounts)}", Role.HEAD)
    with refused(ledger, c.Conflict, "certification.no_key"):
        c.handle(c.CertifyDocument(actor=second_head, **year, **certify), ledger)


@pytest.mark.parametrize("field", ["log_id"])
def test_the_archive_names_its_log(archived_year: ArchivedYear, field: str) -> None:
    log = json.loads((archived_year.result.archive / "data/log/log.json").read_text())
    assert log[field] == archived_year.school.log_id


def test_a_closed_year_is_not_closed_again(archived_year: ArchivedYear, tmp_path: Path) -> None:
    # п. 2.11: closing again certified the sheets again and wrote more entries; it is refused,
    # and nothing is written, until the year is reopened (with a reason).
    school = archived_year.school
    ledger = school.ledger
    before = count_events(ledger)
    with refused(ledger, c.Conflict, "year.already_closed"):
        close_school_year(
            ledger,
            checkpointer=archived_year.checkpointer,
            checkpoint_verifiers=archived_year.verifiers,
            actor=school.head,
            signer=archived_year.head_signer,
            school_id=school.school_id,
            year_start=2025,
            out=tmp_path / "again",
        )
    assert count_events(ledger) == before
    assert not (tmp_path / "again").exists()
    with refused(ledger, c.Conflict, "year.already_closed"):
        c.handle(
            c.CloseSchoolYear(actor=school.head, school_id=school.school_id, year_start=2025),
            ledger,
        )
    error = c.refuse("year.already_closed", year="2025/2026")
    assert "2025/2026 уже закрыт" in error.message and error.clause == "п. 2.11"
