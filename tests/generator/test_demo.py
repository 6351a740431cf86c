"""The demo school and its week run through the commands, on both databases."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ejournal.generator import calendar as cal
from ejournal.generator.demo import WEEK, YEAR, demo_plan, run_demo
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import Lesson, SchoolClass, SchoolYear
from tests.commands.school import count_events, entries


def test_the_demo_runs(ledger: Ledger, clock: ManualClock):
    summary = run_demo(ledger, clock)
    assert summary.events == count_events(ledger)
    assert summary.students == 50
    assert summary.lessons == 62  # 63 in the timetable's week, one of them cancelled
    assert summary.marks > 150
    assert summary.homework > 40
    # About 7 % of students are not simply present.
    seats = 46 * 25 + 16 * 13
    assert 0.03 < summary.attendance_codes / seats < 0.12
    year: SchoolYear = ledger.get(summary.year_id, SchoolYear)
    assert year.school_id == summary.school_id
    log = entries(ledger, summary.log_id)
    assert [idx for idx, _, _ in log] == list(range(len(log)))
    assert len(log) + len(entries(ledger, "system")) == summary.events
    times = [recorded_at for _, recorded_at, _ in log]
    assert times == sorted(times)
    assert {role for _, _, role in log} == {"head", "deputy", "teacher"}


def test_the_demo_is_deterministic(tmp_path: Path):
    # Everything follows from the seed: two runs write the same records, byte for byte.
    digests = []
    for name in ("first", "second"):
        clock = ManualClock(datetime(2025, 9, 1, tzinfo=UTC))
        ledger = Ledger(database_url=f"sqlite:///{tmp_path / name}.db", clock=clock)
        try:
            summary = run_demo(ledger, clock)
            digest = hashlib.sha256()
            for row in ledger.database.stream(
                "SELECT originator_id, originator_version, topic, state FROM stored_events "
                "ORDER BY originator_id, originator_version"
            ):
                digest.update(
                    repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)).encode()
                )
            digests.append((summary, digest.hexdigest()))
        finally:
            ledger.close()
    assert digests[0] == digests[1]


def test_the_demo_s_lessons_come_from_its_timetables(ledger: Ledger, clock: ManualClock):
    # п. 2.2: the deputy's timetables plan the year's lessons from the demo's first day; the
    # teachers keep the journal in them; п. 2.3: a substitute keeps one; one is cancelled.
    summary = run_demo(ledger, clock)
    spec = demo_plan().schools[0]
    expected = 0
    for school_class in spec.classes:
        scheme = cal.QUARTERS if school_class.grade < 10 else cal.HALF_YEARS
        day = WEEK[0]
        while day <= cal.LAST_LESSON_DAY:
            in_period = any(p.starts_on <= day <= p.ends_on for p in scheme)
            off = any(a <= day <= b for _, a, b in cal.HOLIDAYS)
            if in_period and not off and day.weekday() < 5:
                for subject in school_class.timetable[day.weekday()]:
                    expected += len(spec.rosters[school_class.name, subject])
            day += timedelta(days=1)
    assert summary.planned == expected
    fifth, tenth = (
        SchoolClass.create_id(school_id=summary.school_id, year_start=YEAR, grade=g, letter=x)
        for g, x in ((5, "А"), (10, "Б"))
    )
    taken = ledger.get(Lesson.create_id(roster_id=fifth, on=date(2025, 9, 11), slot=5), Lesson)
    historian = next(s.person_id for s in spec.staff if s.login == "t.istoriya")
    assert taken.substitution is not None and taken.teacher_in_charge == historian
    assert taken.topic and taken.registers == 1
    cancelled = ledger.get(Lesson.create_id(roster_id=tenth, on=date(2025, 9, 12), slot=5), Lesson)
    assert cancelled.cancellation is not None and not cancelled.holds_records()
    held = ledger.get(Lesson.create_id(roster_id=tenth, on=date(2025, 9, 12), slot=4), Lesson)
    assert held.room == "24" and held.registers == 1
