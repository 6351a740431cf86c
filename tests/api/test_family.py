"""What a pupil and the parents see (п. 1.5, 1.6): the year's marks subject by subject, and a
receipt of a mark that they check offline (п. 2.10) with `ejournal verify-proof` and the keys the
school publishes, with no database.

The world is the API tests' (``tests.api.conftest``): the ``student`` of 5«А», their ``parent``,
and ``other_parent``, a parent of the school linked to no child of theirs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import pytest
from typer.testing import CliRunner

from ejournal import commands as c
from ejournal.archive.invalidation_rules import INVALIDATION_FORMAT
from ejournal.cli.main import cli
from ejournal.ledger.checkpoints import Checkpointer
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.logs import SYSTEM_LOG
from tests.api.conftest import World, build_world
from tests.commands.school import YEAR

SECRET = b"the school's key passphrase"
runner = CliRunner()


@pytest.fixture(scope="module")
def family(backend_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The world with a signing key, its published verifier keys in a file, and a Russian
    lesson of 1 September with the student's marks (one corrected, one cancelled), a register,
    homework and a period mark; mathematics with a written work of weight 2."""
    w = build_world(backend_url)
    try:
        services = w.services
        keys = KeyStore(services.ledger.database, clock=services.ledger.clock)
        keys.create(services.settings.origin, SECRET)
        published = tmp_path_factory.mktemp("keys") / "school.vkeys"
        published.write_text("\n".join(k.vkey for k in keys.all_keys()) + "\n", encoding="utf-8")
        w.ids["keys"] = published
        w.ids["checkpointer"] = Checkpointer(
            services.ledger.database,
            origin=services.settings.origin,
            signers=keys.signers(SECRET),
            verifiers=keys.verifiers(),
            clock=services.ledger.clock,
        )
        _write_the_week(w)
        yield w
    finally:
        w.client.__exit__(None, None, None)
        w.services.close()


def _ok(response: Any) -> Any:
    assert response.status_code < 300, response.text
    return response.json()


def _write_the_week(w: World) -> None:
    post, put = w.client.post, w.client.put
    russian, maths = w.headers("russian"), w.headers("maths")
    student = str(w.ids["student"])
    lesson = _ok(
        post(
            "/lessons",
            headers=russian,
            json={
                "roster_id": str(w.ids["klass"]),
                "subject_id": str(w.ids["russian"]),
                "on": "2025-09-01",
                "slot": 2,
                "topic": "Звуки и буквы",
            },
        )
    )["id"]

    def mark(headers: dict[str, str], lesson: str, value: int, **more: Any) -> str:
        body = {"student_id": student, "value": value, "work_type_id": str(w.ids["answer"])}
        return str(
            _ok(post(f"/lessons/{lesson}/marks", headers=headers, json={**body, **more}))["id"]
        )

    corrected = mark(russian, lesson, 3)
    _ok(
        post(
            f"/lessons/{lesson}/marks/{corrected}/correction",
            headers=russian,
            json={"value": 4, "reason": "Ошибка ввода"},
        )
    )
    plain = mark(russian, lesson, 5)
    cancelled = mark(russian, lesson, 2)
    _ok(
        post(
            f"/lessons/{lesson}/marks/{cancelled}/cancellation",
            headers=russian,
            json={"reason": "Не тому ученику"},
        )
    )
    _ok(put(f"/lessons/{lesson}/attendance", headers=russian, json={"codes": {student: "ОП"}}))
    _ok(
        put(
            f"/lessons/{lesson}/homework",
            headers=russian,
            json={"text": "Выучить правило", "pages": "с. 12–13", "tasks": "упр. 5, 7"},
        )
    )
    _ok(
        put(
            f"/rosters/{w.ids['klass']}/subjects/{w.ids['russian']}/attestation",
            headers=russian,
            json={"student_id": student, "kind": "period", "period": "I четверть", "value": "5"},
        )
    )
    algebra = _ok(
        post(
            "/lessons",
            headers=maths,
            json={
                "roster_id": str(w.ids["klass"]),
                "subject_id": str(w.ids["maths"]),
                "on": "2025-09-01",
                "slot": 1,
            },
        )
    )["id"]
    written = w.school.work_types["Самостоятельная работа"]
    mark(maths, algebra, 5, work_type_id=str(written), checked_on="2025-09-01")  # weight 2
    mark(maths, algebra, 4)  # weight 1: (2·5 + 4) / 3 = 4.666… → 4.67
    _ok(put(f"/lessons/{algebra}/attendance", headers=maths, json={"codes": {student: "Н"}}))
    assert w.services.projector is not None
    w.services.projector.catch_up()
    w.ids.update(lesson=lesson, corrected=corrected, plain=plain, cancelled=cancelled)


