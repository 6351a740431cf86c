"""Names from the vault in what people read (п. 1.7, I9; issue 20): the read models keep IDs
only, and each read joins the names of the people it shows, for a reader allowed to see them —
the school's staff, and the family in its diary; auditors get IDs only. Every read that shows a
child is in the access log. A forgotten person reads «данные удалены», one never entered «имя не
внесено». Both databases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from ejournal.identity.access_log import Access
from ejournal.identity.vault import VAULT_KEY_VARIABLE, PersonalData
from tests.api.conftest import World, build_world
from tests.commands.school import YEAR

PUPIL = "Иванова Мария Петровна"
TEACHER = "Петрова Анна Сергеевна"
PARENT = "Алиева Патимат Расуловна"


def _name(w: World, person: UUID, full_name: str) -> None:
    assert w.services.vault is not None
    w.services.vault.put(person, PersonalData(full_name), school_id=w.ids["school"], now=w.clock())


def _names(w: World) -> None:
    """The test student, the Russian teacher and the parent, in the vault."""
    _name(w, w.ids["student"], PUPIL)
    _name(w, w.persons["russian"], TEACHER)
    _name(w, w.persons["parent"], PARENT)


def _lesson_with_a_mark(w: World, on: str = "2025-09-01") -> str:
    lesson = w.client.post(
        "/lessons",
        headers=w.headers("russian"),
        json={
            "roster_id": str(w.ids["klass"]),
            "subject_id": str(w.ids["russian"]),
            "on": on,
            "slot": 2,
            "topic": "Звуки и буквы",
        },
    )
    assert lesson.status_code == 201, lesson.text
    _mark(w, lesson.json()["id"])
    return str(lesson.json()["id"])


def _mark(w: World, lesson: str) -> Any:
    mark = w.client.post(
        f"/lessons/{lesson}/marks",
        headers=w.headers("russian"),
        json={
            "student_id": str(w.ids["student"]),
            "value": 4,
            "work_type_id": str(w.ids["answer"]),
        },
    )
    assert mark.status_code == 201, mark.text
    w.services.projector.catch_up()  # type: ignore[union-attr]
    return mark.json()


def _logged(w: World, what: Access, subject: UUID | str) -> list[tuple[UUID, str, Any]]:
    entries = w.services.access_log.entries(subject_id=UUID(str(subject)), limit=10_000)
    return [(e.reader_account_id, e.reader_role, e.school_id) for e in entries if e.what is what]


def _problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


def _diary(w: World, who: str) -> Any:
    path = f"/schools/{w.ids['school']}/years/{YEAR}/students/{w.ids['student']}/diary"
    response = w.client.get(
        path, params={"from": "2025-09-01", "to": "2025-09-07"}, headers=w.headers(who)
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_the_class_journal_names_its_pupils_teachers_and_who_recorded(fresh_world: World) -> None:
    # п. 1.7, I9: the staff read the page with names from the vault; the read is logged.
    w = fresh_world
    _names(w)
    _lesson_with_a_mark(w)
    student, teacher = str(w.ids["student"]), w.persons["russian"]
    pupils = [str(s) for s in w.school.students]
    for who in ("russian", "maths", "head"):  # the teacher, the class teacher, the head
        before = len(_logged(w, Access.CLASS_JOURNAL, w.ids["klass"]))
        page = w.client.get(f"/journal/{w.ids['klass']}/{w.ids['russian']}", headers=w.headers(who))
        assert page.status_code == 200, page.text
        names = page.json()["names"]
        assert names[student] == "Иванова Мария"  # a pupil: surname and given name
        assert names[str(teacher)] == "Петрова А. С."  # the lesson's teacher: initials
        assert names[str(w.accounts["russian"])] == "Петрова А. С."  # who recorded the mark
        # Every pupil of the page has a name, entered or not.
        assert {row["student_id"] for row in page.json()["rows"]} == set(pupils)
        assert {names[p] for p in pupils if p != student} == {"имя не внесено"}
        assert set(names) == {*pupils, str(teacher), str(w.accounts["russian"])}
        # п. 1.7: the page read is in the access log, under its school.
        logged = _logged(w, Access.CLASS_JOURNAL, w.ids["klass"])[before:]
        assert [(reader, school) for reader, _, school in logged] == [
            (w.accounts[who], w.ids["school"])
        ]


def test_pupils_are_listed_as_a_class_list_is_by_name(fresh_world: World) -> None:
    # п. 2.4, 2.9: the class journal, the summary sheet and a roster's pupils list the pupils by
    # name («ё» as «е»), whatever their IDs; a pupil with no name to show comes last, by ID.
    w = fresh_world
    pupils = sorted(w.school.students, key=str, reverse=True)  # names against the IDs' order
    full_names = ["Ёлкина Анна", "Абрамов Илья", "Еремеев Пётр", "Жуков Олег", "Борисова Ия"]
    for pupil, full_name in zip(pupils, full_names, strict=False):
        _name(w, pupil, full_name)
    forgotten = pupils[1]
    assert (
        w.client.post(f"/people/{forgotten}/forget", headers=w.headers("head")).status_code == 200
    )
    named = ["Борисова Ия", "Ёлкина Анна", "Еремеев Пётр", "Жуков Олег"]
    unnamed = sorted(str(p) for p in pupils if p not in pupils[:5] or p == forgotten)
    _lesson_with_a_mark(w)
    page = w.client.get(f"/journal/{w.ids['klass']}/{w.ids['russian']}", headers=w.headers("head"))
    sheet = w.client.get(f"/classes/{w.ids['klass']}/summary-sheet", headers=w.headers("head"))
    roster = [
        w.client.get(
            f"/rosters/{w.ids['klass']}/students",
            params={"limit": 3, "offset": offset, "on": "2025-09-01"},
            headers=w.headers("head"),
        ).json()
        for offset in range(0, len(pupils), 3)
    ]
    listed = {
        "journal": (page.json()["rows"], page.json()["names"]),
        "summary sheet": (sheet.json()["rows"], sheet.json()["names"]),
        "roster": (
            [item for part in roster for item in part["items"]],
            {k: v for part in roster for k, v in part["names"].items()},
        ),
    }
    for what, (rows, names) in listed.items():
        order = [str(row["student_id"]) for row in rows]
        assert [names[p] for p in order[:4]] == named, what
        assert order[4:] == unnamed, what


def test_the_diary_names_are_joined_at_each_read_never_cached(fresh_world: World) -> None:
    # п. 1.7: the family sees the child's and the teachers' names, not who recorded what; a name
    # replaced or forgotten in the vault shows at the next read of the same rendered diary.
    w = fresh_world
    _names(w)
    _lesson_with_a_mark(w)
    student, teacher = str(w.ids["student"]), str(w.persons["russian"])
    before = len(_logged(w, Access.DIARY, student))
    for who in ("parent", "student"):
        assert _diary(w, who)["names"] == {student: "Иванова Мария", teacher: "Петрова А. С."}
    staff = _diary(w, "head")["names"]
    assert staff == {
        student: "Иванова Мария",
        teacher: "Петрова А. С.",
        str(w.accounts["russian"]): "Петрова А. С.",  # who recorded: the staff's only
    }
    # The vault changes, the read models do not: the diaries are served from the cache.
    _name(w, w.persons["russian"], "Петрова-Гаджиева Анна Сергеевна")
    assert _diary(w, "parent")["names"][teacher] == "Петрова-Гаджиева А. С."
    forgotten = w.client.post(f"/people/{student}/forget", headers=w.headers("head"))
    assert forgotten.status_code == 200, forgotten.text
    assert _diary(w, "parent")["names"][student] == "данные удалены"
    assert _diary(w, "head")["names"][student] == "данные удалены"
    # п. 1.7: each of the six reads is in the access log.
    assert len(_logged(w, Access.DIARY, student)) - before == 6


def test_the_summary_sheet_and_the_monitor_name_the_pupils_and_teachers(fresh_world: World) -> None:
    # п. 1.7, 2.9, 2.5: the sheet names its pupils and who set each mark; the monitor the
    # teacher and the pupil of a late mark, each pupil it names logged.
    w = fresh_world
    _names(w)
    lesson = _lesson_with_a_mark(w)
    attestation = w.client.put(
        f"/rosters/{w.ids['klass']}/subjects/{w.ids['russian']}/attestation",
        headers=w.headers("russian"),
        json={
            "student_id": str(w.ids["student"]),
            "kind": "period",
            "period": "I четверть",
            "value": "5",
        },
    )
    assert attestation.status_code == 200, attestation.text
    w.clock.advance(timedelta(days=2))  # a mark of Monday's lesson entered on Wednesday: late
    for who in ("russian", "maths", "head"):
        w.login(who)  # the sessions of Monday expired
    _mark(w, lesson)
    student, teacher = str(w.ids["student"]), str(w.persons["russian"])
    sheet = w.client.get(f"/classes/{w.ids['klass']}/summary-sheet", headers=w.headers("head"))
    assert sheet.status_code == 200, sheet.text
    names = sheet.json()["names"]
    assert names[student] == "Иванова Мария"
    assert names[str(w.accounts["russian"])] == "Петрова А. С."
    assert len(names) == len(w.school.students) + 1
    before = len(_logged(w, Access.MONITOR, student))
    monitor = w.client.get(
        f"/schools/{w.ids['school']}/years/{YEAR}/monitor",
        params={"class_id": str(w.ids["klass"])},
        headers=w.headers("maths"),  # the class teacher
    )
    assert monitor.status_code == 200, monitor.text
    flags = [f for f in monitor.json()["flags"] if f["student_id"] == student]
    assert flags and all(f["teacher_id"] == teacher for f in flags)
    assert monitor.json()["names"][student] == "Иванова Мария"
    assert monitor.json()["names"][teacher] == "Петрова А. С."
    assert _logged(w, Access.MONITOR, student)[before:] == [
        (w.accounts["maths"], "class_teacher", w.ids["school"])
    ]


def test_the_reentry_worklist_names_its_children_for_the_staff_only(world: World) -> None:
    # п. 4.4, 1.7: the head sees whose operations to enter again and for which child; the
    # auditor IDs only. Every child a worklist names is logged, under the record's school.
    w = world
    _names(w)
    lesson = _lesson_with_a_mark(w)
    session = w.client.get("/auth/me", headers=w.headers("russian")).json()["session_id"]
    body = {"school_id": str(w.ids["school"]), "reason": "вход с чужого устройства"}
    invalidated = w.client.post(
        f"/sessions/{session}/invalidation", headers=w.headers("head"), json=body
    )
    assert invalidated.status_code == 201, invalidated.text
    w.login("russian")  # the invalidated session ended: the module's world keeps a live one
    w.services.projector.catch_up()  # type: ignore[union-attr]
    student, account = str(w.ids["student"]), str(w.accounts["russian"])
    before = len(_logged(w, Access.REENTRY, student))
    by_head = w.client.get("/reentry", headers=w.headers("head")).json()
    marked = [i for i in by_head if i["event"] == "Lesson.MarkRecorded"]
    assert [i["originator_id"] for i in marked] == [lesson]
    assert marked[0]["names"] == {student: "Иванова Мария", account: "Петрова А. С."}
    scheduled = [i for i in by_head if i["event"] == "Lesson.Scheduled"]
    assert scheduled and all(i["names"] == {account: "Петрова А. С."} for i in scheduled)
    by_auditor = w.client.get("/reentry", headers=w.headers("auditor")).json()
    assert len(by_auditor) == len(by_head) and all(i["names"] == {} for i in by_auditor)
    assert _logged(w, Access.REENTRY, student)[before:] == [
        (w.accounts["head"], "head", w.ids["school"]),
        (w.accounts["auditor"], "auditor", w.ids["school"]),
    ]


def test_the_access_log_names_readers_and_children_for_the_head_only(world: World) -> None:
    # п. 1.7: the head reads who read whose data by name, and that reading is logged in turn;
    # an auditor reads IDs only, and reads no name to log.
    w = world
    _names(w)
    student, parent = str(w.ids["student"]), str(w.accounts["parent"])
    _diary(w, "parent")
    journal = f"/journal/{w.ids['klass']}/{w.ids['russian']}"
    assert w.client.get(journal, headers=w.headers("head")).status_code == 200
    before = len(w.services.access_log.entries(limit=100_000))
    params = {"school_id": str(w.ids["school"]), "limit": 1000}
    listing = w.client.get("/access-log", params=params, headers=w.headers("head"))
    assert listing.status_code == 200, listing.text
    diary_reads = [
        e for e in listing.json() if e["what"] == "diary" and e["reader_account_id"] == parent
    ]
    assert diary_reads[-1]["names"] == {parent: "Алиева П. Р.", student: "Иванова Мария"}
    pages = [e for e in listing.json() if e["what"] in ("class_journal", "summary_sheet")]
    assert pages and all(e["subject_id"] not in e["names"] for e in pages)
    # The head's reading of the children's names is in the access log.
    logged = w.services.access_log.entries(limit=100_000)[before:]
    assert student in {str(e.subject_id) for e in logged}
    assert {(e.what, e.reader_account_id, e.school_id) for e in logged} == {
        (Access.ACCESS_LOG, w.accounts["head"], w.ids["school"])
    }
    before = len(w.services.access_log.entries(limit=100_000))
    by_auditor = w.client.get("/access-log", params=params, headers=w.headers("auditor"))
    assert by_auditor.status_code == 200, by_auditor.text
    assert all(e["names"] == {} for e in by_auditor.json())
    assert len(w.services.access_log.entries(limit=100_000)) == before


def test_the_access_log_pages_newest_first_before_an_entry(world: World) -> None:
    # п. 1.7: a head opens the log to see who read what lately: ``before_id`` pages back from
    # the latest entry; ``after_id`` pages forward from the oldest, as before.
    w = world
    for _ in range(3):
        _diary(w, "parent")
    params = {"school_id": str(w.ids["school"]), "limit": 4}
    oldest = w.client.get("/access-log", params=params, headers=w.headers("auditor")).json()
    assert [e["id"] for e in oldest] == sorted(e["id"] for e in oldest)
    latest = w.client.get(
        "/access-log", params={**params, "before_id": 2**62}, headers=w.headers("auditor")
    ).json()
    ids = [e["id"] for e in latest]
    assert ids == sorted(ids, reverse=True) and len(ids) == 4
    everything = w.services.access_log.entries(school_id=w.ids["school"], limit=100_000)
    assert ids[0] == max(e.id for e in everything)
    earlier = w.client.get(
        "/access-log", params={**params, "before_id": ids[-1]}, headers=w.headers("auditor")
    ).json()
    assert earlier and all(e["id"] < ids[-1] for e in earlier)
    assert [e["id"] for e in earlier] == sorted((e["id"] for e in earlier), reverse=True)
    _problem(
        w.client.get(
            "/access-log", params={**params, "before_id": 0}, headers=w.headers("auditor")
        ),
        422,
        "request.invalid",
    )


def test_readers_without_the_right_get_no_names(world: World) -> None:
    # п. 1.7, 2.1: whoever may not read the page reads no name on it: refused as before.
    w = world
    journal = f"/journal/{w.ids['klass']}/{w.ids['russian']}"
    for who in ("auditor", "parent", "student", "english"):
        _problem(w.client.get(journal, headers=w.headers(who)), 403, "access.denied")
    _problem(w.client.get(journal, headers=w.headers("support")), 403, "access.support_no_journal")
    path = f"/schools/{w.ids['school']}/years/{YEAR}/students/{w.ids['student']}/diary"
    _problem(w.client.get(path, headers=w.headers("other_parent")), 403, "access.denied")
    _problem(w.client.get(path, headers=w.headers("auditor")), 403, "access.denied")
    sheet = f"/classes/{w.ids['klass']}/summary-sheet"
    _problem(w.client.get(sheet, headers=w.headers("russian")), 403, "access.denied")
    _problem(w.client.get("/access-log", headers=w.headers("deputy")), 403, "access.denied")


def test_without_a_vault_the_reads_answer_with_ids_only(database_url: str) -> None:
    # п. 1.7: no key-encryption key, no names: the journal still reads, with IDs.
    w = build_world(database_url, roles=("russian",), environ={VAULT_KEY_VARIABLE: ""})
    try:
        assert w.services.vault is None
        _lesson_with_a_mark(w)
        page = w.client.get(
            f"/journal/{w.ids['klass']}/{w.ids['russian']}", headers=w.headers("russian")
        )
        assert page.status_code == 200, page.text
        assert page.json()["names"] == {} and page.json()["rows"]
    finally:
        w.client.__exit__(None, None, None)
        w.services.close()
