"""The error of writing a school-year archive (what reading one raises is ``integrity.errors``)."""

from __future__ import annotations

from ejournal.ledger.errors import LedgerError


class ArchiveError(LedgerError):
    """An archive cannot be written: no signed checkpoint, or the log does not reach it."""
