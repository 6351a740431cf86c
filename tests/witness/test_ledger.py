"""The service and its witnesses (issue 23): each new checkpoint is submitted to two real witness
processes and their cosignatures are kept; ``verify --ask-witnesses`` then names a truncated tail
and a forked history that the database alone would not show. On SQLite and PostgreSQL (I10)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ejournal.cli.main import cli
from ejournal.integrity.cosignature import CosignatureVerifier
from ejournal.integrity.note import Ed25519Signer
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer, latest_checkpoints
from ejournal.ledger.cosignatures import load_cosignatures
from ejournal.ledger.proofs import prove_event
from ejournal.ledger.tiles import export_tiles
from ejournal.ledger.verify import verify_ledger
from ejournal.witness.client import WitnessEndpoint, add_checkpoint
from ejournal.witness.protocol import AddCheckpoint
from ejournal.witness.submitter import WitnessSubmitter
from tests.api.processes import free_port
from tests.ledger.support import Forger, write_notebooks
from tests.ledger.test_checkpoints import LOG, all_rows, rebuild_log
from tests.witness.conftest import ORIGIN
from tests.witness.processes import WitnessProcess

runner = CliRunner()


@pytest.fixture
def deployment(request: pytest.FixtureRequest) -> str:
    """This test's deployment origin: witnesses keep state across tests and backends."""
    return f"{ORIGIN}/{request.node.name.replace('[', '-').replace(']', '')}"


def endpoints(witnesses: list[WitnessProcess]) -> list[WitnessEndpoint]:
    return [WitnessEndpoint(w.url, CosignatureVerifier.from_vkey(w.vkey)) for w in witnesses]


def signer_of(ledger: Ledger, log_signer: Ed25519Signer, deployment: str) -> Checkpointer:
    return Checkpointer(
        ledger.database,
        origin=deployment,
        signers=[log_signer],
        verifiers=[log_signer.verifier()],
        clock=ledger.clock,
    )


def files(tmp_path: Path, log_signer: Ed25519Signer, witnesses: list[WitnessProcess]) -> list[str]:
    keys, known = tmp_path / "log.vkeys", tmp_path / "witnesses.txt"
    keys.write_text(log_signer.vkey + "\n")
    known.write_text("".join(f"{w.url} {w.vkey}\n" for w in witnesses))
    return ["--keys", str(keys), "--witness-key", str(known)]


def verify(database_url: str, deployment: str, *options: str) -> tuple[int, dict[str, object]]:
    result = runner.invoke(
        cli,
        ["verify", "--json", "--database-url", database_url, *options],
        env={"EJOURNAL_ORIGIN": deployment},
    )
    assert result.stdout, result.output
    return result.exit_code, json.loads(result.stdout)


def cosigned_twice(
    ledger: Ledger, log_signer: Ed25519Signer, deployment: str, witnesses: list[WitnessProcess]
) -> WitnessSubmitter:
    """A log of 9 entries signed at 6 and 9, each checkpoint submitted as the schedule does."""
    checkpointer = signer_of(ledger, log_signer, deployment)
    submitter = WitnessSubmitter(ledger.database, endpoints(witnesses), clock=ledger.clock)
    write_notebooks(ledger, count=2)
    checkpointer.checkpoint(LOG)
    assert submitter.submit_due() == 2
    write_notebooks(ledger, count=1)
    checkpointer.checkpoint(LOG)
    assert submitter.submit_due() == 2  # from size 6, with the consistency proof
    assert submitter.submit_due() == 0  # nothing new
    return submitter


