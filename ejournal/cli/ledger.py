"""``ejournal`` commands on the ledger itself (I5, I6): verify it (and its read models, and against
checkpoints kept outside it), sign and export checkpoints, write and check receipts of single
records.

The rules of п. 4.4 reach an offline verifier of a receipt as a separate file: the receipt stays a
plain C2SP tlog-proof, and ``prove --rules-out`` writes the rule events of the system log, each
with its own receipt, in the archive's ``invalidation.json`` format, which ``verify-proof --rules``
checks before it applies them to the record."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Annotated
from uuid import UUID

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ejournal.archive.errors import ArchiveError
from ejournal.archive.invalidation_rules import (
    INVALIDATION_FORMAT,
    invalidation_rules_json,
    rules_from_document,
)
from ejournal.cli.common import (
    DatabaseURL,
    JsonOutput,
    KeysFile,
    ServerOption,
    checkpointer_for,
    console,
    each_server,
    errors,
    fail,
    failure_json,
    log_ids,
    open_ledger,
    read_verifiers,
    region_of,
)
from ejournal.cli.witnesses import (
    AskWitnesses,
    Quorum,
    WitnessCheck,
    WitnessKeys,
    require_quorum,
    witness_check,
)
from ejournal.integrity.checkpoint import Checkpoint
from ejournal.integrity.errors import VerificationError
from ejournal.integrity.leaf import Leaf, decode_leaf, from_micros
from ejournal.integrity.note import Verifier
from ejournal.integrity.receipt import Receipt, VerifiedReceipt, verify_receipt
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import StoredCheckpoint, load_checkpoints
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.fences import fences
from ejournal.ledger.invalidation import EXEMPT_TOPICS, Rule
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.logs import SYSTEM_LOG
from ejournal.ledger.mark_receipts import is_mark_receipt, verify_mark_receipt
from ejournal.ledger.placement import DIRECTORY, PlacementError, Region
from ejournal.ledger.proofs import prove_event
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.settings import Settings
from ejournal.ledger.verify import (
    LedgerReport,
    RuledEntry,
    read_checkpoint_notes,
    verify_ledger,
    verify_witnessed,
    witnessed_checkpoints,
    witnessed_sizes,
)
from ejournal.ledger.verify_jobs import verify_ledger_in_processes
from ejournal.projections.audit import AuditReport, audit_read_models
from ejournal.projections.reentry import ExclusionCheck, check_exclusions

app = typer.Typer()


def _count_entries(ledger: Ledger) -> int:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {EVENTS_TABLE}")
        return int(cursor.fetchone()[0])


def _report_json(
    report: LedgerReport, keys_source: str, copies: Mapping[str, str]
) -> dict[str, object]:
    facts: dict[str, object] = {
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
    if report.copies:
        facts["copies"] = [
            {
                "log_id": log.log_id,
                "size": log.size,
                "root": log.root.hex(),
                "lives_on": copies[log.log_id],
            }
            for log in report.copies
        ]
    return facts


ReadModelsOption = Annotated[
    bool,
    typer.Option(
        "--read-models",
        help="Also project the ledger beside the read models and report every row that differs "
        "(table and key); exit 1 if one does.",
    ),
]
JobsOption = Annotated[
    int,
    typer.Option(
        "--jobs",
        min=1,
        help="Verify log by log in N processes, each on a connection of its own (the same "
        "report as one process; the progress bar moves as logs are done).",
    ),
]
CheckpointFile = Annotated[
    Path | None,
    typer.Option(
        "--checkpoint",
        help="Signed checkpoints kept outside the database (ejournal export-checkpoints, or the "
        "JSON of GET /ledger/checkpoints): fail if a log is shorter or differs at that size.",
    ),
]


def run_verify(
    settings: Settings,
    ledger: Ledger,
    *,
    keys: Path | None,
    as_json: bool,
    read_models: bool = False,
    checkpoint: Path | None = None,
    witnesses: WitnessCheck | None = None,
    jobs: int = 1,
    server: str | None = None,
    copies: Mapping[str, str] = MappingProxyType({}),
    lives_here: Callable[[str], bool] = lambda log_id: True,
) -> int:
    """Verify the ledger and print the outcome; returns the process exit code.

    In a region (``ledger.placement``) it is called once per ``server``, whose ledger's
    ``directory`` holds the rules of п. 4.4 and the keys; ``copies``: the logs whose copy the
    server keeps while they live on another (``Region.copies``), verified with its database
    and reported apart, so that each log is counted once, by the server it lives on.

    ``read_models``: audit the read models against the ledger (``projections.audit``);
    ``checkpoint``: a file of signed checkpoints kept outside the database, which the database
    must still contain (``ledger.verify.verify_witnessed``); ``witnesses``: the witnesses' keys
    and quorum, and whether to ask them for the latest checkpoints they cosigned; ``jobs``:
    processes that verify the logs (``ledger.verify_jobs``)."""
    if keys is not None:
        verifiers, keys_source = read_verifiers(keys), str(keys)
    else:
        verifiers = KeyStore((ledger.directory or ledger).database).verifiers()
        keys_source = "the database's key store (not independent: pass --keys to trust a file)"
    notes = _read_notes(checkpoint) if checkpoint is not None else None
    try:
        report, witnessed, cosigned = _verify_outside(
            settings, ledger, verifiers, notes, witnesses, as_json, jobs, lives_here
        )
    except VerificationError as error:
        if as_json:
            print(json.dumps(failure_json(error), ensure_ascii=False))
        else:
            console.print(f"[bold red]FAILED[/] {type(error).__name__}: {error}", highlight=False)
        return 1
    # The read models exclude the invalid operations of every log the database holds.
    invalid = {(e.originator_id, e.originator_version) for e in report.invalidated}
    exclusions = check_exclusions(ledger.database, invalid)
    report = report.without_copies(copies)
    audit = _audit(ledger, as_json) if read_models else None
    ok = exclusions.agrees and (audit is None or audit.agrees)
    if as_json:
        facts = _report_json(report, keys_source, copies)
        if server is not None:
            facts = {"server": server, **facts}
        facts["invalidation"] = _invalidation_json(report, exclusions)
        if witnessed:
            facts["witnessed"] = _witnessed_json(witnessed)
        if witnesses is not None:
            facts["witnesses"] = witnesses.as_json(cosigned)
        if audit is not None:
            facts["read_models_audit"] = _audit_json(audit)
        facts["ok"] = ok
        print(json.dumps(facts, ensure_ascii=False, default=str))
        return 0 if ok else 1
    _print_report(report, keys_source, witnessed, copies)
    if witnesses is not None:
        witnesses.print(cosigned)
    return 0 if _print_read_models(exclusions, audit) else 1


def _verify_outside(
    settings: Settings,
    ledger: Ledger,
    verifiers: list[Verifier],
    notes: list[str] | None,
    witnesses: WitnessCheck | None,
    as_json: bool,
    jobs: int,
    lives_here: Callable[[str], bool],
) -> tuple[LedgerReport, dict[str, list[Checkpoint]], dict[str, int]]:
    """Verify the ledger against the checkpoints kept outside it (a file, the witnesses' latest)
    and count the quorum's cosignatures. Raises ``VerificationError`` at the first failure."""
    witnessed = (
        witnessed_checkpoints(notes, verifiers, settings.origin) if notes is not None else {}
    )
    if witnesses is not None and witnesses.ask:
        _merge(witnessed, witnesses.latest(verifiers, settings.origin))
    witnessed = {log_id: cps for log_id, cps in witnessed.items() if lives_here(log_id)}
    report = _verify_entries(settings, ledger, verifiers, witnessed, as_json, jobs)
    verify_witnessed(report, witnessed)
    cosigned: dict[str, int] = {}
    if witnesses is not None and witnesses.quorum > 0:
        keys = [w.verifier for w in witnesses.known]
        cosigned = witnessed_sizes(ledger.database, keys, witnesses.quorum)
    return report, witnessed, cosigned


def _merge(witnessed: dict[str, list[Checkpoint]], more: dict[str, list[Checkpoint]]) -> None:
    for log_id, checkpoints in more.items():
        witnessed.setdefault(log_id, []).extend(checkpoints)


def _read_notes(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        fail(f"cannot read checkpoints from {path}: {e}")
    try:
        return read_checkpoint_notes(text)
    except VerificationError as e:
        fail(f"{path}: {e}")


def _verify_entries(
    settings: Settings,
    ledger: Ledger,
    verifiers: list[Verifier],
    witnessed: dict[str, list[Checkpoint]],
    as_json: bool,
    jobs: int,
) -> LedgerReport:
    witness = {log_id: [cp.size for cp in cps] for log_id, cps in witnessed.items()}

    directory = None if ledger.directory is None else ledger.directory.database

    def run(progress: Callable[[int], None] | None) -> LedgerReport:
        if jobs == 1:
            return verify_ledger(
                ledger.database,
                verifiers=verifiers,
                origin=settings.origin,
                progress=progress,
                witness=witness,
                directory=directory,
            )
        return verify_ledger_in_processes(
            ledger.database,
            ledger.database_url,
            jobs=jobs,
            verifiers=verifiers,
            origin=settings.origin,
            progress=progress,
            witness=witness,
            directory=directory,
        )

    if as_json or not sys.stderr.isatty():
        return run(None)
    columns = (TextColumn("verifying"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=errors, transient=True) as bar:
        task = bar.add_task("verify", total=_count_entries(ledger))
        return run(lambda n: bar.update(task, completed=n))


def _audit(ledger: Ledger, as_json: bool) -> AuditReport | None:
    if as_json or not sys.stderr.isatty():
        return audit_read_models(ledger)

    def progress(position: int, moved: int) -> None:
        errors.print(f"  … auditing the read models: position {position}", highlight=False)

    return audit_read_models(ledger, progress=progress)


def _print_report(
    report: LedgerReport,
    keys_source: str,
    witnessed: dict[str, list[Checkpoint]],
    copies: Mapping[str, str],
) -> None:
    console.print(f"[bold green]OK[/] {report.entries} entries in {len(report.logs)} logs verified")
    console.print(f"  trusted keys: {keys_source}")
    for log in report.logs:
        console.print(
            f"  {log.log_id}: {log.size} entries, root {log.root.hex()[:16]}…, "
            f"{log.checkpoints} checkpoints, {log.unsigned} unsigned after the last"
        )
    for log in report.copies:
        console.print(
            f"  {log.log_id}: a copy of {log.size} entries, root {log.root.hex()[:16]}…, "
            f"verified too; the log lives on {copies[log.log_id]}"
        )
    for log_id, checkpoints in sorted(witnessed.items()):
        sizes = ", ".join(str(cp.size) for cp in sorted(checkpoints, key=lambda cp: cp.size))
        console.print(f"  {log_id}: contains the checkpoints kept outside (size {sizes})")
    console.print(
        f"  п. 4.4: {len(report.rules)} rules; {len(report.invalidated)} operations invalid, "
        f"{len(report.flagged)} flagged for review (recomputed from the leaves)"
    )


def _print_read_models(exclusions: ExclusionCheck, audit: AuditReport | None) -> bool:
    """Print what the read models were found to be; whether they agree with the ledger."""
    ok = True
    if not exclusions.compared:
        console.print("  read models: not projected up to the head, exclusions not compared")
    elif exclusions.agrees:
        console.print("  read models: exclude exactly the invalid operations")
    else:
        console.print(
            f"[bold red]FAILED[/] the read models show {len(exclusions.shown)} invalid "
            f"operations and hide {len(exclusions.hidden)} valid ones "
            f"(first: {sorted(exclusions.shown | exclusions.hidden)[0]}); "
            "rebuild them: `ejournal project --rebuild`"
        )
        ok = False
    if audit is None:
        return ok
    if audit.agrees:
        console.print(
            f"  read models: audited at position {audit.position}: {audit.rows} rows of "
            f"{audit.tables} tables are what the ledger gives"
        )
        return ok
    more = "" if audit.complete else " (and more not listed)"
    count = len(audit.differences)
    console.print(
        f"[bold red]FAILED[/] read models audited at position {audit.position}: {count} "
        f"{'row differs' if count == 1 else 'rows differ'} from the ledger{more}; "
        "rebuild them: `ejournal project --rebuild`"
    )
    for difference in audit.differences:
        console.print(f"  {difference.describe()}", highlight=False, soft_wrap=True)
    return False


def _audit_json(audit: AuditReport) -> dict[str, object]:
    return {
        "position": audit.position,
        "tables": audit.tables,
        "rows": audit.rows,
        "agrees": audit.agrees,
        "complete": audit.complete,
        "differences": [difference.as_json() for difference in audit.differences],
    }


def _witnessed_json(witnessed: dict[str, list[Checkpoint]]) -> list[dict[str, object]]:
    return [
        {"log_id": log_id, "size": cp.size, "root": cp.root_hash.hex()}
        for log_id, checkpoints in sorted(witnessed.items())
        for cp in sorted(checkpoints, key=lambda cp: cp.size)
    ]


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
    database_url: DatabaseURL = None,
    keys: KeysFile = None,
    as_json: JsonOutput = False,
    read_models: ReadModelsOption = False,
    checkpoint: CheckpointFile = None,
    witness_keys: WitnessKeys = None,
    quorum: Quorum = None,
    ask_witnesses: AskWitnesses = False,
    jobs: JobsOption = 1,
    server: ServerOption = None,
) -> None:
    """Recompute every leaf, chain and Merkle root, check every checkpoint; exit 1 at the first
    failure, naming it. With --ask-witnesses, also fail if the database holds less than, or
    another history than, what the witnesses cosigned. With --jobs N, N processes verify the
    logs, with the same outcome. In a region, each server in turn (or --server's)."""
    witnesses = witness_check(witness_keys, quorum, ask=ask_witnesses)
    settings, ledger = open_ledger(database_url)
    try:
        code = 0
        with region_of(settings, ledger) as region:
            for name, server_ledger in each_server(region, ledger, server):
                if region is not None and not as_json:
                    console.print(f"[bold]server {name}[/]")
                verified = run_verify(
                    settings,
                    server_ledger,
                    keys=keys,
                    as_json=as_json,
                    read_models=read_models,
                    checkpoint=checkpoint,
                    witnesses=witnesses,
                    jobs=jobs,
                    server=None if region is None else name,
                    copies={} if region is None else region.copies(name),
                    lives_here=partial(_lives_on, region, name),
                )
                code = max(code, verified)
        raise typer.Exit(code)
    finally:
        ledger.close()


def _lives_on(region: Region | None, server: str, log_id: str) -> bool:
    """Whether log ``log_id`` lives on ``server`` of ``region`` (every log, without one). A log
    ID of no school, which lives nowhere, is the directory's to report missing."""
    if region is None:
        return True
    try:
        return region.placement.server_of_log(log_id) == server
    except PlacementError:
        return server == DIRECTORY


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
    server: ServerOption = None,
) -> None:
    """Sign a checkpoint of a log (or of every log with unsigned entries) now; in a region, on
    the log's server (or on each server, or --server's)."""
    settings, ledger = open_ledger(database_url)
    try:
        signed_now: list[StoredCheckpoint] = []
        with region_of(settings, ledger) as region:
            for _, server_ledger in each_server(region, ledger, server):
                if region is not None and log is not None and log not in log_ids(server_ledger):
                    continue  # the log is on another server
                checkpointer = checkpointer_for(settings, server_ledger)
                try:
                    if due:
                        signed_now += checkpointer.checkpoint_due()
                    else:
                        # A fenced log lives on another server (a move's copy, ADR 0017): it is
                        # signed there; a signature here could cut a copy still being made.
                        fenced = fences(server_ledger.database)
                        logs = [log] if log is not None else log_ids(server_ledger)
                        for log_id in logs:
                            if log_id not in fenced:
                                signed = checkpointer.checkpoint(log_id)
                                signed_now += [signed] if signed is not None else []
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


@app.command("export-checkpoints")
def export_checkpoints(
    out: Annotated[
        Path | None, typer.Option("--out", help="Write them here (default: standard output).")
    ] = None,
    log: Annotated[
        str | None, typer.Option("--log", help="Only this log (default: every log).")
    ] = None,
    database_url: DatabaseURL = None,
) -> None:
    """Write the latest signed checkpoint of each log (C2SP notes, a blank line between them), for
    an auditor to keep outside the database and give to `verify --checkpoint` later. In a
    region, every server's logs, each from the server it lives on."""
    settings, ledger = open_ledger(database_url)
    by_log: dict[str, list[StoredCheckpoint]] = {}
    try:
        with region_of(settings, ledger) as region:
            for name, server_ledger in each_server(region, ledger, None):
                copies = {} if region is None else region.copies(name)
                try:
                    found = load_checkpoints(server_ledger.database)
                except VerificationError as e:
                    fail(str(e), code=1)
                by_log |= {log_id: cps for log_id, cps in found.items() if log_id not in copies}
    finally:
        ledger.close()
    if log is not None:
        by_log = {log: by_log[log]} if log in by_log else {}
    notes = [checkpoints[-1].note for _, checkpoints in sorted(by_log.items()) if checkpoints]
    if not notes:
        fail(f"no signed checkpoint of {log!r}" if log else "no signed checkpoint", code=1)
    text = "\n".join(notes)
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as e:
        fail(f"cannot write {out}: {e}")
    console.print(f"{len(notes)} checkpoints written to {out}")


@app.command()
def prove(
    event: Annotated[str, typer.Argument(help="ORIGINATOR_ID:VERSION of the event.")],
    out: Annotated[Path | None, typer.Option("--out", help="Write the receipt here.")] = None,
    rules_out: Annotated[
        Path | None,
        typer.Option(
            "--rules-out",
            help="Also write the rules of п. 4.4 (each with a receipt) for verify-proof --rules.",
        ),
    ] = None,
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
        verifiers = KeyStore((ledger.directory or ledger).database).verifiers()
        receipt = prove_event(
            ledger.database, originator_id, version, verifiers=verifiers, origin=settings.origin
        )
        rules = (
            _rules_document(ledger, verifiers, settings.origin) if rules_out is not None else None
        )
    except (LedgerError, VerificationError, ArchiveError) as e:
        fail(str(e), code=1)
    finally:
        ledger.close()
    try:
        if out is None:
            sys.stdout.write(receipt.encode())
        else:
            out.write_text(receipt.encode(), encoding="utf-8")
        if rules_out is not None and rules is not None:
            rules_out.write_bytes(rules)
    except OSError as e:
        fail(f"cannot write: {e}")


def _rules_document(ledger: Ledger, verifiers: list[Verifier], origin: str) -> bytes:
    """The rule events of п. 4.4 with their receipts (``invalidation.json``), none if none."""
    document = invalidation_rules_json(ledger.database, verifiers, origin)
    if document is not None:
        return document
    empty = {"format": INVALIDATION_FORMAT, "log": SYSTEM_LOG, "events": []}
    return json.dumps(empty, indent=1).encode("utf-8") + b"\n"


RulesFile = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        help="The rules of п. 4.4 (prove --rules-out, or an archive's data/invalidation.json): "
        "say whether one invalidates the record.",
    ),
]


