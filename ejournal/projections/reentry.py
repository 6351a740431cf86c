"""What п. 4.4 took out of the read models, for the people who must act on it.

- ``rules``: the breach reports and session invalidations in force (the audit view);
- ``worklist``: the excluded operations, for their author (the owner of the compromised login, who
  enters again what was legitimately theirs) or for a school's administration;
- ``flagged``: operations inside a breach's "suspected since" window, valid but to be reviewed.
  They are read from the ledger's entries (account, credential version, recorded time), since a
  valid operation leaves no trace of the rule in the read models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import orjson

from ejournal.integrity.leaf import from_micros, micros
from ejournal.ledger.database import Database
from ejournal.ledger.invalidation import EXEMPT_TOPICS
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.projections.errors import NotProjected
from ejournal.projections.queries import PROVENANCE, provenance
from ejournal.projections.storage import read_tracking
from ejournal.projections.tables import EXCLUDED, INVALIDATIONS, SCHEMA_VERSION, TRACKING_TABLE
from ejournal.projections.views import Provenance


@dataclass(frozen=True, slots=True)
class InvalidationRule:
    """A rule of п. 4.4 in force."""

    rule: str
    """The name the excluded operations carry: ``breach/<id>`` or ``session/<id>``."""
    rule_id: UUID
    kind: str
    """``breach`` or ``session``."""
    account_id: UUID
    session_id: UUID | None
    up_to_version: int
    """A breach rule reaches the account's credential versions up to this one."""
    since: datetime | None
    """Operations from this moment are invalid (the earlier receipt); None for a session rule."""
    review_since: datetime | None
    school_id: UUID | None
    filed_by: str
    learned_at: datetime | None
    head_received_at: datetime | None
    support_received_at: datetime | None
    deadline: date | None
    late: bool
    """Reported after the deadline of п. 4.3."""
    reason: str
    provenance: Provenance


@dataclass(frozen=True, slots=True)
class ExcludedOperation:
    """An operation the read models leave out, and what it would have recorded."""

    rule: str
    originator_id: UUID
    originator_version: int
    event: str
    """The event's class, e.g. ``Lesson.MarkRecorded``."""
    school_id: UUID | None
    detail: dict[str, Any]
    provenance: Provenance
    log_id: str
    """The log of the event: in a region, a copy of it left on a move's source is the same
    operation, reported once (``api.bootstrap.Services.copies``)."""


@dataclass(frozen=True, slots=True)
class FlaggedOperation:
    """A valid operation of a compromised login, made while the breach was suspected."""

    rule: str
    log_id: str
    index: int
    originator_id: UUID
    originator_version: int
    event: str
    session_id: UUID
    recorded_at: datetime


class InvalidationQueries:
    def __init__(self, database: Database) -> None:
        self._database = database

    def rules(self) -> list[InvalidationRule]:
        with self._database.transaction(write=False) as cursor:
            columns = ", ".join(INVALIDATIONS.column_names)
            cursor.execute(f"SELECT {columns} FROM {INVALIDATIONS.name} ORDER BY nid")
            rows = cursor.fetchall()
        return [_rule(row) for row in rows]

    def rule(self, rule_id: UUID) -> InvalidationRule:
        """Raises ``NotProjected`` for a rule the read models do not hold (yet)."""
        found = [rule for rule in self.rules() if rule.rule_id == rule_id]
        if not found:
            raise NotProjected("правило признания операций недействительными не найдено")
        return found[0]

    def worklist(
        self,
        *,
        author_id: UUID | None = None,
        school_ids: frozenset[UUID] | None = None,
        rule: str | None = None,
    ) -> list[ExcludedOperation]:
        """The excluded operations made with ``author_id``'s account, or concerning one of
        ``school_ids``, or under ``rule`` (every filter given must hold), in ledger order."""
        where, params = [], []
        if author_id is not None:
            where.append("actor_id = ?")
            params.append(author_id.hex)
        if school_ids is not None:
            if not school_ids:
                return []
            where.append(f"school_id IN ({', '.join('?' * len(school_ids))})")
            params.extend(s.hex for s in sorted(school_ids))
        if rule is not None:
            where.append("rule = ?")
            params.append(rule)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        nid = "rowid" if self._database.dialect == "sqlite" else "notification_id"
        log_of = f"(SELECT log_id FROM {EVENTS_TABLE} WHERE {nid} = {EXCLUDED.name}.nid)"
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT {log_of}, rule, originator_id, originator_version, topic, school_id, "
                f"detail, {PROVENANCE} FROM {EXCLUDED.name} {clause}ORDER BY nid",
                params,
            )
            rows = cursor.fetchall()
        return [
            ExcludedOperation(
                log_id=row[0],
                rule=row[1],
                originator_id=UUID(row[2]),
                originator_version=int(row[3]),
                event=_event(row[4]),
                school_id=None if row[5] is None else UUID(row[5]),
                detail=orjson.loads(row[6]),
                provenance=provenance(row[7:]),
            )
            for row in rows
        ]

    def excluded_set(self) -> set[tuple[str, int]]:
        """Every excluded operation as (originator ID in hex, version): what ``verify`` compares
        with the set it recomputes from the leaves."""
        with self._database.transaction(write=False) as cursor:
            cursor.execute(f"SELECT originator_id, originator_version FROM {EXCLUDED.name}")
            return {(str(oid), int(version)) for oid, version in cursor.fetchall()}

    def flagged(self, rule: InvalidationRule) -> list[FlaggedOperation]:
        """The valid operations of ``rule``'s account made between ``review_since`` and the
        receipt, read from the ledger's entries."""
        if rule.review_since is None or rule.since is None:
            return []
        postgres = self._database.dialect == "postgres"
        columns = (
            "log_id, idx, encode(uuid_send(originator_id), 'hex'), originator_version, topic, "
            "encode(uuid_send(session_id), 'hex'), recorded_at"
            if postgres
            else "log_id, idx, originator_id, originator_version, topic, session_id, recorded_at"
        )
        account = "?::uuid" if postgres else "?"
        with self._database.transaction(write=False) as cursor:
            cursor.execute(
                f"SELECT {columns} FROM {EVENTS_TABLE} WHERE actor_id = {account} "
                "AND credential_version <= ? AND recorded_at >= ? AND recorded_at < ? "
                "ORDER BY recorded_at, log_id, idx",
                (
                    rule.account_id.hex,
                    rule.up_to_version,
                    micros(rule.review_since),
                    micros(rule.since),
                ),
            )
            rows = cursor.fetchall()
        return [
            FlaggedOperation(
                rule=rule.rule,
                log_id=row[0],
                index=int(row[1]),
                originator_id=UUID(row[2]),
                originator_version=int(row[3]),
                event=_event(row[4]),
                session_id=UUID(row[5]),
                recorded_at=from_micros(int(row[6])),
            )
            for row in rows
            if row[4] not in EXEMPT_TOPICS
        ]


