"""Concurrent writers into one school year (I1, I2): 8 threads, then 4 processes, 150 commands each.

Writers share thirty lessons, so they often conflict on the same aggregates. A conflicted command
is retried by ``commands.handle``; if every attempt conflicts it is refused with ``conflict`` (HTTP
409) and the client tries again. Afterwards no command is lost, every log is dense and every chain
verifies.
"""

from __future__ import annotations

import multiprocessing
import random
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from uuid import UUID

import psycopg
import pytest
from eventsourcing.domain import Aggregate, event

from ejournal import commands as c
from ejournal.ledger.actor import SYSTEM_ACTOR, Actor, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.database import Database
from ejournal.ledger.errors import ConcurrentWriteError
from ejournal.ledger.recorders import SCHEMA_LOCK
from ejournal.ledger.verify import verify_ledger
from tests.commands.school import MONDAY, build_school

COMMANDS_PER_WRITER = 150


def record_marks(
    ledger: Ledger,
    teacher: Actor,
    lessons: list[UUID],
    students: list[UUID],
    work_type: UUID,
    seed: int,
) -> Counter[str]:
    """Issue COMMANDS_PER_WRITER mark commands, retrying conflicts as an HTTP client would."""
    rng = random.Random(seed)
    outcome: Counter[str] = Counter()
    for _ in range(COMMANDS_PER_WRITER):
        command = c.RecordMark(
            actor=teacher,
            lesson_id=rng.choice(lessons),
            student_id=rng.choice(students),
            value=rng.randint(2, 5),
            work_type_id=work_type,
        )
        while True:
            try:
                c.handle(command, ledger)
            except c.Conflict:
                outcome["409, retried"] += 1
                continue
            outcome["recorded"] += 1
            break
    return outcome


def _process_writer(database_url: str, now: datetime, args: tuple, seed: int) -> Counter[str]:  # type: ignore[type-arg]
    ledger = Ledger(database_url=database_url, clock=ManualClock(now))
    try:
        return record_marks(ledger, *args, seed=seed)
    finally:
        ledger.close()


def marks_in(ledger: Ledger, log_id: str) -> int:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM stored_events WHERE log_id = ? AND topic LIKE ?",
            (log_id, "%Lesson.MarkRecorded"),
        )
        return int(cursor.fetchone()[0])


def setup(ledger: Ledger) -> tuple[str, tuple]:  # type: ignore[type-arg]
    """The test school with 30 maths lessons (1–12 September, three a day); the clock at the end."""
    school = build_school(ledger)
    assert isinstance(ledger.clock, ManualClock)
    ledger.clock.set(datetime(2025, 9, 12, 15, 0, tzinfo=UTC))
    days = [
        MONDAY + timedelta(days=n) for n in range(12) if (MONDAY + timedelta(days=n)).weekday() < 5
    ]
    lessons = [school.lesson(on=day, slot=slot) for day in days for slot in (1, 2, 3)]
    args = (school.maths, lessons, school.students, school.work_types["Ответ на уроке"])
    return school.log_id, args


def assert_dense_and_verified(ledger: Ledger) -> None:
    report = verify_ledger(ledger.database)
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            "SELECT log_id, COUNT(*), MIN(idx), MAX(idx) FROM stored_events GROUP BY log_id"
        )
        counts = cursor.fetchall()
    for log_id, count, low, high in counts:
        assert (low, high) == (0, count - 1), f"{log_id} is not dense"
    # The verifier walked every row of every log.
    assert {log.log_id: log.size for log in report.logs} == {row[0]: row[1] for row in counts}


def test_eight_threads(ledger: Ledger) -> None:
    log_id, args = setup(ledger)
    before = marks_in(ledger, log_id)
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda seed: record_marks(ledger, *args, seed=seed), range(8)))
    total = sum(outcomes, Counter())
    assert total["recorded"] == 8 * COMMANDS_PER_WRITER
    assert marks_in(ledger, log_id) - before == 8 * COMMANDS_PER_WRITER
    assert_dense_and_verified(ledger)


def test_a_lesson_s_marks_sent_at_once_are_all_recorded(ledger: Ledger) -> None:
    # п. 2.5: a teacher's client may send each mark of a lesson as a request of its own, all at
    # once; every one is recorded, none refused for meeting the others (handle's waits).
    log_id, (teacher, lessons, students, work_type) = setup(ledger)
    before = marks_in(ledger, log_id)
    sent = [
        c.RecordMark(
            actor=teacher, lesson_id=lessons[0], student_id=student, value=5, work_type_id=work_type
        )
        for student in students * 4  # four marks each: 24 requests
    ]
    together = threading.Barrier(len(sent))

    def record(command: c.RecordMark) -> UUID:
        together.wait()
        return c.handle(command, ledger)

    with ThreadPoolExecutor(max_workers=len(sent)) as pool:
        recorded = list(pool.map(record, sent))  # a Conflict would be raised here
    assert len(set(recorded)) == len(sent)
    assert marks_in(ledger, log_id) - before == len(sent)
    assert_dense_and_verified(ledger)


