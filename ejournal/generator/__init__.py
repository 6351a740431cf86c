"""A deterministic, resumable generator of school years, written through the commands.

``generate`` writes a district of schools (``spec.district_school``) or any given schools — the
demo is one hand-written school (``spec.demo_school``) over one week. Every command goes through
``commands.handle`` with all its checks; the commands of each school week are saved together in
one unit of work (``Ledger.unit_of_work``). See ``run`` for how a stopped run resumes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta

from ejournal.generator import calendar as cal
from ejournal.generator.run import Counts, SchoolRun, count_events, moment
from ejournal.generator.spec import SchoolSpec, demo_school, district_school
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.placement import Region
from ejournal.ledger.recorders import EVENTS_TABLE

Progress = Callable[[str, Counts], None]
"""Called after each unit with what it was ("school 3, week of 2025-09-08") and the totals."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Plan:
    """What to generate: the schools, the days of lessons, and whether June's exams follow."""

    schools: Sequence[SchoolSpec]
    seed: int
    first_day: date = cal.FIRST_DAY
    last_day: date = cal.LAST_LESSON_DAY
    exams: bool = True
    timetable: bool = False
    """Lessons come from each class's timetable, set with the year (the demo); otherwise each
    teacher holds each lesson, which a district writes faster (no topic event per lesson)."""

    def units(self) -> int:
        """How many units of work a run from scratch writes (for a progress bar)."""
        weeks = len(list(cal.weeks(self.first_day, self.last_day)))
        exams = sum(1 for s in self.schools if self.exams and _has_exams(s))
        return len(self.schools) * (2 + weeks) + exams


def _has_exams(spec: SchoolSpec) -> bool:
    from ejournal.generator.curriculum import EXAM_SUBJECTS

    return any(k.grade in EXAM_SUBJECTS for k in spec.classes)


def district_plan(
    *, schools: int, seed: int, weeks: int | None = None, parallels: int | None = None
) -> Plan:
    """A district of ``schools`` schools; ``weeks`` limits the year to its first weeks (and then
    leaves out the June exams); ``parallels`` fixes the classes per grade of every school.
    Raises ``ValueError`` unless each count given is at least 1."""
    for name, count in (("schools", schools), ("weeks", weeks), ("parallels", parallels)):
        if count is not None and count < 1:
            raise ValueError(f"{name} must be at least 1, not {count}")
    specs = [district_school(seed, n, parallels=parallels) for n in range(1, schools + 1)]
    if weeks is None:
        return Plan(schools=specs, seed=seed)
    all_weeks = list(cal.weeks())
    last = all_weeks[min(weeks, len(all_weeks)) - 1][-1]
    return Plan(schools=specs, seed=seed, last_day=last, exams=False)


def generate(
    ledger: Ledger,
    clock: ManualClock,
    plan: Plan,
    *,
    progress: Progress | None = None,
    region: Region | None = None,
) -> tuple[list[SchoolRun], Counts]:
    """Write ``plan`` into the ledger, continuing from what is already there.

    In a ``region`` (``ledger`` is its directory's), each school is placed on a server in turn,
    the directory first, unless it is placed already (``server_for``), and its year log is
    written there.

    The schools' accounts first (the system log, in order), then each school's year setup, then
    week by week every school's week, then June. Returns each school's run and the totals of this
    call (units already in the ledger are counted as skipped). Raises ``CommandError`` if a
    command is refused (a bug of the generator), and what ``Ledger.unit_of_work`` raises.
    ``generate_in_processes`` writes the same ledger with the schools shared among processes.
    """
    runs = school_runs(ledger, clock, plan, region)
    total = Counts()
    done = tally(total, progress)
    write_accounts(runs, done)
    place_schools(runs, region)
    write_years(runs, plan, done)
    return runs, total


Done = Callable[[str, SchoolRun], None]
"""Called after each unit of a school's run with what it was; takes the run's ``counts``."""


