"""Many writers at once, to many logs and several to the same log, while a projector follows
(I1, I2, I10; docs/adr/0015-per-log-write-locks.md): afterwards every log is dense and its chain
verifies, and the read models hold every mark exactly once, as a rebuild from scratch does.

Two threads per school share its lessons, so they conflict and retry: refused inserts leave gaps
in the notification IDs that the projector must pass, and commits of one school's log overtake
those of another's, with lower IDs, that the projector must wait for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from ejournal import commands as c
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.projections.projector import Projector
from tests.commands.school import TestSchool, build_school
from tests.ledger.support import write_line, write_notebooks
from tests.ledger.test_concurrency import assert_dense_and_verified
from tests.projections.test_out_of_order_commits import dump

MARKS_PER_THREAD = 25
NOTEBOOK_LINES = 25


def _marking(school: TestSchool, lessons: list[UUID], seed: int) -> Callable[[], None]:
    def run() -> None:
        for n in range(MARKS_PER_THREAD):
            command = c.RecordMark(
                actor=school.maths,
                lesson_id=lessons[(seed + n) % len(lessons)],
                student_id=school.students[n % len(school.students)],
                value=2 + (seed + n) % 4,
                work_type_id=school.work_types["Ответ на уроке"],
            )
            while True:
                try:
                    c.handle(command, school.ledger)
                except c.Conflict:
                    continue  # as an HTTP client would, after a 409
                break

    return run


def _writing_lines(ledger: Ledger, log_id: str) -> Callable[[], None]:
    (book,) = write_notebooks(ledger, count=1, lines=0, log_id=log_id)
    return lambda: [
        write_line(ledger, book.id, f"line {n}", log_id=log_id) for n in range(NOTEBOOK_LINES)
    ]


def test_writers_of_many_logs_and_of_one_log_at_once(
    school: TestSchool, ledger: Ledger, clock: ManualClock
) -> None:
    schools = [school, build_school(ledger, number=2)]
    clock.set(datetime(2025, 9, 1, 12, 0, tzinfo=UTC))
    lessons = {each.log_id: [each.lesson(slot=slot) for slot in (1, 2)] for each in schools}
    writers = [
        _marking(each, lessons[each.log_id], seed) for each in schools for seed in range(2)
    ] + [_writing_lines(ledger, f"test/log/{n}") for n in range(4)]
    projector = Projector(ledger, page_size=7, poll_seconds=0.005)
    projector.start()
    failures: list[BaseException] = []

    def run(writer: Callable[[], object]) -> None:
        try:
            writer()
        except BaseException as error:  # pragma: no cover - reported below
            failures.append(error)

    threads = [threading.Thread(target=run, args=(writer,)) for writer in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert projector.wait_until(projector.head(), timeout=60)
    projector.stop()
    assert projector.last_error is None
    assert projector.lag() == 0

    assert_dense_and_verified(ledger)
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT COUNT(*) FROM rm_mark")
        assert cursor.fetchone()[0] == len(schools) * 2 * MARKS_PER_THREAD
    followed = dump(ledger)
    projector.rebuild()
    assert dump(ledger) == followed  # nothing skipped, nothing applied twice