def test_each_checkpoint_is_cosigned_and_verify_counts_the_quorum(
    ledger: Ledger,
    database_url: str,
    log_signer: Ed25519Signer,
    deployment: str,
    witnesses: list[WitnessProcess],
    tmp_path: Path,
) -> None:
    cosigned_twice(ledger, log_signer, deployment, witnesses)
    lines = load_cosignatures(ledger.database)
    assert sorted(lines) == [(LOG, 6), (LOG, 9)]
    assert all(len(found) == 2 for found in lines.values())
    options = files(tmp_path, log_signer, witnesses)
    code, body = verify(database_url, deployment, *options, "--quorum", "2", "--ask-witnesses")
    assert (code, body["ok"]) == (0, True)
    assert body["witnesses"] == {
        "quorum": 2,
        "keys": ["district.example/w", "archive.example/w"],
        "asked": ["district.example/w", "archive.example/w"],
        "unreachable": [],
        "cosigned_size": {LOG: 9},
    }
    write_notebooks(ledger, count=1)  # the log goes on; the witnesses have not seen it yet
    signer_of(ledger, log_signer, deployment).checkpoint(LOG)
    code, body = verify(database_url, deployment, *options, "--quorum", "2", "--ask-witnesses")
    assert (code, body["witnesses"]["cosigned_size"]) == (0, {LOG: 9})  # type: ignore[index]


def test_a_truncated_tail_is_named_by_the_witnesses(
    ledger: Ledger,
    database_url: str,
    log_signer: Ed25519Signer,
    deployment: str,
    witnesses: list[WitnessProcess],
    tmp_path: Path,
) -> None:
    cosigned_twice(ledger, log_signer, deployment, witnesses)
    Forger(database_url).execute(
        ("DELETE FROM stored_events WHERE log_id = ? AND idx >= 6", (LOG,)),
        ("DELETE FROM checkpoints WHERE log_id = ? AND size = 9", (LOG,)),
        ("DELETE FROM checkpoint_cosignatures WHERE log_id = ? AND size = 9", (LOG,)),
    )
    verify_ledger(ledger.database, verifiers=[log_signer.verifier()], origin=deployment)
    options = files(tmp_path, log_signer, witnesses)
    assert verify(database_url, deployment, *options)[0] == 0  # inside, nothing is amiss
    code, body = verify(database_url, deployment, *options, "--ask-witnesses")
    assert (code, body["error"], body["where"], body["expected"], body["found"]) == (
        1,
        "MissingEntryError",
        f"log {LOG} index 6",
        "at least 9 entries",
        "6 entries",
    )


def test_a_forked_history_resigned_is_named_by_the_witnesses(
    ledger: Ledger,
    database_url: str,
    log_signer: Ed25519Signer,
    deployment: str,
    witnesses: list[WitnessProcess],
    tmp_path: Path,
) -> None:
    cosigned_twice(ledger, log_signer, deployment, witnesses)
    rows = all_rows(ledger)
    rows[4][6] = int(rows[4][6]) + 1  # one record changed, every hash after it recomputed
    Forger(database_url).execute(
        ("DELETE FROM checkpoints WHERE log_id = ?", (LOG,)),
        ("DELETE FROM checkpoint_cosignatures WHERE log_id = ?", (LOG,)),
    )
    rebuild_log(database_url, ledger, from_index=0, rows=rows)
    # The forger holds the deployment's key and signs the rebuilt log anew.
    signer_of(ledger, log_signer, deployment).checkpoint(LOG)
    options = files(tmp_path, log_signer, witnesses)
    assert verify(database_url, deployment, *options)[0] == 0
    code, body = verify(database_url, deployment, *options, "--ask-witnesses")
    assert (code, body["error"], body["where"]) == (
        1,
        "RootMismatchError",
        f"log {LOG} checkpoint at size 9",
    )
    # And the witnesses will not cosign the forged checkpoint either.
    submitter = WitnessSubmitter(ledger.database, endpoints(witnesses), clock=ledger.clock)
    assert submitter.submit_due() == 0


