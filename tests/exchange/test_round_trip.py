"""The demo school exported and imported again into an empty database gives the same read
models: classes and their class teachers, rosters with their pupils, people's names, parents'
links, staff, teaching assignments, the КТП, the classes' timetables and the year's lessons they
plan (п. 2.2, 2.6). And the class journal and the summary sheet exported to XLSX and CSV read
back as the read models hold them (п. 2.9)."""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from uuid import UUID

import openpyxl
import pytest

from ejournal import commands as c
from ejournal.exchange.exports import journal_tables, setup_tables, summary_tables, vault_names
from ejournal.exchange.files import csv_bytes, xlsx_bytes
from ejournal.exchange.importer import Importer, Upload
from ejournal.exchange.setup import read_setup
from ejournal.generator import calendar as cal
from ejournal.generator.demo import DEMO_SEED, demo_plan, run_demo
from ejournal.generator.names import school_names
from ejournal.identity.tables import create_identity_tables
from ejournal.identity.vault import PersonalData, Vault
from ejournal.ledger.actor import SYSTEM_ACTOR, Actor, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain.values import PeriodScheme
from ejournal.projections import Projector, Queries
from ejournal.projections.lists import Lists
from ejournal.projections.timetable import TimetableReads
from tests.conftest import create_pg_database, drop_pg_database

YEAR = cal.YEAR


@pytest.fixture
def demo(ledger: Ledger, clock: ManualClock) -> tuple[UUID, Vault]:
    """The demo school with its people's names in the vault, projected."""
    run_demo(ledger, clock)
    create_identity_tables(ledger.database)
    vault = Vault(ledger.database, secrets.token_bytes(32))
    (spec,) = demo_plan().schools
    for person, name in school_names(spec, DEMO_SEED):
        vault.put(person, PersonalData(name), school_id=spec.school_id, now=clock())
    Projector(ledger).catch_up()
    return spec.school_id, vault


@pytest.fixture
def empty(database_url: str, tmp_path: Path, clock: ManualClock) -> Iterator[Ledger]:
    """A second, empty database on the same backend."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    if database_url.startswith("postgresql"):
        url = create_pg_database()
    other = Ledger(database_url=url, clock=clock)
    try:
        yield other
    finally:
        other.close()
        if url.startswith("postgresql"):
            drop_pg_database(url)


def open_year(ledger: Ledger) -> tuple[UUID, Actor]:
    """A new school with a deputy and the demo's year set up (periods, holidays, work types,
    bells): what the school's system administrator and deputy do before the first import."""
    school_id = c.handle(c.RegisterSchool(actor=SYSTEM_ACTOR, name="Школа"), ledger)
    account = c.handle(
        c.RegisterAccount(actor=SYSTEM_ACTOR, login="zavuch", person_id=UUID(int=7)), ledger
    )
    grant = c.GrantRole(
        actor=SYSTEM_ACTOR, account_id=account, role=Role.DEPUTY, school_id=school_id
    )
    c.handle(grant, ledger)
    deputy = c.actor_for(ledger, account)
    year = {"actor": deputy, "school_id": school_id, "year_start": YEAR}
    c.handle(c.OpenSchoolYear(**year), ledger)
    for scheme, periods in (
        (PeriodScheme.QUARTERS, cal.QUARTERS),
        (PeriodScheme.HALF_YEARS, cal.HALF_YEARS),
    ):
        c.handle(c.DefinePeriods(**year, scheme=scheme, periods=periods), ledger)
    for name, starts_on, ends_on in cal.HOLIDAYS:
        c.handle(c.DeclareHoliday(**year, name=name, starts_on=starts_on, ends_on=ends_on), ledger)
    for name, weight, written in cal.WORK_TYPES:
        c.handle(c.DefineWorkType(**year, name=name, weight=weight, written=written), ledger)
    c.handle(c.DefineBellSchedule(**year, slots=cal.BELLS), ledger)
    return school_id, deputy


def _teaching(ledger: Ledger, vault: Vault, school_id: UUID) -> set[tuple[str, ...]]:
    """Who teaches what, and leads which class, by names (IDs differ between databases)."""
    lists = Lists(ledger.database)
    teachers = lists.teachers(school_id, YEAR)
    names = vault.full_names([t.teacher_id for t in teachers])
    classes = {k.class_id: k.name for k in lists.classes(school_id, YEAR, None)}
    found = set()
    for teacher in teachers:
        name = names[teacher.teacher_id] or ""
        found |= {(name, t.roster_name, t.subject) for t in teacher.teaching}
        found |= {(name, "классный руководитель", classes[k]) for k in teacher.class_teacher_of}
    return found


def _groups(ledger: Ledger, school_id: UUID) -> set[tuple[str, str, int]]:
    lists = Lists(ledger.database)
    return {
        (k.name, g.name, len(lists.pupils(g.group_id, cal.FIRST_DAY)))
        for k in lists.classes(school_id, YEAR, None)
        for g in k.groups
    }


def _timetables(
    ledger: Ledger, vault: Vault, school_id: UUID
) -> dict[tuple[str, date], list[tuple[object, ...]]]:
    """Each class's timetable versions, by class name and date: the entries with names."""
    reads = TimetableReads(ledger.database)
    found: dict[tuple[str, date], list[tuple[object, ...]]] = {}
    for school_class in Lists(ledger.database).classes(school_id, YEAR, None):
        for on in reads.timetable(school_class.class_id, cal.FIRST_DAY).versions:
            version = reads.timetable(school_class.class_id, on)
            names = vault.full_names([e.teacher_id for e in version.entries])
            found[school_class.name, on] = [
                (
                    e.weekday,
                    e.slot,
                    e.starts_at,
                    e.roster_name,
                    e.subject,
                    names[e.teacher_id],
                    e.room,
                )
                for e in version.entries
            ]
    return found


