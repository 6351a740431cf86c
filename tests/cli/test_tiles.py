"""``ejournal export-tiles`` and ``verify-tiles`` (issue 23, item 5): a ledger's logs as C2SP
tlog-tiles files, read back by the independent reader of ``tests/integrity/tlog_tiles_reader.py``
and by ``verify-tiles`` with no database; a tampered file fails, naming it; a forged ledger
publishes nothing. On SQLite and PostgreSQL (I10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ejournal.cli.main import cli
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import latest_checkpoints
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.tiles import TilesExportError, log_directory
from tests.integrity.tlog_tiles_reader import leaf_hash, read_tiled_log
from tests.ledger.support import Forger, write_notebooks
from tests.ledger.test_checkpoints import LOG, ORIGIN, SECRET, checkpointer, trusted_keys_file

runner = CliRunner()
ENV = {"EJOURNAL_ORIGIN": ORIGIN, "EJOURNAL_KEY_PASSPHRASE": SECRET.decode()}


@pytest.fixture
def keys(ledger: Ledger) -> KeyStore:
    store = KeyStore(ledger.database, clock=ledger.clock)
    store.create(ORIGIN, SECRET)
    return store


@pytest.fixture
def space(tmp_path: Path) -> Path:
    """An empty directory for the export (the SQLite database lives in ``tmp_path``)."""
    folder = tmp_path / "space"
    folder.mkdir()
    return folder


def export(database_url: str, out: Path, *args: str) -> Result:
    return runner.invoke(
        cli, ["export-tiles", "--out", str(out), *args, "--database-url", database_url], env=ENV
    )


def verify(directory: Path, keys_file: Path, *args: str) -> Result:
    return runner.invoke(cli, ["verify-tiles", str(directory), "--key", str(keys_file), *args])


def stored_leaf_hashes(ledger: Ledger, log_id: str) -> list[bytes]:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT leaf_hash FROM stored_events WHERE log_id=? ORDER BY idx", (log_id,))
        return [bytes(row[0]) for row in cursor.fetchall()]


def signed_log_of_300(ledger: Ledger, keys: KeyStore) -> None:
    """``LOG`` with 300 entries signed (a full tile, a partial one of 44, a level-1 tile of 1),
    and 3 more unsigned."""
    write_notebooks(ledger, count=3, lines=99)
    checkpointer(ledger, keys).checkpoint(LOG)
    write_notebooks(ledger, count=1)


def test_every_log_exported_reads_back_with_the_files_alone(
    ledger: Ledger, keys: KeyStore, database_url: str, tmp_path: Path, space: Path
) -> None:
    signed_log_of_300(ledger, keys)
    write_notebooks(ledger, count=1, log_id="other/log")
    checkpointer(ledger, keys).checkpoint("other/log")
    write_notebooks(ledger, count=1, log_id="unsigned/log")
    out = space / "tiles"

    result = export(database_url, out)
    assert result.exit_code == 0, result.output
    assert "not exported, no signed checkpoint yet: unsigned/log" in result.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("checkpoint")) == [
        "other/log/checkpoint",
        "test/log/checkpoint",
    ]
    stored = {cp.log_id: cp for cp in latest_checkpoints(ledger.database)}
    assert (out / "test/log/checkpoint").read_text(encoding="utf-8") == stored[LOG].note
    vkey = keys.all_keys()[0].vkey
    read = read_tiled_log(out / "test/log", vkey)
    assert (read.origin, read.size, read.root) == (f"{ORIGIN}/{LOG}", 300, stored[LOG].root_hash)
    assert read.extra == set()
    assert [leaf_hash(entry) for entry in read.entries] == stored_leaf_hashes(ledger, LOG)[:300]
    assert read_tiled_log(out / "other/log", vkey).size == 3
    assert [p.name for p in space.iterdir()] == ["tiles"]  # no staging directory left

    keys_file = trusted_keys_file(keys, tmp_path)
    checked = verify(out, keys_file, "--json")
    assert checked.exit_code == 0, checked.output
    body = json.loads(checked.stdout)
    assert body["ok"] is True
    assert [(log["directory"], log["log"], log["size"], log["root"]) for log in body["logs"]] == [
        ("other/log", "other/log", 3, stored["other/log"].root_hash.hex()),
        ("test/log", LOG, 300, stored[LOG].root_hash.hex()),
    ]
    assert body["logs"][1]["signed_by"] == [ORIGIN]
    assert body["logs"][1]["files"] == 6  # checkpoint, 2 bundles, 2 level-0 tiles, 1 level-1
    one = verify(out / "test/log", keys_file)
    assert one.exit_code == 0 and "OK .: test.ejournal/test/log, 300 entries" in one.output


@pytest.mark.parametrize(
    ("path", "offset", "named"),
    [
        ("tile/0/000", 32 * 200, "tile/0/000 hash 200: the tile's hash differs from the leaf hash"),
        ("tile/1/000.p/1", 0, "tile/1/000.p/1 hash 0: the tile's hash differs from the root"),
        ("tile/entries/001.p/44", -1, "tile/0/001.p/44 hash 43: the tile's hash differs"),
        ("checkpoint", 3, "SignatureError: checkpoint:"),
    ],
)
def test_a_tampered_file_fails_verify_tiles_naming_it(
    ledger: Ledger,
    keys: KeyStore,
    database_url: str,
    tmp_path: Path,
    path: str,
    offset: int,
    named: str,
) -> None:
    signed_log_of_300(ledger, keys)
    out = tmp_path / "log"
    result = export(database_url, out, "--log", LOG)
    assert result.exit_code == 0, result.output
    assert (out / "checkpoint").is_file()  # --log writes the log straight into --out
    keys_file = trusted_keys_file(keys, tmp_path)
    assert verify(out, keys_file).exit_code == 0

    data = bytearray((out / path).read_bytes())
    data[offset] ^= 0x01
    (out / path).write_bytes(bytes(data))
    checked = verify(out, keys_file)
    assert checked.exit_code == 1
    assert checked.output.startswith("FAILED .: ")
    assert named in " ".join(checked.output.split())


@pytest.mark.parametrize(
    ("forgery", "message"),
    [
        (
            "UPDATE stored_events SET actor_role='head' WHERE log_id=? AND idx=5",
            "log test/log index 5: the leaf recomputed from the stored row differs",
        ),
        (
            "DELETE FROM stored_events WHERE log_id=? AND idx=299",
            "log test/log index 299: entries covered by the signed checkpoint are missing",
        ),
        (
            "UPDATE stored_events SET leaf_hash=chain_hash WHERE log_id=? AND idx=7",
            "log test/log index 7: the leaf recomputed from the stored row differs",
        ),
    ],
)
def test_a_forged_ledger_publishes_nothing(
    ledger: Ledger,
    keys: KeyStore,
    database_url: str,
    tmp_path: Path,
    space: Path,
    forgery: str,
    message: str,
) -> None:
    signed_log_of_300(ledger, keys)
    Forger(database_url).execute((forgery, (LOG,)))
    out = space / "tiles"
    result = export(database_url, out, "--log", LOG)
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert list(space.iterdir()) == []  # neither the tiles nor their staging


def test_a_root_that_is_not_the_signed_one_publishes_nothing(
    ledger: Ledger, keys: KeyStore, database_url: str, tmp_path: Path, space: Path
) -> None:
    # Every stored hash consistent with a changed row: only the signed root tells.
    signed_log_of_300(ledger, keys)
    ledger_forger = Forger(database_url)
    ledger_forger.execute(
        ("UPDATE stored_events SET actor_role='head' WHERE log_id=? AND idx=5", (LOG,))
    )
    rows = export(database_url, space / "first", "--log", LOG)
    recomputed = rows.output.split("found ")[1].split(")")[0]
    ledger_forger.execute(
        (
            "UPDATE stored_events SET leaf_hash=? WHERE log_id=? AND idx=5",
            (bytes.fromhex(recomputed), LOG),
        )
    )
    result = export(database_url, space / "tiles", "--log", LOG)
    assert result.exit_code == 1
    assert "checkpoint at size 300: the entries' root is not the signed root" in " ".join(
        result.output.split()
    )
    assert list(space.iterdir()) == []


def test_a_second_export_after_the_log_grew_verifies(
    ledger: Ledger, keys: KeyStore, database_url: str, tmp_path: Path
) -> None:
    signed_log_of_300(ledger, keys)
    out = tmp_path / "log"
    assert export(database_url, out, "--log", LOG).exit_code == 0
    write_notebooks(ledger, count=80)
    checkpointer(ledger, keys).checkpoint(LOG)  # 543 entries
    result = export(database_url, out, "--log", LOG)
    assert result.exit_code == 0, result.output
    read = read_tiled_log(out, keys.all_keys()[0].vkey)
    assert read.size == 543
    # The older size's partial tiles stay: the spec lets a log serve them.
    assert read.extra == {"tile/0/001.p/44", "tile/entries/001.p/44", "tile/1/000.p/1"}
    assert verify(out, trusted_keys_file(keys, tmp_path)).exit_code == 0


def test_a_log_without_a_signed_checkpoint_is_refused(
    ledger: Ledger, database_url: str, tmp_path: Path, space: Path
) -> None:
    write_notebooks(ledger, count=1)
    result = export(database_url, space / "tiles", "--log", LOG)
    assert result.exit_code == 1
    assert "no signed checkpoint of 'test/log'" in result.output
    assert list(space.iterdir()) == []


def test_verify_tiles_refuses_a_directory_that_is_no_tiled_log(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys"
    keys_file.write_text("")
    (tmp_path / "empty").mkdir()
    result = verify(tmp_path / "empty", keys_file)
    assert result.exit_code == 2
    assert "no checkpoint in" in result.output and "not a tiled log" in result.output
    missing = verify(tmp_path / "nowhere", keys_file)
    assert missing.exit_code == 2 and "is not a directory" in missing.output


@pytest.mark.parametrize(
    "log_id", ["../escape", "a//b", "/abs", "a/tile/b", "school/x/checkpoint", "a b", ".hidden"]
)
def test_a_log_id_that_is_no_plain_path_gets_no_directory(log_id: str, tmp_path: Path) -> None:
    with pytest.raises(TilesExportError, match="cannot name a directory"):
        log_directory(tmp_path, log_id)
    assert log_directory(tmp_path, "school/1-2/2025-2026") == tmp_path / "school/1-2/2025-2026"