def _marks(w: World, who: str, student: object = None) -> Any:
    path = f"/schools/{w.ids['school']}/years/{YEAR}/students/{student or w.ids['student']}/marks"
    return w.client.get(path, headers=w.headers(who))


def _state(w: World) -> tuple[int, int]:
    """The ledger's events and the access log's entries: what a refused request leaves as is."""
    return w.events(), len(w.services.access_log.entries(limit=100_000))


# --- the year's marks (п. 1.5, 1.6) ------------------------------------------------------------


def test_the_family_sees_each_subject_s_marks_average_period_mark_absences_and_homework(
    family: World,
) -> None:
    # п. 1.5: what the teacher enters shows in the pupil's diary; п. 1.6: the parents see it in
    # their account; п. 2.6–2.8: the work type and weight of each mark, the period's mark.
    w = family
    for who in ("parent", "student"):
        response = _marks(w, who)
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["class_name"], body["places"]) == ("5«А»", 2)
        assert [p["name"] for p in body["periods"]] == [
            "I четверть",
            "II четверть",
            "III четверть",
            "IV четверть",
        ]
        subjects = {s["name"]: s for s in body["subjects"]}
        # The year's order (English comes third once the pupil has a lesson of it).
        assert list(subjects)[:2] == ["Математика", "Русский язык"]
        russian = subjects["Русский язык"]
        autumn, *later = russian["periods"]
        assert [p["period"] for p in later] == ["II четверть", "III четверть", "IV четверть"]
        # The current marks, the corrected one at its current value, the cancelled one gone.
        assert [(m["value"], m["on"], m["work_type"], m["weight"]) for m in autumn["marks"]] == [
            (4, "2025-09-01", "Ответ на уроке", "1"),
            (5, "2025-09-01", "Ответ на уроке", "1"),
        ]
        assert set(autumn["marks"][0]) == {
            "mark_id",
            "lesson_id",
            "on",
            "teacher_id",
            "value",
            "work_type_id",
            "work_type",
            "weight",
            "checked_on",
        }  # no history, no provenance
        assert autumn["average"]["value"] == "4.50"
        assert autumn["period_mark"] == "5"
        assert autumn["attendance"] == {"Н": 0, "Б": 0, "П": 0, "ОП": 1}
        (homework,) = autumn["homework"]
        assert (homework["text"], homework["pages"], homework["tasks"]) == (
            "Выучить правило",
            "с. 12–13",
            "упр. 5, 7",
        )
        assert later[0]["marks"] == [] and later[0]["average"]["value"] is None
        assert later[0]["period_mark"] is None
        assert (russian["year"], russian["exam"], russian["final"]) == (None, None, None)
        maths = subjects["Математика"]["periods"][0]
        assert maths["average"]["value"] == "4.67"  # Σ(w·m)/Σw = 14/3, two places, halves up
        assert [m["weight"] for m in maths["marks"]] == ["2", "1"]
        assert maths["attendance"]["Н"] == 1
        # The teachers by name, from the vault, as the diary names them: none entered here.
        assert str(autumn["marks"][0]["teacher_id"]) in body["names"]


def test_the_staff_who_read_the_diary_see_the_same_view(family: World) -> None:
    # п. 2.2, 2.4: the administration and the class teacher read it as they read the diary.
    w = family
    seen = _marks(w, "parent").json()
    for who in ("head", "deputy", "maths"):
        response = _marks(w, who)
        assert response.status_code == 200, response.text
        assert response.json()["subjects"] == seen["subjects"]


def test_reading_the_marks_is_logged_as_a_read_of_the_child(family: World) -> None:
    # п. 1.7: every read of a child's data is in the access log, before it is returned.
    w = family
    before = len(w.services.access_log.entries(limit=100_000))
    assert _marks(w, "parent").status_code == 200
    (logged,) = w.services.access_log.entries(limit=100_000)[before:]
    assert (logged.what.value, logged.subject_id, logged.school_id) == (
        "marks",
        w.ids["student"],
        w.ids["school"],
    )
    assert logged.reader_role == "parent"


@pytest.mark.parametrize("who", ["other_parent", "russian", "english", "auditor", "support"])
def test_nobody_else_reads_a_child_s_marks(family: World, who: str) -> None:
    # п. 1.6, 1.7, 2.1: another family's parent, a subject teacher, an auditor: refused, and
    # nothing is written, not even to the access log.
    w = family
    before = _state(w)
    response = _marks(w, who)
    assert response.status_code == 403, response.text
    code = "access.support_no_journal" if who == "support" else "access.denied"
    assert response.json()["code"] == code
    assert _state(w) == before


# --- a mark's receipt (п. 1.6, 2.10) -----------------------------------------------------------


def _receipt(w: World, who: str, mark: str, lesson: str | None = None) -> Any:
    return w.client.get(
        f"/lessons/{lesson or w.ids['lesson']}/marks/{mark}/receipt", headers=w.headers(who)
    )


