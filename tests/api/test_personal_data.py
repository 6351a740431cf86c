"""Personal data (п. 1.7, I9): the vault encrypts per person, ``forget`` shreds, and every read of
a person's data or a child's diary is in the append-only access log."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import date
from uuid import UUID, uuid4

import pytest

from ejournal.identity.vault import (
    VAULT_KEY_FILE_VARIABLE,
    VAULT_KEY_VARIABLE,
    PersonalData,
    PersonForgotten,
    Vault,
    VaultError,
    key_from_environment,
    new_key,
)
from ejournal.ledger.application import Ledger
from tests.api.conftest import World, build_world
from tests.commands.school import YEAR
from tests.identity.support import ledger_with_identity_tables


def _diary(w: World, who: str) -> int:
    path = f"/schools/{w.ids['school']}/years/{YEAR}/students/{w.ids['student']}/diary"
    response = w.client.get(path, headers=w.headers(who))
    return response.status_code


def test_each_diary_read_by_a_parent_is_logged(fresh_world: World) -> None:
    # п. 1.7: who read whose diary, and when; the head reads the log.
    w = fresh_world
    for _ in range(2):
        assert _diary(w, "parent") == 200
    response = w.client.get(
        "/access-log", params={"school_id": str(w.ids["school"])}, headers=w.headers("head")
    )
    assert response.status_code == 200, response.text
    diary_reads = [e for e in response.json() if e["what"] == "diary"]
    assert len(diary_reads) == 2
    me = w.client.get("/auth/me", headers=w.headers("parent")).json()
    for entry in diary_reads:
        assert entry["reader_account_id"] == me["account_id"]
        assert entry["session_id"] == me["session_id"]
        assert entry["reader_role"] == "parent"
        assert entry["subject_id"] == str(w.ids["student"])
        assert entry["school_id"] == str(w.ids["school"])
        assert entry["at"].startswith("2025-09-01T06:00:00")


def test_a_refused_diary_read_is_not_logged(world: World) -> None:
    before = world.services.access_log.entries(subject_id=world.ids["student"], limit=1000)
    assert _diary(world, "other_parent") == 403
    after = world.services.access_log.entries(subject_id=world.ids["student"], limit=1000)
    assert after == before


def test_the_access_log_is_append_only(fresh_world: World) -> None:
    w = fresh_world
    _diary(w, "parent")
    database = w.services.ledger.database
    for statement in ("UPDATE access_log SET what = 'nothing'", "DELETE FROM access_log"):
        with (
            pytest.raises(Exception, match="append-only"),
            database.transaction(write=True) as cursor,
        ):
            cursor.execute(statement)
    assert len(w.services.access_log.entries()) == 1


def test_a_person_s_data_round_trips_and_each_read_is_logged(fresh_world: World) -> None:
    w = fresh_world
    student = w.ids["student"]
    body = {
        "full_name": "Иванова Мария Петровна",
        "birth_date": "2014-03-08",
        "contacts": {"email": "maria@example.org"},
        "school_id": str(w.ids["school"]),
    }
    assert (
        w.client.put(f"/people/{student}", json=body, headers=w.headers("head")).status_code == 200
    )
    for who in ("student", "head"):
        response = w.client.get(f"/people/{student}", headers=w.headers(who))
        assert response.status_code == 200, response.text
        assert response.json()["full_name"] == "Иванова Мария Петровна"
    reads = w.services.access_log.entries(subject_id=student)
    assert [(e.reader_role, e.what.value) for e in reads] == [
        ("student", "personal_data"),
        ("head", "personal_data"),
    ]
    with w.services.ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT ciphertext FROM personal_data")
        (ciphertext,) = cursor.fetchone()
    assert "Иванова".encode() not in bytes(ciphertext)


def test_forget_destroys_the_key_and_the_ledger_still_verifies(fresh_world: World) -> None:
    # I9, п. 1.7: disposition shreds the personal data; the ledger never held it.
    w = fresh_world
    student = w.ids["student"]
    body = {"full_name": "Сидоров Олег", "school_id": str(w.ids["school"])}
    assert (
        w.client.put(f"/people/{student}", json=body, headers=w.headers("head")).status_code == 200
    )
    response = w.client.post(f"/people/{student}/forget", headers=w.headers("head"))
    assert response.status_code == 200, response.text
    gone = w.client.get(f"/people/{student}", headers=w.headers("head"))
    assert gone.status_code == 410
    assert gone.json()["code"] == "person.forgotten"
    again = w.client.put(f"/people/{student}", json=body, headers=w.headers("head"))
    assert again.json()["code"] == "person.forgotten"
    with w.services.ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT wrapped_key, ciphertext FROM personal_data")
        assert cursor.fetchone() == (None, None)
    w.login("head")
    verify = w.client.get("/ledger/verification", headers=w.headers("head"))
    assert verify.json()["ok"] is True


@pytest.fixture
def two_schools(database_url: str) -> Iterator[World]:
    built = build_world(database_url, roles=("head", "sysadmin"), second_school=("head2",))
    try:
        yield built
    finally:
        built.client.__exit__(None, None, None)
        built.services.close()


def test_a_person_s_data_is_first_entered_by_a_school_they_belong_to(two_schools: World) -> None:
    # п. 1.7: the school that first enters a person's data keeps it; another school's head who
    # entered a name for someone else's pupil would shut the pupil's own school out.
    w = two_schools
    assert w.other is not None and w.services.projector is not None
    vault = w.services.vault
    assert vault is not None
    w.services.projector.catch_up()
    pupil = w.other.students[1]
    claim = {"full_name": "Чужой ученик", "school_id": str(w.ids["school"])}
    refused = w.client.put(f"/people/{pupil}", json=claim, headers=w.headers("head"))
    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "person.not_of_school"
    assert vault.school_of(pupil) == (False, None)  # nothing written
    # The pupil's own school enters and reads it.
    own = {"full_name": "Свой ученик", "school_id": str(w.other.school_id)}
    assert w.client.put(f"/people/{pupil}", json=own, headers=w.headers("head2")).status_code == 200
    read = w.client.get(f"/people/{pupil}", headers=w.headers("head2"))
    assert read.status_code == 200 and read.json()["full_name"] == "Свой ученик"
    # The first school's own people: a pupil, a linked parent, a teacher with a role there.
    for person in (w.ids["student"], w.persons["parent"], w.persons["russian"]):
        body = {"full_name": "Свой человек", "school_id": str(w.ids["school"])}
        stored = w.client.put(f"/people/{person}", json=body, headers=w.headers("head"))
        assert stored.status_code == 200, stored.text
    # A system administrator enters anyone's, for whichever school.
    anyone = {"full_name": "Новый человек", "school_id": str(w.ids["school"])}
    by_admin = w.client.put(
        f"/people/{w.other.students[2]}", json=anyone, headers=w.headers("sysadmin")
    )
    assert by_admin.status_code == 200, by_admin.text


@pytest.fixture
def vault_ledger(database_url: str) -> Iterator[Ledger]:
    with ledger_with_identity_tables(database_url) as ledger:
        yield ledger


def test_vault_rows_are_bound_to_their_person_and_key(vault_ledger: Ledger) -> None:
    database = vault_ledger.database
    key = base64.b64decode(new_key())
    vault = Vault(database, key)
    alice, bob = uuid4(), uuid4()
    now = vault_ledger.clock()
    vault.put(
        alice, PersonalData("Алиса", date(2014, 1, 2), {"phone": "+7"}), school_id=None, now=now
    )
    vault.put(bob, PersonalData("Борис"), school_id=None, now=now)
    stored = vault.get(alice)
    assert stored is not None and stored.data.birth_date == date(2014, 1, 2)
    with pytest.raises(VaultError, match="wrong EJOURNAL_VAULT_KEY"):
        Vault(database, base64.b64decode(new_key())).get(alice)
    # Bob's encrypted row copied onto Alice does not decrypt as hers.
    with database.transaction(write=True) as cursor:
        cursor.execute(
            "SELECT wrapped_key, ciphertext FROM personal_data WHERE person_id = ?", (str(bob),)
        )
        wrapped, ciphertext = cursor.fetchone()
        cursor.execute(
            "UPDATE personal_data SET wrapped_key = ?, ciphertext = ? WHERE person_id = ?",
            (bytes(wrapped), bytes(ciphertext), str(alice)),
        )
    with pytest.raises(VaultError):
        vault.get(alice)
    assert vault.forget(bob, now=now)
    assert not vault.forget(bob, now=now)
    with pytest.raises(PersonForgotten):
        vault.get(bob)
    assert vault.get(UUID(int=1)) is None


def test_the_key_encryption_key_comes_from_the_environment(tmp_path: object) -> None:
    key = new_key()
    assert key_from_environment({VAULT_KEY_VARIABLE: key}) == base64.b64decode(key)
    assert key_from_environment({}) is None
    with pytest.raises(VaultError, match=re.escape("must hold 32 bytes")):
        key_from_environment({VAULT_KEY_VARIABLE: base64.b64encode(b"short").decode()})
    with pytest.raises(VaultError, match="cannot read"):
        key_from_environment({VAULT_KEY_FILE_VARIABLE: "/nonexistent/vault.key"})
