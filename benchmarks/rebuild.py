"""Rebuild throughput of the read models, against a bare read of the same events, in one run.

Generates one school's year in a fresh database (SQLite file, PostgreSQL database): classes of 25
students, six lessons a day, each with its register, answers at the board, a class work every fifth
lesson, homework, now and then a correction, a cancellation, a comment or a message to parents, and
period marks for everyone. The bulk is recorded through ``Ledger.record`` directly (one save per
class and day), which is what the commands would write, minus their checks.

Then, on each database, in alternating rounds:

- the anchor: read every event page by page with the projector's own query and decode its payload
  (orjson), doing nothing else: the floor no projector can go below;
- the rebuild: ``Projector.rebuild()``: drop the read models and project everything again.

The best round of each is printed with the ratio rebuild / anchor, and the rebuild's events per
second of this process's CPU time (on a busy machine the wall clock also counts other processes'
turns; on PostgreSQL the server's own CPU is not in it). Target: at least 50,000 events a second.

    .venv/bin/python benchmarks/rebuild.py [--classes 40] [--days 170] [--rounds 2] [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import orjson
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ejournal.ledger.actor import SYSTEM_ACTOR, Actor, Grant, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import (
    Account,
    AttestationRecord,
    Lesson,
    ParentMessage,
    School,
    SchoolClass,
    SchoolYear,
)
from ejournal.ledger.domain.lesson import Homework
from ejournal.ledger.domain.values import BellSlot, DateRange, Period, WorkType
from ejournal.ledger.logs import SYSTEM_LOG, school_log_id
from ejournal.projections.projector import Projector, page_statement

YEAR = 2025
STUDENTS_PER_CLASS = 25
SUBJECTS = (
    "Русский язык",
    "Литература",
    "Математика",
    "История",
    "Обществознание",
    "География",
    "Биология",
    "Английский язык",
    "Физика",
    "Информатика",
)
BELLS = tuple(BellSlot(n, clock_time(8 + n, 0), clock_time(8 + n, 45)) for n in range(1, 7))
PERIODS = (
    Period("I четверть", DateRange(date(2025, 9, 1), date(2025, 10, 26))),
    Period("II четверть", DateRange(date(2025, 11, 5), date(2025, 12, 28))),
    Period("III четверть", DateRange(date(2026, 1, 12), date(2026, 3, 22))),
    Period("IV четверть", DateRange(date(2026, 4, 1), date(2026, 5, 26))),
)
HOLIDAYS = (
    DateRange(date(2025, 10, 27), date(2025, 11, 4)),
    DateRange(date(2025, 12, 29), date(2026, 1, 11)),
    DateRange(date(2026, 3, 23), date(2026, 3, 31)),
)
ZONE_OFFSET = timedelta(hours=3)  # Moscow


def _at(day: date, hour: int) -> datetime:
    """``hour`` o'clock Moscow time on ``day``, as the server clock (UTC) reads it."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - ZONE_OFFSET


def school_days(count: int) -> Iterator[date]:
    """Up to ``count`` lesson days: in a period, not in the holidays, not on Sunday."""
    day = PERIODS[0].days.starts_on
    given = 0
    while given < count and day <= PERIODS[-1].days.ends_on:
        in_period = any(day in p.days for p in PERIODS)
        if in_period and day.weekday() != 6 and not any(day in h for h in HOLIDAYS):
            yield day
            given += 1
        day += timedelta(days=1)