@app.command("verify-proof")
def verify_proof(
    receipt_path: Annotated[Path, typer.Argument(metavar="RECEIPT")],
    key: Annotated[Path, typer.Option("--key", help="File of trusted verifier keys.")],
    as_json: JsonOutput = False,
    rules_path: RulesFile = None,
    witness_keys: WitnessKeys = None,
    quorum: Quorum = None,
) -> None:
    """Verify a receipt offline: no database, no network. With --rules, also say whether a rule of
    п. 4.4 invalidates the record (or flags it for review). A mark's receipt for its family
    (GET /lessons/{id}/marks/{id}/receipt) is verified record by record, and what it proves is
    shown. With --witness-key, the receipt's checkpoint counts only with the quorum's
    cosignatures."""
    verifiers = read_verifiers(key)
    witnesses = witness_check(witness_keys, quorum, ask=False)
    try:
        data = receipt_path.read_bytes()
        if is_mark_receipt(data):
            return _verify_mark_receipt(
                data, receipt_path, verifiers, as_json, rules_path, witnesses
            )
        receipt = Receipt.decode(data)
        verified = verify_receipt(receipt, verifiers)
        cosigners = require_quorum(witnesses, receipt.checkpoint)
        leaf = decode_leaf(verified.leaf)
        if leaf.index != verified.index:
            raise VerificationError(
                "the leaf names another index than the proof",
                expected=str(verified.index),
                found=str(leaf.index),
                where=str(receipt_path),
            )
        rules = None if rules_path is None else _read_rules(rules_path, verified, leaf, verifiers)
    except OSError as e:
        fail(str(e))
    except (VerificationError, ValueError) as e:
        if as_json:
            print(json.dumps({"ok": False, "error": type(e).__name__, "message": str(e)}))
        else:
            console.print(f"[bold red]FAILED[/] {type(e).__name__}: {e}", highlight=False)
        raise typer.Exit(1) from e
    facts: dict[str, object] = {
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
        "cosigned_by": cosigners,
        "invalidation": _invalidation_of(leaf, rules),
    }
    if as_json:
        print(json.dumps(facts, ensure_ascii=False))
        return
    console.print("[bold green]OK[/] the record is in the log under a signed checkpoint")
    _print_invalidation(facts["invalidation"], rules_path)
    for name, value in facts.items():
        if name not in ("ok", "invalidation"):
            console.print(f"  {name}: {value}", highlight=False)


