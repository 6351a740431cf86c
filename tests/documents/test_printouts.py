"""Certified printouts in Russian as PDF/A (п. 1.6, 2.9, 3.1): every kind for a generated school
of 11 classes is PDF/A in structure, its text extracts back with the names in class-list order,
no word runs out of its cell, poppler prints no warning, and its QR code decodes to the
certificate that ``verify_printout_file`` checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

import pytest

from ejournal.documents.certify import (
    Printout,
    certification_time,
    print_class_journal,
    print_summary_sheet,
    print_weekly_diary,
)
from ejournal.documents.render import render
from ejournal.documents.verify import verify_printout_file
from ejournal.documents.views import summary_sheet_view
from tests.documents.support import (
    GeneratedSchool,
    generate_school,
    last_page_png,
    layout_faults,
    page_texts,
    pdf_a_faults,
    poppler_warnings,
    qr_texts,
    text_of,
    upright_text_of,
)


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GeneratedSchool]:
    """A generated school of 11 classes, one a grade, through the first quarter."""
    generated = generate_school(tmp_path_factory.mktemp("school") / "school.db")
    try:
        yield generated
    finally:
        generated.ledger.close()


def _summary_of_quarter(school: GeneratedSchool) -> Printout:
    # Grade 8 learns 17 subjects: the most columns, and «Основы безопасности и защиты Родины».
    return print_summary_sheet(
        school.ledger, class_id=school.class_id(8), period="I четверть", **school.printing()
    )


def _summary_of_year(school: GeneratedSchool) -> Printout:
    # Grade 5: the first quarter's marks, with «Основы духовно-нравственной культуры народов
    # России» among its subjects.
    return print_summary_sheet(school.ledger, class_id=school.class_id(5), **school.printing())


def _journal(school: GeneratedSchool) -> Printout:
    # The whole quarter of a subject taught five times a week: three spreads of lessons.
    return print_class_journal(
        school.ledger,
        roster_id=school.class_id(5),
        subject_id=school.spec.subjects["Математика"],
        first_day=date(2025, 9, 1),
        last_day=date(2025, 10, 26),
        **school.printing(),
    )


def _diary(school: GeneratedSchool) -> Printout:
    pupil = next(k for k in school.spec.classes if k.grade == 7).students[0]
    return print_weekly_diary(
        school.ledger,
        class_id=school.class_id(7),
        student_id=pupil,
        week_of=date(2025, 10, 15),
        **school.printing(),
    )


KINDS: dict[str, Callable[[GeneratedSchool], Printout]] = {
    "summary-sheet-of-a-quarter": _summary_of_quarter,
    "summary-sheet-of-the-year": _summary_of_year,
    "class-journal": _journal,
    "weekly-diary": _diary,
}


@pytest.fixture(scope="module")
def printouts(school: GeneratedSchool) -> dict[str, Printout]:
    return {kind: make(school) for kind, make in KINDS.items()}


@pytest.fixture(scope="module")
def texts(printouts: dict[str, Printout]) -> dict[str, str]:
    """Each printout's text (pdfplumber), words separated by single spaces."""
    return {kind: " ".join(text_of(printout.pdf).split()) for kind, printout in printouts.items()}


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_is_pdf_a_and_lays_out_within_its_cells(
    printouts: dict[str, Printout], kind: str, tmp_path: Path
) -> None:
    # п. 3.1: an archival, certified document whose every word stays in its cell
    pdf = printouts[kind].pdf
    assert pdf_a_faults(pdf) == []
    assert layout_faults(pdf) == []
    assert poppler_warnings(pdf, tmp_path) == ""


def _people(printout: Printout) -> list[str]:
    document = printout.document
    if "student" in document:
        return [document["student"]["id"]]
    return [s if isinstance(s, str) else s["id"] for s in document["students"]]


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_names_its_pupils_in_class_list_order(
    school: GeneratedSchool, printouts: dict[str, Printout], texts: dict[str, str], kind: str
) -> None:
    printout, text = printouts[kind], texts[kind]
    shown = [school.names[UUID(person)] for person in _people(printout)]
    for name in shown:
        assert name in text, name
    by_surname = sorted(shown, key=lambda n: n.casefold().replace("ё", "е"))
    assert sorted(shown, key=text.index) == by_surname
    assert "ID …" not in text
    assert printout.document["school"]["name"] in text


