"""What the school takes out, as tables to write to XLSX or CSV (``files``):

- ``setup_tables``: the school year's set-up in exactly the import's format, one table per sheet
  kind: exported and imported into another database, it gives the same classes, rosters, people,
  links, assignments, timetables (so the same lessons planned) and КТП.
- ``journal_tables``: a class journal page of a roster's subject (п. 2.3–2.7): pupils × lessons
  with the attendance codes (Н, Б, П, ОП) and marks as the journal shows them, then the lessons'
  topics and homework; the same read model the journal page serves.
- ``summary_tables``: the summary sheet (п. 2.9): pupils × subjects, a table per period, year,
  exam and final marks (1–5, ОСВ, Н/А, зачёт); the same read model the summary sheet serves.

Names are the full names the vault holds (a printout's); dates ДД.ММ.ГГГГ.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from uuid import UUID

from ejournal.exchange.cells import name_key
from ejournal.exchange.files import Cell, Table
from ejournal.exchange.setup import SchoolSetup
from ejournal.exchange.sheets import KINDS
from ejournal.identity.names import NOT_ENTERED
from ejournal.identity.vault import Vault
from ejournal.projections.views import AttestationMark, ClassJournal, SummaryCell, SummarySheet

FullNames = Callable[[Sequence[UUID]], dict[UUID, str]]
"""People's full names for a table, from the vault."""


def vault_names(vault: Vault | None) -> FullNames:
    """Full names from ``vault`` («данные удалены» for a forgotten person, «имя не внесено» for
    one never entered, or when there is no vault)."""

    def names(people: Sequence[UUID]) -> dict[UUID, str]:
        found = {} if vault is None else vault.full_names(people)
        return {p: (found[p] or "данные удалены") if p in found else NOT_ENTERED for p in people}

    return names


def setup_tables(setup: SchoolSetup) -> list[Table]:
    """The set-up of a school's year (``setup.read_setup``), a table per sheet kind, in the
    import's order."""
    return [
        Table(kind.title, kind.header, kind.rows(setup), kind.widths)
        for kind in KINDS
        if kind.rows is not None
    ]


def _ru(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _ordered(people: Sequence[UUID], names: dict[UUID, str]) -> list[UUID]:
    """As a class list: by name."""
    return sorted(people, key=lambda p: (name_key(names[p]), p.hex))


def journal_tables(page: ClassJournal, names: FullNames, *, title: str) -> list[Table]:
    """The journal page as two tables: «Посещаемость и отметки» and «Темы и домашние задания».
    A cell holds the attendance code and the current marks («ОП 4», «Н», «5 4»); cancelled
    marks are left out, as the page shows them."""
    shown = names(page.students)
    lessons = page.lessons
    header = ["№", "Обучающийся", *(f"{_ru(x.on)} ({x.slot} ур.)" for x in lessons)]
    rows: list[list[Cell]] = []
    by_student = {row.student_id: row for row in page.rows}
    for number, student in enumerate(_ordered(page.students, shown), start=1):
        cells: list[Cell] = [number, shown[student]]
        for cell in by_student[student].cells:
            parts = [cell.attendance or ""]
            parts += [str(mark.value) for mark in cell.marks if not mark.cancelled]
            cells.append(" ".join(p for p in parts if p))
        rows.append(cells)
    topics: list[list[Cell]] = []
    for lesson in lessons:
        homework = lesson.homework
        task = ""
        if homework is not None:
            task = " ".join(
                p
                for p in (
                    homework.text,
                    homework.pages and f"стр. {homework.pages}",
                    homework.tasks and f"№ {homework.tasks}",
                )
                if p
            )
        topics.append([lesson.on, lesson.slot, lesson.topic, task])
    return [
        Table(title, header, rows, (5, 32, *(12 for _ in lessons))),
        Table(
            "Темы и домашние задания",
            ["Дата", "Урок", "Тема урока", "Домашнее задание"],
            topics,
            (12, 6, 60, 50),
        ),
    ]


def _value(mark: AttestationMark | None) -> str:
    return "" if mark is None else mark.value


def _period(index: int) -> Callable[[SummaryCell], AttestationMark | None]:
    return lambda cell: cell.periods[index]


def summary_tables(sheet: SummarySheet, names: FullNames) -> list[Table]:
    """The summary sheet, a table per period, then the year's, exam and final marks where any
    are set: rows the pupils (by name), columns the subjects. The first period's table is there
    even when empty, so that an empty sheet still has its pupils."""
    shown = names([row.student_id for row in sheet.rows])
    by_student = {row.student_id: row for row in sheet.rows}
    order = _ordered(list(by_student), shown)
    header = ["№", "Обучающийся", *(s.name for s in sheet.subjects)]
    widths = (5, 32, *(10 for _ in sheet.subjects))
    columns: list[tuple[str, Callable[[SummaryCell], AttestationMark | None]]] = [
        (period.name, _period(index)) for index, period in enumerate(sheet.periods)
    ]
    columns += [
        ("Годовые", lambda cell: cell.year),
        ("Экзаменационные", lambda cell: cell.exam),
        ("Итоговые", lambda cell: cell.final),
    ]
    tables: list[Table] = []
    for caption, mark in columns:
        rows: list[list[Cell]] = [
            [number, shown[student], *(_value(mark(c)) for c in by_student[student].cells)]
            for number, student in enumerate(order, start=1)
        ]
        if not tables or any(cell for row in rows for cell in row[2:]):
            tables.append(Table(caption, header, rows, widths))
    return tables


def side_by_side(tables: Sequence[Table], title: str) -> Table:
    """Tables of the same rows (their first two columns: № and the pupil) as one, each further
    column headed «table: column»: a summary sheet in one CSV file."""
    first = tables[0]
    header = [*first.header[:2]]
    rows: list[list[Cell]] = [list(row[:2]) for row in first.rows]
    for table in tables:
        header += [f"{h} ({table.title})" for h in table.header[2:]]
        for row, extra in zip(rows, table.rows, strict=True):
            row += list(extra[2:])
    return Table(title, header, rows)
