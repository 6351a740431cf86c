"""Every role against every endpoint (п. 2.1–2.4, 1.6, 1.7): allowed or refused, as specified.

Allowed means the request passed authorisation: it may still be refused for what it asks (404,
409, 422), but never 401 or 403, and never a server error. Refused means 403
with a role or access code, and nothing written to the ledger.

Who may call what is one piece of code on either backend (``api.policy``): the matrix asks every
operation on PostgreSQL, the district's server, as the API's fuzzing (``test_schemathesis.py``)
asks every operation on SQLite; the routes' own tests run on both.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from ejournal import commands as c
from ejournal.api.app import openapi_document
from ejournal.identity.vault import PersonalData
from ejournal.ledger.actor import SYSTEM_ACTOR
from tests.api import role_matrix
from tests.api.conftest import ROLES, World, copied_world, sign_checkpoint, world_template
from tests.api.role_matrix import operations
from tests.commands.school import YEAR, uid
from tests.databases import Templates

ADMIN = frozenset({"head", "deputy"})
EVERYONE = frozenset(ROLES)
TEACHERS = frozenset({"russian", "maths", "english"})
STAFF = ADMIN | TEACHERS
SCHOOL = STAFF | {"student", "parent", "other_parent"}
"""Everyone holding a role in the test school."""
REFUSAL_CODES = {
    "role.required",
    "setup.administration_only",
    "journal.not_a_teacher",
    "journal.not_assigned",
    "journal.class_teacher_read_only",
    "lesson.administration_only",
    "access.denied",
    "access.support_no_journal",
}
_counter = itertools.count(1)

Body = Callable[[World], dict[str, Any] | None]


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: Callable[[World], str]
    allowed: frozenset[str]
    body: Body = lambda w: None

    def __str__(self) -> str:
        return self.name


def _s(w: World) -> str:
    return f"/schools/{w.ids['school']}/years/{YEAR}"


def _unique() -> int:
    return next(_counter)


def _period(w: World) -> dict[str, Any]:
    return {
        "periods": [
            {"name": "I четверть", "starts_on": "2025-09-01", "ends_on": "2025-10-26"},
            {"name": "II четверть", "starts_on": "2025-11-05", "ends_on": "2025-12-28"},
            {"name": "III четверть", "starts_on": "2026-01-12", "ends_on": "2026-03-22"},
            {"name": "IV четверть", "starts_on": "2026-04-01", "ends_on": "2026-05-26"},
        ]
    }


def _ids(w: World, *names: str) -> dict[str, str]:
    return {name: str(w.ids[name]) for name in names}


ENDPOINTS = [
    Endpoint("me", "GET", lambda w: "/auth/me", EVERYONE),
    # The way in and the lists (п. 2.1–2.6): what a login reaches, without an ID known before.
    Endpoint("my page", "GET", lambda w: "/me", EVERYONE),
    Endpoint("my lessons", "GET", lambda w: "/me/lessons", TEACHERS),
    Endpoint("classes", "GET", lambda w: _s(w) + "/classes?grade=5", STAFF | {"auditor"}),
    Endpoint("teachers", "GET", lambda w: _s(w) + "/teachers", STAFF | {"auditor"}),
    Endpoint("subjects", "GET", lambda w: _s(w) + "/subjects?limit=2", SCHOOL | {"auditor"}),
    Endpoint("work types", "GET", lambda w: _s(w) + "/work-types", SCHOOL | {"auditor"}),
    Endpoint("periods", "GET", lambda w: _s(w) + "/periods?scheme=quarters", SCHOOL | {"auditor"}),
    Endpoint(
        "class pupils",
        "GET",
        lambda w: f"/rosters/{w.ids['klass']}/students?on=2025-09-01",
        ADMIN | {"russian", "maths"},
    ),
    Endpoint(
        "group pupils",
        "GET",
        lambda w: f"/rosters/{w.ids['group']}/students",
        ADMIN | {"english", "maths"},
    ),
    # Schools and accounts.
    Endpoint(
        "register school",
        "POST",
        lambda w: "/schools",
        frozenset({"sysadmin"}),
        lambda w: {"name": f"СОШ № {_unique() + 100}"},
    ),
    Endpoint(
        "register account",
        "POST",
        lambda w: "/accounts",
        frozenset({"sysadmin"}),
        lambda w: {"login": f"new.person{_unique()}", "person_id": str(uid(7000 + _unique()))},
    ),
    Endpoint(
        "grant role",
        "POST",
        lambda w: f"/accounts/{w.ids['victim']}/grants",
        ADMIN | {"sysadmin"},
        lambda w: {"role": "teacher", "school_id": str(w.ids["school"])},
    ),
    Endpoint(
        "revoke role",
        "POST",
        lambda w: f"/accounts/{w.ids['victim']}/revocations",
        ADMIN | {"sysadmin"},
        lambda w: {"role": "teacher", "school_id": str(w.ids["school"])},
    ),
    Endpoint(
        "lock account",
        "POST",
        lambda w: f"/accounts/{w.ids['victim']}/lock",
        frozenset({"support", "sysadmin"}),
        lambda w: {"reason": "Сообщение о компрометации"},
    ),
    Endpoint(
        "unlock account",
        "POST",
        lambda w: f"/accounts/{w.ids['victim']}/unlock",
        frozenset({"support", "sysadmin"}),
        lambda w: {"reason": "Выданы новые данные"},
    ),
    Endpoint(
        "reset password",
        "POST",
        lambda w: f"/accounts/{w.ids['victim']}/password-reset",
        frozenset({"support", "sysadmin"}),
    ),
    # Setting up the year (п. 2.2).
    Endpoint(
        "open year",
        "POST",
        lambda w: f"/schools/{w.ids['school']}/years",
        ADMIN,
        lambda w: {"year_start": 2027},
    ),
    Endpoint("define periods", "PUT", lambda w: _s(w) + "/periods/quarters", ADMIN, _period),
    Endpoint(
        "declare holiday",
        "POST",
        lambda w: _s(w) + "/holidays",
        ADMIN,
        lambda w: {"name": "Праздник", "starts_on": "2025-11-04", "ends_on": "2025-11-04"},
    ),
    Endpoint(
        "add subject",
        "POST",
        lambda w: _s(w) + "/subjects",
        ADMIN,
        lambda w: {"name": f"Предмет {_unique()}"},
    ),
    Endpoint(
        "define work type",
        "POST",
        lambda w: _s(w) + "/work-types",
        ADMIN,
        lambda w: {"name": f"Работа {_unique()}", "weight": 1.5, "written": False},
    ),
    Endpoint(
        "define bells",
        "PUT",
        lambda w: _s(w) + "/bell-schedules/сокращённое",
        ADMIN,
        lambda w: {"slots": [{"number": 1, "starts_at": "08:30", "ends_at": "09:00"}]},
    ),
    Endpoint("close year", "POST", lambda w: f"/schools/{w.ids['school']}/years/2026/close", ADMIN),
    Endpoint(
        "reopen year",
        "POST",
        lambda w: f"/schools/{w.ids['school']}/years/2026/reopen",
        ADMIN,
        lambda w: {"reason": "Исправление сводной ведомости"},
    ),
    Endpoint(
        "open class",
        "POST",
        lambda w: _s(w) + "/classes",
        ADMIN,
        lambda w: {"grade": 6, "letter": "Б", "period_scheme": "quarters"},
    ),
    Endpoint(
        "assign class teacher",
        "PUT",
        lambda w: f"/classes/{w.ids['klass']}/class-teacher",
        ADMIN,
        lambda w: {"teacher_id": str(w.persons["maths"])},
    ),
    Endpoint(
        "enrol student",
        "POST",
        lambda w: f"/classes/{w.ids['klass']}/students",
        ADMIN,
        lambda w: {"student_id": str(uid(1100)), "on": "2025-09-01"},
    ),
    Endpoint(
        "withdraw student",
        "POST",
        lambda w: f"/classes/{w.ids['klass']}/students/{uid(1101)}/withdrawal",
        ADMIN,
        lambda w: {"on": "2025-09-02", "reason": "Переезд"},
    ),
    Endpoint(
        "form group",
        "POST",
        lambda w: f"/classes/{w.ids['klass']}/groups",
        ADMIN,
        lambda w: {"subject_id": str(w.ids["english"]), "name": f"Группа {_unique() + 10}"},
    ),
    Endpoint(
        "add group member",
        "POST",
        lambda w: f"/groups/{w.ids['group']}/members",
        ADMIN,
        lambda w: {"student_id": str(w.school.students[4]), "on": "2025-09-01"},
    ),
    Endpoint(
        "remove group member",
        "POST",
        lambda w: f"/groups/{w.ids['group']}/members/{w.school.students[2]}/removal",
        ADMIN,
        lambda w: {"on": "2025-09-02"},
    ),
    Endpoint(
        "open curriculum",
        "POST",
        lambda w: f"/classes/{w.ids['klass']}/individual-curricula",
        ADMIN,
        lambda w: {
            "student_id": str(w.school.students[5]),
            "subject_id": str(w.ids["maths"]),
            "on": "2025-09-01",
        },
    ),
    Endpoint(
        "assign teacher",
        "POST",
        lambda w: f"/rosters/{w.ids['klass']}/teachers",
        ADMIN,
        lambda w: {
            "subject_id": str(w.ids["maths"]),
            "teacher_id": str(w.persons["english"]),
            "on": "2025-09-01",
        },
    ),
    Endpoint(
        "unassign teacher",
        "POST",
        lambda w: f"/rosters/{w.ids['klass']}/teachers/unassignment",
        ADMIN,
        lambda w: {
            "subject_id": str(w.ids["maths"]),
            "teacher_id": str(w.persons["english"]),
            "on": "2025-09-02",
        },
    ),
    Endpoint(
        "link parent",
        "POST",
        lambda w: _s(w) + f"/students/{w.school.students[1]}/parents",
        ADMIN,
        lambda w: {"parent_id": str(uid(6000))},
    ),
    Endpoint(
        "unlink parent",
        "POST",
        lambda w: _s(w) + f"/students/{w.school.students[1]}/parents/{uid(6000)}/unlink",
        ADMIN,
        lambda w: {"reason": "Решение суда"},
    ),
    Endpoint(
        "import plan",
        "PUT",
        lambda w: f"/rosters/{w.ids['klass']}/subjects/{w.ids['russian']}/plan",
        ADMIN | {"russian"},
        lambda w: {"items": [{"number": 1, "topic": "Язык и общение", "hours": 1}]},
    ),
    # The journal (п. 2.3–2.8): only Russian's teacher writes Russian in 5«А».
    Endpoint(
        "conduct lesson",
        "POST",
        lambda w: "/lessons",
        ADMIN | {"russian"},
        lambda w: {
            "roster_id": str(w.ids["klass"]),
            "subject_id": str(w.ids["russian"]),
            "on": "2025-09-01",
            "slot": 3,
        },
    ),
    Endpoint(
        "set topic",
        "PUT",
        lambda w: f"/lessons/{w.ids['lesson']}/topic",
        frozenset({"russian"}),
        lambda w: {"topic": "Звуки и буквы"},
    ),
    Endpoint(
        "record attendance",
        "PUT",
        lambda w: f"/lessons/{w.ids['lesson']}/attendance",
        frozenset({"russian"}),
        lambda w: {"codes": {str(w.school.students[1]): "Н"}},
    ),
    Endpoint(
        "record mark",
        "POST",
        lambda w: f"/lessons/{w.ids['lesson']}/marks",
        frozenset({"russian"}),
        lambda w: {"student_id": str(w.ids["student"]), "value": 4, **_ids(w, "work_type_id")},
    ),
    Endpoint(
        "record class work",
        "POST",
        lambda w: f"/lessons/{w.ids['lesson']}/class-work",
        frozenset({"russian"}),
        lambda w: {"marks": {str(w.school.students[3]): 3}, **_ids(w, "work_type_id")},
    ),
    Endpoint(
        "correct mark",
        "POST",
        lambda w: f"/lessons/{w.ids['lesson']}/marks/{w.ids['mark']}/correction",
        frozenset({"russian"}),
        lambda w: {"value": 4, "reason": "Ошибка ввода"},
    ),
    Endpoint(
        "cancel mark",
        "POST",
        lambda w: f"/lessons/{w.ids['lesson']}/marks/{w.ids['mark2']}/cancellation",
        frozenset({"russian"}),
        lambda w: {"reason": "Не тому ученику"},
    ),
    Endpoint(
        "assign homework",
        "PUT",
        lambda w: f"/lessons/{w.ids['lesson']}/homework",
        frozenset({"russian"}),
        lambda w: {"text": "Выучить правило", "pages": "с. 12"},
    ),
    Endpoint(
        "add comment",
        "POST",
        lambda w: f"/lessons/{w.ids['lesson']}/comments",
        frozenset({"russian"}),
        lambda w: {"student_id": str(w.ids["student"]), "text": "Активно работал"},
    ),
    Endpoint(
        "message parents",
        "POST",
        lambda w: "/messages",
        frozenset({"russian"}),
        lambda w: {
            "roster_id": str(w.ids["klass"]),
            "subject_id": str(w.ids["russian"]),
            "student_id": str(w.ids["student"]),
            "text": "Прошу проверить домашнее задание",
        },
    ),
    Endpoint(
        "set attestation",
        "PUT",
        lambda w: f"/rosters/{w.ids['klass']}/subjects/{w.ids['russian']}/attestation",
        frozenset({"russian"}),
        lambda w: {
            "student_id": str(w.ids["student"]),
            "kind": "period",
            "period": "I четверть",
            "value": "5",
        },
    ),
    # The timetable (п. 2.2, 2.3): the administration sets it and decides of one lesson (here
    # each is then refused for what it asks: no entries, a lesson with marks); everyone of the
    # school reads it.
    Endpoint(
        "set timetable",
        "PUT",
        lambda w: f"/classes/{w.ids['klass']}/timetable/2025-09-01",
        ADMIN,
        lambda w: {"entries": []},
    ),
    Endpoint(
        "read timetable",
        "GET",
        lambda w: f"/classes/{w.ids['klass']}/timetable?on=2025-09-01",
        SCHOOL | {"auditor"},
    ),
    Endpoint(
        "class week", "GET", lambda w: f"/classes/{w.ids['klass']}/week", SCHOOL | {"auditor"}
    ),
    Endpoint(
        "name substitute",
        "PUT",
        lambda w: f"/lessons/{w.ids['lesson']}/substitute",
        ADMIN,
        lambda w: {"teacher_id": str(w.persons["maths"]), "reason": "Болезнь учителя"},
    ),
    Endpoint(
        "cancel lesson",
        "POST",
        lambda w: f"/lessons/{w.ids['lesson']}/cancellation",
        ADMIN,
        lambda w: {"reason": "Экскурсия"},
    ),
    # Reading (п. 1.6, 2.3, 2.4, 2.9).
    Endpoint(
        "class journal",
        "GET",
        lambda w: f"/journal/{w.ids['klass']}/{w.ids['russian']}",
        ADMIN | {"russian", "maths"},
    ),
    Endpoint(
        "diary",
        "GET",
        lambda w: _s(w) + f"/students/{w.ids['student']}/diary?class_id={w.ids['klass']}",
        ADMIN | {"student", "parent", "maths"},
    ),
    Endpoint(  # п. 1.5, 1.6: read as the diary is
        "student marks",
        "GET",
        lambda w: _s(w) + f"/students/{w.ids['student']}/marks",
        ADMIN | {"student", "parent", "maths"},
    ),
    Endpoint(  # п. 1.6, 2.10: no checkpoint is signed here, so 404 receipt.not_provable
        "mark receipt",
        "GET",
        lambda w: f"/lessons/{w.ids['lesson']}/marks/{w.ids['mark']}/receipt",
        ADMIN | {"student", "parent", "maths"},
    ),
    Endpoint(
        "summary sheet",
        "GET",
        lambda w: f"/classes/{w.ids['klass']}/summary-sheet",
        ADMIN | {"maths"},
    ),
    # Printouts on request (п. 1.6, 2.9, 3.1): who may read the page may print it.
    Endpoint(
        "class journal printout",
        "GET",
        lambda w: f"/journal/{w.ids['klass']}/{w.ids['russian']}/printout?from=2025-09-01",
        ADMIN | {"russian", "maths"},
    ),
    Endpoint(
        "diary printout",
        "GET",
        lambda w: _s(w) + f"/students/{w.ids['student']}/diary/printout?week=2025-09-01",
        ADMIN | {"student", "parent", "maths"},
    ),
    Endpoint(
        "summary sheet printout",
        "GET",
        lambda w: f"/classes/{w.ids['klass']}/summary-sheet/printout",
        ADMIN | {"maths"},
    ),
    Endpoint("school monitor", "GET", lambda w: _s(w) + "/monitor", ADMIN),
    # Export (п. 2.2, 2.9): who reads a journal page or a summary sheet exports it.
    Endpoint("export set-up", "GET", lambda w: _s(w) + "/export", ADMIN),
    Endpoint(
        "export class journal",
        "GET",
        lambda w: f"/journal/{w.ids['klass']}/{w.ids['russian']}/export?format=csv",
        ADMIN | {"russian", "maths"},
    ),
    Endpoint(
        "export summary sheet",
        "GET",
        lambda w: f"/classes/{w.ids['klass']}/summary-sheet/export",
        ADMIN | {"maths"},
    ),
    Endpoint(
        "class monitor",
        "GET",
        lambda w: _s(w) + f"/monitor?class_id={w.ids['klass']}",
        ADMIN | {"maths"},
    ),
    Endpoint(
        "teacher monitor",
        "GET",
        lambda w: _s(w) + f"/monitor?teacher_id={w.persons['russian']}",
        ADMIN | {"russian"},
    ),
    # Personal data (п. 1.7).
    Endpoint(
        "store person",
        "PUT",
        lambda w: f"/people/{w.ids['student']}",
        ADMIN | {"sysadmin"},
        lambda w: {"full_name": "Иванов Иван", "school_id": str(w.ids["school"])},
    ),
    Endpoint(
        "read person",
        "GET",
        lambda w: f"/people/{w.ids['student']}",
        ADMIN | {"sysadmin", "student"},
    ),
    Endpoint(
        "forget person",
        "POST",
        lambda w: f"/people/{w.ids['forgettable']}/forget",
        frozenset({"head", "sysadmin"}),
    ),
    # The ledger (I5–I8) and the access log.
    Endpoint("ledger logs", "GET", lambda w: "/ledger/logs", ADMIN | {"auditor"}),
    Endpoint(
        "ledger entries",
        "GET",
        lambda w: f"/ledger/entries?log_id={w.school.log_id}",
        ADMIN | {"auditor"},
    ),
    Endpoint("checkpoints", "GET", lambda w: "/ledger/checkpoints", ADMIN | {"auditor"}),
    Endpoint(
        "receipt", "GET", lambda w: f"/ledger/receipts/{w.ids['lesson']}/1", ADMIN | {"auditor"}
    ),
    Endpoint("verification", "GET", lambda w: "/ledger/verification", ADMIN | {"auditor"}),
    # Compromised logins (п. 4.3–4.4): what the rules took out, and for whom to enter again.
    Endpoint("invalidation rules", "GET", lambda w: "/invalidations", ADMIN | {"auditor"}),
    Endpoint(
        "flagged operations",
        "GET",
        lambda w: f"/invalidations/{uid(9900)}/flagged",
        ADMIN | {"auditor"},
    ),
    Endpoint("re-entry worklist", "GET", lambda w: "/reentry", EVERYONE),
    Endpoint(
        "access log",
        "GET",
        lambda w: f"/access-log?school_id={w.ids['school']}",
        frozenset({"head", "auditor"}),
    ),
]


def _prepare(w: World) -> None:
    """What the endpoints act on: a lesson with two marks, a second year to close and reopen, a
    victim account, a student to withdraw, a person to forget."""
    ledger, school = w.services.ledger, w.school
    head = c.actor_for(ledger, w.accounts["head"])  # current: its credentials were issued again
    teacher = c.actor_for(ledger, w.accounts["russian"])
    lesson = school.lesson(teacher, subject="Русский язык", slot=2)
    mark_args = {
        "lesson_id": lesson,
        "value": 5,
        "work_type_id": school.work_types["Ответ на уроке"],
    }
    mark = c.handle(c.RecordMark(actor=teacher, student_id=school.students[0], **mark_args), ledger)
    mark2 = c.handle(
        c.RecordMark(actor=teacher, student_id=school.students[1], **mark_args), ledger
    )
    c.handle(c.OpenSchoolYear(actor=head, school_id=school.school_id, year_start=2026), ledger)
    c.handle(
        c.EnrolStudent(
            actor=head, class_id=school.class_id, student_id=uid(1101), on=date(2025, 9, 1)
        ),
        ledger,
    )
    victim = c.handle(
        c.RegisterAccount(actor=SYSTEM_ACTOR, login="victim", person_id=uid(5100)), ledger
    )
    forgettable = uid(5200)
    vault = w.services.vault
    assert vault is not None
    vault.put(
        forgettable, PersonalData("Петров Пётр"), school_id=school.school_id, now=ledger.clock()
    )
    # The student's data registered by the school, whether "write person" has run yet or not.
    vault.put(
        school.students[0],
        PersonalData("Иванов Иван"),
        school_id=school.school_id,
        now=ledger.clock(),
    )
    w.ids.update(
        lesson=lesson,
        mark=mark,
        mark2=mark2,
        victim=victim,
        forgettable=forgettable,
        work_type_id=school.work_types["Ответ на уроке"],
    )
    sign_checkpoint(w)  # printouts rest on it and are sealed with the deployment's key


@pytest.fixture(scope="module")
def module_backend(pg_available: None) -> str:
    return "postgres"


@pytest.fixture(scope="module")
def matrix(
    module_backend: str, templates: Templates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The prepared world the reads are asked of (no read changes it)."""
    template = world_template(templates, prepare=_prepare)
    with copied_world(template, module_backend, tmp_path_factory.mktemp("matrix")) as (w, _):
        yield w


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_role_matrix(
    matrix: World, endpoint: Endpoint, module_backend: str, templates: Templates, tmp_path: Path
) -> None:
    # п. 2.1: rights are distributed by role; every role is asked, every answer checked.
    if endpoint.method == "GET":
        _ask_every_role(matrix, endpoint)
        return
    # A write is asked of a copy of its own, so that what it did (a teacher assigned, a year
    # closed) reaches no other endpoint's answers, whatever order the tests run in.
    template = world_template(templates, prepare=_prepare)
    with copied_world(template, module_backend, tmp_path) as (w, _):
        _ask_every_role(w, endpoint)


