"""Stored topics stay those the ledger was first written with, wherever the modules live (I3)."""

from __future__ import annotations

from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.utils import get_topic, resolve_topic

import ejournal.ledger.domain as domain
from ejournal.ledger.domain import Lesson


def _aggregates_and_events() -> list[type]:
    """Every aggregate class of ours and the event classes eventsourcing uses for it: those it
    reaches as the aggregate's attributes (an ``@event`` method's class replaces the one written).
    """
    aggregates = [a for a in Aggregate.__subclasses__() if a.__module__.startswith("ejournal.")]
    events = [
        value
        for aggregate in aggregates
        for value in vars(aggregate).values()
        if isinstance(value, type) and issubclass(value, DomainEvent)
    ]
    return aggregates + events


def test_every_aggregate_and_event_of_ours_has_its_own_stored_topic() -> None:
    classes = _aggregates_and_events()
    assert len(classes) > 100  # 18 aggregates and their events
    for cls in classes:
        assert "TOPIC" in vars(cls), f"{cls.__qualname__} inherits its topic"
        assert get_topic(cls) == f"{cls.__module__.removeprefix('ejournal.')}:{cls.__qualname__}"
        assert resolve_topic(get_topic(cls)) is cls


def test_a_stored_topic_names_no_package() -> None:
    # The known topic of a mark, as the ledger format documents it (docs/ledger-format.md).
    assert get_topic(Lesson.MarkRecorded) == "ledger.domain.lesson:Lesson.MarkRecorded"
    assert resolve_topic("ledger.domain.lesson:Lesson.MarkRecorded") is Lesson.MarkRecorded
    assert domain.Lesson is Lesson
