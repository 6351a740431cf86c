"""The ``ejournal`` command line."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn
from uuid import UUID

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ejournal.api.settings import Settings
from ejournal.integrity.errors import VerificationError
from ejournal.integrity.leaf import decode_leaf, from_micros
from ejournal.integrity.note import Verifier
from ejournal.integrity.receipt import Receipt, verify_receipt
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.keys import PASSPHRASE_VARIABLE, KeyStore, secret_from_environment
from ejournal.ledger.proofs import prove_event
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.verify import LedgerReport, RuledEntry, verify_ledger
from ejournal.projections.reentry import ExclusionCheck, check_exclusions

cli = typer.Typer(
    no_args_is_help=True, add_completion=False, help="ejournal: the verifiable journal"
)
keys_cli = typer.Typer(no_args_is_help=True, help="Checkpoint-signing keys.")
cli.add_typer(keys_cli, name="keys")
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

DEMO_DATABASE_URL = "sqlite:///ejournal-demo.db"


def _fail(message: str, code: int = 2) -> NoReturn:
    errors.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


def _open(database_url: str | None) -> tuple[Settings, Ledger]:
    settings = Settings.from_environment(database_url=database_url)
    try:
        return settings, Ledger(database_url=settings.database_url)
    except LedgerError as e:
        _fail(str(e))


def _read_verifiers(path: Path) -> list[Verifier]:
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        return [Verifier.from_vkey(line) for line in lines if line and not line.startswith("#")]
    except (OSError, VerificationError) as e:
        _fail(f"cannot read verifier keys from {path}: {e}")


def _checkpointer(settings: Settings, ledger: Ledger) -> Checkpointer:
    store = KeyStore(ledger.database, clock=ledger.clock)
    try:
        signers = store.signers(secret_from_environment())
    except LedgerError as e:
        _fail(str(e))
    return Checkpointer(
        ledger.database,
        origin=settings.origin,
        signers=signers,
        verifiers=store.verifiers(),
        clock=ledger.clock,
        every_entries=settings.checkpoint_every_entries,
        every_seconds=settings.checkpoint_every_seconds,
    )


# --- verify -------------------------------------------------------------------------------------


def _count_entries(ledger: Ledger) -> int:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {EVENTS_TABLE}")
        return int(cursor.fetchone()[0])


def _report_json(report: LedgerReport, keys_source: str) -> dict[str, object]:
    return {
        "ok": True,
        "entries": report.entries,
        "trusted_keys": keys_source,
        "logs": [
            {
                "log_id": log.log_id,
                "size": log.size,
                "root": log.root.hex(),
                "chain_head": log.chain_head.hex(),
                "checkpoints": log.checkpoints,
                "signed_size": log.signed_size,
                "unsigned": log.unsigned,
            }
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


def run_verify(settings: Settings, ledger: Ledger, *, keys: Path | None, as_json: bool) -> int:
    """Verify the ledger and print the outcome; returns the process exit code."""
    if keys is not None:
        verifiers, keys_source = _read_verifiers(keys), str(keys)
    else:
        verifiers = KeyStore(ledger.database).verifiers()
        keys_source = "the database's key store (not independent: pass --keys to trust a file)"
    show_progress = not as_json and sys.stderr.isatty()
    try:
        if show_progress:
            columns = (
                TextColumn("verifying"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
            )
            with Progress(*columns, console=errors, transient=True) as bar:
                task = bar.add_task("verify", total=_count_entries(ledger))
                report = verify_ledger(
                    ledger.database,
                    verifiers=verifiers,
                    origin=settings.origin,
                    progress=lambda n: bar.update(task, completed=n),
                )
        else:
            report = verify_ledger(ledger.database, verifiers=verifiers, origin=settings.origin)
    except VerificationError as error:
        if as_json:
            print(json.dumps(_failure_json(error), ensure_ascii=False))
        else:
            console.print(f"[bold red]FAILED[/] {type(error).__name__}: {error}")
        return 1
    invalid = {(e.originator_id, e.originator_version) for e in report.invalidated}
    exclusions = check_exclusions(ledger.database, invalid)
    if as_json:
        facts = _report_json(report, keys_source)
        facts["invalidation"] = _invalidation_json(report, exclusions)
        facts["ok"] = exclusions.agrees
        print(json.dumps(facts, ensure_ascii=False))
        return 0 if exclusions.agrees else 1
    console.print(f"[bold green]OK[/] {report.entries} entries in {len(report.logs)} logs verified")
    console.print(f"  trusted keys: {keys_source}")
    for log in report.logs:
        console.print(
            f"  {log.log_id}: {log.size} entries, root {log.root.hex()[:16]}…, "
            f"{log.checkpoints} checkpoints, {log.unsigned} unsigned after the last"
        )
    console.print(
        f"  п. 4.4: {len(report.rules)} rules; {len(report.invalidated)} operations invalid, "
        f"{len(report.flagged)} flagged for review (recomputed from the leaves)"
    )
    if not exclusions.compared:
        console.print("  read models: not projected up to the head, not compared")
    elif exclusions.agrees:
        console.print("  read models: exclude exactly the invalid operations")
    else:
        console.print(
            f"[bold red]FAILED[/] the read models show {len(exclusions.shown)} invalid "
            f"operations and hide {len(exclusions.hidden)} valid ones "
            f"(first: {sorted(exclusions.shown | exclusions.hidden)[0]}); "
            "rebuild them: `ejournal project --rebuild`"
        )
        return 1
    return 0


def _invalidation_json(report: LedgerReport, exclusions: ExclusionCheck) -> dict[str, object]:
    def entries(found: list[RuledEntry]) -> list[dict[str, object]]:
        return [
            {"log_id": e.log_id, "index": e.index, "event": f"{e.originator_id}:"
             f"{e.originator_version}", "topic": e.topic, "rule": e.rule}
            for e in found
        ]  # fmt: skip

    return {
        "rules": [rule.name for rule in report.rules],
        "invalid": entries(report.invalidated),
        "flagged": entries(report.flagged),
        "read_models": (
            "not compared"
            if not exclusions.compared
            else "agree"
            if exclusions.agrees
            else {"shown": sorted(exclusions.shown), "hidden": sorted(exclusions.hidden)}
        ),
    }


@cli.command()
def verify(
    database_url: DatabaseURL = None, keys: KeysFile = None, as_json: JsonOutput = False
) -> None:
    """Recompute every leaf, chain and Merkle root, check every checkpoint; exit 1 at the first
    failure, naming it."""
    settings, ledger = _open(database_url)
    try:
        raise typer.Exit(run_verify(settings, ledger, keys=keys, as_json=as_json))
    finally:
        ledger.close()


# --- keys ---------------------------------------------------------------------------------------


@keys_cli.command("init")
def keys_init(
    database_url: DatabaseURL = None,
    name: Annotated[str | None, typer.Option(help="Key name (default: the origin).")] = None,
) -> None:
    """Create the deployment's first signing key (sealed with EJOURNAL_KEY_PASSPHRASE/FILE)."""
    settings, ledger = _open(database_url)
    try:
        store = KeyStore(ledger.database)
        if store.all_keys():
            _fail("keys are already initialised: use `ejournal keys rotate` to add a key")
        verifier = store.create(name or settings.origin, _secret())
        console.print(verifier.vkey)
    finally:
        ledger.close()


