"""Import rate of a school's pupils and parents, and the export time of a class journal page,
each against an anchor in the same run.

The import: a generated 11-class school (one class a grade, ``generator.spec.district_school``)
with its pupils and parents, written as the school keeps them: «Классы», «Ученики», «Родители»
as CSV (UTF-8, «;») and as one XLSX workbook. Each round imports them into a fresh database
with the school year set up, as its deputy, through ``exchange.Importer`` (every row checked,
the commands run in one unit of work, the people put into the vault). The anchor is reading the
same files with the bare libraries (``csv``, openpyxl in read-only mode), and nothing else: the
floor an import cannot go below. Printed: rows a second of each, and the ratio.

The export: the demo school's 5«А» mathematics page for its week, from the read models with the
pupils' names from the vault, to XLSX (``exchange.exports.journal_tables`` + ``files.xlsx_bytes``);
the anchor is openpyxl writing the very same cells. Printed: milliseconds of each.

    .venv/bin/python benchmarks/exchange.py [--rounds 3] [--pg URL]
"""

from __future__ import annotations

import argparse
import csv
import io
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import openpyxl

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ejournal import commands as c
from ejournal.exchange.exports import journal_tables, vault_names
from ejournal.exchange.files import Table, csv_bytes, xlsx_bytes
from ejournal.exchange.importer import Importer, Upload
from ejournal.generator import calendar as cal
from ejournal.generator.demo import DEMO_SEED, demo_plan, run_demo
from ejournal.generator.names import school_names
from ejournal.generator.spec import SchoolSpec, district_school
from ejournal.identity.tables import create_identity_tables
from ejournal.identity.vault import PersonalData, Vault
from ejournal.ledger.actor import SYSTEM_ACTOR, Actor, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain.values import PeriodScheme
from ejournal.projections import Projector, Queries
from ejournal.projections.lists import Lists

START = datetime(2025, 8, 25, 6, 0, tzinfo=UTC)


def school_files(spec: SchoolSpec) -> dict[str, list[list[str]]]:
    """The school's classes, pupils and parents as its sheets."""
    names = dict(school_names(spec, 1))
    classes = [["Класс"], *([k.name] for k in spec.classes)]
    pupils = [["Класс", "Фамилия", "Имя", "Отчество"]]
    parents = [["Фамилия", "Имя", "Отчество", "Ученик", "Класс ученика"]]
    for k in spec.classes:
        for student, family in zip(k.students, k.parents, strict=True):
            pupils.append([k.name, *names[student].split(" ", 2)])
            for parent in family:
                parents.append([*names[parent].split(" ", 2), names[student], k.name])
    return {"Классы": classes, "Ученики": pupils, "Родители": parents}


def open_year(ledger: Ledger) -> tuple[UUID, Actor]:
    school_id = c.handle(c.RegisterSchool(actor=SYSTEM_ACTOR, name="Школа"), ledger)
    account = c.handle(
        c.RegisterAccount(actor=SYSTEM_ACTOR, login="zavuch", person_id=UUID(int=7)), ledger
    )
    c.handle(
        c.GrantRole(actor=SYSTEM_ACTOR, account_id=account, role=Role.DEPUTY, school_id=school_id),
        ledger,
    )
    deputy = c.actor_for(ledger, account)
    year = {"actor": deputy, "school_id": school_id, "year_start": cal.YEAR}
    c.handle(c.OpenSchoolYear(**year), ledger)
    for scheme, periods in (
        (PeriodScheme.QUARTERS, cal.QUARTERS),
        (PeriodScheme.HALF_YEARS, cal.HALF_YEARS),
    ):
        c.handle(c.DefinePeriods(**year, scheme=scheme, periods=periods), ledger)
    c.handle(c.DefineBellSchedule(**year, slots=cal.BELLS), ledger)
    return school_id, deputy


def fresh(url: Callable[[], str]) -> tuple[Ledger, Vault, UUID, Actor]:
    ledger = Ledger(database_url=url(), clock=ManualClock(START))
    create_identity_tables(ledger.database)
    vault = Vault(ledger.database, secrets.token_bytes(32))
    Projector(ledger).catch_up()
    school_id, deputy = open_year(ledger)
    return ledger, vault, school_id, deputy


def read_bare(files: dict[str, bytes]) -> int:
    """The anchor: every row of the files read by the bare libraries."""
    rows = 0
    for name, content in files.items():
        if name.endswith(".xlsx"):
            workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
            for sheet in workbook.worksheets:
                rows += sum(1 for _ in sheet.iter_rows(values_only=True))
            workbook.close()
        else:
            text = content.decode("utf-8-sig")
            rows += sum(1 for _ in csv.reader(io.StringIO(text), delimiter=";"))
    return rows