def _signed(w: World) -> None:
    """The school's log signed up to its last entry, as the server's schedule would."""
    w.ids["checkpointer"].checkpoint(w.school.log_id)


def _verify_proof(path: Path, keys: Path, *more: str) -> tuple[int, str]:
    # The real command, offline: a file and the published keys, no database URL.
    result = runner.invoke(cli, ["verify-proof", str(path), "--key", str(keys), *more])
    return result.exit_code, result.output


def test_a_parent_downloads_a_receipt_of_their_child_s_mark_and_checks_it_offline(
    family: World, tmp_path: Path
) -> None:
    # п. 1.6, 2.10: the parent keeps proof that the mark is in the school's signed log.
    w = family
    _signed(w)
    response = _receipt(w, "parent", w.ids["plain"])
    assert response.status_code == 200, response.text
    assert "attachment" in response.headers["content-disposition"]
    document = response.json()
    assert document["format"] == "ejournal.mark-receipt/1"
    assert document["mark"]["value"] == 5
    assert document["mark"]["on"] == "2025-09-01"
    assert document["mark"]["student_id"] == str(w.ids["student"])
    assert document["mark"]["subject_id"] == str(w.ids["russian"])
    assert len(document["records"]) == 2  # the lesson and the mark
    text = document["explanation"]
    for shown in (
        "КВИТАНЦИЯ ОБ ОТМЕТКЕ",
        "Школа: СОШ № 1",
        "Предмет: Русский язык",
        "Урок: 01.09.2025, 2-й урок",
        "Вид работы: Ответ на уроке (вес 1)",
        "Отметка: 5",
        "Выставлена: 01.09.2025 в 09:00 (время московское)",
        "ejournal verify-proof",
    ):
        assert shown in text, text
    assert "Исправлена" not in text
    assert re.search(r"\d{4}-\d{2}-\d{2}", text) is None  # people read ДД.ММ.ГГГГ

    saved = tmp_path / "otmetka.json"
    saved.write_bytes(response.content)
    code, output = _verify_proof(saved, w.ids["keys"], "--json")
    assert code == 0, output
    verified = json.loads(output)
    assert verified["ok"] is True
    assert {k: verified[k] for k in document["mark"]} == document["mark"]
    assert verified["explanation"] == text
    code, output = _verify_proof(saved, w.ids["keys"])
    assert code == 0 and "OK" in output and "Отметка: 5" in output, output


def test_a_corrected_mark_s_receipt_proves_its_current_value(family: World, tmp_path: Path) -> None:
    # п. 1.4: a correction is a record of its own; the receipt proves the value it gave.
    w = family
    _signed(w)
    response = _receipt(w, "student", w.ids["corrected"])
    assert response.status_code == 200, response.text
    document = response.json()
    assert len(document["records"]) == 3  # the lesson, the mark, its correction
    assert document["mark"]["value"] == 4
    assert "Исправлена: 01.09.2025 в 09:00" in document["explanation"]
    saved = tmp_path / "corrected.json"
    saved.write_bytes(response.content)
    code, output = _verify_proof(saved, w.ids["keys"], "--json")
    assert code == 0, output
    assert json.loads(output)["value"] == 4
    # п. 4.4: with the rules (here none), whether one reaches any record the value rests on.
    rules = tmp_path / "rules.json"
    rules.write_text(
        json.dumps({"format": INVALIDATION_FORMAT, "log": SYSTEM_LOG, "events": []}),
        encoding="utf-8",
    )
    code, output = _verify_proof(saved, w.ids["keys"], "--json", "--rules", str(rules))
    assert code == 0, output
    assert json.loads(output)["invalidation"] == {
        "rules": 0,
        "invalidated": False,
        "invalidated_by": [],
        "flagged_by": [],
    }


def test_a_changed_receipt_fails_the_check(family: World, tmp_path: Path) -> None:
    # п. 2.10: a receipt whose mark was changed, or whose record was swapped, proves nothing.
    w = family
    _signed(w)
    document = _receipt(w, "parent", w.ids["plain"]).json()
    forged = tmp_path / "forged.json"
    forged.write_text(
        json.dumps({**document, "mark": {**document["mark"], "value": 2}}), encoding="utf-8"
    )
    code, output = _verify_proof(forged, w.ids["keys"], "--json")
    assert code == 1 and json.loads(output)["error"] == "DocumentMismatchError", output
    other = _receipt(w, "parent", w.ids["corrected"]).json()
    swapped = {**document, "records": [document["records"][0], other["records"][1]]}
    forged.write_text(json.dumps(swapped), encoding="utf-8")
    code, output = _verify_proof(forged, w.ids["keys"], "--json")
    assert code == 1 and json.loads(output)["error"] == "DocumentMismatchError", output
    payload = document["records"][1]["payload"]
    tampered = {**document["records"][1], "payload": payload[:-4] + "AAA="}
    forged.write_text(
        json.dumps({**document, "records": [document["records"][0], tampered]}), encoding="utf-8"
    )
    code, output = _verify_proof(forged, w.ids["keys"], "--json")
    assert code == 1, output
    assert json.loads(output)["error"] in ("LeafMismatchError", "MalformedReceiptError"), output


