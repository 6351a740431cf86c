"""The import's report and the export's options."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from ejournal.api.errors import Problem
from ejournal.exchange.report import Report


class ExportFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"


class CsvEncoding(StrEnum):
    UTF8 = "utf-8"
    """UTF-8 with the byte-order mark, which Excel needs to read it as UTF-8."""
    WINDOWS_1251 = "windows-1251"


class ProblemRowOut(BaseModel):
    sheet: str | None = Field(description="The sheet (worksheet or CSV file); null: the file.")
    row: int | None = Field(description="The row as the spreadsheet numbers it; null: the sheet.")
    column: str | None = Field(description="The column's header as the file writes it.")
    reason: str = Field(description="What is wrong, in Russian.")


class SheetOut(BaseModel):
    title: str
    kind: str = Field(
        description="subjects, staff, classes, pupils, parents, assignments, timetable, ktp"
    )
    rows: int = Field(description="Data rows read.")
    applied: int = Field(description="Rows that record something (or would, in a dry run).")
    present: int = Field(description="Rows the school already holds as they are.")


class ImportReportOut(BaseModel):
    dry_run: bool
    written: bool = Field(description="Whether anything was recorded: never with a problem.")
    commands: int = Field(description="Commands run (in a dry run: run and discarded).")
    people: int = Field(description="People new to the school's personal data.")
    sheets: list[SheetOut]
    problems: list[ProblemRowOut] = Field(description="Every bad row, by sheet and row.")

    @classmethod
    def of(cls, report: Report) -> ImportReportOut:
        return cls(
            dry_run=report.dry_run,
            written=report.written,
            commands=report.commands,
            people=report.people,
            sheets=[
                SheetOut(
                    title=s.title, kind=s.kind, rows=s.rows, applied=s.applied, present=s.present
                )
                for s in report.sheets
            ],
            problems=[
                ProblemRowOut(sheet=p.sheet, row=p.row, column=p.column, reason=p.reason)
                for p in report.sorted_problems()
            ],
        )


class ImportRefusedOut(Problem):
    """``import.refused``: the file was refused whole; ``report`` names every bad row."""

    report: ImportReportOut
