"""Reading aggregates by ID for authorisation and reads: the commands' own rules, read-only."""

from __future__ import annotations

from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ejournal.ledger.application import Ledger

A = TypeVar("A")


def find(ledger: Ledger, aggregate_id: UUID, kind: type[A]) -> A | None:
    """The aggregate ``aggregate_id`` if it exists and is a ``kind``, else None."""
    try:
        aggregate = ledger.get(aggregate_id)
    except AggregateNotFoundError:
        return None
    return aggregate if isinstance(aggregate, kind) else None
