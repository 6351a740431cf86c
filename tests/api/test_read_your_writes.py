"""A writer reads its own writes (п. 1.4, 1.5, 2.2–2.9, 4.4), though the projector applies them to
the read models in the background, tens of milliseconds later: re-reading the journal page right
after a correction showed the old value 9 times in 10.

The response to every request that records something names the ledger position of its last event
(``Ejournal-Position``); a request that sends it back is answered once the read models include
it (docs/adr/0009-read-your-writes.md). Here a client that does so writes through every write
route of the OpenAPI document and reads each write back at once, on the read it affects: the
class journal page, the diary, the summary sheet, the monitor, the rules of п. 4.4. Writes that
no read model shows (accounts, sessions, personal data, mail) are read back on their own reads,
and the read models still wait for their position. The projector follows in the background, as
in a served process; ``test_across_worker_processes`` does the same against a real
``ejournal serve --workers 2``, whose supervisor projects. Both databases.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from ejournal import commands as c
from ejournal.api.app import create_app, openapi_document
from ejournal.api.bootstrap import bootstrap
from ejournal.identity.vault import VAULT_KEY_VARIABLE, new_key
from ejournal.ledger.actor import SYSTEM_ACTOR
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import Account
from ejournal.ledger.settings import Settings
from tests.api.conftest import PASSWORD, START, World, build_world
from tests.api.processes import HOST, free_port, listeners, serve, stop, wait_for
from tests.commands.school import YEAR, build_school, uid
from tests.mail.conftest import Smtp, mail_environ, smtp, smtp_server

__all__ = ["smtp", "smtp_server"]

POSITION = "Ejournal-Position"
WEEK = {"from": "2025-09-01", "to": "2025-09-07"}
WRITES = frozenset({"post", "put", "patch", "delete"})


def _write_routes() -> dict[tuple[str, str], re.Pattern[str]]:
    """Every write route of the OpenAPI document: (method, path template) → its URL pattern."""
    routes = {}
    for template, operations in openapi_document()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", template) + "$")
        for method in operations:
            if method in WRITES:
                routes[(method.upper(), template)] = pattern
    return routes


ROUTES = _write_routes()


@dataclass
class Writer:
    """A client as the API asks: it keeps the highest ``Ejournal-Position`` it was given and
    sends it with every request. Each write must name its position exactly when it recorded
    something; the routes written are counted, to check that every one was."""

    w: World
    position: int = 0
    written: set[tuple[str, str]] = field(default_factory=set)

    def send(self, method: str, url: str, who: str | None = None, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if who is not None:
            headers.update(self.w.headers(who))
        if self.position:
            headers[POSITION] = str(self.position)
        return self.w.client.request(method, url, headers=headers, **kwargs)

    def write(self, method: str, url: str, who: str | None = None, **kwargs: Any) -> Any:
        (route,) = [r for r, pattern in ROUTES.items() if r[0] == method and pattern.match(url)]
        self.written.add(route)
        projector = self.w.services.projector
        assert projector is not None
        head = projector.head()
        response = self.send(method, url, who, **kwargs)
        assert response.status_code < 300, f"{method} {url}: {response.text}"
        if projector.head() > head:
            assert POSITION in response.headers, f"{method} {url} names no position"
            named = int(response.headers[POSITION])
            assert named == projector.head(), (method, url, named)
            self.position = max(self.position, named)
        else:
            assert POSITION not in response.headers, f"{method} {url} recorded nothing"
        return response

    def read(self, url: str, who: str, **params: Any) -> Any:
        response = self.send("GET", url, who, params=params)
        assert response.status_code == 200, f"GET {url}: {response.text}"
        return response.json()

    def projected(self, who: str = "sysadmin") -> None:
        """The read models include every write so far, once a request waited for them: for the
        writes that no API read shows."""
        self.read("/auth/me", who)
        assert self.w.services.projector is not None
        assert self.w.services.projector.position() >= self.position


# --- the reads ----------------------------------------------------------------------------------


def _journal(rw: Writer, roster: Any, subject: Any, who: str = "head", **params: Any) -> Any:
    return rw.read(f"/journal/{roster}/{subject}", who, **params)


def _diary(rw: Writer, student: Any, who: str = "head") -> Any:
    path = f"/schools/{rw.w.ids['school']}/years/{YEAR}/students/{student}/diary"
    return rw.read(path, who, **WEEK)


def _summary(rw: Writer, klass: Any, who: str = "head") -> Any:
    return rw.read(f"/classes/{klass}/summary-sheet", who)


def _monitor(rw: Writer, year: int = YEAR, who: str = "head", **params: Any) -> Any:
    return rw.read(f"/schools/{rw.w.ids['school']}/years/{year}/monitor", who, **params)


def _marks(page: Any) -> dict[str, Any]:
    """Mark ID → mark, of a journal page."""
    return {m["mark_id"]: m for row in page["rows"] for cell in row["cells"] for m in cell["marks"]}


def _diary_lessons(diary: Any) -> dict[str, Any]:
    return {
        entry["lesson"]["lesson_id"]: entry for day in diary["days"] for entry in day["lessons"]
    }


def _rows(page: Any) -> list[str]:
    return [row["student_id"] for row in page["rows"]]


def _setup_flag(rw: Writer, year: int) -> Any:
    (flag,) = [f for f in _monitor(rw, year)["flags"] if f["rule"].startswith("year.")]
    return flag


# --- the writes, each read back at once -----------------------------------------------------------


def _journal_writes(rw: Writer) -> None:
    """A lesson, its topic, register, marks (recorded, corrected again and again, cancelled), a
    class work, homework, a comment, a message to parents and a period mark."""
    w, ids = rw.w, rw.w.ids
    klass, russian, student, other = (
        ids["klass"],
        ids["russian"],
        ids["student"],
        w.school.students[1],
    )
    lesson = rw.write(
        "POST",
        "/lessons",
        "russian",
        json={"roster_id": str(klass), "subject_id": str(russian), "on": "2025-09-01", "slot": 3},
    ).json()["id"]
    assert lesson in [x["lesson_id"] for x in _journal(rw, klass, russian, "russian")["lessons"]]
    rw.write("PUT", f"/lessons/{lesson}/topic", "russian", json={"topic": "Имя существительное"})
    (shown,) = [
        x for x in _journal(rw, klass, russian, "russian")["lessons"] if x["lesson_id"] == lesson
    ]
    assert shown["topic"] == "Имя существительное"
    rw.write("PUT", f"/lessons/{lesson}/attendance", "russian", json={"codes": {str(other): "Н"}})
    page = _journal(rw, klass, russian, "russian")
    column = [x["lesson_id"] for x in page["lessons"]].index(lesson)
    (row,) = [r for r in page["rows"] if r["student_id"] == str(other)]
    assert row["cells"][column]["attendance"] == "Н"

    mark = rw.write(
        "POST",
        f"/lessons/{lesson}/marks",
        "russian",
        json={"student_id": str(student), "value": 3, "work_type_id": str(ids["answer"])},
    ).json()["id"]
    assert _marks(_journal(rw, klass, russian, "russian"))[mark]["value"] == 3
    assert [m["mark_id"] for m in _diary_lessons(_diary(rw, student))[lesson]["marks"]] == [mark]
    for value in (4, 2, 5, 3, 4):  # the reported case: each correction read back at once
        rw.write(
            "POST",
            f"/lessons/{lesson}/marks/{mark}/correction",
            "russian",
            json={"value": value, "reason": "Ошибка ввода"},
        )
        shown = _marks(_journal(rw, klass, russian, "russian"))[mark]
        assert (shown["value"], shown["corrected"]) == (value, True)
    (in_diary,) = _diary_lessons(_diary(rw, student, "parent"))[lesson]["marks"]
    assert in_diary["value"] == 4
    rw.write(
        "POST",
        f"/lessons/{lesson}/marks/{mark}/cancellation",
        "russian",
        json={"reason": "Не тому ученику"},
    )
    assert _marks(_journal(rw, klass, russian, "russian"))[mark]["cancelled"] is True
    assert all(
        m["cancelled"] for m in _diary_lessons(_diary(rw, student, "parent"))[lesson]["marks"]
    )

    batch = rw.write(
        "POST",
        f"/lessons/{lesson}/class-work",
        "russian",
        json={"work_type_id": str(ids["answer"]), "marks": {str(other): 5, str(student): 4}},
    ).json()
    shown = _marks(_journal(rw, klass, russian, "russian"))
    assert {shown[m]["value"] for m in batch["mark_ids"]} == {4, 5}

    rw.write(
        "PUT",
        f"/lessons/{lesson}/homework",
        "russian",
        json={"text": "Упр. 7", "pages": "с. 20"},
    )
    homework = _diary_lessons(_diary(rw, student, "parent"))[lesson]["lesson"]["homework"]
    assert (homework["text"], homework["pages"]) == ("Упр. 7", "с. 20")
    comment = rw.write(
        "POST",
        f"/lessons/{lesson}/comments",
        "russian",
        json={"student_id": str(student), "text": "Активно работал"},
    ).json()["id"]
    comments = _diary_lessons(_diary(rw, student, "parent"))[lesson]["comments"]
    assert [c["comment_id"] for c in comments] == [comment]
    message = rw.write(
        "POST",
        "/messages",
        "russian",
        json={
            "roster_id": str(klass),
            "subject_id": str(russian),
            "student_id": str(student),
            "text": "Прошу проверить домашнее задание",
        },
    ).json()["id"]
    messages = [
        m["message_id"] for day in _diary(rw, student, "parent")["days"] for m in day["messages"]
    ]
    assert message in messages

    rw.write(
        "PUT",
        f"/rosters/{klass}/subjects/{russian}/attestation",
        "russian",
        json={"student_id": str(student), "kind": "period", "period": "I четверть", "value": "5"},
    )
    sheet = _summary(rw, klass)
    (row,) = [r for r in sheet["rows"] if r["student_id"] == str(student)]
    (cell,) = [x for x in row["cells"] if x["subject_id"] == str(russian)]
    first = [p["name"] for p in sheet["periods"]].index("I четверть")
    assert cell["periods"][first]["value"] == "5"
    # п. 2.8: entered outside the last week of the quarter, it is flagged at once.
    flags = _monitor(rw, teacher_id=str(w.persons["russian"]))["flags"]
    assert "attestation.outside_window" in {f["rule"] for f in flags}


def _plan(rw: Writer) -> None:
    """п. 2.6: a lesson of a КТП item shows the item's topic, and a new КТП's at once."""
    klass, russian = rw.w.ids["klass"], rw.w.ids["russian"]
    plan = f"/rosters/{klass}/subjects/{russian}/plan"
    rw.write(
        "PUT", plan, "russian", json={"items": [{"number": 1, "topic": "Фонетика", "hours": 1}]}
    )
    lesson = rw.write(
        "POST",
        "/lessons",
        "russian",
        json={
            "roster_id": str(klass),
            "subject_id": str(russian),
            "on": "2025-09-01",
            "slot": 1,
            "plan_item": 1,
        },
    ).json()["id"]
    for topic in ("Звуки речи", "Гласные звуки", "Фонетика"):
        rw.write(
            "PUT", plan, "russian", json={"items": [{"number": 1, "topic": topic, "hours": 1}]}
        )
        page = _journal(rw, klass, russian, "russian")
        (shown,) = [x for x in page["lessons"] if x["lesson_id"] == lesson]
        assert shown["plan_topic"] == topic


def _timetable(rw: Writer) -> None:
    """п. 2.2, 2.3: 5«А»'s timetable from 8 September, a substitute and a cancelled lesson, each
    read back at once in the class's week."""
    w, ids = rw.w, rw.w.ids
    week = f"/classes/{ids['klass']}/week"
    entries = [
        {
            "weekday": 1,
            "slot": slot,
            "roster_id": str(ids["klass"]),
            "subject_id": str(ids[subject]),
            "teacher_id": str(w.persons[subject]),
        }
        for slot, subject in ((1, "maths"), (2, "russian"))
    ]
    rw.write(
        "PUT",
        f"/classes/{ids['klass']}/timetable/2025-09-08",
        "deputy",
        json={"entries": entries},
    )
    monday = [
        x for x in rw.read(week, "head", of="2025-09-08")["lessons"] if x["on"] == "2025-09-08"
    ]
    assert [x["slot"] for x in monday] == [1, 2]
    first, second = (x["lesson_id"] for x in monday)
    rw.write(
        "PUT",
        f"/lessons/{first}/substitute",
        "deputy",
        json={"teacher_id": str(w.persons["russian"]), "reason": "Болезнь учителя"},
    )
    rw.write("POST", f"/lessons/{second}/cancellation", "deputy", json={"reason": "Экскурсия"})
    taken, cancelled = (
        x for x in rw.read(week, "head", of="2025-09-08")["lessons"] if x["on"] == "2025-09-08"
    )
    assert taken["teacher_id"] == str(w.persons["russian"])
    assert cancelled["cancelled"] is True


