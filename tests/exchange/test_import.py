"""Importing a school's spreadsheets (п. 2.2): CSV in UTF-8 (with or without the BOM) and
Windows-1251 with «;» or «,», XLSX; all or nothing, every bad row named by sheet, row, column
and reason; a file imported again recognised, nothing written twice."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from ejournal import commands as c
from ejournal.exchange.importer import Importer, Upload
from ejournal.exchange.report import Problem
from ejournal.identity.vault import Vault
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import Guardianship, SchoolClass
from ejournal.projections.lists import Lists
from tests.commands.school import YEAR, TestSchool, count_events
from tests.exchange.support import (
    CLASSES,
    PARENTS,
    PUPILS,
    csv_file,
    project,
    run,
    vault_rows,
    xlsx_file,
)

FIRST_DAY = date(2025, 9, 1)


def _class_6b(school: TestSchool) -> SchoolClass:
    class_id = SchoolClass.create_id(
        school_id=school.school_id, year_start=YEAR, grade=6, letter="Б"
    )
    found = school.ledger.find(class_id, SchoolClass)
    assert found is not None
    return found


def _names(vault: Vault, people: list[UUID]) -> set[str]:
    return {name or "" for name in vault.full_names(people).values()}


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8", ";"), ("utf-8-sig", ";"), ("cp1251", ";"), ("utf-8", ","), ("cp1251", ",")],
)
def test_csv_in_utf8_and_windows_1251_imports_classes_pupils_and_parents(
    ledger: Ledger,
    vault: Vault,
    school: TestSchool,
    importer: Importer,
    encoding: str,
    delimiter: str,
) -> None:
    # п. 2.2: the year's sections from the school's own files, as Excel saves them.
    files = [
        (f"{name}.csv", csv_file(rows, encoding=encoding, delimiter=delimiter))
        for name, rows in (("классы", CLASSES), ("ученики", PUPILS), ("родители", PARENTS))
    ]
    report = run(importer, school, *files)
    assert report.problems == []
    assert report.written
    assert [(s.kind, s.rows, s.applied) for s in report.sheets] == [
        ("classes", 1, 1),
        ("pupils", 3, 3),
        ("parents", 3, 3),
    ]
    assert report.people == 5  # three pupils, two parents: Иванов has two children
    sixth = _class_6b(school)
    pupils = sorted(sixth.members.on(FIRST_DAY), key=lambda p: p.hex)
    assert _names(vault, pupils) == {
        "Алиев Магомед Расулович",
        "Иванова Мария Петровна",
        "Ёлкин Пётр",
    }
    stored = vault.get(pupils[0])
    assert stored is not None and stored.school_id == school.school_id
    births = {vault.get(p).data.birth_date for p in pupils}  # type: ignore[union-attr]
    assert births == {date(2013, 3, 12), date(2013, 2, 1), date(2012, 11, 30)}
    project(ledger)
    groups = Lists(ledger.database).classes(school.school_id, YEAR, 6)[0].groups
    assert sorted(g.name for g in groups) == ["Группа 1", "Группа 2"]
    links = {
        p: ledger.find(
            Guardianship.create_id(school_id=school.school_id, year_start=YEAR, student_id=p),
            Guardianship,
        )
        for p in pupils
    }
    parents = {parent for g in links.values() if g for parent in g.parent_ids}
    assert _names(vault, list(parents)) == {"Алиева Патимат Ибрагимовна", "Иванов Пётр Сергеевич"}


def test_xlsx_made_with_openpyxl_imports_every_worksheet(
    vault: Vault, school: TestSchool, importer: Importer
) -> None:
    content = xlsx_file({"Классы": CLASSES, "Ученики": PUPILS, "Родители": PARENTS})
    report = run(importer, school, ("школа.xlsx", content))
    assert report.problems == []
    assert report.written
    assert [s.title for s in report.sheets] == ["Классы", "Ученики", "Родители"]
    assert len(_class_6b(school).members.on(FIRST_DAY)) == 3


def test_one_bad_row_refuses_the_whole_file_and_names_it(
    ledger: Ledger, school: TestSchool, importer: Importer
) -> None:
    # A refused import writes nothing: neither records nor personal data.
    rows = [*PUPILS[:2], ["6Б", "Иванова", "Мария", "Петровна", "31.02.2013", ""], *PUPILS[3:]]
    events, people = count_events(ledger), vault_rows(ledger)
    report = run(
        importer, school, ("классы.csv", csv_file(CLASSES)), ("ученики.csv", csv_file(rows))
    )
    assert not report.written
    assert report.problems == [
        Problem("ученики", 3, "Дата рождения", "нет такой даты: «31.02.2013»")
    ]
    assert count_events(ledger) == events
    assert vault_rows(ledger) == people


def test_every_bad_row_is_reported_not_only_the_first(
    school: TestSchool, importer: Importer
) -> None:
    rows = [
        PUPILS[0],
        ["15А", "Алиев", "Магомед", "", "", ""],
        ["6Б", "", "Мария", "", "01.02.2013", ""],
        ["6Б", "Ёлкин", "Пётр", "", "2012-13-01", "Физика: Группа 1"],
        PUPILS[1],
    ]
    report = run(
        importer, school, ("классы.csv", csv_file(CLASSES)), ("ученики.csv", csv_file(rows))
    )
    assert not report.written
    assert report.sorted_problems() == [
        Problem("ученики", 2, "Класс", "параллель класса должна быть от 1 до 11, а не 15"),
        Problem("ученики", 3, "Фамилия", "не заполнено"),
        Problem("ученики", 4, "Группы", "предмета «Физика» нет в учебном году"),
        Problem("ученики", 4, "Дата рождения", "нет такой даты: «2012-13-01»"),
    ]


def test_a_command_refused_on_a_row_refuses_the_file_and_names_that_row(
    ledger: Ledger, school: TestSchool, importer: Importer
) -> None:
    # п. 2.2: the command's own rule (an enrolment within the school year) names row 3.
    rows = [
        [*PUPILS[0], "Дата зачисления"],
        [*PUPILS[1], "01.09.2025"],
        [*PUPILS[2], "15.08.2025"],
    ]
    events = count_events(ledger)
    report = run(
        importer, school, ("классы.csv", csv_file(CLASSES)), ("ученики.csv", csv_file(rows))
    )
    assert report.problems == [
        Problem("ученики", 3, "Класс", "Дата 15.08.2025 вне учебного года или неверна")
    ]
    assert not report.written
    assert count_events(ledger) == events
    assert school.ledger.find(_class_6b_id(school), SchoolClass) is None


def _class_6b_id(school: TestSchool) -> UUID:
    return SchoolClass.create_id(school_id=school.school_id, year_start=YEAR, grade=6, letter="Б")


def test_a_dry_run_checks_everything_and_writes_nothing(
    ledger: Ledger, school: TestSchool, importer: Importer
) -> None:
    events, people = count_events(ledger), vault_rows(ledger)
    report = run(
        importer,
        school,
        ("классы.csv", csv_file(CLASSES)),
        ("ученики.csv", csv_file(PUPILS)),
        dry_run=True,
    )
    assert report.accepted and not report.written
    assert report.commands == 1 + 3 + 2 + 2  # the class; enrolments; two groups, two members
    assert (count_events(ledger), vault_rows(ledger)) == (events, people)


def test_importing_the_same_files_again_recognises_everyone(
    ledger: Ledger, school: TestSchool, importer: Importer
) -> None:
    files = (
        ("классы.csv", csv_file(CLASSES)),
        ("ученики.csv", csv_file(PUPILS)),
        ("родители.csv", csv_file(PARENTS)),
    )
    assert run(importer, school, *files).written
    project(ledger)
    events, people = count_events(ledger), vault_rows(ledger)
    again = run(importer, school, *files)
    assert again.problems == []
    assert [(s.applied, s.present) for s in again.sheets] == [(0, 1), (0, 3), (0, 3)]
    assert (again.commands, again.people) == (0, 0)
    assert (count_events(ledger), vault_rows(ledger)) == (events, people)


def test_a_pupil_already_in_another_class_is_refused(
    ledger: Ledger, school: TestSchool, importer: Importer
) -> None:
    # п. 2.2: a pupil is in one class at a time; a namesake needs a date of birth.
    assert run(
        importer, school, ("классы.csv", csv_file(CLASSES)), ("ученики.csv", csv_file(PUPILS))
    ).written
    project(ledger)
    moved = [PUPILS[0], ["5А", "Алиев", "Магомед", "Расулович", "12.03.2013", ""]]
    report = run(importer, school, ("ученики.csv", csv_file(moved)))
    assert report.problems == [
        Problem(
            "ученики",
            2,
            "Класс",
            "ученик уже зачислен в класс 6«Б»; если это другой ученик, укажите дату рождения",
        )
    ]


def test_two_pupils_of_a_class_with_one_name_need_a_date_of_birth(
    school: TestSchool, importer: Importer
) -> None:
    rows = [PUPILS[0], ["6Б", "Ёлкин", "Пётр", "", "", ""], ["6Б", "Ёлкин", "Пётр", "", "", ""]]
    report = run(
        importer, school, ("классы.csv", csv_file(CLASSES)), ("ученики.csv", csv_file(rows))
    )
    assert report.problems == [
        Problem(
            "ученики",
            3,
            None,
            "ученик уже указан в строке 2; если это разные ученики, укажите даты рождения",
        )
    ]


def test_a_title_line_above_the_header_and_classes_written_as_schools_write_them(
    school: TestSchool, importer: Importer
) -> None:
    rows = [["Список учащихся 6 «Б» класса на 2025/2026 учебный год"], [], *PUPILS]
    rows[3] = ["6-б", *PUPILS[1][1:]]
    rows[4] = ["6 «Б»", *PUPILS[2][1:]]
    bad = [*rows, ["6Б", "Петров", "", "", "", ""]]
    report = run(
        importer, school, ("классы.csv", csv_file(CLASSES)), ("ученики.csv", csv_file(bad))
    )
    assert report.problems == [Problem("ученики", 7, "Имя", "не заполнено")]
    report = run(
        importer, school, ("классы.csv", csv_file(CLASSES)), ("ученики.csv", csv_file(rows))
    )
    assert report.written
    assert len(_class_6b(school).members.on(FIRST_DAY)) == 3


def test_a_parent_names_a_pupil_of_the_class(school: TestSchool, importer: Importer) -> None:
    rows = [PARENTS[0], ["Петрова", "Анна", "", "", "", "Сидоров Иван", "5А"]]
    report = run(importer, school, ("родители.csv", csv_file(rows)))
    assert report.problems == [
        Problem("родители", 2, "Ученик", "ученика «Сидоров Иван» нет в классе 5А")
    ]


def test_only_the_administration_imports(school: TestSchool, importer: Importer) -> None:
    # п. 2.2: the administration sets up the year.
    with pytest.raises(c.NotAllowed, match=r"setup\.administration_only"):
        importer.run(
            [Upload("классы.csv", csv_file(CLASSES))],
            actor=school.maths,
            school_id=school.school_id,
            year_start=YEAR,
        )


def test_a_year_not_open_and_an_unreadable_file_are_named(
    school: TestSchool, importer: Importer
) -> None:
    report = importer.run(
        [Upload("классы.csv", csv_file(CLASSES))],
        actor=school.deputy,
        school_id=school.school_id,
        year_start=YEAR + 1,
    )
    assert report.problems == [Problem(None, None, None, "учебный год 2026/2027 не открыт")]
    old_excel = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100)
    report = run(importer, school, ("ученики.xls", old_excel), ("ученики.csv", csv_file(PUPILS)))
    assert report.problems[0] == Problem(
        "ученики.xls",
        None,
        None,
        "файл в формате Excel 97–2003 (.xls) не читается: сохраните его как «Книга Excel "
        "(.xlsx)» или CSV",
    )
    assert not report.written