def _verify_mark_receipt(
    data: bytes,
    path: Path,
    verifiers: list[Verifier],
    as_json: bool,
    rules_path: Path | None,
    witnesses: WitnessCheck | None = None,
) -> None:
    """``verify-proof`` of a mark receipt (``ledger.mark_receipts``): each record's proof and
    payload, then the facts they prove. With --rules, the mark is invalidated if a rule of
    п. 4.4 reaches any record its value rests on. Raises ``OSError`` reading the rules."""
    try:
        facts, explanation, records = verify_mark_receipt(data, verifiers, where=str(path))
        if witnesses is not None:  # every record's checkpoint counts only with the quorum
            for record in json.loads(data)["records"]:
                require_quorum(witnesses, Receipt.decode(record["receipt"]).checkpoint)
        first = records[0]
        rules = None
        if rules_path is not None:
            rules = _read_rules(rules_path, first.verified, first.leaf, verifiers)
    except (VerificationError, ValueError) as e:
        if as_json:
            print(json.dumps({"ok": False, "error": type(e).__name__, "message": str(e)}))
        else:
            console.print(f"[bold red]FAILED[/] {type(e).__name__}: {e}", highlight=False)
        raise typer.Exit(1) from e
    found = [_invalidation_of(record.leaf, rules) for record in records]
    invalidation = None
    if rules is not None:
        invalid = [name for f in found for name in _listed(f, "invalidated_by")]
        flagged = [name for f in found for name in _listed(f, "flagged_by")]
        invalidation = {
            "rules": len(rules),
            "invalidated": bool(invalid),
            "invalidated_by": sorted(set(invalid)),
            "flagged_by": [] if invalid else sorted(set(flagged)),
        }
    events = [f"{r.leaf.originator_id}:{r.leaf.originator_version}" for r in records]
    if as_json:
        shown = {"ok": True, **facts.as_json(), "events": events, "invalidation": invalidation}
        print(json.dumps({**shown, "explanation": explanation}, ensure_ascii=False))
        return
    console.print(
        f"[bold green]OK[/] the mark is in the log under a signed checkpoint ({len(records)} "
        "records: the lesson, the mark, its correction if any)",
        highlight=False,
    )
    _print_invalidation(invalidation, rules_path)
    for name, value in facts.as_json().items():
        console.print(f"  {name}: {value}", highlight=False)
    console.print(f"  events: {', '.join(events)}", highlight=False)
    console.print("\nThe school's explanation (the facts above are what is proven):\n")
    console.print(explanation, highlight=False, markup=False)