def _import(rw: Writer) -> None:
    """п. 2.2: a pupil imported from the school's CSV file is on the class's journal page at once
    (the import is the file's commands in one unit of work)."""
    ids = rw.w.ids
    page = _rows(_journal(rw, ids["klass"], ids["maths"]))
    pupils = "Класс;Фамилия;Имя;Отчество;Дата рождения\r\n5А;Юсупов;Шамиль;Иванович;02.02.2014\r\n"
    rw.write(
        "POST",
        f"/schools/{ids['school']}/years/{YEAR}/import",
        "deputy",
        params={"kind": "pupils"},
        content=pupils.encode("cp1251"),
        headers={"Content-Type": "text/csv"},
    )
    assert len(_rows(_journal(rw, ids["klass"], ids["maths"]))) == len(page) + 1


def _year_setup(rw: Writer) -> None:
    """п. 2.2: the 2024/25 year set up (late) section by section; the monitor names at once what
    is still missing, then flags the year as set up late. Holidays, closing and reopening show
    in no read."""
    school = rw.w.ids["school"]
    year = f"/schools/{school}/years/2024"
    missing = _setup_flag(rw, 2024)
    assert missing["rule"] == "year.not_set_up" and "учебный год" in missing["message"]
    steps: list[tuple[str, str, dict[str, Any], str]] = [
        ("POST", f"/schools/{school}/years", {"year_start": 2024}, "учебный год"),
        (
            "PUT",
            year + "/periods/quarters",
            {
                "periods": [
                    {"name": "I четверть", "starts_on": "2024-09-02", "ends_on": "2024-10-27"},
                    {"name": "II четверть", "starts_on": "2024-11-05", "ends_on": "2024-12-28"},
                ]
            },
            "учебные периоды",
        ),
        (
            "PUT",
            year + "/bell-schedules/основное",
            {"slots": [{"number": 1, "starts_at": "08:30", "ends_at": "09:15"}]},
            "расписание звонков",
        ),
        ("POST", year + "/subjects", {"name": "Математика"}, "предметы"),
        (
            "POST",
            year + "/work-types",
            {"name": "Ответ на уроке", "weight": 1, "written": False},
            "виды работ",
        ),
    ]
    for method, path, body, section in steps:
        rw.write(method, path, "head", json=body)
        flag = _setup_flag(rw, 2024)
        assert flag["rule"] == "year.not_set_up" and section not in flag["message"], flag
    rw.write(
        "POST",
        year + "/classes",
        "head",
        json={"grade": 5, "letter": "В", "period_scheme": "quarters"},
    )
    assert _setup_flag(rw, 2024)["rule"] == "year.setup_late"
    rw.write(
        "POST",
        year + "/holidays",
        "head",
        json={"name": "Каникулы", "starts_on": "2024-10-28", "ends_on": "2024-11-04"},
    )
    rw.projected("head")
    rw.write("POST", year + "/close", "head")
    rw.projected("head")
    rw.write("POST", year + "/reopen", "head", json={"reason": "Исправление сводной ведомости"})
    rw.projected("head")


