"""``ejournal`` commands for archives and backups (п. 1.1, 2.10–2.11, I7)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from eventsourcing.persistence import PersistenceError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from ejournal.archive.backup import backup as backup_database
from ejournal.archive.backup import restore as restore_database
from ejournal.archive.summary import SummaryError
from ejournal.archive.verifier import archive_entry_count, verify_archive
from ejournal.cli.common import (
    DATABASE_ERRORS,
    DatabaseURL,
    JsonOutput,
    KeysFile,
    PrintoutNames,
    checkpointer_for,
    console,
    database_settings,
    errors,
    fail,
    failure_json,
    open_ledger,
    read_verifiers,
    require_database,
)
from ejournal.cli.witnesses import Quorum, WitnessKeys, require_quorum, witness_check
from ejournal.commands.errors import CommandError
from ejournal.documents.render import RenderError
from ejournal.integrity.archive import read_checkpoints
from ejournal.integrity.errors import VerificationError
from ejournal.ledger.domain import School
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.logs import school_log_id

app = typer.Typer()


@app.command("verify-archive")
def verify_archive_command(
    path: Annotated[Path, typer.Argument(help="The school-year archive (a BagIt bag).")],
    keys: KeysFile = None,
    as_json: JsonOutput = False,
    witness_keys: WitnessKeys = None,
    quorum: Quorum = None,
) -> None:
    """Verify a school-year archive offline: manifests, every leaf, the chain, roots, signatures,
    consistency, and each summary sheet against the one recomputed from the entries. With
    --witness-key, the archive's last checkpoint must carry the quorum's cosignatures."""
    verifiers = read_verifiers(keys) if keys is not None else None
    witnesses = witness_check(witness_keys, quorum, ask=False)
    cosigners: list[str] = []
    try:
        if not as_json and sys.stderr.isatty():
            columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn())
            with Progress(*columns, console=errors, transient=True) as bar:
                task = bar.add_task("verify", total=archive_entry_count(path))
                report = verify_archive(
                    path,
                    verifiers=verifiers,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
        else:
            report = verify_archive(path, verifiers=verifiers)
        if witnesses is not None:
            cosigners = require_quorum(witnesses, read_checkpoints(path)[-1].note)
    except (VerificationError, LedgerError, OSError) as error:
        if as_json:
            failure = (
                failure_json(error)
                if isinstance(error, VerificationError)
                else {"ok": False, "error": type(error).__name__, "message": str(error)}
            )
            print(json.dumps(failure, ensure_ascii=False))
        else:
            console.print(f"[bold red]FAILED[/] {type(error).__name__}: {error}")
        raise typer.Exit(1) from error
    if as_json:
        facts = report.to_json()
        if witnesses is not None:
            facts["cosigned_by"] = cosigners
        print(json.dumps(facts, ensure_ascii=False))
        return
    console.print(
        f"[bold green]OK[/] {report.log_id}: {report.entries} entries, "
        f"{report.checkpoints} checkpoints, root {report.root.hex()}"
    )
    if witnesses is not None:
        console.print(f"  ✓ last checkpoint cosigned by {', '.join(cosigners) or 'no witness'}")
    for check in report.checks:
        console.print(f"  ✓ {check}")


def _school_id(text: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        fail(f"--school must be a school's ID (a UUID), not {text!r}")


LEDGER_FAILURES = (
    LedgerError,
    PersistenceError,
    VerificationError,
    CommandError,
    RenderError,
    SummaryError,
    OSError,
)
"""What archiving and closing a year can raise for a reason of their own, said in one line."""


@app.command()
def archive(
    school: Annotated[str, typer.Option(help="School ID.")],
    year: Annotated[int, typer.Option(help="Start year of the school year, e.g. 2025.")],
    out: Annotated[Path, typer.Option(help="Directory to write the bag into.")],
    database_url: DatabaseURL = None,
) -> None:
    """Archive a school year's log as it stands, up to a new signed checkpoint, and verify it.

    Year close with certified summary sheets runs through the head's certification (the API);
    this command re-exports a log, e.g. for an auditor.
    """
    from ejournal.documents.year_close import archive_school_year

    school_id = _school_id(school)
    settings, ledger = open_ledger(database_url)
    try:
        if ledger.find(school_id, School) is None:
            fail(f"no school {school_id} in this database", code=1)
        checkpointer = checkpointer_for(settings, ledger)
        checkpointer.checkpoint(school_log_id(school_id, year))
        path, report = archive_school_year(
            ledger,
            checkpointer=checkpointer,
            checkpoint_verifiers=KeyStore(ledger.database).verifiers(),
            school_id=school_id,
            year_start=year,
            out=out,
        )
    except LEDGER_FAILURES as e:
        fail(f"{type(e).__name__}: {e}", code=1)
    finally:
        ledger.close()
    console.print(f"archive written to {path}: {report.entries} entries, verified")


@app.command()
def backup(
    destination: Annotated[
        Path,
        typer.Argument(help="File (SQLite) or directory (PostgreSQL), new, in an existing folder."),
    ],
    database_url: DatabaseURL = None,
) -> None:
    """Take a consistent online backup of the database."""
    settings = database_settings(database_url)
    require_database(settings.database_url)
    try:
        info = backup_database(settings.database_url, destination)
    except (*DATABASE_ERRORS, OSError) as e:
        fail(f"{type(e).__name__}: {e}", code=1)
    console.print(f"backup ({info.method}) written to {info.path}, {info.size} bytes")
    if info.sha256:
        console.print(f"  sha256 {info.sha256}")


@app.command()
def restore(
    source: Annotated[Path, typer.Argument(help="A backup written by `ejournal backup`.")],
    database_url: DatabaseURL = None,
    keys: KeysFile = None,
) -> None:
    """Restore a backup into an empty database; succeeds only if the restored ledger verifies.
    A restore that fails leaves the target as it found it (nothing restored is kept)."""
    settings = database_settings(database_url)
    verifiers = read_verifiers(keys) if keys is not None else None
    # A SQLite target is created; a PostgreSQL one must exist (empty).
    require_database(settings.database_url, create=True)
    try:
        report = restore_database(
            source, settings.database_url, origin=settings.origin, verifiers=verifiers
        )
    except (*DATABASE_ERRORS, OSError) as e:
        fail(f"{type(e).__name__}: {e}", code=1)
    console.print(
        f"[bold green]restored and verified[/] ({report.method}): "
        f"{report.ledger.entries} entries in {len(report.ledger.logs)} logs; "
        f"trusted keys: {report.keys_source}"
    )


SIGNATORY_PASSPHRASE_VARIABLE = "EJOURNAL_SIGNATORY_PASSPHRASE"


@app.command("close-year")
def close_year(
    school: Annotated[str, typer.Option(help="School ID.")],
    year: Annotated[int, typer.Option(help="Start year of the school year, e.g. 2025.")],
    head: Annotated[str, typer.Option(help="The head's login: the signer of the summary sheets.")],
    out: Annotated[Path, typer.Option(help="New directory for the archive.")],
    new_key: Annotated[
        bool, typer.Option("--new-key", help="Create the head's certifying key first.")
    ] = False,
    database_url: DatabaseURL = None,
) -> None:
    """Close a school year (п. 2.11): close its journals, certify each class's summary sheet with
    the head's key (EJOURNAL_SIGNATORY_PASSPHRASE), sign the final checkpoint, write the archive.
    A year closed already is refused, and nothing is written. The sheets name the pupils and the
    head by their full names from the vault (EJOURNAL_VAULT_KEY or EJOURNAL_VAULT_KEY_FILE);
    without a key, by a short ID, and the command says so."""
    import os

    from ejournal import commands as c
    from ejournal.documents.year_close import check_closable, close_school_year
    from ejournal.ledger.domain import Account
    from ejournal.ledger.signatories import SignatoryKeyStore

    school_id = _school_id(school)
    secret = os.environ.get(SIGNATORY_PASSPHRASE_VARIABLE, "").encode()
    if not secret:
        fail(f"set {SIGNATORY_PASSPHRASE_VARIABLE}: the head's certifying key is sealed with it")
    if out.exists():
        fail(f"{out} exists: the archive goes into a new directory")
    settings, ledger = open_ledger(database_url)
    names = PrintoutNames.from_environment(ledger)
    try:
        account_id = Account.create_id(login=head)
        actor = c.actor_for(ledger, account_id)
        person_id = ledger.get(account_id, Account).person_id
        # Everything that refuses the year does so before the first write (the key, the close).
        check_closable(ledger, school_id=school_id, year_start=year)
        checkpointer = checkpointer_for(settings, ledger)
        signatories = SignatoryKeyStore(ledger.database, clock=ledger.clock)
        if new_key:
            signatories.create(person_id, secret)
        result = close_school_year(
            ledger,
            checkpointer=checkpointer,
            checkpoint_verifiers=KeyStore(ledger.database).verifiers(),
            actor=actor,
            signer=signatories.signer(person_id, secret),
            school_id=school_id,
            year_start=year,
            out=out,
            names=names,
        )
    except LEDGER_FAILURES as e:
        fail(f"{type(e).__name__}: {e}", code=1)
    finally:
        ledger.close()
    console.print(
        f"school year {year}/{year + 1} closed; {len(result.sheets)} summary sheets certified; "
        f"final checkpoint at size {result.final_checkpoint.size}; archive {result.archive}"
    )
    if names.unnamed:
        console.print(f"[yellow]{names.unnamed}[/]")


@app.command()
def dispose(
    log: Annotated[str, typer.Option(help="The school year's log, school/<id>/<YYYY>-<YYYY>.")],
    reason: Annotated[str, typer.Option(help="Why, for the disposition act (e.g. the order).")],
    database_url: DatabaseURL = None,
) -> None:
    """Remove the expired payloads of a school year's log per the retention schedule, recording
    a disposition act; every leaf stays, so the ledger and its archives still verify."""
    from ejournal import commands as c
    from ejournal.ledger.actor import SYSTEM_ACTOR

    _, ledger = open_ledger(database_url)
    try:
        result = c.handle(
            c.DisposeExpiredRecords(actor=SYSTEM_ACTOR, log_id=log, reason=reason), ledger
        )
    except (LedgerError, PersistenceError, c.CommandError) as e:
        fail(f"{type(e).__name__}: {e}", code=1)
    finally:
        ledger.close()
    console.print(f"disposition act {result.act_id}: {result.removed} payloads removed from {log}")
