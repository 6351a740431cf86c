"""Certified printouts on request through the API (п. 1.6, 2.9, 3.1): who may ask is who may read
the same page; the answer is a PDF/A that verifies with the deployment's key and names the people;
the read is logged (п. 1.7)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ejournal.api.errors import ApiError
from ejournal.api.printing import Printing
from ejournal.documents.verify import verify_printout_file
from ejournal.identity.vault import PersonalData
from ejournal.integrity.note import Verifier
from ejournal.ledger.keys import KeyStore
from tests.api.conftest import World, build_world, sign_checkpoint
from tests.commands.school import YEAR
from tests.documents.support import pdf_a_faults, text_of

PUPIL = "Абдуллаев Магомед Расулович"
CLASS_TEACHER = "Петрова Анна Сергеевна"


@pytest.fixture(scope="module")
def world(backend_url: str) -> Iterator[World]:
    built = build_world(backend_url)
    try:
        assert built.services.vault is not None
        now = built.clock()
        for person, name in (
            (built.ids["student"], PUPIL),
            (built.persons["maths"], CLASS_TEACHER),
        ):
            built.services.vault.put(
                person, PersonalData(name), school_id=built.ids["school"], now=now
            )
        lesson = built.client.post(
            "/lessons",
            headers=built.headers("maths"),
            json={
                "roster_id": str(built.ids["klass"]),
                "subject_id": str(built.ids["maths"]),
                "on": "2025-09-01",
                "slot": 1,
                "topic": "Натуральные числа",
            },
        )
        assert lesson.status_code == 201, lesson.text
        sign_checkpoint(built)
        yield built
    finally:
        built.client.__exit__(None, None, None)
        built.services.close()


def _diary(w: World) -> str:
    return f"/schools/{w.ids['school']}/years/{YEAR}/students/{w.ids['student']}/diary/printout"


def _journal(w: World, subject: str = "maths") -> str:
    return f"/journal/{w.ids['klass']}/{w.ids[subject]}/printout"


def _summary(w: World) -> str:
    return f"/classes/{w.ids['klass']}/summary-sheet/printout"


def _deployment_keys(w: World) -> list[Verifier]:
    return KeyStore(w.services.ledger.database).verifiers()


def _get(w: World, who: str, path: str, **params: Any) -> Any:
    return w.client.get(path, params=params, headers=w.headers(who))


def test_a_parent_prints_the_week_of_their_child(world: World) -> None:
    # п. 1.6: a weekly printout on request, certified (п. 3.1), the read logged (п. 1.7)
    w = world
    before = w.services.access_log.entries(school_id=w.ids["school"], limit=1000)
    response = _get(w, "parent", _diary(w), week="2025-09-03")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert 'filename="diary-20250901.pdf"' in response.headers["content-disposition"]
    pdf = response.content
    assert pdf_a_faults(pdf) == []
    verify_printout_file(pdf, verifiers=_deployment_keys(w))
    text = " ".join(text_of(pdf).split())
    assert PUPIL in text and "Натуральные числа" in text and "Понедельник, 01.09.2025" in text
    after = w.services.access_log.entries(school_id=w.ids["school"], limit=1000)
    (entry,) = after[len(before) :]
    assert (entry.what, entry.subject_id, entry.reader_role) == (
        "diary",
        w.ids["student"],
        "parent",
    )


@pytest.mark.parametrize(
    ("who", "code"),
    [("other_parent", "access.denied"), ("english", "access.denied"),
     ("support", "access.support_no_journal"), ("auditor", "access.denied")],
)  # fmt: skip
def test_the_diary_printout_is_refused_to_others(world: World, who: str, code: str) -> None:
    response = _get(world, who, _diary(world))
    assert (response.status_code, response.json()["code"]) == (403, code)


def test_the_class_teacher_prints_the_summary_sheet(world: World) -> None:
    # п. 2.9: the summary sheet of any period, certified; the class teacher and the administration
    w = world
    for who in ("maths", "head", "deputy"):
        response = _get(w, who, _summary(w), period="I четверть")
        assert response.status_code == 200, response.text
    verified = verify_printout_file(response.content, verifiers=_deployment_keys(w))
    assert verified.certificate.kind == "summary-sheet"
    text = " ".join(text_of(response.content).split())
    assert "I четверть" in text and PUPIL in text and CLASS_TEACHER in text
    refused = _get(w, "russian", _summary(w))
    assert (refused.status_code, refused.json()["code"]) == (403, "access.denied")
    unknown = _get(w, "head", _summary(w), period="V четверть")
    assert (unknown.status_code, unknown.json()["code"]) == (422, "attestation.unknown_period")


def test_the_journal_pages_for_its_teacher_and_not_for_another(world: World) -> None:
    # п. 2.3, 2.4: its teacher, the class teacher and the administration
    w = world
    response = _get(w, "maths", _journal(w), **{"from": "2025-09-01", "to": "2025-09-30"})
    assert response.status_code == 200, response.text
    text = " ".join(text_of(response.content).split())
    assert "Натуральные числа" in text and PUPIL in text and f"Учитель: {CLASS_TEACHER}" in text
    assert _get(w, "russian", _journal(w, "russian")).status_code == 200
    refused = _get(w, "english", _journal(w))
    assert (refused.status_code, refused.json()["code"]) == (403, "access.denied")
    backwards = _get(w, "maths", _journal(w), **{"from": "2025-09-30", "to": "2025-09-01"})
    assert (backwards.status_code, backwards.json()["code"]) == (422, "period.invalid")


def test_printouts_wait_for_a_key_and_a_checkpoint(world: World) -> None:
    database = world.services.ledger.database
    origin = world.services.settings.origin
    with pytest.raises(ApiError) as no_key:
        Printing(database, origin=origin, environ={}).seal()
    assert no_key.value.code == "printout.unavailable" and no_key.value.status == 503
    with pytest.raises(ApiError) as not_signed:
        Printing(database, origin=origin, environ={}).checkpoint(f"school/{world.ids['school']}/x")
    assert not_signed.value.code == "printout.not_signed_yet"