def _rosters(rw: Writer) -> None:
    """A class opened, a student enrolled and withdrawn, a group and its members, a teacher
    assigned and unassigned, a parent linked and unlinked."""
    w, ids = rw.w, rw.w.ids
    school, maths, english = ids["school"], ids["maths"], ids["english"]
    klass = rw.write(
        "POST",
        f"/schools/{school}/years/{YEAR}/classes",
        "head",
        json={"grade": 6, "letter": "Б", "period_scheme": "quarters"},
    ).json()["id"]
    assert _summary(rw, klass)["class_name"]  # 404 until projected
    rw.write(
        "PUT",
        f"/classes/{klass}/class-teacher",
        "head",
        json={"teacher_id": str(w.persons["english"])},
    )
    rw.projected("head")
    student = uid(1200)
    rw.write(
        "POST",
        f"/classes/{klass}/students",
        "head",
        json={"student_id": str(student), "on": "2025-09-01"},
    )
    assert _rows(_journal(rw, klass, maths)) == [str(student)]
    assert [r["student_id"] for r in _summary(rw, klass)["rows"]] == [str(student)]
    rw.write(
        "POST",
        f"/rosters/{klass}/teachers",
        "head",
        json={"subject_id": str(maths), "teacher_id": str(w.persons["maths"]), "on": "2025-09-01"},
    )
    assert str(maths) in [s["subject_id"] for s in _summary(rw, klass)["subjects"]]
    rw.write(
        "POST",
        f"/rosters/{klass}/teachers/unassignment",
        "head",
        json={"subject_id": str(maths), "teacher_id": str(w.persons["maths"]), "on": "2025-09-02"},
    )
    rw.projected("head")

    group = rw.write(
        "POST",
        f"/classes/{klass}/groups",
        "head",
        json={"subject_id": str(english), "name": "Группа 6Б"},
    ).json()["id"]
    rw.write(
        "POST",
        f"/groups/{group}/members",
        "head",
        json={"student_id": str(student), "on": "2025-09-01"},
    )
    assert _rows(_journal(rw, group, english)) == [str(student)]
    rw.write(
        "POST", f"/groups/{group}/members/{student}/removal", "head", json={"on": "2025-09-02"}
    )
    assert _rows(_journal(rw, group, english, **{"from": "2025-09-02", "to": "2025-09-07"})) == []
    rw.write(
        "POST",
        f"/classes/{klass}/students/{student}/withdrawal",
        "head",
        json={"on": "2025-09-03", "reason": "Переезд"},
    )
    assert _rows(_journal(rw, klass, maths, **{"from": "2025-09-03", "to": "2025-09-07"})) == []

    base = f"/schools/{school}/years/{YEAR}/students/{w.school.students[1]}/parents"
    rw.write("POST", base, "head", json={"parent_id": str(uid(6001))})
    rw.projected("head")
    rw.write("POST", f"{base}/{uid(6001)}/unlink", "head", json={"reason": "Решение суда"})
    rw.projected("head")


