"""`ejournal verify` and a stored column of the wrong type: named like every other tamper (I6).

SQLite types each value, not each column: a forger can store a payload as TEXT, a time as REAL, a
hash as hex text. PostgreSQL types the column: a forger with the database can change a column's
type (``ALTER TABLE … TYPE``). Either way the verifier must name the entry or the column, with a
``VerificationError`` (``StoredValueError``), never crash with a ``TypeError``.
"""

from __future__ import annotations

import json
from pathlib import Path
from uuid import uuid4

import pytest
from typer.testing import CliRunner

from ejournal import commands as c
from ejournal.cli.main import cli
from ejournal.integrity.errors import LeafMismatchError
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.recorders import SYSTEM_LOG
from ejournal.ledger.replay import StoredValueError
from ejournal.ledger.verify import verify_ledger
from tests.commands.school import build_school
from tests.ledger.support import Forger, write_notebooks

ORIGIN = "test.ejournal"
SECRET = b"correct horse battery staple"
LOG = "test/log"
runner = CliRunner()

# (the SQL that stores row 4's column as another type, the column named)
SQLITE_VALUES = {
    "payload as TEXT": ("state = CAST(state AS TEXT)", "state"),
    "payload digest as hex text": ("payload_sha256 = hex(payload_sha256)", "payload_sha256"),
    "leaf hash as hex text": ("leaf_hash = hex(leaf_hash)", "leaf_hash"),
    "chain hash as hex text": ("chain_hash = hex(chain_hash)", "chain_hash"),
    "recorded time as REAL": ("recorded_at = recorded_at + 0.5", "recorded_at"),
    "credential version as REAL": ("credential_version = 1.5", "credential_version"),
    "topic as BLOB": ("topic = CAST(topic AS BLOB)", "topic"),
    "role as BLOB": ("actor_role = CAST(actor_role AS BLOB)", "actor_role"),
    "originator as BLOB": ("originator_id = CAST(originator_id AS BLOB)", "originator_id"),
    "session as a short text": ("session_id = 'abc'", "session_id"),
    "index as REAL": ("idx = 4.5", "idx"),
    "version as REAL": ("originator_version = originator_version + 0.5", "originator_version"),
}


def verify_json(database_url: str) -> tuple[int, dict[str, object], str]:
    result = runner.invoke(cli, ["verify", "--json", "--database-url", database_url])
    return result.exit_code, json.loads(result.stdout), result.output


@pytest.mark.parametrize("name", list(SQLITE_VALUES))
def test_a_value_of_the_wrong_type_is_named_on_sqlite(
    tmp_path: Path, clock: object, name: str
) -> None:
    url = f"sqlite:///{tmp_path / 'ejournal.db'}"
    ledger = Ledger(database_url=url, clock=clock)  # type: ignore[arg-type]
    try:
        write_notebooks(ledger, count=3)
        verify_ledger(ledger.database)
        assignment, column = SQLITE_VALUES[name]
        Forger(url).execute((f"UPDATE stored_events SET {assignment} WHERE idx = 4", ()))

        with pytest.raises(StoredValueError, match=column) as raised:
            verify_ledger(ledger.database)
        assert isinstance(raised.value, LeafMismatchError)  # a tamper like any other
        assert raised.value.where == "log test/log index 4"
        assert raised.value.expected and raised.value.found
    finally:
        ledger.close()
    code, body, output = verify_json(url)
    assert (code, body["error"], body["where"]) == (1, "StoredValueError", "log test/log index 4")
    assert "Traceback" not in output


