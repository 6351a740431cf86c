"""What an import found and did: every bad row (sheet, row, column, reason in Russian) and, per
sheet, how many rows it read, applied and found already present."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, order=True)
class RowRef:
    """A row of a sheet, numbered as the spreadsheet shows it."""

    sheet: str
    row: int


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a row (or a whole sheet, or the file) cannot be imported."""

    sheet: str | None
    """The sheet's title; None for the file as a whole."""
    row: int | None
    """The row's number as the spreadsheet shows it; None for the sheet as a whole."""
    column: str | None
    """The column's header as the file writes it; None for the row as a whole."""
    reason: str
    """In Russian, for the person who fixes the file."""

    def describe(self) -> str:
        """«Ученики, строка 7, «Дата рождения»: …», as the CLI prints it."""
        where = [part for part in (self.sheet, self.row and f"строка {self.row}") if part]
        if self.column:
            where.append(f"«{self.column}»")
        return f"{', '.join(where)}: {self.reason}" if where else self.reason


@dataclass(slots=True)
class SheetSummary:
    """One sheet of an import."""

    title: str
    kind: str
    """The sheet kind's name (``pupils``, ``parents`` …)."""
    rows: int = 0
    """Data rows read."""
    applied: int = 0
    """Rows that recorded something (or would, in a dry run)."""
    present: int = 0
    """Rows the school already holds as they are: recognised, nothing recorded."""


@dataclass(slots=True)
class Report:
    """The outcome of an import: written only when there are no problems and it was no dry run."""

    dry_run: bool
    sheets: list[SheetSummary] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    commands: int = 0
    """Commands run (in a dry run, run and then discarded)."""
    people: int = 0
    """New people entered into the personal-data vault (or who would be)."""
    written: bool = False

    @property
    def accepted(self) -> bool:
        return not self.problems

    def sorted_problems(self) -> list[Problem]:
        """By sheet (in the file's order), row and column."""
        order = {s.title: n for n, s in enumerate(self.sheets)}

        def key(p: Problem) -> tuple[int, int, str]:
            sheet = -1 if p.sheet is None else order.get(p.sheet, len(order))
            return sheet, p.row or 0, p.column or ""

        return sorted(self.problems, key=key)
