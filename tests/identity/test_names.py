"""Names for display (п. 1.7, I9): written as a Russian school writes them, read from the vault
in batches, «данные удалены» for a forgotten person and «имя не внесено» for one never entered.
Both databases."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from ejournal.identity import vault as vault_module
from ejournal.identity.names import FORGOTTEN, NOT_ENTERED, Names, Style, written
from ejournal.identity.vault import PersonalData, Vault, new_key
from ejournal.ledger.application import Ledger
from tests.identity.support import ledger_with_identity_tables

NOW = datetime(2025, 9, 1, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("full_name", "pupil", "adult"),
    [
        ("Иванова Мария Петровна", "Иванова Мария", "Иванова М. П."),
        ("  Петров   Олег  ", "Петров Олег", "Петров О."),
        ("Алиев Магомед Расул оглы", "Алиев Магомед", "Алиев М. Р."),
        ("Сидорова Анна-Мария Ивановна", "Сидорова Анна-Мария", "Сидорова А.-М. И."),
        ("Гасанов", "Гасанов", "Гасанов"),
        ("", NOT_ENTERED, NOT_ENTERED),
        ("   ", NOT_ENTERED, NOT_ENTERED),
    ],
)
def test_a_name_is_written_as_a_school_writes_it(full_name: str, pupil: str, adult: str) -> None:
    # п. 1.7: a class list «Фамилия Имя», a teacher «Фамилия И. О.».
    assert written(full_name, Style.PUPIL) == pupil
    assert written(full_name, Style.ADULT) == adult


@pytest.fixture
def vault(database_url: str) -> Iterator[Vault]:
    ledger: Ledger
    with ledger_with_identity_tables(database_url) as ledger:
        yield Vault(ledger.database, base64.b64decode(new_key()))


def test_names_are_read_in_batches_and_say_what_is_missing(
    vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    # п. 1.7: a forgotten person's name is gone for good; a person never entered is said so.
    monkeypatch.setattr(vault_module, "FULL_NAMES_BATCH", 2)  # three queries for five people
    pupil, teacher, forgotten, empty, absent = (uuid4() for _ in range(5))
    vault.put(pupil, PersonalData("Иванова Мария Петровна"), school_id=None, now=NOW)
    vault.put(teacher, PersonalData("Петрова Анна Сергеевна"), school_id=None, now=NOW)
    vault.put(forgotten, PersonalData("Сидоров Олег"), school_id=None, now=NOW)
    vault.put(
        empty, PersonalData("", contacts={"phone": "+7 900 000-00-00"}), school_id=None, now=NOW
    )
    assert vault.forget(forgotten, now=NOW)
    wanted = {
        pupil: (pupil, Style.PUPIL),
        teacher: (teacher, Style.ADULT),
        forgotten: (forgotten, Style.PUPIL),
        empty: (empty, Style.ADULT),
        absent: (absent, Style.PUPIL),
    }
    assert Names(vault).display(wanted) == {
        pupil: "Иванова Мария",
        teacher: "Петрова А. С.",
        forgotten: FORGOTTEN,
        empty: NOT_ENTERED,
        absent: NOT_ENTERED,
    }
    assert FORGOTTEN == "данные удалены" and NOT_ENTERED == "имя не внесено"
    # Printouts take the name as entered; None where there is none to print.
    names = Names(vault)
    assert names.full_name(teacher) == "Петрова Анна Сергеевна"
    assert names.full_name(forgotten) == FORGOTTEN
    assert names.full_name(empty) is None and names.full_name(absent) is None


def test_an_account_shows_the_name_of_its_person_under_its_own_id(vault: Vault) -> None:
    # Who recorded a value is an account (I8): the name is its person's, keyed by the account.
    account, person = UUID(int=1), uuid4()
    vault.put(person, PersonalData("Петрова Анна Сергеевна"), school_id=None, now=NOW)
    assert Names(vault).display({account: (person, Style.ADULT)}) == {account: "Петрова А. С."}


def test_without_a_vault_there_are_no_names() -> None:
    person = uuid4()
    assert Names(None).display({person: (person, Style.PUPIL)}) == {}
    assert Names(None).full_name(person) is None
