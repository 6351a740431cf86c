"""Database URLs (``ledger.config``): SQLite files, PostgreSQL over TCP or its Unix socket."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4

import psycopg
import pytest

from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.config import BadDatabaseURLError, persistence_env
from tests.ledger.support import TEACHER, Notebook, write_notebooks


def test_postgres_over_tcp_and_over_its_unix_socket() -> None:
    tcp = persistence_env("postgresql://teacher:s%40lt@db.example:6432/journal")
    assert (tcp["POSTGRES_HOST"], tcp["POSTGRES_PORT"]) == ("db.example", "6432")
    assert (tcp["POSTGRES_USER"], tcp["POSTGRES_PASSWORD"]) == ("teacher", "s@lt")
    assert persistence_env("postgresql://postgres@/journal")["POSTGRES_HOST"] == "127.0.0.1"
    socket = persistence_env("postgresql://postgres@/journal?host=/var/run/postgresql")
    assert (socket["POSTGRES_HOST"], socket["POSTGRES_DBNAME"]) == (
        "/var/run/postgresql",
        "journal",
    )


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("mysql://root@db/journal", "unsupported database URL"),
        ("postgresql://postgres@db/", "no database name"),
        ("sqlite:///", "no file"),
        (
            "postgresql://postgres@db/journal?sslmode=require",
            "the one parameter supported is host=",
        ),
        ("postgresql://postgres@/journal?host=/a&host=/b", "the one parameter supported is host="),
        ("postgresql://postgres@/journal?socket", "malformed parameters"),
        ("postgresql://postgres@db/journal?host=/var/run/postgresql", "no host before it"),
        ("postgresql://postgres@/journal?host=run/postgresql", "directory of a Unix socket"),
    ],
)
def test_a_url_that_cannot_be_served_is_refused(url: str, error: str) -> None:
    with pytest.raises(BadDatabaseURLError, match=error):
        persistence_env(url)


def test_the_ledger_over_the_unix_socket(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute("SHOW unix_socket_directories").fetchone()
    directory = row[0].split(",")[0].strip() if row else ""
    if not directory or not Path(directory).is_dir():
        reason = f"the server's Unix socket ({directory!r}) is not on this machine"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    parts = urlsplit(postgres_url)
    name = parts.path.lstrip("/")
    ledger = Ledger(database_url=f"postgresql://{parts.username}@/{name}?host={directory}")
    try:
        (book,) = write_notebooks(ledger, count=1, lines=1)
        book.write("over the socket")
        ledger.record(book, log_id=f"test/{uuid4()}", actor=TEACHER, role=Role.TEACHER)
        with psycopg.connect(postgres_url) as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND client_port = -1",
                (name,),
            ).fetchone()
        assert row is not None and row[0] >= 1  # -1: a Unix-socket client
        assert ledger.get(book.id, Notebook).lines == ["line 0", "over the socket"]
    finally:
        ledger.close()