def _curriculum(rw: Writer) -> None:
    """An individual curriculum: its page lists its student at once."""
    ids = rw.w.ids
    student = rw.w.school.students[5]
    curriculum = rw.write(
        "POST",
        f"/classes/{ids['klass']}/individual-curricula",
        "head",
        json={"student_id": str(student), "subject_id": str(ids["maths"]), "on": "2025-09-01"},
    ).json()["id"]
    assert _rows(_journal(rw, curriculum, ids["maths"])) == [str(student)]


def _invalidations(rw: Writer) -> None:
    """п. 4.3–4.4: a session declared invalid takes its marks off the page at once; a breach
    report and a receipt dated back show in the rules at once."""
    ids = rw.w.ids
    klass, russian = ids["klass"], ids["russian"]
    session = rw.write(
        "POST", "/auth/login", json={"login": "russian", "password": PASSWORD}
    ).json()
    token = _bearer(session)
    lesson = rw.write(
        "POST",
        "/lessons",
        headers=token,
        json={"roster_id": str(klass), "subject_id": str(russian), "on": "2025-09-01", "slot": 2},
    ).json()["id"]
    mark = rw.write(
        "POST",
        f"/lessons/{lesson}/marks",
        headers=token,
        json={"student_id": str(ids["student"]), "value": 2, "work_type_id": str(ids["answer"])},
    ).json()["id"]
    assert mark in _marks(_journal(rw, klass, russian, "russian"))
    rule = rw.write(
        "POST",
        f"/sessions/{session['session_id']}/invalidation",
        "head",
        json={"school_id": str(ids["school"]), "reason": "Вход с чужого устройства"},
    ).json()["id"]
    page = _journal(rw, klass, russian, "russian")
    assert mark not in _marks(page)
    assert lesson not in [x["lesson_id"] for x in page["lessons"]]
    assert rule in [r["rule_id"] for r in rw.read("/invalidations", "head")]

    report = rw.write(
        "POST",
        "/breach-reports",
        "head",
        json={"account_id": str(ids["victim"]), "learned_at": "2025-09-01T05:00:00Z"},
    ).json()["id"]
    (filed,) = [r for r in rw.read("/invalidations", "head") if r["rule_id"] == report]
    assert filed["account_id"] == str(ids["victim"])
    rw.write(
        "POST",
        f"/breach-reports/{report}/receipts",
        "head",
        json={"received_at": "2025-09-01T05:30:00Z"},
    )
    (dated,) = [r for r in rw.read("/invalidations", "head") if r["rule_id"] == report]
    assert datetime.fromisoformat(dated["head_received_at"]) == datetime(
        2025, 9, 1, 5, 30, tzinfo=UTC
    )


