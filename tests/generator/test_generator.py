"""The generator (``generator``): the same seed writes the same ledger, a stopped run resumes
to exactly that ledger, and the generated journal follows the regulation's rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from ejournal.generator import Counts, Plan, district_plan, district_school, generate
from ejournal.generator.calendar import YEAR
from ejournal.generator.curriculum import EXAM_SUBJECTS
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import AttestationRecord, Lesson
from ejournal.ledger.domain.values import AttestationKind
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.verify import verify_ledger
from tests.conftest import create_pg_database, drop_pg_database

SEED = 11


class Stop(Exception):
    pass


def _roots(ledger: Ledger, clock: ManualClock) -> dict[str, bytes]:
    """Sign a checkpoint of every log and return their roots (I5)."""
    store = KeyStore(ledger.database, clock=clock)
    store.create("test.ejournal", b"secret")
    checkpointer = Checkpointer(
        ledger.database,
        origin="test.ejournal",
        signers=store.signers(b"secret"),
        verifiers=store.verifiers(),
        clock=clock,
    )
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(f"SELECT DISTINCT log_id FROM {EVENTS_TABLE} ORDER BY log_id")
        logs = [row[0] for row in cursor.fetchall()]
    roots = {}
    for log_id in logs:
        signed = checkpointer.checkpoint(log_id)
        assert signed is not None
        roots[log_id] = signed.root_hash
    verify_ledger(ledger.database, verifiers=store.verifiers(), origin="test.ejournal")
    return roots


def _run(url: str, plan: Plan, *, stop_after: int | None = None) -> dict[str, bytes]:
    clock = ManualClock(datetime(2025, 8, 1, tzinfo=UTC))
    ledger = Ledger(database_url=url, clock=clock)
    try:
        if stop_after is not None:

            def stop(what: str, counts: Counts) -> None:
                if counts.units >= stop_after:
                    raise Stop(what)

            with pytest.raises(Stop):
                generate(ledger, clock, plan, progress=stop)
        _, counts = generate(ledger, clock, plan)
        if stop_after is not None:
            assert counts.skipped_units >= stop_after
        return _roots(ledger, clock)
    finally:
        ledger.close()


@pytest.fixture
def second_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second fresh database on the same backend as ``database_url``."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'second.db'}"
        return
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


def test_the_same_seed_writes_the_same_ledger_even_when_resumed(
    database_url: str, second_url: str
) -> None:
    # I1, I5: the same seed gives the same logs, entry for entry, hence the same checkpoint roots;
    # a run stopped after its third unit (accounts, year setup, first week) and started again
    # writes exactly what an uninterrupted run writes.
    plan = district_plan(schools=1, seed=SEED, weeks=2, parallels=1)
    whole = _run(database_url, plan)
    resumed = _run(second_url, plan, stop_after=3)
    assert len(whole) == 2  # the system log and the school's year
    assert resumed == whole


def test_first_graders_get_no_marks_and_no_homework(tmp_path: Path) -> None:
    # Grade 1 is taught without marks (безотметочное обучение) and without homework; from grade
    # 2 lessons have marks with their work types (п. 2.6) and homework (п. 2.7).
    spec = district_school(SEED, 1, parallels=1)
    clock = ManualClock(datetime(2025, 8, 1, tzinfo=UTC))
    ledger = Ledger(database_url=f"sqlite:///{tmp_path / 'g.db'}", clock=clock)
    try:
        plan = Plan(schools=[spec], seed=SEED, last_day=date(2025, 9, 5), exams=False)
        (run,), counts = generate(ledger, clock, plan)
        assert counts.marks > 0 and counts.homework > 0
        first = next(k for k in spec.classes if k.grade == 1)
        rosters = {r.roster_id for (name, _), rs in spec.rosters.items() if name == first.name
                   for r in rs}  # fmt: skip
        with ledger.database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT topic, COUNT(*) FROM {EVENTS_TABLE} WHERE log_id = ? GROUP BY topic",
                (run.log_id,),
            )
            topics = dict(cursor.fetchall())
        assert any(t.endswith("Lesson.MarkRecorded") for t in topics)
        lessons = [ledger.get(i, Lesson) for i in _lesson_ids(ledger, run.log_id)]
        first_lessons = [lesson for lesson in lessons if lesson.roster_id in rosters]
        assert first_lessons
        assert all(not lesson.marks and lesson.homework is None for lesson in first_lessons)
        # п. 2.5: about 7 % of students are not simply present.
        seats = sum(len(spec.rosters[k.name, s][0].members) for k in spec.classes
                    for day in k.timetable[:5] for s in day)  # fmt: skip
        assert 0.03 < counts.attendance_codes / seats < 0.12
    finally:
        ledger.close()


def test_period_marks_are_set_in_the_last_week_of_the_quarter(tmp_path: Path) -> None:
    # п. 2.8: in the last week of the I quarter every student of grades 2–9 gets a mark in every
    # subject; grades 10–11 (half-years) get none yet, nor does grade 1.
    spec = district_school(SEED, 1, parallels=1)
    clock = ManualClock(datetime(2025, 8, 1, tzinfo=UTC))
    ledger = Ledger(database_url=f"sqlite:///{tmp_path / 'g.db'}", clock=clock)
    try:
        plan = Plan(
            schools=[spec],
            seed=SEED,
            first_day=date(2025, 10, 20),
            last_day=date(2025, 10, 24),
            exams=False,
        )
        _, counts = generate(ledger, clock, plan)
        expected = sum(
            len(roster.members)
            for (name, _), rosters in spec.rosters.items()
            for roster in rosters
            if 2 <= roster.grade <= 9
        )
        assert counts.period_marks == expected
    finally:
        ledger.close()


def _lesson_ids(ledger: Ledger, log_id: str) -> list[object]:
    from uuid import UUID

    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT originator_id FROM {EVENTS_TABLE} WHERE log_id = ? AND topic LIKE ?",
            (log_id, "%:Lesson.Scheduled"),
        )
        return [UUID(str(row[0])) for row in cursor.fetchall()]


def test_june_brings_exam_marks_in_grades_9_and_11_then_final_marks(tmp_path: Path) -> None:
    # п. 2.8: the ОГЭ and ЕГЭ subjects of grades 9 and 11 get an exam mark and every subject of
    # those grades a final mark, after the year's last lessons; other grades get neither.
    spec = district_school(SEED, 1, parallels=1)
    clock = ManualClock(datetime(2025, 8, 1, tzinfo=UTC))
    ledger = Ledger(database_url=f"sqlite:///{tmp_path / 'g.db'}", clock=clock)
    try:
        plan = Plan(schools=[spec], seed=SEED, first_day=date(2026, 5, 25))
        (run,), counts = generate(ledger, clock, plan)
        assert run.has_exams()
        finals, exams = 0, 0
        for (_, subject), rosters in spec.rosters.items():
            for roster in rosters:
                for student in roster.members:
                    record = ledger.find(
                        AttestationRecord.create_id(
                            spec.school_id, YEAR, student, spec.subjects[subject]
                        ),
                        AttestationRecord,
                    )
                    if record is None:  # grade 1 has no marks (п. 2.8 starts in grade 2)
                        assert roster.grade == 1
                        continue
                    final = record.mark(AttestationKind.FINAL.value, None)
                    exam = record.mark(AttestationKind.EXAM.value, None)
                    assert (final is not None) == (roster.grade in EXAM_SUBJECTS)
                    assert (exam is not None) == (subject in EXAM_SUBJECTS.get(roster.grade, ()))
                    if exam is not None:
                        assert final is not None and exam.value == final.value
                    finals += final is not None
                    exams += exam is not None
        assert exams > 0 and finals > exams
        # The year's last week also brought the year marks (п. 2.8), one a student and subject.
        assert counts.period_marks > finals + exams
        assert verify_ledger(ledger.database, verifiers=[], origin="test.ejournal").entries > 0
    finally:
        ledger.close()
