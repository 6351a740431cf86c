"""Spreadsheet files as schools keep them: XLSX (openpyxl) and CSV (the standard library).

A file is read into ``Sheet``s: each a title (the worksheet's name, or the CSV file's name) and its
rows numbered as a spreadsheet program shows them, from 1. A CSV file is decoded as UTF-8 (with or
without the byte-order mark Excel writes) or, failing that, as Windows-1251, the encoding Russian
Excel saves «CSV (разделители — запятые)» in; its delimiter is the semicolon Russian Excel writes,
or the comma (or a tab), whichever the header line uses. Writing goes the other way: XLSX with one
worksheet per table, and CSV in UTF-8 with the byte-order mark and semicolons, which Russian Excel
opens as it is (Windows-1251 on request).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

import openpyxl
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

Cell = str | int | float | date | datetime | None
"""A cell's value as read: text from CSV; from XLSX also numbers and dates (Excel's date cells)."""

MAX_BYTES = 20 * 1024 * 1024
"""The largest file accepted: a school of 2,000 pupils with their parents is well under 1 MB."""
MAX_ROWS = 100_000
"""Rows read from one sheet at most: more is no school's list."""

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # the container of Excel 97–2003 .xls files
_BOM = b"\xef\xbb\xbf"


class FileFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


class FileError(Exception):
    """A file that cannot be read at all; ``reason`` says why, in Russian."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Sheet:
    """One worksheet of a file (a CSV file is one)."""

    title: str
    rows: list[tuple[int, list[Cell]]]
    """(row number as a spreadsheet shows it, the row's cells), empty rows left out."""
    encoding: str | None = None
    """CSV: the encoding it was read in (utf-8, utf-8-sig or cp1251)."""
    delimiter: str | None = None


@dataclass(frozen=True, slots=True)
class Table:
    """A table to write: a worksheet of an XLSX file, or a CSV file."""

    title: str
    header: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    widths: Sequence[int] = field(default_factory=tuple)
    """Column widths in characters (XLSX), by column; missing ones are left as they are."""


def detect_format(content: bytes) -> FileFormat:
    """XLSX (a zip container) or CSV (anything else that is text). Raises ``FileError`` for an
    Excel 97–2003 workbook, which is not read: the school saves it as XLSX or CSV."""
    if content.startswith(_ZIP):
        return FileFormat.XLSX
    if content.startswith(_OLE):
        raise FileError(
            "файл в формате Excel 97–2003 (.xls) не читается: сохраните его как «Книга Excel "
            "(.xlsx)» или CSV"
        )
    return FileFormat.CSV


def read_sheets(content: bytes, name: str) -> list[Sheet]:
    """The sheets of a file (``name``: the file's name, the title of a CSV sheet). Raises
    ``FileError``."""
    if len(content) > MAX_BYTES:
        raise FileError(f"файл больше {MAX_BYTES // (1024 * 1024)} МБ")
    if not content.strip():
        raise FileError("файл пуст")
    if detect_format(content) is FileFormat.XLSX:
        return _read_xlsx(content)
    return [_read_csv(content, _stem(name))]


def _stem(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[0] if "." in base else base


def decode(content: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was in: UTF-8 with its byte-order mark, UTF-8,
    else Windows-1251 (which decodes any bytes but a few unused ones)."""
    if content.startswith(_BOM):
        return content[len(_BOM) :].decode("utf-8", errors="strict"), "utf-8-sig"
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1251"), "cp1251"
    except UnicodeDecodeError as e:
        raise FileError(
            "кодировка файла не распознана: сохраните его в UTF-8 или Windows-1251"
        ) from e


def delimiter_of(text: str) -> str:
    """The delimiter of a CSV text: of ``;``, ``,`` and a tab, the one its first non-empty line
    holds most of, outside quotes (``;`` when none)."""
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = {d: 0 for d in (";", ",", "\t")}
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda d: (counts[d], d == ";"))
    return best if counts[best] else ";"


def _read_csv(content: bytes, title: str) -> Sheet:
    try:
        text, encoding = decode(content)
    except UnicodeDecodeError as e:
        raise FileError("файл с меткой UTF-8 содержит байты не в UTF-8") from e
    delimiter = delimiter_of(text)
    rows: list[tuple[int, list[Cell]]] = []
    try:
        for number, record in enumerate(
            csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1
        ):
            if number > MAX_ROWS:
                raise FileError(f"в файле больше {MAX_ROWS} строк")
            if any(cell.strip() for cell in record):
                rows.append((number, list(record)))
    except csv.Error as e:
        raise FileError(f"файл CSV повреждён: {e}") from e
    return Sheet(title, rows, encoding=encoding, delimiter=delimiter)


def _read_xlsx(content: bytes) -> list[Sheet]:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (InvalidFileException, KeyError, ValueError, OSError) as e:
        raise FileError("файл XLSX повреждён или не является книгой Excel") from e
    except Exception as e:  # zipfile.BadZipFile and the parser's errors: any broken workbook
        raise FileError("файл XLSX повреждён или не является книгой Excel") from e
    try:
        sheets = []
        for worksheet in workbook.worksheets:
            rows: list[tuple[int, list[Cell]]] = []
            for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
                if number > MAX_ROWS:
                    raise FileError(f"на листе «{worksheet.title}» больше {MAX_ROWS} строк")
                cells: list[Cell] = [_xlsx_value(v) for v in values]
                if any(cell not in (None, "") for cell in cells):
                    rows.append((number, cells))
            sheets.append(Sheet(worksheet.title, rows))
        return sheets
    finally:
        workbook.close()


def _xlsx_value(value: Any) -> Cell:
    if value is None or isinstance(value, str | int | float | date):
        return value  # datetime is a date
    return str(value)  # times, decimals, booleans: as the cell shows them


# --- writing -------------------------------------------------------------------------------------


def xlsx_bytes(tables: Sequence[Table]) -> bytes:
    """An XLSX workbook of ``tables``, one worksheet each, the header row in bold and frozen;
    dates shown ДД.ММ.ГГГГ."""
    workbook = openpyxl.Workbook(write_only=True)
    bold = Font(bold=True)
    for table in tables:
        worksheet = workbook.create_sheet(_sheet_title(table.title))
        worksheet.freeze_panes = "A2"
        for column, width in enumerate(table.widths, start=1):
            letter = get_column_letter(column)
            worksheet.column_dimensions[letter].width = width
        header = []
        for title in table.header:
            cell = WriteOnlyCell(worksheet, value=title)
            cell.font = bold
            header.append(cell)
        worksheet.append(header)
        for row in table.rows:
            worksheet.append([_xlsx_cell(worksheet, value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _xlsx_cell(worksheet: Any, value: Cell) -> Any:
    if isinstance(value, date):
        moment = value if isinstance(value, datetime) else datetime.combine(value, time())
        cell = WriteOnlyCell(worksheet, value=moment)
        cell.number_format = "DD.MM.YYYY"
        return cell
    return value


def _sheet_title(title: str) -> str:
    # Excel's rules: at most 31 characters, none of []:*?/\ .
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title)
    return cleaned[:31] or "Лист"


def csv_bytes(table: Table, *, encoding: str = "utf-8-sig", delimiter: str = ";") -> bytes:
    """``table`` as CSV: dates ДД.ММ.ГГГГ; by default UTF-8 with the byte-order mark and ``;``,
    as Russian Excel opens it. A character Windows-1251 lacks is written as ``?``."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(table.header)
    for row in table.rows:
        writer.writerow([_csv_cell(value) for value in row])
    return out.getvalue().encode(encoding, errors="replace")


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value)
