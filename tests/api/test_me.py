"""Each role does its day's work knowing nothing but its login and password (п. 2.1–2.4, 1.6):
every ID it needs comes from ``GET /me``, ``GET /me/lessons`` and the lists, on both databases.

The school is set up beforehand (as the deputy does at the start of the year, with the timetable's
lessons of today); then each person starts from the login page: no ID of the test world is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from ejournal import commands as c
from tests.api.conftest import PASSWORD, World
from tests.commands.school import MONDAY, YEAR


class Person:
    """Someone at the login page: a login and a password, and whatever the API tells them."""

    def __init__(self, world: World, login: str) -> None:
        self._world = world
        response = world.client.post("/auth/login", json={"login": login, "password": PASSWORD})
        assert response.status_code == 201, response.text
        self._headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def get(self, path: str, **query: Any) -> Any:
        response = self._world.client.get(path, params=query, headers=self._headers)
        assert response.status_code == 200, response.text
        return response.json()

    def send(self, method: str, path: str, body: dict[str, Any]) -> Any:
        response = self._world.client.request(method, path, json=body, headers=self._headers)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def refused(self, path: str, **query: Any) -> Any:
        response = self._world.client.get(path, params=query, headers=self._headers)
        assert response.status_code >= 400, response.text
        return response.json()


@pytest.fixture(scope="module")
def day(world: World) -> Iterator[World]:
    """Monday 1 September, 09:00: today's lessons of the timetable are in the journal (scheduled
    by the deputy), and the parent has a second child in 5«А»."""
    w, school, ledger = world, world.school, world.services.ledger
    deputy = c.actor_for(ledger, w.accounts["deputy"])
    head = c.actor_for(ledger, w.accounts["head"])
    for subject, roster, teacher, slot in (
        ("Русский язык", school.class_id, "russian", 2),
        ("Английский язык", school.group_id, "english", 3),
    ):
        c.handle(
            c.ScheduleLesson(
                actor=deputy,
                roster_id=roster,
                subject_id=school.subjects[subject],
                teacher_id=w.persons[teacher],
                on=MONDAY,
                slot=slot,
            ),
            ledger,
        )
    c.handle(
        c.LinkParent(
            actor=head,
            school_id=school.school_id,
            year_start=YEAR,
            student_id=school.students[1],
            parent_id=w.persons["parent"],
        ),
        ledger,
    )
    _catch_up(w)
    yield w


def _catch_up(w: World) -> None:
    assert w.services.projector is not None
    w.services.projector.catch_up()


def _current(me: dict[str, Any], role: str) -> tuple[str, dict[str, Any]]:
    """(school ID, this school year) of the school where the caller holds ``role``."""
    (school,) = [s for s in me["schools"] if role in s["roles"]]
    (year,) = [y for y in school["years"] if y["current"]]
    return school["school_id"], year


def _by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (found,) = [item for item in items if item["name"] == name]
    return found


def test_a_teacher_keeps_today_s_lesson_from_the_login_alone(day: World) -> None:
    # п. 2.3, 2.5–2.7: today's lessons → the register, a mark, the topic, the homework.
    teacher = Person(day, "russian")
    today = teacher.get("/me/lessons")
    assert (today["starts_on"], today["ends_on"]) == ("2025-09-01", "2025-09-01")
    (lesson,) = [x for x in today["lessons"] if x["class"]["name"] == "5«А»"]
    assert (lesson["subject"], lesson["slot"], lesson["roster_kind"]) == (
        "Русский язык",
        2,
        "class",
    )
    assert not (lesson["topic_set"] or lesson["register_taken"] or lesson["homework_given"])
    assert lesson["marks"] == 0
    pupils = teacher.get(f"/rosters/{lesson['roster_id']}/students")
    assert pupils["total"] == 6 and pupils["on"] == "2025-09-01"
    assert set(pupils["names"]) == {p["student_id"] for p in pupils["items"]}
    first, absent = pupils["items"][0]["student_id"], pupils["items"][1]["student_id"]
    year = f"/schools/{lesson['school_id']}/years/{lesson['year_start']}"
    answer = _by_name(teacher.get(f"{year}/work-types")["items"], "Ответ на уроке")
    assert answer["weight"] == "1"
    lesson_path = f"/lessons/{lesson['lesson_id']}"
    teacher.send("PUT", f"{lesson_path}/attendance", {"codes": {absent: "Н"}})
    teacher.send(
        "POST",
        f"{lesson_path}/marks",
        {"student_id": first, "value": 5, "work_type_id": answer["work_type_id"]},
    )
    teacher.send("PUT", f"{lesson_path}/topic", {"topic": "Звуки и буквы"})
    teacher.send("PUT", f"{lesson_path}/homework", {"text": "Упр. 12", "pages": "с. 8"})
    _catch_up(day)
    (kept,) = [
        x for x in teacher.get("/me/lessons")["lessons"] if x["lesson_id"] == lesson["lesson_id"]
    ]
    assert (kept["topic"], kept["topic_set"], kept["register_taken"], kept["homework_given"]) == (
        "Звуки и буквы",
        True,
        True,
        True,
    )
    assert kept["marks"] == 1


def test_a_group_teacher_takes_the_group_s_register(day: World) -> None:
    # п. 2.3, 2.5: a group's lesson, and the group's pupils only.
    teacher = Person(day, "english")
    me = teacher.get("/me")
    _, year = _current(me, "teacher")
    (teaching,) = year["teaching"]
    assert (teaching["roster_kind"], teaching["roster_name"], teaching["class"]["name"]) == (
        "group",
        "Группа 1",
        "5«А»",
    )
    (lesson,) = teacher.get("/me/lessons", **{"from": "2025-09-01", "to": "2025-09-07"})["lessons"]
    assert lesson["roster_id"] == teaching["roster_id"]
    pupils = teacher.get(f"/rosters/{lesson['roster_id']}/students")["items"]
    assert len(pupils) == 3
    codes = {pupils[0]["student_id"]: "Б"}
    teacher.send("PUT", f"/lessons/{lesson['lesson_id']}/attendance", {"codes": codes})


def test_a_parent_reads_each_child_s_week_from_the_login_alone(day: World) -> None:
    # п. 1.5, 1.6: the parent switches between two children; each child's diary of the week.
    parent = Person(day, "parent")
    school_id, year = _current(parent.get("/me"), "parent")
    children = year["children"]
    assert len(children) == 2
    assert {child["class"]["name"] for child in children} == {"5«А»"}
    for child in children:
        diary = parent.get(
            f"/schools/{school_id}/years/{year['year_start']}/students/{child['student_id']}/diary"
        )
        assert diary["student_id"] == child["student_id"]
        assert (diary["starts_on"], diary["ends_on"]) == ("2025-09-01", "2025-09-07")
        monday = diary["days"][0]
        assert monday["on"] == "2025-09-01"
        assert "Русский язык" in {entry["lesson"]["subject"] for entry in monday["lessons"]}


def test_a_pupil_reads_their_own_diary_from_the_login_alone(day: World) -> None:
    # п. 1.5: the pupil's own class and diary.
    pupil = Person(day, "student")
    me = pupil.get("/me")
    school_id, year = _current(me, "student")
    assert year["own_class"]["name"] == "5«А»"
    diary = pupil.get(
        f"/schools/{school_id}/years/{year['year_start']}/students/{me['person_id']}/diary"
    )
    assert diary["student_id"] == me["person_id"]


def test_the_head_reads_the_summary_sheet_and_the_monitor_from_the_login_alone(
    day: World,
) -> None:
    # п. 2.2, 2.9: the head's Friday: the summary sheet in real time and the monitor.
    head = Person(day, "head")
    school_id, year = _current(head.get("/me"), "head")
    path = f"/schools/{school_id}/years/{year['year_start']}"
    (fifth,) = head.get(f"{path}/classes", grade=5)["items"]
    assert fifth["name"] == "5«А»"
    sheet = head.get(f"/classes/{fifth['class_id']}/summary-sheet")
    assert sheet["class_name"] == "5«А»"
    assert len(sheet["rows"]) == 6
    quarter = _by_name(head.get(f"{path}/periods", scheme="quarters")["items"], "I четверть")
    assert head.get(f"/classes/{fifth['class_id']}/summary-sheet", period=quarter["name"])
    monitor = head.get(f"{path}/monitor")
    assert monitor["school_id"] == school_id
    assert head.get(f"{path}/monitor", class_id=fifth["class_id"])["school_id"] == school_id


def test_the_class_teacher_reads_the_class_from_the_login_alone(day: World) -> None:
    # п. 2.4: the class teacher's class, its pupils, a pupil's diary, the summary sheet.
    teacher = Person(day, "maths")
    school_id, year = _current(teacher.get("/me"), "class_teacher")
    (led,) = year["class_teacher_of"]
    pupils = teacher.get(f"/rosters/{led['class_id']}/students")["items"]
    pupil = pupils[-1]["student_id"]
    diary = teacher.get(
        f"/schools/{school_id}/years/{year['year_start']}/students/{pupil}/diary",
        class_id=led["class_id"],
    )
    assert diary["student_id"] == pupil
    assert teacher.get(f"/classes/{led['class_id']}/summary-sheet")["class_name"] == "5«А»"


def test_the_way_in_refuses_what_the_role_does_not_reach(day: World) -> None:
    # п. 2.1: no teaching role, no lessons; a parent lists no classes and no class's pupils.
    head, parent, support = Person(day, "head"), Person(day, "parent"), Person(day, "support")
    assert head.refused("/me/lessons")["code"] == "access.denied"
    assert support.refused("/me/lessons")["code"] == "access.support_no_journal"
    school_id, year = _current(parent.get("/me"), "parent")
    assert parent.refused(f"/schools/{school_id}/years/{year['year_start']}/classes")["code"] == (
        "access.denied"
    )
    class_id = year["children"][0]["class"]["class_id"]
    assert parent.refused(f"/rosters/{class_id}/students")["code"] == "access.denied"
    assert support.get("/me")["schools"] == []


def test_me_extends_auth_me(day: World) -> None:
    # The account and session of /auth/me, the same, first; then the schools.
    teacher = Person(day, "maths")
    me, account = teacher.get("/me"), teacher.get("/auth/me")
    assert {key: me[key] for key in account} == account
    (school,) = me["schools"]
    assert school["roles"] == ["class_teacher", "teacher"]
    assert [y["year_start"] for y in school["years"]] == [YEAR]
    assert school["years"][0]["starts_on"] == date(2025, 9, 1).isoformat()


def test_a_parent_finds_the_marks_averages_and_final_marks_from_the_login_alone(
    fresh_world: World,
) -> None:
    # п. 1.5, 1.6, 2.8: the parent, knowing only a login, reaches the child's year: the marks of
    # each subject with the average, and the period, year and final marks once the teacher sets
    # them.
    w = fresh_world
    teacher, parent = Person(w, "russian"), Person(w, "parent")
    lesson = teacher.send(
        "POST",
        "/lessons",
        {
            "roster_id": str(w.ids["klass"]),
            "subject_id": str(w.ids["russian"]),
            "on": "2025-09-01",
            "slot": 2,
        },
    )["id"]
    for value in (3, 4):
        teacher.send(
            "POST",
            f"/lessons/{lesson}/marks",
            {
                "student_id": str(w.ids["student"]),
                "value": value,
                "work_type_id": str(w.ids["answer"]),
            },
        )
    attestation = f"/rosters/{w.ids['klass']}/subjects/{w.ids['russian']}/attestation"
    for kind, period, value in (
        ("period", "I четверть", "4"),
        ("year", None, "4"),
        ("final", None, "5"),
    ):
        body = {"student_id": str(w.ids["student"]), "kind": kind, "value": value}
        teacher.send("PUT", attestation, {**body, "period": period} if period else body)
    assert w.services.projector is not None
    w.services.projector.catch_up()
    school_id, year = _current(parent.get("/me"), "parent")
    (child,) = year["children"]
    marks = parent.get(
        f"/schools/{school_id}/years/{year['year_start']}/students/{child['student_id']}/marks"
    )
    (russian,) = [s for s in marks["subjects"] if s["name"] == "Русский язык"]
    autumn = russian["periods"][0]
    assert [m["value"] for m in autumn["marks"]] == [3, 4]
    assert (autumn["average"]["value"], autumn["period_mark"]) == ("3.50", "4")
    assert (russian["year"], russian["exam"], russian["final"]) == ("4", None, "5")