def _waiting_in(thread: threading.Thread, function: str) -> bool:
    """Whether ``thread`` is inside ``function`` now (its stack, read from outside)."""
    frame = sys._current_frames().get(thread.ident or -1)
    while frame is not None:
        if frame.f_code.co_name == function:
            return True
        frame = frame.f_back
    return False


def _second_waits_for_the_first(first: Database, second: Database) -> None:
    inside, leave, order = threading.Event(), threading.Event(), []

    def hold() -> None:
        with first.one_at_a_time():
            order.append("first in")
            inside.set()
            leave.wait(10)
            order.append("first out")

    def take_turn() -> None:
        inside.wait(10)
        with second.one_at_a_time():
            order.append("second in")

    holder, taker = threading.Thread(target=hold), threading.Thread(target=take_turn)
    holder.start()
    taker.start()
    inside.wait(10)
    # Only once the second caller is inside ``one_at_a_time`` (waiting for its turn, since the
    # first holds it) does the first leave: otherwise the order below would prove nothing.
    deadline = time.monotonic() + 10
    while not _waiting_in(taker, "one_at_a_time"):
        assert time.monotonic() < deadline, "the second caller never asked for its turn"
        time.sleep(0.01)
    assert order == ["first in"]
    leave.set()
    for thread in (holder, taker):
        thread.join(10)
    assert order == ["first in", "first out", "second in"]


def test_one_at_a_time_in_a_process(ledger: Ledger) -> None:
    _second_waits_for_the_first(ledger.database, ledger.database)


def test_one_at_a_time_across_processes_of_a_postgresql_database(
    postgres_url: str, clock: ManualClock
) -> None:
    # Two ledgers have two connection pools, as two server processes do.
    first, second = (
        Ledger(database_url=postgres_url, clock=clock),
        Ledger(database_url=postgres_url, clock=clock),
    )
    try:
        _second_waits_for_the_first(first.database, second.database)
    finally:
        first.close()
        second.close()


def test_turns_do_not_wait_behind_schema_setup(postgres_url: str, clock: ManualClock) -> None:
    # A rebuild holds the schema lock while it builds its indexes; a command's retry waiting for
    # its turn must not queue behind it (nor the rebuild behind the retries).
    ledger = Ledger(database_url=postgres_url, clock=clock)
    try:
        with psycopg.connect(postgres_url, autocommit=True) as other, other.transaction():
            other.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            ran: list[str] = []
            worker = threading.Thread(target=lambda: _take_a_turn(ledger.database, ran))
            worker.start()
            worker.join(10)
            assert ran == ["took its turn"]
    finally:
        ledger.close()


def _take_a_turn(database: Database, ran: list[str]) -> None:
    with database.one_at_a_time():
        ran.append("took its turn")


def test_four_processes(ledger: Ledger, database_url: str) -> None:
    log_id, args = setup(ledger)
    before = marks_in(ledger, log_id)
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=4, mp_context=spawn) as pool:
        futures = [
            pool.submit(_process_writer, database_url, ledger.clock(), args, seed)
            for seed in range(4)
        ]
        outcomes = [future.result(timeout=300) for future in futures]
    total = sum(outcomes, Counter())
    assert total["recorded"] == 4 * COMMANDS_PER_WRITER
    assert marks_in(ledger, log_id) - before == 4 * COMMANDS_PER_WRITER
    assert_dense_and_verified(ledger)


class Note(Aggregate):
    @event("Written")
    def __init__(self, text: str) -> None:
        self.text = text

    @event("Amended")
    def amend(self, text: str) -> None:
        self.text = text


def test_a_save_refused_after_its_first_row_leaves_no_gap(ledger: Ledger) -> None:
    # The recorders remember a log's head to skip reading it; a save that inserted its first row
    # and was then refused (its second event conflicts) must not leave that head behind.
    def record(*notes: Note) -> None:
        ledger.record(*notes, log_id="notes", actor=SYSTEM_ACTOR, role=Role.SYSTEM)

    note = Note("first")
    record(note)
    stale = ledger.get(note.id, Note)
    note.amend("second")
    record(note)
    stale.amend("conflicting")
    with pytest.raises(ConcurrentWriteError, match="a concurrent write changed the same record"):
        record(Note("refused with it"), stale)
    record(Note("next"))
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT COUNT(*) FROM stored_events WHERE log_id = ?", ("notes",))
        assert cursor.fetchone()[0] == 3
    assert_dense_and_verified(ledger)
