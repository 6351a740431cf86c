"""Moving a school's logs between two PostgreSQL servers (ledger/relocation.py, ledger/fences.py,
docs/adr/0017-moving-a-school.md), on the real shards of tests/clusters.py: the school is written
on the first shard through the commands and moved to the second.

Each test moves a school of its own (``build_school(number=…)``) between the module's two
databases, one on each shard.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from uuid import UUID

import psycopg
import pytest
from eventsourcing.postgres import PostgresDatastore

from ejournal import commands as c
from ejournal.integrity.note import Verifier
from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer, load_checkpoints
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.cosignatures import (
    create_cosignature_table,
    load_cosignatures,
    store_cosignature,
)
from ejournal.ledger.database import Database
from ejournal.ledger.domain.lesson import Lesson
from ejournal.ledger.errors import LogMovedError
from ejournal.ledger.fences import FenceError, fence_logs, fences, install, unfence_logs
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.logs import school_log_id
from ejournal.ledger.recorders import log_lock
from ejournal.ledger.relocation import (
    RelocationError,
    compare_logs,
    copy_logs,
    move_logs,
)
from ejournal.ledger.verify import verify_ledger
from tests.clusters import SHARD_URLS
from tests.commands.school import START, YEAR, TestSchool, build_school
from tests.databases import create_pg_database, drop_pg_database
from tests.ledger.support import TEACHER, Notebook, write_notebooks

ORIGIN = "ejournal.test"
SECRET = b"relocation test secret"
MARKING = datetime(2025, 10, 20, 9, 0, tzinfo=UTC)
"""When the marks are written: every lesson of September and October has begun."""
ROW = (
    "originator_id, originator_version, topic, state, log_id, idx, recorded_at, actor_id, "
    "actor_role, credential_version, session_id, payload_sha256, leaf_hash, chain_hash"
)
SCHOOL_DAYS = [
    day
    for day in (date(2025, 9, 1) + timedelta(days=n) for n in range(50))
    if day.weekday() < 5 and day < date(2025, 10, 20)
]


@dataclass
class Shards:
    source: Ledger
    target: Ledger
    clock: ManualClock
    checkpointer: Checkpointer
    verifiers: list[Verifier]
    numbers: Iterator[int]
    source_url: str

    def school(self) -> TestSchool:
        """A new school on the source, built at ``START``; the clock then stands at ``MARKING``."""
        self.clock.set(START)
        school = build_school(self.source, number=next(self.numbers))
        self.clock.set(MARKING)
        return school


@pytest.fixture(scope="module")
def shards(pg_clusters: None) -> Iterator[Shards]:
    """A ledger on each shard (the target's opened once, which creates its tables), and the
    deployment's checkpoint key on the source."""
    source_url = create_pg_database(admin_url=SHARD_URLS[0])
    target_url = create_pg_database(admin_url=SHARD_URLS[1])
    clock = ManualClock(START)
    source = Ledger(database_url=source_url, clock=clock)
    target = Ledger(database_url=target_url, clock=clock)
    try:
        keys = KeyStore(source.database, clock=clock)
        keys.create("ejournal-test", SECRET)
        verifiers = keys.verifiers()
        checkpointer = Checkpointer(
            source.database,
            origin=ORIGIN,
            signers=keys.signers(SECRET),
            verifiers=verifiers,
            clock=clock,
        )
        yield Shards(source, target, clock, checkpointer, verifiers, itertools.count(1), source_url)
    finally:
        source.close()
        target.close()
        drop_pg_database(source_url, admin_url=SHARD_URLS[0])
        drop_pg_database(target_url, admin_url=SHARD_URLS[1])


def logs_of(school: TestSchool) -> list[str]:
    return [school_log_id(school.school_id, YEAR), school_log_id(school.school_id, YEAR + 1)]


def open_next_year(school: TestSchool) -> None:
    """The school's second year: a log of its own, with a few events."""
    year = {"school_id": school.school_id, "year_start": YEAR + 1}
    c.handle(c.OpenSchoolYear(actor=school.head, **year), school.ledger)
    for name in ("Математика", "Русский язык"):
        c.handle(c.AddSubject(actor=school.head, **year, name=name), school.ledger)


def mark(school: TestSchool, lesson_id: UUID, n: int) -> UUID:
    return c.handle(
        c.RecordMark(
            actor=school.maths,
            lesson_id=lesson_id,
            student_id=school.students[n % len(school.students)],
            value=2 + n % 4,
            work_type_id=school.work_types["Ответ на уроке"],
        ),
        school.ledger,
    )


def write_marks(school: TestSchool, lessons: int, marks: int = 6, *, first: int = 0) -> list[UUID]:
    """``lessons`` maths lessons of 5«А» (from the ``first``-th lesson of the term), each with
    ``marks`` marks; their IDs."""
    lesson_ids = []
    for n in range(first, first + lessons):
        lesson_id = school.lesson(on=SCHOOL_DAYS[n // 3], slot=1 + n % 3)
        for m in range(marks):
            mark(school, lesson_id, m)
        lesson_ids.append(lesson_id)
    return lesson_ids


def rows(ledger: Ledger, logs: list[str]) -> list[tuple[object, ...]]:
    """Every event row of ``logs``, but its notification ID, in log and index order."""
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT {ROW} FROM stored_events WHERE log_id = ANY(?) ORDER BY log_id, idx", (logs,)
        )
        return [tuple(row) for row in cursor.fetchall()]


def count_rows(database: Database) -> int:
    with database.transaction(write=False) as cursor:
        cursor.execute("SELECT COUNT(*) FROM stored_events")
        return int(cursor.fetchone()[0])


def test_a_schools_logs_are_copied_byte_for_byte_and_verify_on_the_target(shards: Shards) -> None:
    school = shards.school()
    open_next_year(school)
    logs = logs_of(school)
    write_marks(school, 15)
    for log_id in logs:
        shards.checkpointer.checkpoint(log_id)
    write_marks(school, 15, first=15)
    signed = shards.checkpointer.checkpoint(logs[0])
    assert signed is not None
    create_cosignature_table(shards.source.database)
    store_cosignature(shards.source.database, logs[0], signed.size, "witness.test", "— line\n")
    source_rows = rows(shards.source, logs)
    assert len(source_rows) >= 250

    copied = copy_logs(shards.source.database, shards.target.database, logs)

    assert [(each.log_id, each.copied) for each in copied] == [
        (log_id, sum(1 for row in source_rows if row[4] == log_id)) for log_id in logs
    ]
    assert rows(shards.target, logs) == source_rows
    assert {log: load_checkpoints(shards.target.database)[log] for log in logs} == {
        log: load_checkpoints(shards.source.database)[log] for log in logs
    }
    assert load_cosignatures(shards.target.database, logs[0]) == {
        (logs[0], signed.size): ["— line\n"]
    }
    # The target verifies with the keys it was given, every copied checkpoint on the way.
    target_keys = KeyStore(shards.target.database).verifiers()
    assert [v.vkey for v in target_keys] == [v.vkey for v in shards.verifiers]
    report = verify_ledger(shards.target.database, verifiers=target_keys, origin=ORIGIN)
    summaries = {log.log_id: log for log in report.logs}
    for log_id in logs:
        assert summaries[log_id].unsigned == 0
        assert summaries[log_id].checkpoints == len(
            load_checkpoints(shards.source.database)[log_id]
        )
    moved = compare_logs(
        shards.source.database,
        shards.target.database,
        logs,
        verifiers=target_keys,
        origin=ORIGIN,
    )
    assert [(m.log_id, m.size, m.root_hex) for m in moved] == [
        (log.log_id, log.size, log.root.hex()) for log in report.logs if log.log_id in logs
    ]

    again = copy_logs(shards.source.database, shards.target.database, logs)
    assert [each.copied for each in again] == [0, 0]
    assert rows(shards.target, logs) == source_rows


class Interrupted(Exception):
    pass


def test_an_interrupted_copy_resumes_with_nothing_doubled(shards: Shards) -> None:
    school = shards.school()
    open_next_year(school)
    logs = logs_of(school)
    write_marks(school, 10)
    shards.checkpointer.checkpoint(logs[0])
    batches: list[tuple[str, int]] = []

    def stop_after_two(log_id: str, size: int) -> None:
        batches.append((log_id, size))
        if len(batches) == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        copy_logs(
            shards.source.database,
            shards.target.database,
            logs,
            batch=16,
            progress=stop_after_two,
        )
    assert batches == [(logs[0], 16), (logs[0], 32)]
    assert rows(shards.target, logs) == rows(shards.source, logs)[:32]

    resumed = copy_logs(shards.source.database, shards.target.database, logs, batch=16)

    assert [each.copied for each in resumed] == [
        len(rows(shards.source, [log_id])) - (32 if log_id == logs[0] else 0) for log_id in logs
    ]
    assert rows(shards.target, logs) == rows(shards.source, logs)
    signed = load_checkpoints(shards.source.database)[logs[0]]
    assert load_checkpoints(shards.target.database)[logs[0]] == signed


@dataclass
class Writer:
    """A thread that records marks in one lesson until the database refuses them."""

    school: TestSchool
    lesson_id: UUID
    acknowledged: list[UUID]
    stop: threading.Event
    refusal: BaseException | None = None

    def run(self) -> None:
        for n in itertools.count():
            if self.stop.is_set():
                return
            try:
                self.acknowledged.append(mark(self.school, self.lesson_id, n))
            except BaseException as e:
                self.refusal = e
                return


def test_a_school_moves_under_write_load_with_nothing_lost(shards: Shards) -> None:
    moving, other = shards.school(), shards.school()
    open_next_year(moving)
    logs = logs_of(moving)
    write_marks(moving, 5)
    stop = threading.Event()
    writers = [
        Writer(moving, moving.lesson(on=SCHOOL_DAYS[20], slot=slot), [], stop) for slot in (1, 2)
    ]
    bystander = Writer(other, other.lesson(on=SCHOOL_DAYS[20]), [], stop)
    threads = [threading.Thread(target=w.run) for w in [*writers, bystander]]
    for thread in threads:
        thread.start()
    switched: list[int] = []

    def switch() -> None:
        # The source refuses the school's writes now, and writes the other school's.
        with pytest.raises(LogMovedError, match=r"it lives on shard2") as refused:
            mark(moving, writers[0].lesson_id, 0)
        assert (refused.value.log_id, refused.value.lives_on) == (logs[0], "shard2")
        before = len(bystander.acknowledged)
        for _ in range(3000):
            if len(bystander.acknowledged) >= before + 3 or bystander.refusal is not None:
                break
            threading.Event().wait(0.01)
        switched.append(len(bystander.acknowledged))

    try:
        for _ in range(3000):
            if sum(len(w.acknowledged) for w in writers) >= 20:
                break
            threading.Event().wait(0.01)
        moved = move_logs(
            shards.source.database,
            shards.target.database,
            logs,
            checkpointer=shards.checkpointer,
            verifiers=shards.verifiers,
            source_name="shard1",
            target_name="shard2",
            switch=switch,
            batch=64,
        )
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    # Every writer of the moving school was refused by the fence, the other school's never.
    for writer in writers:
        assert isinstance(writer.refusal, LogMovedError), writer.refusal
        assert writer.refusal.lives_on == "shard2"
    assert bystander.refusal is None
    assert len(switched) == 1 and len(bystander.acknowledged) >= switched[0] >= 3
    # Nothing lost: every acknowledged mark is on the target, and the logs are equal.
    for writer in writers:
        on_target = shards.target.get(writer.lesson_id, Lesson).marks
        assert set(writer.acknowledged) <= set(on_target)
        assert set(on_target) == set(shards.source.get(writer.lesson_id, Lesson).marks)
    assert rows(shards.target, logs) == rows(shards.source, logs)
    report = verify_ledger(shards.target.database, verifiers=shards.verifiers, origin=ORIGIN)
    summaries = {log.log_id: log for log in report.logs}
    assert [(m.log_id, m.size, m.root_hex) for m in moved] == [
        (log_id, summaries[log_id].size, summaries[log_id].root.hex()) for log_id in logs
    ]
    assert all(summaries[log_id].unsigned == 0 for log_id in logs)
    # The source verifies too, the other school's log included, and keeps refusing the school.
    source_report = verify_ledger(shards.source.database, verifiers=shards.verifiers, origin=ORIGIN)
    assert other.log_id in {log.log_id for log in source_report.logs}
    before = count_rows(shards.source.database)
    with pytest.raises(LogMovedError, match=rf"log {logs[1]} is not written here"):
        c.handle(
            c.AddSubject(
                actor=moving.head, school_id=moving.school_id, year_start=YEAR + 1, name="Физика"
            ),
            shards.source,
        )
    assert count_rows(shards.source.database) == before
    # The target writes the school's logs from now on (a stand-in aggregate: the commands would
    # also need the accounts, which live in the system log, and that is not the school's).
    assert fences(shards.target.database).keys().isdisjoint(logs)
    write_notebooks(shards.target, count=1, log_id=logs[1])
    after = verify_ledger(shards.target.database, verifiers=shards.verifiers, origin=ORIGIN)
    assert {log.log_id: log.size for log in after.logs}[logs[1]] == summaries[logs[1]].size + 3
    # Moving it again is refused: it has moved.
    with pytest.raises(RelocationError, match="has moved to shard2 already"):
        move_logs(
            shards.source.database,
            shards.target.database,
            logs,
            checkpointer=shards.checkpointer,
            verifiers=shards.verifiers,
            source_name="shard1",
            target_name="shard2",
            switch=lambda: None,
        )


def test_a_rolled_back_move_leaves_the_source_writing_and_the_copy_fenced(shards: Shards) -> None:
    school = shards.school()
    log_id = school.log_id
    lesson_id = write_marks(school, 2)[0]
    source, target = shards.source.database, shards.target.database
    fence_logs(target, [log_id], lives_on="shard1")
    copy_logs(source, target, [log_id])
    fence_logs(source, [log_id], lives_on="shard2")
    fence_logs(source, [log_id], lives_on="shard2")  # again: nothing changes
    with pytest.raises(
        FenceError, match=rf"log {log_id} is fenced here already: it lives on shard2"
    ):
        fence_logs(source, [log_id], lives_on="shard3")
    with pytest.raises(LogMovedError, match="it lives on shard2"):
        mark(school, lesson_id, 0)
    # Saves of every size take the same refusal: the library's path past 64 events, and the
    # one past the pipeline's bytes.
    before = count_rows(source)
    with pytest.raises(LogMovedError, match="it lives on shard2"):
        write_notebooks(shards.source, count=1, lines=70, log_id=log_id)
    with pytest.raises(LogMovedError, match="it lives on shard2"):
        big = Notebook(title="x" * 300_000)
        shards.source.record(big, log_id=log_id, actor=TEACHER, role=Role.TEACHER)
    assert count_rows(source) == before
    # The target's schedule leaves the fenced copy to the source's signatures.
    keys = KeyStore(target)
    signing = Checkpointer(
        target, origin=ORIGIN, signers=keys.signers(SECRET), verifiers=keys.verifiers()
    )
    signing.every_entries = 1
    assert log_id not in {signed.log_id for signed in signing.checkpoint_due()}

    unfence_logs(source, [log_id])  # the rollback

    mark(school, lesson_id, 0)
    assert fences(target)[log_id] == "shard1"
    with pytest.raises(LogMovedError, match="it lives on shard1"):
        write_notebooks(shards.target, count=1, log_id=log_id)
    # A later move continues the copy that stayed.
    assert [each.copied for each in copy_logs(source, target, [log_id])] == [1]
    assert rows(shards.target, [log_id]) == rows(shards.source, [log_id])
    # A target whose copy went its own way is not continued: nothing is written.
    unfence_logs(target, [log_id])
    write_notebooks(shards.target, count=1, lines=0, log_id=log_id)
    mark(school, lesson_id, 2)
    before = rows(shards.target, [log_id])
    index = len(before) - 1
    with pytest.raises(RelocationError, match=rf"log {log_id}: .* its entry {index} differs"):
        copy_logs(source, target, [log_id])
    assert rows(shards.target, [log_id]) == before


def test_bad_input_is_refused_with_nothing_written(shards: Shards, tmp_path: Path) -> None:
    school = shards.school()
    source, target = shards.source.database, shards.target.database
    before = count_rows(target)
    with pytest.raises(RelocationError, match=r"no log 'school/nowhere/2025-2026' on the source"):
        copy_logs(source, target, [school.log_id, "school/nowhere/2025-2026"])
    with pytest.raises(RelocationError, match="no log to move"):
        copy_logs(source, target, [])
    with pytest.raises(RelocationError, match="the source and the target are the same database"):
        copy_logs(source, source, [school.log_id])
    assert count_rows(target) == before
    sqlite = Ledger(database_url=f"sqlite:///{tmp_path / 'one.db'}")
    try:
        for call in (
            lambda: copy_logs(sqlite.database, target, [school.log_id]),
            lambda: copy_logs(source, sqlite.database, [school.log_id]),
            lambda: fence_logs(sqlite.database, [school.log_id], lives_on="shard2"),
        ):
            with pytest.raises(FenceError, match="a SQLite ledger has one server and never moves"):
                call()
        assert fences(sqlite.database) == {}
    finally:
        sqlite.close()
    bare = create_pg_database(admin_url=SHARD_URLS[1])
    try:
        parts = urlsplit(bare)
        datastore = PostgresDatastore(
            dbname=parts.path.lstrip("/"),
            host=parts.hostname or "",
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password="",
        )
        try:
            with pytest.raises(RelocationError, match="the target has no ledger tables"):
                copy_logs(source, Database(datastore), [school.log_id])
        finally:
            datastore.close()
        with psycopg.connect(bare) as conn:
            tables = conn.execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            ).fetchone()
        assert tables == (0,)
    finally:
        drop_pg_database(bare, admin_url=SHARD_URLS[1])
    assert count_rows(target) == before


GATE_LOCK = 0x6D6F766521  # the advisory lock a held commit waits for
_GATE = f"""
CREATE TABLE test_gate (log_id text PRIMARY KEY);
CREATE FUNCTION test_gate_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM test_gate WHERE log_id = NEW.log_id) THEN
    PERFORM pg_advisory_xact_lock({GATE_LOCK});
  END IF;
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER test_gate_commit AFTER INSERT ON stored_events
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_gate_commit();
"""
_UNGATE = """
DROP TRIGGER test_gate_commit ON stored_events;
DROP FUNCTION test_gate_commit();
DROP TABLE test_gate;
"""


def waiting(
    conn: psycopg.Connection[tuple[object, ...]], key1: int, key2: int, *, count: int
) -> None:
    """Return once ``count`` transactions wait for the advisory lock (``key1``, ``key2``)."""
    for _ in range(3000):
        (found,) = conn.execute(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND classid = %s AND objid = %s",
            (key1 & 0xFFFFFFFF, key2 & 0xFFFFFFFF),
        ).fetchone() or (0,)
        if found >= count:
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"{count} waiters for the lock never came")


