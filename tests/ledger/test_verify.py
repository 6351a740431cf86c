"""`ejournal verify`, chain part: clean ledgers pass; each tampering is detected and located."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from ejournal.cli.main import cli
from ejournal.integrity.errors import ChainError, LeafMismatchError, MissingEntryError
from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.recorders import SERVER_CHAINED_EVENTS
from ejournal.ledger.verify import verify_ledger
from tests.ledger.support import TEACHER, Forger, Notebook, write_notebooks

runner = CliRunner()


def run_verify_json(database_url: str) -> tuple[int, dict[str, object]]:
    result = runner.invoke(cli, ["verify", "--json", "--database-url", database_url])
    return result.exit_code, json.loads(result.stdout)


def event_at(ledger: Ledger, index: int, log_id: str = "test/log") -> tuple[object, int]:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            "SELECT originator_id, originator_version FROM stored_events WHERE log_id=? AND idx=?",
            (log_id, index),
        )
        return tuple(cursor.fetchone())  # type: ignore[return-value]


def test_clean_ledger_verifies_with_dense_logs(ledger: Ledger, database_url: str) -> None:
    write_notebooks(ledger, count=4)
    write_notebooks(ledger, count=2, log_id="other/log")
    report = verify_ledger(ledger.database)
    assert [(log.log_id, log.size) for log in report.logs] == [("other/log", 6), ("test/log", 12)]
    code, body = run_verify_json(database_url)
    assert code == 0
    assert body["ok"] is True and body["entries"] == 18


def test_refuses_update_and_delete_of_events_and_entries(ledger: Ledger) -> None:
    # I4: the database itself refuses edits, not only our code.
    write_notebooks(ledger, count=1)
    for statement in (
        "UPDATE stored_events SET topic = 'x'",
        "UPDATE stored_events SET actor_role = 'head'",
        "DELETE FROM stored_events",
    ):
        with (
            pytest.raises(Exception, match="ledger records are append-only"),
            ledger.database.transaction(write=True) as cursor,
        ):
            cursor.execute(statement)
    verify_ledger(ledger.database)


def flip_payload_byte(ledger: Ledger, forger: Forger) -> None:
    originator, version = event_at(ledger, 4)
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            "SELECT state FROM stored_events WHERE originator_id=? AND originator_version=?",
            (originator, version),
        )
        state = bytearray(cursor.fetchone()[0])
    state[len(state) // 2] ^= 0x01
    forger.execute(
        (
            "UPDATE stored_events SET state=? WHERE originator_id=? AND originator_version=?",
            (bytes(state), originator, version),
        )
    )


def change_topic(ledger: Ledger, forger: Forger) -> None:
    originator, version = event_at(ledger, 4)
    forger.execute(
        (
            "UPDATE stored_events SET topic=? WHERE originator_id=? AND originator_version=?",
            ("tests.ledger.support:Notebook.Opened", originator, version),
        )
    )


def delete_event(ledger: Ledger, forger: Forger) -> None:
    originator, version = event_at(ledger, 4)
    forger.execute(
        (
            "DELETE FROM stored_events WHERE originator_id=? AND originator_version=?",
            (originator, version),
        )
    )


def swap_entries(ledger: Ledger, forger: Forger) -> None:
    forger.execute(
        ("UPDATE stored_events SET idx=-1 WHERE log_id='test/log' AND idx=4", ()),
        ("UPDATE stored_events SET idx=4 WHERE log_id='test/log' AND idx=5", ()),
        ("UPDATE stored_events SET idx=5 WHERE log_id='test/log' AND idx=-1", ()),
    )


def change_actor(ledger: Ledger, forger: Forger) -> None:
    forger.execute(
        ("UPDATE stored_events SET actor_role='head' WHERE log_id='test/log' AND idx=4", ())
    )


def rewrite_chain_hash(ledger: Ledger, forger: Forger) -> None:
    forger.execute(
        (
            "UPDATE stored_events SET chain_hash=? WHERE log_id='test/log' AND idx=4",
            (bytes(32),),
        )
    )


TAMPERINGS: dict[str, tuple[Callable[[Ledger, Forger], None], type[Exception], str]] = {
    "payload byte flipped": (flip_payload_byte, LeafMismatchError, "payload"),
    "topic changed": (change_topic, LeafMismatchError, "leaf"),
    "event deleted": (delete_event, MissingEntryError, "not dense"),
    "entries swapped": (swap_entries, LeafMismatchError, "leaf"),
    "actor changed": (change_actor, LeafMismatchError, "leaf"),
    "chain hash rewritten": (rewrite_chain_hash, ChainError, "chain hash differs"),
}


@pytest.mark.parametrize("name", list(TAMPERINGS))
def test_tampering_is_detected_at_the_right_entry(
    ledger: Ledger, database_url: str, name: str
) -> None:
    tamper, error, message = TAMPERINGS[name]
    write_notebooks(ledger, count=3)  # indices 0..8; index 4 is the second notebook's second event
    verify_ledger(ledger.database)
    tamper(ledger, Forger(database_url))

    with pytest.raises(error, match=message) as raised:
        verify_ledger(ledger.database)
    assert raised.value.where == "log test/log index 4"

    code, body = run_verify_json(database_url)
    assert code == 1
    assert body["ok"] is False
    assert body["error"] == error.__name__
    assert body["where"] == "log test/log index 4"


def test_an_event_cannot_be_stored_without_its_entry(ledger: Ledger, database_url: str) -> None:
    # I2 by construction: the entry's columns are NOT NULL in the event's own row.
    [book] = write_notebooks(ledger, count=1)
    forger = Forger(database_url)
    with pytest.raises(Exception, match=r"(?i)not.null"):
        forger.execute(
            (
                "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
                "VALUES (?, ?, ?, ?)",
                (forger.uuid(book.id), 99, "tests.ledger.support:Notebook.Written", b"{}"),
            )
        )


def test_payload_digest_kept_when_payload_is_absent(ledger: Ledger, database_url: str) -> None:
    # The leaf commits to the payload's digest (I3): a payload removed by disposition leaves every
    # leaf and the chain verifiable.
    write_notebooks(ledger, count=1)
    Forger(database_url).execute(("UPDATE stored_events SET state=NULL", ()))
    report = verify_ledger(ledger.database)
    assert report.entries == 3


def test_saves_of_every_size_continue_one_chain(ledger: Ledger) -> None:
    # On PostgreSQL a save of up to SERVER_CHAINED_EVENTS is chained by the server and a larger
    # one by the recorder (ledger/recorders.py): interleaved, they must build the chain that
    # integrity.leaf defines, which verify recomputes in Python.
    sizes = (1, 3, SERVER_CHAINED_EVENTS, SERVER_CHAINED_EVENTS + 1, 1, 200, 2)
    for lines in sizes:
        book = Notebook(title="notebook")
        for i in range(lines - 1):
            book.write(f"line {i}")
        ledger.record(book, log_id="test/log", actor=TEACHER, role=Role.TEACHER)
    (log,) = verify_ledger(ledger.database).logs
    assert log.size == sum(sizes)
