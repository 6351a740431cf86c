"""The timetable over HTTP (п. 2.2, 2.3): the deputy sets it, the class's week follows; a substitute
finds the lesson among their own and writes it; a cancelled lesson is «урок отменён» in the
diary; a mark a substitute gave in a re-planned lesson has a receipt that proves both. On both
databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ejournal.cli.main import cli
from ejournal.ledger.checkpoints import Checkpointer
from ejournal.ledger.keys import KeyStore
from tests.api.conftest import World, copied_world, world_template
from tests.databases import Templates

SECRET = b"the school's key passphrase"
MONDAY = "2025-09-01"
runner = CliRunner()


def _ok(response: Any) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


def _week(w: World) -> list[dict[str, Any]]:
    """5«А»: mathematics first and Russian second every weekday, the English group third on
    Monday, Wednesday and Friday."""
    school = w.school
    entries = []
    for weekday in range(1, 6):
        entries.append(
            {
                "weekday": weekday,
                "slot": 1,
                "roster_id": str(school.class_id),
                "subject_id": str(w.ids["maths"]),
                "teacher_id": str(w.persons["maths"]),
                "room": "12",
            }
        )
        entries.append(
            {
                "weekday": weekday,
                "slot": 2,
                "roster_id": str(school.class_id),
                "subject_id": str(w.ids["russian"]),
                "teacher_id": str(w.persons["russian"]),
                "room": "14",
            }
        )
        if weekday in (1, 3, 5):
            entries.append(
                {
                    "weekday": weekday,
                    "slot": 3,
                    "roster_id": str(school.group_id),
                    "subject_id": str(w.ids["english"]),
                    "teacher_id": str(w.persons["english"]),
                }
            )
    return entries


def _prepare(w: World) -> None:
    """A signing key, and 5«А»'s timetable set by the deputy from 1 September."""
    services = w.services
    keys = KeyStore(services.ledger.database, clock=services.ledger.clock)
    keys.create(services.settings.origin, SECRET)
    w.ids["keys_text"] = "\n".join(k.vkey for k in keys.all_keys()) + "\n"
    w.ids["change"] = _ok(
        w.client.put(
            f"/classes/{w.ids['klass']}/timetable/{MONDAY}",
            headers=w.headers("deputy"),
            json={"entries": _week(w)},
        )
    )
    assert services.projector is not None
    services.projector.catch_up()


@pytest.fixture
def timetabled(module_backend: str, templates: Templates, tmp_path: Path) -> Iterator[World]:
    """The prepared world, a copy of its own for each test: tests change the timetable."""
    template = world_template(templates, prepare=_prepare)
    with copied_world(template, module_backend, tmp_path) as (w, _):
        services = w.services
        keys = KeyStore(services.ledger.database, clock=services.ledger.clock)
        w.ids["checkpointer"] = Checkpointer(
            services.ledger.database,
            origin=services.settings.origin,
            signers=keys.signers(SECRET),
            verifiers=keys.verifiers(),
            clock=services.ledger.clock,
        )
        yield w


def _monday_lesson(w: World, subject: str) -> dict[str, Any]:
    week = _ok(w.client.get(f"/classes/{w.ids['klass']}/week", headers=w.headers("head")))
    (found,) = [x for x in week["lessons"] if x["on"] == MONDAY and x["subject_id"] == subject]
    return found


def test_the_deputy_sets_the_timetable_and_everyone_reads_the_class_s_week(
    timetabled: World,
) -> None:
    # п. 2.2: the lessons follow from the timetable; the school reads it with names.
    w = timetabled
    change = w.ids["change"]
    assert change["effective_from"] == MONDAY
    assert change["scheduled"] > 400 and change["replanned"] == change["cancelled"] == 0
    assert change["kept"] == []
    timetable = _ok(
        w.client.get(
            f"/classes/{w.ids['klass']}/timetable",
            params={"on": "2025-09-03"},
            headers=w.headers("parent"),
        )
    )
    assert (timetable["class_name"], timetable["effective_from"]) == ("5«А»", MONDAY)
    assert timetable["versions"] == [MONDAY]
    first = timetable["entries"][0]
    assert (first["weekday"], first["slot"], first["subject"], first["room"]) == (
        1,
        1,
        "Математика",
        "12",
    )
    assert (first["starts_at"], first["ends_at"]) == ("08:30:00", "09:15:00")
    assert timetable["names"][first["teacher_id"]]  # the teacher's name, for the family too
    english = [e for e in timetable["entries"] if e["roster_kind"] == "group"]
    assert [e["weekday"] for e in english] == [1, 3, 5]
    assert english[0]["roster_name"] == "Группа 1"
    week = _ok(
        w.client.get(
            f"/classes/{w.ids['klass']}/week",
            params={"of": "2025-09-04"},
            headers=w.headers("student"),
        )
    )
    assert (week["starts_on"], week["ends_on"]) == (MONDAY, "2025-09-07")
    assert len(week["lessons"]) == 5 * 2 + 3
    assert [x["slot"] for x in week["lessons"] if x["on"] == MONDAY] == [1, 2, 3]
    # Before the first version there is no timetable, and the auditor reads without names.
    before = _ok(
        w.client.get(
            f"/classes/{w.ids['klass']}/timetable",
            params={"on": "2025-08-31"},
            headers=w.headers("auditor"),
        )
    )
    assert (before["effective_from"], before["entries"], before["names"]) == (None, [], {})


