"""The root error of the ledger package and the errors a write can meet."""

from __future__ import annotations


class LedgerError(Exception):
    """Root of every error the ledger raises on purpose."""


class ConcurrentWriteError(LedgerError):
    """Another write changed one of the same aggregates first; reload and try again."""


class DatabaseUnavailableError(LedgerError):
    """The database could not be reached or refused the operation for a reason of its own."""


class NotInMemory(Exception):
    """A read inside ``Ledger.memory_only`` that would need the database. Not a ``LedgerError``:
    the code that opened the block catches it and goes on in a thread; it never reaches a client."""
