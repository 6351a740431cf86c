"""What teachers, parents and the administration read (п. 1.5, 2.3, 2.4, 2.9, 2.2): a write made
through the API shows in the class journal, the diary, the summary sheet and the monitor, with its
provenance (I8) and history (п. 1.4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from ejournal import commands as c
from tests.api.conftest import World
from tests.commands.school import YEAR


def _mark(w: World, who: str, lesson: str, value: int) -> Any:
    """``who`` records a mark of the test student in ``lesson``; the response."""
    return w.client.post(
        f"/lessons/{lesson}/marks",
        headers=w.headers(who),
        json={
            "student_id": str(w.ids["student"]),
            "value": value,
            "work_type_id": str(w.ids["answer"]),
        },
    )


def _write_a_lesson(w: World) -> dict[str, Any]:
    russian = w.headers("russian")
    lesson = w.client.post(
        "/lessons",
        headers=russian,
        json={
            "roster_id": str(w.ids["klass"]),
            "subject_id": str(w.ids["russian"]),
            "on": "2025-09-01",
            "slot": 2,
            "topic": "Звуки и буквы",
        },
    ).json()["id"]
    mark = _mark(w, "russian", lesson, 3).json()["id"]
    corrected = w.client.post(
        f"/lessons/{lesson}/marks/{mark}/correction",
        headers=russian,
        json={"value": 4, "reason": "Ошибка ввода"},
    )
    assert corrected.status_code == 200, corrected.text
    homework = w.client.put(
        f"/lessons/{lesson}/homework", headers=russian, json={"text": "Упр. 5", "pages": "с. 10"}
    )
    assert homework.status_code == 200, homework.text
    assert w.services.projector is not None
    w.services.projector.catch_up()
    me = w.client.get("/auth/me", headers=russian).json()
    return {"lesson": lesson, "mark": mark, "session": me["session_id"]}


FAMILY_MARK = {
    "mark_id",
    "lesson_id",
    "student_id",
    "value",
    "work_type_id",
    "work_type",
    "weight",
    "checked_on",
}
"""What a student or a parent sees of a mark: its current value, no history, no provenance."""


def _diary(w: World, who: str) -> Any:
    path = f"/schools/{w.ids['school']}/years/{YEAR}/students/{w.ids['student']}/diary"
    return w.client.get(
        path, params={"from": "2025-09-01", "to": "2025-09-07"}, headers=w.headers(who)
    )


def test_a_mark_shows_in_the_diary_with_its_history_for_the_staff_only(fresh_world: World) -> None:
    # п. 1.5: what the teacher enters shows in the student's diary; п. 1.4: its history and its
    # provenance are the staff's (and auditors'), not the student's or the parents'.
    w = fresh_world
    written = _write_a_lesson(w)
    cancelled = _mark(w, "russian", written["lesson"], 2).json()["id"]
    cancellation = w.client.post(
        f"/lessons/{written['lesson']}/marks/{cancelled}/cancellation",
        headers=w.headers("russian"),
        json={"reason": "Не тому ученику"},
    )
    assert cancellation.status_code == 200, cancellation.text
    w.services.projector.catch_up()  # type: ignore[union-attr]
    teacher = w.client.get("/auth/me", headers=w.headers("russian")).json()

    # The head first: the family's diary of the same version is rendered for its own audience.
    staff = _diary(w, "head")
    assert staff.status_code == 200, staff.text
    (entry,) = staff.json()["days"][0]["lessons"]
    corrected, gone = entry["marks"]
    assert (corrected["value"], corrected["first_value"], corrected["corrected"]) == (4, 3, True)
    assert corrected["history"][0]["reason"] == "Ошибка ввода"
    assert corrected["provenance"]["session_id"] == written["session"]
    assert (gone["mark_id"], gone["cancelled"]) == (cancelled, True)
    assert entry["lesson"]["provenance"]["actor_id"] == teacher["account_id"]

    for who in ("parent", "student"):
        diary = _diary(w, who)
        assert diary.status_code == 200, diary.text
        body = diary.json()
        assert len(body["days"]) == 7
        (entry,) = body["days"][0]["lessons"]
        assert entry["lesson"]["topic"] == "Звуки и буквы"
        assert entry["lesson"]["homework"] == {
            "text": "Упр. 5",
            "pages": "с. 10",
            "tasks": "",
            "due_on": None,
        }
        assert "provenance" not in entry["lesson"]
        (mark,) = entry["marks"]  # the cancelled mark is not shown
        assert set(mark) == FAMILY_MARK
        assert (mark["mark_id"], mark["value"]) == (written["mark"], 4)
        # No teacher's session or account anywhere in what the family reads.
        assert written["session"] not in diary.text
        assert teacher["account_id"] not in diary.text
        # Nor a cancelled mark, nor any mark's history (a lesson says whether it was held).
        assert '"history"' not in diary.text
        assert entry["lesson"]["cancelled"] is False and "cancelled" not in mark


def test_the_class_journal_page_is_read_only_for_the_class_teacher(fresh_world: World) -> None:
    # п. 2.3, 2.4: the subject teacher's page; the class teacher reads it.
    w = fresh_world
    written = _write_a_lesson(w)
    path = f"/journal/{w.ids['klass']}/{w.ids['russian']}"
    for who in ("russian", "maths", "head"):
        page = w.client.get(path, headers=w.headers(who))
        assert page.status_code == 200, page.text
        body = page.json()
        assert [lesson["lesson_id"] for lesson in body["lessons"]] == [written["lesson"]]
        assert len(body["rows"]) == len(w.school.students)
    refused = _mark(w, "maths", written["lesson"], 5)
    assert refused.status_code == 403
    assert refused.json()["code"] == "journal.class_teacher_read_only"


def test_summary_sheet_and_monitor(fresh_world: World) -> None:
    # п. 2.9: the summary sheet in real time; п. 2.2, 2.5–2.8: the monitor.
    w = fresh_world
    _write_a_lesson(w)
    attestation = w.client.put(
        f"/rosters/{w.ids['klass']}/subjects/{w.ids['russian']}/attestation",
        headers=w.headers("russian"),
        json={
            "student_id": str(w.ids["student"]),
            "kind": "period",
            "period": "I четверть",
            "value": "ОСВ",
        },
    )
    assert attestation.status_code == 200, attestation.text
    w.services.projector.catch_up()  # type: ignore[union-attr]
    sheet = w.client.get(f"/classes/{w.ids['klass']}/summary-sheet", headers=w.headers("head"))
    assert sheet.status_code == 200, sheet.text
    rows = {row["student_id"]: row for row in sheet.json()["rows"]}
    cells = rows[str(w.ids["student"])]["cells"]
    values = [p["value"] for cell in cells for p in cell["periods"] if p is not None]
    assert values == ["ОСВ"]
    monitor = w.client.get(
        f"/schools/{w.ids['school']}/years/{YEAR}/monitor", headers=w.headers("head")
    )
    assert monitor.status_code == 200, monitor.text
    assert monitor.json()["school_id"] == str(w.ids["school"])
    unknown = w.client.get(
        f"/classes/{w.ids['klass']}/summary-sheet",
        params={"period": "V четверть"},
        headers=w.headers("head"),
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "read.not_found"


def test_a_diary_read_again_shows_what_was_written_since(fresh_world: World) -> None:
    # п. 1.5: the diary is rendered once per state of the read models, and again after a write.
    w = fresh_world
    written = _write_a_lesson(w)
    path = f"/schools/{w.ids['school']}/years/{YEAR}/students/{w.ids['student']}/diary"
    params = {"from": "2025-09-01", "to": "2025-09-07"}

    def marks() -> list[int]:
        diary = w.client.get(path, params=params, headers=w.headers("parent"))
        assert diary.status_code == 200, diary.text
        (entry,) = diary.json()["days"][0]["lessons"]
        return [mark["value"] for mark in entry["marks"]]

    assert marks() == marks() == [4]
    added = _mark(w, "russian", written["lesson"], 5)
    assert added.status_code == 201, added.text
    assert w.services.projector is not None
    w.services.projector.catch_up()
    assert marks() == [4, 5]


def test_averages_are_rounded_to_two_decimals(fresh_world: World) -> None:
    # п. 2.9: the average of the summary sheet as people read it, not 28 digits of a quotient.
    w = fresh_world
    written = _write_a_lesson(w)  # 4 (corrected from 3)
    for value in (4, 3):
        assert _mark(w, "russian", written["lesson"], value).status_code == 201
    w.services.projector.catch_up()  # type: ignore[union-attr]
    sheet = w.client.get(f"/classes/{w.ids['klass']}/summary-sheet", headers=w.headers("head"))
    assert sheet.status_code == 200, sheet.text
    rows = {row["student_id"]: row for row in sheet.json()["rows"]}
    subjects = [s["subject_id"] for s in sheet.json()["subjects"]]
    cell = rows[str(w.ids["student"])]["cells"][subjects.index(str(w.ids["russian"]))]
    autumn = cell["averages"][0]
    assert (autumn["weighted_sum"], autumn["weights"], autumn["marks"]) == ("11", "3", 3)
    assert autumn["value"] == "3.67"  # 11/3, two decimals, halves up
    assert cell["averages"][1]["value"] is None  # no marks in the II четверть


def test_a_monitor_read_of_a_child_s_mark_is_logged(fresh_world: World) -> None:
    # п. 1.7: the monitor shows a child's late mark (п. 2.5): that read is in the access log,
    # under the school the data belongs to.
    w = fresh_world
    written = _write_a_lesson(w)
    w.clock.set(datetime(2025, 9, 2, 7, 0, tzinfo=UTC))  # the next morning: the mark is late
    late = c.handle(
        c.RecordMark(
            actor=c.actor_for(w.services.ledger, w.accounts["russian"]),
            lesson_id=UUID(written["lesson"]),
            student_id=w.school.students[1],
            value=5,
            work_type_id=w.ids["answer"],
        ),
        w.services.ledger,
    )
    assert late
    w.services.projector.catch_up()  # type: ignore[union-attr]
    w.login("head")
    before = w.services.access_log.entries(limit=1000)
    monitor = w.client.get(
        f"/schools/{w.ids['school']}/years/{YEAR}/monitor",
        params={"class_id": str(w.ids["klass"])},
        headers=w.headers("head"),
    )
    assert monitor.status_code == 200, monitor.text
    flagged = {f["student_id"] for f in monitor.json()["flags"] if f["rule"] == "mark.late"}
    assert flagged == {str(w.school.students[1])}
    logged = w.services.access_log.entries(limit=1000)[len(before) :]
    assert [(e.what.value, e.subject_id, e.school_id, e.reader_role) for e in logged] == [
        ("monitor", w.school.students[1], w.ids["school"], "head")
    ]