def test_the_journal_and_the_diary_name_the_teachers(
    printouts: dict[str, Printout], texts: dict[str, str]
) -> None:
    (teacher,) = printouts["class-journal"].document["teachers"]
    assert f"Учитель: {teacher['name']}" in texts["class-journal"]
    lessons = printouts["weekly-diary"].document["lessons"]
    surnames = {lesson["teacher"].split()[0] for lesson in lessons}
    assert surnames and all(surname in texts["weekly-diary"] for surname in surnames)


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_verifies_and_its_qr_code_reads_back(
    school: GeneratedSchool, printouts: dict[str, Printout], kind: str
) -> None:
    # п. 3.1: the QR code holds the signed certificate that verify-printout checks
    printout = printouts[kind]
    verified = verify_printout_file(printout.pdf, verifiers=[school.signer.verifier()])
    assert verified.data == printout.data
    assert verified.certificate.signer_id == verified.certificate.school_id  # the journal's seal
    assert qr_texts(last_page_png(printout.pdf)) == {printout.certificate}


def test_the_certification_time_is_the_schools(
    printouts: dict[str, Printout], texts: dict[str, str]
) -> None:
    # The school's time zone (Moscow), ДД.ММ.ГГГГ ЧЧ:ММ; the certificate keeps UTC
    moment = certification_time(printouts["weekly-diary"])
    assert moment is not None and moment.tzinfo == UTC
    moscow = moment.replace(tzinfo=None) + (datetime(2025, 1, 1, 3) - datetime(2025, 1, 1))
    text = texts["weekly-diary"]
    assert f"Дата и время заверения: {moscow:%d.%m.%Y %H:%M}" in text
    assert "UTC" not in text


def test_the_subject_names_stand_upright_and_the_check_finds_them_across(
    printouts: dict[str, Printout],
) -> None:
    # The old sheet wrote them across narrow columns: «Изобразительное» ran into «Музыка»,
    # «Основы безопасности и защиты Родины» out of the table. The layout check finds that.
    printout = printouts["summary-sheet-of-a-quarter"]
    upright = upright_text_of(printout.pdf)
    for subject in printout.document["subjects"]:
        assert subject["name"] in upright, subject["name"]
    across = summary_sheet_view(printout.document)
    for table in across["tables"]:
        for column in table["columns"]:
            column["upright"] = False
    at = datetime(2025, 10, 27, tzinfo=UTC)
    pdf = render(document=printout.data, view=across, block=None, timestamp=at)
    faults = layout_faults(pdf)
    assert any("«безопасности» crosses a column's rule" in fault for fault in faults), faults


def test_a_page_never_holds_the_signature_alone(printouts: dict[str, Printout]) -> None:
    for kind, printout in printouts.items():
        last_page = page_texts(printout.pdf)[-1]
        before = last_page.split("ЗАВЕРЕНО")[0]
        assert any(char.isdigit() for char in before), kind  # a row of the table comes along


def test_the_diary_shows_each_day_once(texts: dict[str, str]) -> None:
    text = texts["weekly-diary"]
    for day in ("Понедельник, 13.10.2025", "Среда, 15.10.2025", "Пятница, 17.10.2025"):
        assert text.count(day) == 1, day
    assert "Суббота" not in text  # a five-day week


def test_a_sheet_without_marks_lists_its_pupils(school: GeneratedSchool) -> None:
    # Grade 11 has half-years: in October it has no attestation mark yet.
    printout = print_summary_sheet(school.ledger, class_id=school.class_id(11), **school.printing())
    text = " ".join(text_of(printout.pdf).split())
    assert "Отметки за учебный год ещё не выставлены" in text
    pupils = next(k for k in school.spec.classes if k.grade == 11).students
    assert all(school.names[pupil] in text for pupil in pupils)
    assert text.count("Сводная ведомость учёта результатов") == 1