class _School:
    """The generated school: its IDs, and the aggregates it writes day by day."""

    def __init__(self, ledger: Ledger, clock: ManualClock, *, classes: int) -> None:
        self.ledger = ledger
        self.clock = clock
        self.rng = random.Random(20250901)
        self.school_id = uuid.uuid4()
        self.log_id = school_log_id(self.school_id, YEAR)
        self.subjects = [uuid.uuid4() for _ in SUBJECTS]
        self.answer = WorkType(uuid.uuid4(), "Ответ на уроке", 1, written=False)
        self.test = WorkType(uuid.uuid4(), "Контрольная работа", 3, written=True)
        self.lessons = 0
        start = _at(date(2025, 8, 28), 10)
        clock.set(start)
        school = School.register(
            school_id=self.school_id, name="СОШ № 2", time_zone="Europe/Moscow", at=start
        )
        self.teachers = [
            Account.register(login=f"teacher{n}", person_id=uuid.uuid4(), at=start)
            for n in range(len(SUBJECTS))
        ]
        ledger.record(
            school, *self.teachers, log_id=SYSTEM_LOG, actor=SYSTEM_ACTOR, role=Role.SYSTEM
        )
        self.actors = [
            Actor(
                account_id=account.id,
                grants=frozenset({Grant(Role.TEACHER, self.school_id)}),
                credential_version=1,
                session_id=uuid.uuid4(),
            )
            for account in self.teachers
        ]
        year = self._year(start)
        self.classes = [self._class(n, start) for n in range(classes)]
        head = Actor(account_id=uuid.uuid4(), grants=frozenset({Grant(Role.HEAD, self.school_id)}))
        ledger.record(
            year, *(c for c, _ in self.classes), log_id=self.log_id, actor=head, role=Role.HEAD
        )

    def _year(self, at: datetime) -> SchoolYear:
        year = SchoolYear.open(
            school_id=self.school_id,
            year_start=YEAR,
            starts_on=date(2025, 9, 1),
            ends_on=date(2026, 8, 31),
            at=at,
        )
        year.define_periods("quarters", PERIODS, at=at)
        for n, days_off in enumerate(HOLIDAYS):
            year.declare_holiday(f"каникулы {n + 1}", days_off, at=at)
        for subject_id, name in zip(self.subjects, SUBJECTS, strict=True):
            year.add_subject(subject_id, name, at=at)
        for work_type in (self.answer, self.test):
            year.define_work_type(work_type, at=at)
        year.define_bell_schedule("основное", BELLS, at=at)
        return year

    def _class(self, n: int, at: datetime) -> tuple[SchoolClass, list[uuid.UUID]]:
        school_class = SchoolClass.open(
            school_id=self.school_id,
            year_start=YEAR,
            grade=5 + n % 7,
            letter="АБВГДЕЖИКЛ"[n // 7],
            period_scheme="quarters",
            bell_schedule="основное",
            at=at,
        )
        students = [uuid.uuid4() for _ in range(STUDENTS_PER_CLASS)]
        for student in students:
            school_class.enrol(student, date(2025, 9, 1), at=at)
        return school_class, students

    def day(self, day: date) -> None:
        """Every class's six lessons of ``day``, one save per class."""
        moment = _at(day, 15)
        self.clock.set(moment)
        for school_class, students in self.classes:
            written: list[Lesson | ParentMessage] = [
                self._lesson(school_class, students, day, slot, moment) for slot in BELLS
            ]
            if self.rng.random() < 0.1:
                written.append(
                    ParentMessage.send(
                        message_id=uuid.uuid4(),
                        school_id=self.school_id,
                        year_start=YEAR,
                        roster_id=school_class.id,
                        subject_id=self.subjects[0],
                        student_id=students[1],
                        author_id=self.teachers[0].person_id,
                        text="Прошу зайти в школу",
                        at=moment,
                    )
                )
            actor = self.actors[self.rng.randrange(len(self.actors))]
            self.ledger.record(*written, log_id=self.log_id, actor=actor, role=Role.TEACHER)

    def _lesson(
        self,
        school_class: SchoolClass,
        students: list[uuid.UUID],
        day: date,
        slot: BellSlot,
        at: datetime,
    ) -> Lesson:
        """A lesson with its register, answers, maybe a class work, a correction, a comment."""
        rng = self.rng
        subject = rng.randrange(len(SUBJECTS))
        lesson = Lesson.schedule(
            school_id=self.school_id,
            year_start=YEAR,
            roster_id=school_class.id,
            roster_kind="class",
            class_id=school_class.id,
            subject_id=self.subjects[subject],
            teacher_id=self.teachers[subject].person_id,
            on=day,
            slot=slot.number,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            topic=f"Тема {self.lessons}",
            plan_item=None,
            at=at,
        )
        self.lessons += 1
        lesson.record_attendance({s: "Н" for s in rng.sample(students, 2)}, at=at)
        marked = [(s, self.answer) for s in rng.sample(students, 4)]
        if self.lessons % 5 == 0:
            marked += [(s, self.test) for s in students]
        for student, work_type in marked:
            lesson.record_mark(
                mark_id=uuid.uuid4(),
                student_id=student,
                value=rng.randint(2, 5),
                work_type=work_type,
                checked_on=day if work_type.written else None,
                at=at,
            )
        if rng.random() < 0.05:
            mark = next(iter(lesson.marks))
            value = 5 if lesson.marks[mark].value != 5 else 4
            lesson.correct_mark(mark, value, "описка", at=at)
        if rng.random() < 0.02:
            lesson.cancel_mark(list(lesson.marks)[-1], "выставлена ошибочно", at=at)
        lesson.assign_homework(Homework(f"§ {self.lessons}", "", "№ 1–3", None), at=at)
        if rng.random() < 0.05:
            lesson.add_comment(uuid.uuid4(), students[0], "Молодец", at=at)
        return lesson

    def period_marks(self, period: Period, *, first: bool) -> None:
        """Everyone's marks for ``period`` in every subject, one save per class."""
        moment = _at(period.days.ends_on - timedelta(days=2), 15)
        self.clock.set(moment)
        for school_class, students in self.classes:
            records = []
            for student in students:
                for subject_id in self.subjects:
                    record_id = AttestationRecord.create_id(
                        self.school_id, YEAR, student, subject_id
                    )
                    record = (
                        AttestationRecord.open(
                            school_id=self.school_id,
                            year_start=YEAR,
                            student_id=student,
                            subject_id=subject_id,
                            at=moment,
                        )
                        if first
                        else self.ledger.get(record_id, AttestationRecord)
                    )
                    record.set_mark(
                        kind="period",
                        period=period.name,
                        value=str(self.rng.randint(3, 5)),
                        roster_id=school_class.id,
                        reason="",
                        at=moment,
                    )
                    records.append(record)
            self.ledger.record(
                *records, log_id=self.log_id, actor=self.actors[0], role=Role.TEACHER
            )


def generate(ledger: Ledger, clock: ManualClock, *, classes: int, days: int) -> int:
    """Record a school's year; returns how many events the ledger holds."""
    school = _School(ledger, clock, classes=classes)
    for day in school_days(days):
        school.day(day)
    for n, period in enumerate(PERIODS):
        school.period_marks(period, first=n == 0)
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT COUNT(*) FROM stored_events")
        return int(cursor.fetchone()[0])


def anchor(ledger: Ledger, page_size: int) -> int:
    """Read every event page by page with the projector's query and decode its payload."""
    sql = page_statement(ledger.database.dialect)
    position = count = 0
    loads = orjson.loads
    while True:
        with ledger.database.transaction(write=False) as cursor:
            cursor.execute(sql, (position, page_size))
            rows = cursor.fetchall()
        if not rows:
            return count
        for row in rows:
            loads(row[4])
        count += len(rows)
        position = rows[-1][0]


def timed(action: Callable[[], int]) -> tuple[int, float, float]:
    """(result, wall seconds, this process's CPU seconds) of ``action``."""
    wall, cpu = time.perf_counter(), time.process_time()
    count = action()
    return count, time.perf_counter() - wall, time.process_time() - cpu


def fresh_database(kind: str, pg_admin: str) -> tuple[str, Callable[[], None]]:
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="ejournal-rebuild-")
        return f"sqlite:///{folder}/ejournal.db", lambda: None
    name = f"ejournal_rebuild_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(pg_admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{pg_admin.rsplit('/', 1)[0]}/{name}", drop


