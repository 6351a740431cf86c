"""Writers of different logs commit side by side on PostgreSQL
(docs/adr/0015-per-log-write-locks.md), so a notification ID can become visible after a higher
one. Readers in ID order (the projector, the event cache) must not pass it while it may still
come, and must pass it once it cannot (a rolled-back insert). SQLite has one writer: IDs are
visible in order there.

The out-of-order commit is forced, not hoped for: a deferred trigger, created by the test in the
test's database, makes the commit of the school's log wait for an advisory lock the test holds
(and, if the test says so, fail), after its insert has taken its notification IDs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import ProgrammingError

from ejournal import commands as c
from ejournal.ledger.application import Ledger
from ejournal.ledger.event_cache import EventCache
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.projections import storage
from ejournal.projections.projector import Projector
from tests.commands.school import TestSchool
from tests.ledger.support import write_line, write_notebooks

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

GATE_LOCK = 0x6761746521  # the advisory lock the held commit waits for

_GATE = f"""
CREATE TABLE test_gate (log_id text PRIMARY KEY, fail boolean NOT NULL);
CREATE FUNCTION test_gate_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM test_gate WHERE log_id = NEW.log_id) THEN
    PERFORM pg_advisory_xact_lock({GATE_LOCK});
    IF (SELECT fail FROM test_gate WHERE log_id = NEW.log_id) THEN
      RAISE EXCEPTION 'the test refused this commit';
    END IF;
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER test_gate_commit AFTER INSERT ON {EVENTS_TABLE}
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_gate_commit();
"""


class HeldCommit:
    """A write to one log that has taken its notification IDs and waits to commit."""

    def __init__(self, url: str, log_id: str) -> None:
        self._url = url
        self.log_id = log_id
        self._gate = psycopg.connect(url, autocommit=True)
        self._gate.execute(_GATE)
        self._holder = psycopg.connect(url)
        self._holder.execute("SELECT pg_advisory_lock(%s)", (GATE_LOCK,))
        self.error: BaseException | None = None

    @contextmanager
    def writing(self, write: Callable[[], object], *, fail: bool = False) -> Iterator[None]:
        """Start ``write`` in a thread; return once its insert waits for the commit."""
        self._gate.execute(
            "INSERT INTO test_gate VALUES (%s, %s) ON CONFLICT (log_id) DO UPDATE SET fail = %s",
            (self.log_id, fail, fail),
        )

        def run() -> None:
            try:
                write()
            except BaseException as error:
                self.error = error

        thread = threading.Thread(target=run)
        thread.start()
        try:
            self._wait_until_held()
            yield
        finally:
            self._holder.execute("SELECT pg_advisory_unlock(%s)", (GATE_LOCK,))
            thread.join(30)
            self._holder.execute("SELECT pg_advisory_lock(%s)", (GATE_LOCK,))
        assert not thread.is_alive()

    def _wait_until_held(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            row = self._gate.execute(
                "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND objid = %s",
                (GATE_LOCK & 0xFFFFFFFF,),
            ).fetchone()
            if row and row[0]:
                return
            time.sleep(0.01)
        raise AssertionError("the held write never reached its commit")

    def close(self) -> None:
        self._holder.close()
        self._gate.close()


@pytest.fixture
def held(school: TestSchool, database_url: str) -> Iterator[HeldCommit]:
    gate = HeldCommit(database_url, school.log_id)
    try:
        yield gate
    finally:
        gate.close()


def _mark(school: TestSchool, value: int = 4) -> Callable[[], object]:
    lesson = school.lesson()
    return lambda: c.handle(
        c.RecordMark(
            actor=school.maths,
            lesson_id=lesson,
            student_id=school.students[0],
            value=value,
            work_type_id=school.work_types["Ответ на уроке"],
        ),
        school.ledger,
    )


def _marks(ledger: Ledger) -> list[tuple[Any, ...]]:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT value FROM rm_mark")
        return [row[0] for row in cursor.fetchall()]


def _count_after(ledger: Ledger, position: int) -> int:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {EVENTS_TABLE} WHERE notification_id > ?", (position,)
        )
        return int(cursor.fetchone()[0])


def _max_id(ledger: Ledger) -> int:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(f"SELECT MAX(notification_id) FROM {EVENTS_TABLE}")
        return int(cursor.fetchone()[0])


def test_the_projector_waits_for_a_lower_id_that_commits_later(
    school: TestSchool, ledger: Ledger, held: HeldCommit
) -> None:
    projector, write = Projector(ledger), _mark(school)
    projector.catch_up()
    before = projector.position()
    with held.writing(write):
        write_notebooks(ledger, count=1, log_id="test/other")  # another log commits meanwhile
        newest = _max_id(ledger)
        assert projector.catch_up() == 0
        assert projector.position() == before < newest
        assert projector.lag() > 0  # the other log's events: visible, waiting
        assert _marks(ledger) == []
    assert held.error is None
    assert projector.catch_up() == _count_after(ledger, before) > 1  # the mark and the notebook
    assert projector.position() == _max_id(ledger) == newest  # the mark took lower IDs
    assert _marks(ledger) == [4]
    incremental = dump(ledger)
    projector.rebuild()
    assert dump(ledger) == incremental  # nothing skipped, nothing applied twice


def test_a_rolled_back_insert_leaves_a_gap_passed_once_it_is_final(
    school: TestSchool, ledger: Ledger, held: HeldCommit
) -> None:
    projector, write = Projector(ledger), _mark(school)
    projector.catch_up()
    before = projector.position()
    with held.writing(write, fail=True):
        write_notebooks(ledger, count=1, log_id="test/other")
        others = _count_after(ledger, before)
        assert projector.catch_up() == 0
        assert projector.position() == before
    assert held.error is not None
    assert "the test refused this commit" in str(held.error) + str(held.error.__cause__)
    assert _count_after(ledger, before) == others  # the mark's IDs stay a gap
    assert projector.catch_up() == others
    assert projector.position() == _max_id(ledger)
    assert _marks(ledger) == []


def test_the_event_cache_reads_a_late_commit(
    school: TestSchool, ledger: Ledger, held: HeldCommit
) -> None:
    (book,) = write_notebooks(ledger, count=1, lines=0, log_id=school.log_id)
    cache = EventCache(ledger.database, ledger.mapper.to_domain_event)
    cache.refresh()

    def load(aggregate_id: Any) -> Any:
        return tuple(ledger.events.get(aggregate_id))

    assert len(cache.events(book.id, load)) == 1
    with held.writing(lambda: write_line(ledger, book.id, "late", log_id=school.log_id)):
        write_notebooks(ledger, count=1, log_id="test/other")
        cache.refresh()  # sees the other log's event; must not move past the held one
        assert len(cache.events(book.id, load)) == 1
    cache.refresh()
    held_events = cache.held(book.id)
    assert held_events is not None and len(held_events) == 2  # followed, not read again


def dump(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    with ledger.database.transaction(write=False) as cursor:
        return storage.table_dump(cursor)


def test_the_library_s_subscription_is_refused(ledger: Ledger) -> None:
    # It would read past a gap that may still fill, and wait for a NOTIFY no write sends.
    with pytest.raises(ProgrammingError, match="notification IDs can commit out of order"):
        ledger.recorder.subscribe(gt=0)
