"""The tests' databases: new PostgreSQL databases, and templates copied into new databases.

Every PostgreSQL test works in a database of its own, created for it and dropped afterwards.

Templates are databases built once in a test session and copied for each test that starts from
them. Building the test school through the commands, or a served world with its accounts, logins and
sessions, costs a test many times what it then checks, and most tests start from one of a few
such states. A ``Template`` is built the first time a test asks for it, on each backend (I10), by
the code the test would otherwise run itself; each test then gets a new database that is a copy
of it: PostgreSQL's ``CREATE DATABASE … TEMPLATE`` (PostgreSQL copies only a database no one is
connected to, so the build closes every connection it opened), or a copy of the SQLite file made
with SQLite's backup API. The process that opens a copy starts as a restarted server does: its
caches (the event cache, rendered diaries, names) are empty and fill from the database.

A copy is only equal to a fresh build if nothing else about the test differs from the build's:
the clock stands where the build left it (the builds here never move it), and every key the
build used (the vault's) is the one the copy is opened with.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import psycopg

PG_ADMIN_URL = os.environ.get("EJOURNAL_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
T = TypeVar("T")


def create_pg_database(template: str | None = None, *, admin_url: str = PG_ADMIN_URL) -> str:
    """A new PostgreSQL database, empty or a copy of the database named ``template``; its URL.
    ``admin_url``: the server's (another cluster's: tests/clusters.py)."""
    name = f"ejournal_test_{uuid.uuid4().hex[:12]}"
    copy = "" if template is None else f' TEMPLATE "{template}"'
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str, *, admin_url: str = PG_ADMIN_URL) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Template(Generic[T]):
    """A database state, built at first use on each backend by ``build``."""

    build: Callable[[str], T]
    """Writes the state into the new, empty database at the URL it is given, closes every
    connection it opened, and returns what tests need to know of it (IDs, logins)."""
    folder: Path
    """Where the SQLite template lives."""
    built: dict[str, tuple[str, T]] = field(default_factory=dict)
    """Backend → (the template's URL, what its build returned)."""

    def result(self, backend: str) -> T:
        """What the build on ``backend`` returned (built before: by a copy)."""
        return self.built[backend][1]

    def copy_sqlite(self, path: Path) -> T:
        """Write a copy of the SQLite template to ``path`` (a file not yet there)."""
        url, result = self._template("sqlite")
        source = sqlite3.connect(url.removeprefix("sqlite:///"))
        target = sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return result

    def copy_postgres(self) -> tuple[str, T]:
        """A new PostgreSQL database that is a copy of the template: its URL and the build's
        result. The caller drops it (``drop_pg_database``)."""
        url, result = self._template("postgres")
        return create_pg_database(template=url.rsplit("/", 1)[1]), result

    def _template(self, backend: str) -> tuple[str, T]:
        if backend not in self.built:
            if backend == "sqlite":
                url = f"sqlite:///{self.folder / uuid.uuid4().hex}.db"
            else:
                url = create_pg_database()
            try:
                self.built[backend] = url, self.build(url)
            except BaseException:
                if backend == "postgres":
                    drop_pg_database(url)
                raise
        return self.built[backend]

    def drop(self) -> None:
        if "postgres" in self.built:
            drop_pg_database(self.built.pop("postgres")[0])


class Templates:
    """The session's templates, by key: one per distinct starting state."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._made: dict[Hashable, Template[Any]] = {}

    def get(self, key: Hashable, build: Callable[[str], T]) -> Template[T]:
        """The template ``key``, which ``build`` builds (the same key, the same build)."""
        template = self._made.get(key)
        if template is None:
            template = self._made[key] = Template(build, self._folder)
        return template

    def drop(self) -> None:
        """Drop the PostgreSQL templates (the SQLite ones go with the session's folder)."""
        for template in self._made.values():
            template.drop()
