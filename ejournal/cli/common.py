"""What every ``ejournal`` command shares: the consoles, the common options, opening the ledger,
reading trusted keys, and failing with one line instead of a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console

from ejournal.integrity.errors import VerificationError
from ejournal.integrity.note import Verifier
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.keys import KeyStore, secret_from_environment
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.settings import Settings

console = Console()
errors = Console(stderr=True)

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
    errors.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def open_ledger(database_url: str | None) -> tuple[Settings, Ledger]:
    settings = Settings.from_environment(database_url=database_url)
    try:
        return settings, Ledger(database_url=settings.database_url)
    except LedgerError as e:
        fail(str(e))


def read_verifiers(path: Path) -> list[Verifier]:
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        return [Verifier.from_vkey(line) for line in lines if line and not line.startswith("#")]
    except (OSError, VerificationError) as e:
        fail(f"cannot read verifier keys from {path}: {e}")


def checkpointer_for(settings: Settings, ledger: Ledger) -> Checkpointer:
    store = KeyStore(ledger.database, clock=ledger.clock)
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