def bench_import(url: Callable[[], str], rounds: int) -> None:
    spec = district_school(DEMO_SEED, 1, parallels=1)
    sheets = school_files(spec)
    tables = [Table(title, rows[0], rows[1:]) for title, rows in sheets.items()]
    data_rows = sum(len(t.rows) for t in tables)
    print(
        f"school: {len(spec.classes)} classes, {data_rows} data rows "
        f"({len(sheets['Ученики']) - 1} pupils, {len(sheets['Родители']) - 1} parent links)"
    )
    formats = {
        "CSV": {f"{t.title}.csv": csv_bytes(t) for t in tables},
        "XLSX": {"школа.xlsx": xlsx_bytes(tables)},
    }
    for label, files in formats.items():
        best_anchor = best_import = best_dry = float("inf")
        for _ in range(rounds):
            t = time.perf_counter()
            read_bare(files)
            best_anchor = min(best_anchor, time.perf_counter() - t)
            for dry_run in (True, False):
                ledger, vault, school_id, deputy = fresh(url)
                uploads = [Upload(name, content) for name, content in files.items()]
                t = time.perf_counter()
                report = Importer(ledger, vault).run(
                    uploads, actor=deputy, school_id=school_id, year_start=cal.YEAR,
                    dry_run=dry_run,
                )  # fmt: skip
                took = time.perf_counter() - t
                ledger.close()
                assert report.accepted, report.problems[:3]
                if dry_run:
                    best_dry = min(best_dry, took)
                else:
                    best_import = min(best_import, took)
        print(
            f"{label:4}: anchor {data_rows / best_anchor:9,.0f} rows/s | dry run "
            f"{data_rows / best_dry:7,.0f} rows/s | import {data_rows / best_import:7,.0f} rows/s"
            f" ({best_import:.2f} s; {best_import / best_anchor:.0f}× the anchor)"
        )


def bench_export(url: Callable[[], str], rounds: int) -> None:
    clock = ManualClock(datetime(2025, 8, 20, 6, 0, tzinfo=UTC))
    ledger = Ledger(database_url=url(), clock=clock)
    run_demo(ledger, clock)
    create_identity_tables(ledger.database)
    vault = Vault(ledger.database, secrets.token_bytes(32))
    (spec,) = demo_plan().schools
    for person, name in school_names(spec, DEMO_SEED):
        vault.put(person, PersonalData(name), school_id=spec.school_id, now=clock())
    Projector(ledger).catch_up()
    lists = Lists(ledger.database)
    fifth = lists.classes(spec.school_id, cal.YEAR, 5)[0]
    maths = next(s for s in lists.subjects(spec.school_id, cal.YEAR) if s.name == "Математика")
    queries = Queries(ledger.database)
    best_export = best_anchor = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        page = queries.class_journal(fifth.class_id, maths.subject_id)
        tables = journal_tables(page, vault_names(vault), title="5А Математика")
        content = xlsx_bytes(tables)
        best_export = min(best_export, time.perf_counter() - t)
        t = time.perf_counter()
        workbook = openpyxl.Workbook(write_only=True)
        for table in tables:
            sheet = workbook.create_sheet(table.title)
            sheet.append(list(table.header))
            for row in table.rows:
                sheet.append(list(row))
        workbook.save(io.BytesIO())
        best_anchor = min(best_anchor, time.perf_counter() - t)
    ledger.close()
    print(
        f"journal export (5А, mathematics, {len(page.lessons)} lessons × {len(page.rows)} pupils,"
        f" {len(content)} bytes): {best_export * 1000:.1f} ms; anchor (openpyxl writing the same "
        f"cells) {best_anchor * 1000:.1f} ms; ratio {best_export / best_anchor:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg", help="A PostgreSQL server URL (a database is made per round).")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ejournal-exchange-"))
    count = iter(range(1_000_000))
    made: list[str] = []
    if args.pg:
        import psycopg

        def url() -> str:
            name = f"ejournal_bench_{next(count)}_{secrets.token_hex(4)}"
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            made.append(name)
            return args.pg.rsplit("/", 1)[0] + "/" + name
    else:

        def url() -> str:
            return f"sqlite:///{work / f'round{next(count)}.db'}"

    print(f"backend: {'PostgreSQL' if args.pg else 'SQLite'}")
    try:
        bench_import(url, args.rounds)
        bench_export(url, args.rounds)
    finally:
        if made:
            with psycopg.connect(args.pg, autocommit=True) as conn:
                for name in made:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