@keys_cli.command("rotate")
def keys_rotate(
    database_url: DatabaseURL = None,
    name: Annotated[str | None, typer.Option(help="Key name (default: the origin).")] = None,
) -> None:
    """Add a new signing key; it signs alongside the current ones until they are retired."""
    settings, ledger = _open(database_url)
    try:
        console.print(KeyStore(ledger.database).create(name or settings.origin, _secret()).vkey)
    finally:
        ledger.close()


@keys_cli.command("retire")
def keys_retire(vkey: str, database_url: DatabaseURL = None) -> None:
    """Stop signing with a key; it stays a known verifier for the checkpoints it signed."""
    _, ledger = _open(database_url)
    try:
        KeyStore(ledger.database).retire(vkey)
    except LedgerError as e:
        _fail(str(e))
    finally:
        ledger.close()


@keys_cli.command("export")
def keys_export(database_url: DatabaseURL = None) -> None:
    """Print every verifier key (active and retired), one vkey a line, for auditors to keep."""
    _, ledger = _open(database_url)
    try:
        for key in KeyStore(ledger.database).all_keys():
            state = (
                "active" if key.active else f"retired {from_micros(key.retired_at or 0):%Y-%m-%d}"
            )
            print(f"# {key.name}, created {from_micros(key.created_at):%Y-%m-%d}, {state}")
            print(key.vkey)
    finally:
        ledger.close()


