"""A school year in which a session's operations were invalidated (п. 4.4): the certified summary
sheet leaves them out, and the archive carries the rule, proven by a receipt from the system log,
so that the offline recomputation leaves them out too."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from uuid import uuid4

import pytest

from ejournal import commands as c
from ejournal.archive.verifier import verify_archive
from ejournal.documents.certify import rest_on_checkpoint
from ejournal.documents.documents import class_journal_document, weekly_diary_document
from ejournal.documents.year_close import close_school_year
from ejournal.integrity.errors import DocumentMismatchError
from ejournal.integrity.note import generate_signer
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.signatories import signatory_key_name
from tests.archive.support import ORIGIN, checkpointer_for, record_year, remanifest
from tests.commands.school import MONDAY, build_school
from tests.projections.test_breach import invalidate

RULES = "data/invalidation.json"


@pytest.fixture
def archive(ledger: Ledger, clock: ManualClock, tmp_path: Path) -> tuple[Path, list, str]:
    school = build_school(ledger)
    record_year(school, clock)
    stolen = replace(school.maths, session_id=uuid4())
    victim = school.students[4]
    c.handle(
        c.SetPeriodMark(
            actor=stolen,
            roster_id=school.class_id,
            subject_id=school.subjects["Математика"],
            student_id=victim,
            value="2",
            period="I четверть",
        ),
        ledger,
    )
    invalidate(school, stolen)
    signer = generate_signer(ORIGIN)
    result = close_school_year(
        ledger,
        checkpointer=checkpointer_for(ledger, signer),
        checkpoint_verifiers=[signer.verifier()],
        actor=school.head,
        signer=generate_signer(signatory_key_name(school.person["head"])),
        school_id=school.school_id,
        year_start=2025,
        out=tmp_path / "archive",
    )
    return result.archive, [signer.verifier()], str(victim)


def test_the_certified_sheet_leaves_the_invalid_mark_out(archive: tuple[Path, list, str]) -> None:
    # п. 4.4, 2.9: the invalidated period mark is neither certified nor recomputed.
    root, verifiers, victim = archive
    sheet = json.loads((root / "data/documents/summary-05-A.json").read_text("utf-8"))
    assert victim not in {mark["student_id"] for mark in sheet["marks"]}
    assert len(json.loads((root / RULES).read_text("utf-8"))["events"]) == 1
    report = verify_archive(root, verifiers=verifiers)
    assert any("1 of 1 recomputed" in check for check in report.checks)


def test_an_archive_without_its_rules_does_not_verify(
    archive: tuple[Path, list, str], tmp_path: Path
) -> None:
    # п. 4.4: dropping the rule would bring the invalid mark back into the recomputation.
    root, verifiers, _ = archive
    copy = Path(shutil.copytree(root, tmp_path / "copy"))
    (copy / RULES).unlink()
    remanifest(copy)
    with pytest.raises(DocumentMismatchError, match="recomputed"):
        verify_archive(copy, verifiers=verifiers)


def test_a_forged_rule_does_not_verify(archive: tuple[Path, list, str], tmp_path: Path) -> None:
    # п. 4.4: a rule's payload must be the one its receipted entry commits to.
    root, verifiers, _ = archive
    copy = Path(shutil.copytree(root, tmp_path / "copy"))
    document = json.loads((copy / RULES).read_text("utf-8"))
    document["events"][0]["payload"] = document["events"][0]["payload"][:-8] + "AAAAAAA="
    (copy / RULES).write_text(json.dumps(document), encoding="utf-8")
    remanifest(copy)
    with pytest.raises(DocumentMismatchError, match="rule event 0"):
        verify_archive(copy, verifiers=verifiers)


def test_printouts_leave_invalid_operations_out(ledger: Ledger, clock: ManualClock) -> None:
    # п. 4.4, 1.6, 3.1: journal pages and the weekly diary are built without invalid operations.
    school = build_school(ledger)
    record_year(school, clock)
    lesson = school.lesson(slot=3)
    stolen = replace(school.maths, session_id=uuid4())
    for actor, student, value in ((school.maths, 0, 5), (stolen, 1, 2)):
        c.handle(
            c.RecordMark(
                actor=actor,
                lesson_id=lesson,
                student_id=school.students[student],
                value=value,
                work_type_id=school.work_types["Ответ на уроке"],
            ),
            ledger,
        )
    invalidate(school, stolen)
    checkpoint = rest_on_checkpoint(
        checkpointer_for(ledger, generate_signer(ORIGIN)), school.log_id
    )
    journal = class_journal_document(
        ledger,
        roster_id=school.class_id,
        subject_id=school.subjects["Математика"],
        first_day=MONDAY,
        last_day=MONDAY,
        checkpoint=checkpoint,
        origin=ORIGIN,
    )
    (page,) = [entry for entry in journal["lessons"] if entry["id"] == str(lesson)]
    assert [(m["student_id"], m["value"]) for m in page["marks"]] == [(str(school.students[0]), 5)]
    for student, expected in ((0, [5]), (1, [])):
        diary = weekly_diary_document(
            ledger,
            class_id=school.class_id,
            student_id=school.students[student],
            week_of=MONDAY,
            checkpoint=checkpoint,
            origin=ORIGIN,
        )
        (day,) = [entry for entry in diary["lessons"] if entry["id"] == str(lesson)]
        assert [m["value"] for m in day["marks"]] == expected
