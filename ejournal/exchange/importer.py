"""Importing a school's spreadsheets through the commands, all or nothing.

Every sheet is read and every row checked: its cells, and what it names (a class, a subject, a
person) among this import's rows and what the school already holds. The rows' commands then run,
each with all its checks, in one unit of work (``Ledger.unit_of_work``): the school year's log
gets every record in one transaction, or none. A command refused on a row names that row. When
any row is bad, or on a dry run, the unit is discarded: nothing is written, and the report names
every bad row (sheet, row, column, reason in Russian), not only the first.

People are entered into the personal-data vault (names, dates of birth, contacts; I9) just before
the unit is saved, and removed again if the save fails, so that a refused import leaves neither.
Importing the same file again recognises what the school already holds and writes nothing for it.
No logins are issued: accounts are the system administrator's (``commands.accounts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from ejournal import commands as c
from ejournal.commands.errors import refuse
from ejournal.exchange.files import FileError, Sheet, read_sheets
from ejournal.exchange.plan import Plan
from ejournal.exchange.report import Problem, Report, RowRef, SheetSummary
from ejournal.exchange.setup import school_directory
from ejournal.exchange.sheet import Row, SheetKind, fit, layout
from ejournal.exchange.sheets import KINDS, kind_named
from ejournal.identity.vault import Vault, VaultError
from ejournal.ledger.actor import ADMINISTRATION, Actor
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import SchoolYear


@dataclass(frozen=True, slots=True)
class Upload:
    """One file of an import."""

    name: str
    """The file's name: a CSV sheet's title, which may name its kind (``ученики.csv``)."""
    content: bytes
    kind: str | None = None
    """The kind of its sheet (``pupils``); None: by the sheet's title, else by its headers."""


@dataclass(frozen=True, slots=True)
class _Sheet:
    kind: SheetKind
    sheet: Sheet
    index: int


class _Discard(Exception):
    """Leaves a unit of work without saving it."""


