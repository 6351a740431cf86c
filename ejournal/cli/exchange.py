"""``ejournal import`` and ``ejournal export``: a school's spreadsheets in, its set-up, class
journal pages and summary sheets out (XLSX or CSV).

The person the import acts as (``--as``, a head's or deputy's login) records it; the personal
data go into the vault under EJOURNAL_VAULT_KEY (or EJOURNAL_VAULT_KEY_FILE). Both bring the read
models up to date first, as the server's projector would.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from eventsourcing.application import AggregateNotFoundError
from rich.table import Table as RichTable

from ejournal.cli.common import (
    DATABASE_ERRORS,
    DatabaseURL,
    JsonOutput,
    console,
    fail,
    open_ledger,
)
from ejournal.commands.errors import CommandError
from ejournal.exchange.files import Table, csv_bytes, xlsx_bytes
from ejournal.exchange.report import Report
from ejournal.identity.vault import Vault, VaultError
from ejournal.ledger.application import Ledger

app = typer.Typer()
export_app = typer.Typer(no_args_is_help=True, help="Export to XLSX or CSV (by --out's suffix).")
app.add_typer(export_app, name="export")

School = Annotated[str, typer.Option("--school", help="School ID.")]
Year = Annotated[int, typer.Option("--year", help="Start year of the school year, e.g. 2025.")]
Out = Annotated[Path, typer.Option("--out", help="The file to write: .xlsx or .csv.")]
Encoding = Annotated[
    str, typer.Option("--encoding", help="Of a CSV file: utf-8 (with BOM) or windows-1251.")
]
Kind = Annotated[
    str | None,
    typer.Option("--kind", help="Sheet kind: subjects, staff, classes, pupils, parents, "
                 "assignments, timetable, ktp (a CSV file's, if its name does not say)"),
]  # fmt: skip


def _uuid(value: str, what: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        fail(f"{what} must be a UUID, not {value!r}")


def _services(database_url: str | None) -> tuple[Ledger, Vault]:
    """The ledger, its read models brought up to date, and the vault."""
    from ejournal.identity.tables import create_identity_tables
    from ejournal.identity.vault import key_from_environment
    from ejournal.ledger.database import startup_lock
    from ejournal.projections import Projector

    try:
        kek = key_from_environment()
    except VaultError as e:
        fail(str(e))
    if kek is None:
        fail("set EJOURNAL_VAULT_KEY (or EJOURNAL_VAULT_KEY_FILE): people's names are kept there")
    _, ledger = open_ledger(database_url)
    try:
        with startup_lock(ledger.database):  # a server may be creating them at this moment
            create_identity_tables(ledger.database)
        Projector(ledger).catch_up()
        return ledger, Vault(ledger.database, kek)
    except DATABASE_ERRORS as e:
        ledger.close()
        fail(f"{type(e).__name__}: {e}", code=1)


@app.command("import")
def import_files(
    files: Annotated[list[Path], typer.Argument(help="XLSX or CSV files, imported together.")],
    school: School,
    year: Year,
    login: Annotated[str, typer.Option("--as", help="The head's or a deputy's login.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row, write nothing.")
    ] = False,
    kind: Kind = None,
    as_json: JsonOutput = False,
    database_url: DatabaseURL = None,
) -> None:
    """Import a school's spreadsheets (п. 2.2): classes, pupils, parents, staff, assignments, the
    timetable, the КТП. All files are one import, all or nothing: any bad row refuses them all,
    nothing is written, and every bad row is listed (exit code 1). --dry-run checks without
    writing."""
    from ejournal import commands as c
    from ejournal.exchange.importer import Importer, Upload
    from ejournal.ledger.domain import Account

    school_id = _uuid(school, "--school")
    uploads = []
    for path in files:
        try:
            uploads.append(Upload(path.name, path.read_bytes(), kind))
        except OSError as e:
            fail(f"cannot read {path}: {e.strerror}")
    ledger, vault = _services(database_url)
    try:
        actor = c.actor_for(ledger, Account.create_id(login=login.strip().casefold()))
        report = Importer(ledger, vault).run(
            uploads, actor=actor, school_id=school_id, year_start=year, dry_run=dry_run
        )
    except (CommandError, VaultError, *DATABASE_ERRORS) as e:
        fail(f"{type(e).__name__}: {e}", code=1)
    finally:
        ledger.close()
    if as_json:
        print(json.dumps(_report_json(report), ensure_ascii=False, indent=2))
    else:
        _print_report(report)
    if not report.accepted:
        raise typer.Exit(1)


def _report_json(report: Report) -> dict[str, object]:
    return {
        "dry_run": report.dry_run,
        "written": report.written,
        "commands": report.commands,
        "people": report.people,
        "sheets": [asdict(s) for s in report.sheets],
        "problems": [asdict(p) for p in report.sorted_problems()],
    }


def _print_report(report: Report) -> None:
    sheets = RichTable(title="Листы", title_justify="left")
    for column in ("Лист", "Вид", "Строк", "Будет записано" if report.dry_run else "Записано",
                   "Уже есть"):  # fmt: skip
        sheets.add_column(column)
    for s in report.sheets:
        sheets.add_row(s.title, s.kind, str(s.rows), str(s.applied), str(s.present))
    console.print(sheets)
    if report.problems:
        problems = RichTable(title=f"Ошибки: {len(report.problems)}", title_justify="left")
        for column in ("Лист", "Строка", "Столбец", "Причина"):
            problems.add_column(column, overflow="fold")
        for p in report.sorted_problems():
            problems.add_row(p.sheet or "", str(p.row or ""), p.column or "", p.reason)
        console.print(problems)
        console.print("[red]Файл не загружен: ничего не записано. Исправьте строки и повторите.[/]")
    elif report.written:
        console.print(
            f"[green]Загружено. Записей: {report.commands}, новых людей: {report.people}.[/]"
        )
    else:
        console.print(
            f"[green]Ошибок нет.[/] Будет записей: {report.commands}, новых людей: "
            f"{report.people} (проверка: ничего не записано)."
        )


def _write(tables: list[Table], out: Path, encoding: str) -> None:
    suffix = out.suffix.casefold()
    if suffix == ".xlsx":
        content = xlsx_bytes(tables)
    elif suffix == ".csv":
        codec = {"utf-8": "utf-8-sig", "windows-1251": "cp1251", "cp1251": "cp1251"}.get(
            encoding.casefold()
        )
        if codec is None:
            fail(f"--encoding is utf-8 or windows-1251, not {encoding!r}")
        if len(tables) != 1:
            fail("a CSV file holds one sheet: name it with --kind, or write .xlsx")
        content = csv_bytes(tables[0], encoding=codec)
    else:
        fail(f"--out must end in .xlsx or .csv, not {out.name!r}")
    try:
        out.write_bytes(content)
    except OSError as e:
        fail(f"cannot write {out}: {e.strerror}")
    console.print(f"{out}: {', '.join(f'{t.title} ({len(t.rows)})' for t in tables)}")


@export_app.command("setup")
def export_setup(
    school: School,
    year: Year,
    out: Out,
    kind: Kind = None,
    encoding: Encoding = "utf-8",
    database_url: DatabaseURL = None,
) -> None:
    """The year's set-up in the import's format: subjects, staff, classes, pupils, parents,
    assignments, timetable, КТП (one sheet each in XLSX; --kind for one sheet, as CSV needs)."""
    from ejournal.exchange.exports import setup_tables
    from ejournal.exchange.setup import read_setup
    from ejournal.exchange.sheets import kind_named

    school_id = _uuid(school, "--school")
    chosen = None if kind is None else kind_named(kind)
    if kind is not None and chosen is None:
        fail(f"no sheet kind {kind!r}")
    ledger, vault = _services(database_url)
    try:
        tables = setup_tables(read_setup(ledger, vault, school_id, year))
    except (VaultError, AggregateNotFoundError, *DATABASE_ERRORS) as e:
        fail(f"{type(e).__name__}: {e}", code=1)
    finally:
        ledger.close()
    if chosen is not None:
        tables = [t for t in tables if t.title == chosen.title]
    _write(tables, out, encoding)


def _day(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%d.%m.%Y")
    except ValueError:
        fail(f"a date is DD.MM.YYYY, not {value!r}")


@export_app.command("journal")
def export_journal(
    roster: Annotated[str, typer.Option("--roster", help="Class, group or curriculum ID.")],
    subject: Annotated[str, typer.Option("--subject", help="Subject ID.")],
    out: Out,
    first: Annotated[str | None, typer.Option("--from", help="First day, DD.MM.YYYY.")] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last day, DD.MM.YYYY.")] = None,
    encoding: Encoding = "utf-8",
    database_url: DatabaseURL = None,
) -> None:
    """A class journal page of a roster's subject: pupils × lessons with Н, Б, П, ОП and marks;
    in XLSX also the lessons' topics and homework."""
    from ejournal import commands as c
    from ejournal.exchange.exports import journal_tables, vault_names
    from ejournal.ledger.domain import SchoolYear
    from ejournal.projections import Queries

    roster_id, subject_id = _uuid(roster, "--roster"), _uuid(subject, "--subject")
    start, end = _day(first), _day(last)
    ledger, vault = _services(database_url)
    try:
        found = c.load_roster(ledger, roster_id)
        year_id = SchoolYear.create_id(school_id=found.school_id, year_start=found.year_start)
        year = ledger.get(year_id, SchoolYear)
        if subject_id not in year.subjects:
            fail("no such subject in the roster's school year")
        page = Queries(ledger.database).class_journal(
            roster_id, subject_id, start and start.date(), end and end.date()
        )
        title = f"{found.name} {year.subjects[subject_id].name}"[:31]
        tables = journal_tables(page, vault_names(vault), title=title)
    except (CommandError, VaultError, *DATABASE_ERRORS) as e:
        fail(f"{type(e).__name__}: {e}", code=1)
    finally:
        ledger.close()
    _write(tables if out.suffix.casefold() == ".xlsx" else tables[:1], out, encoding)


@export_app.command("summary")
def export_summary(
    class_id: Annotated[str, typer.Option("--class", help="Class ID.")],
    out: Out,
    period: Annotated[str | None, typer.Option("--period", help="One period only.")] = None,
    encoding: Encoding = "utf-8",
    database_url: DatabaseURL = None,
) -> None:
    """A class's summary sheet (сводная ведомость, п. 2.9): a sheet per period, year, exam and
    final marks in XLSX; in CSV one table, a column per subject and period."""
    from ejournal.exchange.exports import side_by_side, summary_tables, vault_names
    from ejournal.projections import Queries

    found = _uuid(class_id, "--class")
    ledger, vault = _services(database_url)
    try:
        sheet = Queries(ledger.database).summary_sheet(found, period)
        tables = summary_tables(sheet, vault_names(vault))
    except (VaultError, *DATABASE_ERRORS) as e:
        fail(f"{type(e).__name__}: {e}", code=1)
    finally:
        ledger.close()
    if out.suffix.casefold() == ".csv" and len(tables) > 1:
        tables = [side_by_side(tables, "Сводная ведомость")]
    _write(tables, out, encoding)
