"""A sheet kind, declared: its title, the columns it reads (Russian headers as schools write them,
English aliases), how its rows become commands, and how the school's data becomes its rows again.

A sheet is matched to its kind by its title (the worksheet's or the CSV file's name) or, failing
that, by its headers; its header row is the first of its first rows that holds every column the
kind requires (a title line above it, «Список 5А класса», is passed over). ``Row`` reads a data
row's cells by column, noting each bad cell as a ``Problem``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from ejournal.exchange.cells import CellError, header_key, text
from ejournal.exchange.files import Cell, Sheet
from ejournal.exchange.report import Problem, RowRef

if TYPE_CHECKING:
    from ejournal.exchange.plan import Plan
    from ejournal.exchange.setup import SchoolSetup

T = TypeVar("T")

HEADER_ROWS = 10
"""How many first rows are searched for the header row."""


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str
    """The header as the export writes it, and as reports name the column when the file lacks it."""
    aliases: tuple[str, ...] = ()
    """Other headers taken for it: English, and variants schools write."""
    required: bool = False

    def matches(self, written: str) -> bool:
        key = header_key(written)
        return bool(key) and any(key == header_key(h) for h in (self.header, *self.aliases))


FULL_NAME = Column("full_name", "ФИО", ("Ф.И.О.", "Фамилия, имя, отчество", "full name", "name"))
SURNAME = Column("surname", "Фамилия", ("surname", "last name", "family name"), required=True)
FIRST_NAME = Column("first_name", "Имя", ("first name", "given name"), required=True)
PATRONYMIC = Column("patronymic", "Отчество", ("patronymic", "middle name"))
PERSON = (SURNAME, FIRST_NAME, PATRONYMIC, FULL_NAME)
"""A person's name: three columns, or one «ФИО» in their stead."""


@dataclass(frozen=True, slots=True)
class SheetKind:
    """One kind of sheet. Adding a kind is declaring one and listing it in ``sheets.KINDS``."""

    name: str
    """Stable, English: ``pupils``, the ``kind`` an API call or the CLI names."""
    title: str
    """The worksheet's name as the export writes it: «Ученики»."""
    aliases: tuple[str, ...]
    """Other worksheet or file names taken for this kind."""
    columns: tuple[Column, ...]
    order: int
    """Sheets are applied in this order, whatever the file's: a class before its pupils."""
    plan: Callable[[list[Row], Plan], None]
    """Check the rows and add their commands to the plan."""
    rows: Callable[[SchoolSetup], list[list[Cell]]] | None = None
    """The school's data as this sheet's rows (the export); None if not exported."""
    widths: tuple[int, ...] = ()

    def named(self, title: str) -> bool:
        key = header_key(title)
        return any(key == header_key(n) for n in (self.title, self.name, *self.aliases))

    def missing(self, found: set[str]) -> list[Column]:
        """The required columns not among ``found`` keys (a «ФИО» column stands for the name's
        three)."""
        lacking = [c for c in self.columns if c.required and c.key not in found]
        if FULL_NAME.key in found:
            lacking = [c for c in lacking if c.key not in (SURNAME.key, FIRST_NAME.key)]
        return lacking

    @property
    def header(self) -> list[str]:
        """The export's header row (``FULL_NAME`` is an alternative, not written)."""
        return [c.header for c in self.columns if c is not FULL_NAME]


@dataclass(frozen=True, slots=True)
class Layout:
    """Where a sheet's header row is and which column holds what."""

    header_row: int
    columns: dict[str, int]
    """Column key → the cell's index in a row."""
    headers: dict[str, str]
    """Column key → the header as the file writes it."""
    unknown: list[str]


def layout(kind: SheetKind, sheet: Sheet) -> Layout | None:
    """The header row of ``sheet`` read as ``kind``'s, or None if none of its first rows holds
    every column ``kind`` requires."""
    for number, cells in sheet.rows[:HEADER_ROWS]:
        columns: dict[str, int] = {}
        headers: dict[str, str] = {}
        unknown = []
        for index, cell in enumerate(cells):
            written = text(cell)
            if not written:
                continue
            column = next((c for c in kind.columns if c.matches(written)), None)
            if column is None:
                unknown.append(written)
            elif column.key not in columns:
                columns[column.key] = index
                headers[column.key] = written
        if columns and not kind.missing(set(columns)):
            return Layout(number, columns, headers, unknown)
    return None


def fit(kind: SheetKind, sheet: Sheet) -> tuple[int, int] | None:
    """How well ``sheet``'s headers fit ``kind``: (required columns, all columns found), or None
    if a required one is missing."""
    found = layout(kind, sheet)
    if found is None:
        return None
    required = sum(1 for c in kind.columns if c.required and c.key in found.columns)
    return required, len(found.columns)


class Row:
    """A data row of a sheet, read cell by cell; a bad cell adds a ``Problem`` and marks the row
    bad (its commands are not planned)."""

    def __init__(
        self,
        kind: SheetKind,
        title: str,
        number: int,
        cells: Sequence[Cell],
        found: Layout,
        problems: list[Problem],
    ) -> None:
        self.kind = kind
        self.ref = RowRef(title, number)
        self._cells = cells
        self._layout = found
        self._problems = problems
        self.bad = False

    def header(self, key: str) -> str:
        """The column's header as the file writes it (the export's if the file has none)."""
        written = self._layout.headers.get(key)
        if written is not None:
            return written
        return next((c.header for c in self.kind.columns if c.key == key), key)

    def problem(self, key: str | None, reason: str) -> None:
        column = None if key is None else self.header(key)
        self._problems.append(Problem(self.ref.sheet, self.ref.row, column, reason))
        self.bad = True

    def cell(self, key: str) -> Cell:
        index = self._layout.columns.get(key)
        if index is None or index >= len(self._cells):
            return None
        return self._cells[index]

    def has(self, key: str) -> bool:
        return bool(text(self.cell(key)))

    def text(self, key: str, *, required: bool = False) -> str:
        written = text(self.cell(key))
        if required and not written:
            self.problem(key, "не заполнено")
        return written

    def read(self, key: str, reader: Callable[[Cell], T], *, required: bool = False) -> T | None:
        """The cell read by ``reader``; None (and a problem if ``required``) when empty, None
        and a problem when ``reader`` refuses it."""
        if not self.has(key):
            if required:
                self.problem(key, "не заполнено")
            return None
        try:
            return reader(self.cell(key))
        except CellError as e:
            self.problem(key, e.reason)
            return None

    def full_name(self) -> str | None:
        """«Фамилия Имя Отчество» from the three columns or «ФИО»; None (and a problem) if the
        surname or the first name is missing."""
        if FULL_NAME.key in self._layout.columns and self.has(FULL_NAME.key):
            written = self.text(FULL_NAME.key)
            if len(written.split()) < 2:
                self.problem(FULL_NAME.key, "укажите фамилию и имя")
                return None
            return written
        surname = self.text(SURNAME.key, required=True)
        first = self.text(FIRST_NAME.key, required=True)
        if not surname or not first:
            return None
        return " ".join(p for p in (surname, first, self.text(PATRONYMIC.key)) if p)
