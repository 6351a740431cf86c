"""Stored topics: the names events are kept under in the ledger, fixed apart from Python paths.

An event's topic (``ledger.domain.lesson:Lesson.MarkRecorded``) is part of its log entry: the leaf
commits to it (I3), the retention schedule, the archive's summary-sheet fold and the п. 4.4 rules
select events by it, and auditors read it. eventsourcing derives a topic from the class's module
path, so moving a module would change what the ledger records and strand every stored event.
Each aggregate and event class therefore carries its topic in ``TOPIC`` (eventsourcing's
``construct_topic`` reads it) and is registered under it: the name the ledger was first written
with, the module path inside the ``ejournal`` package.
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.utils import register_topic

PACKAGE_PREFIX = "ejournal."


def stored_topic(cls: type) -> str:
    """The topic ``cls`` is stored under: its module inside the package, and its qualified name."""
    return f"{cls.__module__.removeprefix(PACKAGE_PREFIX)}:{cls.__qualname__}"


def pin_topics(*aggregates: type[Aggregate]) -> None:
    """Give each aggregate and each event class nested in it its stored topic, before any event is
    written or read. Raises ``TypeError`` if a topic is already registered for another class."""
    for aggregate in aggregates:
        _pin(aggregate)
        for value in vars(aggregate).values():
            if isinstance(value, type) and issubclass(value, DomainEvent):
                _pin(value)


def _pin(cls: type) -> None:
    topic = stored_topic(cls)
    cls.TOPIC = topic  # type: ignore[attr-defined]  # read by eventsourcing's construct_topic
    register_topic(topic, cls)