def _secret() -> bytes:
    try:
        return secret_from_environment()
    except LedgerError as e:
        _fail(str(e))


# --- checkpoints and receipts -------------------------------------------------------------------


def _log_ids(ledger: Ledger) -> list[str]:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(f"SELECT DISTINCT log_id FROM {EVENTS_TABLE} ORDER BY log_id")
        return [row[0] for row in cursor.fetchall()]


@cli.command()
def checkpoint(
    log: Annotated[
        str | None, typer.Argument(help="One log; default: every log with new entries.")
    ] = None,
    due: Annotated[
        bool,
        typer.Option(
            "--due",
            help="Only logs with EJOURNAL_CHECKPOINT_ENTRIES unsigned entries or older "
            "than EJOURNAL_CHECKPOINT_SECONDS (for a timer).",
        ),
    ] = False,
    database_url: DatabaseURL = None,
) -> None:
    """Sign a checkpoint of a log (or of every log with unsigned entries) now."""
    settings, ledger = _open(database_url)
    try:
        checkpointer = _checkpointer(settings, ledger)
        try:
            if due:
                signed_now = checkpointer.checkpoint_due()
            else:
                logs = [log] if log is not None else _log_ids(ledger)
                signed_now = [cp for cp in map(checkpointer.checkpoint, logs) if cp is not None]
        except (LedgerError, VerificationError) as e:
            _fail(str(e), code=1)
        for signed in signed_now:
            console.print(
                f"{signed.log_id}: signed size {signed.size} root {signed.root_hash.hex()}"
            )
        if not signed_now:
            console.print("nothing to sign")
    finally:
        ledger.close()


@cli.command()
def prove(
    event: Annotated[str, typer.Argument(help="ORIGINATOR_ID:VERSION of the event.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the receipt here.")] = None,
    database_url: DatabaseURL = None,
) -> None:
    """Write a receipt (C2SP tlog-proof) proving one event is in its log's latest checkpoint."""
    try:
        originator_text, version_text = event.rsplit(":", 1)
        originator_id, version = UUID(originator_text), int(version_text)
    except ValueError:
        _fail(f"EVENT must be ORIGINATOR_ID:VERSION, got {event!r}")
    settings, ledger = _open(database_url)
    try:
        receipt = prove_event(
            ledger.database,
            originator_id,
            version,
            verifiers=KeyStore(ledger.database).verifiers(),
            origin=settings.origin,
        )
    except (LedgerError, VerificationError) as e:
        _fail(str(e), code=1)
    finally:
        ledger.close()
    if out is None:
        sys.stdout.write(receipt.encode())
    else:
        out.write_text(receipt.encode(), encoding="utf-8")


@cli.command("verify-proof")
def verify_proof(
    receipt_path: Annotated[Path, typer.Argument(metavar="RECEIPT")],
    key: Annotated[Path, typer.Option("--key", help="File of trusted verifier keys.")],
    as_json: JsonOutput = False,
) -> None:
    """Verify a receipt offline: no database, no network."""
    verifiers = _read_verifiers(key)
    try:
        receipt = Receipt.decode(receipt_path.read_bytes())
        verified = verify_receipt(receipt, verifiers)
        leaf = decode_leaf(verified.leaf)
        if leaf.index != verified.index:
            raise VerificationError(
                "the leaf names another index than the proof",
                expected=str(verified.index),
                found=str(leaf.index),
                where=str(receipt_path),
            )
    except OSError as e:
        _fail(str(e))
    except (VerificationError, ValueError) as e:
        if as_json:
            print(json.dumps({"ok": False, "error": type(e).__name__, "message": str(e)}))
        else:
            console.print(f"[bold red]FAILED[/] {type(e).__name__}: {e}")
        raise typer.Exit(1) from e
    facts = {
        "ok": True,
        "log": leaf.log_id,
        "index": leaf.index,
        "checkpoint_size": verified.checkpoint.size,
        "event": f"{leaf.originator_id}:{leaf.originator_version}",
        "topic": leaf.topic,
        "recorded_at": from_micros(leaf.recorded_at).isoformat(),
        "actor": str(leaf.actor_id),
        "role": leaf.actor_role,
        "session": str(leaf.session_id),
        "payload_sha256": leaf.payload_sha256.hex(),
        "signed_by": sorted(verified.note.signatures),
    }
    if as_json:
        print(json.dumps(facts, ensure_ascii=False))
    else:
        console.print("[bold green]OK[/] the record is in the log under a signed checkpoint")
        for name, value in facts.items():
            if name != "ok":
                console.print(f"  {name}: {value}")