class Importer:
    """Imports into one school's year, as ``actor`` (its head or a deputy)."""

    def __init__(self, ledger: Ledger, vault: Vault | None) -> None:
        self._ledger = ledger
        self._vault = vault

    def run(
        self,
        uploads: Sequence[Upload],
        *,
        actor: Actor,
        school_id: UUID,
        year_start: int,
        dry_run: bool = False,
    ) -> Report:
        """Check every row and, unless ``dry_run`` or a row is bad, write them all.

        Raises ``NotAllowed`` (``setup.administration_only``) unless ``actor`` holds the
        administration's role in the school, ``VaultError`` when there is no vault (people's
        names cannot be kept) or it fails, and what saving raises (``ConcurrentWriteError``,
        ``DatabaseUnavailableError``: then nothing is written either).
        """
        if not any(actor.holds(role, school_id) for role in ADMINISTRATION):
            raise refuse("setup.administration_only")
        if self._vault is None:
            raise VaultError("no key-encryption key: people's names cannot be kept")
        report = Report(dry_run=dry_run)
        sheets = self._sheets(uploads, report)
        year = self._ledger.find(
            SchoolYear.create_id(school_id=school_id, year_start=year_start), SchoolYear
        )
        if year is None:
            report.problems.append(
                Problem(None, None, None, f"учебный год {year_start}/{year_start + 1} не открыт")
            )
            return report
        stored: list[UUID] = []
        try:
            with self._ledger.unit_of_work():
                plan = Plan(
                    ledger=self._ledger,
                    actor=actor,
                    school_id=school_id,
                    year_start=year_start,
                    year=year,
                    people=school_directory(self._ledger, self._vault, school_id),
                    problems=report.problems,
                )
                for entry in sorted(sheets, key=lambda s: (s.kind.order, s.index)):
                    plan.summary = next(x for x in report.sheets if x.title == entry.sheet.title)
                    entry.kind.plan(self._rows(entry, report), plan)
                self._execute(plan, report)
                new = {p.person_id: p.personal_data() for p in plan.people.everyone() if p.new}
                report.people = len(new)
                if report.problems or dry_run:
                    raise _Discard
                self._vault.put_many(new, school_id=school_id, now=self._ledger.clock())
                stored = list(new)
        except _Discard:
            return report
        except BaseException:
            if stored:
                self._vault.discard(stored)  # the save failed: their entries go too
            raise
        report.written = True
        return report

    def _sheets(self, uploads: Sequence[Upload], report: Report) -> list[_Sheet]:
        """Every sheet of every file, each with its kind (a problem for a sheet with none)."""
        found: list[_Sheet] = []
        for upload in uploads:
            try:
                sheets = read_sheets(upload.content, upload.name)
            except FileError as e:
                report.problems.append(Problem(upload.name, None, None, e.reason))
                continue
            for sheet in sheets:
                if not sheet.rows:
                    continue  # an empty worksheet a workbook keeps
                title = _unique(sheet.title, report)
                sheet = Sheet(title, sheet.rows, sheet.encoding, sheet.delimiter)
                kind = _kind_of(sheet, upload.kind if len(sheets) == 1 else None)
                if kind is None:
                    report.problems.append(Problem(title, None, None, _UNKNOWN_KIND))
                    continue
                report.sheets.append(SheetSummary(title, kind.name))
                found.append(_Sheet(kind, sheet, len(found)))
        return found

    @staticmethod
    def _rows(entry: _Sheet, report: Report) -> list[Row]:
        kind, sheet = entry.kind, entry.sheet
        found = layout(kind, sheet)
        if found is None:
            first = sheet.rows[0][0] if sheet.rows else None
            for column in kind.missing(set()):
                reason = f"нет столбца «{column.header}» (ищется в первых строках листа)"
                report.problems.append(Problem(sheet.title, first, column.header, reason))
            return []
        summary = next(x for x in report.sheets if x.title == sheet.title)
        rows = [
            Row(kind, sheet.title, number, cells, found, report.problems)
            for number, cells in sheet.rows
            if number > found.header_row
        ]
        summary.rows = len(rows)
        return rows

    def _execute(self, plan: Plan, report: Report) -> None:
        """Run the plan's steps; a refusal names its row (or the rows its step says), whose later
        steps (and those of rows that need it) are then passed over."""
        failed: set[RowRef] = set()
        for step in plan.steps:
            if step.row in failed or step.needs & failed:
                failed.add(step.row)
                continue
            try:
                c.handle(step.command, self._ledger)
            except c.CommandError as e:
                failed.add(step.row)
                reason = e.message.rstrip(".")
                report.problems.extend(
                    Problem(row.sheet, row.row, column, reason) for row, column in step.places(e)
                )
                continue
            report.commands += 1


_UNKNOWN_KIND = (
    "не удалось понять, что на листе: назовите его "
    + ", ".join(f"«{k.title}»" for k in KINDS[:-1])
    + f" или «{KINDS[-1].title}», либо проверьте заголовки столбцов"
)


def _unique(title: str, report: Report) -> str:
    """The sheet's title, numbered if another sheet of the import has it (two «Лист1»)."""
    taken = {s.title for s in report.sheets}
    if title not in taken:
        return title
    n = 2
    while f"{title} ({n})" in taken:
        n += 1
    return f"{title} ({n})"


def _kind_of(sheet: Sheet, named: str | None) -> SheetKind | None:
    """The kind ``named``, else the one the sheet's title names, else the one its headers fit
    best, if one does."""
    for name in (named, sheet.title):
        if name and (kind := kind_named(name)) is not None:
            return kind
    scored = [(score, kind) for kind in KINDS if (score := fit(kind, sheet)) is not None]
    if not scored:
        return None
    scored.sort(key=lambda pair: pair[0], reverse=True)
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        return None
    return scored[0][1]
