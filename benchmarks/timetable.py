"""Setting a class's school-year timetable: lessons a second, on SQLite and on PostgreSQL.

The demo school's year is set up through the generator (its classes, groups, teachers and their
assignments, no lessons), then each of its two classes gets its timetable through
``SetTimetable``, as the deputy's request or the import would send it (outside a unit of work):

- first version: from the first day of the year, every lesson of the year scheduled;
- change: a version from 1 December that moves every lesson to another room, so every lesson
  from that day on is re-planned;
- same again: that version set once more, every lesson checked and none written.

Beside them, in the same run and database, the anchor: ``Ledger.record`` of as many new lessons
(``Lesson.schedule``) in one save, with no checks: what writing the lessons costs at all. The
ratio (phase ÷ anchor) is what the timetable's checks and planning cost on top; each figure is the
best of ``--rounds`` (each round a fresh database).

    .venv/bin/python benchmarks/timetable.py [--rounds 3] [--pg postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ejournal import commands as c
from ejournal.generator import calendar as cal
from ejournal.generator.demo import PLANS
from ejournal.generator.run import SchoolRun
from ejournal.generator.spec import SchoolSpec, demo_school
from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import Lesson, SchoolClass
from ejournal.ledger.domain.values import RosterKind

CHANGE_FROM = date(2025, 12, 1)


@contextmanager
def fresh_database(kind: str, pg_admin: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="ejournal-bench-") as folder:
            yield f"sqlite:///{folder}/timetable.db"
        return
    name = f"ejournal_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield pg_admin.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(pg_admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def entries(run: SchoolRun, class_name: str, room: str = "") -> tuple[c.TimetableEntry, ...]:
    """The demo class's timetable as entries (every lesson in ``room``, if given)."""
    spec = run.spec
    school_class = next(k for k in spec.classes if k.name == class_name)
    return tuple(
        c.TimetableEntry(
            weekday,
            slot,
            roster.roster_id,
            spec.subjects[subject],
            next(s.person_id for s in spec.staff if s.login == roster.teacher),
            room or spec.room(class_name, subject, roster.group),
        )
        for weekday, day in enumerate(school_class.timetable, start=1)
        for slot, subject in enumerate(day, start=1)
        for roster in spec.rosters[class_name, subject]
    )


def class_id(spec: SchoolSpec, class_name: str) -> UUID:
    school_class = next(k for k in spec.classes if k.name == class_name)
    return SchoolClass.create_id(
        school_id=spec.school_id,
        year_start=cal.YEAR,
        grade=school_class.grade,
        letter=school_class.letter,
    )


def timed(action: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    count = action()
    return count, time.perf_counter() - started


def one_round(url: str) -> dict[str, float]:
    """Lessons a second of each phase and of the anchor, in a fresh database at ``url``."""
    clock = ManualClock(datetime(2025, 8, 20, tzinfo=UTC))
    ledger = Ledger(database_url=url, clock=clock)
    try:
        run = SchoolRun(ledger, clock, demo_school(2025, PLANS), 2025)
        run.set_up_accounts(datetime(2025, 8, 25, 6, 0, tzinfo=UTC))
        run.set_up_year()
        deputy = run.actors[run.spec.deputy]
        names = [k.name for k in run.spec.classes]

        def set_all(on: date, room: str = "") -> Callable[[], int]:
            def action() -> int:
                done = 0
                for name in names:
                    change = c.handle(
                        c.SetTimetable(
                            actor=deputy,
                            class_id=class_id(run.spec, name),
                            effective_from=on,
                            entries=entries(run, name, room),
                        ),
                        ledger,
                    )
                    done += change.scheduled + change.replanned + change.cancelled
                return done

            return action

        rates = {}
        changed = 0
        for phase, action in (
            ("first version", set_all(cal.FIRST_DAY)),
            ("change", set_all(CHANGE_FROM, room="40")),
            ("same again", set_all(CHANGE_FROM, room="40")),
        ):
            count, seconds = timed(action)
            # The same version again writes no lesson; it checks those the change re-planned.
            count = count or changed
            changed = count
            rates[phase] = count / seconds
        scheduled = _scheduled(ledger)
        count, seconds = timed(lambda: _anchor(ledger, run, scheduled))
        rates["anchor"] = count / seconds
        rates["lessons"] = scheduled
        return rates
    finally:
        ledger.close()


def _scheduled(ledger: Ledger) -> int:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM stored_events WHERE topic LIKE ?", ("%:Lesson.Scheduled",)
        )
        return int(cursor.fetchone()[0])


def _anchor(ledger: Ledger, run: SchoolRun, count: int) -> int:
    """``count`` new lessons in one ``Ledger.record``, no checks."""
    spec, at = run.spec, run.clock()
    roster = uuid.uuid4()
    lessons = [
        Lesson.schedule(
            school_id=spec.school_id,
            year_start=cal.YEAR,
            roster_id=roster,
            roster_kind=RosterKind.CLASS.value,
            class_id=roster,
            subject_id=next(iter(spec.subjects.values())),
            teacher_id=uuid.uuid4(),
            on=date(2025, 9, 1),
            slot=n,
            starts_at=cal.BELLS[0].starts_at,
            ends_at=cal.BELLS[0].ends_at,
            topic="",
            plan_item=None,
            room="12",
            at=at,
        )
        for n in range(count)
    ]
    ledger.record(*lessons, log_id="anchor", actor=run.actors[spec.deputy], role=Role.DEPUTY)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="fresh databases per backend")
    parser.add_argument(
        "--pg",
        default=os.environ.get("EJOURNAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    phases = ("first version", "change", "same again")
    print(f"{'database':<10} {'phase':<14} {'lessons/s':>10} {'anchor/s':>10} {'ratio':>6}")
    for kind in ("sqlite", "postgres"):
        best: dict[str, float] = {}
        for _ in range(args.rounds):
            with fresh_database(kind, args.pg) as url:
                rates = one_round(url)
            best = {k: max(v, best.get(k, 0.0)) for k, v in rates.items()}
        for phase in phases:
            print(
                f"{kind:<10} {phase:<14} {best[phase]:>10,.0f} {best['anchor']:>10,.0f} "
                f"{best[phase] / best['anchor']:>6.2f}",
                flush=True,
            )
    print(f"(the demo's two classes: {best['lessons']:,.0f} lessons of the year)")


if __name__ == "__main__":
    main()
