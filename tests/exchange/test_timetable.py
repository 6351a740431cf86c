"""The «Расписание» sheet (п. 2.2): a class's rows of one date set a version of its timetable,
which plans the class's lessons of the year; every bad row is named by row, column and reason,
a refusal of the timetable's own rules names the row of the lesson it concerns, and nothing is
written; the same sheet imported again changes nothing."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import pytest

from ejournal import commands as c
from ejournal.exchange.exports import setup_tables
from ejournal.exchange.importer import Importer
from ejournal.exchange.report import Problem
from ejournal.exchange.setup import read_setup
from ejournal.identity.vault import PersonalData, Vault
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import SchoolClass
from ejournal.projections.lists import Lists
from ejournal.projections.timetable import TimetableReads
from tests.commands.school import YEAR, TestSchool, count_events
from tests.commands.timetables import school_days, set_timetable, week
from tests.exchange.support import CLASSES, PUPILS, csv_file, project, run, vault_rows, xlsx_file

HEADER = ["Класс", "День недели", "№ урока", "Предмет", "Группа", "Учитель", "Кабинет"]
MATHS, RUSSIAN, ENGLISH = "Математика", "Русский язык", "Английский язык"
VINOGRADOVA = "Виноградова Мария Ивановна"
FEDOROVA = "Фёдорова Аминат Егоровна"
MEDVEDEVA = "Медведева Алина Кирилловна"
TEACHERS = {"maths": VINOGRADOVA, "russian": FEDOROVA, "english": MEDVEDEVA}
"""The test school's teachers, by the names its staff list gives them."""

FIFTH = [
    HEADER,
    ["5А", "понедельник", 1, MATHS, "", VINOGRADOVA, "12"],
    ["5А", "понедельник", 2, RUSSIAN, "", FEDOROVA, "14"],
    ["5А", "Пн", 3, ENGLISH, "Группа 1", MEDVEDEVA, "21"],
    ["5А", "вт", 1, RUSSIAN, "", FEDOROVA, "14"],
    ["5А", 2, 2, MATHS, "", VINOGRADOVA, "12"],
    ["5А", "Среда", 1, MATHS, "", VINOGRADOVA, "каб. 12"],
]
"""5«А»'s week as its deputy writes it: days by name, abbreviated or by number."""


@pytest.fixture
def named(school: TestSchool, vault: Vault) -> TestSchool:
    """The test school with its teachers' names (and one pupil's) in the personal-data vault, as
    its staff list put them there."""
    people = {school.person[login]: name for login, name in TEACHERS.items()}
    people[school.students[5]] = "Сидоров Иван Петрович"
    for person, name in people.items():
        vault.put(person, PersonalData(name), school_id=school.school_id, now=school.ledger.clock())
    return school


def _lessons(ledger: Ledger, class_id: UUID, day: date) -> set[tuple[object, ...]]:
    """The lessons of the week of ``day``: (day, lesson, roster, subject, teacher, room)."""
    project(ledger)
    found = TimetableReads(ledger.database).class_week(class_id, day).lessons
    return {(x.on, x.slot, x.roster_name, x.subject, x.teacher_id, x.room) for x in found}


def _year_lessons(ledger: Ledger, class_id: UUID) -> int:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT COUNT(*) FROM rm_lesson WHERE class_id = ?", (class_id.hex,))
        return int(cursor.fetchone()[0])


def _class_id(school: TestSchool, name: str) -> UUID:
    return SchoolClass.create_id(
        school_id=school.school_id, year_start=YEAR, grade=int(name[:-1]), letter=name[-1]
    )


