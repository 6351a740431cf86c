"""The ``ejournal`` command line."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from integrity.errors import VerificationError
from ledger.application import Ledger
from ledger.clock import ManualClock
from ledger.config import DEFAULT_DATABASE_URL
from ledger.recorders import EVENTS_TABLE
from ledger.verify import LedgerReport, verify_ledger

cli = typer.Typer(
    no_args_is_help=True, add_completion=False, help="ejournal: the verifiable journal"
)
console = Console()

DatabaseURL = Annotated[
    str,
    typer.Option(
        "--database-url",
        envvar="EJOURNAL_DATABASE_URL",
        help="sqlite:///PATH or postgresql://USER@HOST:PORT/DB",
    ),
]
JsonOutput = Annotated[bool, typer.Option("--json", help="Print a JSON report instead of text.")]

DEMO_DATABASE_URL = "sqlite:///ejournal-demo.db"


def _count_entries(ledger: Ledger) -> int:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {EVENTS_TABLE}")
        return int(cursor.fetchone()[0])


def _verify_with_progress(ledger: Ledger, *, show: bool) -> LedgerReport:
    if not show:
        return verify_ledger(ledger.database)
    total = _count_entries(ledger)
    columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("verify", total=total)
        return verify_ledger(ledger.database, progress=lambda n: bar.update(task, completed=n))


def _report_json(report: LedgerReport) -> dict[str, object]:
    return {
        "ok": True,
        "entries": report.entries,
        "logs": [
            {"log_id": log.log_id, "size": log.size, "chain_head": log.chain_head.hex()}
            for log in report.logs
        ],
    }


def _failure_json(error: VerificationError) -> dict[str, object]:
    return {
        "ok": False,
        "error": type(error).__name__,
        "message": error.message,
        "where": error.where,
        "expected": error.expected,
        "found": error.found,
    }


def run_verify(ledger: Ledger, *, as_json: bool) -> int:
    """Verify the ledger and print the outcome; returns the process exit code."""
    try:
        report = _verify_with_progress(ledger, show=not as_json and sys.stderr.isatty())
    except VerificationError as error:
        if as_json:
            print(json.dumps(_failure_json(error), ensure_ascii=False))
        else:
            console.print(f"[bold red]FAILED[/] {type(error).__name__}: {error}")
        return 1
    if as_json:
        print(json.dumps(_report_json(report), ensure_ascii=False))
    else:
        console.print(
            f"[bold green]OK[/] {report.entries} entries in {len(report.logs)} logs verified"
        )
        for log in report.logs:
            console.print(f"  {log.log_id}: {log.size} entries, chain head {log.chain_head.hex()}")
    return 0


@cli.command()
def verify(database_url: DatabaseURL = DEFAULT_DATABASE_URL, as_json: JsonOutput = False) -> None:
    """Recompute every leaf and chain hash from the stored bytes; exit 1 at the first failure."""
    ledger = Ledger(database_url=database_url)
    try:
        raise typer.Exit(run_verify(ledger, as_json=as_json))
    finally:
        ledger.close()


@cli.command()
def demo(database_url: DatabaseURL = DEMO_DATABASE_URL) -> None:
    """Create a demo school through the commands, record a week of lessons, verify the ledger."""
    from api.demo import run_demo

    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
    clock = ManualClock(datetime(2025, 9, 1, 5, 0, tzinfo=UTC))
    ledger = Ledger(database_url=database_url, clock=clock)
    try:
        summary = run_demo(ledger, clock)
        console.print(summary.describe())
        raise typer.Exit(run_verify(ledger, as_json=False))
    finally:
        ledger.close()


def main() -> None:
    cli()
