"""Backups that restore and verify (п. 1.1).

``backup`` takes a consistent online copy while the service runs:

- SQLite: the SQLite online backup API (a snapshot of the whole file: ledger and read models);
- PostgreSQL: ``pg_dump --format=custom`` when it is on PATH (one snapshot of every table), else a
  *logical* copy of the ledger's own tables (events with their entries, checkpoints, sealed keys),
  each as ``COPY … (FORMAT binary)`` inside one REPEATABLE READ transaction — read models are not
  copied, they are rebuilt from the events.

``restore`` loads a backup into an empty database and verifies the whole ledger there (every leaf,
the chains, every checkpoint's root, signature and consistency) before it reports success; a backup
that does not verify raises ``RestoreError`` carrying the verification error. A restore that fails,
for whatever reason, removes what it restored: the target is left empty, as it was found, so that
nobody mistakes a half-restored or forged ledger for the district's (the backup itself is the
evidence to inspect, and ``restore`` into a scratch database shows the error again).

A backup goes into an existing folder: a missing one is refused rather than created, since it is
most often a backup volume that is not mounted, or a typo, and a backup written elsewhere than
where it is looked for is no backup.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

import psycopg

from ejournal.integrity.errors import VerificationError
from ejournal.integrity.note import Verifier
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import create_checkpoint_table
from ejournal.ledger.config import POSTGRES_PERSISTENCE, SQLITE_PERSISTENCE, persistence_env
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.signatories import SignatoryKeyStore
from ejournal.ledger.verify import LedgerReport, verify_ledger

Method = Literal["auto", "sqlite", "pg_dump", "logical"]
LOGICAL_FORMAT = "ejournal-logical-backup/1"
LOGICAL_MANIFEST = "backup.json"
LEDGER_TABLES = (EVENTS_TABLE, "checkpoints", "signing_keys", "signatory_keys")
"""The tables a logical backup copies: everything that cannot be rebuilt."""
_SQLITE_MAGIC = b"SQLite format 3\x00"
_PG_DUMP_MAGIC = b"PGDMP"


class BackupError(LedgerError):
    """A backup or restore could not run: bad paths, a non-empty target, a tool failed."""


class RestoreError(BackupError):
    """The restored ledger does not verify; ``error`` says where."""

    def __init__(self, message: str, error: VerificationError) -> None:
        super().__init__(f"{message}: {error}")
        self.error = error


@dataclass(frozen=True, slots=True)
class BackupInfo:
    path: Path
    method: str
    size: int
    sha256: str | None
    """SHA-256 of the backup file (None for a logical backup directory: see its manifest)."""


@dataclass(frozen=True, slots=True)
class RestoreReport:
    method: str
    ledger: LedgerReport
    keys_source: str


def _is_sqlite(database_url: str) -> bool:
    """Whether the URL is SQLite's (checked without creating the file's folder, which the
    ledger's own configuration would); raises ``LedgerError`` for an unsupported URL."""
    if urlsplit(database_url).scheme == "sqlite":
        return True
    return persistence_env(database_url)["PERSISTENCE_MODULE"] == SQLITE_PERSISTENCE


def _sqlite_path(database_url: str) -> Path:
    parts = urlsplit(database_url)
    if parts.scheme != "sqlite":
        raise BackupError(f"{database_url} is not a SQLite URL")
    path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
    if not path or path == ":memory:":
        raise BackupError(f"no database file in {database_url!r}")
    return Path(path)


def _pg_url(database_url: str) -> str:
    env = persistence_env(database_url)
    if env["PERSISTENCE_MODULE"] != POSTGRES_PERSISTENCE:
        raise BackupError(f"{database_url} is not a PostgreSQL URL")
    return database_url.replace("postgres://", "postgresql://", 1)


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def backup(database_url: str, destination: Path, *, method: Method = "auto") -> BackupInfo:
    """Write a consistent online backup of ``database_url`` to ``destination`` (a file; a
    directory for a logical backup), which must not exist.

    ``method``: ``auto`` picks the SQLite backup API, or ``pg_dump`` if it is on PATH, else
    ``logical``. Raises ``BackupError`` (destination exists, wrong URL for the method, a tool
    failed) and the database driver's errors.
    """
    if destination.exists():
        raise BackupError(f"{destination} already exists")
    folder = destination.parent
    if not folder.is_dir():
        raise BackupError(
            f"the folder {folder} does not exist: a backup goes into an existing folder "
            "(create it, or mount the backup volume)"
        )
    sqlite = _is_sqlite(database_url)
    if method == "auto":
        method = "sqlite" if sqlite else ("pg_dump" if shutil.which("pg_dump") else "logical")
    try:
        if method == "sqlite":
            _sqlite_backup(_existing_sqlite(database_url), destination)
        elif method == "pg_dump":
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={destination}",
                  f"--dbname={_pg_url(database_url)}"])  # fmt: skip
        else:
            _logical_backup(_pg_url(database_url), destination)
            size = sum(p.stat().st_size for p in destination.iterdir())
            return BackupInfo(destination, method, size, None)
    except BaseException:
        _remove(destination)  # no half-written backup is left to be mistaken for one
        raise
    return BackupInfo(destination, method, destination.stat().st_size, _file_digest(destination))


