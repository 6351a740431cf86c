"""``ejournal keys``: the deployment's checkpoint-signing keys (I5), sealed at rest."""

from __future__ import annotations

from typing import Annotated

import typer

from ejournal.cli.common import DatabaseURL, console, fail, open_ledger, secret
from ejournal.integrity.leaf import from_micros
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.keys import KeyStore

app = typer.Typer(no_args_is_help=True, help="Checkpoint-signing keys.")


@app.command("init")
def keys_init(
    database_url: DatabaseURL = None,
    name: Annotated[str | None, typer.Option(help="Key name (default: the origin).")] = None,
) -> None:
    """Create the deployment's first signing key (sealed with EJOURNAL_KEY_PASSPHRASE/FILE)."""
    # The first step of a new deployment (docs/operations.md): it may create the SQLite file.
    settings, ledger = open_ledger(database_url, create=True)
    try:
        store = KeyStore(ledger.database)
        if store.all_keys():
            fail("keys are already initialised: use `ejournal keys rotate` to add a key")
        verifier = store.create(name or settings.origin, secret())
        console.print(verifier.vkey)
    finally:
        ledger.close()


@app.command("rotate")
def keys_rotate(
    database_url: DatabaseURL = None,
    name: Annotated[str | None, typer.Option(help="Key name (default: the origin).")] = None,
) -> None:
    """Add a new signing key; it signs alongside the current ones until they are retired."""
    settings, ledger = open_ledger(database_url)
    try:
        console.print(KeyStore(ledger.database).create(name or settings.origin, secret()).vkey)
    finally:
        ledger.close()


@app.command("retire")
def keys_retire(vkey: str, database_url: DatabaseURL = None) -> None:
    """Stop signing with a key; it stays a known verifier for the checkpoints it signed."""
    _, ledger = open_ledger(database_url)
    try:
        KeyStore(ledger.database).retire(vkey)
    except LedgerError as e:
        fail(str(e))
    finally:
        ledger.close()


@app.command("export")
def keys_export(database_url: DatabaseURL = None) -> None:
    """Print every verifier key (active and retired), one vkey a line, for auditors to keep."""
    _, ledger = open_ledger(database_url)
    try:
        for key in KeyStore(ledger.database).all_keys():
            state = (
                "active" if key.active else f"retired {from_micros(key.retired_at or 0):%Y-%m-%d}"
            )
            print(f"# {key.name}, created {from_micros(key.created_at):%Y-%m-%d}, {state}")
            print(key.vkey)
    finally:
        ledger.close()
