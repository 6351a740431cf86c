"""Witnesses' cosignatures of the stored checkpoints, in a table beside them.

A cosignature (C2SP tlog-cosignature) is a signature line by a witness on a checkpoint's note;
the checkpoint as cosigned is the note with those lines appended (``cosigned_note``). Receipts and
archives carry it that way, and a verifier that does not know a witness ignores its line. The
table is append-only like the checkpoints; one row per log, size and witness.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ejournal.integrity.cosignature import add_signature_lines
from ejournal.integrity.leaf import micros
from ejournal.ledger.clock import Clock, system_clock
from ejournal.ledger.database import Database
from ejournal.ledger.recorders import SCHEMA_LOCK

_CREATE = """
CREATE TABLE IF NOT EXISTS checkpoint_cosignatures (
    log_id TEXT NOT NULL,
    size BIGINT NOT NULL,
    witness TEXT NOT NULL,
    line TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (log_id, size, witness)
)"""


def create_cosignature_table(database: Database) -> None:
    """Create the cosignatures table, refusing UPDATE and DELETE like the checkpoints (I4)."""
    with database.transaction(write=True) as cursor:
        if database.dialect == "sqlite":
            cursor.execute(_CREATE)
            for operation in ("UPDATE", "DELETE"):
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS cosignatures_refuse_{operation.lower()} "
                    f"BEFORE {operation} ON checkpoint_cosignatures BEGIN "
                    f"SELECT RAISE(ABORT, 'cosignatures are append-only: {operation}'); END"
                )
            return
        cursor.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
        cursor.execute(_CREATE)
        cursor.execute(
            "CREATE OR REPLACE TRIGGER ejournal_append_only BEFORE UPDATE OR DELETE "
            "ON checkpoint_cosignatures FOR EACH ROW EXECUTE FUNCTION ejournal_refuse_change()"
        )


def store_cosignature(
    database: Database,
    log_id: str,
    size: int,
    witness: str,
    line: str,
    *,
    clock: Clock = system_clock,
) -> None:
    """Keep ``witness``'s cosignature ``line`` of the checkpoint of ``log_id`` at ``size`` (the
    first one kept stays: a witness cosigning again changes nothing)."""
    conflict = "ON CONFLICT (log_id, size, witness) DO NOTHING"
    with database.transaction(write=True) as cursor:
        cursor.execute(
            "INSERT INTO checkpoint_cosignatures (log_id, size, witness, line, received_at) "
            f"VALUES (?, ?, ?, ?, ?) {conflict}",
            (log_id, size, witness, line, micros(clock())),
        )


def load_cosignatures(
    database: Database, log_id: str | None = None
) -> dict[tuple[str, int], list[str]]:
    """The cosignature lines of every checkpoint (of ``log_id``), by (log, size), in witness
    order. Creates the table if there is none yet."""
    create_cosignature_table(database)
    query = "SELECT log_id, size, line FROM checkpoint_cosignatures"
    parameters: tuple[str, ...] = ()
    if log_id is not None:
        query, parameters = query + " WHERE log_id = ?", (log_id,)
    with database.transaction(write=False) as cursor:
        cursor.execute(query + " ORDER BY log_id, size, witness", parameters)
        rows = cursor.fetchall()
    found: dict[tuple[str, int], list[str]] = {}
    for row_log, size, line in rows:
        found.setdefault((row_log, int(size)), []).append(line)
    return found


def cosigned_note(
    note: str, log_id: str, size: int, cosignatures: Mapping[tuple[str, int], Iterable[str]]
) -> str:
    """The checkpoint ``note`` with the cosignature lines kept for it appended."""
    lines = list(cosignatures.get((log_id, size), ()))
    return add_signature_lines(note, lines) if lines else note


def cosigned_sizes(database: Database, witness: str) -> dict[str, int]:
    """The largest size of each log that ``witness`` cosigned, as far as the table knows."""
    with database.transaction(write=False) as cursor:
        cursor.execute(
            "SELECT log_id, MAX(size) FROM checkpoint_cosignatures WHERE witness = ? "
            "GROUP BY log_id",
            (witness,),
        )
        return {log_id: int(size) for log_id, size in cursor.fetchall()}
