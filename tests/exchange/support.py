"""Files as schools keep them, made in the tests: CSV in an encoding with a delimiter, XLSX with
openpyxl."""

from __future__ import annotations

import io
from collections.abc import Sequence

import openpyxl

from ejournal.exchange.importer import Importer, Upload
from ejournal.exchange.report import Report
from ejournal.ledger.application import Ledger
from ejournal.projections import Projector
from tests.commands.school import YEAR, TestSchool

Rows = Sequence[Sequence[object]]

CLASSES = [["Класс", "Классный руководитель", "Периоды"], ["6Б", "", "четверти"]]
PUPILS = [
    ["Класс", "Фамилия", "Имя", "Отчество", "Дата рождения", "Группы"],
    ["6Б", "Алиев", "Магомед", "Расулович", "12.03.2013", "Английский язык: Группа 1"],
    ["6Б", "Иванова", "Мария", "Петровна", "01.02.2013", "Английский язык: Группа 2"],
    ["6Б", "Ёлкин", "Пётр", "", "30.11.2012", ""],
]
PARENTS = [
    ["Фамилия", "Имя", "Отчество", "E-mail", "Телефон", "Ученик", "Класс ученика"],
    ["Алиева", "Патимат", "Ибрагимовна", "patimat@example.ru", "", "Алиев Магомед Расулович", "6Б"],
    ["Иванов", "Пётр", "Сергеевич", "", "+7 900 123-45-67", "Иванова Мария Петровна", "6Б"],
    ["Иванов", "Пётр", "Сергеевич", "", "8 (900) 123-45-67", "Ёлкин Пётр", "6Б"],
]


def csv_file(rows: Rows, *, encoding: str = "utf-8", delimiter: str = ";") -> bytes:
    lines = [delimiter.join(str(cell) for cell in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def xlsx_file(sheets: dict[str, Rows]) -> bytes:
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        worksheet = workbook.create_sheet(title)
        for row in rows:
            worksheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def run(
    importer: Importer, school: TestSchool, *files: tuple[str, bytes], dry_run: bool = False
) -> Report:
    """Import ``files`` (name, content) into the school as its deputy."""
    return importer.run(
        [Upload(name, content) for name, content in files],
        actor=school.deputy,
        school_id=school.school_id,
        year_start=YEAR,
        dry_run=dry_run,
    )


def project(ledger: Ledger) -> None:
    Projector(ledger).catch_up()


def vault_rows(ledger: Ledger) -> int:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT COUNT(*) FROM personal_data")
        return int(cursor.fetchone()[0])
