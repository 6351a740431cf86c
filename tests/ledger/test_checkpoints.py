"""Signed checkpoints, keys, receipts, and total verification with its tamper catalogue (I5, I6)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ejournal.cli.main import cli
from ejournal.integrity.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from ejournal.integrity.errors import (
    ChainError,
    LeafMismatchError,
    MissingEntryError,
    RootMismatchError,
    UnknownKeyError,
)
from ejournal.integrity.leaf import CHAIN_GENESIS, chain_hash, encode_leaf, leaf_hash
from ejournal.integrity.note import generate_signer
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer
from ejournal.ledger.keys import KeyStore, KeyStoreError
from ejournal.ledger.replay import COLUMN_NAMES, leaf_of_row
from ejournal.ledger.verify import verify_ledger
from tests.ledger.support import Forger, write_notebooks

ORIGIN = "test.ejournal"
SECRET = b"correct horse battery staple"
LOG = "test/log"
runner = CliRunner()


@pytest.fixture
def keys(ledger: Ledger) -> KeyStore:
    store = KeyStore(ledger.database, clock=ledger.clock)
    store.create(ORIGIN, SECRET)
    return store


def checkpointer(ledger: Ledger, keys: KeyStore, **kwargs: object) -> Checkpointer:
    return Checkpointer(
        ledger.database,
        origin=ORIGIN,
        signers=keys.signers(SECRET),
        verifiers=keys.verifiers(),
        clock=ledger.clock,
        **kwargs,  # type: ignore[arg-type]
    )


def trusted_keys_file(keys: KeyStore, tmp_path: Path) -> Path:
    path = tmp_path / "trusted.vkeys"
    path.write_text("\n".join(key.vkey for key in keys.all_keys()) + "\n", encoding="utf-8")
    return path


def verify_cli(database_url: str, keys_file: Path) -> tuple[int, dict[str, object]]:
    env = {"EJOURNAL_ORIGIN": ORIGIN}
    result = runner.invoke(
        cli, ["verify", "--json", "--keys", str(keys_file), "--database-url", database_url], env=env
    )
    assert result.stdout, result.output  # a failure to run at all is shown, not a JSON error
    return result.exit_code, json.loads(result.stdout)


def test_checkpoints_extend_each_other_and_verify(ledger: Ledger, keys: KeyStore) -> None:
    signer = checkpointer(ledger, keys)
    write_notebooks(ledger, count=2)  # 6 entries
    first = signer.checkpoint(LOG)
    assert first is not None and first.size == 6 and first.consistency_proof == ()
    assert signer.checkpoint(LOG) is None  # nothing new
    write_notebooks(ledger, count=3)  # 15 entries
    second = signer.checkpoint(LOG)
    assert second is not None and second.size == 15 and len(second.consistency_proof) > 0
    cp, note = open_checkpoint(second.note, keys.verifiers(), origin=f"{ORIGIN}/{LOG}")
    assert cp.size == 15 and list(note.signatures) == [ORIGIN]

    report = verify_ledger(ledger.database, verifiers=keys.verifiers(), origin=ORIGIN)
    [log] = report.logs
    assert (log.size, log.checkpoints, log.signed_size, log.unsigned) == (15, 2, 15, 0)
    assert log.root == second.root_hash


def test_unsigned_tail_is_reported(ledger: Ledger, keys: KeyStore) -> None:
    write_notebooks(ledger, count=1)
    checkpointer(ledger, keys).checkpoint(LOG)
    write_notebooks(ledger, count=1)
    [log] = verify_ledger(ledger.database, verifiers=keys.verifiers(), origin=ORIGIN).logs
    assert (log.signed_size, log.unsigned) == (3, 3)


def test_checkpoint_due_by_entries_and_by_time(ledger: Ledger, keys: KeyStore) -> None:
    from datetime import timedelta

    signer = checkpointer(ledger, keys, every_entries=6, every_seconds=60)
    write_notebooks(ledger, count=1)
    assert signer.checkpoint_due() == []
    write_notebooks(ledger, count=1)
    assert [cp.size for cp in signer.checkpoint_due()] == [6]
    write_notebooks(ledger, count=1)
    assert signer.checkpoint_due() == []
    ledger.clock.advance(timedelta(seconds=61))  # type: ignore[attr-defined]
    assert [cp.size for cp in signer.checkpoint_due()] == [9]


def test_rotation_signs_with_both_keys_then_the_new_one(ledger: Ledger, keys: KeyStore) -> None:
    [old] = keys.all_keys()
    keys.create("second.ejournal", SECRET)
    write_notebooks(ledger, count=1)
    both = checkpointer(ledger, keys).checkpoint(LOG)
    assert both is not None
    _, note = open_checkpoint(both.note, keys.verifiers())
    assert sorted(note.signatures) == ["second.ejournal", ORIGIN]

    keys.retire(old.vkey)
    write_notebooks(ledger, count=1)
    new_only = checkpointer(ledger, keys).checkpoint(LOG)
    assert new_only is not None
    _, note = open_checkpoint(new_only.note, keys.verifiers())
    assert sorted(note.signatures) == ["second.ejournal"]
    # The retired key still verifies the checkpoint it signed.
    verify_ledger(ledger.database, verifiers=keys.verifiers(), origin=ORIGIN)


def test_keys_are_sealed_and_need_the_secret(ledger: Ledger, keys: KeyStore) -> None:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT sealed_private FROM signing_keys")
        sealed = bytes(cursor.fetchone()[0])
    assert len(sealed) == 16 + 12 + 32 + 16  # salt, nonce, Ed25519 seed, GCM tag
    fresh = KeyStore(ledger.database)
    with pytest.raises(KeyStoreError, match="wrong secret"):
        fresh.signers(b"not the secret")
    with pytest.raises(KeyStoreError, match="last active key"):
        fresh.retire(fresh.all_keys()[0].vkey)


def test_refuses_to_sign_a_log_that_does_not_extend_the_previous_checkpoint(
    ledger: Ledger, keys: KeyStore, database_url: str
) -> None:
    signer = checkpointer(ledger, keys)
    write_notebooks(ledger, count=2)
    signer.checkpoint(LOG)
    write_notebooks(ledger, count=1)
    Forger(database_url).execute(
        ("UPDATE stored_events SET actor_role='head' WHERE log_id=? AND idx=7", (LOG,))
    )
    with pytest.raises(LeafMismatchError, match="leaf"):
        signer.checkpoint(LOG)
    assert signer.latest(LOG).size == 6  # type: ignore[union-attr]


def rebuild_log(
    database_url: str, ledger: Ledger, *, from_index: int, rows: list[list[object]]
) -> None:
    """A careful forger: rewrite rows from ``from_index`` and recompute every hash after them."""
    previous = CHAIN_GENESIS
    statements = [("DELETE FROM stored_events WHERE log_id=? AND idx>=?", (LOG, from_index))]
    for index, row in enumerate(rows):
        row[1] = index
        hashed = leaf_hash(encode_leaf(leaf_of_row(row)))
        previous = chain_hash(previous, hashed)
        row[12], row[13] = hashed, previous
        if index >= from_index:
            statements.append(
                (
                    f"INSERT INTO stored_events ({COLUMN_NAMES}) VALUES ({', '.join('?' * 14)})",
                    tuple(row),
                )
            )
    Forger(database_url).execute(*statements)


def all_rows(ledger: Ledger) -> list[list[object]]:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT {COLUMN_NAMES} FROM stored_events WHERE log_id=? ORDER BY idx", (LOG,)
        )
        return [list(row) for row in cursor.fetchall()]


def forge_inserted_event(ledger: Ledger, forger: Forger, database_url: str, keys: KeyStore) -> None:
    rows = all_rows(ledger)
    forged = list(rows[3])
    forged[3] = 99  # another version of the same notebook, inserted in the middle
    rebuild_log(database_url, ledger, from_index=3, rows=[*rows[:3], forged, *rows[3:]])


def rebuild_whole_log_and_resign(
    ledger: Ledger, forger: Forger, database_url: str, keys: KeyStore
) -> None:
    rows = all_rows(ledger)
    rebuild_log(database_url, ledger, from_index=0, rows=[rows[0], *rows[2:]])
    # The forger signs a matching checkpoint with a key of their own.
    replay_root = verify_ledger_root(ledger)
    note = sign_checkpoint(
        Checkpoint(f"{ORIGIN}/{LOG}", len(rows) - 1, replay_root), [generate_signer(ORIGIN)]
    )
    forger.execute(("DELETE FROM checkpoints", ()))
    forger.execute(
        (
            "INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (LOG, len(rows) - 1, replay_root, bytes(32), b"", b"", note, 0),
        )
    )


def verify_ledger_root(ledger: Ledger) -> bytes:
    from ejournal.ledger.replay import LogReplay

    replay = LogReplay(LOG)
    for row in all_rows(ledger):
        replay.feed(row)
    return replay.tree.root()


def add_checkpoint_by_unknown_key(
    ledger: Ledger, forger: Forger, database_url: str, keys: KeyStore
) -> None:
    note = sign_checkpoint(
        Checkpoint(f"{ORIGIN}/{LOG}", 9, verify_ledger_root(ledger)), [generate_signer("intruder")]
    )
    forger.execute(("DELETE FROM checkpoints", ()))
    forger.execute(
        (
            "INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (LOG, 9, verify_ledger_root(ledger), bytes(32), b"", b"", note, 0),
        )
    )


def row_update(column: str, value: object) -> Callable[[Ledger, Forger, str, KeyStore], None]:
    def tamper(ledger: Ledger, forger: Forger, database_url: str, keys: KeyStore) -> None:
        forger.execute(
            (f"UPDATE stored_events SET {column}=? WHERE log_id=? AND idx=4", (value, LOG))
        )

    return tamper


def flip_payload(ledger: Ledger, forger: Forger, database_url: str, keys: KeyStore) -> None:
    state = bytearray(all_rows(ledger)[4][5])  # type: ignore[arg-type]
    state[5] ^= 0x20
    row_update("state", bytes(state))(ledger, forger, database_url, keys)


def delete_row(ledger: Ledger, forger: Forger, database_url: str, keys: KeyStore) -> None:
    forger.execute(("DELETE FROM stored_events WHERE log_id=? AND idx=4", (LOG,)))


def swap_rows(ledger: Ledger, forger: Forger, database_url: str, keys: KeyStore) -> None:
    forger.execute(
        ("UPDATE stored_events SET idx=-1 WHERE log_id=? AND idx=4", (LOG,)),
        ("UPDATE stored_events SET idx=4 WHERE log_id=? AND idx=5", (LOG,)),
        ("UPDATE stored_events SET idx=5 WHERE log_id=? AND idx=-1", (LOG,)),
    )


def truncate_tail(ledger: Ledger, forger: Forger, database_url: str, keys: KeyStore) -> None:
    forger.execute(("DELETE FROM stored_events WHERE log_id=? AND idx>=7", (LOG,)))


CATALOGUE = {
    "payload byte": (flip_payload, LeafMismatchError, "payload", "log test/log index 4"),
    "topic": (
        row_update("topic", "tests.ledger.support:Notebook.Opened"),
        LeafMismatchError,
        "leaf",
        "log test/log index 4",
    ),
    "actor": (row_update("actor_role", "head"), LeafMismatchError, "leaf", "log test/log index 4"),
    "recorded time": (
        row_update("recorded_at", 1),
        LeafMismatchError,
        "leaf",
        "log test/log index 4",
    ),
    "chain hash": (
        row_update("chain_hash", bytes(32)),
        ChainError,
        "chain",
        "log test/log index 4",
    ),
    "deleted event and its entry": (
        delete_row,
        MissingEntryError,
        "not dense",
        "log test/log index 4",
    ),
    "swapped entries": (swap_rows, LeafMismatchError, "leaf", "log test/log index 4"),
    "forged inserted event": (
        forge_inserted_event,
        RootMismatchError,
        "does not match",
        "log test/log checkpoint at size 9",
    ),
    "tail truncated after a checkpoint": (
        truncate_tail,
        MissingEntryError,
        "truncated",
        "log test/log index 7",
    ),
    "whole log rebuilt and re-signed": (
        rebuild_whole_log_and_resign,
        UnknownKeyError,
        "not signed by any known key",
        "log test/log checkpoint at size 8",
    ),
    "checkpoint by an unknown key": (
        add_checkpoint_by_unknown_key,
        UnknownKeyError,
        "not signed by any known key",
        "log test/log checkpoint at size 9",
    ),
}


@pytest.mark.parametrize("name", list(CATALOGUE))
def test_tamper_catalogue(
    ledger: Ledger, keys: KeyStore, database_url: str, tmp_path: Path, name: str
) -> None:
    tamper, error, message, where = CATALOGUE[name]
    write_notebooks(ledger, count=3)  # 9 entries
    checkpointer(ledger, keys).checkpoint(LOG)
    keys_file = trusted_keys_file(keys, tmp_path)
    assert verify_cli(database_url, keys_file)[0] == 0

    tamper(ledger, Forger(database_url), database_url, keys)

    with pytest.raises(error, match=message) as raised:
        verify_ledger(ledger.database, verifiers=keys.verifiers(), origin=ORIGIN)
    assert raised.value.where == where
    code, body = verify_cli(database_url, keys_file)
    assert (code, body["ok"], body["error"], body["where"]) == (1, False, error.__name__, where)


def test_receipt_round_trip_offline(
    ledger: Ledger, keys: KeyStore, database_url: str, tmp_path: Path
) -> None:
    books = write_notebooks(ledger, count=3)
    checkpointer(ledger, keys).checkpoint(LOG)
    env = {"EJOURNAL_ORIGIN": ORIGIN}
    receipt = tmp_path / "receipt.txt"
    proved = runner.invoke(
        cli,
        ["prove", f"{books[1].id}:2", "--out", str(receipt), "--database-url", database_url],
        env=env,
    )
    assert proved.exit_code == 0, proved.output
    assert receipt.read_text().startswith("c2sp.org/tlog-proof@v1\n")
    keys_file = trusted_keys_file(keys, tmp_path)

    checked = runner.invoke(cli, ["verify-proof", str(receipt), "--key", str(keys_file), "--json"])
    assert checked.exit_code == 0, checked.output
    facts = json.loads(checked.stdout)
    assert (facts["log"], facts["index"], facts["event"]) == (LOG, 4, f"{books[1].id}:2")

    lines = receipt.read_text().split("\n")
    lines[3] = lines[4]  # replace one audit-path hash with another
    receipt.write_text("\n".join(lines))
    rejected = runner.invoke(cli, ["verify-proof", str(receipt), "--key", str(keys_file), "--json"])
    assert rejected.exit_code == 1
    assert json.loads(rejected.stdout)["error"] == "InclusionProofError"


def test_prove_refuses_an_event_no_checkpoint_covers(
    ledger: Ledger, keys: KeyStore, database_url: str
) -> None:
    [book] = write_notebooks(ledger, count=1)
    result = runner.invoke(cli, ["prove", f"{book.id}:1", "--database-url", database_url])
    assert result.exit_code == 1
    assert "not covered by a signed checkpoint" in result.output


def test_checkpoint_cli_signs_new_logs_then_nothing(
    ledger: Ledger, keys: KeyStore, database_url: str
) -> None:
    write_notebooks(ledger, count=1)
    env = {"EJOURNAL_ORIGIN": ORIGIN, "EJOURNAL_KEY_PASSPHRASE": SECRET.decode()}
    first = runner.invoke(cli, ["checkpoint", "--database-url", database_url], env=env)
    assert first.exit_code == 0, first.output
    assert f"{LOG}: signed size 3" in first.output
    again = runner.invoke(cli, ["checkpoint", "--due", "--database-url", database_url], env=env)
    assert again.exit_code == 0 and "nothing to sign" in again.output
    wrong = runner.invoke(
        cli,
        ["checkpoint", "--database-url", database_url],
        env={**env, "EJOURNAL_KEY_PASSPHRASE": "wrong"},
    )
    assert wrong.exit_code == 2 and "wrong secret" in wrong.output


def test_schedule_signs_due_checkpoints_in_the_background(ledger: Ledger, keys: KeyStore) -> None:
    # I5: every N entries, without anyone asking.
    import time

    from ejournal.ledger.checkpoints import CheckpointSchedule

    signer = checkpointer(ledger, keys, every_entries=3)
    schedule = CheckpointSchedule(signer, poll_seconds=0.05)
    schedule.start()
    try:
        write_notebooks(ledger, count=2)
        deadline = time.monotonic() + 30
        while signer.latest(LOG) is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        schedule.stop()
    latest = signer.latest(LOG)
    assert latest is not None and latest.size in (3, 6)
    assert not schedule.running