def test_a_timetable_in_windows_1251_plans_the_class_s_year(
    ledger: Ledger, named: TestSchool, importer: Importer
) -> None:
    # п. 2.2: the deputy's timetable, saved by Excel as CSV, known by its headers alone.
    school = named
    content = csv_file(FIFTH, encoding="cp1251", delimiter=";")
    report = run(importer, school, ("расписание 5А на I четверть.csv", content))
    assert report.problems == []
    assert report.written
    assert [(s.kind, s.rows, s.applied) for s in report.sheets] == [("timetable", 6, 6)]
    assert report.commands == 1  # one version of 5«А»'s timetable
    maths, russian, english = (school.person[p] for p in ("maths", "russian", "english"))
    # No «Действует с»: from the year's first day, Monday 1 September.
    assert _lessons(ledger, school.class_id, date(2025, 9, 1)) == {
        (date(2025, 9, 1), 1, "5«А»", MATHS, maths, "12"),
        (date(2025, 9, 1), 2, "5«А»", RUSSIAN, russian, "14"),
        (date(2025, 9, 1), 3, "Группа 1", ENGLISH, english, "21"),
        (date(2025, 9, 2), 1, "5«А»", RUSSIAN, russian, "14"),
        (date(2025, 9, 2), 2, "5«А»", MATHS, maths, "12"),
        (date(2025, 9, 3), 1, "5«А»", MATHS, maths, "каб. 12"),
    }
    per_weekday = {1: 3, 2: 2, 3: 1}
    expected = sum(per_weekday.get(d.isoweekday(), 0) for d in school_days(date(2025, 9, 1)))
    assert _year_lessons(ledger, school.class_id) == expected


def test_a_new_class_s_workbook_opens_it_and_sets_its_timetable_from_a_date(
    ledger: Ledger, vault: Vault, school: TestSchool, importer: Importer
) -> None:
    # The staff, the class, its pupils and groups, the assignments and the timetable in one
    # workbook: the timetable applies after what it needs, whatever the worksheets' order.
    staff = [["ФИО", "E-mail"], ["Петрова Анна Ивановна", ""], ["Соколов Игорь Павлович", ""]]
    assignments = [
        ["Учитель", "Класс", "Предмет", "Группа"],
        ["Петрова Анна Ивановна", "6Б", MATHS, ""],
        ["Соколов Игорь Павлович", "6Б", ENGLISH, "Группа 1"],
        ["Петрова Анна Ивановна", "6Б", ENGLISH, "Группа 2"],
    ]
    from_8th = datetime(2025, 9, 8)  # an Excel date cell
    timetable = [
        [*HEADER, "Действует с"],
        ["6Б", "понедельник", 1, MATHS, "", "Петрова Анна Ивановна", "12", from_8th],
        ["6Б", "понедельник", 2, ENGLISH, "Группа 1", "Соколов Игорь Павлович", "21", from_8th],
        ["6Б", "понедельник", 2, ENGLISH, "Группа 2", "Петрова Анна Ивановна", "22", from_8th],
        ["6Б", 6, 3, MATHS, "", "Петрова Анна Ивановна", "", "08.09.2025"],
    ]
    content = xlsx_file(
        {
            "Расписание": timetable,
            "Нагрузка": assignments,
            "Ученики": PUPILS,
            "Классы": CLASSES,
            "Сотрудники": staff,
        }
    )
    report = run(importer, school, ("6Б.xlsx", content))
    assert report.problems == []
    assert report.written
    class_id = _class_id(school, "6Б")
    names = {name: person for person, name in vault.full_names(_staff(ledger, school)).items()}
    petrova, sokolov = names["Петрова Анна Ивановна"], names["Соколов Игорь Павлович"]
    assert _lessons(ledger, class_id, date(2025, 9, 1)) == set()
    assert _lessons(ledger, class_id, date(2025, 9, 8)) == {
        (date(2025, 9, 8), 1, "6«Б»", MATHS, petrova, "12"),
        (date(2025, 9, 8), 2, "Группа 1", ENGLISH, sokolov, "21"),
        (date(2025, 9, 8), 2, "Группа 2", ENGLISH, petrova, "22"),
        (date(2025, 9, 13), 3, "6«Б»", MATHS, petrova, ""),
    }


def _staff(ledger: Ledger, school: TestSchool) -> list[UUID]:
    project(ledger)
    return [t.teacher_id for t in Lists(ledger.database).teachers(school.school_id, YEAR)]


