"""The root error of the ledger package and the errors a write can meet."""

from __future__ import annotations


class LedgerError(Exception):
    """Root of every error the ledger raises on purpose."""


class ConcurrentWriteError(LedgerError):
    """Another write changed one of the same aggregates first; reload and try again."""


class DatabaseUnavailableError(LedgerError):
    """The database could not be reached or refused the operation for a reason of its own."""


class LogMovedError(LedgerError):
    """The database refused an event of a log that does not live there (it has moved, or is
    being moved in): nothing written. Write it where the log lives, ``lives_on``
    (docs/adr/0017-moving-a-school.md)."""

    def __init__(self, log_id: str, lives_on: str) -> None:
        super().__init__(f"log {log_id} is not written here: it lives on {lives_on}")
        self.log_id = log_id
        self.lives_on = lives_on


class NotInMemory(Exception):
    """A read inside ``Ledger.memory_only`` that would need the database. Not a ``LedgerError``:
    the code that opened the block catches it and goes on in a thread; it never reaches a client."""