def _accounts(rw: Writer) -> None:
    """Schools, accounts, roles, locks, passwords and sessions: read from the ledger and the
    identity tables, current at once; the read models still wait for their position."""
    ids = rw.w.ids
    rw.write("POST", "/schools", "sysadmin", json={"name": "СОШ № 7"})
    rw.projected()
    login, password = "new.teacher", "a new password 2"
    account = rw.write(
        "POST", "/accounts", "sysadmin", json={"login": login, "person_id": str(uid(7001))}
    ).json()["id"]
    rw.projected()
    issued = rw.write("POST", f"/accounts/{account}/password-reset", "sysadmin").json()
    first = rw.write(
        "POST", "/auth/login", json={"login": login, "password": issued["temporary_password"]}
    ).json()
    renewed = rw.write(
        "POST",
        "/auth/password",
        headers=_bearer(first),
        json={"current_password": issued["temporary_password"], "new_password": password},
    ).json()
    token = _bearer(renewed)
    me = rw.send("GET", "/auth/me", headers=token).json()
    assert me["credential_version"] == renewed["credential_version"] > issued["credential_version"]
    grant = {"role": "teacher", "school_id": str(ids["school"])}
    rw.write("POST", f"/accounts/{account}/grants", "head", json=grant)
    assert grant in rw.send("GET", "/auth/me", headers=token).json()["grants"]
    rw.write("POST", f"/accounts/{account}/revocations", "head", json=grant)
    assert rw.send("GET", "/auth/me", headers=token).json()["grants"] == []
    rw.write("POST", "/auth/logout", headers=token)
    assert rw.send("GET", "/auth/me", headers=token).status_code == 401
    credentials = {"login": login, "password": password}
    rw.write("POST", f"/accounts/{account}/lock", "support", json={"reason": "Компрометация"})
    assert rw.send("POST", "/auth/login", json=credentials).status_code in (401, 403)
    rw.write("POST", f"/accounts/{account}/unlock", "support", json={"reason": "Выданы данные"})
    assert rw.send("POST", "/auth/login", json=credentials).status_code == 201
    rw.projected()


