"""The ledger's cache of decoded events (``ledger.event_cache``): a read in ``cached_reads`` sees
every change recorded before its block began, by any process, and its own block's writes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest

from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain.disposition import DispositionAct
from ejournal.ledger.errors import ConcurrentWriteError
from ejournal.ledger.event_cache import EventCache
from tests.ledger.support import TEACHER, Notebook, two_processes, write_line, write_notebooks

LOG = "test/log"


def _counting(ledger: Ledger) -> tuple[list[UUID], Any]:
    loads: list[UUID] = []

    def load(aggregate_id: UUID) -> Sequence[Any]:
        loads.append(aggregate_id)
        return tuple(ledger.events.get(aggregate_id))

    return loads, load


@pytest.fixture
def processes(database_url: str, clock: ManualClock) -> Iterator[tuple[Ledger, Ledger]]:
    with two_processes(database_url, clock) as both:
        yield both


def test_a_cached_read_sees_what_another_process_recorded(
    processes: tuple[Ledger, Ledger],
) -> None:
    reader, writer = processes
    (book,) = write_notebooks(writer, count=1, lines=1)
    with reader.cached_reads():
        assert reader.get(book.id, Notebook).lines == ["line 0"]
    write_line(writer, book.id, "from another process")
    with reader.cached_reads():
        assert reader.get(book.id, Notebook).lines == ["line 0", "from another process"]


def test_a_block_sees_its_own_writes_and_each_read_is_a_new_aggregate(ledger: Ledger) -> None:
    (book,) = write_notebooks(ledger, count=1, lines=0)
    with ledger.cached_reads():
        first = ledger.get(book.id, Notebook)
        first.write("not saved")
        assert ledger.get(book.id, Notebook).lines == []
        write_line(ledger, book.id, "saved")
        assert ledger.get(book.id, Notebook).lines == ["saved"]


def test_aggregates_are_read_once_and_then_follow_the_tail(ledger: Ledger) -> None:
    books = write_notebooks(ledger, count=2)
    cache = EventCache(ledger.database, ledger.mapper.to_domain_event)
    loads, load = _counting(ledger)
    cache.refresh()
    for _ in range(3):
        for book in books:
            cache.events(book.id, load)
        cache.refresh()
    assert loads == [books[0].id, books[1].id]
    write_line(ledger, books[0].id, "more")
    cache.refresh()  # the new event is read from the tail and appended: no second load
    assert [e.originator_version for e in cache.events(books[0].id, load)] == [1, 2, 3, 4]
    assert loads == [books[0].id, books[1].id]


def test_a_read_that_raced_a_change_is_not_kept(ledger: Ledger) -> None:
    (book,) = write_notebooks(ledger, count=1, lines=0)
    cache = EventCache(ledger.database, ledger.mapper.to_domain_event)
    cache.refresh()
    loads: list[UUID] = []

    def racing_load(aggregate_id: UUID) -> Sequence[Any]:
        loads.append(aggregate_id)
        events = tuple(ledger.events.get(aggregate_id))
        if len(loads) == 1:  # a change lands after this read, and a refresh sees it
            write_line(ledger, aggregate_id, "meanwhile")
            cache.refresh()
        return events

    assert len(cache.events(book.id, racing_load)) == 1
    assert len(cache.events(book.id, racing_load)) == 2
    assert len(cache.events(book.id, racing_load)) == 2
    assert len(loads) == 2


def test_a_write_the_tail_showed_first_keeps_its_aggregate(ledger: Ledger) -> None:
    # Under load a request's refresh often reads the tail after another thread of the process
    # committed a save and before that save reported it (``recorded``): the event is already
    # held then, and dropping the aggregate would cost the next request a read.
    (book,) = write_notebooks(ledger, count=1, lines=0)
    cache = EventCache(ledger.database, ledger.mapper.to_domain_event)
    loads, load = _counting(ledger)
    cache.refresh()
    cache.events(book.id, load)
    write_line(ledger, book.id, "saved")
    cache.refresh()
    cache.recorded(list(ledger.events.get(book.id))[-1:])
    assert [e.originator_version for e in cache.events(book.id, load)] == [1, 2]
    assert loads == [book.id]


def test_after_a_concurrent_write_the_next_read_follows_the_tail(
    processes: tuple[Ledger, Ledger], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A command that lost a race is run again (``commands.handle``); its aggregates are brought
    # up to date from the tail rather than read afresh, which under load raced the next write
    # and missed again.
    reader, writer = processes
    (book,) = write_notebooks(writer, count=1, lines=0)
    with reader.cached_reads():
        late = reader.get(book.id, Notebook)
    write_line(writer, book.id, "first")
    loads, load = _counting(reader)
    monkeypatch.setattr(reader, "_read_events", load)
    with reader.cached_reads():
        late.write("late")
        with pytest.raises(ConcurrentWriteError, match="concurrent write"):
            reader.record(late, log_id=LOG, actor=TEACHER, role=Role.TEACHER)
        assert reader.get(book.id, Notebook).lines == ["first"]
    assert loads == []


def test_a_bulk_of_new_events_and_a_disposition_empty_the_cache(ledger: Ledger) -> None:
    kept, _ = write_notebooks(ledger, count=2)
    cache = EventCache(ledger.database, ledger.mapper.to_domain_event, max_tail=5)
    loads, load = _counting(ledger)
    cache.refresh()
    cache.events(kept.id, load)
    write_notebooks(ledger, count=2, lines=2)  # six events: more than a refresh reads
    cache.refresh()
    assert len(cache) == 0
    cache.events(kept.id, load)
    act = DispositionAct.record(
        act_id=uuid4(),
        log_id=LOG,
        school_id=uuid4(),
        year_start=2025,
        classes=(),
        topics=(),
        ranges=(),
        count=0,
        reason="test",
        disposed_on=date(2031, 9, 1),
        at=ledger.clock(),
    )
    ledger.record(act, log_id=LOG, actor=TEACHER, role=Role.TEACHER)
    cache.refresh()
    assert len(cache) == 0
    assert loads == [kept.id, kept.id]


def test_the_least_recently_read_go_first(ledger: Ledger) -> None:
    books = write_notebooks(ledger, count=3, lines=1)  # two events each
    cache = EventCache(ledger.database, ledger.mapper.to_domain_event, max_events=4)
    loads, load = _counting(ledger)
    cache.refresh()
    for book in (books[0], books[1], books[0], books[2]):
        cache.events(book.id, load)
    assert len(cache) == 2
    cache.events(books[0].id, load)
    cache.events(books[1].id, load)
    assert loads == [books[0].id, books[1].id, books[2].id, books[1].id]


def test_an_event_the_cache_cannot_read_drops_its_aggregate(ledger: Ledger) -> None:
    # Say a newer release recorded it: the aggregate is read from the database when next wanted,
    # and the refresh (which every request makes) does not fail.
    (book,) = write_notebooks(ledger, count=1, lines=0)

    def unreadable(stored: Any) -> Any:
        raise ValueError(f"unknown topic {stored.topic}")

    cache = EventCache(ledger.database, unreadable)
    loads, load = _counting(ledger)
    cache.refresh()
    cache.events(book.id, load)
    write_line(ledger, book.id, "from a newer release")
    cache.refresh()
    assert len(cache) == 0
    assert len(cache.events(book.id, load)) == 2
    assert loads == [book.id, book.id]
