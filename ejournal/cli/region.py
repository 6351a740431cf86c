"""``ejournal servers``, ``place-school`` and ``move-school``: a region's schools on its
PostgreSQL servers (``ledger.placement``, docs/adr/0018-schools-on-servers.md)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Annotated
from urllib.parse import urlsplit
from uuid import UUID

import typer
from rich.table import Table

from ejournal.cli.common import (
    DatabaseURL,
    checkpointer_for,
    console,
    fail,
    open_ledger,
    region_of,
)
from ejournal.ledger.application import Ledger
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.placement import DIRECTORY, Region
from ejournal.ledger.settings import Settings
from ejournal.mail.moving import move_mail_state

app = typer.Typer()


@contextmanager
def _region(database_url: str | None) -> Iterator[tuple[Settings, Ledger, Region]]:
    """The settings, the directory's ledger and the region of ``EJOURNAL_SERVERS``, closed at
    the end; fails with one line without servers."""
    settings, ledger = open_ledger(database_url)
    try:
        with region_of(settings, ledger) as region:
            if region is None:
                fail("no EJOURNAL_SERVERS: every school is in the directory database")
            yield settings, ledger, region
    finally:
        ledger.close()


@app.command("servers")
def servers(database_url: DatabaseURL = None) -> None:
    """The region's servers (EJOURNAL_SERVERS), whether each answers, its schools and the logs
    placed on it apart from their school (closed years moved with move-school --year)."""
    settings, ledger = open_ledger(database_url)
    try:
        with region_of(settings, ledger) as region:
            if region is None:
                console.print("one server: no EJOURNAL_SERVERS, every school is in the directory")
                return
            placed, apart = region.placement.all(), region.placement.logs()
            urls = {DIRECTORY: settings.database_url, **dict(settings.servers)}
            table = Table("server", "where", "answers", "schools placed", "logs placed apart")
            for name in region.names:
                try:
                    region.ledger(name)
                    answers = "yes"
                except LedgerError as e:
                    answers = f"no: {e}"
                where = urlsplit(urls[name])
                count = sum(1 for server in placed.values() if server == name)
                table.add_row(
                    name,
                    f"{where.hostname}:{where.port or 5432}{where.path}",
                    answers,
                    str(count) if name != DIRECTORY else "the rest",
                    str(sum(1 for server in apart.values() if server == name)),
                )
            console.print(table)
            if apart:
                logs = Table("log placed apart from its school", "server")
                for log_id, server in sorted(apart.items()):
                    logs.add_row(log_id, server)
                console.print(logs, soft_wrap=True)
    finally:
        ledger.close()


@app.command("place-school")
def place_school(
    school: Annotated[UUID, typer.Argument(help="The school's ID")],
    on: Annotated[str, typer.Option("--on", help="The server (a name of EJOURNAL_SERVERS)")],
    database_url: DatabaseURL = None,
) -> None:
    """Place a school that has no records yet on a server: its logs and read models will be
    kept there. A school with records is moved with move-school."""
    with _region(database_url) as (_, _, region):
        try:
            placed = region.place(school, on)
        except LedgerError as e:
            fail(str(e))
    console.print(f"school {school} {'placed on' if placed else 'is already on'} {on}")


@app.command("move-school")
def move_school(
    school: Annotated[UUID, typer.Argument(help="The school's ID")],
    to: Annotated[str, typer.Option("--to", help="The server to move it to")],
    year: Annotated[
        int | None,
        typer.Option(
            "--year",
            min=1,
            max=9998,
            help="Move only this school year's log (2024: the year 2024/2025), which must be "
            "over, and place it on --to apart from its school (an archive server)",
        ),
    ] = None,
    database_url: DatabaseURL = None,
) -> None:
    """Move a school's logs to another server while it keeps working: copy them, fence the old
    server, prove every log's root equal at a signed checkpoint, carry its parents' e-mail
    subscriptions, outbox and link tokens, switch the placement. With
    --year, a closed school year's log alone (docs/adr/0020-closed-years-placed-apart.md). Run
    it again after an interruption: it finishes what was begun
    (docs/adr/0017-moving-a-school.md)."""
    with _region(database_url) as (settings, ledger, region):
        checkpointer = partial(checkpointer_for, settings)
        verifiers = KeyStore(ledger.database).verifiers()
        try:
            if year is None:
                moved = region.move(
                    school,
                    to,
                    checkpointer=checkpointer,
                    verifiers=verifiers,
                    carry=move_mail_state,
                )
            else:
                moved = region.move_year(
                    school,
                    year,
                    to,
                    checkpointer=checkpointer,
                    verifiers=verifiers,
                    carry=move_mail_state,
                )
        except LedgerError as e:
            fail(str(e), code=1)
    for log in moved:
        console.print(
            f"{log.log_id}: {log.size} entries, root {log.root_hex}, equal on {to}",
            soft_wrap=True,  # a root is copied whole, not wrapped
        )
    if year is None:
        console.print(f"school {school} is on {to}")
    else:
        console.print(
            f"school year {year}/{year + 1} of school {school} is on {to}", soft_wrap=True
        )
