"""`ejournal print journal|diary|summary` and `ejournal verify-printout` (п. 1.6, 2.9, 3.1): a
certified PDF/A from the command line, named from the vault, that verify-printout accepts with the
deployment's (and the head's) keys and refuses, with its reason, once tampered with."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pikepdf
from typer.testing import CliRunner

from ejournal.cli.main import cli
from ejournal.identity.tables import create_identity_tables
from ejournal.identity.vault import VAULT_KEY_VARIABLE, PersonalData, Vault, new_key
from ejournal.integrity.note import generate_signer
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.signatories import SignatoryKeyStore
from tests.archive.support import record_year
from tests.commands.school import build_school
from tests.documents.support import text_of

runner = CliRunner()
PUPIL = "Абдуллаев Магомед Расулович"


def test_print_and_verify_from_the_command_line(
    ledger: Ledger, clock: ManualClock, database_url: str, tmp_path: Path
) -> None:
    school = build_school(ledger)
    record_year(school, clock)
    KeyStore(ledger.database).create("test.ejournal", b"deployment secret")
    SignatoryKeyStore(ledger.database).create(school.person["head"], b"head's own secret")
    kek = new_key()
    create_identity_tables(ledger.database)
    vault = Vault(ledger.database, base64.b64decode(kek))
    vault.put(school.students[0], PersonalData(PUPIL), school_id=school.school_id, now=clock())
    env = {
        "EJOURNAL_ORIGIN": "test.ejournal",
        "EJOURNAL_KEY_PASSPHRASE": "deployment secret",
        "EJOURNAL_SIGNATORY_PASSPHRASE": "head's own secret",
        VAULT_KEY_VARIABLE: kek,
    }
    db = ["--database-url", database_url]
    diary = tmp_path / "diary.pdf"
    printed = runner.invoke(
        cli,
        ["print", "diary", "--class", str(school.class_id), "--student",
         str(school.students[0]), "--week", "2025-09-03", "--out", str(diary), *db],
        env=env,
    )  # fmt: skip
    assert printed.exit_code == 0, printed.output
    assert "certified by the journal's seal" in printed.output
    assert PUPIL in " ".join(text_of(diary.read_bytes()).split())

    keys = tmp_path / "district.vkeys"
    keys.write_text(KeyStore(ledger.database).all_keys()[0].vkey + "\n", encoding="utf-8")
    verified = runner.invoke(cli, ["verify-printout", str(diary), "--keys", str(keys)])
    assert verified.exit_code == 0, verified.output
    assert "OK" in verified.output and "the QR code holds certificate.txt" in verified.output

    summary = tmp_path / "summary.pdf"
    by_head = runner.invoke(
        cli,
        ["print", "summary", "--class", str(school.class_id), "--period", "I четверть",
         "--head", "head", "--out", str(summary), *db],
        env=env,
    )  # fmt: skip
    assert by_head.exit_code == 0, by_head.output
    assert "certified by the head" in by_head.output
    # The head's key is not in district.vkeys: the database's registered keys verify it.
    untrusted = runner.invoke(cli, ["verify-printout", str(summary), "--keys", str(keys)])
    assert untrusted.exit_code == 1
    assert "FAILED" in untrusted.output and "UnknownKeyError" in untrusted.output
    from_database = runner.invoke(cli, ["verify-printout", str(summary), *db])
    assert from_database.exit_code == 0, from_database.output
    assert "keys read from the database" in from_database.output

    journal = tmp_path / "journal.pdf"
    pages = runner.invoke(
        cli,
        ["print", "journal", "--roster", str(school.class_id), "--subject",
         str(school.subjects["Математика"]), "--from", "2025-09-01", "--to", "2025-09-30",
         "--out", str(journal), *db],
        env=env,
    )  # fmt: skip
    assert pages.exit_code == 0, pages.output
    assert runner.invoke(cli, ["verify-printout", str(journal), *db]).exit_code == 0


def test_verify_printout_says_why_a_file_fails(
    ledger: Ledger, clock: ManualClock, database_url: str, tmp_path: Path
) -> None:
    school = build_school(ledger)
    record_year(school, clock)
    KeyStore(ledger.database).create("test.ejournal", b"deployment secret")
    env = {"EJOURNAL_ORIGIN": "test.ejournal", "EJOURNAL_KEY_PASSPHRASE": "deployment secret"}
    db = ["--database-url", database_url]
    sheet = tmp_path / "summary.pdf"
    made = runner.invoke(
        cli, ["print", "summary", "--class", str(school.class_id), "--out", str(sheet), *db],
        env=env,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "no EJOURNAL_VAULT_KEY: the printouts name people by a short ID" in made.output
    keys = tmp_path / "district.vkeys"
    keys.write_text(KeyStore(ledger.database).all_keys()[0].vkey + "\n", encoding="utf-8")

    with pikepdf.open(io.BytesIO(sheet.read_bytes())) as document:
        data = document.attachments["document.json"].get_file().read_bytes()
        document.attachments["document.json"] = pikepdf.AttachedFileSpec(
            document, data.replace(b'"5"', b'"4"', 1), filename="document.json"
        )
        tampered = tmp_path / "tampered.pdf"
        document.save(tampered)
    changed = runner.invoke(cli, ["verify-printout", str(tampered), "--keys", str(keys), "--json"])
    assert changed.exit_code == 1
    assert '"error": "DocumentMismatchError"' in changed.output
    assert "differs from the certified one" in changed.output

    stranger = tmp_path / "stranger.vkeys"
    stranger.write_text(generate_signer("test.ejournal").vkey + "\n", encoding="utf-8")
    wrong_key = runner.invoke(cli, ["verify-printout", str(sheet), "--keys", str(stranger)])
    assert wrong_key.exit_code == 1 and "UnknownKeyError" in wrong_key.output

    again = runner.invoke(
        cli, ["print", "summary", "--class", str(school.class_id), "--out", str(sheet), *db],
        env=env,
    )  # fmt: skip
    assert again.exit_code == 2 and "exists" in again.output
    not_an_id = runner.invoke(
        cli, ["print", "summary", "--class", "5А", "--out", str(tmp_path / "x.pdf"), *db], env=env
    )
    assert not_an_id.exit_code == 2 and "--class must be an ID" in not_an_id.output
    missing = runner.invoke(cli, ["verify-printout", str(tmp_path / "none.pdf")])
    assert missing.exit_code == 2 and "cannot read" in missing.output
