"""Log identifiers: one log per school and school year (I1), plus the system log."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from ejournal.ledger.recorders import SYSTEM_LOG

__all__ = ["SYSTEM_LOG", "school_log_id", "school_year_of"]


def school_log_id(school_id: UUID, year_start: int) -> str:
    """The log of one school's school year that starts on 1 September of ``year_start``."""
    return f"school/{school_id}/{year_start}-{year_start + 1}"


def school_year_of(day: date) -> int:
    """The start year of the school year (1 September – 31 August) that contains ``day``."""
    return day.year if day.month >= 9 else day.year - 1
