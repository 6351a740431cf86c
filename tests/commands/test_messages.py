"""What a refusal says is Russian, as a school writes it: dates ДД.ММ.ГГГГ, moments in Moscow time,
roles and schemes of periods by their Russian names, never an ISO date or an English word."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest

from ejournal import commands as c
from ejournal.commands.errors import CATALOGUE, as_text, refuse, verification_detail
from ejournal.integrity.errors import SignatureError
from ejournal.integrity.note import Verifier
from ejournal.ledger.actor import Role
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain.values import PeriodScheme
from tests.commands.school import TestSchool, refused

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
ENGLISH = re.compile(r"[A-Za-z]{3,}")

SAMPLES: dict[str, Any] = {
    "on": date(2025, 9, 7),
    "checked_on": date(2025, 9, 8),
    "due_on": date(2025, 9, 1),
    "current": datetime(2025, 9, 1, 6, 30, tzinfo=UTC),
    "roles": frozenset({Role.HEAD, Role.DEPUTY}),
    "role": Role.AUDITOR,
    "scheme": PeriodScheme.TRIMESTERS,
    "year": "2025/2026",
    "dates": "01.09.2025 – 31.08.2026",
}
"""Typed values, as the commands pass them, for the placeholders that take them."""


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_message_shows_its_values_as_a_school_writes_them(code: str) -> None:
    placeholders = set(re.findall(r"{(\w+)}", CATALOGUE[code].message))
    message = refuse(code, **{name: SAMPLES.get(name, "…") for name in placeholders}).message
    assert not ISO_DATE.search(message), message
    # Latin letters only in a format to type (ГГГГ-Wнн, e.g. 2025-W36), never a word.
    assert not ENGLISH.search(message), message


def test_values_as_text() -> None:
    assert as_text(date(2025, 9, 1)) == "01.09.2025"
    assert as_text(datetime(2025, 9, 1, 6, 30, tzinfo=UTC)) == "01.09.2025 09:30 (МСК)"
    assert as_text(Role.CLASS_TEACHER) == "классный руководитель"
    assert as_text({Role.HEAD, Role.SYSTEM_ADMIN}) == "руководитель ОУ или системный администратор"
    assert as_text(PeriodScheme.HALF_YEARS) == "полугодия"
    assert as_text("quarters") == "quarters"  # what a person typed is shown as typed
    assert as_text(5) == 5


def test_a_lesson_on_a_sunday_names_the_day_as_a_school_writes_it(
    school: TestSchool, clock: ManualClock
) -> None:
    # п. 2.2: "2025-09-07 — не учебный день" read as a programmer writes a date.
    clock.set(datetime(2025, 9, 8, 6, 0, tzinfo=UTC))
    with refused(school.ledger, c.InvalidInput, "lesson.not_a_school_day"):
        try:
            school.lesson(on=date(2025, 9, 7))
        except c.InvalidInput as e:
            assert e.message.startswith("07.09.2025 — не учебный день"), e.message
            raise


def test_a_role_refusal_names_the_roles_in_russian(school: TestSchool) -> None:
    # п. 2.1: "требуется роль deputy или head".
    with pytest.raises(c.NotAllowed) as info:
        c.handle(
            c.OpenSchoolYear(actor=school.maths, school_id=school.school_id, year_start=2026),
            school.ledger,
        )
    assert info.value.code in {"role.required", "setup.administration_only"}
    assert not ENGLISH.search(info.value.message), info.value.message
    with pytest.raises(c.NotAllowed) as granted:
        c.handle(
            c.GrantRole(
                actor=school.maths,
                account_id=school.russian.account_id,
                role=Role.TEACHER,
                school_id=school.school_id,
            ),
            school.ledger,
        )
    assert granted.value.code == "role.required"
    assert "руководитель ОУ" in granted.value.message
    assert not ENGLISH.search(granted.value.message), granted.value.message


def test_a_verification_failure_is_said_in_russian() -> None:
    detail = verification_detail(SignatureError("signature does not verify"))
    assert detail == "подпись не сходится с документом"
    try:
        Verifier.from_vkey("nope")
    except Exception as e:  # the malformed key's own error
        assert not ENGLISH.search(verification_detail(e))  # type: ignore[arg-type]
    else:
        raise AssertionError("a malformed key was read")