def _listed(found: dict[str, object] | None, key: str) -> list[str]:
    """The rule names ``_invalidation_of`` listed under ``key``."""
    value = (found or {}).get(key)
    return [str(name) for name in value] if isinstance(value, list) else []


def _read_rules(
    path: Path, verified: VerifiedReceipt, leaf: Leaf, verifiers: list[Verifier]
) -> tuple[Rule, ...]:
    """The rules of ``path``, each proven by its receipt under a checkpoint of the same
    deployment's system log as the record's (the deployment is the record's origin without its
    log)."""
    origin = verified.checkpoint.origin.removesuffix(f"/{leaf.log_id}")
    return rules_from_document(path.read_bytes(), verifiers, origin, where=str(path))


def _invalidation_of(leaf: Leaf, rules: tuple[Rule, ...] | None) -> dict[str, object] | None:
    """What the rules say of the record: None if no rules were given."""
    if rules is None:
        return None
    actor, session = leaf.actor_id.hex, leaf.session_id.hex
    exempt = leaf.topic in EXEMPT_TOPICS
    invalid = [
        rule.name
        for rule in rules
        if not exempt and rule.matches(actor, session, leaf.credential_version, leaf.recorded_at)
    ]
    flagged = [
        rule.name
        for rule in rules
        if not exempt
        and not invalid
        and rule.flags(actor, leaf.credential_version, leaf.recorded_at)
    ]
    return {
        "rules": len(rules),
        "invalidated": bool(invalid),
        "invalidated_by": invalid,
        "flagged_by": flagged,
    }


def _print_invalidation(found: object, rules_path: Path | None) -> None:
    if not isinstance(found, dict):
        console.print(
            "  п. 4.4: not checked (no --rules): whether a rule invalidates the record is unknown"
        )
        return
    if found["invalidated"]:
        console.print(
            "[bold red]INVALIDATED[/] under п. 4.4 by rule "
            f"{', '.join(found['invalidated_by'])}: the record is in the log, but it does not "
            "count (its author re-enters what is legitimate)",
            highlight=False,
        )
    elif found["flagged_by"]:
        console.print(
            f"  п. 4.4: valid, flagged for review by rule {', '.join(found['flagged_by'])} "
            "(recorded while the breach was suspected)",
            highlight=False,
        )
    else:
        console.print(
            f"  п. 4.4: valid under the {found['rules']} rules of {rules_path}", highlight=False
        )