@dataclass(frozen=True, slots=True)
class ExclusionCheck:
    """How the read models' exclusions compare with the invalid set recomputed from the leaves."""

    compared: bool
    """False when there are no read models, or they are behind the ledger: nothing to compare."""
    shown: frozenset[tuple[str, int]] = frozenset()
    """Invalid operations the read models still show."""
    hidden: frozenset[tuple[str, int]] = frozenset()
    """Valid operations the read models leave out."""

    @property
    def agrees(self) -> bool:
        return not (self.shown or self.hidden)


def check_exclusions(database: Database, invalid: set[tuple[str, int]]) -> ExclusionCheck:
    """Compare ``invalid`` ((originator ID in hex, version), as ``ledger.verify`` recomputes it)
    with what the read models exclude, if they are projected up to the ledger's head."""
    nid = "rowid" if database.dialect == "sqlite" else "notification_id"
    with database.transaction(write=False) as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = ?"
            if database.dialect == "postgres"
            else "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?",
            (TRACKING_TABLE,),
        )
        if not cursor.fetchone()[0]:
            return ExclusionCheck(compared=False)
        tracking = read_tracking(cursor)
        cursor.execute(f"SELECT COALESCE(MAX({nid}), 0) FROM {EVENTS_TABLE}")
        head = int(cursor.fetchone()[0])
    if tracking is None or tracking[0] < head or tracking[1] != SCHEMA_VERSION:
        return ExclusionCheck(compared=False)
    excluded = InvalidationQueries(database).excluded_set()
    return ExclusionCheck(
        compared=True, shown=frozenset(invalid - excluded), hidden=frozenset(excluded - invalid)
    )


def _rule(row: Any) -> InvalidationRule:
    (rule_id, kind, account_id, session_id, version, since, review_since, school_id, filed_by) = (
        row[:9]
    )
    learned, head, support, deadline, late, reason = row[9:15]
    return InvalidationRule(
        rule=f"{kind}/{rule_id}",
        rule_id=UUID(rule_id),
        kind=kind,
        account_id=UUID(account_id),
        session_id=None if session_id is None else UUID(session_id),
        up_to_version=int(version),
        since=None if kind == "session" else from_micros(int(since)),
        review_since=_instant(review_since),
        school_id=None if school_id is None else UUID(school_id),
        filed_by=filed_by,
        learned_at=_instant(learned),
        head_received_at=_instant(head),
        support_received_at=_instant(support),
        deadline=None if deadline is None else date.fromisoformat(deadline),
        late=bool(late),
        reason=reason,
        provenance=provenance(row[15:]),
    )


def _instant(value: int | None) -> datetime | None:
    return None if value is None else from_micros(int(value))


def _event(topic: str) -> str:
    """``Lesson.MarkRecorded`` of ``ledger.domain.lesson:Lesson.MarkRecorded``."""
    return topic.rpartition(":")[2]
