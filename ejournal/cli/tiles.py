"""``ejournal export-tiles`` and ``verify-tiles``: each log as static files in C2SP tlog-tiles form
(a checkpoint, hash tiles, entry bundles), to mirror on any web server and check with any
tlog-tiles client, or with ``verify-tiles`` (files only: no database, no network)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ejournal.cli.common import (
    DatabaseURL,
    JsonOutput,
    console,
    fail,
    failure_json,
    log_ids,
    open_ledger,
    read_verifiers,
)
from ejournal.cli.witnesses import Quorum, WitnessKeys, require_quorum, witness_check
from ejournal.integrity.errors import VerificationError
from ejournal.integrity.tiles import CHECKPOINT_PATH, VerifiedTiles, verify_tiles
from ejournal.ledger.checkpoints import latest_checkpoints
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.tiles import ExportedLog, export_tiles, log_directory

app = typer.Typer()


@app.command("export-tiles")
def export_tiles_command(
    out: Annotated[Path, typer.Option("--out", help="The directory to write (the log's prefix).")],
    log: Annotated[
        str | None,
        typer.Option(
            "--log",
            help="Only this log, written straight into --out (default: every log with a signed "
            "checkpoint, each in --out/<log ID>).",
        ),
    ] = None,
    database_url: DatabaseURL = None,
) -> None:
    """Write the latest signed checkpoint of each log, with the hash tiles and entry bundles of
    the entries it covers (C2SP tlog-tiles), as plain files to publish."""
    settings, ledger = open_ledger(database_url)
    exported: list[ExportedLog] = []
    try:
        checkpoints = latest_checkpoints(ledger.database, log)
        if not checkpoints:
            fail(
                f"no signed checkpoint of {log!r}: sign one first (ejournal checkpoint)"
                if log is not None
                else "no signed checkpoint: sign them first (ejournal checkpoint)",
                code=1,
            )
        unsigned = sorted(set(log_ids(ledger)) - {cp.log_id for cp in checkpoints})
        verifiers = KeyStore(ledger.database).verifiers()
        for checkpoint in checkpoints:
            directory = out if log is not None else log_directory(out, checkpoint.log_id)
            exported.append(
                export_tiles(
                    ledger.database,
                    checkpoint,
                    directory,
                    verifiers=verifiers,
                    origin=settings.origin,
                )
            )
    except (LedgerError, VerificationError) as e:
        fail(str(e), code=1)
    except OSError as e:
        fail(f"cannot write the tiles: {e}")
    finally:
        ledger.close()
    for done in exported:
        console.print(
            f"{done.log_id}: size {done.size} root {done.root_hash.hex()}, "
            f"{done.files} files in {done.directory}",
            highlight=False,
        )
    if log is None and unsigned:
        console.print(f"not exported, no signed checkpoint yet: {', '.join(unsigned)}")


def _tiled_logs(directory: Path) -> list[Path]:
    """The log directories under ``directory``: itself if it holds a checkpoint, else every
    directory below it that does (``export-tiles`` of every log)."""
    if (directory / CHECKPOINT_PATH).is_file():
        return [directory]
    return sorted(
        path.parent
        for path in directory.rglob(CHECKPOINT_PATH)
        if path.is_file() and "tile" not in path.relative_to(directory).parts
    )


@app.command("verify-tiles")
def verify_tiles_command(
    directory: Annotated[Path, typer.Argument(metavar="DIR")],
    keys: Annotated[
        list[Path],
        typer.Option("--key", help="File of trusted verifier keys (vkey lines); may be repeated."),
    ],
    as_json: JsonOutput = False,
    witness_keys: WitnessKeys = None,
    quorum: Quorum = None,
) -> None:
    """Verify a log exported as tiles (or every log under DIR) from its files alone: the
    checkpoint's signature, every entry against its tile, every tile against the level below, the
    root against the checkpoint; with --witness-key, the checkpoint must carry the quorum's
    cosignatures. Exit 1 if one fails, naming the file and the hash or entry."""
    verifiers = [verifier for path in keys for verifier in read_verifiers(path)]
    witnesses = witness_check(witness_keys, quorum, ask=False)
    if not directory.is_dir():
        fail(f"{directory} is not a directory")
    logs = _tiled_logs(directory)
    if not logs:
        fail(f"no {CHECKPOINT_PATH} in {directory} or below it: not a tiled log")
    results: list[dict[str, object]] = []
    for log in logs:
        name = log.relative_to(directory).as_posix()
        try:
            verified = verify_tiles(log, verifiers)
            cosigners = require_quorum(witnesses, (log / CHECKPOINT_PATH).read_text("utf-8"))
        except VerificationError as e:
            results.append({"directory": name, **failure_json(e)})
            if not as_json:
                console.print(
                    f"[bold red]FAILED[/] {name}: {type(e).__name__}: {e}", highlight=False
                )
            continue
        results.append({"directory": name, **_verified_json(verified)})
        if witnesses is not None:
            results[-1]["cosigned_by"] = cosigners
        if not as_json:
            _print_verified(name, verified)
            if witnesses is not None:
                console.print(f"  ✓ cosigned by {', '.join(cosigners) or 'no witness'}")
    ok = all(result["ok"] for result in results)
    if as_json:
        print(json.dumps({"ok": ok, "logs": results}, ensure_ascii=False))
    if not ok:
        raise typer.Exit(1)


def _verified_json(verified: VerifiedTiles) -> dict[str, object]:
    return {
        "ok": True,
        "origin": verified.checkpoint.origin,
        "log": verified.log_id,
        "size": verified.checkpoint.size,
        "root": verified.checkpoint.root_hash.hex(),
        "signed_by": sorted(verified.note.signatures),
        "files": verified.files,
    }


def _print_verified(name: str, verified: VerifiedTiles) -> None:
    checkpoint = verified.checkpoint
    signers = ", ".join(sorted(verified.note.signatures))
    console.print(
        f"[bold green]OK[/] {name}: {checkpoint.origin}, {checkpoint.size} entries, "
        f"root {checkpoint.root_hash.hex()}, signed by {signers} ({verified.files} files)",
        highlight=False,
    )
