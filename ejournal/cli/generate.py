"""``ejournal generate``: a deterministic district (or part of one) written through the commands."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ejournal.cli.common import (
    DatabaseURL,
    console,
    database_errors,
    each_server,
    fail,
    open_ledger,
    region_of,
)
from ejournal.commands.errors import CommandError
from ejournal.generator import Counts, Plan, count_events, district_plan, generate
from ejournal.generator.jobs import GeneratorProcessError, generate_in_processes
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.placement import Region

app = typer.Typer()


@app.command("generate")
def generate_command(
    database_url: DatabaseURL = None,
    schools: Annotated[int, typer.Option(min=1, help="Schools in the district.")] = 53,
    seed: Annotated[int, typer.Option(help="Everything follows from the seed.")] = 2025,
    weeks: Annotated[
        int | None,
        typer.Option(
            min=1, help="Only the year's first weeks (without June's exams); default: all."
        ),
    ] = None,
    parallels: Annotated[
        int | None,
        typer.Option(min=1, help="Classes per grade in every school (default: drawn, 1–4)."),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            min=1,
            help="Write the schools' year logs in N processes (the same district whatever N).",
        ),
    ] = 1,
) -> None:
    """Generate a district's school year through the commands; run it again to resume. In a
    region (EJOURNAL_SERVERS), the schools are placed on the servers in turn."""
    try:
        plan = district_plan(schools=schools, seed=seed, weeks=weeks, parallels=parallels)
    except ValueError as e:
        fail(str(e))
    clock = ManualClock(datetime(2025, 8, 1, tzinfo=UTC))
    # It writes a district from nothing: it may create the database (a SQLite file).
    settings, ledger = open_ledger(database_url, create=True, clock=clock)
    pupils = sum(s.students for s in plan.schools)
    console.print(f"{len(plan.schools)} schools, {pupils} pupils, {plan.units()} units of work")
    started = time.monotonic()
    try:
        with database_errors(), region_of(settings, ledger) as region:
            counts = _generate(ledger, clock, plan, settings.database_url, jobs, region)
            events = sum(count_events(server) for _, server in each_server(region, ledger))
    except CommandError as e:  # a bug of the generator: said in one line, like any refusal
        fail(f"a command of the generator was refused: {e}", code=1)
    except GeneratorProcessError as e:
        fail(f"a process of the generator failed: {e}", code=1)
    finally:
        ledger.close()
    seconds = max(time.monotonic() - started, 1e-9)
    console.print(
        f"{counts.units} units written ({counts.skipped_units} already there) "
        f"in {seconds:.0f} s: {counts.commands:,} commands, {counts.lessons:,} lessons, "
        f"{counts.marks:,} marks, "
        f"{counts.period_marks:,} attestation marks; the ledger holds {events:,} events"
    )


def _generate(
    ledger: Ledger,
    clock: ManualClock,
    plan: Plan,
    database_url: str,
    jobs: int,
    region: Region | None,
) -> Counts:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("generating", total=plan.units())

        def progress(what: str, counts: Counts) -> None:
            bar.update(
                task,
                completed=counts.units + counts.skipped_units,
                description=f"{what[-40:]:<40} {counts.commands:>10,} commands",
            )

        if jobs > 1:
            return generate_in_processes(
                ledger, clock, database_url, plan, jobs=jobs, progress=progress, region=region
            )
        _, counts = generate(ledger, clock, plan, progress=progress, region=region)
    return counts
