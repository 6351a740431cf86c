"""What the identity tests share: a ledger with the identity service's own tables."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ejournal.identity.tables import create_identity_tables
from ejournal.ledger.application import Ledger


@contextmanager
def ledger_with_identity_tables(database_url: str) -> Iterator[Ledger]:
    """A ledger on ``database_url`` with the identity tables (access log, vault, sessions)."""
    ledger = Ledger(database_url=database_url)
    create_identity_tables(ledger.database)
    try:
        yield ledger
    finally:
        ledger.close()