def test_the_fence_waits_for_the_logs_writer_and_refuses_the_one_waiting(
    shards: Shards,
) -> None:
    """Forced, not hoped for: a write holds the log's lock with its event inserted and its commit
    held (a deferred trigger waits for a lock the test holds); the fence queues behind it, and
    another write behind the fence. The held write commits and is copied; the one behind the
    fence is refused."""
    school = shards.school()
    log_id = school.log_id
    first, second = write_marks(school, 2, marks=1, first=40)
    install(shards.source.database)  # the trigger's DDL, which waits for writers, done before
    with (
        psycopg.connect(shards.source_url, autocommit=True) as gate,
        psycopg.connect(shards.source_url) as holder,
    ):
        gate.execute(_GATE)
        try:
            gate.execute("INSERT INTO test_gate VALUES (%s)", (log_id,))
            holder.execute("SELECT pg_advisory_lock(%s)", (GATE_LOCK,))
            outcome: dict[str, object] = {}

            def run(name: str, call: Callable[[], object]) -> threading.Thread:
                def target() -> None:
                    try:
                        outcome[name] = call()
                    except BaseException as e:
                        outcome[name] = e

                thread = threading.Thread(target=target)
                thread.start()
                return thread

            held = run("held", lambda: mark(school, first, 0))
            waiting(gate, GATE_LOCK >> 32, GATE_LOCK, count=1)
            fence = run(
                "fence",
                lambda: fence_logs(shards.source.database, [log_id], lives_on="shard2"),
            )
            waiting(gate, *log_lock(log_id), count=1)
            behind = run("behind", lambda: mark(school, second, 0))
            waiting(gate, *log_lock(log_id), count=2)
            holder.execute("SELECT pg_advisory_unlock(%s)", (GATE_LOCK,))
            for thread in (held, fence, behind):
                thread.join()
        finally:
            gate.execute(_UNGATE)
    assert isinstance(outcome["held"], UUID), outcome["held"]
    assert outcome["fence"] is None
    assert isinstance(outcome["behind"], LogMovedError), outcome["behind"]
    copy_logs(shards.source.database, shards.target.database, [log_id])
    assert outcome["held"] in shards.target.get(first, Lesson).marks
    assert rows(shards.target, [log_id]) == rows(shards.source, [log_id])


def test_a_move_interrupted_before_its_switch_resumes(shards: Shards) -> None:
    school = shards.school()
    logs = [school.log_id]
    write_marks(school, 3)
    source, target = shards.source.database, shards.target.database
    switches: list[str] = []

    def failing_switch() -> None:
        switches.append("failed")
        raise Interrupted

    def move(switch: Callable[[], None]) -> object:
        return move_logs(
            source,
            target,
            logs,
            checkpointer=shards.checkpointer,
            verifiers=shards.verifiers,
            source_name="shard1",
            target_name="shard2",
            switch=switch,
        )

    with pytest.raises(Interrupted):
        move(failing_switch)
    # Stopped between the proof and the switch: both sides fenced, nothing placed.
    assert (fences(source)[school.log_id], fences(target)[school.log_id]) == ("shard2", "shard1")
    signed = load_checkpoints(source)[school.log_id]

    moved = move(lambda: switches.append("switched"))

    assert switches == ["failed", "switched"]
    assert load_checkpoints(source)[school.log_id] == signed  # nothing new to sign
    assert [(m.log_id, m.size) for m in moved] == [(school.log_id, signed[-1].size)]
    assert rows(shards.target, logs) == rows(shards.source, logs)
    assert school.log_id not in fences(target)