def test_the_plain_receipt_of_the_mark_s_entry_is_a_tlog_proof_verify_proof_accepts(
    family: World, tmp_path: Path
) -> None:
    # Each record of a mark receipt is the C2SP tlog-proof /ledger/receipts gives, unchanged.
    w = family
    _signed(w)
    record = _receipt(w, "parent", w.ids["plain"]).json()["records"][1]["receipt"]
    assert record.startswith("c2sp.org/tlog-proof@v1\n")
    saved = tmp_path / "entry.receipt"
    saved.write_text(record, encoding="utf-8")
    code, output = _verify_proof(saved, w.ids["keys"], "--json")
    assert code == 0, output
    assert json.loads(output)["topic"] == "ledger.domain.lesson:Lesson.MarkRecorded"


def test_a_parent_asking_for_another_child_s_mark_is_refused_and_nothing_is_written(
    family: World,
) -> None:
    # п. 1.6, 1.7: a parent reads their own child's marks only.
    w = family
    _signed(w)
    for who in ("other_parent", "russian", "auditor"):
        before = _state(w)
        response = _receipt(w, who, w.ids["plain"])
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "access.denied"
        assert _state(w) == before
    # The parent's own child's lesson, another pupil's mark in it.
    other = c.handle(
        c.RecordMark(
            actor=c.actor_for(w.services.ledger, w.accounts["russian"]),
            lesson_id=UUID(w.ids["lesson"]),
            student_id=w.school.students[1],
            value=3,
            work_type_id=w.ids["answer"],
        ),
        w.services.ledger,
    )
    w.services.projector.catch_up()  # type: ignore[union-attr]
    _signed(w)
    before = _state(w)
    response = _receipt(w, "parent", str(other))
    assert (response.status_code, response.json()["code"]) == (403, "access.denied")
    assert _state(w) == before


def test_no_receipt_of_a_cancelled_or_unknown_mark(family: World) -> None:
    # п. 1.5: the family does not see a cancelled mark; nothing is written.
    w = family
    _signed(w)
    for mark in (w.ids["cancelled"], "00000000-0000-0000-0000-000000000001"):
        before = _state(w)
        response = _receipt(w, "parent", mark)
        assert (response.status_code, response.json()["code"]) == (404, "mark.not_found")
        assert _state(w) == before


def test_a_mark_not_yet_under_a_signed_checkpoint_has_no_receipt_yet(family: World) -> None:
    # п. 2.10: a receipt proves inclusion under a signed checkpoint; the next one brings it.
    w = family
    english = c.actor_for(w.services.ledger, w.accounts["english"])
    lesson = w.school.lesson(english, subject="Английский язык", roster_id=w.ids["group"], slot=3)
    fresh = c.handle(
        c.RecordMark(
            actor=english,
            lesson_id=lesson,
            student_id=w.ids["student"],
            value=4,
            work_type_id=w.ids["answer"],
        ),
        w.services.ledger,
    )
    w.services.projector.catch_up()  # type: ignore[union-attr]
    before = _state(w)
    response = _receipt(w, "parent", str(fresh), str(lesson))
    assert (response.status_code, response.json()["code"]) == (404, "receipt.not_provable")
    assert _state(w) == before
    _signed(w)
    assert _receipt(w, "parent", str(fresh), str(lesson)).status_code == 200


# --- the documentation without the internet ------------------------------------------------------


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_api_documentation_loads_nothing_from_another_host(family: World, page: str) -> None:
    # A school's closed network reaches no CDN: every script and style is the app's own.
    w = family
    response = w.client.get(page)
    assert response.status_code == 200, response.text
    html = response.text
    assert re.search(r"https?://", html) is None, html
    assert re.search(r"(?:src|href)\s*=\s*['\"]//", html) is None, html
    assets = re.findall(r"(?:src|href|spec-url)\s*=\s*['\"]([^'\"]+)['\"]", html)
    assets += re.findall(r"\burl\s*:\s*['\"]([^'\"]+)['\"]", html)  # Swagger UI's spec URL
    assert "/openapi.json" in assets, assets
    assert any(a.endswith(".js") for a in assets), assets
    for asset in assets:
        assert not urlsplit(asset).netloc, asset
        served = w.client.get(asset)
        assert served.status_code == 200, asset
        assert served.content, asset