def test_a_witness_down_neither_fails_nor_blocks_and_a_409_is_caught_up(
    ledger: Ledger,
    log_signer: Ed25519Signer,
    deployment: str,
    witnesses: list[WitnessProcess],
) -> None:
    down = WitnessEndpoint(f"http://127.0.0.1:{free_port()}", endpoints(witnesses)[0].verifier)
    now = [0.0]
    submitter = WitnessSubmitter(ledger.database, [down], monotonic=lambda: now[0], timeout=1)
    checkpointer = signer_of(ledger, log_signer, deployment)
    write_notebooks(ledger, count=2)
    first = checkpointer.checkpoint(LOG)
    assert first is not None
    assert submitter.submit_due() == 0
    assert submitter._retry_at == {"district.example/w": 1.0}
    now[0] = 1.5
    assert submitter.submit_due() == 0
    assert submitter._retry_at == {"district.example/w": 3.5}  # backing off: 1 s, then 2 s
    write_notebooks(ledger, count=1)  # writing goes on meanwhile
    checkpointer.checkpoint(LOG)
    # Someone else already brought the witness to size 6: it answers 409 with 6, and the
    # submitter proves consistency from there.
    district = endpoints(witnesses)[0]
    add_checkpoint(district, AddCheckpoint(old_size=0, proof=(), note=first.note))
    up = WitnessSubmitter(ledger.database, [district])
    assert up.submit_due() == 1
    assert list(load_cosignatures(ledger.database)) == [(LOG, 9)]


def test_a_receipt_carries_the_cosignatures_and_counts_only_with_the_quorum(
    ledger: Ledger,
    database_url: str,
    log_signer: Ed25519Signer,
    deployment: str,
    witnesses: list[WitnessProcess],
    tmp_path: Path,
) -> None:
    checkpointer = signer_of(ledger, log_signer, deployment)
    notebook = write_notebooks(ledger, count=1)[0]
    checkpointer.checkpoint(LOG)
    receipt = tmp_path / "receipt.txt"

    def proven(*quorum: str) -> tuple[int, dict[str, object]]:
        made = prove_event(
            ledger.database, notebook.id, 1, verifiers=[log_signer.verifier()], origin=deployment
        )
        receipt.write_text(made.encode())
        options = files(tmp_path, log_signer, witnesses)
        options[0] = "--key"
        result = runner.invoke(cli, ["verify-proof", str(receipt), "--json", *options, *quorum])
        return result.exit_code, json.loads(result.stdout)

    code, body = proven("--quorum", "1")
    assert (code, body["error"]) == (1, "QuorumError")  # not cosigned yet
    assert "too few valid witness cosignatures" in str(body["message"])
    WitnessSubmitter(ledger.database, endpoints(witnesses)).submit_due()
    code, body = proven("--quorum", "2")
    assert (code, body["cosigned_by"]) == (0, ["archive.example/w", "district.example/w"])


def test_a_tiles_export_carries_the_cosignatures_and_counts_only_with_the_quorum(
    ledger: Ledger,
    database_url: str,
    log_signer: Ed25519Signer,
    deployment: str,
    witnesses: list[WitnessProcess],
    tmp_path: Path,
) -> None:
    cosigned_twice(ledger, log_signer, deployment, witnesses)
    out = tmp_path / "tiles"
    (latest,) = latest_checkpoints(ledger.database, LOG)
    export_tiles(ledger.database, latest, out, verifiers=[log_signer.verifier()], origin=deployment)
    options = files(tmp_path, log_signer, witnesses)
    options[0] = "--key"

    def verified(*quorum: str) -> tuple[int, dict[str, object]]:
        result = runner.invoke(cli, ["verify-tiles", str(out), "--json", *options, *quorum])
        return result.exit_code, json.loads(result.stdout)

    code, body = verified("--quorum", "2")
    (log,) = body["logs"]  # type: ignore[misc]
    assert (code, log["size"], log["cosigned_by"]) == (
        0,
        9,
        ["archive.example/w", "district.example/w"],
    )
    # A copy of the checkpoint without its witnesses' lines counts for none of them.
    (out / "checkpoint").write_text(latest.note)  # as the database keeps it: the log's line only
    code, body = verified("--quorum", "1")
    (log,) = body["logs"]  # type: ignore[misc]
    assert (code, log["error"]) == (1, "QuorumError")
