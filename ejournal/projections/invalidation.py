"""Which operations the read models leave out: the one place п. 4.4 plugs into the projections.

Every operation made with a compromised login after the head and technical support learned of the
breach is invalid (п. 4.4). The ledger keeps such operations for ever (I4); the read models must
not show them. Since every ledger entry carries its account, role, session, credential version and
recorded time (I8), invalidity is a rule over an operation's provenance (``ledger.invalidation``),
and the projector asks one question of every event before applying it: does a rule exclude it?

- ``InvalidationRule.excludes(op, topic)``: a pure predicate over the provenance (``Operation``)
  and the event's topic; ``ledger.invalidation.Rule`` is the one the ledger records.
- ``RuleSource.load(cursor)``: returns the ``RuleSet`` in force; the projector calls it at the start
  of every page, inside the page's transaction. ``ProjectedRules``, the default, reads the rules
  the projector itself keeps in ``rm_invalidation`` from the rule events of the ledger.
- An excluded event is not applied to any read model; it is written to ``rm_excluded`` with the
  rule's name (the re-entry worklist reads it there). A later event of the same aggregate still
  applies, except that an aggregate whose creation was excluded has no rows, so its later events
  find nothing to change and are skipped with it.
- A rule usually arrives after some of the operations it invalidates were projected (the receipt
  is dated back, or a request raced the lock). When a page changes the rules, the projector
  re-projects, in the same transaction, every record that an operation under a changed rule
  touched: their rows are rebuilt from their events under the new rules, so nothing invalid stays
  visible once the rule is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ejournal.ledger.database import Cursor
from ejournal.ledger.invalidation import Rule, breach_rule, session_rule
from ejournal.projections.tables import INVALIDATIONS, Operation


class InvalidationRule(Protocol):
    """One reason to leave operations out of the read models."""

    @property
    def name(self) -> str:
        """Short and stable: stored with every operation the rule excludes."""
        ...

    def excludes(self, op: Operation, topic: str) -> bool:
        """Whether the operation ``op`` (an event of ``topic``) is invalid under this rule."""
        ...


class RuleSet:
    """The rules in force; an operation is excluded if any of them excludes it."""

    def __init__(self, rules: tuple[InvalidationRule, ...] = ()) -> None:
        self.rules = rules
        # Every event of a page is asked: the ledger's rules name an account or a session, so
        # most operations are cleared by two set lookups instead of a call per rule.
        ledger_rules = [rule for rule in rules if isinstance(rule, Rule)]
        self._accounts = {r.account_id for r in ledger_rules if r.session_id is None}
        self._sessions = {r.session_id for r in ledger_rules if r.session_id is not None}
        self._all_asked = len(ledger_rules) < len(rules)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def excluding(self, op: Operation, topic: str) -> InvalidationRule | None:
        """The first rule that excludes the operation, or None if it is valid."""
        if not (
            self._all_asked or op.actor_id in self._accounts or op.session_id in self._sessions
        ):
            return None
        for rule in self.rules:
            if rule.excludes(op, topic):
                return rule
        return None


NO_RULES = RuleSet()


class RuleSource(Protocol):
    """Where the projector gets the rules in force."""

    def load(self, cursor: Cursor) -> RuleSet:
        """The rule set to apply to the next page, read within the page's transaction."""
        ...


@dataclass(frozen=True, slots=True)
class FixedRules:
    """A rule source that always gives the same rule set (``NO_RULES`` by default)."""

    rules: RuleSet = NO_RULES

    def load(self, cursor: Cursor) -> RuleSet:
        return self.rules


class ProjectedRules:
    """The rules recorded in the ledger, as far as the read models are projected (``table``:
    the rules table of a shadow set being built, ``projections.storage.TableSet``)."""

    def __init__(self, table: str = INVALIDATIONS.name) -> None:
        self._select = (
            "SELECT rule_id, kind, account_id, target_session_id, up_to_version, since, "
            f"review_since FROM {table} ORDER BY nid"
        )

    def load(self, cursor: Cursor) -> RuleSet:
        cursor.execute(self._select)
        rules: list[InvalidationRule] = []
        for (
            rule_id,
            kind,
            account_id,
            session_id,
            version,
            since,
            review_since,
        ) in cursor.fetchall():
            if kind == "session":
                rules.append(session_rule(rule_id, account_id, session_id))
            else:
                rules.append(breach_rule(rule_id, account_id, version, since, review_since))
        return RuleSet(tuple(rules))
