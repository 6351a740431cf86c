"""The append-only guard of the events table, with its one exception: disposition (I4).

The recorders' triggers refuse every UPDATE and DELETE of ``stored_events``. Disposition (see
``ledger.retention``) must remove expired payloads and nothing else, so the UPDATE trigger is
replaced by a guarded one that lets an UPDATE through only when all of these hold:

- it sets ``state`` to NULL, from a payload that was there;
- every other column keeps its value (identity, topic, log, index, time, actor, digest, hashes);
- a *disposition permit* covers the row's log and index, and the permit names a disposition act
  already recorded in the same log (an event of topic ``DISPOSITION_ACT_TOPIC``).

Permits are rows of ``disposition_permits``, inserted and deleted inside the one transaction that
removes the payloads, so no other transaction ever sees one: outside a disposition being recorded,
the table is empty and the trigger refuses everything, as before. DELETE and TRUNCATE stay refused.

The recorders install this guard as the events table's only UPDATE/DELETE trigger when they create
the schema (``ledger/recorders.py``).
"""

from __future__ import annotations

EVENTS = "stored_events"
PERMITS_TABLE = "disposition_permits"
DISPOSITION_ACT_TOPIC = "ledger.domain.disposition:DispositionAct.Recorded"
"""The topic of the event a permit must name (``ledger.domain.disposition``)."""
REFUSAL = "ledger records are append-only"

_KEPT_COLUMNS = (
    "originator_id",
    "originator_version",
    "topic",
    "log_id",
    "idx",
    "recorded_at",
    "actor_id",
    "actor_role",
    "credential_version",
    "session_id",
    "payload_sha256",
    "leaf_hash",
    "chain_hash",
)

_PERMITS_DDL = (
    f"CREATE TABLE IF NOT EXISTS {PERMITS_TABLE} ("
    "act_id {uuid} NOT NULL, log_id TEXT NOT NULL, "
    "idx_from BIGINT NOT NULL, idx_to BIGINT NOT NULL)"
)


def _permitted(new: str, old: str) -> str:
    """The SQL condition under which the row ``old`` may become ``new``."""
    unchanged = " AND ".join(f"{new}.{c} IS NOT DISTINCT FROM {old}.{c}" for c in _KEPT_COLUMNS)
    return (
        f"{new}.state IS NULL AND {old}.state IS NOT NULL AND {unchanged} AND EXISTS ("
        f"SELECT 1 FROM {PERMITS_TABLE} p JOIN {EVENTS} a ON a.originator_id = p.act_id "
        f"AND a.originator_version = 1 AND a.log_id = p.log_id "
        f"AND a.topic = '{DISPOSITION_ACT_TOPIC}' "
        f"WHERE p.log_id = {old}.log_id AND {old}.idx >= p.idx_from AND {old}.idx < p.idx_to)"
    )


def sqlite_guard_statements() -> list[str]:
    """SQLite statements that create the events table's guarded UPDATE trigger.

    ``IF NOT EXISTS`` throughout: a start that changes nothing takes no write lock, so processes
    starting together do not contend for it.
    """
    # SQLite spells IS NOT DISTINCT FROM as IS.
    condition = _permitted("NEW", "OLD").replace("IS NOT DISTINCT FROM", "IS")
    return [
        _PERMITS_DDL.format(uuid="TEXT"),
        f"CREATE TRIGGER IF NOT EXISTS {EVENTS}_refuse_update BEFORE UPDATE ON {EVENTS} "
        f"WHEN NOT ({condition}) BEGIN "
        f"SELECT RAISE(ABORT, '{REFUSAL}: UPDATE on {EVENTS}'); END",
    ]


def postgres_guard_statements() -> list[str]:
    """PostgreSQL statements that create the events table's UPDATE/DELETE trigger, which admits
    the disposition exception and nothing else (the checkpoints table keeps its own)."""
    return [
        _PERMITS_DDL.format(uuid="uuid"),
        "CREATE OR REPLACE FUNCTION ejournal_guard_events() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'UPDATE' AND {_permitted('NEW', 'OLD')} THEN RETURN NEW; END IF; "
        # No '%' placeholders: the statement also runs through cursors that take parameters.
        f"RAISE EXCEPTION USING MESSAGE = '{REFUSAL}: ' || TG_OP || ' on ' || TG_TABLE_NAME; "
        "END $$",
        f"CREATE OR REPLACE TRIGGER ejournal_append_only BEFORE UPDATE OR DELETE ON {EVENTS} "
        "FOR EACH ROW EXECUTE FUNCTION ejournal_guard_events()",
    ]
