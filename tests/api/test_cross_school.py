"""A right held in one school reads and writes nothing of another's (п. 1.5–1.7, 2.1–2.4).

Every endpoint that takes an ID (read from the app's OpenAPI document: a path, query or body field
that is a UUID or named ``*_id``) is walked with the IDs of СОШ № 2 by the head, deputy, a
teacher, the class teacher, a student and a parent of СОШ № 1: each is refused (403 or 404, a
problem with a known code), nothing is written (ledger, vault, access log, mail, credentials),
and no read is filed in the access log. An endpoint added later is walked, or listed in
``EXCLUDED`` with a reason, or this test fails.

Then the links that would carry one school's data into another (``CROSS_LINKS``): the first
school's own path with the second school's pupil, parent, teacher or subject in it; and what a
transfer of a pupil between the schools leaves each school to read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from ejournal import commands as c
from ejournal.api.app import openapi_document
from ejournal.api.errors import API_CATALOGUE, PROBLEM_JSON
from ejournal.commands.errors import CATALOGUE
from tests.api.conftest import OTHER_ROLES, World, copied_world, world_template
from tests.commands.school import YEAR, TestSchool, uid
from tests.conftest import BACKENDS
from tests.databases import Templates

CALLERS = ("head", "deputy", "russian", "maths", "student", "parent")
"""The first school's head, deputy, a subject teacher, the class teacher of 5«А» (who also teaches
mathematics there), a student and a parent."""

PARENT2 = uid(15001)
"""The parent of the second school's first student (``tests.api.conftest``)."""


# --- the ID-taking endpoints, from the OpenAPI document ------------------------------------------


def _is_id(name: str, schema: dict[str, Any]) -> bool:
    variants = [schema, *schema.get("anyOf", ())]
    if any(v.get("format") == "uuid" for v in variants):
        return True
    if any(v.get("propertyNames", {}).get("format") == "uuid" for v in variants):
        return True  # a map keyed by IDs: attendance codes, a class work's marks
    return name.endswith("_id")


