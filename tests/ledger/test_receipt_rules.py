"""A receipt of an operation that п. 4.4 invalidates: `verify-proof` says so, offline.

The receipt stays a plain C2SP tlog-proof of one entry. The rules reach the offline verifier as a
second file: ``prove --rules-out`` writes every rule event of the system log with its own receipt
(the format of an archive's ``data/invalidation.json``), and ``verify-proof --rules`` checks those
receipts with the same trusted keys before it applies the rules to the record.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import date
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from typer.testing import CliRunner

from ejournal import commands as c
from ejournal.cli.main import cli
from ejournal.integrity.receipt import TLOG_PROOF_HEADER, Receipt
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.recorders import SYSTEM_LOG
from tests.commands.school import build_school
from tests.ledger.test_checkpoints import ORIGIN, SECRET, checkpointer, trusted_keys_file
from tests.projections.conftest import moscow

runner = CliRunner()
ENV = {"EJOURNAL_ORIGIN": ORIGIN}


def version_of(ledger: Ledger, aggregate_id: UUID) -> int:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            "SELECT MAX(originator_version) FROM stored_events WHERE originator_id = ?",
            (ledger.database.uuid(aggregate_id),),
        )
        return int(cursor.fetchone()[0])


@pytest.fixture
def marks(ledger: Ledger, clock: ManualClock, tmp_path: Path) -> dict[str, object]:
    """A lesson with the teacher's own mark and a stranger's, whose session the head declared
    invalid; every log signed. The events proven: the lesson at each mark's version."""
    school = build_school(ledger)
    keys = KeyStore(ledger.database, clock=clock)
    keys.create(ORIGIN, SECRET)
    clock.set(moscow(2025, 9, 1, 12, 0))
    lesson = school.lesson(on=date(2025, 9, 1))

    def mark(actor: object, student: UUID) -> str:
        c.handle(
            c.RecordMark(
                actor=actor,  # type: ignore[arg-type]
                lesson_id=lesson,
                student_id=student,
                value=5,
                work_type_id=school.work_types["Ответ на уроке"],
            ),
            ledger,
        )
        return f"{lesson}:{version_of(ledger, lesson)}"

    own = mark(school.maths, school.students[0])
    stranger = replace(school.maths, session_id=uuid4())
    invalid = mark(stranger, school.students[1])
    rule_id = c.handle(
        c.InvalidateSession(
            actor=school.head,
            session_id=stranger.session_id,
            account_id=stranger.account_id,
            school_id=school.school_id,
            reason="вход с чужого устройства",
        ),
        ledger,
    )
    signer = checkpointer(ledger, keys)
    for log_id in (school.log_id, SYSTEM_LOG):
        signer.checkpoint(log_id)
    return {
        "own": own,
        "invalid": invalid,
        "rule": f"session/{rule_id.hex}",
        "keys": trusted_keys_file(keys, tmp_path),
    }


def prove(database_url: str, event: str, folder: Path) -> tuple[Path, Path]:
    receipt, rules = folder / f"{event.replace(':', '-')}.receipt", folder / "rules.json"
    result = runner.invoke(
        cli,
        [
            "prove",
            event,
            "--out",
            str(receipt),
            "--rules-out",
            str(rules),
            "--database-url",
            database_url,
        ],
        env=ENV,
    )
    assert result.exit_code == 0, result.output
    return receipt, rules


def verify_proof(receipt: Path, keys: object, *extra: str) -> tuple[int, str]:
    result = runner.invoke(cli, ["verify-proof", str(receipt), "--key", str(keys), *extra])
    return result.exit_code, result.output


def test_an_invalidated_record_is_in_the_log_and_invalidated(
    database_url: str, marks: dict[str, object], tmp_path: Path
) -> None:
    receipt, rules = prove(database_url, str(marks["invalid"]), tmp_path)
    # The receipt is the same C2SP tlog-proof as ever.
    assert receipt.read_text().startswith(TLOG_PROOF_HEADER + "\n")
    Receipt.decode(receipt.read_bytes())

    code, output = verify_proof(receipt, marks["keys"], "--rules", str(rules))
    assert code == 0, output
    assert "the record is in the log" in output
    assert "INVALIDATED" in output and str(marks["rule"]) in output
    code, output = verify_proof(receipt, marks["keys"], "--rules", str(rules), "--json")
    facts = json.loads(output)
    assert facts["ok"] is True
    assert facts["invalidation"] == {
        "rules": 1,
        "invalidated": True,
        "invalidated_by": [marks["rule"]],
        "flagged_by": [],
    }


def test_a_valid_record_is_valid_under_the_rules(
    database_url: str, marks: dict[str, object], tmp_path: Path
) -> None:
    receipt, rules = prove(database_url, str(marks["own"]), tmp_path)
    code, output = verify_proof(receipt, marks["keys"], "--rules", str(rules))
    assert code == 0 and "valid under the 1 rules" in output and "INVALIDATED" not in output
    # Without the rules, the verifier says it did not look, rather than nothing.
    code, output = verify_proof(receipt, marks["keys"])
    assert code == 0 and "not checked (no --rules)" in output
    facts = json.loads(verify_proof(receipt, marks["keys"], "--json")[1])
    assert facts["invalidation"] is None


def test_rules_that_do_not_verify_are_refused(
    database_url: str, marks: dict[str, object], tmp_path: Path
) -> None:
    receipt, rules = prove(database_url, str(marks["invalid"]), tmp_path)
    document = json.loads(rules.read_text())
    payload = bytearray(base64.b64decode(document["events"][0]["payload"]))
    payload[-2] ^= 1  # a forged rule: its payload no longer matches its entry
    document["events"][0]["payload"] = base64.b64encode(bytes(payload)).decode()
    rules.write_text(json.dumps(document))
    code, output = verify_proof(receipt, marks["keys"], "--rules", str(rules))
    assert code == 1 and "DocumentMismatchError" in output and "Traceback" not in output
    rules.write_text("{")
    code, output = verify_proof(receipt, marks["keys"], "--rules", str(rules))
    assert code == 1 and "malformed" in output
