"""Certified printouts in Russian as PDF/A (п. 1.6, 2.9, 3.1): PDF/A declared, fonts embedded, the
Russian text extracts back, the data is attached, the QR code decodes and verifies."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from ejournal.documents.certify import (
    Printout,
    certification_time,
    print_class_journal,
    print_summary_sheet,
    print_weekly_diary,
)
from ejournal.documents.documents import summary_sheet_view
from ejournal.documents.render import CertificationBlock, render
from ejournal.documents.verify import embedded_data, verify_printout
from ejournal.integrity.certificate import open_certificate
from ejournal.integrity.errors import DocumentMismatchError
from ejournal.integrity.note import generate_signer
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.signatories import SignatoryKeyStore
from tests.archive.support import ArchivedYear, checkpointer_for, names, record_year
from tests.commands.school import MONDAY, build_school


def _is_pdf_a(pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.xmp_metadata
    assert xmp is not None
    raw = xmp.stream.get_data().decode("utf-8")
    assert "<pdfaid:part>3</pdfaid:part>" in raw and "<pdfaid:conformance>B" in raw
    fonts = 0
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            described = descendants[0].get_object() if descendants else font
            descriptor = described["/FontDescriptor"].get_object()
            assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            fonts += 1
    assert fonts > 0


def _text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_certified_summary_sheet(archived_year: ArchivedYear) -> None:
    sheet = archived_year.result.sheets[0]
    _is_pdf_a(sheet.pdf)
    text = _text(sheet.pdf)
    for words in (
        "Сводная ведомость",
        "5«А»",
        "Абдуллаев Магомед",
        "Ёлкин Пётр",
        "ОСВ",
        "Н/А",
        "I четверть",
        "ЗАВЕРЕНО",
        "Алиева Зарема Магомедовна",
        "SHA-256",
    ):
        assert words in text, words  # fmt: skip
    assert embedded_data(sheet.pdf) == sheet.data
    head = archived_year.head_signer.verifier()
    assert sheet.certificate is not None
    verified = verify_printout(
        sheet.pdf,
        sheet.certificate,
        signatories=[head],
        checkpoint_verifiers=archived_year.verifiers,
        checkpoint_note=sheet.checkpoint.note,
    )
    assert verified.data == sheet.data


def test_the_qr_code_decodes_and_verifies(archived_year: ArchivedYear) -> None:
    sheet = archived_year.result.sheets[0]
    png = render(
        document=sheet.data,
        view=summary_sheet_view(sheet.document),
        block=_block_of(archived_year),
        timestamp=_when(sheet),
        output="png",
        ppi=200,
    )
    # Only QR codes, and by content: a page of digits now and then also reads as a barcode, and
    # the reader may find the same code twice (CI saw two results once).
    codes = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    (note,) = {code.text for code in codes}
    assert note == sheet.certificate
    certificate, _ = open_certificate(note, [archived_year.head_signer.verifier()])
    assert certificate.document_sha256.hex() in _text(sheet.pdf).replace(" ", "")
    verify_printout(sheet.pdf, note, signatories=[archived_year.head_signer.verifier()])


def _when(sheet: Printout) -> datetime:
    moment = certification_time(sheet)
    assert moment is not None
    return moment


def _block_of(year: ArchivedYear) -> CertificationBlock:
    sheet = year.result.sheets[0]
    assert sheet.certificate is not None
    return CertificationBlock(
        school="СОШ № 1", signer="Алиева З. М.", date="01.09.2025", log=sheet.checkpoint.log_id,
        size=sheet.checkpoint.size, root=sheet.checkpoint.root_hash.hex(),
        sha256="00" * 32, key=year.head_signer.vkey, certificate=sheet.certificate,
    )  # fmt: skip


def test_a_changed_attachment_does_not_verify(archived_year: ArchivedYear) -> None:
    sheet = archived_year.result.sheets[0]
    assert sheet.certificate is not None
    other = render(
        document=sheet.data.replace(b'"5"', b'"4"', 1),
        view=summary_sheet_view(sheet.document),
        block=None,
        timestamp=_when(sheet),
    )
    with pytest.raises(DocumentMismatchError, match="differs from the certified one"):
        verify_printout(
            other, sheet.certificate, signatories=[archived_year.head_signer.verifier()]
        )


def test_journal_pages_and_the_weekly_diary(ledger: Ledger, clock: ManualClock) -> None:
    # п. 1.6: a parent's weekly paper printout; п. 3.1: journal pages
    school = build_school(ledger)
    record_year(school, clock)
    checkpointer = checkpointer_for(ledger, generate_signer("journal.test-district.ru"))
    store = SignatoryKeyStore(ledger.database, clock=clock)
    store.create(school.person["head"], b"head passphrase")
    head = store.signer(school.person["head"], b"head passphrase")
    journal = print_class_journal(
        ledger,
        checkpointer=checkpointer,
        roster_id=school.class_id,
        subject_id=school.subjects["Математика"],
        first_day=MONDAY,
        last_day=date(2025, 9, 6),
        actor=school.head,
        signer=head,
        names=names,
    )
    _is_pdf_a(journal.pdf)
    text = _text(journal.pdf)
    for words in ("Классный журнал", "Математика", "Повторение", "Упражнения", "Юсупова Аминат"):
        assert words in text, words
    diary = print_weekly_diary(
        ledger,
        checkpointer=checkpointer,
        class_id=school.class_id,
        student_id=school.students[0],
        week_of=date(2025, 9, 3),
        names=names,
    )
    _is_pdf_a(diary.pdf)
    text = _text(diary.pdf)
    for words in ("Дневник", "Абдуллаев Магомед", "Понедельник", "Математика", "Упражнения"):
        assert words in text, words
    assert diary.certificate is None and "ЗАВЕРЕНО" not in text
    period = print_summary_sheet(
        ledger, checkpointer=checkpointer, class_id=school.class_id, period="I четверть",
        actor=school.head, signer=head, names=names,
    )  # fmt: skip
    assert "I четверть" in _text(period.pdf)
    assert period.document["scope"] == {"kind": "period", "period": "I четверть"}
