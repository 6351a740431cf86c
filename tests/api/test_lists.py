"""The lists and the way in (п. 2.2–2.6, 1.7): paged in a stable order, a roster's pupils as of a
day with their stints, every pupil shown in the access log under the school whose data it is,
and every bad query a 422 (or 404) problem with a stable code and a Russian title, never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest

from ejournal import commands as c
from ejournal.api.errors import PROBLEM_JSON
from ejournal.identity.vault import PersonalData
from tests.api.conftest import START, World
from tests.commands.school import YEAR, uid

CYRILLIC = re.compile("[А-Яа-яЁё]")


@pytest.fixture(scope="module")
def school(world: World) -> Iterator[World]:
    """The test school, with a pupil who left 5«А» on 3 September and came back on the 10th,
    and an individual curriculum in mathematics that the maths teacher teaches."""
    w, ledger = world, world.services.ledger
    head = c.actor_for(ledger, w.accounts["head"])
    klass, pupil = w.ids["klass"], w.school.students[5]
    c.handle(
        c.WithdrawStudent(
            actor=head, class_id=klass, student_id=pupil, on=date(2025, 9, 3), reason="Болезнь"
        ),
        ledger,
    )
    c.handle(
        c.EnrolStudent(actor=head, class_id=klass, student_id=pupil, on=date(2025, 9, 10)), ledger
    )
    curriculum = c.handle(
        c.OpenIndividualCurriculum(
            actor=head,
            class_id=klass,
            student_id=w.school.students[4],
            subject_id=w.ids["maths"],
            on=date(2025, 9, 1),
        ),
        ledger,
    )
    c.handle(
        c.AssignTeacher(
            actor=head,
            roster_id=curriculum,
            subject_id=w.ids["maths"],
            teacher_id=w.persons["maths"],
            on=date(2025, 9, 1),
        ),
        ledger,
    )
    w.ids["curriculum"] = curriculum
    assert w.services.projector is not None
    w.services.projector.catch_up()
    yield w


def _get(w: World, who: str, path: str, **query: Any) -> Any:
    # No params at all for a link that carries its own query (an empty one would replace it).
    response = w.client.get(path, params=query or None, headers=w.headers(who))
    assert response.status_code == 200, response.text
    return response.json()


def _year(w: World) -> str:
    return f"/schools/{w.ids['school']}/years/{YEAR}"


def _logged(w: World, after: int) -> list[tuple[str, UUID, UUID | None, str]]:
    """(what, whose, school, role) of the access-log entries after the first ``after``."""
    return [
        (entry.what.value, entry.subject_id, entry.school_id, entry.reader_role)
        for entry in w.services.access_log.entries(limit=100_000)[after:]
    ]


def _log_size(w: World) -> int:
    return len(w.services.access_log.entries(limit=100_000))


def test_a_list_is_paged_in_a_stable_order_with_a_next_link(school: World) -> None:
    # A page says the total and links the next one; following the links gives the whole list,
    # in the order of one page of all of it.
    w = school
    path = f"/rosters/{w.ids['klass']}/students"
    whole = _get(w, "head", path, on="2025-09-02")
    assert (whole["total"], whole["next"]) == (6, None)
    seen, link = [], f"{path}?on=2025-09-02&limit=4"
    while link is not None:
        page = _get(w, "head", link)
        assert page["total"] == 6 and page["limit"] == 4
        seen += [pupil["student_id"] for pupil in page["items"]]
        link = page["next"]
    assert seen == [pupil["student_id"] for pupil in whole["items"]]
    subjects = _get(w, "russian", f"{_year(w)}/subjects", limit=2, offset=1)
    assert [s["name"] for s in subjects["items"]] == ["Русский язык", "Английский язык"]
    assert (subjects["total"], subjects["offset"], subjects["next"]) == (3, 1, None)
    beyond = _get(w, "russian", f"{_year(w)}/subjects", offset=10)
    assert (beyond["items"], beyond["total"], beyond["next"]) == ([], 3, None)


def test_a_roster_s_pupils_are_those_of_the_day_with_their_stints(school: World) -> None:
    # п. 2.2: a pupil who left is not on the list of a day they were away; their stints show.
    w = school
    path, pupil = f"/rosters/{w.ids['klass']}/students", str(w.school.students[5])
    stints = [
        {"starts_on": "2025-09-01", "ends_on": "2025-09-03"},
        {"starts_on": "2025-09-10", "ends_on": None},
    ]
    on_the_2nd = {
        p["student_id"]: p["stints"] for p in _get(w, "head", path, on="2025-09-02")["items"]
    }
    assert on_the_2nd[pupil] == stints
    away = _get(w, "head", path, on="2025-09-05")
    assert pupil not in {p["student_id"] for p in away["items"]} and away["total"] == 5
    today = _get(w, "head", path)  # 1 September, in Moscow
    assert today["on"] == "2025-09-01" and today["total"] == 6
    group = _get(w, "english", f"/rosters/{w.ids['group']}/students")
    assert [p["student_id"] for p in group["items"]] == [str(s) for s in w.school.group_students]
    before_the_year = _get(w, "head", path, on="2025-08-31")
    assert before_the_year["items"] == []


def test_the_year_s_set_up_lists(school: World) -> None:
    # п. 2.2, 2.6: subjects in the order added, work types with weights, periods by scheme.
    w = school
    subjects = _get(w, "parent", f"{_year(w)}/subjects")["items"]
    assert [s["name"] for s in subjects] == ["Математика", "Русский язык", "Английский язык"]
    assert subjects[0]["subject_id"] == str(w.ids["maths"])
    kinds = _get(w, "student", f"{_year(w)}/work-types")["items"]
    assert [(k["name"], k["weight"], k["written"]) for k in kinds] == [
        ("Ответ на уроке", "1", False),
        ("Самостоятельная работа", "2", True),
    ]
    quarters = _get(w, "english", f"{_year(w)}/periods", scheme="quarters")["items"]
    assert [(p["name"], p["ordinal"]) for p in quarters] == [
        ("I четверть", 0),
        ("II четверть", 1),
        ("III четверть", 2),
        ("IV четверть", 3),
    ]
    assert (quarters[0]["starts_on"], quarters[0]["ends_on"]) == ("2025-09-01", "2025-10-26")
    assert _get(w, "head", f"{_year(w)}/periods", scheme="half_years")["total"] == 0
    classes = _get(w, "russian", f"{_year(w)}/classes")
    (fifth,) = classes["items"]
    assert (fifth["name"], fifth["grade"], fifth["class_teacher_id"]) == (
        "5«А»",
        5,
        str(w.persons["maths"]),
    )
    assert [g["name"] for g in fifth["groups"]] == ["Группа 1"]
    assert str(w.persons["maths"]) in classes["names"]
    assert _get(w, "head", f"{_year(w)}/classes", grade=6)["total"] == 0


def test_the_year_s_teachers_with_what_they_teach_by_name(school: World) -> None:
    # п. 2.2–2.4: the administration finds each teacher (whose monitor to read), what they teach
    # and the class they lead; by name, as a staff list is kept.
    w = school
    assert w.services.vault is not None
    full_names = {"russian": "Яковлева Анна Ильинична", "maths": "Ёлкин Борис Петрович"}
    full_names["english"] = "Жукова Вера Олеговна"
    for who, full_name in full_names.items():
        w.services.vault.put(
            w.persons[who], PersonalData(full_name), school_id=w.ids["school"], now=w.clock()
        )
    found = _get(w, "head", f"{_year(w)}/teachers")
    taught = {
        t["teacher_id"]: [(x["roster_name"], x["subject"]) for x in t["teaching"]]
        for t in found["items"]
    }
    order = [found["names"][t["teacher_id"]] for t in found["items"]]
    assert order == ["Ёлкин Б. П.", "Жукова В. О.", "Яковлева А. И."]
    assert taught[str(w.persons["russian"])] == [("5«А»", "Русский язык")]
    assert ("5«А»", "Математика") in taught[str(w.persons["maths"])]
    (led,) = [
        t["class_teacher_of"] for t in found["items"] if t["teacher_id"] == str(w.persons["maths"])
    ]
    assert led == [str(w.ids["klass"])]
    page = _get(w, "maths", f"{_year(w)}/teachers", limit=1, offset=1)
    assert (page["total"], list(page["names"].values())) == (3, ["Жукова В. О."])
    auditor = _get(w, "auditor", f"{_year(w)}/teachers")
    assert auditor["total"] == 3 and auditor["names"] == {}
    for who, code in (
        ("parent", "access.denied"),
        ("student", "access.denied"),
        ("support", "access.support_no_journal"),
    ):
        refused = w.client.get(f"{_year(w)}/teachers", headers=w.headers(who))
        assert (refused.status_code, refused.json()["code"]) == (403, code), who


def test_auditors_read_the_set_up_but_no_pupil_and_no_name(school: World) -> None:
    # The brief: auditors have no personal data unless granted.
    w = school
    classes = _get(w, "auditor", f"{_year(w)}/classes")
    assert classes["total"] == 1 and classes["names"] == {}
    response = w.client.get(f"/rosters/{w.ids['klass']}/students", headers=w.headers("auditor"))
    assert (response.status_code, response.json()["code"]) == (403, "access.denied")


def test_every_pupil_a_list_shows_is_in_the_access_log(school: World) -> None:
    # п. 1.7: each pupil of the page, under the roster's school and the reader's role.
    w = school
    before = _log_size(w)
    page = _get(w, "maths", f"/rosters/{w.ids['klass']}/students", limit=2)
    shown = [UUID(p["student_id"]) for p in page["items"]]
    school_id = w.ids["school"]
    assert _logged(w, before) == [("roster", s, school_id, "teacher") for s in shown]
    before = _log_size(w)
    group = _get(w, "maths", f"/rosters/{w.ids['group']}/students")  # not its teacher
    shown = [UUID(p["student_id"]) for p in group["items"]]
    assert _logged(w, before) == [("roster", s, school_id, "class_teacher") for s in shown]
    before = _log_size(w)
    _get(w, "head", f"{_year(w)}/subjects")
    assert _logged(w, before) == []  # a list of no person is no child's data


def test_me_logs_each_pupil_it_names(school: World) -> None:
    # п. 1.7: the parent's child, the pupil themself, an individual curriculum's pupil.
    w = school
    school_id = w.ids["school"]
    for who, pupil, role in (
        ("parent", w.ids["student"], "parent"),
        ("student", w.ids["student"], "student"),
        ("maths", w.school.students[4], "teacher"),
    ):
        before = _log_size(w)
        me = _get(w, who, "/me")
        assert _logged(w, before) == [("me", pupil, school_id, role)], who
        assert str(pupil) in me["names"]
    before = _log_size(w)
    me = _get(w, "maths", "/me")
    (year,) = me["schools"][0]["years"]
    kinds = {(t["roster_kind"], t["student_id"]) for t in year["teaching"]}
    assert kinds == {("class", None), ("individual", str(w.school.students[4]))}
    for who in ("head", "russian", "auditor"):
        before = _log_size(w)
        _get(w, who, "/me")
        assert _logged(w, before) == [], who


def test_my_lessons_default_to_today_in_the_school_s_time_zone(school: World) -> None:
    # Time rules are the school's (Europe/Moscow): at 00:30 in Moscow it is already the 2nd.
    w = school
    russian = c.actor_for(w.services.ledger, w.accounts["russian"])
    w.school.lesson(russian, subject="Русский язык", on=date(2025, 9, 2), slot=1)
    assert w.services.projector is not None
    w.services.projector.catch_up()
    try:
        w.clock.set(datetime(2025, 9, 1, 21, 30, tzinfo=UTC))
        w.login("russian")
        lessons = _get(w, "russian", "/me/lessons")
        assert (lessons["starts_on"], lessons["ends_on"]) == ("2025-09-02", "2025-09-02")
        assert [x["on"] for x in lessons["lessons"]] == ["2025-09-02"]
    finally:
        w.clock.set(START)
        w.login("russian")
    one_day = _get(w, "russian", "/me/lessons", **{"from": "2025-09-02"})
    assert (one_day["starts_on"], one_day["ends_on"]) == ("2025-09-02", "2025-09-02")
    longest = _get(w, "russian", "/me/lessons", **{"from": "2025-09-01", "to": "2025-11-01"})
    assert (longest["starts_on"], longest["ends_on"]) == ("2025-09-01", "2025-11-01")  # 62 days


BAD_QUERIES = [
    # (who, path under the test school's year or absolute, query, status, code, where, error type)
    ("head", "/classes", {"grade": "12"}, 422, "request.invalid", "grade", "less_than_equal"),
    ("head", "/classes", {"grade": "5.0"}, 422, "request.invalid", "grade", "query_integer"),
    ("head", "/classes", {"limit": "0"}, 422, "request.invalid", "limit", "greater_than_equal"),
    ("head", "/classes", {"limit": "501"}, 422, "request.invalid", "limit", "less_than_equal"),
    ("head", "/classes", {"limit": " 5"}, 422, "request.invalid", "limit", "query_integer"),
    ("head", "/classes", {"offset": "-1"}, 422, "request.invalid", "offset", "query_integer"),
    ("head", "/classes", {"page": "2"}, 422, "request.invalid", "page", "extra_forbidden"),
    ("head", "/periods", {"scheme": "weeks"}, 422, "request.invalid", "scheme", "enum"),
    ("head", "/subjects", {"limit": "true"}, 422, "request.invalid", "limit", "query_integer"),
    ("head", "ROSTER", {"on": "2025-13-01"}, 422, "request.invalid", "on", None),
    ("head", "ROSTER", {"on": "01.09.2025"}, 422, "request.invalid", "on", None),
    ("russian", "/me/lessons", {"from": "2025-09-31"}, 422, "request.invalid", "from", None),
    ("russian", "/me/lessons", {"day": "2025-09-01"}, 422, "request.invalid", "day", None),
    ("russian", "/me/lessons", {"from": "2025-09-10", "to": "2025-09-01"}, 422, "period.invalid"),
    ("russian", "/me/lessons", {"from": "2025-09-01", "to": "2025-11-02"}, 422, "period.invalid"),
    ("head", "/schools/{school}/years/2024/classes", {}, 404, "year.not_found"),
    ("head", "/schools/{school}/years/abc/subjects", {}, 422, "request.invalid", "year_start"),
    ("head", "/rosters/{nobody}/students", {}, 404, "roster.not_found"),
    (
        "head",
        "/rosters/not-an-id/students",
        {},
        422,
        "request.invalid",
        "roster_id",
        "uuid_parsing",
    ),
]


@pytest.mark.parametrize("case", BAD_QUERIES, ids=lambda case: f"{case[1]} {case[2]}")
def test_a_bad_query_is_a_problem_with_a_stable_code(school: World, case: tuple[Any, ...]) -> None:
    who, where, query, status, code, *error = case
    w = school
    if where == "ROSTER":
        path = f"/rosters/{w.ids['klass']}/students"
    elif where.startswith("/me") or where.startswith("/rosters") or where.startswith("/schools"):
        path = where.format(school=w.ids["school"], nobody=uid(9999))
    else:
        path = _year(w) + where
    response = w.client.get(path, params=query, headers=w.headers(who))
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem = response.json()
    assert problem["code"] == code
    assert CYRILLIC.search(problem["title"]), problem["title"]
    if error:
        field, *kind = error
        (found,) = [e for e in problem["errors"] if e["location"][-1] == field]
        assert CYRILLIC.search(found["message"]), found
        if kind and kind[0] is not None:
            assert found["type"] == kind[0]