def tally(total: Counts, progress: Progress | None) -> Done:
    """A ``Done`` that adds each unit's counts to ``total`` and tells ``progress``."""

    def done(what: str, run: SchoolRun) -> None:
        total.add(run.counts)
        run.counts = Counts()
        if progress is not None:
            progress(what, total)

    return done


def server_for(region: Region, spec: SchoolSpec) -> str:
    """The server of ``spec``'s school: where it is placed, or else the next in turn."""
    placed = region.placement.all().get(spec.school_id)
    return placed or region.names[(spec.number - 1) % len(region.names)]


def school_runs(
    ledger: Ledger, clock: ManualClock, plan: Plan, region: Region | None = None
) -> list[SchoolRun]:
    """A run of each school of ``plan``, nothing written yet, on its server's ledger."""
    return [
        SchoolRun(
            ledger if region is None else region.ledger(server_for(region, spec)),
            clock,
            spec,
            plan.seed,
            first_day=plan.first_day,
            last_day=plan.last_day,
            exams=plan.exams,
            timetable=plan.timetable,
        )
        for spec in plan.schools
    ]


def write_accounts(runs: Sequence[SchoolRun], done: Done) -> None:
    """Each school's accounts in the system log, school by school, unless already there."""
    for run in runs:
        if run.accounts_done():
            run.load_actors()
            run.counts.skipped_units += 1
        else:
            run.set_up_accounts(
                moment(cal.SETUP_DAY, time(9, 0)) + timedelta(minutes=5 * run.spec.number)
            )
        done(f"{run.spec.name}: accounts", run)


def place_schools(runs: Sequence[SchoolRun], region: Region | None) -> None:
    """Place each school on its run's server, once its registration is in the system log."""
    if region is None:
        return
    for run in runs:
        region.place(run.spec.school_id, server_for(region, run.spec))


def write_years(runs: Sequence[SchoolRun], plan: Plan, done: Done) -> None:
    """After their accounts, the schools' year logs: each setup, then week by week every
    school's week, then June; the units already there are skipped."""
    ledgers = list({id(run.ledger): run.ledger for run in runs}.values())
    last = {}
    for run in runs:
        last[run.spec.number] = run.last_recorded()
        if last[run.spec.number] is None:
            run.set_up_year()
        else:
            run.counts.skipped_units += 1
        done(f"{run.spec.name}: year set up", run)
    refresh_statistics(*ledgers)
    for days in cal.weeks(plan.first_day, plan.last_day):
        week_start = moment(days[0], time(0, 0))
        for run in runs:
            recorded = last[run.spec.number]
            if recorded is not None and recorded >= week_start:
                run.skip_week(days)
            else:
                run.keep_week(days)
            done(f"{run.spec.name}: week of {days[0]:%d.%m.%Y}", run)
        refresh_statistics(*ledgers)
    if plan.exams:
        for run in runs:
            if not run.has_exams():
                continue
            recorded = last[run.spec.number]
            if recorded is not None and recorded >= moment(cal.EXAM_DAY, time(0, 0)):
                run.counts.skipped_units += 1
            else:
                run.keep_exams()
            done(f"{run.spec.name}: exams and final marks", run)


def refresh_statistics(*ledgers: Ledger) -> None:
    """Refresh PostgreSQL's statistics of the events table, as any bulk load does.

    The generator writes faster than autovacuum analyses: without statistics the planner chose a
    parallel scan of the whole events table for every prefetch (``Ledger.prefetch``), seconds
    each at 2 M events, and the run slowed tenfold. ANALYZE samples a fixed number of rows, so
    this costs well under a second a week.
    """
    for ledger in ledgers:
        if ledger.database.dialect == "postgres":
            with ledger.database.transaction(write=True) as cursor:
                cursor.execute(f"ANALYZE {EVENTS_TABLE}")


__all__ = [
    "Counts",
    "Plan",
    "Progress",
    "SchoolRun",
    "SchoolSpec",
    "count_events",
    "demo_school",
    "district_plan",
    "district_school",
    "generate",
]
