"""Which operations the read models leave out: the one place п. 4.4 plugs into the projections.

Every operation made with a compromised login after the head and technical support learned of the
breach is invalid (п. 4.4). The ledger keeps such operations for ever (I4); the read models must
not show them. Since every ledger entry carries its account, role, session, credential version and
recorded time (I8), invalidity is a rule over an operation's provenance, and the projector asks one
question of every event before applying it: does a rule exclude this operation?

The seam:

- ``InvalidationRule.excludes(op, topic)``: a pure predicate over the provenance (``Operation``)
  and the event's topic. Example for п. 4.4: ``op.actor_id == account and op.recorded_at >=
  reported_at``.
- ``RuleSource.load(cursor)``: returns the ``RuleSet`` in force; the projector calls it at the start
  of every page, inside the page's transaction, so rules may live in a table of the same database
  (for example one projected from breach-report events by the п. 4.4 issue).
- An excluded event is not applied to any read model; it is written to ``rm_excluded`` with the
  rule's name (the re-entry worklist of п. 4.4 reads it there). A later event of the same
  aggregate still applies, except that an aggregate whose creation was excluded has no rows, so
  its later events find nothing to change and are skipped with it.
- Rules only ever act on events projected after they are loaded. When a new rule excludes
  operations that are already in the read models, the caller rebuilds (``Projector.rebuild``):
  replaying the ledger under the new rule set removes them everywhere at once, and rebuilding is
  fast (see ``benchmarks/rebuild.py``).

Today the rule set is empty (``NO_RULES``): every operation is valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ledger.database import Cursor
from projections.tables import Operation


class InvalidationRule(Protocol):
    """One reason to leave operations out of the read models."""

    @property
    def name(self) -> str:
        """Short and stable: stored with every operation the rule excludes."""
        ...

    def excludes(self, op: Operation, topic: str) -> bool:
        """Whether the operation ``op`` (an event of ``topic``) is invalid under this rule."""
        ...


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules in force; an operation is excluded if any of them excludes it."""

    rules: tuple[InvalidationRule, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rules)

    def excluding(self, op: Operation, topic: str) -> InvalidationRule | None:
        """The first rule that excludes the operation, or None if it is valid."""
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
