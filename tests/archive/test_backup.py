"""Backups (п. 1.1): a consistent online backup restores into an empty database, the restored
ledger verifies before restore reports success, and the read models rebuild identically."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from ejournal.archive.backup import BackupError, RestoreError, backup, restore
from ejournal.integrity.note import generate_signer
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.projections.projector import Projector
from ejournal.projections.storage import table_dump
from tests.archive.support import ORIGIN, checkpointer_for, record_year
from tests.commands.school import build_school
from tests.conftest import create_pg_database, drop_pg_database


def _read_models(url: str) -> dict[str, list[tuple[object, ...]]]:
    ledger = Ledger(database_url=url)
    try:
        Projector(ledger).rebuild()
        with ledger.database.transaction(write=False) as cursor:
            return table_dump(cursor)
    finally:
        ledger.close()


def assert_read_models_rebuild_identically(source: str, target: str) -> None:
    """The read models rebuilt from the restored ledger equal those rebuilt from the source."""
    assert _read_models(target) == _read_models(source)


def _fill(ledger: Ledger, clock: ManualClock) -> list:  # type: ignore[type-arg]
    school = build_school(ledger)
    record_year(school, clock)
    signer = generate_signer(ORIGIN)
    checkpointer = checkpointer_for(ledger, signer)
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT DISTINCT log_id FROM stored_events")
        logs = [row[0] for row in cursor.fetchall()]
    for log_id in logs:
        checkpointer.checkpoint(log_id)
    return [signer.verifier()]


def _entries(url: str) -> int:
    ledger = Ledger(database_url=url)
    try:
        with ledger.database.transaction(write=False) as cursor:
            cursor.execute("SELECT COUNT(*) FROM stored_events")
            return int(cursor.fetchone()[0])
    finally:
        ledger.close()


def test_sqlite_backup_restores_and_verifies(tmp_path: Path, clock: ManualClock) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    ledger = Ledger(database_url=url, clock=clock)
    try:
        verifiers = _fill(ledger, clock)
        info = backup(url, tmp_path / "backup.db")  # online: the ledger is open
    finally:
        ledger.close()
    assert info.method == "sqlite" and info.sha256
    target = f"sqlite:///{tmp_path / 'restored' / 'ejournal.db'}"
    report = restore(info.path, target, origin=ORIGIN, verifiers=verifiers)
    assert report.ledger.entries == _entries(url)
    assert all(log.unsigned == 0 for log in report.ledger.logs)
    with pytest.raises(BackupError, match="empty database"):
        restore(info.path, target, origin=ORIGIN, verifiers=verifiers)
    assert_read_models_rebuild_identically(url, target)


def test_a_backup_that_does_not_verify_is_reported(tmp_path: Path, clock: ManualClock) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    ledger = Ledger(database_url=url, clock=clock)
    try:
        verifiers = _fill(ledger, clock)
    finally:
        ledger.close()
    info = backup(url, tmp_path / "backup.db")
    forged = tmp_path / "forged.db"
    shutil.copy(info.path, forged)
    conn = sqlite3.connect(forged)
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("UPDATE stored_events SET actor_role = 'head' WHERE idx = 30")
    conn.commit()
    conn.close()
    with pytest.raises(RestoreError, match="does not verify") as info_error:
        restore(forged, f"sqlite:///{tmp_path / 'r.db'}", origin=ORIGIN, verifiers=verifiers)
    assert "index 30" in str(info_error.value.error.where)
    (tmp_path / "notes.txt").write_text("not a database")
    with pytest.raises(BackupError, match="not a backup"):
        restore(tmp_path / "notes.txt", f"sqlite:///{tmp_path / 'r2.db'}", origin=ORIGIN)


@pytest.mark.parametrize("method", ["pg_dump", "logical"])
def test_postgres_backup_restores_and_verifies(
    method: str, clock: ManualClock, tmp_path: Path, pg_available: None
) -> None:
    if method == "pg_dump" and shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    source, target = create_pg_database(), create_pg_database()
    try:
        ledger = Ledger(database_url=source, clock=clock)
        try:
            verifiers = _fill(ledger, clock)
            info = backup(source, tmp_path / "backup", method=method)  # type: ignore[arg-type]
        finally:
            ledger.close()
        assert info.method == method
        report = restore(info.path, target, origin=ORIGIN, verifiers=verifiers)
        assert report.method == method
        assert report.ledger.entries == _entries(source)
        with pytest.raises(BackupError, match="empty database"):
            restore(info.path, target, origin=ORIGIN, verifiers=verifiers)
        assert_read_models_rebuild_identically(source, target)
    finally:
        drop_pg_database(source)
        drop_pg_database(target)