def test_only_the_administration_sets_it_and_mistakes_are_named(timetabled: World) -> None:
    # п. 2.2
    w = timetabled
    path = f"/classes/{w.ids['klass']}/timetable/2025-09-08"
    before = w.events()
    response = w.client.put(path, headers=w.headers("maths"), json={"entries": _week(w)})
    assert (response.status_code, response.json()["code"]) == (403, "setup.administration_only")
    wrong = _week(w)
    wrong[3]["slot"] = 7
    response = w.client.put(path, headers=w.headers("head"), json={"entries": wrong})
    assert (response.status_code, response.json()["code"]) == (422, "timetable.unknown_slot")
    assert response.json()["title"].startswith("вторник, 7-й урок")
    wrong = _week(w)
    wrong[0]["weekday"] = "1"  # a number, as JSON writes it
    response = w.client.put(path, headers=w.headers("head"), json={"entries": wrong})
    assert response.status_code == 422
    assert w.events() == before


def test_a_substitute_finds_the_lesson_among_their_own_and_writes_it(timetabled: World) -> None:
    # п. 2.3: the deputy names the Russian teacher for the English group's Monday lesson.
    w = timetabled
    english = _monday_lesson(w, str(w.ids["english"]))
    lesson = english["lesson_id"]
    _ok(
        w.client.put(
            f"/lessons/{lesson}/substitute",
            headers=w.headers("deputy"),
            json={"teacher_id": str(w.persons["russian"]), "reason": "Курсы повышения"},
        )
    )
    w.services.projector.catch_up()
    mine = _ok(
        w.client.get(
            "/me/lessons", params={"from": MONDAY, "to": MONDAY}, headers=w.headers("russian")
        )
    )
    taken = [x for x in mine["lessons"] if x["lesson_id"] == lesson]
    assert len(taken) == 1 and taken[0]["substitute_for"] == str(w.persons["english"])
    assert mine["names"][str(w.persons["english"])]
    own = _ok(
        w.client.get(
            "/me/lessons", params={"from": MONDAY, "to": MONDAY}, headers=w.headers("english")
        )
    )
    assert lesson not in [x["lesson_id"] for x in own["lessons"]]
    pupils = _ok(
        w.client.get(
            f"/rosters/{w.ids['group']}/students",
            params={"on": MONDAY},
            headers=w.headers("russian"),
        )
    )
    student = pupils["items"][0]["student_id"]
    _ok(
        w.client.put(
            f"/lessons/{lesson}/attendance",
            headers=w.headers("russian"),
            json={"codes": {student: "ОП"}},
        )
    )
    refused = w.client.put(
        f"/lessons/{lesson}/topic", headers=w.headers("english"), json={"topic": "Числа"}
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "lesson.substituted")
    w.services.projector.catch_up()
    shown = _monday_lesson(w, str(w.ids["english"]))
    assert (shown["teacher_id"], shown["substitute_for"]) == (
        str(w.persons["russian"]),
        str(w.persons["english"]),
    )
    assert shown["substitution_reason"] == "Курсы повышения"
    family = _ok(w.client.get(f"/classes/{w.ids['klass']}/week", headers=w.headers("parent")))
    (seen,) = [x for x in family["lessons"] if x["lesson_id"] == lesson]
    assert seen["substitution_reason"] is None  # the staff's to read
    assert family["names"][str(w.persons["russian"])]


