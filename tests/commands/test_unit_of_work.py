"""``Ledger.unit_of_work``: several commands, each with all its checks, saved in one transaction
whose log entries are those the commands would have written one save each (I1, I2, I8)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ejournal import commands as c
from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import Lesson
from ejournal.ledger.verify import verify_ledger
from tests.commands.school import MONDAY, TestSchool, count_events, entries, refused


def test_a_unit_saves_its_commands_at_its_end_each_with_its_own_entry(
    ledger: Ledger, clock: ManualClock, school: TestSchool
) -> None:
    before = count_events(ledger)
    head = entries(ledger, school.log_id)
    times = []
    with ledger.unit_of_work():
        lesson_id = school.lesson()
        times.append(clock())
        for n, student in enumerate(school.students[:3]):
            clock.advance(timedelta(minutes=5))
            c.handle(
                c.RecordMark(
                    actor=school.maths,
                    lesson_id=lesson_id,
                    student_id=student,
                    value=5 - n,
                    work_type_id=school.work_types["Ответ на уроке"],
                ),
                ledger,
            )
            times.append(clock())
        # Inside the unit the lesson holds its marks; the database holds nothing yet.
        assert len(ledger.get(lesson_id, Lesson).marks) == 3
        assert count_events(ledger) == before
    assert count_events(ledger) == before + 4
    # I1: the log stays dense; I8: every entry carries its own command's recorded time.
    log = entries(ledger, school.log_id)
    assert [i for i, _, _ in log] == list(range(len(log)))
    new = log[len(head) :]
    micros = [int(t.timestamp() * 1_000_000) for t in times]
    assert [t for _, t, _ in new] == micros
    assert {role for _, _, role in new} == {"teacher"}
    verify_ledger(ledger.database)


def test_a_refused_command_in_a_unit_leaves_no_trace(ledger: Ledger, school: TestSchool) -> None:
    # п. 2.3, 2.5: a refused command writes nothing, also inside a unit of work.
    answer = school.work_types["Ответ на уроке"]
    with ledger.unit_of_work():
        lesson_id = school.lesson()
        with refused(ledger, c.InvalidInput, "mark.invalid_value"):
            c.handle(
                c.RecordMark(
                    actor=school.maths, lesson_id=lesson_id, student_id=school.students[0],
                    value=7, work_type_id=answer,
                ),
                ledger,
            )  # fmt: skip
        # A change left unsaved on an aggregate (as a handler refusing half-way would leave it)
        # is not seen by the next command: the unit reads that aggregate again.
        dirty: Lesson = ledger.get(lesson_id, Lesson)
        dirty.record_attendance({school.students[1]: "Н"}, at=ledger.clock())
        c.handle(
            c.RecordMark(
                actor=school.maths, lesson_id=lesson_id, student_id=school.students[1], value=4,
                work_type_id=answer,
            ),
            ledger,
        )  # fmt: skip
    lesson: Lesson = ledger.get(lesson_id, Lesson)
    assert [m.value for m in lesson.marks.values()] == [4]
    assert lesson.version == 2


def test_a_unit_that_raises_writes_nothing(ledger: Ledger, school: TestSchool) -> None:
    # I2: a unit is one transaction: all of its commands, or none.
    before = count_events(ledger)
    with pytest.raises(RuntimeError, match="stopped"), ledger.unit_of_work():
        school.lesson()
        raise RuntimeError("stopped")
    assert count_events(ledger) == before


def test_a_unit_writes_one_log(ledger: Ledger, school: TestSchool) -> None:
    # I1: one save goes to one log; a unit that would span two is refused before it writes.
    before = count_events(ledger)
    with pytest.raises(ValueError, match="one log"), ledger.unit_of_work():
        school.lesson()
        school.account("new.teacher", Role.TEACHER)  # accounts live in the system log
    assert count_events(ledger) == before


def test_prefetch_reads_what_the_unit_needs_and_knows_what_is_missing(
    ledger: Ledger, school: TestSchool
) -> None:
    # I1: prefetched state is what the commands would have read; a missing lesson stays missing.
    lesson_id = school.lesson()
    absent = Lesson.create_id(roster_id=school.class_id, on=MONDAY, slot=2)
    with ledger.unit_of_work():
        ledger.prefetch([lesson_id, absent, school.class_id])
        assert ledger.get(lesson_id, Lesson).version == 1
        second = school.lesson(slot=2)
        assert second == absent
        assert ledger.get(absent, Lesson).version == 1
    assert ledger.get(absent, Lesson).version == 1
