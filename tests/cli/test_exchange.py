"""`ejournal import` and `ejournal export` (п. 2.2): a school's files go in all or nothing, from the
command line as over HTTP; what comes out reads back with the names the vault holds."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
from typer.testing import CliRunner

from ejournal.cli.main import cli
from ejournal.identity.vault import VAULT_KEY_VARIABLE, new_key
from ejournal.ledger.application import Ledger
from tests.commands.school import build_school, count_events
from tests.exchange.support import CLASSES, PARENTS, PUPILS, csv_file

runner = CliRunner()


def test_import_refuses_a_bad_row_then_imports_and_exports_from_the_command_line(
    ledger: Ledger, database_url: str, tmp_path: Path
) -> None:
    school = build_school(ledger)
    env = {VAULT_KEY_VARIABLE: new_key()}
    common = ["--school", str(school.school_id), "--year", "2025", "--database-url", database_url]
    classes, pupils, parents = (
        tmp_path / "классы.csv",
        tmp_path / "ученики.csv",
        tmp_path / "родители.csv",
    )
    classes.write_bytes(csv_file(CLASSES, encoding="cp1251"))
    parents.write_bytes(csv_file(PARENTS))
    bad = [*PUPILS[:2], ["6Б", "Иванова", "Мария", "Петровна", "31.02.2013", ""]]
    pupils.write_bytes(csv_file(bad))
    files = [str(classes), str(pupils), str(parents)]

    # п. 2.2: one impossible date refuses all three files, names its sheet, row and column, and
    # nothing is written; the exit code says so.
    before = count_events(ledger)
    refused = runner.invoke(cli, ["import", *files, "--as", "deputy", *common], env=env)
    assert refused.exit_code == 1, refused.output
    assert "31.02.2013" in refused.output
    assert "Дата рождения" in refused.output
    assert count_events(ledger) == before

    pupils.write_bytes(csv_file(PUPILS))
    dry = runner.invoke(cli, ["import", *files, "--as", "deputy", "--dry-run", *common], env=env)
    assert dry.exit_code == 0, dry.output
    assert count_events(ledger) == before

    done = runner.invoke(cli, ["import", *files, "--as", "deputy", *common], env=env)
    assert done.exit_code == 0, done.output
    assert count_events(ledger) > before

    out = tmp_path / "ученики-выгрузка.csv"
    exported = runner.invoke(
        cli, ["export", "setup", "--kind", "pupils", "--out", str(out), *common], env=env
    )
    assert exported.exit_code == 0, exported.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")), delimiter=";"))
    header = rows[0]
    names = {(r[header.index("Фамилия")], r[header.index("Имя")]) for r in rows[1:]}
    assert {("Алиев", "Магомед"), ("Иванова", "Мария"), ("Ёлкин", "Пётр")} <= names

    workbook_path = tmp_path / "настройка.xlsx"
    whole = runner.invoke(cli, ["export", "setup", "--out", str(workbook_path), *common], env=env)
    assert whole.exit_code == 0, whole.output
    titles = openpyxl.load_workbook(workbook_path, read_only=True).sheetnames
    assert {"Классы", "Ученики", "Родители"} <= set(titles)


def test_import_as_a_teacher_is_refused_in_one_line(
    ledger: Ledger, database_url: str, tmp_path: Path
) -> None:
    school = build_school(ledger)
    env = {VAULT_KEY_VARIABLE: new_key()}
    classes = tmp_path / "классы.csv"
    classes.write_bytes(csv_file(CLASSES))
    before = count_events(ledger)
    result = runner.invoke(
        cli,
        [
            "import",
            str(classes),
            "--school",
            str(school.school_id),
            "--year",
            "2025",
            "--as",
            "russian",
            "--database-url",
            database_url,
        ],
        env=env,
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert count_events(ledger) == before
