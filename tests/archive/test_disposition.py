"""Retention and disposition (п. 3.3, ГОСТ Р ИСО 15489-1): expired payloads are removed through
one procedure that records an act; every leaf stays; verify and verify-archive still pass and the
summary sheet stays readable. The database refuses every other change."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from ejournal import commands as c
from ejournal.archive.metadata import ArchivedDocument
from ejournal.archive.verifier import verify_archive
from ejournal.documents.year_close import archive_school_year
from ejournal.integrity.bagit import PAYLOAD_DIR
from ejournal.ledger.actor import SYSTEM_ACTOR
from ejournal.ledger.append_only import (
    DISPOSITION_ACT_TOPIC,
    PERMITS_TABLE,
)
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain.disposition import DispositionAct
from ejournal.ledger.retention import (
    DEFAULT_SCHEDULE,
    RetentionError,
    remove_payloads,
    school_year_of_log,
)
from ejournal.ledger.verify import verify_ledger
from tests.archive.support import ORIGIN, ArchivedYear
from tests.commands.school import refused


def test_the_schedule_counts_from_the_january_after_the_year(archived_year: ArchivedYear) -> None:
    journal = DEFAULT_SCHEDULE.class_of("ledger.domain.lesson:Lesson.MarkRecorded")
    sheets = DEFAULT_SCHEDULE.class_of("ledger.domain.attestation:AttestationRecord.MarkSet")
    assert (journal.name, journal.years) == ("class_journal", 5)
    assert (sheets.name, sheets.years) == ("summary_sheet", 25)
    assert str(journal.disposal_date(2025)) == "2032-01-01"
    assert str(sheets.disposal_date(2025)) == "2052-01-01"
    assert DEFAULT_SCHEDULE.class_of("ledger.domain.future:Unknown.Event").years is None
    longer = DEFAULT_SCHEDULE.with_years({"class_journal": 6})
    assert str(longer.named("class_journal").disposal_date(2025)) == "2033-01-01"
    with pytest.raises(RetentionError):
        DEFAULT_SCHEDULE.with_years({"nonsense": 1})
    with pytest.raises(RetentionError):
        school_year_of_log("system")


def _documents(root: Path) -> list[ArchivedDocument]:
    directory = root / PAYLOAD_DIR / "documents"
    return [
        ArchivedDocument(
            name="summary-05-A",
            title="Сводная ведомость",
            kind="summary-sheet",
            data=(directory / "summary-05-A.json").read_bytes(),
            certificate=(directory / "summary-05-A.certificate").read_text("utf-8"),
            csv=(directory / "summary-05-A.csv").read_bytes(),
            pdf=(directory / "summary-05-A.pdf").read_bytes(),
        )
    ]


def _states(year: ArchivedYear) -> dict[str, list[bool]]:
    with year.school.ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            "SELECT topic, state IS NULL FROM stored_events WHERE log_id = ? ORDER BY idx",
            (year.school.log_id,),
        )
        rows = cursor.fetchall()
    states: dict[str, list[bool]] = {}
    for topic, disposed in rows:
        states.setdefault(topic.split(":")[1].split(".")[0], []).append(bool(disposed))
    return states


def test_disposition_keeps_every_leaf_and_the_summary_sheet(
    archived_year: ArchivedYear, tmp_path: Path
) -> None:
    school = archived_year.school
    ledger = school.ledger
    clock = ledger.clock
    assert isinstance(clock, ManualClock)
    dispose = c.DisposeExpiredRecords(
        actor=school.head, log_id=school.log_id, reason="Истёк срок хранения (акт № 1)"
    )
    with refused(ledger, c.Conflict, "disposition.nothing_due"):
        c.handle(dispose, ledger)
    with refused(ledger, c.NotAllowed, "disposition.not_allowed"):
        c.handle(c.DisposeExpiredRecords(actor=school.maths, log_id=school.log_id, reason="x"),
                 ledger)  # fmt: skip
    with refused(ledger, c.InvalidInput, "disposition.not_a_school_log"):
        c.handle(c.DisposeExpiredRecords(actor=SYSTEM_ACTOR, log_id="system", reason="x"), ledger)
    clock.set(datetime(2032, 1, 1, 9, 0, tzinfo=UTC))
    result = c.handle(dispose, ledger)
    assert result.removed == result.plan.count > 0
    act = ledger.get(result.act_id, DispositionAct)
    assert isinstance(act, DispositionAct)
    assert [cls["name"] for cls in act.classes] == ["class_journal"]
    states = _states(archived_year)
    assert all(states["Lesson"]) and all(states["ThematicPlan"])
    assert not any(states["AttestationRecord"]) and not any(states["SchoolClass"])
    assert not any(states["DispositionAct"])
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {PERMITS_TABLE}")
        assert cursor.fetchone()[0] == 0
    verify_ledger(ledger.database, verifiers=archived_year.verifiers, origin=ORIGIN)
    # The archive made before still verifies; one made now, without the payloads, too.
    verify_archive(archived_year.result.archive, verifiers=archived_year.verifiers)
    archive, report = archive_school_year(
        ledger,
        checkpointer=archived_year.checkpointer,
        checkpoint_verifiers=archived_year.verifiers,
        school_id=school.school_id,
        year_start=2025,
        out=tmp_path / "after",
        documents=_documents(archived_year.result.archive),
    )
    assert report.disposed_payloads == result.removed
    assert any("1 of 1 recomputed" in check for check in report.checks)
    assert any("each named by an act" in check for check in report.checks)
    assert "Математика" in (archive / "data/documents/summary-05-A.csv").read_text("utf-8")
    shutil.rmtree(archive)


def test_the_database_refuses_every_other_change(archived_year: ArchivedYear) -> None:
    """Only state → NULL, under a permit naming a recorded act, gets through the trigger."""
    school = archived_year.school
    database = school.ledger.database
    log_id = school.log_id
    statements = [
        ("UPDATE stored_events SET state = NULL WHERE log_id = ? AND idx = 1", (log_id,)),
        ("UPDATE stored_events SET state = ? WHERE log_id = ? AND idx = 1", (b"{}", log_id)),
        ("UPDATE stored_events SET topic = 'x' WHERE log_id = ? AND idx = 1", (log_id,)),
        ("DELETE FROM stored_events WHERE log_id = ? AND idx = 1", (log_id,)),
    ]
    for sql, params in statements:
        with (
            pytest.raises(Exception, match="append-only"),
            database.transaction(write=True) as cursor,
        ):
            cursor.execute(sql, params)
    # A permit naming no recorded act lets nothing through either.
    with pytest.raises(RetentionError, match="append-only"):
        remove_payloads(database, log_id=log_id, act_id=uuid4(), ranges=[(0, 3)])


def test_the_guard_names_the_act_topic() -> None:
    from eventsourcing.utils import get_topic

    assert get_topic(DispositionAct.Recorded) == DISPOSITION_ACT_TOPIC