def _bearer(session: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['access_token']}"}


def _people(rw: Writer) -> None:
    """Personal data lives in the vault: read at once."""
    student, school = rw.w.ids["student"], rw.w.ids["school"]
    rw.write(
        "PUT",
        f"/people/{student}",
        "head",
        json={"full_name": "Иванов Иван", "school_id": str(school)},
    )
    assert rw.read(f"/people/{student}", "head")["full_name"] == "Иванов Иван"
    rw.write("POST", f"/people/{student}/forget", "head")
    assert rw.send("GET", f"/people/{student}", "head").status_code == 410


def _mail(rw: Writer, smtp: Smtp) -> None:
    """п. 1.6: subscriptions are ledger records, read from the ledger at once."""
    w, ids = rw.w, rw.w.ids
    assert w.services.mail is not None
    delivery, planner = w.services.mail.delivery, w.services.mail.planner
    body = {"school_id": str(ids["school"]), "year_start": YEAR, "student_id": str(ids["student"])}

    def state(subscription: str) -> str:
        (mine,) = [
            s
            for s in rw.read("/mail/subscriptions", "parent")
            if s["subscription_id"] == subscription
        ]
        return str(mine["state"])

    def confirmation(address: str) -> Any:
        delivery.deliver_due()
        return smtp.handler.to(address)[-1]

    first = rw.write(
        "POST", "/mail/subscriptions", "parent", json={**body, "address": "first@example.ru"}
    ).json()
    first_id = first["subscription_id"]
    assert state(first_id) == "pending"
    code = confirmation("first@example.ru").text().split("введите код ")[1].split()[0]
    rw.write("POST", f"/mail/subscriptions/{first_id}/confirmation", "parent", json={"code": code})
    assert state(first_id) == "active"
    rw.write("POST", f"/mail/subscriptions/{first_id}/cancellation", "parent")
    assert state(first_id) == "cancelled"

    second = rw.write(
        "POST", "/mail/subscriptions", "parent", json={**body, "address": "second@example.ru"}
    ).json()
    second_id = second["subscription_id"]
    (link,) = confirmation("second@example.ru").links("confirm")
    rw.write("POST", link)
    assert state(second_id) == "active"
    assert planner.plan_week("2025-W36") >= 1
    delivery.deliver_due()
    (unsubscribe,) = smtp.handler.to("second@example.ru")[-1].links("unsubscribe")
    rw.write("POST", unsubscribe)
    assert state(second_id) == "cancelled"
    rw.projected()