def test_a_cancelled_lesson_is_marked_in_the_diary_and_takes_no_records(
    timetabled: World,
) -> None:
    # п. 2.2, 1.5: the parent's diary says the lesson was cancelled; nobody writes it.
    w = timetabled
    lesson = _monday_lesson(w, str(w.ids["russian"]))["lesson_id"]
    refused = w.client.post(
        f"/lessons/{lesson}/cancellation", headers=w.headers("russian"), json={"reason": "x"}
    )
    assert (refused.status_code, refused.json()["code"]) == (403, "lesson.administration_only")
    _ok(
        w.client.post(
            f"/lessons/{lesson}/cancellation",
            headers=w.headers("head"),
            json={"reason": "Олимпиада"},
        )
    )
    refused = w.client.put(
        f"/lessons/{lesson}/homework", headers=w.headers("russian"), json={"text": "Упр. 1"}
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "lesson.cancelled")
    w.services.projector.catch_up()
    diary = f"/schools/{w.ids['school']}/years/2025/students/{w.ids['student']}/diary"
    query = {"from": MONDAY, "to": MONDAY}
    family = _ok(w.client.get(diary, params=query, headers=w.headers("parent")))
    entries = {e["lesson"]["lesson_id"]: e["lesson"] for e in family["days"][0]["lessons"]}
    assert entries[lesson]["cancelled"] is True
    assert "cancellation_reason" not in entries[lesson]
    assert sum(e["cancelled"] for e in entries.values()) == 1
    staff = _ok(w.client.get(diary, params=query, headers=w.headers("head")))
    (shown,) = [
        e["lesson"] for e in staff["days"][0]["lessons"] if e["lesson"]["lesson_id"] == lesson
    ]
    assert (shown["cancelled"], shown["cancellation_reason"]) == (True, "Олимпиада")


def test_a_substitute_s_mark_in_a_re_planned_lesson_has_a_receipt_that_proves_both(
    timetabled: World, tmp_path: Path
) -> None:
    # п. 2.2, 2.3, 1.6: from 2 September Tuesday's first lesson is Russian; the maths teacher
    # takes the one of 2 September and marks a pupil; the receipt proves subject and teacher.
    w = timetabled
    changed = _week(w)
    changed[3] = {
        **changed[3],
        "subject_id": str(w.ids["russian"]),
        "teacher_id": str(w.persons["russian"]),
    }
    changed[4] = {
        **changed[4],
        "subject_id": str(w.ids["maths"]),
        "teacher_id": str(w.persons["maths"]),
    }
    change = _ok(
        w.client.put(
            f"/classes/{w.ids['klass']}/timetable/2025-09-02",
            headers=w.headers("deputy"),
            json={"entries": changed},
        )
    )
    assert change["replanned"] > 0 and change["kept"] == []
    w.services.projector.catch_up()
    week = _ok(
        w.client.get(
            f"/classes/{w.ids['klass']}/week",
            params={"of": "2025-09-02"},
            headers=w.headers("head"),
        )
    )
    (first,) = [x for x in week["lessons"] if x["on"] == "2025-09-02" and x["slot"] == 1]
    assert first["subject_id"] == str(w.ids["russian"])
    lesson = first["lesson_id"]
    _ok(
        w.client.put(
            f"/lessons/{lesson}/substitute",
            headers=w.headers("deputy"),
            json={"teacher_id": str(w.persons["maths"]), "reason": "Болезнь учителя"},
        )
    )
    monday = w.clock()
    w.clock.set(datetime(2025, 9, 2, 6, 0, tzinfo=UTC))  # 09:00 in Moscow
    for who in ("maths", "parent"):  # a day later: a session of its own
        w.login(who)
    mark = _ok(
        w.client.post(
            f"/lessons/{lesson}/marks",
            headers=w.headers("maths"),
            json={
                "student_id": str(w.ids["student"]),
                "value": 5,
                "work_type_id": str(w.ids["answer"]),
            },
        )
    )["id"]
    w.services.projector.catch_up()
    w.ids["checkpointer"].checkpoint(w.school.log_id)
    response = w.client.get(f"/lessons/{lesson}/marks/{mark}/receipt", headers=w.headers("parent"))
    assert response.status_code == 200, response.text
    document = response.json()
    assert len(document["records"]) == 4  # scheduled, re-planned, substitute, the mark
    assert document["mark"]["subject_id"] == str(w.ids["russian"])
    assert document["mark"]["teacher_id"] == str(w.persons["maths"])
    assert "Предмет: Русский язык" in document["explanation"]
    saved, keys = tmp_path / "otmetka.json", tmp_path / "school.vkeys"
    saved.write_bytes(response.content)
    keys.write_text(w.ids["keys_text"], encoding="utf-8")
    result = runner.invoke(cli, ["verify-proof", str(saved), "--key", str(keys), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["teacher_id"] == str(w.persons["maths"])
    w.clock.set(monday)
    for who in ("maths", "parent"):
        w.login(who)
