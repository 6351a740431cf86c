"""``ejournal move-school`` (issue 24, item 3): a school moved from one server to another while
its teachers keep recording marks: every acknowledged mark is on the new server, every log's
root is equal at a signed checkpoint, and the placement names the new server."""

from __future__ import annotations

import threading
import time
from uuid import UUID

import pytest
from typer.testing import CliRunner

from ejournal import commands as c
from ejournal.cli.main import cli
from ejournal.ledger.actor import Actor
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import Lesson
from ejournal.ledger.errors import LogMovedError
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.placement import PlacementError, Region
from ejournal.ledger.verify import verify_ledger
from ejournal.projections.projector import Projector
from tests.commands.school import TestSchool, build_school
from tests.region.conftest import region_env, school_built_on
from tests.region.test_placement import shown

SECRET = b"deployment secret"
ORIGIN = "region.test"
MARKS_AFTER_MOVE = 5


class Writer(threading.Thread):
    """A teacher recording marks for one pupil, through whichever server holds the school."""

    def __init__(self, region: Region, school: TestSchool, lesson: UUID, student: UUID) -> None:
        super().__init__(daemon=True)
        self.region, self.school, self.lesson, self.student = region, school, lesson, student
        self.acknowledged: list[UUID] = []
        self.refused = 0
        self.error: BaseException | None = None
        self.stop_after: int | None = None

    def run(self) -> None:
        try:
            while self.stop_after is None or len(self.acknowledged) < self.stop_after:
                self._mark(self.school.maths)
        except BaseException as e:  # handed to the test
            self.error = e

    def _mark(self, actor: Actor) -> None:
        ledger = self.region.for_school(self.school.school_id)
        command = c.RecordMark(
            actor=actor,
            lesson_id=self.lesson,
            student_id=self.student,
            value=4,
            work_type_id=self.school.work_types["Ответ на уроке"],
        )
        try:
            self.acknowledged.append(c.handle(command, ledger))
        except (LogMovedError, c.Conflict):
            # Fenced on the old server (or, for a moment, not yet open on the new one): the
            # placement is read again and the mark sent where it says.
            self.refused += 1
            self.region.placement.forget()
            time.sleep(0.01)


def test_a_school_moves_under_write_load(region: Region, clock: ManualClock) -> None:
    school = build_school(region.ledger("shard1"))
    region.place(school.school_id, "shard1")
    lesson = school.lesson()
    keys = KeyStore(region.directory.database, clock=clock)
    keys.create(ORIGIN, SECRET)

    def checkpointer(source: Ledger) -> Checkpointer:
        return Checkpointer(
            source.database,
            origin=ORIGIN,
            signers=keys.signers(SECRET),
            verifiers=keys.verifiers(),
            clock=clock,
        )

    writers = [Writer(region, school, lesson, student) for student in school.students[:2]]
    for writer in writers:
        writer.start()
    while min(len(w.acknowledged) for w in writers) < 10:
        time.sleep(0.01)
    moved = region.move(
        school.school_id, "shard2", checkpointer=checkpointer, verifiers=keys.verifiers()
    )
    for writer in writers:
        writer.stop_after = len(writer.acknowledged) + MARKS_AFTER_MOVE
    for writer in writers:
        writer.join(60)
        assert writer.error is None, writer.error
        assert not writer.is_alive()

    assert region.placement.server_of(school.school_id) == "shard2"
    target = region.ledger("shard2")
    # Nothing lost: every acknowledged mark is in the lesson on the new server.
    acknowledged = {mark for writer in writers for mark in writer.acknowledged}
    assert acknowledged <= set(target.get(lesson, Lesson).marks)
    assert sum(w.refused for w in writers) >= 1  # the old server refused writes after its fence
    # Every root equal at a signed checkpoint, and the new server's ledger verifies.
    assert [log.log_id for log in moved] == [school.log_id]
    latest = checkpointer(target).latest(school.log_id)
    assert latest is not None and latest.root_hash.hex() == moved[0].root_hex
    verify_ledger(
        target.database,
        verifiers=keys.verifiers(),
        origin=ORIGIN,
        directory=region.directory.database,
    )
    # The old server refuses the school's writes: it lives on shard2.
    with pytest.raises(LogMovedError, match="lives on shard2"):
        c.handle(
            c.RecordMark(
                actor=school.maths,
                lesson_id=lesson,
                student_id=school.students[3],
                value=5,
                work_type_id=school.work_types["Ответ на уроке"],
            ),
            region.ledger("shard1"),
        )
    # The new server's read models show every mark.
    Projector(target).catch_up()
    assert len(shown(target, clock, school, lesson)) == len(acknowledged)
    # Moved once, it is there: a second move is refused, nothing done.
    with pytest.raises(PlacementError, match="is on 'shard2' already"):
        region.move(
            school.school_id, "shard2", checkpointer=checkpointer, verifiers=keys.verifiers()
        )


def test_move_school_from_the_command_line(
    region_urls: tuple[str, dict[str, str]], clock: ManualClock
) -> None:
    env = region_env(region_urls, SECRET.decode())
    school = school_built_on(region_urls, clock, "shard1", place=True)
    runner = CliRunner()
    assert runner.invoke(cli, ["keys", "init"], env=env).exit_code == 0
    s = str(school.school_id)
    moved = runner.invoke(cli, ["move-school", s, "--to", "shard2"], env=env)
    assert moved.exit_code == 0, moved.output
    assert f"{school.log_id}: " in moved.output and "equal on shard2" in moved.output
    again = runner.invoke(cli, ["move-school", s, "--to", "shard2"], env=env)
    assert again.exit_code == 1
    assert "is on 'shard2' already" in again.output
    nowhere = runner.invoke(cli, ["move-school", s, "--to", "shard9"], env=env)
    assert nowhere.exit_code == 1
    assert "no server named 'shard9'" in nowhere.output
    verified = runner.invoke(cli, ["verify"], env=env)
    assert verified.exit_code == 0, verified.output