HEADER = (
    f"{'database':<10} {'events':>9} {'anchor ev/s':>12} {'rebuild ev/s':>13} {'ratio':>6} "
    f"{'rebuild ev/CPU-s':>17}"
)


def bench(kind: str, args: argparse.Namespace) -> str:
    """Generate the school on ``kind`` and measure; returns the result line."""
    url, drop = fresh_database(kind, args.pg)
    clock = ManualClock(datetime(2025, 8, 28, tzinfo=UTC))
    ledger = Ledger(database_url=url, clock=clock)
    try:
        _, seconds, _ = timed(lambda: generate(ledger, clock, classes=args.classes, days=args.days))
        projector = Projector(ledger, page_size=args.page)
        events = projector.lag()
        print(f"{kind}: generated {events:,} events in {seconds:.0f} s", flush=True)
        best_anchor = best_rebuild = best_cpu = 0.0
        for _ in range(args.rounds):
            count, seconds, _ = timed(lambda: anchor(ledger, args.page))
            best_anchor = max(best_anchor, count / seconds)
            count, seconds, cpu = timed(projector.rebuild)
            best_rebuild, best_cpu = max(best_rebuild, count / seconds), max(best_cpu, count / cpu)
            print(f"  round: anchor {best_anchor:,.0f} ev/s, rebuild {count / seconds:,.0f} ev/s")
        return (
            f"{kind:<10} {events:>9,} {best_anchor:>12,.0f} {best_rebuild:>13,.0f} "
            f"{best_rebuild / best_anchor:>6.2f} {best_cpu:>17,.0f}"
        )
    finally:
        ledger.close()
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--classes", type=int, default=40)
    parser.add_argument("--days", type=int, default=170)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--page", type=int, default=5_000)
    parser.add_argument("--only", choices=("sqlite", "postgres"))
    parser.add_argument(
        "--pg",
        default=os.environ.get("EJOURNAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    lines = [bench(kind, args) for kind in ("sqlite", "postgres") if args.only in (None, kind)]
    print(HEADER, *lines, sep="\n")


if __name__ == "__main__":
    main()