def _planned_lessons(ledger: Ledger, vault: Vault, school_id: UUID) -> set[tuple[object, ...]]:
    """Every lesson of the year as the timetable planned it: a substitute's lesson by its own
    teacher, a cancelled one as it was planned (the administration's decisions of a day are not
    the set-up, and are not exported)."""
    reads = TimetableReads(ledger.database)
    found = set()
    for school_class in Lists(ledger.database).classes(school_id, YEAR, None):
        monday = date(YEAR, 9, 1) - timedelta(days=date(YEAR, 9, 1).weekday())
        while monday < date(YEAR + 1, 9, 1):
            for x in reads.class_week(school_class.class_id, monday).lessons:
                teacher = x.substitute_for or x.teacher_id
                found.add(
                    (
                        school_class.name,
                        x.on,
                        x.slot,
                        x.starts_at,
                        x.roster_name,
                        x.subject,
                        teacher,
                        x.room,
                    )
                )
            monday += timedelta(days=7)
    names = vault.full_names(list({lesson[6] for lesson in found}))
    return {(*x[:6], names[x[6]], x[7]) for x in found}


def test_the_demo_school_exported_and_imported_into_an_empty_database_reads_the_same(
    ledger: Ledger, demo: tuple[UUID, Vault], empty: Ledger
) -> None:
    school_id, vault = demo
    exported = xlsx_bytes(setup_tables(read_setup(ledger, vault, school_id, YEAR)))
    create_identity_tables(empty.database)
    other_vault = Vault(empty.database, secrets.token_bytes(32))
    projector = Projector(empty)
    other_school, deputy = open_year(empty)
    importer = Importer(empty, other_vault)
    report = importer.run(
        [Upload("демо.xlsx", exported)], actor=deputy, school_id=other_school, year_start=YEAR
    )
    assert report.problems == []
    assert report.written
    assert report.people == 10 + 50 + 88  # staff, pupils, parents
    projector.catch_up()
    again = setup_tables(read_setup(empty, other_vault, other_school, YEAR))
    for before, after in zip(
        setup_tables(read_setup(ledger, vault, school_id, YEAR)), again, strict=True
    ):
        assert (after.title, [list(r) for r in after.rows]) == (
            before.title,
            [list(r) for r in before.rows],
        )
    assert _teaching(empty, other_vault, other_school) == _teaching(ledger, vault, school_id)
    assert _groups(empty, other_school) == _groups(ledger, school_id)
    timetables = _timetables(ledger, vault, school_id)
    assert set(timetables) == {("5«А»", date(2025, 9, 8)), ("10«Б»", date(2025, 9, 8))}
    assert _timetables(empty, other_vault, other_school) == timetables
    planned = _planned_lessons(ledger, vault, school_id)
    assert len(planned) > 1000  # the year's lessons, 8 September to the end of May
    assert _planned_lessons(empty, other_vault, other_school) == planned
    # Imported again, the same file is recognised whole: nothing new.
    repeat = importer.run(
        [Upload("демо.xlsx", exported)], actor=deputy, school_id=other_school, year_start=YEAR
    )
    assert (repeat.problems, repeat.commands, repeat.people) == ([], 0, 0)
    assert all(s.applied == 0 for s in repeat.sheets)


def test_the_journal_and_the_summary_sheet_read_back_as_the_read_models_hold_them(
    ledger: Ledger, demo: tuple[UUID, Vault]
) -> None:
    school_id, vault = demo
    queries = Queries(ledger.database)
    fifth = next(k for k in Lists(ledger.database).classes(school_id, YEAR, 5))
    subject = next(
        s for s in Lists(ledger.database).subjects(school_id, YEAR) if s.name == "Математика"
    )
    page = queries.class_journal(fifth.class_id, subject.subject_id)
    names = vault.full_names(page.students)
    tables = journal_tables(page, vault_names(vault), title="5А Математика")
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(tables)))
    grid = list(workbook["5А Математика"].iter_rows(values_only=True))
    assert grid[0][:3] == ("№", "Обучающийся", "08.09.2025 (2 ур.)")
    assert len(grid) == 1 + len(page.students)
    by_name = {row[1]: row for row in grid[1:]}
    shown = 0
    for row in page.rows:
        line = by_name[names[row.student_id]]
        for cell, written in zip(row.cells, line[2:], strict=True):
            marks = [str(m.value) for m in cell.marks if not m.cancelled]
            expected = " ".join(p for p in [cell.attendance or "", *marks] if p)
            assert (written or "") == expected
            shown += bool(expected)
    assert shown > 0  # the demo's week has marks and absences (Н, Б, П, ОП)
    topics = list(workbook["Темы и домашние задания"].iter_rows(values_only=True))
    assert topics[1][2] == page.lessons[0].topic
    # CSV in Windows-1251 with «;», as Russian Excel opens it.
    text = csv_bytes(tables[0], encoding="cp1251").decode("cp1251")
    read = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert [r[2:] for r in read[1:]] == [[c or "" for c in r[2:]] for r in grid[1:]]
    sheet = queries.summary_sheet(fifth.class_id)
    summary = summary_tables(sheet, vault_names(vault))
    first = list(
        openpyxl.load_workbook(io.BytesIO(xlsx_bytes(summary)))
        .worksheets[0]
        .iter_rows(values_only=True)
    )
    assert first[0] == ("№", "Обучающийся", *(s.name for s in sheet.subjects))
    assert sorted(r[1] for r in first[1:]) == sorted(
        vault.full_names([r.student_id for r in sheet.rows]).values()
    )
