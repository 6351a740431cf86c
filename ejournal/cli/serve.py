"""``ejournal serve``, ``demo`` and ``project``: running the service and its read models."""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from ejournal.api.workers import ServeError
from ejournal.cli.common import (
    DatabaseURL,
    ServerOption,
    console,
    database_errors,
    database_settings,
    each_server,
    errors,
    fail,
    log_ids,
    open_ledger,
    region_of,
    require_database,
)
from ejournal.cli.ledger import run_verify
from ejournal.generator.demo import run_demo
from ejournal.identity.vault import VaultError
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.keys import PASSPHRASE_VARIABLE, KeyStore
from ejournal.ledger.placement import Region
from ejournal.projections.projector import Projector
from ejournal.web.server import serve as run_server

app = typer.Typer()

DEMO_DATABASE_URL = "sqlite:///ejournal-demo.db"


@app.command()
def demo(database_url: DatabaseURL = None) -> None:
    """Build a demo school through the commands, record a week, sign checkpoints, verify."""
    url = database_settings(database_url or DEMO_DATABASE_URL).database_url
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
    clock = ManualClock(datetime(2025, 9, 1, 5, 0, tzinfo=UTC))
    settings, ledger = open_ledger(url, create=True, clock=clock)
    try:
        summary = run_demo(ledger, clock)
        console.print(summary.describe())
        # The demo's signing key is sealed with a demo passphrase unless one is configured.
        secret = os.environ.get(PASSPHRASE_VARIABLE, "demo").encode()
        store = KeyStore(ledger.database, clock=clock)
        verifier = store.create(settings.origin, secret)
        checkpointer = Checkpointer(
            ledger.database,
            origin=settings.origin,
            signers=store.signers(secret),
            verifiers=store.verifiers(),
            clock=clock,
        )
        for log_id in log_ids(ledger):
            signed = checkpointer.checkpoint(log_id)
            assert signed is not None
            console.print(f"  signed checkpoint of {log_id} at size {signed.size}")
        keys_file = Path("ejournal-demo.vkeys")
        keys_file.write_text(verifier.vkey + "\n", encoding="utf-8")
        console.print(f"  verifier key written to {keys_file}")
        raise typer.Exit(run_verify(settings, ledger, keys=keys_file, as_json=False))
    finally:
        ledger.close()


@app.command()
def serve(
    database_url: DatabaseURL = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            help="Worker processes, each on its own socket (PostgreSQL: one a core).", min=1
        ),
    ] = 1,
    access_log: Annotated[
        bool, typer.Option(help="Log each request (off when a proxy in front logs them).")
    ] = True,
    demo: Annotated[
        bool, typer.Option("--demo", help="Serve a fresh demo school (ejournal-demo.db).")
    ] = False,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs); the projector runs in the background."""
    settings = database_settings(database_url)
    if not demo:  # the demo serves a database of its own
        require_database(settings.database_url, create=True)
    try:
        with database_errors(code=2):
            run_server(
                settings, host=host, port=port, demo=demo, workers=workers, access_log=access_log
            )
    except (LedgerError, VaultError, ServeError) as e:
        fail(str(e))


@app.command()
def project(
    database_url: DatabaseURL = None,
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep projecting new events until interrupted.")
    ] = False,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="Project the whole ledger again beside the read models, then switch to the "
            "result at once (readers never see a half-built journal).",
        ),
    ] = False,
    server: ServerOption = None,
) -> None:
    """Bring the read models (class journal, diary, summary sheet, monitor) up to date. In a
    region, each server's (or --server's: one process per server projects them side by side)."""
    settings, ledger = open_ledger(database_url)
    try:
        with region_of(settings, ledger) as region:
            _project(region, ledger, server, rebuild=rebuild, follow=follow)
    finally:
        ledger.close()


def _project(
    region: Region | None, ledger: Ledger, only: str | None, *, rebuild: bool, follow: bool
) -> None:
    projectors = []
    for name, server_ledger in each_server(region, ledger, only):
        projector = Projector(server_ledger)
        projectors.append(projector)
        started = time.monotonic()

        def progress(position: int, moved: int) -> None:
            errors.print(f"  … position {position}, {moved} events", highlight=False)

        run = projector.rebuild if rebuild else projector.catch_up
        moved = run(progress=progress if sys.stderr.isatty() else None)
        seconds = max(time.monotonic() - started, 1e-9)
        where = "" if region is None else f"{name}: "
        console.print(
            f"{where}{'rebuilt' if rebuild else 'projected'} {moved} events in "
            f"{seconds:.1f} s ({moved / seconds:,.0f} events/s); position "
            f"{projector.position()}, lag {projector.lag()}"
        )
        if follow:
            projector.start()
    if follow:
        console.print("following the ledger (Ctrl-C to stop)")
        try:
            while all(p.running for p in projectors):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        for projector in projectors:
            projector.stop()
            console.print(f"stopped at position {projector.position()}")