def test_every_bad_row_is_named_and_nothing_is_written(
    ledger: Ledger, named: TestSchool, importer: Importer
) -> None:
    school = named
    second = c.handle(
        c.FormGroup(
            actor=school.head,
            class_id=school.class_id,
            subject_id=school.subjects[ENGLISH],
            name="Группа 2",
        ),
        ledger,
    )
    c.handle(
        c.AssignTeacher(
            actor=school.head,
            roster_id=second,
            subject_id=school.subjects[ENGLISH],
            teacher_id=school.person["english"],
            on=date(2025, 9, 1),
        ),
        ledger,
    )
    rows = [
        [*HEADER, "Действует с"],
        ["5А", "понедельник", 1, MATHS, "", VINOGRADOVA, "12", ""],
        ["5А", "понедельник", 7, RUSSIAN, "", FEDOROVA, "14", ""],
        ["5А", "понедельник", 2, RUSSIAN, "", "Петров Пётр Петрович", "14", ""],
        ["5А", "воскресенье", 1, MATHS, "", VINOGRADOVA, "12", ""],
        ["5А", "пнд", 2, MATHS, "", VINOGRADOVA, "12", ""],
        ["5А", "вторник", "первый", MATHS, "", VINOGRADOVA, "12", ""],
        ["5А", "вторник", 2, ENGLISH, "Группа 3", MEDVEDEVA, "21", ""],
        ["5А", "понедельник", 1, RUSSIAN, "", FEDOROVA, "14", ""],
        ["5А", "среда", 1, RUSSIAN, "", VINOGRADOVA, "14", ""],
        ["6В", "среда", 1, MATHS, "", VINOGRADOVA, "12", ""],
        ["5А", "четверг", 1, "Физика", "", VINOGRADOVA, "31", ""],
        ["5А", "пятница", 1, MATHS, "", VINOGRADOVA, "12", "31.09.2025"],
        ["5А", "пятница", 3, ENGLISH, "Группа 1", MEDVEDEVA, "21", ""],
        ["5А", "пятница", 3, ENGLISH, "Группа 2", MEDVEDEVA, "22", ""],
        ["5А", "суббота", 1, MATHS, "", "", "12", ""],
    ]
    events, people = count_events(ledger), vault_rows(ledger)
    report = run(importer, school, ("расписание.csv", csv_file(rows)))
    assert not report.written
    sheet = "расписание"
    assert report.sorted_problems() == [
        Problem(sheet, 3, "№ урока", "в расписании звонков класса нет урока № 7"),
        Problem(
            sheet,
            4,
            "Учитель",
            "сотрудника «Петров Пётр Петрович» нет: добавьте его на лист «Сотрудники»",
        ),
        Problem(sheet, 5, "День недели", "в воскресенье уроков нет"),
        Problem(
            sheet,
            6,
            "День недели",
            "день недели — от понедельника до субботы (пн … сб или 1 … 6), а не «пнд»",
        ),
        Problem(sheet, 7, "№ урока", "ожидается целое число, а не «первый»"),
        Problem(
            sheet,
            8,
            "Группа",
            "в классе 5А нет группы «Группа 3» по этому предмету: укажите её в столбце "
            "«Группы» листа «Ученики»",
        ),
        Problem(sheet, 9, "№ урока", "в это время у класса уже урок в строке 2"),
        Problem(
            sheet,
            10,
            "Учитель",
            f"{VINOGRADOVA} не ведёт «Русский язык» в 5А на 01.09.2025: добавьте это на лист "
            "«Нагрузка»",
        ),
        Problem(sheet, 11, "Класс", "класс 6В не открыт: добавьте его на лист «Классы»"),
        Problem(
            sheet,
            12,
            "Предмет",
            "предмета «Физика» нет в учебном году: добавьте его на лист «Предметы»",
        ),
        Problem(sheet, 13, "Действует с", "нет такой даты: «31.09.2025»"),
        Problem(sheet, 15, "Учитель", "учитель в это время ведёт урок в строке 14"),
        Problem(sheet, 16, "Учитель", "не заполнено"),
    ]
    assert (count_events(ledger), vault_rows(ledger)) == (events, people)
    assert _year_lessons(ledger, school.class_id) == 0