# --- demo ---------------------------------------------------------------------------------------


@cli.command()
def demo(database_url: DatabaseURL = None) -> None:
    """Build a demo school through the commands, record a week, sign checkpoints, verify."""
    from ejournal.api.demo import run_demo

    url = database_url or DEMO_DATABASE_URL
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
    settings = Settings.from_environment(database_url=url)
    clock = ManualClock(datetime(2025, 9, 1, 5, 0, tzinfo=UTC))
    ledger = Ledger(database_url=url, clock=clock)
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
        for log_id in _log_ids(ledger):
            signed = checkpointer.checkpoint(log_id)
            assert signed is not None
            console.print(f"  signed checkpoint of {log_id} at size {signed.size}")
        keys_file = Path("ejournal-demo.vkeys")
        keys_file.write_text(verifier.vkey + "\n", encoding="utf-8")
        console.print(f"  verifier key written to {keys_file}")
        raise typer.Exit(run_verify(settings, ledger, keys=keys_file, as_json=False))
    finally:
        ledger.close()


@cli.command()
def serve(
    database_url: DatabaseURL = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes, each on its own socket (PostgreSQL: one a core).")
    ] = 1,
    access_log: Annotated[
        bool, typer.Option(help="Log each request (off when a proxy in front logs them).")
    ] = True,
    demo: Annotated[
        bool, typer.Option("--demo", help="Serve a fresh demo school (ejournal-demo.db).")
    ] = False,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs); the projector runs in the background."""
    from ejournal.api.server import serve as run_server
    from ejournal.api.vault import VaultError
    from ejournal.api.workers import ServeError

    try:
        run_server(
            Settings.from_environment(database_url=database_url),
            host=host,
            port=port,
            demo=demo,
            workers=workers,
            access_log=access_log,
        )
    except (LedgerError, VaultError, ServeError) as e:
        _fail(str(e))


def main() -> None:
    cli()


# --- projections --------------------------------------------------------------------------------


@cli.command()
def project(
    database_url: DatabaseURL = None,
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep projecting new events until interrupted.")
    ] = False,
    rebuild: Annotated[
        bool,
        typer.Option("--rebuild", help="Drop the read models and project the whole ledger again."),
    ] = False,
) -> None:
    """Bring the read models (class journal, diary, summary sheet, monitor) up to date."""
    import time

    from ejournal.projections.projector import Projector

    _, ledger = _open(database_url)
    try:
        projector = Projector(ledger)
        started = time.monotonic()

        def progress(position: int, moved: int) -> None:
            errors.print(f"  … position {position}, {moved} events", highlight=False)

        run = projector.rebuild if rebuild else projector.catch_up
        moved = run(progress=progress if sys.stderr.isatty() else None)
        seconds = max(time.monotonic() - started, 1e-9)
        console.print(
            f"{'rebuilt' if rebuild else 'projected'} {moved} events in {seconds:.1f} s "
            f"({moved / seconds:,.0f} events/s); position {projector.position()}, "
            f"lag {projector.lag()}"
        )
        if follow:
            console.print("following the ledger (Ctrl-C to stop)")
            try:
                projector.follow()
            except KeyboardInterrupt:
                console.print(f"stopped at position {projector.position()}")
    finally:
        ledger.close()


# Commands defined in other modules register themselves on `cli` when imported.
from ejournal.api import cli_archive, cli_generate, cli_mail  # noqa: E402, F401
