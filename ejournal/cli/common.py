"""What every ``ejournal`` command shares: the consoles, the common options, opening the ledger,
reading trusted keys, and failing with one line instead of a traceback."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn
from urllib.parse import unquote, urlsplit
from uuid import UUID

import psycopg
import typer
from eventsourcing.persistence import PersistenceError
from rich.console import Console

from ejournal.integrity.errors import VerificationError
from ejournal.integrity.note import Verifier
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer
from ejournal.ledger.clock import Clock, system_clock
from ejournal.ledger.config import persistence_env
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.keys import KeyStore, secret_from_environment
from ejournal.ledger.placement import DIRECTORY, Region
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.settings import Settings

console = Console()
errors = Console(stderr=True)

ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        help="In a region (EJOURNAL_SERVERS): this server alone, 'directory' for the directory "
        "database (default: the directory, then every server)",
    ),
]
DatabaseURL = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="sqlite:///PATH or postgresql://USER@HOST:PORT/DB (default: EJOURNAL_DATABASE_URL or "
        "sqlite:///ejournal.db)",
    ),
]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print a JSON report instead of text.")]
KeysFile = Annotated[
    Path | None,
    typer.Option(
        "--keys", help="File of trusted verifier keys (vkey lines), kept outside the database."
    ),
]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``message`` as one line on stderr and exit with ``code``."""
    errors.print(f"[bold red]error:[/] {_one_line(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _one_line(message: str) -> str:
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())


DATABASE_ERRORS = (LedgerError, PersistenceError, psycopg.Error, sqlite3.Error)
"""What the database (or our ledger over it) raises when it is missing, unreachable or refuses."""


@contextmanager
def database_errors(code: int = 1) -> Iterator[None]:
    """Turn an error of the database into one line and exit ``code`` (never a traceback)."""
    try:
        yield
    except DATABASE_ERRORS as e:
        fail(f"{type(e).__name__}: {e}", code=code)


def database_settings(database_url: str | None) -> Settings:
    """The settings (``--database-url`` over ``EJOURNAL_DATABASE_URL``), the URL checked for its
    form only; fails with one line for a malformed URL or setting."""
    try:
        settings = Settings.from_environment(database_url=database_url)
    except ValueError as e:
        fail(f"malformed setting in the environment: {e}")
    parts = urlsplit(settings.database_url)
    if parts.scheme != "sqlite":  # a SQLite URL is checked without creating its folder
        try:
            persistence_env(settings.database_url)
        except LedgerError as e:
            fail(str(e))
    elif not _sqlite_path(settings.database_url):
        fail(f"no file in SQLite URL {settings.database_url!r}")
    return settings


def _sqlite_path(database_url: str) -> str:
    path = urlsplit(database_url).path
    return unquote(path[1:] if path.startswith("/") else path)


_SQLITE_MAGIC = b"SQLite format 3\x00"


def require_database(database_url: str, *, create: bool = False) -> None:
    """Fail with one line unless the database exists and can be opened: a command that reads
    must not create an empty database and report on it. With ``create`` a missing SQLite file is
    allowed (the ledger creates it); a PostgreSQL database is never created here."""
    if urlsplit(database_url).scheme == "sqlite":
        name = _sqlite_path(database_url)
        if name == ":memory:":
            return
        path = Path(name)
        if path.is_dir():
            fail(f"{path} is a directory, not an SQLite database")
        if not path.exists():
            if create:
                return
            fail(
                f"no database at {path}: nothing to read (check --database-url or "
                "EJOURNAL_DATABASE_URL); nothing was created"
            )
        try:
            with path.open("rb") as stream:
                head = stream.read(len(_SQLITE_MAGIC))
        except OSError as e:
            fail(f"cannot read {path}: {e.strerror or e}")
        if head and head != _SQLITE_MAGIC:
            fail(f"{path} is not an SQLite database")
        return
    _require_postgres(database_url)


def _require_postgres(database_url: str) -> None:
    env = persistence_env(database_url)
    host, port, name = env["POSTGRES_HOST"], env["POSTGRES_PORT"], env["POSTGRES_DBNAME"]
    params: dict[str, Any] = {
        "host": host,
        "port": port,
        "user": env["POSTGRES_USER"],
        "password": env["POSTGRES_PASSWORD"] or None,
        "connect_timeout": 10,
    }
    try:
        psycopg.connect(dbname=name, **params).close()
        return
    except psycopg.Error as e:
        reason = _one_line(str(e))
    if _postgres_database_missing(name, params):
        fail(
            f"PostgreSQL database {name!r} does not exist on {host}:{port}: create it first "
            "(createdb); nothing was created"
        )
    fail(f"cannot connect to PostgreSQL database {name!r} at {host}:{port}: {reason}")


def _postgres_database_missing(name: str, params: dict[str, Any]) -> bool:
    """Whether the server answers and has no database ``name`` (asked of its maintenance
    database, since a refused connection does not say why in a form to rely on)."""
    for maintenance in ("postgres", "template1"):
        try:
            with psycopg.connect(dbname=maintenance, **params) as conn:
                row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                return row.fetchone() is None
        except psycopg.Error:
            continue
    return False