def test_a_teacher_in_two_classes_at_once_is_refused_on_the_lesson_s_row(
    ledger: Ledger, named: TestSchool, importer: Importer
) -> None:
    # п. 2.2: the command's own rule, named by the lesson («понедельник, 1-й урок: …»): another
    # class's timetable has the teacher at that time, the school's (5«А») or one set by the
    # same import (6«Б» before 6«В»).
    school = named
    set_timetable(school, week(school))
    classes = [["Класс"], ["6Б"], ["6В"]]
    assignments = [
        ["Учитель", "Класс", "Предмет"],
        *([FEDOROVA, k, RUSSIAN] for k in ("6Б", "6В")),
        [VINOGRADOVA, "6В", MATHS],
    ]
    timetable = [
        HEADER,
        ["6Б", "понедельник", 3, RUSSIAN, "", FEDOROVA, "14"],
        ["6В", "понедельник", 1, MATHS, "", VINOGRADOVA, "12"],
        ["6В", "понедельник", 2, MATHS, "", VINOGRADOVA, "12"],
        ["6В", "понедельник", 3, RUSSIAN, "", FEDOROVA, "14"],
    ]
    events = count_events(ledger)
    workbook = {"Классы": classes, "Нагрузка": assignments, "Расписание": timetable}
    report = run(importer, school, ("школа.xlsx", xlsx_file(workbook)))
    assert not report.written
    # The first refusal of 6«В»'s version is reported; the version is one command.
    assert report.problems == [
        Problem(
            "Расписание",
            3,
            "Учитель",
            "понедельник, 1-й урок: учитель в это время ведёт урок в классе 5«А»",
        )
    ]
    timetable[2:4] = []
    report = run(importer, school, ("школа.xlsx", xlsx_file(workbook)))
    assert report.problems == [
        Problem(
            "Расписание",
            3,
            "Учитель",
            "понедельник, 3-й урок: учитель в это время ведёт урок в классе 6«Б»",
        )
    ]
    assert count_events(ledger) == events


def test_a_refusal_at_a_time_of_two_groups_names_both_rows(
    ledger: Ledger, named: TestSchool, importer: Importer
) -> None:
    # The refusal names the lesson by day and number, which both groups' lessons share.
    school = named
    set_timetable(school, week(school))  # 5«А»'s English group with Медведева, Monday's 3rd
    assignments = [
        ["Учитель", "Класс", "Предмет", "Группа"],
        [MEDVEDEVA, "6Б", ENGLISH, "Группа 1"],
        [FEDOROVA, "6Б", ENGLISH, "Группа 2"],
    ]
    timetable = [
        HEADER,
        ["6Б", "понедельник", 3, ENGLISH, "Группа 1", MEDVEDEVA, "21"],
        ["6Б", "понедельник", 3, ENGLISH, "Группа 2", FEDOROVA, "22"],
    ]
    workbook = {
        "Классы": CLASSES,
        "Ученики": PUPILS,
        "Нагрузка": assignments,
        "Расписание": timetable,
    }
    report = run(importer, school, ("школа.xlsx", xlsx_file(workbook)))
    reason = "понедельник, 3-й урок: учитель в это время ведёт урок в классе 5«А»"
    assert report.problems == [
        Problem("Расписание", 2, "Учитель", reason),
        Problem("Расписание", 3, "Учитель", reason),
    ]
    assert not report.written


def test_a_refusal_of_the_whole_version_names_its_first_row(
    ledger: Ledger, named: TestSchool, importer: Importer
) -> None:
    school = named
    rows = [[*row, "Действует с"] for row in FIFTH[:1]]
    rows += [[*row, "01.08.2025"] for row in FIFTH[1:3]]
    report = run(importer, school, ("расписание.csv", csv_file(rows)))
    assert report.problems == [
        Problem("расписание", 2, "Действует с", "Расписание с 01.08.2025: дата вне учебного года")
    ]
    # A version from a date before the class's latest one is refused (п. 2.2).
    set_timetable(school, week(school), on=date(2025, 10, 1))
    rows[1:] = [[*row, "08.09.2025"] for row in FIFTH[1:3]]
    report = run(importer, school, ("расписание.csv", csv_file(rows)))
    assert report.problems == [
        Problem(
            "расписание",
            2,
            "Действует с",
            "Расписание с 08.09.2025 не может действовать раньше последней редакции "
            "(с 01.10.2025): изменение вводится с её даты или позже",
        )
    ]
    assert not report.written


