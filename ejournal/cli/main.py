"""The ``ejournal`` command line: one app made of the command groups beside this module."""

from __future__ import annotations

import typer

from ejournal.cli import (
    archive,
    exchange,
    generate,
    keys,
    ledger,
    mail,
    printouts,
    region,
    serve,
    tiles,
    witness,
)

cli = typer.Typer(
    no_args_is_help=True, add_completion=False, help="ejournal: the verifiable journal"
)
for group in (serve, ledger, region, tiles, archive, printouts, mail, generate, exchange):
    cli.add_typer(group.app)
cli.add_typer(keys.app, name="keys")
cli.add_typer(witness.app, name="witness")
cli.add_typer(printouts.print_app, name="print")


def main() -> None:
    cli()