def id_endpoints(document: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    """(method, path) → where it takes IDs (``path:class_id``, ``body:student_id`` …)."""
    components = document["components"]["schemas"]
    found: dict[tuple[str, str], list[str]] = {}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            fields = [
                f"{p['in']}:{p['name']}"
                for p in operation.get("parameters", ())
                if _is_id(p["name"], p.get("schema", {}))
            ]
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                ref = body["schema"].get("$ref", "")
                schema = components.get(ref.rsplit("/", 1)[-1], {})
                fields += [
                    f"body:{name}"
                    for name, prop in schema.get("properties", {}).items()
                    if _is_id(name, prop)
                ]
            if fields:
                found[(method.upper(), path)] = fields
    return found


# --- the second school's records --------------------------------------------------------------


@dataclass
class Other:
    """What the walk names: the second school's records."""

    school: TestSchool
    lesson: UUID
    mark: UUID
    session: UUID
    """A session of the second school's student."""
    report: UUID
    """A breach report about the second school's English teacher's login."""
    rule: UUID
    subscription: UUID
    accounts: dict[str, UUID]

    @property
    def year(self) -> str:
        return f"/schools/{self.school.school_id}/years/{YEAR}"

    @property
    def student(self) -> UUID:
        return self.school.students[0]

    @property
    def russian(self) -> UUID:
        return self.school.subjects["Русский язык"]

    @property
    def answer(self) -> UUID:
        return self.school.work_types["Ответ на уроке"]


Request = tuple[str, dict[str, str] | None, dict[str, Any] | bytes | None]
"""(path, query, body) of one request: a JSON body, or a file's bytes (an import's CSV)."""
Build = Callable[[Other], Request]


def _get(path: Callable[[Other], str], **query: Callable[[Other], object]) -> Build:
    return lambda o: (path(o), {k: str(v(o)) for k, v in query.items()}, None)


def _send(path: Callable[[Other], str], body: Callable[[Other], dict[str, Any]]) -> Build:
    return lambda o: (path(o), None, body(o))


def _upload(path: Callable[[Other], str], content: bytes) -> Build:
    return lambda o: (path(o), {"dry_run": "false"}, content)


PUPILS_CSV = "Класс;Фамилия;Имя\r\n5А;Чужой;Ученик\r\n".encode()
REASON = {"reason": "Проверка"}
DAY = "2025-09-02"

WALK: dict[tuple[str, str], list[Build]] = {
    # Reading (п. 1.5, 1.6, 2.2–2.4, 2.9).
    ("GET", "/journal/{roster_id}/{subject_id}"): [
        _get(lambda o: f"/journal/{o.school.class_id}/{o.russian}")
    ],
    ("GET", "/schools/{school_id}/years/{year_start}/students/{student_id}/diary"): [
        _get(lambda o: f"{o.year}/students/{o.student}/diary"),
        _get(
            lambda o: f"{o.year}/students/{o.student}/diary", class_id=lambda o: o.school.class_id
        ),
    ],
    ("GET", "/schools/{school_id}/years/{year_start}/students/{student_id}/marks"): [
        _get(lambda o: f"{o.year}/students/{o.student}/marks")
    ],
    ("GET", "/lessons/{lesson_id}/marks/{mark_id}/receipt"): [
        _get(lambda o: f"/lessons/{o.lesson}/marks/{o.mark}/receipt")
    ],
    ("GET", "/classes/{class_id}/summary-sheet"): [
        _get(lambda o: f"/classes/{o.school.class_id}/summary-sheet")
    ],
    ("GET", "/journal/{roster_id}/{subject_id}/printout"): [
        _get(lambda o: f"/journal/{o.school.class_id}/{o.russian}/printout")
    ],
    ("GET", "/schools/{school_id}/years/{year_start}/students/{student_id}/diary/printout"): [
        _get(lambda o: f"{o.year}/students/{o.student}/diary/printout"),
        _get(
            lambda o: f"{o.year}/students/{o.student}/diary/printout",
            class_id=lambda o: o.school.class_id,
        ),
    ],
    ("GET", "/classes/{class_id}/summary-sheet/printout"): [
        _get(lambda o: f"/classes/{o.school.class_id}/summary-sheet/printout")
    ],
    ("GET", "/schools/{school_id}/years/{year_start}/monitor"): [
        _get(lambda o: f"{o.year}/monitor"),
        _get(lambda o: f"{o.year}/monitor", class_id=lambda o: o.school.class_id),
        _get(lambda o: f"{o.year}/monitor", teacher_id=lambda o: o.school.person["russian"]),
    ],
    ("GET", "/classes/{class_id}/mail-bounces"): [
        _get(lambda o: f"/classes/{o.school.class_id}/mail-bounces")
    ],
    # Import and export (п. 2.2, 2.9).
    ("POST", "/schools/{school_id}/years/{year_start}/import"): [
        _upload(lambda o: f"{o.year}/import", PUPILS_CSV)
    ],
    ("GET", "/schools/{school_id}/years/{year_start}/export"): [
        _get(lambda o: f"{o.year}/export"),
        _get(lambda o: f"{o.year}/export", format=lambda o: "csv", kind=lambda o: "pupils"),
    ],
    ("GET", "/journal/{roster_id}/{subject_id}/export"): [
        _get(lambda o: f"/journal/{o.school.class_id}/{o.russian}/export", format=lambda o: "csv")
    ],
    ("GET", "/classes/{class_id}/summary-sheet/export"): [
        _get(lambda o: f"/classes/{o.school.class_id}/summary-sheet/export")
    ],
    # The lists (п. 2.2–2.6): another school's year and rosters list nothing.
    ("GET", "/schools/{school_id}/years/{year_start}/classes"): [
        _get(lambda o: f"{o.year}/classes"),
        _get(lambda o: f"{o.year}/classes", grade=lambda o: 5),
    ],
    ("GET", "/schools/{school_id}/years/{year_start}/teachers"): [
        _get(lambda o: f"{o.year}/teachers")
    ],
    ("GET", "/schools/{school_id}/years/{year_start}/subjects"): [
        _get(lambda o: f"{o.year}/subjects")
    ],
    ("GET", "/schools/{school_id}/years/{year_start}/work-types"): [
        _get(lambda o: f"{o.year}/work-types")
    ],
    ("GET", "/schools/{school_id}/years/{year_start}/periods"): [
        _get(lambda o: f"{o.year}/periods", scheme=lambda o: "quarters")
    ],
    ("GET", "/rosters/{roster_id}/students"): [
        _get(lambda o: f"/rosters/{o.school.class_id}/students"),
        _get(lambda o: f"/rosters/{o.school.group_id}/students", on=lambda o: DAY),
    ],
    # The journal (п. 2.3–2.8).
    ("POST", "/lessons"): [
        _send(
            lambda o: "/lessons",
            lambda o: {
                "roster_id": str(o.school.class_id),
                "subject_id": str(o.russian),
                "teacher_id": str(o.school.person["russian"]),
                "on": DAY,
                "slot": 3,
            },
        )
    ],
    ("PUT", "/lessons/{lesson_id}/topic"): [
        _send(lambda o: f"/lessons/{o.lesson}/topic", lambda o: {"topic": "Чужая тема"})
    ],
    ("PUT", "/lessons/{lesson_id}/attendance"): [
        _send(
            lambda o: f"/lessons/{o.lesson}/attendance",
            lambda o: {"codes": {str(o.student): "Н"}},
        )
    ],
    ("POST", "/lessons/{lesson_id}/marks"): [
        _send(
            lambda o: f"/lessons/{o.lesson}/marks",
            lambda o: {
                "student_id": str(o.student),
                "value": 2,
                "work_type_id": str(o.answer),
                "mark_id": str(o.mark),
            },
        )
    ],
    ("POST", "/lessons/{lesson_id}/class-work"): [
        _send(
            lambda o: f"/lessons/{o.lesson}/class-work",
            lambda o: {
                "work_type_id": str(o.answer),
                "marks": {str(o.student): 2},
                "batch_id": str(o.mark),
            },
        )
    ],
    ("POST", "/lessons/{lesson_id}/marks/{mark_id}/correction"): [
        _send(
            lambda o: f"/lessons/{o.lesson}/marks/{o.mark}/correction",
            lambda o: {"value": 2, **REASON},
        )
    ],
    ("POST", "/lessons/{lesson_id}/marks/{mark_id}/cancellation"): [
        _send(lambda o: f"/lessons/{o.lesson}/marks/{o.mark}/cancellation", lambda o: REASON)
    ],
    ("PUT", "/lessons/{lesson_id}/homework"): [
        _send(lambda o: f"/lessons/{o.lesson}/homework", lambda o: {"text": "Чужое задание"})
    ],
    ("POST", "/lessons/{lesson_id}/comments"): [
        _send(
            lambda o: f"/lessons/{o.lesson}/comments",
            lambda o: {"student_id": str(o.student), "text": "Чужой комментарий"},
        )
    ],
    ("POST", "/messages"): [
        _send(
            lambda o: "/messages",
            lambda o: {
                "roster_id": str(o.school.class_id),
                "subject_id": str(o.russian),
                "student_id": str(o.student),
                "text": "Чужое сообщение",
            },
        )
    ],
    ("PUT", "/rosters/{roster_id}/subjects/{subject_id}/attestation"): [
        _send(
            lambda o: f"/rosters/{o.school.class_id}/subjects/{o.russian}/attestation",
            lambda o: {
                "student_id": str(o.student),
                "kind": "period",
                "period": "I четверть",
                "value": "2",
            },
        )
    ],
    # Accounts (п. 2.1, 4.3).
    ("POST", "/accounts"): [
        _send(
            lambda o: "/accounts",
            lambda o: {"login": "chuzhoy.uchenik", "person_id": str(o.school.students[1])},
        )
    ],
    ("POST", "/accounts/{account_id}/grants"): [
        _send(
            lambda o: f"/accounts/{o.accounts['russian2']}/grants",
            lambda o: {"role": "class_teacher", "school_id": str(o.school.school_id)},
        )
    ],
    ("POST", "/accounts/{account_id}/revocations"): [
        _send(
            lambda o: f"/accounts/{o.accounts['russian2']}/revocations",
            lambda o: {"role": "teacher", "school_id": str(o.school.school_id)},
        )
    ],
    ("POST", "/accounts/{account_id}/lock"): [
        _send(lambda o: f"/accounts/{o.accounts['russian2']}/lock", lambda o: REASON)
    ],
    ("POST", "/accounts/{account_id}/unlock"): [
        _send(lambda o: f"/accounts/{o.accounts['english2']}/unlock", lambda o: REASON)
    ],
    ("POST", "/accounts/{account_id}/password-reset"): [
        _send(lambda o: f"/accounts/{o.accounts['russian2']}/password-reset", lambda o: {})
    ],
    # Setting up the year (п. 2.2).
    ("POST", "/schools/{school_id}/years"): [
        _send(lambda o: f"/schools/{o.school.school_id}/years", lambda o: {"year_start": 2027})
    ],
    ("PUT", "/schools/{school_id}/years/{year_start}/periods/{scheme}"): [
        _send(
            lambda o: f"{o.year}/periods/quarters",
            lambda o: {
                "periods": [{"name": "I четверть", "starts_on": "2025-09-01", "ends_on": DAY}]
            },
        )
    ],
    ("POST", "/schools/{school_id}/years/{year_start}/holidays"): [
        _send(
            lambda o: f"{o.year}/holidays",
            lambda o: {"name": "Чужие каникулы", "starts_on": DAY, "ends_on": DAY},
        )
    ],
    ("POST", "/schools/{school_id}/years/{year_start}/subjects"): [
        _send(
            lambda o: f"{o.year}/subjects",
            lambda o: {"name": "Чужой предмет", "subject_id": str(o.russian)},
        )
    ],
    ("POST", "/schools/{school_id}/years/{year_start}/work-types"): [
        _send(
            lambda o: f"{o.year}/work-types",
            lambda o: {"name": "Чужая работа", "weight": 1, "written": False},
        )
    ],
    ("PUT", "/schools/{school_id}/years/{year_start}/bell-schedules/{name}"): [
        _send(
            lambda o: f"{o.year}/bell-schedules/чужое",
            lambda o: {"slots": [{"number": 1, "starts_at": "08:00", "ends_at": "08:45"}]},
        )
    ],
    ("POST", "/schools/{school_id}/years/{year_start}/close"): [
        _send(lambda o: f"{o.year}/close", lambda o: {})
    ],
    ("POST", "/schools/{school_id}/years/{year_start}/reopen"): [
        _send(lambda o: f"{o.year}/reopen", lambda o: REASON)
    ],
    ("POST", "/schools/{school_id}/years/{year_start}/classes"): [
        _send(
            lambda o: f"{o.year}/classes",
            lambda o: {"grade": 7, "letter": "В", "period_scheme": "quarters"},
        )
    ],
    ("PUT", "/classes/{class_id}/class-teacher"): [
        _send(
            lambda o: f"/classes/{o.school.class_id}/class-teacher",
            lambda o: {"teacher_id": str(o.school.person["russian"])},
        )
    ],
    ("POST", "/classes/{class_id}/students"): [
        _send(
            lambda o: f"/classes/{o.school.class_id}/students",
            lambda o: {"student_id": str(uid(16000)), "on": DAY},
        )
    ],
    ("POST", "/classes/{class_id}/students/{student_id}/withdrawal"): [
        _send(
            lambda o: f"/classes/{o.school.class_id}/students/{o.student}/withdrawal",
            lambda o: {"on": DAY, **REASON},
        )
    ],
    ("POST", "/classes/{class_id}/groups"): [
        _send(
            lambda o: f"/classes/{o.school.class_id}/groups",
            lambda o: {"subject_id": str(o.russian), "name": "Чужая группа"},
        )
    ],
    ("POST", "/groups/{group_id}/members"): [
        _send(
            lambda o: f"/groups/{o.school.group_id}/members",
            lambda o: {"student_id": str(o.school.students[4]), "on": DAY},
        )
    ],
    ("POST", "/groups/{group_id}/members/{student_id}/removal"): [
        _send(
            lambda o: f"/groups/{o.school.group_id}/members/{o.student}/removal",
            lambda o: {"on": DAY},
        )
    ],
    ("POST", "/classes/{class_id}/individual-curricula"): [
        _send(
            lambda o: f"/classes/{o.school.class_id}/individual-curricula",
            lambda o: {"student_id": str(o.student), "subject_id": str(o.russian), "on": DAY},
        )
    ],
    ("POST", "/rosters/{roster_id}/teachers"): [
        _send(
            lambda o: f"/rosters/{o.school.class_id}/teachers",
            lambda o: {
                "subject_id": str(o.russian),
                "teacher_id": str(o.school.person["english"]),
                "on": DAY,
            },
        )
    ],
    ("POST", "/rosters/{roster_id}/teachers/unassignment"): [
        _send(
            lambda o: f"/rosters/{o.school.class_id}/teachers/unassignment",
            lambda o: {
                "subject_id": str(o.russian),
                "teacher_id": str(o.school.person["russian"]),
                "on": DAY,
            },
        )
    ],
    ("POST", "/schools/{school_id}/years/{year_start}/students/{student_id}/parents"): [
        _send(
            lambda o: f"{o.year}/students/{o.student}/parents",
            lambda o: {"parent_id": str(uid(16001))},
        )
    ],
    (
        "POST",
        "/schools/{school_id}/years/{year_start}/students/{student_id}/parents/{parent_id}/unlink",
    ): [
        _send(lambda o: f"{o.year}/students/{o.student}/parents/{PARENT2}/unlink", lambda o: REASON)
    ],
    ("PUT", "/rosters/{roster_id}/subjects/{subject_id}/plan"): [
        _send(
            lambda o: f"/rosters/{o.school.class_id}/subjects/{o.russian}/plan",
            lambda o: {"items": [{"number": 1, "topic": "Чужой план", "hours": 1}]},
        )
    ],
    # The timetable (п. 2.2, 2.3).
    ("PUT", "/classes/{class_id}/timetable/{effective_from}"): [
        _send(
            lambda o: f"/classes/{o.school.class_id}/timetable/{DAY}",
            lambda o: {
                "entries": [
                    {
                        "weekday": 2,
                        "slot": 1,
                        "roster_id": str(o.school.class_id),
                        "subject_id": str(o.russian),
                        "teacher_id": str(o.school.person["russian"]),
                    }
                ]
            },
        )
    ],
    ("GET", "/classes/{class_id}/timetable"): [
        _get(lambda o: f"/classes/{o.school.class_id}/timetable", on=lambda o: DAY)
    ],
    ("GET", "/classes/{class_id}/week"): [_get(lambda o: f"/classes/{o.school.class_id}/week")],
    ("PUT", "/lessons/{lesson_id}/substitute"): [
        _send(
            lambda o: f"/lessons/{o.lesson}/substitute",
            lambda o: {"teacher_id": str(o.school.person["english"]), **REASON},
        )
    ],
    ("POST", "/lessons/{lesson_id}/cancellation"): [
        _send(lambda o: f"/lessons/{o.lesson}/cancellation", lambda o: REASON)
    ],
    # Personal data (п. 1.7).
    ("PUT", "/people/{person_id}"): [
        _send(
            lambda o: f"/people/{o.student}",
            lambda o: {"full_name": "Чужое имя", "school_id": str(o.school.school_id)},
        ),
        _send(  # not yet in the vault: the first entry is the person's school's
            lambda o: f"/people/{o.school.students[1]}",
            lambda o: {"full_name": "Чужое имя", "school_id": str(o.school.school_id)},
        ),
    ],
    ("GET", "/people/{person_id}"): [_get(lambda o: f"/people/{o.student}")],
    ("POST", "/people/{person_id}/forget"): [
        _send(lambda o: f"/people/{o.student}/forget", lambda o: {})
    ],
    # The ledger and the access log (I5–I8, п. 1.7, 2.10).
    ("GET", "/ledger/entries"): [
        _get(lambda o: "/ledger/entries", log_id=lambda o: o.school.log_id)
    ],
    ("GET", "/ledger/checkpoints"): [
        _get(lambda o: "/ledger/checkpoints", log_id=lambda o: o.school.log_id)
    ],
    ("GET", "/ledger/receipts/{originator_id}/{version}"): [
        _get(lambda o: f"/ledger/receipts/{o.lesson}/1")
    ],
    ("GET", "/access-log"): [
        _get(
            lambda o: "/access-log",
            school_id=lambda o: o.school.school_id,
            subject_id=lambda o: o.student,
        )
    ],
    # Compromised logins (п. 4.3–4.4).
    ("POST", "/breach-reports"): [
        _send(
            lambda o: "/breach-reports",
            lambda o: {
                "account_id": str(o.accounts["russian2"]),
                "learned_at": "2025-09-01T05:00:00Z",
            },
        )
    ],
    ("POST", "/breach-reports/{report_id}/receipts"): [
        _send(
            lambda o: f"/breach-reports/{o.report}/receipts",
            lambda o: {"received_at": "2025-09-01T05:30:00Z"},
        )
    ],
    ("POST", "/sessions/{session_id}/invalidation"): [
        _send(
            lambda o: f"/sessions/{o.session}/invalidation",
            lambda o: {"school_id": str(o.school.school_id), **REASON},
        )
    ],
    ("GET", "/invalidations/{rule_id}/flagged"): [
        _get(lambda o: f"/invalidations/{o.rule}/flagged")
    ],
    # Parents' e-mail (п. 1.6).
    ("POST", "/mail/subscriptions"): [
        _send(
            lambda o: "/mail/subscriptions",
            lambda o: {
                "school_id": str(o.school.school_id),
                "year_start": YEAR,
                "student_id": str(o.student),
                "address": "chuzhoy@example.ru",
            },
        )
    ],
    ("POST", "/mail/subscriptions/{subscription_id}/confirmation"): [
        _send(
            lambda o: f"/mail/subscriptions/{o.subscription}/confirmation",
            lambda o: {"code": "00000000"},
        )
    ],
    ("POST", "/mail/subscriptions/{subscription_id}/cancellation"): [
        _send(lambda o: f"/mail/subscriptions/{o.subscription}/cancellation", lambda o: {})
    ],
}
"""Each ID-taking endpoint, with every ID in it one of the second school's (or of nobody's, where
the endpoint creates the record the ID names)."""

EXCLUDED: dict[tuple[str, str], str] = {}
"""ID-taking endpoints the walk leaves out, with the reason. None: every one is walked."""


# --- the world -------------------------------------------------------------------------------


def _two_schools(templates: Templates, backend: str, folder: Path) -> Iterator[tuple[World, Other]]:
    """The world with СОШ № 2 beside it, and its records, on a copy of the session's."""
    template = world_template(
        templates, prepare=_records_of_the_second_school, second_school=OTHER_ROLES
    )
    with copied_world(template, backend, folder) as (w, other):
        assert other is not None
        yield w, other


@pytest.fixture(scope="module")
def two_schools(
    module_backend: str, templates: Templates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[World, Other]]:
    yield from _two_schools(templates, module_backend, tmp_path_factory.mktemp("two"))


def _ok(response: Any) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


def _records_of_the_second_school(w: World) -> Other:
    """A lesson with a mark, personal data, a subscription, a breach report and its rule, and a
    session, all of СОШ № 2, entered by its own people."""
    other = w.other
    assert other is not None
    post, put = w.client.post, w.client.put
    lesson = _ok(
        post(
            "/lessons",
            headers=w.headers("russian2"),
            json={
                "roster_id": str(other.class_id),
                "subject_id": str(other.subjects["Русский язык"]),
                "on": "2025-09-01",
                "slot": 2,
                "topic": "Звуки и буквы",
            },
        )
    )["id"]
    mark = _ok(
        post(
            f"/lessons/{lesson}/marks",
            headers=w.headers("russian2"),
            json={
                "student_id": str(other.students[0]),
                "value": 5,
                "work_type_id": str(other.work_types["Ответ на уроке"]),
            },
        )
    )["id"]
    assert w.services.projector is not None
    w.services.projector.catch_up()  # the parent's link, which the vault's first entry checks
    for person in (other.students[0], PARENT2):
        _ok(
            put(
                f"/people/{person}",
                headers=w.headers("head2"),
                json={"full_name": "Своя запись", "school_id": str(other.school_id)},
            )
        )
    subscription = _ok(
        post(
            "/mail/subscriptions",
            headers=w.headers("parent2"),
            json={
                "school_id": str(other.school_id),
                "year_start": YEAR,
                "student_id": str(other.students[0]),
                "address": "roditel2@example.ru",
            },
        )
    )["subscription_id"]
    session = _ok(w.client.get("/auth/me", headers=w.headers("student2")))["session_id"]
    report = _ok(
        post(
            "/breach-reports",
            headers=w.headers("head2"),
            json={
                "account_id": str(w.accounts["english2"]),
                "learned_at": "2025-09-01T05:00:00Z",
            },
        )
    )["id"]
    w.services.projector.catch_up()
    (rule,) = _ok(w.client.get("/invalidations", headers=w.headers("head2")))
    return Other(
        school=other,
        lesson=UUID(lesson),
        mark=UUID(mark),
        session=UUID(session),
        report=UUID(report),
        rule=UUID(rule["rule_id"]),
        subscription=UUID(subscription),
        accounts={who: w.accounts[who] for who in OTHER_ROLES},
    )


def _state(w: World) -> dict[str, Any]:
    """What a refused request must leave as it was: the ledger, the vault, the access log, the
    mail tables and the credentials."""
    found: dict[str, Any] = {}
    with w.services.ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT COUNT(*), MAX(idx) FROM stored_events")
        found["stored_events"] = tuple(cursor.fetchone())
        cursor.execute("SELECT COUNT(*), MAX(id) FROM access_log")
        found["access_log"] = tuple(cursor.fetchone())
        for table in (
            "personal_data",
            "mail_subscriptions",
            "mail_outbox",
            "mail_tokens",
            "api_credentials",
        ):
            cursor.execute(f"SELECT * FROM {table}")
            rows = [
                tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                for row in cursor.fetchall()
            ]
            found[table] = sorted(rows, key=repr)
    return found


def _refusal(response: Any) -> str:
    """The code of a problem+json refusal (a code of one of the catalogues)."""
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.text
    code: str = response.json()["code"]
    assert code in CATALOGUE or code in API_CATALOGUE, code
    return code


# --- the walk --------------------------------------------------------------------------------


def test_every_id_taking_endpoint_is_walked_or_excluded_with_a_reason() -> None:
    taking = id_endpoints(openapi_document())
    assert len(taking) > 50
    missing = sorted(set(taking) - set(WALK) - set(EXCLUDED))
    assert missing == [], f"walk these with the other school's IDs, or exclude them: {missing}"
    stale = sorted((set(WALK) | set(EXCLUDED)) - set(taking))
    assert stale == [], f"no longer endpoints that take an ID: {stale}"
    assert all(EXCLUDED.values())


@pytest.mark.parametrize("endpoint", sorted(WALK), ids=" ".join)
def test_the_first_school_reaches_nothing_of_the_second(
    two_schools: tuple[World, Other], endpoint: tuple[str, str]
) -> None:
    # п. 2.1–2.4, 1.6, 1.7: rights are held in a school; another school's IDs give nothing.
    w, other = two_schools
    method = endpoint[0]
    for build in WALK[endpoint]:
        path, query, body = build(other)
        for who in CALLERS:
            before = _state(w)
            if isinstance(body, bytes):
                headers = {**w.headers(who), "Content-Type": "text/csv"}
                response = w.client.request(
                    method, path, params=query, content=body, headers=headers
                )
            else:
                response = w.client.request(
                    method, path, params=query, json=body, headers=w.headers(who)
                )
            what = f"{who}: {method} {path} {query or ''} → {response.status_code} {response.text}"
            assert response.status_code in (403, 404), what
            _refusal(response)
            assert _state(w) == before, f"written or logged: {what}"


# --- the first school's own paths, with the second school's people in them --------------------


@dataclass(frozen=True)
class CrossLink:
    name: str
    who: tuple[str, ...]
    method: str
    build: Callable[[World, Other], Request]
    status: int
    code: str

    def __str__(self) -> str:
        return self.name


def _year(w: World) -> str:
    return f"/schools/{w.ids['school']}/years/{YEAR}"


CROSS_LINKS = [
    CrossLink(
        "enrol another school's pupil",  # п. 2.2: a transfer is a withdrawal there first
        ("head", "deputy"),
        "POST",
        lambda w, o: (
            f"/classes/{w.ids['klass']}/students",
            None,
            {"student_id": str(o.student), "on": DAY},
        ),
        403,
        "student.of_another_school",
    ),
    CrossLink(
        "link a parent to another school's pupil",  # п. 1.6
        ("head", "deputy"),
        "POST",
        lambda w, o: (
            f"{_year(w)}/students/{o.student}/parents",
            None,
            {"parent_id": str(w.persons["parent"])},
        ),
        404,
        "student.not_in_school",
    ),
    CrossLink(
        "claim another school's pupil's personal data",  # п. 1.7
        ("head", "deputy"),
        "PUT",
        lambda w, o: (
            f"/people/{o.school.students[1]}",
            None,
            {"full_name": "Чужое имя", "school_id": str(w.ids["school"])},
        ),
        403,
        "person.not_of_school",
    ),
    CrossLink(
        "read another school's pupil's diary under this school",  # п. 1.5, 1.7
        ("head", "deputy"),
        "GET",
        lambda w, o: (f"{_year(w)}/students/{o.student}/diary", None, None),
        404,
        "student.not_in_school",
    ),
    CrossLink(
        "read it as this school's class teacher, naming this school's class",  # п. 2.4
        ("maths",),
        "GET",
        lambda w, o: (
            f"{_year(w)}/students/{o.student}/diary",
            {"class_id": str(w.ids["klass"])},
            None,
        ),
        403,
        "access.denied",
    ),
    CrossLink(
        "read it as a parent of this school",  # п. 1.6
        ("parent",),
        "GET",
        lambda w, o: (f"{_year(w)}/students/{o.student}/diary", None, None),
        403,
        "access.denied",
    ),
    CrossLink(
        "read this school's class journal in another school's subject",  # п. 2.2–2.4
        ("head", "maths"),
        "GET",
        lambda w, o: (f"/journal/{w.ids['klass']}/{o.russian}", None, None),
        404,
        "subject.not_found",
    ),
    CrossLink(
        "read another school's teacher's monitor under this school",  # п. 2.2
        ("head", "deputy"),
        "GET",
        lambda w, o: (
            f"{_year(w)}/monitor",
            {"teacher_id": str(o.school.person["russian"])},
            None,
        ),
        404,
        "read.not_found",
    ),
    CrossLink(
        "read another school's class's monitor under this school",  # п. 2.2
        ("head", "deputy"),
        "GET",
        lambda w, o: (f"{_year(w)}/monitor", {"class_id": str(o.school.class_id)}, None),
        404,
        "class.not_found",
    ),
    CrossLink(
        "add another school's pupil to this school's group",  # п. 2.3
        ("head", "deputy"),
        "POST",
        lambda w, o: (
            f"/groups/{w.ids['group']}/members",
            None,
            {"student_id": str(o.student), "on": DAY},
        ),
        422,
        "student.not_in_class",
    ),
    CrossLink(
        "give another school's pupil a mark in this school's lesson",  # п. 2.3
        ("russian",),
        "POST",
        lambda w, o: (
            f"/lessons/{w.ids['lesson']}/marks",
            None,
            {"student_id": str(o.student), "value": 5, "work_type_id": str(w.ids["answer"])},
        ),
        422,
        "student.not_in_roster",
    ),
    CrossLink(
        "put another school's teacher into this school's timetable",  # п. 2.2, 2.3
        ("head", "deputy"),
        "PUT",
        lambda w, o: (
            f"/classes/{w.ids['klass']}/timetable/{DAY}",
            None,
            {
                "entries": [
                    {
                        "weekday": 2,
                        "slot": 1,
                        "roster_id": str(w.ids["klass"]),
                        "subject_id": str(w.ids["russian"]),
                        "teacher_id": str(o.school.person["russian"]),
                    }
                ]
            },
        ),
        422,
        "timetable.teacher_not_assigned",
    ),
    CrossLink(
        "name another school's teacher the substitute of this school's lesson",  # п. 2.3
        ("head", "deputy"),
        "PUT",
        lambda w, o: (
            f"/lessons/{w.ids['lesson']}/substitute",
            None,
            {"teacher_id": str(o.school.person["russian"]), "reason": "Болезнь учителя"},
        ),
        422,
        "substitution.not_of_school",
    ),
    CrossLink(
        "subscribe to another school's pupil's digest under this school",  # п. 1.6
        ("parent",),
        "POST",
        lambda w, o: (
            "/mail/subscriptions",
            None,
            {
                "school_id": str(w.ids["school"]),
                "year_start": YEAR,
                "student_id": str(o.student),
                "address": "chuzhoy@example.ru",
            },
        ),
        403,
        "subscription.not_a_parent",
    ),
]


@pytest.mark.parametrize("link", CROSS_LINKS, ids=str)
def test_no_link_carries_one_school_s_data_into_another(
    two_schools: tuple[World, Other], link: CrossLink
) -> None:
    w, other = two_schools
    if "lesson" not in w.ids:
        russian = c.actor_for(w.services.ledger, w.accounts["russian"])
        w.ids["lesson"] = w.school.lesson(russian, subject="Русский язык", slot=3)
    path, query, body = link.build(w, other)
    for who in link.who:
        before = _state(w)
        response = w.client.request(
            link.method, path, params=query, json=body, headers=w.headers(who)
        )
        assert (response.status_code, _refusal(response)) == (link.status, link.code), (
            f"{who}: {response.text}"
        )
        assert _state(w) == before


# --- a transfer: each school reads its own part of the year ----------------------------------


@pytest.fixture(params=BACKENDS)
def own_two_schools(
    request: pytest.FixtureRequest, templates: Templates, tmp_path: Path
) -> Iterator[tuple[World, Other]]:
    """Two schools for a test that moves the clock and a pupil: the module's world stays as the
    walk expects it, whatever order the tests run in."""
    if request.param == "postgres":
        request.getfixturevalue("pg_available")
    yield from _two_schools(templates, request.param, tmp_path)


def test_a_transferred_pupil_s_diary_is_each_school_s_own_and_logged_there(
    own_two_schools: tuple[World, Other],
) -> None:
    # п. 2.2: a transfer is a withdrawal there, then an enrolment here; п. 1.5, 1.7: each school
    # reads its own lessons of the pupil, and its reads are filed under it.
    w, other = own_two_schools
    ledger = w.services.ledger
    pupil = other.school.students[5]
    head, head2 = (c.actor_for(ledger, w.accounts[who]) for who in ("head", "head2"))
    maths2 = c.actor_for(ledger, w.accounts["maths2"])
    maths = c.actor_for(ledger, w.accounts["maths"])
    there = other.school.lesson(maths2, on=_d(1), slot=3)
    answer = other.answer
    c.handle(
        c.RecordMark(actor=maths2, lesson_id=there, student_id=pupil, value=3, work_type_id=answer),
        ledger,
    )
    enrol = c.EnrolStudent(actor=head, class_id=w.ids["klass"], student_id=pupil, on=_d(2))
    with pytest.raises(c.NotAllowed, match=r"student\.of_another_school"):
        c.handle(enrol, ledger)
    c.handle(
        c.WithdrawStudent(
            actor=head2,
            class_id=other.school.class_id,
            student_id=pupil,
            on=_d(2),
            reason="Перевод",
        ),
        ledger,
    )
    c.handle(enrol, ledger)
    w.clock.set(datetime(2025, 9, 2, 7, 0, tzinfo=UTC))
    here = w.school.lesson(maths, on=_d(2), slot=3)
    c.handle(
        c.RecordMark(
            actor=maths,
            lesson_id=here,
            student_id=pupil,
            value=5,
            work_type_id=w.ids["answer"],
        ),
        ledger,
    )
    assert w.services.projector is not None
    w.services.projector.catch_up()
    for who in ("head", "head2"):
        w.login(who)
    seen: dict[str, list[tuple[str, list[int]]]] = {}
    for who, school in (("head", w.ids["school"]), ("head2", other.school.school_id)):
        before = len(w.services.access_log.entries(limit=10_000))
        diary = w.client.get(
            f"/schools/{school}/years/{YEAR}/students/{pupil}/diary",
            params={"from": "2025-09-01", "to": "2025-09-02"},
            headers=w.headers(who),
        )
        assert diary.status_code == 200, diary.text
        seen[who] = [
            (entry["lesson"]["lesson_id"], [m["value"] for m in entry["marks"]])
            for day in diary.json()["days"]
            for entry in day["lessons"]
        ]
        (logged,) = w.services.access_log.entries(limit=10_000)[before:]
        assert (logged.what.value, logged.subject_id, logged.school_id) == ("diary", pupil, school)
    assert seen == {
        "head": [(str(here), [5])],
        "head2": [(str(other.lesson), []), (str(there), [3])],  # 1 September, slots 2 and 3
    }
    # The old school links no new parent to the pupil who left; the new one does.
    link = {"year_start": YEAR, "student_id": pupil, "parent_id": uid(16002)}
    with pytest.raises(c.NotFound, match=r"student\.not_in_school"):
        c.handle(c.LinkParent(actor=head2, school_id=other.school.school_id, **link), ledger)
    c.handle(c.LinkParent(actor=head, school_id=w.ids["school"], **link), ledger)


def _d(day: int) -> Any:
    return datetime(2025, 9, day).date()