# --- the tests ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def following(backend_url: str, smtp_server: Smtp) -> Iterator[World]:
    """The test school, served, with its projector following the ledger in the background."""
    w = build_world(backend_url, environ=mail_environ(smtp_server.port))
    try:
        assert w.services.projector is not None
        w.services.projector.catch_up()  # type: ignore[attr-defined]
        w.services.projector.start()
        w.ids["victim"] = Account.create_id(login="victim")
        rw = Writer(w)
        rw.write(
            "POST", "/accounts", "sysadmin", json={"login": "victim", "person_id": str(uid(5100))}
        )
        rw.write(
            "POST",
            f"/accounts/{w.ids['victim']}/grants",
            "head",
            json={"role": "teacher", "school_id": str(w.ids["school"])},
        )
        yield w
    finally:
        w.client.__exit__(None, None, None)
        w.services.close()


def test_every_write_is_read_back_at_once(following: World, smtp: Smtp) -> None:
    rw = Writer(following)
    _journal_writes(rw)
    _plan(rw)
    _timetable(rw)
    _import(rw)
    _year_setup(rw)
    _rosters(rw)
    _curriculum(rw)
    _invalidations(rw)
    _accounts(rw)
    _people(rw)
    _mail(rw, smtp)
    assert sorted(set(ROUTES) - rw.written) == [], "write routes not read back"


def test_a_stale_position_of_another_database_is_not_waited_for(following: World) -> None:
    # A position beyond the ledger's head (a client that wrote to a database since restored
    # from an older backup) is not waited for: there is nothing to wait for.
    rw = Writer(following, position=following.services.projector.head() + 1_000_000)  # type: ignore[union-attr]
    assert rw.read("/auth/me", "head")["login"] == "head"
    page = rw.send("GET", "/health", headers={POSITION: "not a position"})
    assert page.status_code == 200