def test_the_same_timetable_imported_again_changes_nothing(
    ledger: Ledger, named: TestSchool, importer: Importer
) -> None:
    school = named
    files = ("расписание.csv", csv_file(FIFTH))
    assert run(importer, school, files).written
    project(ledger)
    events = count_events(ledger)
    before = _lessons(ledger, school.class_id, date(2025, 9, 8))
    again = run(importer, school, files)
    assert again.problems == []
    assert [(s.applied, s.present) for s in again.sheets] == [(0, 6)]
    assert again.commands == 0
    assert count_events(ledger) == events
    # A room changed: the version is set again and its lessons re-planned, from the same date.
    changed = [*FIFTH[:-1], [*FIFTH[-1][:-1], "15"]]
    report = run(importer, school, ("расписание.csv", csv_file(changed)))
    assert [(s.applied, s.present) for s in report.sheets] == [(6, 0)]
    after = _lessons(ledger, school.class_id, date(2025, 9, 8))
    wednesday = (date(2025, 9, 10), 1, "5«А»", MATHS, school.person["maths"])
    assert (before - after, after - before) == ({(*wednesday, "каб. 12")}, {(*wednesday, "15")})


def test_a_pupil_s_individual_curriculum_has_its_lessons_and_round_trips(
    ledger: Ledger, vault: Vault, named: TestSchool, importer: Importer
) -> None:
    # п. 2.3: «ИУП: <pupil>» in «Группа», as the export writes it.
    school = named
    curriculum = c.handle(
        c.OpenIndividualCurriculum(
            actor=school.head,
            class_id=school.class_id,
            student_id=school.students[5],
            subject_id=school.subjects[MATHS],
            on=date(2025, 9, 1),
        ),
        ledger,
    )
    c.handle(
        c.AssignTeacher(
            actor=school.head,
            roster_id=curriculum,
            subject_id=school.subjects[MATHS],
            teacher_id=school.person["maths"],
            on=date(2025, 9, 1),
        ),
        ledger,
    )
    rows = [
        *FIFTH,
        ["5А", "четверг", 3, MATHS, "ИУП: Сидоров Иван Петрович", VINOGRADOVA, "12"],
        ["5А", "четверг", 2, MATHS, "ИУП: Петров Пётр", VINOGRADOVA, "12"],
    ]
    report = run(importer, school, ("расписание.csv", csv_file(rows)))
    assert report.problems == [
        Problem("расписание", 9, "Группа", "ученика «Петров Пётр» нет в классе 5А")
    ]
    report = run(importer, school, ("расписание.csv", csv_file(rows[:-1])))
    assert report.written
    thursday = date(2025, 9, 11)
    assert {x for x in _lessons(ledger, school.class_id, thursday) if x[0] == thursday} == {
        (thursday, 3, "индивидуальный учебный план", MATHS, school.person["maths"], "12")
    }
    tables = setup_tables(read_setup(ledger, vault, school.school_id, YEAR))
    (exported,) = [t for t in tables if t.title == "Расписание"]
    pupil = ["5А", "четверг", 3, MATHS, "ИУП: Сидоров Иван Петрович", VINOGRADOVA, "12"]
    assert [*pupil, date(2025, 9, 1)] in [list(r) for r in exported.rows]
    workbook = xlsx_file({"Расписание": [exported.header, *exported.rows]})
    again = run(importer, school, ("расписание.xlsx", workbook))
    assert again.problems == []
    assert [(s.applied, s.present) for s in again.sheets] == [(0, 7)]
