"""Import and export over HTTP (п. 2.2, 2.9): the file is the request body; a file with a bad
row is refused whole (422 ``import.refused``) with every bad row in the report and nothing
written; the administration imports and exports the set-up; whoever reads a journal page or a
summary sheet exports it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from urllib.parse import unquote

import openpyxl
import pytest

from ejournal.api.errors import PROBLEM_JSON
from tests.api.conftest import World
from tests.commands.school import YEAR
from tests.exchange.support import CLASSES, PUPILS, csv_file, xlsx_file

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def w(fresh_world: World) -> Iterator[World]:
    yield fresh_world


def _year(w: World) -> str:
    return f"/schools/{w.ids['school']}/years/{YEAR}"


def _import(w: World, who: str, content: bytes, media: str, **query: str) -> object:
    w.services.projector.catch_up()  # type: ignore[union-attr]
    return w.client.post(
        f"{_year(w)}/import",
        params=query,
        content=content,
        headers={**w.headers(who), "Content-Type": media},
    )


def test_a_workbook_is_checked_then_imported(w: World) -> None:
    # п. 2.2: the deputy loads the school's lists; the dry run writes nothing.
    workbook = xlsx_file({"Классы": CLASSES, "Ученики": PUPILS})
    before = w.events()
    checked = _import(w, "head", workbook, XLSX, dry_run="true")
    assert checked.status_code == 200, checked.text  # type: ignore[attr-defined]
    body = checked.json()  # type: ignore[attr-defined]
    assert (body["dry_run"], body["written"], body["problems"]) == (True, False, [])
    assert [(s["kind"], s["applied"]) for s in body["sheets"]] == [("classes", 1), ("pupils", 3)]
    assert w.events() == before
    done = _import(w, "head", workbook, XLSX)
    assert done.json()["written"] is True  # type: ignore[attr-defined]
    assert w.events() > before
    w.services.projector.catch_up()  # type: ignore[union-attr]
    exported = w.client.get(
        f"{_year(w)}/export", params={"format": "csv", "kind": "pupils"}, headers=w.headers("head")
    )
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert unquote(exported.headers["content-disposition"]).endswith("Ученики.csv")
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Класс", "Фамилия", "Имя", "Отчество", "Дата рождения", "Группы",
                       "Дата зачисления"]  # fmt: skip
    assert ["6Б", "Алиев", "Магомед", "Расулович", "12.03.2013", "Английский язык: Группа 1",
            "01.09.2025"] in rows  # fmt: skip


def test_a_csv_with_a_bad_row_is_refused_whole_with_the_row_named(w: World) -> None:
    rows = [*PUPILS, ["6Б", "Петров", "Иван", "", "32.01.2013", ""]]
    before = w.events()
    response = _import(
        w, "deputy" if "deputy" in w.tokens else "head",
        csv_file(CLASSES) , "text/csv", kind="classes",
    )  # fmt: skip
    assert response.status_code == 200  # type: ignore[attr-defined]
    refused = _import(w, "head", csv_file(rows, encoding="cp1251"), "text/csv", name="ученики.csv")
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert refused.headers["content-type"].startswith(PROBLEM_JSON)  # type: ignore[attr-defined]
    problem = refused.json()  # type: ignore[attr-defined]
    assert problem["code"] == "import.refused"
    assert problem["report"]["problems"] == [
        {
            "sheet": "ученики",
            "row": 5,
            "column": "Дата рождения",
            "reason": "нет такой даты: «32.01.2013»",
        }
    ]
    assert problem["report"]["written"] is False
    assert w.events() == before + 1  # the class of the first file only


def test_a_teacher_neither_imports_nor_exports_the_set_up(w: World) -> None:
    before = w.events()
    refused = _import(w, "russian", csv_file(CLASSES), "text/csv", kind="classes")
    assert refused.status_code == 403  # type: ignore[attr-defined]
    assert w.events() == before
    exported = w.client.get(f"{_year(w)}/export", headers=w.headers("russian"))
    assert exported.status_code == 403
    assert exported.json()["code"] == "access.denied"


def test_the_journal_page_and_summary_sheet_export_to_their_readers(w: World) -> None:
    # п. 2.3, 2.4, 2.9: the subject's teacher and the class teacher read (and export) them.
    klass, maths = w.ids["klass"], w.ids["maths"]
    w.services.projector.catch_up()  # type: ignore[union-attr]
    page = w.client.get(f"/journal/{klass}/{maths}/export", headers=w.headers("maths"))
    assert page.status_code == 200, page.text
    assert page.headers["content-type"] == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(page.content)).worksheets[0]
    assert next(sheet.iter_rows(values_only=True))[:2] == ("№", "Обучающийся")
    summary = w.client.get(
        f"/classes/{klass}/summary-sheet/export",
        params={"format": "csv", "encoding": "windows-1251"},
        headers=w.headers("maths"),
    )
    assert summary.status_code == 200
    header = summary.content.decode("cp1251").splitlines()[0].split(";")
    assert header[:2] == ["№", "Обучающийся"]
    assert (
        w.client.get(f"/journal/{klass}/{maths}/export", headers=w.headers("parent")).status_code
        == 403
    )
