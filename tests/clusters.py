"""The PostgreSQL clusters of tests that need more than one server, beside the main one
(``EJOURNAL_TEST_PG``, tests/databases.py): two shards, and a streaming hot standby of the first.

``.ci/clusters`` (run as root) creates and starts them with these defaults; elsewhere, name yours:

- ``EJOURNAL_TEST_PG_SHARDS``: the shards' admin URLs, comma-separated
  (default ``postgresql://postgres@127.0.0.1:5433/postgres,postgresql://postgres@127.0.0.1:5434/postgres``);
- ``EJOURNAL_TEST_PG_REPLICA``: the admin URL of a hot standby of the first shard
  (default ``postgresql://postgres@127.0.0.1:5435/postgres``).

A database created on the first shard appears on the standby under the same name once replayed
(``on_replica``, ``replayed``).
"""

from __future__ import annotations

import os
import time

import psycopg

SHARD_URLS = tuple(
    url.strip()
    for url in os.environ.get(
        "EJOURNAL_TEST_PG_SHARDS",
        "postgresql://postgres@127.0.0.1:5433/postgres,postgresql://postgres@127.0.0.1:5434/postgres",
    ).split(",")
    if url.strip()
)
REPLICA_URL = os.environ.get(
    "EJOURNAL_TEST_PG_REPLICA", "postgresql://postgres@127.0.0.1:5435/postgres"
)
"""A streaming hot standby of ``SHARD_URLS[0]``."""
SETUP = "sudo .ci/clusters (creates and starts them; docs/operations.md, Test clusters)"


def unreachable() -> str | None:
    """Why the clusters cannot serve the tests, or None: each shard is a primary, the replica a
    standby that streams from the first shard."""
    try:
        for url in SHARD_URLS:
            with psycopg.connect(url, connect_timeout=3) as conn:
                if conn.execute("SELECT pg_is_in_recovery()").fetchone() != (False,):
                    return f"{_server(url)} is not a primary"
        with psycopg.connect(REPLICA_URL, connect_timeout=3) as conn:
            if conn.execute("SELECT pg_is_in_recovery()").fetchone() != (True,):
                return f"{_server(REPLICA_URL)} is not a standby"
            if conn.execute("SELECT status FROM pg_stat_wal_receiver").fetchone() != ("streaming",):
                return f"{_server(REPLICA_URL)} does not stream from its primary"
    except psycopg.Error as e:
        return str(e).strip()
    return None


def on_replica(url: str) -> str:
    """The URL of the database of the first shard at ``url``, on its standby."""
    return REPLICA_URL.rsplit("/", 1)[0] + "/" + url.rsplit("/", 1)[1]


def replayed(url: str, timeout: float = 30.0) -> None:
    """Wait until the database at ``url`` (on the first shard) exists on the standby."""
    name = url.rsplit("/", 1)[1]
    deadline = time.monotonic() + timeout
    with psycopg.connect(REPLICA_URL, autocommit=True) as conn:
        while (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None
        ):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} was not replayed on {_server(REPLICA_URL)}")
            time.sleep(0.05)


def _server(url: str) -> str:
    return url.rsplit("/", 1)[0].rsplit("@", 1)[-1]
