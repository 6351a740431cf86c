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
    # A role that never writes in a school's log: the row surely changes.
    conn.execute("UPDATE stored_events SET actor_role = 'auditor' WHERE idx = 30")
    conn.commit()
    conn.close()
    target = tmp_path / "restored" / "r.db"
    with pytest.raises(RestoreError, match="does not verify") as info_error:
        restore(forged, f"sqlite:///{target}", origin=ORIGIN, verifiers=verifiers)
    assert "index 30" in str(info_error.value.error.where)
    # The forged ledger is not left behind to be taken for the district's: no file, no folder.
    assert not target.exists() and not target.parent.exists()
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


def test_a_backup_goes_into_an_existing_folder_only(tmp_path: Path, clock: ManualClock) -> None:
    # п. 1.1: a missing folder (an unmounted backup volume, a typo) is refused, not created.
    url = f"sqlite:///{tmp_path / 'live.db'}"
    Ledger(database_url=url, clock=clock).close()
    destination = tmp_path / "backups" / "nightly" / "ejournal.db"
    with pytest.raises(BackupError, match="does not exist"):
        backup(url, destination)
    assert not (tmp_path / "backups").exists()


def test_a_backup_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="no database"):
        backup(f"sqlite:///{tmp_path / 'missing' / 'ejournal.db'}", tmp_path / "backup.db")
    assert not (tmp_path / "missing").exists() and not (tmp_path / "backup.db").exists()


def test_restoring_a_missing_backup_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "target" / "ejournal.db"
    with pytest.raises(BackupError, match="no backup at"):
        restore(tmp_path / "missing.db", f"sqlite:///{target}", origin=ORIGIN)
    assert not target.parent.exists()


def test_a_failed_restore_into_an_existing_empty_file_leaves_it_empty(
    tmp_path: Path, clock: ManualClock
) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    ledger = Ledger(database_url=url, clock=clock)
    try:
        _fill(ledger, clock)
    finally:
        ledger.close()
    info = backup(url, tmp_path / "backup.db")
    target = tmp_path / "empty.db"
    target.write_bytes(b"")
    other = [generate_signer("other.origin").verifier()]  # keys that signed nothing here
    with pytest.raises(RestoreError):
        restore(info.path, f"sqlite:///{target}", origin=ORIGIN, verifiers=other)
    assert target.exists() and target.stat().st_size == 0
    assert not Path(f"{target}-wal").exists()


def test_a_failed_postgres_restore_leaves_the_database_empty(
    clock: ManualClock, tmp_path: Path, pg_available: None
) -> None:
    # п. 1.1: a logical backup whose file was altered fails its digest after the tables were
    # made; they are dropped again, so the target is as empty as it was.
    source, target = create_pg_database(), create_pg_database()
    try:
        ledger = Ledger(database_url=source, clock=clock)
        try:
            verifiers = _fill(ledger, clock)
            info = backup(source, tmp_path / "backup", method="logical")
        finally:
            ledger.close()
        copy = info.path / "stored_events.copy"
        data = bytearray(copy.read_bytes())
        data[-10] ^= 0xFF
        copy.write_bytes(bytes(data))
        with pytest.raises(BackupError, match="does not match its digest"):
            restore(info.path, target, origin=ORIGIN, verifiers=verifiers)
        assert _schema_objects(target) == []
        # And the same backup, untouched, restores there now.
        copy.write_bytes(bytes(data[:-10]) + bytes([data[-10] ^ 0xFF]) + bytes(data[-9:]))
        assert restore(info.path, target, origin=ORIGIN, verifiers=verifiers).ledger.entries
    finally:
        drop_pg_database(source)
        drop_pg_database(target)


def _schema_objects(url: str) -> list[tuple[str, str]]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT 'relation', c.relname FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
            "UNION ALL SELECT 'function', p.proname FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname = current_schema()"
        ).fetchall()
    return [(row[0], row[1]) for row in rows]
