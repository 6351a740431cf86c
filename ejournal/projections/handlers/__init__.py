"""Event handlers of the read models: one function per event topic, registered in ``HANDLERS``."""

from ejournal.projections.handlers import invalidation, journal, setup, timetable
from ejournal.projections.handlers.base import HANDLERS, Handler, Kind, Owned, Page

__all__ = [
    "HANDLERS",
    "Handler",
    "Kind",
    "Owned",
    "Page",
    "invalidation",
    "journal",
    "setup",
    "timetable",
]