def open_ledger(
    database_url: str | None, *, create: bool = False, clock: Clock = system_clock
) -> tuple[Settings, Ledger]:
    """The settings and the ledger of ``--database-url``. Fails with one line if the database
    does not exist (unless ``create``: a command that creates the ledger, such as ``generate``),
    cannot be reached, or the URL is malformed. Every command that reads keeps the default."""
    settings = database_settings(database_url)
    require_database(settings.database_url, create=create)
    with database_errors(code=2):
        return settings, Ledger(database_url=settings.database_url, clock=clock)


def read_verifiers(path: Path) -> list[Verifier]:
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        return [Verifier.from_vkey(line) for line in lines if line and not line.startswith("#")]
    except (OSError, VerificationError) as e:
        fail(f"cannot read verifier keys from {path}: {e}")


@contextmanager
def region_of(settings: Settings, ledger: Ledger) -> Iterator[Region | None]:
    """The region of ``EJOURNAL_SERVERS`` around the directory's ``ledger`` (``ledger.placement``),
    its servers' ledgers closed at the end; None without servers."""
    region = Region(ledger, dict(settings.servers)) if settings.servers else None
    try:
        yield region
    finally:
        if region is not None:
            region.close()


def each_server(
    region: Region | None, ledger: Ledger, only: str | None = None
) -> Iterator[tuple[str, Ledger]]:
    """The ledger of each server, the directory first: the directory's alone without a region;
    ``only``: that server's alone. Fails with one line for an unknown server; one that cannot be
    reached fails when its turn comes (exit 2)."""
    names = [DIRECTORY] if region is None else region.names
    if only is not None and only not in names:
        fail(f"no server named {only!r}: the servers are {', '.join(names)}")
    for name in names if only is None else [only]:
        if region is None:
            yield name, ledger
            continue
        with database_errors(code=2):
            server = region.ledger(name)
        yield name, server


def checkpointer_for(settings: Settings, ledger: Ledger) -> Checkpointer:
    # A region's servers sign with the directory's keys: one deployment, one key.
    store = KeyStore((ledger.directory or ledger).database, clock=ledger.clock)
    try:
        signers = store.signers(secret_from_environment())
    except LedgerError as e:
        fail(str(e))
    return Checkpointer(
        ledger.database,
        origin=settings.origin,
        signers=signers,
        verifiers=store.verifiers(),
        clock=ledger.clock,
        every_entries=settings.checkpoint_every_entries,
        every_seconds=settings.checkpoint_every_seconds,
    )


def secret() -> bytes:
    try:
        return secret_from_environment()
    except LedgerError as e:
        fail(str(e))


def log_ids(ledger: Ledger) -> list[str]:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(f"SELECT DISTINCT log_id FROM {EVENTS_TABLE} ORDER BY log_id")
        return [row[0] for row in cursor.fetchall()]


def failure_json(error: VerificationError) -> dict[str, object]:
    return {
        "ok": False,
        "error": type(error).__name__,
        "message": error.message,
        "where": error.where,
        "expected": error.expected,
        "found": error.found,
    }


class PrintoutNames:
    """The full names printouts show (``identity.names``): read from the vault when there is a
    key (``EJOURNAL_VAULT_KEY`` or ``EJOURNAL_VAULT_KEY_FILE``). A row the key does not open is
    shown by a short ID and counted, rather than stopping a year close half done (the year is
    closed before its sheets are certified)."""

    def __init__(self, ledger: Ledger, kek: bytes | None) -> None:
        from ejournal.identity.names import Names
        from ejournal.identity.tables import create_identity_tables
        from ejournal.identity.vault import Vault
        from ejournal.ledger.database import startup_lock

        self.keyed = kek is not None
        self.unopened = 0
        self._names = None
        if kek is not None:
            with startup_lock(ledger.database):  # a server may be creating them at this moment
                create_identity_tables(ledger.database)
            self._names = Names(Vault(ledger.database, kek))

    @classmethod
    def from_environment(cls, ledger: Ledger) -> PrintoutNames:
        """With the vault key of the environment; fails with one line for a malformed key."""
        from ejournal.identity.vault import VaultError, key_from_environment

        try:
            return cls(ledger, key_from_environment())
        except VaultError as e:
            fail(str(e))

    def __call__(self, person_id: UUID) -> str | None:
        from ejournal.identity.vault import VaultError

        if self._names is None:
            return None
        try:
            return self._names.full_name(person_id)
        except VaultError:
            self.unopened += 1
            return None

    @property
    def unnamed(self) -> str:
        """Why some people are shown by a short ID, for the terminal; empty if none is."""
        if not self.keyed:
            return "no EJOURNAL_VAULT_KEY: the printouts name people by a short ID"
        if self.unopened:
            return (
                f"{self.unopened} name(s) did not open with this EJOURNAL_VAULT_KEY: "
                "shown by a short ID"
            )
        return ""
