"""An unsigned or removed tail, seen from outside the database (issue 19, item 13).

A forger with the database can delete a log's last entries together with the checkpoints that
cover them: what is left verifies. Checkpoints kept outside the database (``ejournal
export-checkpoints``, or ``GET /ledger/checkpoints``) close the gap: ``verify --checkpoint FILE``
fails when the database's log is shorter than one of them, or differs at its size (a fork).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ejournal.cli.main import cli
from ejournal.integrity.checkpoint import Checkpoint, sign_checkpoint
from ejournal.integrity.errors import MissingEntryError, RootMismatchError
from ejournal.integrity.note import generate_signer
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import load_checkpoints
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.verify import (
    read_checkpoint_notes,
    verify_ledger,
    verify_witnessed,
    witnessed_checkpoints,
)
from tests.ledger.support import Forger, write_notebooks
from tests.ledger.test_checkpoints import (
    LOG,
    ORIGIN,
    SECRET,
    all_rows,
    checkpointer,
    rebuild_log,
    trusted_keys_file,
)

runner = CliRunner()
ENV = {"EJOURNAL_ORIGIN": ORIGIN, "EJOURNAL_KEY_PASSPHRASE": SECRET.decode()}


@pytest.fixture
def keys(ledger: Ledger) -> KeyStore:
    store = KeyStore(ledger.database, clock=ledger.clock)
    store.create(ORIGIN, SECRET)
    return store


def export(database_url: str, out: Path) -> None:
    result = runner.invoke(
        cli, ["export-checkpoints", "--out", str(out), "--database-url", database_url], env=ENV
    )
    assert result.exit_code == 0, result.output


def verify_against(
    database_url: str, keys_file: Path, witness: Path
) -> tuple[int, dict[str, object]]:
    result = runner.invoke(
        cli,
        [
            "verify",
            "--json",
            "--keys",
            str(keys_file),
            "--checkpoint",
            str(witness),
            "--database-url",
            database_url,
        ],
        env=ENV,
    )
    return result.exit_code, json.loads(result.stdout)


def signed_twice(ledger: Ledger, keys: KeyStore) -> None:
    """A log of 9 entries with checkpoints at 6 and 9."""
    signer = checkpointer(ledger, keys)
    write_notebooks(ledger, count=2)
    signer.checkpoint(LOG)
    write_notebooks(ledger, count=1)
    signer.checkpoint(LOG)


def test_an_intact_database_contains_the_exported_checkpoints(
    ledger: Ledger, keys: KeyStore, database_url: str, tmp_path: Path
) -> None:
    signed_twice(ledger, keys)
    witness = tmp_path / "latest.checkpoints"
    export(database_url, witness)
    write_notebooks(ledger, count=1, log_id="other/log")
    checkpointer(ledger, keys).checkpoint("other/log")
    export(database_url, tmp_path / "both.checkpoints")
    assert len(read_checkpoint_notes(witness.read_text())) == 1
    assert len(read_checkpoint_notes((tmp_path / "both.checkpoints").read_text())) == 2
    write_notebooks(ledger, count=1)  # the log goes on after the auditor's copy: fine

    code, body = verify_against(database_url, trusted_keys_file(keys, tmp_path), witness)
    assert (code, body["ok"]) == (0, True)
    assert body["witnessed"] == [
        {
            "log_id": LOG,
            "size": 9,
            "root": load_checkpoints(ledger.database)[LOG][1].root_hash.hex(),
        }
    ]
    code, _ = verify_against(
        database_url, trusted_keys_file(keys, tmp_path), tmp_path / "both.checkpoints"
    )
    assert code == 0


def test_a_tail_deleted_with_its_checkpoint_is_named(
    ledger: Ledger, keys: KeyStore, database_url: str, tmp_path: Path
) -> None:
    # The case: the last entries and the checkpoint that covers them, deleted as a
    # superuser would. Inside the database nothing is amiss; the auditor's copy says otherwise.
    signed_twice(ledger, keys)
    witness = tmp_path / "latest.checkpoints"
    export(database_url, witness)
    keys_file = trusted_keys_file(keys, tmp_path)
    assert verify_against(database_url, keys_file, witness)[0] == 0

    Forger(database_url).execute(
        ("DELETE FROM stored_events WHERE log_id = ? AND idx >= 6", (LOG,)),
        ("DELETE FROM checkpoints WHERE log_id = ? AND size = 9", (LOG,)),
    )

    verify_ledger(ledger.database, verifiers=keys.verifiers(), origin=ORIGIN)  # no complaint
    plain = runner.invoke(
        cli, ["verify", "--keys", str(keys_file), "--database-url", database_url], env=ENV
    )
    assert plain.exit_code == 0
    code, body = verify_against(database_url, keys_file, witness)
    assert (code, body["ok"], body["error"]) == (1, False, "MissingEntryError")
    assert (body["where"], body["expected"], body["found"]) == (
        "log test/log index 6",
        "at least 9 entries",
        "6 entries",
    )
    text = runner.invoke(
        cli,
        [
            "verify",
            "--keys",
            str(keys_file),
            "--checkpoint",
            str(witness),
            "--database-url",
            database_url,
        ],
        env=ENV,
    )
    assert text.exit_code == 1 and "log test/log index 6" in text.output
    assert "Traceback" not in text.output


def test_a_deleted_checkpoint_alone_is_named(
    ledger: Ledger, keys: KeyStore, database_url: str, tmp_path: Path
) -> None:
    signed_twice(ledger, keys)
    witness = tmp_path / "latest.checkpoints"
    export(database_url, witness)
    Forger(database_url).execute(("DELETE FROM checkpoints WHERE log_id = ? AND size = 9", (LOG,)))
    code, body = verify_against(database_url, trusted_keys_file(keys, tmp_path), witness)
    assert (code, body["error"], body["where"]) == (
        1,
        "MissingEntryError",
        "log test/log checkpoint at size 9",
    )


def test_a_forked_tail_is_named(
    ledger: Ledger, keys: KeyStore, database_url: str, tmp_path: Path
) -> None:
    # A careful forger rewrites the entries after the checkpoint at 6, recomputes every hash and
    # deletes the checkpoint at 9: the database is consistent, at the same size, with another root.
    signed_twice(ledger, keys)
    witness = tmp_path / "latest.checkpoints"
    export(database_url, witness)
    rows = all_rows(ledger)
    rows[7][6] = int(rows[7][6]) + 1  # recorded a microsecond later
    Forger(database_url).execute(("DELETE FROM checkpoints WHERE log_id = ? AND size = 9", (LOG,)))
    rebuild_log(database_url, ledger, from_index=6, rows=rows)
    report = verify_ledger(ledger.database, verifiers=keys.verifiers(), origin=ORIGIN)
    assert report.logs[0].size == 9  # consistent inside: 3 unsigned entries

    code, body = verify_against(database_url, trusted_keys_file(keys, tmp_path), witness)
    assert (code, body["error"], body["where"]) == (
        1,
        "RootMismatchError",
        "log test/log checkpoint at size 9",
    )


def test_a_whole_log_deleted_is_named(
    ledger: Ledger, keys: KeyStore, database_url: str, tmp_path: Path
) -> None:
    signed_twice(ledger, keys)
    witness = tmp_path / "latest.checkpoints"
    export(database_url, witness)
    Forger(database_url).execute(
        ("DELETE FROM stored_events WHERE log_id = ?", (LOG,)),
        ("DELETE FROM checkpoints WHERE log_id = ?", (LOG,)),
    )
    code, body = verify_against(database_url, trusted_keys_file(keys, tmp_path), witness)
    assert (code, body["error"], body["where"], body["found"]) == (
        1,
        "MissingEntryError",
        "log test/log index 0",
        "0 entries",
    )


def test_the_json_of_the_api_is_a_witness_too(ledger: Ledger, keys: KeyStore) -> None:
    signed_twice(ledger, keys)
    notes = [cp.note for cp in load_checkpoints(ledger.database)[LOG]]
    document = json.dumps([{"log_id": LOG, "size": 6, "note": notes[0]}, {"note": notes[1]}])
    witnessed = witnessed_checkpoints(read_checkpoint_notes(document), keys.verifiers(), ORIGIN)
    assert [cp.size for cp in witnessed[LOG]] == [6, 9]
    report = verify_ledger(
        ledger.database, verifiers=keys.verifiers(), origin=ORIGIN, witness={LOG: [6, 9]}
    )
    verify_witnessed(report, witnessed)
    report.logs[0].size = 8
    with pytest.raises(MissingEntryError, match="shorter"):
        verify_witnessed(report, witnessed)
    report.logs[0].size = 9
    report.logs[0].roots[6] = bytes(32)
    with pytest.raises(RootMismatchError, match="fork") as raised:
        verify_witnessed(report, witnessed)
    assert raised.value.where == "log test/log checkpoint at size 6"


def test_a_witness_by_another_key_or_deployment_is_refused(
    ledger: Ledger, keys: KeyStore, database_url: str, tmp_path: Path
) -> None:
    signed_twice(ledger, keys)
    keys_file = trusted_keys_file(keys, tmp_path)
    forged = tmp_path / "forged.checkpoints"
    forged.write_text(
        sign_checkpoint(Checkpoint(f"{ORIGIN}/{LOG}", 3, bytes(32)), [generate_signer(ORIGIN)])
    )
    code, body = verify_against(database_url, keys_file, forged)
    assert (code, body["error"], body["where"]) == (1, "UnknownKeyError", "witnessed checkpoint 1")
    malformed = tmp_path / "malformed.checkpoints"
    malformed.write_text("not a checkpoint\n")
    result = runner.invoke(
        cli,
        [
            "verify",
            "--keys",
            str(keys_file),
            "--checkpoint",
            str(malformed),
            "--database-url",
            database_url,
        ],
        env=ENV,
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_export_without_a_checkpoint_is_an_error(ledger: Ledger, database_url: str) -> None:
    write_notebooks(ledger, count=1)
    result = runner.invoke(cli, ["export-checkpoints", "--database-url", database_url], env=ENV)
    assert result.exit_code == 1 and "no signed checkpoint" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_an_unknown_log_is_an_error(ledger: Ledger, keys: KeyStore, database_url: str) -> None:
    # `ejournal checkpoint nosuchlog` said "nothing to sign" with exit 0.
    write_notebooks(ledger, count=1)
    result = runner.invoke(
        cli, ["checkpoint", "nosuchlog", "--database-url", database_url], env=ENV
    )
    assert result.exit_code == 1, result.output
    assert "no log 'nosuchlog'" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    signed = runner.invoke(cli, ["checkpoint", LOG, "--database-url", database_url], env=ENV)
    assert signed.exit_code == 0 and f"{LOG}: signed size 3" in signed.output
    again = runner.invoke(cli, ["checkpoint", LOG, "--database-url", database_url], env=ENV)
    assert again.exit_code == 0 and "nothing to sign" in again.output