def test_a_request_is_refused_rather_than_answered_from_older_read_models(
    database_url: str,
) -> None:
    # Nothing projects here: a request that sends the position of a write waits, then is refused
    # with a 503 the client may retry, never answered without the write.
    services = bootstrap(
        Settings(database_url=database_url), environ={VAULT_KEY_VARIABLE: new_key()}, follow=False
    )
    try:
        assert services.freshness is not None
        services.freshness.wait_seconds = 0.3
        with TestClient(create_app(services), raise_server_exceptions=False) as client:
            c.handle(c.RegisterSchool(actor=SYSTEM_ACTOR, name="СОШ № 1"), services.ledger)
            position = services.projector.head()  # type: ignore[union-attr]
            refused = client.get("/health", headers={POSITION: str(position)})
            assert refused.status_code == 503, refused.text
            assert refused.json()["code"] == "service.unavailable"
            assert refused.headers["Retry-After"] == "1"
            services.projector.catch_up()  # type: ignore[union-attr]
            assert client.get("/health", headers={POSITION: str(position)}).status_code == 200
    finally:
        services.close()


def test_across_worker_processes(database_url: str, tmp_path: Path) -> None:
    """A real ``ejournal serve --workers 2``: the supervisor projects, the workers serve, and a
    teacher's corrections are read back at once through either worker."""
    clock = ManualClock(START)
    vault_key = new_key()
    services = bootstrap(
        Settings(database_url=database_url),
        clock=clock,
        environ={VAULT_KEY_VARIABLE: vault_key},
        follow=False,
    )
    try:
        school = build_school(services.ledger)
        lesson = school.lesson(school.russian, subject="Русский язык", slot=2)
        for who in ("russian", "head"):
            services.auth.provision(Account.create_id(login=who), PASSWORD)
    finally:
        services.close()
    port = free_port()
    server = serve(database_url, port, 2, {VAULT_KEY_VARIABLE: vault_key})
    base = f"http://{HOST}:{port}"
    try:
        wait_for(lambda: listeners(port) == 2, "2 listening sockets")
        wait_for(lambda: httpx.get(f"{base}/ready", timeout=10).status_code == 200, "ready")
        position = 0

        def call(method: str, path: str, token: str, **kwargs: Any) -> Any:
            nonlocal position
            headers = {"Authorization": f"Bearer {token}", POSITION: str(position)}
            # A connection of its own each time: the kernel spreads them over both workers.
            response = httpx.request(method, base + path, headers=headers, timeout=30, **kwargs)
            assert response.status_code < 300, response.text
            position = max(position, int(response.headers.get(POSITION, 0)))
            return response.json()

        def login(who: str) -> str:
            response = httpx.post(
                f"{base}/auth/login", json={"login": who, "password": PASSWORD}, timeout=30
            )
            assert response.status_code == 201, response.text
            return str(response.json()["access_token"])

        russian, head = login("russian"), login("head")
        page = f"/journal/{school.class_id}/{school.subjects['Русский язык']}"
        mark = call(
            "POST",
            f"/lessons/{lesson}/marks",
            russian,
            json={
                "student_id": str(school.students[0]),
                "value": 3,
                "work_type_id": str(school.work_types["Ответ на уроке"]),
            },
        )["id"]
        assert position > 0
        for value in (4, 5, 2, 3, 4, 5, 2, 3, 4, 5):
            call(
                "POST",
                f"/lessons/{lesson}/marks/{mark}/correction",
                russian,
                json={"value": value, "reason": "Ошибка ввода"},
            )
            assert _marks(call("GET", page, russian))[mark]["value"] == value
        call(
            "POST",
            f"/lessons/{lesson}/marks/{mark}/cancellation",
            russian,
            json={"reason": "Не тому ученику"},
        )
        assert _marks(call("GET", page, russian))[mark]["cancelled"] is True
        diary = f"/schools/{school.school_id}/years/{YEAR}/students/{school.students[0]}/diary"
        (shown,) = _diary_lessons(call("GET", diary, head, params=WEEK))[str(lesson)]["marks"]
        assert shown["cancelled"] is True
    finally:
        stop(server)