def _ask_every_role(w: World, endpoint: Endpoint) -> None:
    for role in ROLES:
        before = w.events()
        response = w.client.request(
            endpoint.method, endpoint.path(w), json=endpoint.body(w), headers=w.headers(role)
        )
        status = response.status_code
        if role in endpoint.allowed:
            assert status not in (401, 403), f"{role} refused: {response.text}"
            assert status < 500, f"{role}: {response.text}"
        else:
            assert status == 403, f"{role} not refused: {status} {response.text}"
            assert response.headers["content-type"].startswith("application/problem+json")
            assert response.json()["code"] in REFUSAL_CODES, response.text
            assert w.events() == before, f"a refused request by {role} wrote to the ledger"


ASKED_ELSEWHERE = {
    ("POST", "/auth/login"): "no caller yet: tests/api/test_auth.py",
    ("POST", "/auth/logout"): "the caller's own login session: tests/api/test_auth.py",
    ("POST", "/auth/password"): "the caller's own password: tests/api/test_auth.py",
    ("GET", "/health"): "the operator's probe, no caller",
    ("GET", "/ready"): "the operator's probe, no caller: tests/api/test_readiness.py",
    ("POST", "/breach-reports"): "stops an account: tests/api/test_breach.py",
    ("POST", "/breach-reports/{report_id}/receipts"): "tests/api/test_breach.py",
    ("POST", "/sessions/{session_id}/invalidation"): "ends a session: tests/api/test_breach.py",
    ("POST", "/mail/subscriptions"): "needs a mail server: tests/mail/test_subscriptions.py",
    ("GET", "/mail/subscriptions"): "needs a mail server: tests/mail/test_subscriptions.py",
    ("POST", "/mail/subscriptions/{subscription_id}/confirmation"): "tests/mail/",
    ("POST", "/mail/subscriptions/{subscription_id}/cancellation"): "tests/mail/",
    ("GET", "/classes/{class_id}/mail-bounces"): "needs a mail server: tests/mail/",
    ("GET", "/mail/confirm/{token}"): "an e-mail's link carries a token, no session: tests/mail/",
    ("POST", "/mail/confirm/{token}"): "an e-mail's link: tests/mail/",
    ("GET", "/mail/unsubscribe/{token}"): "an e-mail's link: tests/mail/",
    ("POST", "/mail/unsubscribe/{token}"): "an e-mail's link: tests/mail/",
    ("POST", "/schools/{school_id}/years/{year_start}/import"): "the body is a file, not JSON: "
    "tests/api/test_exchange.py (head, deputy; a teacher refused)",
}
"""Operations this matrix does not ask, each with the reason and the tests that check its roles."""


def test_every_operation_is_in_the_matrix() -> None:
    # п. 2.1: a new endpoint is refused here until the matrix says who may call it.
    openapi = openapi_document()
    asked = {(e.method, role_matrix.template_of(e, openapi)) for e in ENDPOINTS}
    unasked = set(operations(openapi)) - asked - set(ASKED_ELSEWHERE)
    assert not unasked, f"operations no row of the matrix asks: {sorted(unasked)}"
    assert not asked & set(ASKED_ELSEWHERE), "an operation both asked and said to be elsewhere"


def test_the_doc_shows_the_matrix_the_service_keeps() -> None:
    # The role × endpoint table of docs/api.md is this matrix (python -m tests.api.role_matrix).
    text = role_matrix.DOC.read_text(encoding="utf-8")
    table = role_matrix.render(ENDPOINTS, ASKED_ELSEWHERE, openapi_document())
    assert role_matrix.documented(text) == table, (
        "docs/api.md's role matrix is out of date: run `python -m tests.api.role_matrix`"
    )