def _existing_sqlite(database_url: str) -> Path:
    path = _sqlite_path(database_url)
    if not path.is_file():
        raise BackupError(f"no database at {path}: nothing to back up")
    return path


def _sqlite_backup(path: Path, destination: Path) -> None:
    # Read-only: the backup never creates or changes the database it copies.
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    target = sqlite3.connect(destination)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()


def _remove(path: Path) -> None:
    """Remove a file or a directory (of files) that this module wrote, if it is there."""
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _run(command: Sequence[str]) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as e:
        raise BackupError(f"cannot run {command[0]}: {e}") from e
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip()[:2000]}")


def _columns(conn: psycopg.Connection, table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = %s ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    return [row[0] for row in rows]


def _logical_backup(url: str, destination: Path) -> None:
    destination.mkdir(parents=True)
    manifest: dict[str, object] = {"format": LOGICAL_FORMAT, "tables": {}}
    tables: dict[str, object] = {}
    with psycopg.connect(url) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for table in LEDGER_TABLES:
            columns = _columns(conn, table)
            if not columns:
                continue
            path = destination / f"{table}.copy"
            digest = hashlib.sha256()
            quoted = ", ".join(f'"{c}"' for c in columns)
            statement = f'COPY "{table}" ({quoted}) TO STDOUT (FORMAT binary)'
            with (
                path.open("wb") as stream,
                conn.cursor() as cursor,
                cursor.copy(statement) as copy,
            ):
                for chunk in copy:
                    stream.write(chunk)
                    digest.update(chunk)
            tables[table] = {"columns": columns, "file": path.name, "sha256": digest.hexdigest()}
        conn.rollback()
    manifest["tables"] = tables
    (destination / LOGICAL_MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def _detect(source: Path) -> str:
    if source.is_dir():
        if not (source / LOGICAL_MANIFEST).is_file():
            raise BackupError(f"{source} is a directory without {LOGICAL_MANIFEST}")
        return "logical"
    with source.open("rb") as stream:
        head = stream.read(16)
    if head == _SQLITE_MAGIC:
        return "sqlite"
    if head.startswith(_PG_DUMP_MAGIC):
        return "pg_dump"
    raise BackupError(f"{source} is not a backup made by ejournal")


def _require_empty(database_url: str) -> None:
    if _is_sqlite(database_url):
        path = _sqlite_path(database_url)
        if path.exists() and path.stat().st_size > 0:
            raise BackupError(f"restore needs an empty database: {path} exists")
        return
    with psycopg.connect(_pg_url(database_url)) as conn:
        row = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        ).fetchone()
    if row is not None and row[0]:
        raise BackupError("restore needs an empty database: the target has tables")


def restore(
    source: Path,
    database_url: str,
    *,
    origin: str,
    verifiers: Sequence[Verifier] | None = None,
    progress: Callable[[int], None] | None = None,
) -> RestoreReport:
    """Restore the backup ``source`` into the empty database ``database_url`` and verify the
    ledger there; returns the verification report.

    ``verifiers`` are the trusted checkpoint keys (default: the restored key store's, reported as
    not independent). Raises ``BackupError`` (not a backup, target not empty or of another kind,
    a tool failed) and ``RestoreError`` if the restored ledger does not verify.
    """
    if not source.exists():
        raise BackupError(f"no backup at {source}")
    method = _detect(source)
    sqlite = _is_sqlite(database_url)
    if sqlite != (method == "sqlite"):
        raise BackupError(f"a {method} backup cannot be restored into {database_url}")
    _require_empty(database_url)
    undo = _sqlite_undo(database_url) if sqlite else _postgres_undo(_pg_url(database_url))
    try:
        return _restore(source, method, database_url, origin, verifiers, progress)
    except BaseException:
        undo()
        raise


def _restore(
    source: Path,
    method: str,
    database_url: str,
    origin: str,
    verifiers: Sequence[Verifier] | None,
    progress: Callable[[int], None] | None,
) -> RestoreReport:
    if method == "sqlite":
        target_path = _sqlite_path(database_url)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        backup_file = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(target_path)
        try:
            with target:
                backup_file.backup(target)
        finally:
            target.close()
            backup_file.close()
    elif method == "pg_dump":
        _run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={_pg_url(database_url)}",
              str(source)])  # fmt: skip
    ledger = Ledger(database_url=database_url)
    try:
        if method == "logical":
            _logical_restore(source, ledger, _pg_url(database_url))
        if verifiers is None:
            trusted = KeyStore(ledger.database).verifiers()
            keys_source = "the restored key store (not independent: pass trusted keys)"
        else:
            trusted, keys_source = list(verifiers), "given keys"
        try:
            report = verify_ledger(
                ledger.database, verifiers=trusted, origin=origin, progress=progress
            )
        except VerificationError as e:
            raise RestoreError("the restored ledger does not verify", e) from e
    finally:
        ledger.close()
    return RestoreReport(method=method, ledger=report, keys_source=keys_source)


