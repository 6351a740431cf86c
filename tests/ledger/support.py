"""Test support for the ledger: a tiny aggregate, and direct database access that bypasses the
append-only triggers the way a forger with database access would."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.domain import Aggregate, event

from ejournal.ledger.actor import Actor, Grant, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import Clock

TEACHER = Actor(
    account_id=UUID(int=7),
    grants=frozenset({Grant(Role.TEACHER, None)}),
    credential_version=1,
    session_id=UUID(int=99),
)


class Notebook(Aggregate):
    """A stand-in aggregate for tests of the ledger mechanics alone."""

    @event("Opened")
    def __init__(self, title: str) -> None:
        self.title = title
        self.lines: list[str] = []

    @event("Written")
    def write(self, line: str) -> None:
        self.lines.append(line)


def write_notebooks(
    ledger: Ledger, *, count: int, lines: int = 2, log_id: str = "test/log"
) -> list[Notebook]:
    """Record ``count`` notebooks of ``1 + lines`` events each, one save per notebook."""
    books = []
    for n in range(count):
        book = Notebook(title=f"notebook {n}")
        for i in range(lines):
            book.write(f"line {i}")
        ledger.record(book, log_id=log_id, actor=TEACHER, role=Role.TEACHER)
        books.append(book)
    return books


def write_line(ledger: Ledger, book_id: UUID, line: str, *, log_id: str = "test/log") -> None:
    """Record one more line in a stored notebook."""
    book = ledger.get(book_id, Notebook)
    book.write(line)
    ledger.record(book, log_id=log_id, actor=TEACHER, role=Role.TEACHER)


@contextmanager
def two_processes(database_url: str, clock: Clock) -> Iterator[tuple[Ledger, Ledger]]:
    """A reading and a writing process, as two ledgers on one database."""
    reader = Ledger(database_url=database_url, clock=clock)
    writer = Ledger(database_url=database_url, clock=clock)
    try:
        yield reader, writer
    finally:
        reader.close()
        writer.close()


class Forger:
    """Direct SQL with the append-only triggers out of the way."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.sqlite = database_url.startswith("sqlite:")

    def uuid(self, value: UUID) -> Any:
        return value.hex if self.sqlite else value

    def execute(self, *statements: tuple[str, Sequence[Any]]) -> None:
        if self.sqlite:
            conn = sqlite3.connect(self.url.removeprefix("sqlite:///"))
            try:
                names = [
                    r[0]
                    for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
                ]
                for name in names:
                    conn.execute(f"DROP TRIGGER {name}")
                for sql, params in statements:
                    conn.execute(sql, params)
                conn.commit()
            finally:
                conn.close()
            return
        with psycopg.connect(self.url) as conn:
            conn.execute("SET session_replication_role = replica")
            for sql, params in statements:
                conn.execute(sql.replace("?", "%s"), params)
