"""``ejournal witness``: run a witness (C2SP tlog-witness) for the schools' logs of a district.

A witness is a process of its own, with its own key and its own SQLite state in one directory,
run by someone who does not run the schools' service (the district, a regional archive)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from ejournal.cli.common import console, fail, read_verifiers
from ejournal.witness.http import serve_witness
from ejournal.witness.store import WitnessStateError, WitnessStore, create_key, load_key
from ejournal.witness.witness import Witness

app = typer.Typer(no_args_is_help=True, help="A witness that cosigns the logs' checkpoints.")

StateDirectory = Annotated[
    Path,
    typer.Option("--dir", help="The witness's directory: its key and its database."),
]


@app.command("init")
def witness_init(
    state: StateDirectory,
    name: Annotated[
        str, typer.Option("--name", help="The witness's key name, e.g. witness.rayon.example/1.")
    ],
) -> None:
    """Create the witness's key; print its verifier key (give it to the schools' services)."""
    try:
        console.print(create_key(state, name).vkey, highlight=False, soft_wrap=True)
    except (WitnessStateError, ValueError, OSError) as e:
        fail(str(e))


@app.command("vkey")
def witness_vkey(state: StateDirectory) -> None:
    """Print the witness's verifier key."""
    try:
        console.print(load_key(state).vkey, highlight=False, soft_wrap=True)
    except WitnessStateError as e:
        fail(str(e))


@app.command("serve")
def witness_serve(
    state: StateDirectory,
    log_keys: Annotated[
        list[Path],
        typer.Option(
            "--log-key",
            help="A file of log verifier keys to trust (ejournal keys export); a key named N "
            "signs the logs whose origin is N or N/…. Repeatable.",
        ),
    ],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8010,
) -> None:
    """Serve POST /add-checkpoint and GET /checkpoints until interrupted."""
    try:
        signer = load_key(state)
        store = WitnessStore(state)
    except (WitnessStateError, OSError) as e:
        fail(str(e))
    trusted = [key for path in log_keys for key in read_verifiers(path)]
    if not trusted:
        fail("no log key to trust: pass --log-key FILE")
    logging.basicConfig(level=logging.WARNING)
    witness = Witness(store, signer, trusted)

    def ready(bound: int) -> None:
        names = ", ".join(sorted({key.name for key in trusted}))
        print(f"ejournal witness {signer.name} at http://{host}:{bound}/ for {names}", flush=True)

    try:
        serve_witness(witness, host, port, ready=ready)
    except OSError as e:
        fail(f"cannot listen on {host}:{port}: {e}")
    except KeyboardInterrupt:
        pass
