"""The read models against the ledger: the audit names every row that differs, and a rebuild never
shows a half-built journal (issue 19, item 12).

A read model is a plain table: ``UPDATE rm_mark SET value = 5`` where the ledger says 2 used to
pass ``ejournal verify`` while the journal showed 5. ``verify --read-models`` projects the ledger
beside the read models and reports each row that differs by its table and key.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest
from typer.testing import CliRunner

from ejournal import commands as c
from ejournal.cli.main import cli
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.projections import storage
from ejournal.projections.audit import audit_read_models
from ejournal.projections.projector import Projector
from ejournal.projections.queries import Queries
from tests.commands.school import TestSchool, count_events
from tests.projections.conftest import moscow

ANSWER = "Ответ на уроке"
PERIOD = "I четверть"
runner = CliRunner()


@dataclass
class Journal:
    """What the test school's week holds: a lesson with a mark of 2 and homework, a period mark,
    and a mark made in a session the head declared invalid (п. 4.4)."""

    lesson: UUID
    mark: UUID
    excluded_mark: UUID


def keep_a_week(school: TestSchool, clock: ManualClock) -> Journal:
    ledger = school.ledger
    clock.set(moscow(2025, 9, 1, 12, 0))
    lesson = school.lesson(on=date(2025, 9, 1), slot=1)
    mark = c.handle(
        c.RecordMark(
            actor=school.maths,
            lesson_id=lesson,
            student_id=school.students[0],
            value=2,
            work_type_id=school.work_types[ANSWER],
        ),
        ledger,
    )
    c.handle(c.AssignHomework(actor=school.maths, lesson_id=lesson, text="§ 1, № 3"), ledger)
    c.handle(
        c.SetPeriodMark(
            actor=school.maths,
            roster_id=school.class_id,
            subject_id=school.subjects["Математика"],
            student_id=school.students[0],
            value=4,
            period=PERIOD,
        ),
        ledger,
    )
    stranger = replace(school.maths, session_id=uuid4())  # the same login, another session
    excluded_mark = c.handle(
        c.RecordMark(
            actor=stranger,
            lesson_id=lesson,
            student_id=school.students[1],
            value=3,
            work_type_id=school.work_types[ANSWER],
        ),
        ledger,
    )
    c.handle(
        c.InvalidateSession(
            actor=school.head,
            session_id=stranger.session_id,
            account_id=stranger.account_id,
            school_id=school.school_id,
            reason="вход с чужого устройства",
        ),
        ledger,
    )
    return Journal(lesson, mark, excluded_mark)


def run_sql(ledger: Ledger, statement: str, params: tuple[Any, ...] = ()) -> None:
    with ledger.database.transaction(write=True) as cursor:
        cursor.execute(statement, params)


def one_value(ledger: Ledger, statement: str, params: tuple[Any, ...] = ()) -> Any:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()[0]


@dataclass(frozen=True)
class Tamper:
    """A change to one row of a read model behind the projector's back, and the row's key."""

    change: Callable[[Ledger, TestSchool, Journal], None]
    table: str
    key: Callable[[Ledger, TestSchool, Journal], dict[str, Any]]
    changed: tuple[str, ...] | None
    """The columns found changed; None for a row missing or added (every column)."""


def mark_key(ledger: Ledger, school: TestSchool, week: Journal) -> dict[str, Any]:
    lesson_key, nid = (
        one_value(ledger, "SELECT lesson_key FROM rm_mark WHERE mark_id = ?", (week.mark.hex,)),
        one_value(ledger, "SELECT nid FROM rm_mark WHERE mark_id = ?", (week.mark.hex,)),
    )
    return {"lesson_key": lesson_key, "nid": nid}


def excluded_key(ledger: Ledger, school: TestSchool, week: Journal) -> dict[str, Any]:
    # The excluded operation is the stranger's mark: its notification ID keys rm_excluded.
    nid = one_value(
        ledger,
        "SELECT nid FROM rm_excluded WHERE originator_id = ? AND topic LIKE ?",
        (week.lesson.hex, "%MarkRecorded"),
    )
    return {"nid": nid}


def attestation_key(ledger: Ledger, school: TestSchool, week: Journal) -> dict[str, Any]:
    key = one_value(ledger, "SELECT record_key FROM rm_attestation WHERE period = ?", (PERIOD,))
    return {"record_key": key, "kind": "period", "period": PERIOD}


def year_key(ledger: Ledger, school: TestSchool, week: Journal) -> dict[str, Any]:
    return {"year_id": one_value(ledger, "SELECT year_id FROM rm_year")}


TAMPERINGS = {
    # The class journal (and the diary, the summary sheet's average): the issue's own example.
    "journal: a mark's value": Tamper(
        lambda ledger, school, week: run_sql(
            ledger, "UPDATE rm_mark SET value = 5 WHERE mark_id = ?", (week.mark.hex,)
        ),
        "rm_mark",
        mark_key,
        ("value",),
    ),
    # The diary: the homework a parent reads.
    "diary: homework": Tamper(
        lambda ledger, school, week: run_sql(
            ledger,
            "UPDATE rm_lesson SET homework_text = 'ничего не задано' WHERE lesson_id = ?",
            (week.lesson.hex,),
        ),
        "rm_lesson",
        lambda ledger, school, week: {"lesson_id": week.lesson.hex},
        ("homework_text",),
    ),
    # The summary sheet: a period mark.
    "summary sheet: a period mark": Tamper(
        lambda ledger, school, week: run_sql(
            ledger, "UPDATE rm_attestation SET value = '5' WHERE period = ?", (PERIOD,)
        ),
        "rm_attestation",
        attestation_key,
        ("value",),
    ),
    # The monitor: when the year's periods were set up (п. 2.2).
    "monitor: the year's setup time": Tamper(
        lambda ledger, school, week: run_sql(ledger, "UPDATE rm_year SET periods_at = NULL"),
        "rm_year",
        year_key,
        ("periods_at",),
    ),
    # п. 4.4: an excluded operation taken off the re-entry worklist …
    "exclusions: a row deleted": Tamper(
        lambda ledger, school, week: run_sql(ledger, "DELETE FROM rm_excluded"),
        "rm_excluded",
        excluded_key,
        None,
    ),
    # … or its rule changed.
    "exclusions: a rule changed": Tamper(
        lambda ledger, school, week: run_sql(ledger, "UPDATE rm_excluded SET rule = 'none'"),
        "rm_excluded",
        excluded_key,
        ("rule",),
    ),
}


# Each tampering on SQLite; on PostgreSQL, where each audit builds its shadow tables with DDL that
# costs seconds, one change of a row and one deletion (the comparison is one query for every table).
CHANGED_ROWS = [
    *(("sqlite", name) for name in TAMPERINGS),
    *(("postgres", name) for name in ("journal: a mark's value", "exclusions: a row deleted")),
]


@pytest.mark.parametrize(("database_url", "name"), CHANGED_ROWS, indirect=["database_url"])
def test_the_audit_names_a_changed_row(
    database_url: str,
    school: TestSchool,
    ledger: Ledger,
    clock: ManualClock,
    projector: Projector,
    name: str,
) -> None:
    tamper = TAMPERINGS[name]
    week = keep_a_week(school, clock)
    projector.catch_up()
    clean = audit_read_models(ledger)
    assert clean is not None and clean.agrees and clean.rows > 40
    key = tamper.key(ledger, school, week)

    tamper.change(ledger, school, week)

    report = audit_read_models(ledger)
    assert report is not None and report.position == projector.head()
    [difference] = report.differences
    assert (difference.table, dict(difference.key)) == (tamper.table, key)
    if tamper.changed is not None:
        assert difference.changed == tamper.changed
    result = runner.invoke(
        cli, ["verify", "--read-models", "--json", "--database-url", database_url]
    )
    assert result.exit_code == 1, result.output
    body = json.loads(result.stdout)
    assert body["ok"] is False
    [found] = body["read_models_audit"]["differences"]
    assert (found["table"], found["key"]) == (tamper.table, key)
    text = runner.invoke(cli, ["verify", "--read-models", "--database-url", database_url])
    assert text.exit_code == 1
    assert f"{tamper.table} (" in text.output and "Traceback" not in text.output
    # A rebuild puts the row right.
    projector.rebuild()
    again = audit_read_models(ledger)
    assert again is not None and again.agrees


def test_the_journal_shows_what_the_audit_reports(
    school: TestSchool, ledger: Ledger, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # The symptom of the issue: the changed value is what the journal shows, and the audit says
    # what the ledger gives instead.
    week = keep_a_week(school, clock)
    projector.catch_up()
    run_sql(ledger, "UPDATE rm_mark SET value = 5 WHERE mark_id = ?", (week.mark.hex,))
    page = queries.class_journal(school.class_id, school.subjects["Математика"])
    assert [m.value for m in page.cell(school.students[0], week.lesson).marks] == [5]
    report = audit_read_models(ledger)
    assert report is not None
    [difference] = report.differences
    assert difference.describe().endswith("value stored 5, expected 2")


def test_a_clean_verify_with_read_models_passes(
    database_url: str, school: TestSchool, ledger: Ledger, clock: ManualClock, projector: Projector
) -> None:
    keep_a_week(school, clock)
    projector.catch_up()
    result = runner.invoke(
        cli, ["verify", "--read-models", "--json", "--database-url", database_url]
    )
    assert result.exit_code == 0, result.output
    audit = json.loads(result.stdout)["read_models_audit"]
    assert (audit["agrees"], audit["differences"], audit["position"]) == (
        True,
        [],
        projector.head(),
    )
    # The audit's tables are dropped afterwards.
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM sqlite_master WHERE substr(name, -7) = '__audit'"
            if database_url.startswith("sqlite")
            else "SELECT COUNT(*) FROM pg_tables WHERE right(tablename, 7) = '__audit'"
        )
        assert cursor.fetchone()[0] == 0


def test_the_audit_compares_at_the_live_position(
    school: TestSchool, ledger: Ledger, clock: ManualClock, projector: Projector
) -> None:
    # Read models behind the ledger are not "different": the audit projects up to where they
    # are, not to the head.
    week = keep_a_week(school, clock)
    projector.catch_up()
    position = projector.position()
    c.handle(c.AssignHomework(actor=school.maths, lesson_id=week.lesson, text="§ 2"), ledger)
    assert projector.lag() > 0
    report = audit_read_models(ledger)
    assert report is not None and report.agrees and report.position == position


def dump(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    with ledger.database.transaction(write=False) as cursor:
        return storage.table_dump(cursor)


def test_a_reader_during_a_rebuild_sees_the_old_or_the_new_read_models(
    school: TestSchool, ledger: Ledger, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # A rebuild builds beside the read models and switches in one transaction: a reader on
    # another connection, between any two pages of the rebuild, sees the old complete state or
    # the new one, never a half-built journal.
    week = keep_a_week(school, clock)
    projector.catch_up()
    run_sql(ledger, "UPDATE rm_mark SET value = 5 WHERE mark_id = ?", (week.mark.hex,))
    old = dump(ledger)
    subject = school.subjects["Математика"]
    old_page = queries.class_journal(school.class_id, subject)
    seen: list[dict[str, list[tuple[Any, ...]]]] = []

    def read(position: int, moved: int) -> None:
        seen.append(dump(ledger))
        assert queries.class_journal(school.class_id, subject) == old_page

    moved = Projector(ledger, page_size=3).rebuild(progress=read)
    assert moved == count_events(ledger)
    assert len(seen) > 10  # the rebuild took many pages, and the reader looked after each
    assert all(state == old for state in seen)
    new = dump(ledger)
    assert new != old  # the changed mark is put right: it is the ledger's again
    page = queries.class_journal(school.class_id, subject)
    assert [m.value for m in page.cell(school.students[0], week.lesson).marks] == [2]
    audit = audit_read_models(ledger)
    assert audit is not None and audit.agrees


def test_a_rebuild_takes_in_what_the_live_read_models_got_meanwhile(
    school: TestSchool, ledger: Ledger, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # While the rebuild builds, the server's projector keeps the live read models up to date; the
    # switch applies what they are ahead by, so nothing shown disappears.
    week = keep_a_week(school, clock)
    projector.catch_up()
    written: list[UUID] = []

    def write_meanwhile(position: int, moved: int) -> None:
        if not written:
            written.append(
                c.handle(
                    c.RecordMark(
                        actor=school.maths,
                        lesson_id=week.lesson,
                        student_id=school.students[2],
                        value=5,
                        work_type_id=school.work_types[ANSWER],
                    ),
                    ledger,
                )
            )
            projector.catch_up()  # the live projector (another one) moves on

    Projector(ledger, page_size=50).rebuild(progress=write_meanwhile)
    assert written and projector.position() == projector.head()
    page = queries.class_journal(school.class_id, school.subjects["Математика"])
    assert [m.value for m in page.cell(school.students[2], week.lesson).marks] == [5]
    incremental = dump(ledger)
    Projector(ledger).rebuild()
    assert dump(ledger) == incremental


def test_a_stopped_rebuild_leaves_the_read_models_as_they_were(
    school: TestSchool, ledger: Ledger, clock: ManualClock, projector: Projector
) -> None:
    keep_a_week(school, clock)
    projector.catch_up()
    before = dump(ledger)
    rebuilding = Projector(ledger, page_size=5)

    def stop(position: int, moved: int) -> None:
        rebuilding._stopping.set()  # what stop() does from another thread

    rebuilding.rebuild(progress=stop)
    assert dump(ledger) == before
    assert rebuilding.position() == projector.head()


def test_a_switch_that_deadlocks_with_a_reader_is_tried_again(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    # PostgreSQL: the switch takes every read model's table lock; a reader whose transaction holds
    # one of them (rm_mark) and then asks for one the switch holds already (rm_school) closes a
    # cycle, and PostgreSQL rolls one of the two back. The switch is tried again.
    import threading

    import psycopg

    from tests.commands.school import build_school

    caplog.set_level(logging.INFO, logger="ejournal.projections")
    clock = ManualClock(moscow(2025, 9, 1, 9, 0))
    ledger = Ledger(database_url=postgres_url, clock=clock)
    reader = psycopg.connect(postgres_url)
    try:
        keep_a_week(build_school(ledger), clock)
        Projector(ledger).catch_up()
        reader.execute("SELECT COUNT(*) FROM rm_mark").fetchone()  # holds rm_mark until commit
        failures: list[BaseException] = []

        def rebuild() -> None:
            try:
                Projector(ledger).rebuild()
            except BaseException as error:  # pragma: no cover - reported below
                failures.append(error)

        thread = threading.Thread(target=rebuild)
        thread.start()
        with psycopg.connect(postgres_url, autocommit=True) as watcher:
            for _ in range(600):  # until the switch waits for the reader's lock on rm_mark
                waiting = watcher.execute(
                    "SELECT COUNT(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE NOT l.granted AND c.relname = 'rm_mark'"
                ).fetchone()
                if waiting and waiting[0]:
                    break
                time.sleep(0.05)
            else:
                pytest.fail("the switch never waited for the reader")
        reader_rolled_back = False
        try:
            reader.execute("SELECT COUNT(*) FROM rm_school").fetchone()  # the cycle
        except psycopg.errors.DeadlockDetected:
            reader_rolled_back = True
        reader.rollback()
        thread.join(60)
        assert not thread.is_alive() and failures == []
        assert reader_rolled_back or "trying again" in caplog.text
        report = audit_read_models(ledger)
        assert report is not None and report.agrees
    finally:
        reader.close()
        ledger.close()
