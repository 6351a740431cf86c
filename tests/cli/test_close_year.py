"""`ejournal close-year` (п. 2.11): closes, certifies, signs, archives; the archive verifies."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from typer.testing import CliRunner

from ejournal.cli.main import cli
from ejournal.identity.tables import create_identity_tables
from ejournal.identity.vault import VAULT_KEY_VARIABLE, PersonalData, Vault, new_key
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.keys import KeyStore
from tests.archive.support import record_year
from tests.commands.school import build_school, count_events

runner = CliRunner()


def test_close_year_from_the_command_line(
    ledger: Ledger, clock: ManualClock, database_url: str, tmp_path: Path
) -> None:
    school = build_school(ledger)
    record_year(school, clock)
    KeyStore(ledger.database).create("test.ejournal", b"deployment secret")
    env = {
        "EJOURNAL_ORIGIN": "test.ejournal",
        "EJOURNAL_KEY_PASSPHRASE": "deployment secret",
        "EJOURNAL_SIGNATORY_PASSPHRASE": "head's own secret",
    }
    args = ["--school", str(school.school_id), "--year", "2025", "--head", "head"]
    out = tmp_path / "archive"
    unsealed_nothing = runner.invoke(
        cli, ["close-year", *args, "--out", str(out), "--database-url", database_url], env=env
    )
    assert unsealed_nothing.exit_code == 1
    assert "no certifying key" in unsealed_nothing.output

    closed = runner.invoke(
        cli,
        ["close-year", *args, "--new-key", "--out", str(out), "--database-url", database_url],
        env=env,
    )
    assert closed.exit_code == 0, closed.output
    assert "1 summary sheets certified" in closed.output
    assert "no EJOURNAL_VAULT_KEY: the printouts name people by a short ID" in closed.output

    keys = tmp_path / "district.vkeys"
    keys.write_text(KeyStore(ledger.database).all_keys()[0].vkey + "\n", encoding="utf-8")
    verified = runner.invoke(cli, ["verify-archive", str(out), "--keys", str(keys), "--json"])
    assert verified.exit_code == 0, verified.output
    assert '"documents": ["summary-05-A"]' in verified.output

    # п. 2.11: run again on the closed year: refused in one line, and nothing written (it
    # certified the sheets again and signed more checkpoints; --new-key made another key).
    entries, signatories = count_events(ledger), _signatory_keys(ledger)
    again = tmp_path / "again"
    args = [*args, "--new-key", "--out", str(again), "--database-url", database_url]
    repeated = runner.invoke(cli, ["close-year", *args], env=env)
    assert repeated.exit_code == 1, repeated.output
    (line,) = repeated.output.strip().splitlines()
    assert "year.already_closed" in line and "2025/2026 уже закрыт" in line
    assert count_events(ledger) == entries
    assert _signatory_keys(ledger) == signatories
    assert not again.exists()


def _signatory_keys(ledger: Ledger) -> int:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT COUNT(*) FROM signatory_keys")
        return int(cursor.fetchone()[0])


def test_dispose_from_the_command_line_refuses_when_nothing_has_expired(
    ledger: Ledger, clock: ManualClock, database_url: str
) -> None:
    # ГОСТ Р ИСО 15489-1 disposition: a 2025/26 journal is kept until 2032 (successful disposition:
    # tests/archive/test_disposition.py).
    school = build_school(ledger)
    record_year(school, clock)
    result = runner.invoke(
        cli,
        ["dispose", "--log", school.log_id, "--reason", "Акт № 1", "--database-url", database_url],
    )
    assert result.exit_code == 1
    assert "disposition.nothing_due" in result.output


def test_close_year_names_the_pupils_from_the_vault(
    ledger: Ledger, clock: ManualClock, database_url: str, tmp_path: Path
) -> None:
    # п. 3.1, 1.7: the certified summary sheet names its pupils by their full names from the
    # vault (a forgotten pupil «данные удалены»); without a key the command says it used IDs.
    school = build_school(ledger)
    record_year(school, clock)
    KeyStore(ledger.database).create("test.ejournal", b"deployment secret")
    key = new_key()
    create_identity_tables(ledger.database)
    vault = Vault(ledger.database, base64.b64decode(key))
    first, second = school.students[:2]
    now = clock()
    vault.put(first, PersonalData("Иванова Мария Петровна"), school_id=school.school_id, now=now)
    vault.put(second, PersonalData("Сидоров Олег"), school_id=school.school_id, now=now)
    vault.forget(second, now=now)
    env = {
        "EJOURNAL_ORIGIN": "test.ejournal",
        "EJOURNAL_KEY_PASSPHRASE": "deployment secret",
        "EJOURNAL_SIGNATORY_PASSPHRASE": "head's own secret",
        VAULT_KEY_VARIABLE: key,
    }
    out = tmp_path / "archive"
    args = ["--school", str(school.school_id), "--year", "2025", "--head", "head", "--new-key"]
    closed = runner.invoke(
        cli, ["close-year", *args, "--out", str(out), "--database-url", database_url], env=env
    )
    assert closed.exit_code == 0, closed.output
    assert "short ID" not in closed.output
    (sheet,) = out.rglob("summary-05-A.json")
    names = json.loads(sheet.read_text(encoding="utf-8"))["names"]
    assert names[str(first)] == "Иванова Мария Петровна"
    assert names[str(second)] == "данные удалены"
    assert names[str(school.students[2])] == f"ID …{school.students[2].hex[-6:]}"
