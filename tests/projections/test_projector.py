"""The projector's mechanics: exactly once, positions and lag, rebuild, competing projectors,
foreign events, schema changes, payload decoding, the п. 4.4 seam (I8, I10)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ejournal import commands as c
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.projections import storage
from ejournal.projections.decoding import PayloadDecoder
from ejournal.projections.handlers import HANDLERS
from ejournal.projections.invalidation import FixedRules, RuleSet
from ejournal.projections.projector import Projector
from ejournal.projections.queries import Queries
from ejournal.projections.tables import SCHEMA_VERSION, TRACKING_TABLE, Operation
from tests.commands.school import TestSchool, count_events
from tests.commands.timetables import lesson, set_timetable, week
from tests.ledger.support import write_notebooks
from tests.projections.conftest import moscow


def dump(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    with ledger.database.transaction(write=False) as cursor:
        return storage.table_dump(cursor)


def busy_day(school: TestSchool, day: date = date(2025, 9, 1)) -> None:
    """A lesson with a register, marks of a class work, a correction and homework."""
    lesson = school.lesson(on=day)
    c.handle(
        c.RecordAttendance(actor=school.maths, lesson_id=lesson, codes={school.students[0]: "Н"}),
        school.ledger,
    )
    marks = c.handle(
        c.RecordClassWorkMarks(
            actor=school.maths,
            lesson_id=lesson,
            work_type_id=school.work_types["Ответ на уроке"],
            marks={student: 4 for student in school.students[1:]},
        ),
        school.ledger,
    )
    c.handle(
        c.CorrectMark(
            actor=school.maths, lesson_id=lesson, mark_id=marks[0], value=5, reason="описка"
        ),
        school.ledger,
    )
    c.handle(c.AssignHomework(actor=school.maths, lesson_id=lesson, text="№ 1"), school.ledger)


def test_positions_lag_and_exactly_once(school: TestSchool, ledger: Ledger) -> None:
    # I10: page by page, each event once; the lag is the number of events not yet projected.
    busy_day(school)
    projector = Projector(ledger, page_size=3)
    total = count_events(ledger)
    assert (projector.position(), projector.lag()) == (0, total)
    assert projector.run_page() == 3
    assert projector.lag() == total - 3
    assert projector.catch_up() == total - 3
    assert (projector.position(), projector.lag(), projector.head()) == (
        projector.head(),
        0,
        projector.head(),
    )
    assert projector.catch_up() == 0
    incremental = dump(ledger)
    assert projector.rebuild() == total
    assert dump(ledger) == incremental


def test_competing_projectors_apply_each_page_once(
    school: TestSchool, ledger: Ledger, clock: ManualClock
) -> None:
    # Two projectors (as two processes would) share the work and never apply a page twice.
    clock.set(moscow(2025, 9, 3, 15))
    for day in (1, 2, 3):
        busy_day(school, date(2025, 9, day))
    first, second = Projector(ledger, page_size=2), Projector(ledger, page_size=2)
    failures: list[BaseException] = []

    def run(projector: Projector) -> None:
        try:
            projector.catch_up()
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=run, args=(p,)) for p in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert first.position() == second.position() == first.head()
    together = dump(ledger)
    first.rebuild()
    assert dump(ledger) == together


def test_events_the_read_models_do_not_show_are_passed_over(ledger: Ledger) -> None:
    # Foreign aggregates (here the ledger tests' notebook) move the position and nothing else.
    write_notebooks(ledger, count=3)
    projector = Projector(ledger)
    assert projector.catch_up() == count_events(ledger)
    assert projector.lag() == 0
    assert all(rows == [] for rows in dump(ledger).values())


def test_a_schema_change_rebuilds_the_read_models(school: TestSchool, ledger: Ledger) -> None:
    # The read models are disposable: tables of another schema version are dropped and rebuilt.
    projector = Projector(ledger)
    projector.catch_up()
    before = dump(ledger)
    with ledger.database.transaction(write=True) as cursor:
        cursor.execute(f"UPDATE {TRACKING_TABLE} SET schema_version = ?", (SCHEMA_VERSION + 1,))
    again = Projector(ledger)
    assert again.position() == 0
    again.catch_up()
    assert dump(ledger) == before


def test_background_thread_follows_and_stops(school: TestSchool, projector: Projector) -> None:
    # п. 1.5: the server's projector follows the ledger on its own.
    projector.start()
    projector.start()  # idempotent
    busy_day(school)
    assert projector.wait_until(projector.head(), timeout=30)
    assert projector.lag() == 0
    assert not projector.wait_until(projector.head() + 1_000_000, timeout=0.05)
    projector.stop()
    assert not projector.running


def test_fast_decoding_agrees_with_the_mapper(school: TestSchool, ledger: Ledger) -> None:
    # The fast path must read every payload exactly as eventsourcing's mapper does.
    busy_day(school)
    c.handle(
        c.DefineWorkType(
            actor=school.head,
            school_id=school.school_id,
            year_start=2025,
            name="Проект",
            weight=Decimal("1.25"),
            written=False,
        ),
        ledger,
    )
    # The timetable's events: a version, a change that re-plans and cancels, a substitute.
    set_timetable(school, week(school), date(2025, 9, 8))
    moved, *rest = week(school)
    changed = (replace(moved, room="13"), *(e for e in rest if (e.weekday, e.slot) != (1, 2)))
    set_timetable(school, changed, date(2025, 9, 15))
    c.handle(
        c.AssignSubstitute(
            actor=school.head,
            lesson_id=lesson(school, date(2025, 9, 8), 1).id,
            teacher_id=school.person["russian"],
            reason="Болезнь учителя",
        ),
        ledger,
    )
    decoder = PayloadDecoder(ledger.mapper)
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {EVENTS_TABLE}"
        )
        rows = cursor.fetchall()
    checked = 0
    for originator_id, version, topic, state in rows:
        if topic not in HANDLERS:
            continue
        fast = decoder.decode(originator_id, version, topic, bytes(state), True)
        slow = decoder.decode_with_mapper(originator_id, version, topic, bytes(state))
        assert fast == slow, topic
        checked += 1
    assert checked > 40


@dataclass(frozen=True)
class AfterBreach:
    """A п. 4.4-style rule: every operation of one account from a moment on."""

    account_id: str
    from_micros: int
    name: str = "breach"

    def excludes(self, op: Operation, topic: str) -> bool:
        return op.actor_id == self.account_id and op.recorded_at >= self.from_micros


def test_invalidation_rules_exclude_operations_everywhere(
    school: TestSchool, ledger: Ledger, clock: ManualClock
) -> None:
    # п. 4.4 (the seam): operations a rule excludes reach no read model and are listed apart.
    valid_lesson = school.lesson(slot=1)
    clock.set(moscow(2025, 9, 1, 12, 0))
    breach = AfterBreach(school.maths.account_id.hex, int(clock().timestamp()) * 1_000_000)
    c.handle(
        c.RecordMark(
            actor=school.maths,
            lesson_id=valid_lesson,
            student_id=school.students[0],
            value=2,
            work_type_id=school.work_types["Ответ на уроке"],
        ),
        ledger,
    )
    invalid_lesson = school.lesson(slot=2)
    c.handle(c.AssignHomework(actor=school.maths, lesson_id=invalid_lesson, text="№ 5"), ledger)
    projector = Projector(ledger, rules=FixedRules(RuleSet((breach,))))
    projector.catch_up()
    queries = Queries(ledger.database, clock=clock)
    page = queries.class_journal(school.class_id, school.subjects["Математика"])
    assert [lesson.lesson_id for lesson in page.lessons] == [valid_lesson]
    assert page.cell(school.students[0], valid_lesson).marks == ()
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT topic, rule FROM rm_excluded ORDER BY nid")
        excluded = cursor.fetchall()
    assert [topic.rsplit(".", 1)[1] for topic, _ in excluded] == [
        "MarkRecorded",
        "Scheduled",
        "HomeworkAssigned",
    ]
    assert {rule for _, rule in excluded} == {"breach"}
    # Without the rule, a rebuild shows everything again: the ledger kept it all.
    Projector(ledger).rebuild()
    page = queries.class_journal(school.class_id, school.subjects["Математика"])
    assert len(page.lessons) == 2


def test_project_command(database_url: str, ledger: Ledger, school: TestSchool) -> None:
    # The CLI: `ejournal project` catches up, `--rebuild` replays from the start.
    from typer.testing import CliRunner

    from ejournal.cli.main import cli

    runner = CliRunner()
    result = runner.invoke(cli, ["project", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert "projected" in result.output and "lag 0" in result.output
    result = runner.invoke(cli, ["project", "--rebuild", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    assert f"rebuilt {count_events(ledger)} events" in result.output
    assert Projector(ledger).lag() == 0


@pytest.mark.parametrize("page_size", [0, -1])
def test_page_size_must_be_positive(ledger: Ledger, page_size: int) -> None:
    # No clause: the projector refuses a configuration that could never move.
    with pytest.raises(ValueError, match="page_size"):
        Projector(ledger, page_size=page_size)


def test_lessons_on_a_day_keep_their_order(
    school: TestSchool, projector: Projector, queries: Queries
) -> None:
    # п. 2.6: the journal lists lessons by date and slot, whatever order they were entered in.
    for slot in (3, 1, 2):
        school.lesson(on=date(2025, 9, 1), slot=slot)
    projector.catch_up()
    page = queries.class_journal(school.class_id, school.subjects["Математика"])
    assert [lesson.slot for lesson in page.lessons] == [1, 2, 3]


def test_projectors_start_together(ledger: Ledger) -> None:
    # No clause: several server workers start at once; their set-up of the tables must not collide.
    failures: list[BaseException] = []

    def start() -> None:
        try:
            Projector(ledger)
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
