"""The machinery the event handlers share: aggregate kinds, their rows in a page, the registry.

A page of events is applied in memory. Every aggregate the page touches gets an ``Owned``: its
primary row and its child rows, keyed. An aggregate created in the page starts empty; any other is
loaded from its tables first. Handlers change these rows as the events say; afterwards the
projector writes exactly the rows that differ from what was loaded. So a handler is plain Python
over rows, and needs no context beyond its own aggregate's rows and the school's time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from eventsourcing.utils import get_topic

from ejournal.integrity.leaf import from_micros
from ejournal.ledger.domain.school import DEFAULT_TIME_ZONE
from ejournal.projections.decoding import Fields
from ejournal.projections.tables import ExcludedRow, HistoryRow, Operation, Row, Table

KeyOf = Callable[[Row], Any]


@dataclass(frozen=True, slots=True)
class Kind:
    """An aggregate type as the read models see it: the table of its main row, and the tables of
    the rows it owns, each with the key a row has within its aggregate."""

    name: str
    primary: Table
    children: tuple[tuple[Table, KeyOf], ...] = ()

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.primary, *(table for table, _ in self.children))


class Owned:
    """The rows of one aggregate while a page is applied."""

    __slots__ = ("aggregate_id", "children", "kind", "loaded", "primary")

    def __init__(self, kind: Kind, aggregate_id: str) -> None:
        self.kind = kind
        self.aggregate_id = aggregate_id
        self.primary: Row | None = None
        self.children: dict[Table, dict[Any, Row]] = {}
        """Child table → its rows by key; a table appears once it has (or had) a row."""
        self.loaded: list[tuple[Table, tuple[Any, ...]]] = []
        """The stored values this aggregate had before the page (empty if it is new)."""

    @property
    def row(self) -> Any:
        """The main row. Handlers of events other than the creation run only once it exists."""
        if self.primary is None:
            raise LookupError(f"{self.kind.name} {self.aggregate_id} has no row")
        return self.primary

    @property
    def key(self) -> int:
        """The aggregate's key: the notification ID of its creation, which its own rows carry."""
        primary = self.primary
        if primary is None:
            raise LookupError(f"{self.kind.name} {self.aggregate_id} has no row")
        return int(primary.op.nid)

    def rows(self, table: Table) -> dict[Any, Row]:
        """The aggregate's rows of a child table, by their key within the aggregate."""
        rows = self.children.get(table)
        if rows is None:
            rows = self.children[table] = {}
        return rows

    def all_rows(self) -> Iterator[tuple[Table, Row]]:
        if self.primary is not None:
            yield self.kind.primary, self.primary
        for table, rows in self.children.items():
            for row in rows.values():
                yield table, row

    def forget(self) -> None:
        """Drop the rows (keeping what was loaded), so that the aggregate's events are applied
        again from its creation."""
        self.primary = None
        self.children = {}

    def restore(self, table: Table, values: tuple[Any, ...]) -> None:
        """Put back a stored row, as loaded at the start of the page."""
        row = table.row(values)
        self.loaded.append((table, values))
        if table is self.kind.primary:
            self.primary = row
            return
        key_of = next(k for t, k in self.kind.children if t is table)
        self.rows(table)[key_of(row)] = row


@dataclass(slots=True)
class Page:
    """What a handler may use beyond its aggregate's rows: the schools' time zones, and the
    append-only rows (history, exclusions) the page adds."""

    zones: dict[str, ZoneInfo]
    history: list[HistoryRow] = field(default_factory=list)
    excluded: list[ExcludedRow] = field(default_factory=list)
    _last_time: tuple[str, int, datetime] | None = None
    _last_date: tuple[str, int, str] | None = None

    def local_time(self, school_id: str, micros: int) -> datetime:
        """A recorded time (µs, UTC) in the school's time zone."""
        last = self._last_time
        if last is not None and last[1] == micros and last[0] == school_id:
            return last[2]
        zone = self.zones.get(school_id) or ZoneInfo(DEFAULT_TIME_ZONE)
        local = from_micros(micros).astimezone(zone)
        self._last_time = (school_id, micros, local)
        return local

    def local_date(self, school_id: str, micros: int) -> str:
        """The school's calendar date at a recorded time, as ISO text."""
        # The events of one save share their time: the date is mostly the last one asked for.
        last = self._last_date
        if last is not None and last[1] == micros and last[0] == school_id:
            return last[2]
        day = self.local_time(school_id, micros).date().isoformat()
        self._last_date = (school_id, micros, day)
        return day

    def record(
        self,
        op: Operation,
        *,
        item: str,
        owner_key: int,
        item_id: str = "",
        student_id: str | None = None,
        action: str,
        value: str,
        reason: str = "",
    ) -> None:
        """Keep an operation on a changeable item in the history (п. 1.4)."""
        self.history.append(
            HistoryRow(item, owner_key, item_id, student_id, action, value, reason, op)
        )


def first(earlier: int | None, now: int) -> int:
    """When something was first done: ``earlier`` if it was done before, else ``now``."""
    return now if earlier is None else earlier


HandlerFunction = Callable[[Page, Owned, Fields, Operation], None]


@dataclass(frozen=True, slots=True)
class Handler:
    """What to do with the events of one topic."""

    kind: Kind
    event_class: type
    creates: bool
    """The event creates its aggregate (its rows start empty rather than loaded)."""
    apply: HandlerFunction


HANDLERS: dict[str, Handler] = {}
"""Event topic → handler. Events of other topics leave the read models as they are."""


def handles(
    kind: Kind, event_class: type, *, creates: bool = False
) -> Callable[[HandlerFunction], HandlerFunction]:
    """Register the decorated function as the handler of ``event_class``'s events."""

    def register(function: HandlerFunction) -> HandlerFunction:
        HANDLERS[get_topic(event_class)] = Handler(kind, event_class, creates, function)
        return function

    return register
