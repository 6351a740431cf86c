"""The rules of п. 4.4 over provenance: which operations are invalid, from the ledger alone.

Every entry carries its actor's account, credential version and session, and the server's recorded
time (I3, I8); a rule is a predicate over those four, so anyone holding the entries and the rules'
own events recomputes the invalid set. Two kinds:

- a breach report (``BreachReport``): every operation of the account, under the reported credential
  version or an older one, recorded at or after the receipt of the report (the earlier of the
  head's and support's receipts) is invalid. Operations between the stated "suspected since" moment
  and the receipt are not invalid; they are flagged for review;
- a session invalidation (``SessionInvalidation``): every operation of the session is invalid.

The rules' own events, and the account's ``Compromised`` event recorded with a report, are exempt:
a participant's report of their own login is itself an operation of that login after the receipt.

The projections read the rules from their own table (``projections.invalidation``); the verifier
reads them here, from the ledger (``load_rules``). Both apply this module's ``Rule``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from ejournal.integrity.leaf import micros
from ejournal.ledger.database import Database
from ejournal.ledger.domain import Account, BreachReport, SessionInvalidation
from ejournal.ledger.recorders import EVENTS_TABLE, SYSTEM_LOG
from ejournal.ledger.replay import uuid_bytes
from ejournal.ledger.transcoder import default_transcoder

if TYPE_CHECKING:
    from ejournal.ledger.application import Ledger

BREACH_TOPICS = (get_topic(BreachReport.Filed), get_topic(BreachReport.ReceiptAntedated))
SESSION_TOPICS = (get_topic(SessionInvalidation.Declared),)
RULE_TOPICS = BREACH_TOPICS + SESSION_TOPICS
EXEMPT_TOPICS = frozenset((*RULE_TOPICS, get_topic(Account.Compromised)))
"""Events no rule invalidates: the rules themselves, and the lock recorded with a report."""


class Provenance(NamedTuple):
    """What a rule asks of an operation; IDs as 32-digit hex, the time in µs (UTC)."""

    actor_id: str
    session_id: str
    credential_version: int
    recorded_at: int


@dataclass(frozen=True, slots=True)
class Rule:
    """One invalidation rule. IDs are 32-digit lower-case hex, times microseconds (UTC)."""

    name: str
    """``breach/<report ID>`` or ``session/<invalidation ID>``: stored with what it excludes."""
    account_id: str
    session_id: str | None = None
    """A session rule's session; None for a breach rule."""
    credential_version: int = 0
    since: int = 0
    review_since: int | None = None

    def matches(self, actor_id: str, session_id: str, credential_version: int, at: int) -> bool:
        """Whether an operation with this provenance is invalid (its topic aside)."""
        if self.session_id is not None:
            return session_id == self.session_id
        return (
            actor_id == self.account_id
            and credential_version <= self.credential_version
            and at >= self.since
        )

    def flags(self, actor_id: str, credential_version: int, at: int) -> bool:
        """Whether a valid operation falls in the breach's "suspected since" window (review)."""
        return (
            self.review_since is not None
            and actor_id == self.account_id
            and credential_version <= self.credential_version
            and self.review_since <= at < self.since
        )

    def excludes(self, op: Any, topic: str) -> bool:
        """Whether the operation ``op`` (with ``actor_id``, ``session_id``, ``credential_version``
        and ``recorded_at``) of an event of ``topic`` is invalid."""
        if topic in EXEMPT_TOPICS:
            return False
        return self.matches(op.actor_id, op.session_id, op.credential_version, op.recorded_at)


def breach_rule(
    report_id: str, account_id: str, credential_version: int, since: int, review_since: int | None
) -> Rule:
    return Rule(
        name=f"breach/{report_id}",
        account_id=account_id,
        credential_version=credential_version,
        since=since,
        review_since=review_since,
    )


def session_rule(invalidation_id: str, account_id: str, session_id: str) -> Rule:
    return Rule(name=f"session/{invalidation_id}", account_id=account_id, session_id=session_id)


def load_rules(database: Database) -> tuple[Rule, ...]:
    """Every rule recorded in the ledger, from the payloads of its events in the system log.

    A rule's event whose payload was disposed of cannot be read; the system log has no retention
    period (``ledger.retention``), so that does not happen to a ledger kept as documented.
    """
    return rules_from_events(
        (_hex(oid), topic, bytes(state))
        for oid, _, topic, state in rule_events(database)
        if state is not None
    )


def rule_events(database: Database) -> list[Any]:
    """``(originator_id, originator_version, topic, state)`` of every rule event, in the system
    log's order, as stored."""
    marks = ", ".join("?" * len(RULE_TOPICS))
    with database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {EVENTS_TABLE} "
            f"WHERE log_id = ? AND topic IN ({marks}) ORDER BY idx",
            (SYSTEM_LOG, *RULE_TOPICS),
        )
        return cursor.fetchall()


def rules_from_events(events: Iterable[tuple[str, str, bytes]]) -> tuple[Rule, ...]:
    """The rules of the rule events ``(originator ID, topic, payload)``, in ledger order."""
    transcoder = default_transcoder()
    reports: dict[str, dict[str, Any]] = {}
    rules: dict[str, Rule] = {}
    for oid, topic, state in events:
        fields = transcoder.decode(state)
        if topic in SESSION_TOPICS:
            rule = session_rule(oid, fields["account_id"].hex, fields["session_id"].hex)
            rules[rule.name] = rule
            continue
        report = reports.setdefault(oid, {})
        if topic == BREACH_TOPICS[0]:
            report.update(fields)
        else:
            party = "head_received_at" if fields["party"] == "head" else "support_received_at"
            report[party] = fields["received_at"]
        suspected = report["suspected_since"]
        rule = breach_rule(
            oid,
            report["account_id"].hex,
            report["credential_version"],
            micros(min(report["head_received_at"], report["support_received_at"])),
            None if suspected is None else micros(suspected),
        )
        rules[rule.name] = rule
    return tuple(rules.values())


def valid_aggregate(ledger: Ledger, aggregate_id: UUID, rules: Sequence[Rule]) -> Any:
    """The aggregate as its valid events make it: events a rule declares invalid are passed over
    (for documents built from aggregates rather than from the read models, such as printouts).

    Raises ``AggregateNotFoundError`` if it has no events, or its creation was invalid.
    """
    if not rules:
        return ledger.get(aggregate_id, Aggregate)
    database = ledger.database
    with database.transaction(write=False) as cursor:
        cursor.execute(
            "SELECT originator_version, topic, state, actor_id, session_id, credential_version, "
            f"recorded_at FROM {EVENTS_TABLE} WHERE originator_id = ? ORDER BY originator_version",
            (database.uuid(aggregate_id),),
        )
        rows = cursor.fetchall()
    aggregate: Any = None
    for version, topic, state, actor, session, credentials, at in rows:
        op = Provenance(_hex(actor), _hex(session), int(credentials), int(at))
        if any(rule.excludes(op, topic) for rule in rules):
            if aggregate is None:
                break  # its creation was invalid: nothing of it exists
            aggregate.version = version  # the next valid event follows on from this one
            continue
        event: Any = ledger.mapper.to_domain_event(
            StoredEvent(aggregate_id, version, topic, bytes(state))
        )
        aggregate = event.mutate(aggregate)
    if aggregate is None:
        raise AggregateNotFoundError(aggregate_id)
    return aggregate


def _hex(value: Any) -> str:
    """A stored UUID (hex text on SQLite, a UUID on PostgreSQL) as 32-digit hex."""
    return uuid_bytes(value).hex()
