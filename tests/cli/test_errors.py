"""Every command fails with one line and a nonzero exit code, never a traceback; a command that
reads refuses a database that does not exist instead of creating an empty one and reporting on
it (SQLite file missing, PostgreSQL database missing); only commands that create may create."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner, Result

from ejournal.cli.main import cli
from ejournal.ledger.application import Ledger
from ejournal.ledger.keys import KeyStore
from tests.commands.school import build_school
from tests.conftest import PG_ADMIN_URL

runner = CliRunner()
SCHOOL = "00000000-0000-0000-0000-000000000042"
ENV = {
    "EJOURNAL_KEY_PASSPHRASE": "deployment secret",
    "EJOURNAL_SIGNATORY_PASSPHRASE": "head's own secret",
    "EJOURNAL_SMTP_HOST": "127.0.0.1",
    "EJOURNAL_VAULT_KEY": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
}


def one_line_error(result: Result) -> str:
    """The one line a refused command printed (exit code nonzero, no exception escaped)."""
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]


BAG = ["--out", "{tmp}/bag"]
READING: dict[str, list[str]] = {
    "verify": ["verify"],
    "checkpoint": ["checkpoint"],
    "export-checkpoints": ["export-checkpoints"],
    "export-tiles": ["export-tiles", "--out", "{tmp}/tiles"],
    "prove": ["prove", f"{SCHOOL}:1"],
    "project": ["project"],
    "keys rotate": ["keys", "rotate"],
    "keys retire": ["keys", "retire", "vkey"],
    "keys export": ["keys", "export"],
    "archive": ["archive", "--school", SCHOOL, "--year", "2025", "--out", "{tmp}/bag"],
    "close-year": ["close-year", "--school", SCHOOL, "--year", "2025", "--head", "head", *BAG],
    "dispose": ["dispose", "--log", f"school/{SCHOOL}/2025-2026", "--reason", "Акт № 1"],
    "digest": ["digest", "--week", "2025-W36"],
    "backup": ["backup", "{tmp}/backup.db"],
}
"""Every command that reads the database, with arguments that would otherwise do."""


def _args(args: list[str], tmp_path: Path) -> list[str]:
    return [arg.replace("{tmp}", str(tmp_path)) for arg in args]


@pytest.mark.parametrize("command", sorted(READING))
def test_a_reading_command_refuses_a_missing_sqlite_database(command: str, tmp_path: Path) -> None:
    # `ejournal verify` on a missing file created an empty database and said "OK 0 entries".
    database = tmp_path / "typo" / "ejournal.db"
    url = f"sqlite:///{database}"
    result = runner.invoke(
        cli, [*_args(READING[command], tmp_path), "--database-url", url], env=ENV
    )
    line = one_line_error(result)
    assert "no database at" in line and "nothing was created" in line
    assert result.exit_code == 2
    assert not database.exists() and not database.parent.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["verify", "project", "backup", "keys export", "close-year"])
def test_a_reading_command_refuses_a_missing_postgres_database(
    command: str, tmp_path: Path, pg_available: None
) -> None:
    name = f"ejournal_missing_{uuid.uuid4().hex[:8]}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    result = runner.invoke(
        cli, [*_args(READING[command], tmp_path), "--database-url", url], env=ENV
    )
    line = one_line_error(result)
    assert f"PostgreSQL database '{name}' does not exist" in line
    with psycopg.connect(PG_ADMIN_URL) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    assert found is None


BAD_URLS = [
    ("foo://x", "unsupported database URL"),
    ("sqlite:///", "no file in SQLite URL"),
    ("postgresql://postgres@127.0.0.1:1/ejournal", "cannot connect to PostgreSQL"),
    ("postgresql://postgres@127.0.0.1/db?sslmode=require", "the one parameter supported"),
    ("postgresql://postgres@127.0.0.1:5432/", "no database name"),
]


@pytest.mark.parametrize(("url", "said"), BAD_URLS, ids=[u for u, _ in BAD_URLS])
@pytest.mark.parametrize(
    "args",
    [
        ["verify"],
        ["backup", "{tmp}/backup.db"],
        ["restore", "{tmp}/backup.db"],
        ["generate", "--schools", "1", "--weeks", "1"],
        ["keys", "init"],
        ["digest", "--week", "2025-W36"],
        ["close-year", "--school", SCHOOL, "--year", "2025", "--head", "h", "--out", "{tmp}/o"],
    ],
    ids=lambda args: args[0],
)
def test_a_bad_database_url_is_one_line(
    args: list[str], url: str, said: str, tmp_path: Path
) -> None:
    (tmp_path / "backup.db").write_bytes(b"SQLite format 3\x00")
    result = runner.invoke(cli, [*_args(args, tmp_path), "--database-url", url], env=ENV)
    assert said in one_line_error(result)


def test_the_commands_that_create_may_create(tmp_path: Path) -> None:
    # `keys init` is a new deployment's first step (docs/operations.md): it creates the file.
    database = tmp_path / "new" / "ejournal.db"
    url = f"sqlite:///{database}"
    created = runner.invoke(cli, ["keys", "init", "--database-url", url], env=ENV)
    assert created.exit_code == 0, created.output
    assert database.exists()
    ledger = Ledger(database_url=url)
    try:
        assert len(KeyStore(ledger.database).all_keys()) == 1
    finally:
        ledger.close()


@pytest.mark.parametrize(
    ("option", "value"),
    [("--weeks", "-1"), ("--weeks", "0"), ("--schools", "0"), ("--parallels", "0")],
)
def test_generate_refuses_counts_below_one(option: str, value: str, tmp_path: Path) -> None:
    database = tmp_path / "district.db"
    result = runner.invoke(
        cli, ["generate", option, value, "--database-url", f"sqlite:///{database}"]
    )
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "greater than or equal to 1" in result.output and option in result.output
    assert not database.exists()


def test_restore_of_a_missing_backup_is_one_line(tmp_path: Path) -> None:
    target = tmp_path / "restored" / "ejournal.db"
    result = runner.invoke(
        cli, ["restore", str(tmp_path / "nope.db"), "--database-url", f"sqlite:///{target}"]
    )
    assert "no backup at" in one_line_error(result)
    assert not target.parent.exists()


def test_a_backup_into_a_missing_folder_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    Ledger(database_url=url).close()
    destination = tmp_path / "backups" / "ejournal.db"
    result = runner.invoke(cli, ["backup", str(destination), "--database-url", url])
    assert "does not exist" in one_line_error(result)
    assert not destination.parent.exists()


def test_close_year_of_an_unknown_school_or_year_is_one_line(
    ledger: Ledger, database_url: str, tmp_path: Path
) -> None:
    school = build_school(ledger)
    base = ["close-year", "--head", "head", "--database-url", database_url]
    cases: list[tuple[list[str], str]] = [
        (["--school", SCHOOL, "--year", "2025"], "school.not_found"),
        (["--school", str(school.school_id), "--year", "2031"], "year.not_found"),
        (["--school", "not-a-uuid", "--year", "2025"], "--school must be a school's ID"),
        (["--school", str(school.school_id), "--year", "2025", "--head", "nobody"], "account."),
    ]
    for extra, said in cases:
        result = runner.invoke(cli, [*base, *extra, "--out", str(tmp_path / "bag")], env=ENV)
        assert said in one_line_error(result), extra
        assert not (tmp_path / "bag").exists()


def _subprocess(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from ejournal.cli.main import main; main()", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
    )


@pytest.mark.parametrize(
    "args",
    [
        ["verify", "--database-url", "sqlite:///{tmp}/missing.db"],
        ["restore", "{tmp}/missing.db", "--database-url", "sqlite:///{tmp}/target.db"],
        ["verify", "--database-url", "postgresql://postgres@127.0.0.1:1/ejournal"],
    ],
    ids=["missing database", "missing backup", "unreachable server"],
)
def test_the_real_entry_point_prints_one_line(args: list[str], tmp_path: Path) -> None:
    # Through `main()`, as a shell runs it: no traceback on stderr, nothing on stdout.
    done = _subprocess(*_args(args, tmp_path))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("error: ")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("url", "said"), BAD_URLS, ids=[u for u, _ in BAD_URLS])
@pytest.mark.parametrize("args", [["demo"], ["serve"]], ids=lambda args: args[0])
def test_the_service_commands_refuse_a_bad_database_in_one_line(
    args: list[str], url: str, said: str, tmp_path: Path
) -> None:
    # serve and demo create a missing SQLite file, never a PostgreSQL database, and never start
    # on a URL they cannot use.
    result = runner.invoke(cli, [*args, "--database-url", url], env=ENV)
    assert said in one_line_error(result)


def test_serve_refuses_a_missing_postgres_database(pg_available: None) -> None:
    name = f"ejournal_missing_{uuid.uuid4().hex[:8]}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    result = runner.invoke(cli, ["serve", "--database-url", url], env=ENV)
    assert f"PostgreSQL database '{name}' does not exist" in one_line_error(result)


@pytest.mark.parametrize(
    ("option", "value"), [("--port", "0"), ("--port", "65536"), ("--workers", "0")]
)
def test_serve_refuses_impossible_ports_and_worker_counts(option: str, value: str) -> None:
    result = runner.invoke(cli, ["serve", option, value], env=ENV)
    assert result.exit_code == 2
    assert f"Invalid value for '{option}'" in result.output
