"""Checking a certified printout from the file alone (п. 3.1): the year close's summary sheet,
certified by the head, verifies with the head's and the deployment's keys; each kind of tampering
is refused with its reason."""

from __future__ import annotations

import io
from datetime import date

import pikepdf
import pytest

from ejournal.documents.certify import (
    HeadSignature,
    certificate_of,
    print_class_journal,
    rest_on_checkpoint,
)
from ejournal.documents.render import CertificationBlock, render
from ejournal.documents.verify import ATTACHMENT, CERTIFICATE, verify_printout_file
from ejournal.documents.views import homework_line, summary_sheet_view
from ejournal.integrity.errors import DocumentMismatchError, SignatureError, UnknownKeyError
from ejournal.integrity.note import Verifier, generate_signer
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.signatories import SignatoryKeyStore
from tests.archive.support import ArchivedYear, checkpointer_for, names, record_year
from tests.commands.school import MONDAY, build_school
from tests.documents.support import pdf_a_faults, text_of


def _keys(year: ArchivedYear) -> list[Verifier]:
    return [year.head_signer.verifier(), *year.verifiers]


def _replaced(pdf: bytes, name: str, content: bytes) -> bytes:
    """``pdf`` with the attachment ``name`` replaced, as a forger with pikepdf would."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        document.attachments[name] = pikepdf.AttachedFileSpec(document, content, filename=name)
        out = io.BytesIO()
        document.save(out)
    return out.getvalue()


def test_the_year_close_sheet_names_its_people_and_verifies(archived_year: ArchivedYear) -> None:
    # п. 2.11, 3.1: the archived summary sheet carries the pupils' and the head's names
    sheet = archived_year.result.sheets[0]
    assert pdf_a_faults(sheet.pdf) == []
    text = " ".join(text_of(sheet.pdf).split())
    for words in ("Абдуллаев Магомед", "Ёлкин Пётр", "ОСВ", "Н/А", "Отметки за I четверть",
                  "Годовые отметки", "ЗАВЕРЕНО ЭЛЕКТРОННОЙ ПОДПИСЬЮ РУКОВОДИТЕЛЯ ОУ",
                  "Алиева Зарема Магомедовна, руководитель ОУ"):  # fmt: skip
        assert words in text, words
    # Class-list order: Абдуллаев before Ёлкин (ё as е) before Юсупова.
    assert text.index("Абдуллаев") < text.index("Ёлкин") < text.index("Юсупова")
    verified = verify_printout_file(sheet.pdf, verifiers=_keys(archived_year))
    assert verified.data == sheet.data
    assert any("the head's key signatory-" in check for check in verified.checks)


def test_a_changed_attachment_is_refused(archived_year: ArchivedYear) -> None:
    sheet = archived_year.result.sheets[0]
    forged = _replaced(sheet.pdf, ATTACHMENT, sheet.data.replace(b'"5"', b'"4"', 1))
    with pytest.raises(DocumentMismatchError, match="differs from the certified one"):
        verify_printout_file(forged, verifiers=_keys(archived_year))


def test_a_certificate_other_than_the_qr_codes_is_refused(archived_year: ArchivedYear) -> None:
    sheet = archived_year.result.sheets[0]
    assert sheet.certificate is not None
    body, blank, signatures = sheet.certificate.partition("\n\n")
    other = body.replace("kind summary-sheet", "kind class-journal") + blank + signatures
    forged = _replaced(sheet.pdf, CERTIFICATE, other.encode())
    with pytest.raises(DocumentMismatchError, match="QR code on the page does not hold"):
        verify_printout_file(forged, verifiers=_keys(archived_year))


def test_a_changed_signature_is_refused(archived_year: ArchivedYear) -> None:
    # A forger draws a new printout, QR code and all, around a certificate whose signature is
    # not the head's.
    sheet = archived_year.result.sheets[0]
    assert sheet.certificate is not None
    body, blank, signature = sheet.certificate.partition("\n\n")
    dash, name, encoded = signature.rstrip("\n").split(" ")
    flipped = encoded[:10] + ("A" if encoded[10] != "A" else "B") + encoded[11:]
    note = f"{body}{blank}{dash} {name} {flipped}\n"
    block = CertificationBlock(
        heading="ЗАВЕРЕНО", school="СОШ № 1", signer="—", date="—", as_of="—",
        log=sheet.checkpoint.log_id, size=sheet.checkpoint.size,
        root=sheet.checkpoint.root_hash.hex(), sha256="00" * 32,
        key=archived_year.head_signer.vkey, certificate=note, checkpoint=sheet.checkpoint.note,
    )  # fmt: skip
    forged = render(
        document=sheet.data,
        view=summary_sheet_view(sheet.document),
        block=block,
        timestamp=certificate_of(sheet.certificate).certified_at,
    )
    with pytest.raises(SignatureError, match="does not verify"):
        verify_printout_file(forged, verifiers=_keys(archived_year))


def test_a_key_not_trusted_is_refused(archived_year: ArchivedYear) -> None:
    sheet = archived_year.result.sheets[0]
    stranger = generate_signer(archived_year.head_signer.name).verifier()
    with pytest.raises(UnknownKeyError):
        verify_printout_file(sheet.pdf, verifiers=[stranger, *archived_year.verifiers])


def test_a_file_that_is_no_printout_is_refused() -> None:
    with pytest.raises(DocumentMismatchError, match="not a readable PDF"):
        verify_printout_file(b"%PDF-1.7 nothing", verifiers=[])


def test_journal_pages_certified_by_the_head(ledger: Ledger, clock: ManualClock) -> None:
    # п. 3.1: journal pages the head certifies (ejournal print … --head)
    school = build_school(ledger)
    record_year(school, clock)
    deployment = generate_signer("journal.test-district.ru")
    checkpointer = checkpointer_for(ledger, deployment)
    store = SignatoryKeyStore(ledger.database, clock=clock)
    store.create(school.person["head"], b"head passphrase")
    head = store.signer(school.person["head"], b"head passphrase")
    journal = print_class_journal(
        ledger,
        checkpoint=rest_on_checkpoint(checkpointer, school.log_id),
        origin=checkpointer.origin,
        roster_id=school.class_id,
        subject_id=school.subjects["Математика"],
        first_day=MONDAY,
        last_day=date(2025, 9, 6),
        certifier=HeadSignature(actor=school.head, signer=head),
        names=names,
    )
    assert journal.certification_id is not None
    text = " ".join(text_of(journal.pdf).split())
    for words in ("Классный журнал 5«А» класса", "Математика", "Юсупова Аминат",
                  "Упражнения: с. 12", "Алиева Зарема Магомедовна, руководитель ОУ"):  # fmt: skip
        assert words in text, words
    verify_printout_file(journal.pdf, verifiers=[head.verifier(), deployment.verifier()])


@pytest.mark.parametrize(
    ("text", "pages", "tasks", "line"),
    [
        ("Решить задачи", "с. 77", "№ 106, 108", "Решить задачи: с. 77, № 106, 108"),
        ("Решить задачи", "77", "106, 108", "Решить задачи: с. 77, № 106, 108"),
        ("Повторить пройденное", "§ 2", "", "Повторить пройденное: § 2"),
        ("Выучить правило.", "с. 12–14", "упр. 5", "Выучить правило. с. 12–14, упр. 5"),
        ("Прочитать параграф", "§ 5, с. 19–21", "вопросы 1–4",
         "Прочитать параграф: § 5, с. 19–21, вопросы 1–4"),
        ("", "стр. 40", "", "стр. 40"),
        ("Сочинение", "", "", "Сочинение"),
    ],
)  # fmt: skip
def test_homework_reads_as_a_diary_writes_it(text: str, pages: str, tasks: str, line: str) -> None:
    # п. 2.7: content, pages, task numbers — never «стр. с. 77» or «№ № 106»
    assert homework_line(text, pages, tasks) == line