# PostgreSQL: (the ALTER TABLE, the table and column named, the type expected)
POSTGRES_COLUMNS = {
    "payload as text": (
        "ALTER TABLE stored_events ALTER COLUMN state TYPE text USING encode(state, 'escape')",
        "table stored_events column state",
        "bytea",
    ),
    "recorded time as numeric": (
        "ALTER TABLE stored_events ALTER COLUMN recorded_at TYPE numeric",
        "table stored_events column recorded_at",
        "bigint",
    ),
    "leaf hash as text": (
        "ALTER TABLE stored_events ALTER COLUMN leaf_hash TYPE text USING encode(leaf_hash, 'hex')",
        "table stored_events column leaf_hash",
        "bytea",
    ),
    "checkpoint root as text": (
        "ALTER TABLE checkpoints ALTER COLUMN root_hash TYPE text USING encode(root_hash, 'hex')",
        "table checkpoints column root_hash",
        "bytea",
    ),
}


@pytest.mark.parametrize("name", list(POSTGRES_COLUMNS))
def test_a_column_of_another_type_is_named_on_postgres(
    postgres_url: str, clock: object, name: str
) -> None:
    ledger = Ledger(database_url=postgres_url, clock=clock)  # type: ignore[arg-type]
    try:
        write_notebooks(ledger, count=3)
        verify_ledger(ledger.database)  # creates the checkpoints table too
        statement, where, expected = POSTGRES_COLUMNS[name]
        Forger(postgres_url).execute((statement, ()))

        with pytest.raises(StoredValueError, match="another type") as raised:
            verify_ledger(ledger.database)
        assert (raised.value.where, raised.value.expected) == (where, expected)
    finally:
        ledger.close()
    code, body, output = verify_json(postgres_url)
    assert (code, body["error"], body["where"]) == (1, "StoredValueError", where)
    assert "Traceback" not in output


def test_a_checkpoint_column_of_the_wrong_type_is_named_on_sqlite(
    tmp_path: Path, clock: object
) -> None:
    url = f"sqlite:///{tmp_path / 'ejournal.db'}"
    ledger = Ledger(database_url=url, clock=clock)  # type: ignore[arg-type]
    try:
        keys = KeyStore(ledger.database, clock=ledger.clock)
        keys.create(ORIGIN, SECRET)
        write_notebooks(ledger, count=3)
        Checkpointer(
            ledger.database, origin=ORIGIN, signers=keys.signers(SECRET), verifiers=keys.verifiers()
        ).checkpoint(LOG)
        Forger(url).execute(("UPDATE checkpoints SET root_hash = hex(root_hash)", ()))
        with pytest.raises(StoredValueError, match="root_hash") as raised:
            verify_ledger(ledger.database, verifiers=keys.verifiers(), origin=ORIGIN)
        assert raised.value.where == "log test/log checkpoint at size 9"
    finally:
        ledger.close()


def test_a_rule_event_rewritten_as_text_is_named(database_url: str, ledger: Ledger) -> None:
    # The rules of п. 4.4 are read from their events' payloads before the replay: a payload of
    # the wrong type must not crash that read, and the replay names its entry.
    school = build_school(ledger)
    c.handle(
        c.InvalidateSession(
            actor=school.head,
            session_id=uuid4(),
            account_id=school.maths.account_id,
            school_id=school.school_id,
            reason="вход с чужого устройства",
        ),
        ledger,
    )
    verify_ledger(ledger.database)
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            "SELECT MAX(idx) FROM stored_events WHERE log_id = ? AND topic LIKE ?",
            (SYSTEM_LOG, "%SessionInvalidation%"),
        )
        index = int(cursor.fetchone()[0])
    tamper: tuple[str, tuple[object, ...]]
    if database_url.startswith("sqlite"):
        tamper = (
            "UPDATE stored_events SET state = CAST(state AS TEXT) WHERE log_id = ? AND idx = ?",
            (SYSTEM_LOG, index),
        )
        where = f"log {SYSTEM_LOG} index {index}"
    else:
        tamper = (
            "ALTER TABLE stored_events ALTER COLUMN state TYPE text USING encode(state, 'hex')",
            (),
        )
        where = "table stored_events column state"
    Forger(database_url).execute(tamper)
    with pytest.raises(StoredValueError) as raised:
        verify_ledger(ledger.database)
    assert raised.value.where == where