def _sqlite_undo(database_url: str) -> Callable[[], None]:
    """What puts a SQLite target back as ``restore`` found it (no file, or an empty one), with
    the folders it had to create."""
    path = _sqlite_path(database_url)
    existed = path.exists()
    created = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]

    def undo() -> None:
        for side in (Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
            side.unlink(missing_ok=True)
        if existed:
            path.write_bytes(b"")
        else:
            path.unlink(missing_ok=True)
        for folder in created:  # innermost first
            try:
                folder.rmdir()
            except OSError:
                break

    return undo


_PG_OBJECTS = (
    "SELECT 'relation', c.relkind::text, quote_ident(c.relname) FROM pg_class c "
    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
    "AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') "
    "UNION ALL SELECT 'function', '', p.oid::regprocedure::text FROM pg_proc p "
    "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = current_schema()"
)
_PG_DROP = {
    "r": "TABLE",
    "p": "TABLE",
    "v": "VIEW",
    "m": "MATERIALIZED VIEW",
    "S": "SEQUENCE",
    "f": "FOREIGN TABLE",
    "c": "TYPE",
}


def _postgres_undo(url: str) -> Callable[[], None]:
    """What drops, from the PostgreSQL target's schema, every table, view, sequence, composite
    type and function that ``restore`` made (it found the schema without tables)."""
    with psycopg.connect(url) as conn:
        before = set(conn.execute(_PG_OBJECTS).fetchall())

    def undo() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            made = [row for row in conn.execute(_PG_OBJECTS).fetchall() if row not in before]
            for what, kind, name in sorted(made, key=lambda row: row[0] != "relation"):
                keyword = _PG_DROP[kind] if what == "relation" else "FUNCTION"
                conn.execute(f"DROP {keyword} IF EXISTS {name} CASCADE")

    return undo


def _logical_restore(source: Path, ledger: Ledger, url: str) -> None:
    manifest = json.loads((source / LOGICAL_MANIFEST).read_text("utf-8"))
    if manifest.get("format") != LOGICAL_FORMAT:
        raise BackupError(f"{source} is not a {LOGICAL_FORMAT} backup")
    # The ledger's own code creates the tables, triggers and indexes; the backup brings rows.
    create_checkpoint_table(ledger.database)
    KeyStore(ledger.database)
    SignatoryKeyStore(ledger.database)
    with psycopg.connect(url) as conn:
        for table, entry in manifest["tables"].items():
            path = source / entry["file"]
            if _file_digest(path) != entry["sha256"]:
                raise BackupError(f"{path} does not match its digest in {LOGICAL_MANIFEST}")
            quoted = ", ".join(f'"{c}"' for c in entry["columns"])
            statement = f'COPY "{table}" ({quoted}) FROM STDIN (FORMAT binary)'
            with (
                path.open("rb") as stream,
                conn.cursor() as cursor,
                cursor.copy(statement) as copy,
            ):
                while chunk := stream.read(1 << 20):
                    copy.write(chunk)
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{EVENTS_TABLE}', 'notification_id'), "
            f"GREATEST((SELECT max(notification_id) FROM {EVENTS_TABLE}), 1))"
        )
