"""``ejournal`` commands on the ledger itself (I5, I6): verify it, sign checkpoints, write and check
receipts of single records."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ejournal.cli.common import (
    DatabaseURL,
    JsonOutput,
    KeysFile,
    checkpointer_for,
    console,
    errors,
    fail,
    failure_json,
    log_ids,
    open_ledger,
    read_verifiers,
)
from ejournal.integrity.errors import VerificationError
from ejournal.integrity.leaf import decode_leaf, from_micros
from ejournal.integrity.receipt import Receipt, verify_receipt
from ejournal.ledger.application import Ledger
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.proofs import prove_event
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.settings import Settings
from ejournal.ledger.verify import LedgerReport, RuledEntry, verify_ledger
from ejournal.projections.reentry import ExclusionCheck, check_exclusions

app = typer.Typer()


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


def run_verify(settings: Settings, ledger: Ledger, *, keys: Path | None, as_json: bool) -> int:
    """Verify the ledger and print the outcome; returns the process exit code."""
    if keys is not None:
        verifiers, keys_source = read_verifiers(keys), str(keys)
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
            print(json.dumps(failure_json(error), ensure_ascii=False))
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


@app.command()
def verify(
    database_url: DatabaseURL = None, keys: KeysFile = None, as_json: JsonOutput = False
) -> None:
    """Recompute every leaf, chain and Merkle root, check every checkpoint; exit 1 at the first
    failure, naming it."""
    settings, ledger = open_ledger(database_url)
    try:
        raise typer.Exit(run_verify(settings, ledger, keys=keys, as_json=as_json))
    finally:
        ledger.close()


@app.command()
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
    settings, ledger = open_ledger(database_url)
    try:
        checkpointer = checkpointer_for(settings, ledger)
        try:
            if due:
                signed_now = checkpointer.checkpoint_due()
            else:
                logs = [log] if log is not None else log_ids(ledger)
                signed_now = [cp for cp in map(checkpointer.checkpoint, logs) if cp is not None]
        except (LedgerError, VerificationError) as e:
            fail(str(e), code=1)
        for signed in signed_now:
            console.print(
                f"{signed.log_id}: signed size {signed.size} root {signed.root_hash.hex()}"
            )
        if not signed_now:
            console.print("nothing to sign")
    finally:
        ledger.close()


@app.command()
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
        fail(f"EVENT must be ORIGINATOR_ID:VERSION, got {event!r}")
    settings, ledger = open_ledger(database_url)
    try:
        receipt = prove_event(
            ledger.database,
            originator_id,
            version,
            verifiers=KeyStore(ledger.database).verifiers(),
            origin=settings.origin,
        )
    except (LedgerError, VerificationError) as e:
        fail(str(e), code=1)
    finally:
        ledger.close()
    if out is None:
        sys.stdout.write(receipt.encode())
    else:
        out.write_text(receipt.encode(), encoding="utf-8")


@app.command("verify-proof")
def verify_proof(
    receipt_path: Annotated[Path, typer.Argument(metavar="RECEIPT")],
    key: Annotated[Path, typer.Option("--key", help="File of trusted verifier keys.")],
    as_json: JsonOutput = False,
) -> None:
    """Verify a receipt offline: no database, no network."""
    verifiers = read_verifiers(key)
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
        fail(str(e))
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
