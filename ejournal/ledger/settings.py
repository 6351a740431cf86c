"""Deployment settings, read once from the environment by the composition root."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from ejournal.ledger.config import DEFAULT_DATABASE_URL

DIRECTORY = "directory"
"""The name of the directory database as a server of a region (``ledger.placement``): where
the system log and the unplaced schools live."""

CHECKPOINT_EVERY_ENTRIES = 10_000
CHECKPOINT_EVERY_SECONDS = 10.0
"""A log with unsigned entries is signed once its oldest is this old (or it has
``CHECKPOINT_EVERY_ENTRIES`` of them): with the server's schedule polling every 2 s, an entry is
covered by a signed checkpoint within about 12 s (docs/operations.md, *Checkpoints*)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    origin: str = "ejournal.local"
    """Checkpoint origin prefix: the deployment's name, e.g. ``journal.khasavyurt-rayon.ru``."""
    checkpoint_every_entries: int = CHECKPOINT_EVERY_ENTRIES
    checkpoint_every_seconds: float = CHECKPOINT_EVERY_SECONDS
    servers: tuple[tuple[str, str], ...] = ()
    """The PostgreSQL servers schools are placed on, as (name, URL) (``EJOURNAL_SERVERS``:
    ``name=URL,…``; ``ledger.placement``). None: every school is in the database of
    ``database_url``."""
    server_replicas: tuple[tuple[str, str], ...] = ()
    """In a region, the hot standbys of the servers of schools, as (server, URL): the entries
    ``name=URL`` of ``EJOURNAL_REPLICA_URLS``."""
    replica_urls: tuple[str, ...] = ()
    """Hot-standby replicas of the PostgreSQL primary, for reads of the read models
    (``EJOURNAL_REPLICA_URLS``, comma-separated; docs/adr/0016-replica-reads.md). None: every
    read goes to the primary."""

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] = os.environ, **overrides: object
    ) -> Settings:
        replicas = parse_replicas(environ.get("EJOURNAL_REPLICA_URLS", ""))
        values: dict[str, object] = {
            "database_url": environ.get("EJOURNAL_DATABASE_URL", DEFAULT_DATABASE_URL),
            "origin": environ.get("EJOURNAL_ORIGIN", "ejournal.local"),
            "checkpoint_every_entries": int(
                environ.get("EJOURNAL_CHECKPOINT_ENTRIES", str(CHECKPOINT_EVERY_ENTRIES))
            ),
            "checkpoint_every_seconds": float(
                environ.get("EJOURNAL_CHECKPOINT_SECONDS", str(CHECKPOINT_EVERY_SECONDS))
            ),
            "servers": tuple(parse_servers(environ.get("EJOURNAL_SERVERS", "")).items()),
            "replica_urls": tuple(url for server, url in replicas if server == DIRECTORY),
            "server_replicas": tuple(
                (server, url) for server, url in replicas if server != DIRECTORY
            ),
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]


def parse_servers(text: str) -> dict[str, str]:
    """``name=URL,name=URL`` (``EJOURNAL_SERVERS``) as a mapping; raises ``ValueError``."""
    servers: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, url = item.partition("=")
        name, url = name.strip(), url.strip()
        if not sep or not name or not url:
            raise ValueError(f"a server is name=URL, not {item!r}")
        if name == DIRECTORY or name in servers:
            raise ValueError(f"server name {name!r} is reserved or given twice")
        if not url.startswith(("postgresql://", "postgres://")):
            raise ValueError(f"server {name!r} is not a PostgreSQL URL")
        servers[name] = url
    return servers


def parse_replicas(text: str) -> list[tuple[str, str]]:
    """``EJOURNAL_REPLICA_URLS`` as (server, URL): a bare URL is a standby of the directory's
    database, ``name=URL`` one of the region's server ``name``."""
    replicas = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        name, sep, url = item.partition("=")
        if sep and _SERVER_NAME.fullmatch(name.strip()):
            replicas.append((name.strip(), url.strip()))
        else:
            replicas.append((DIRECTORY, item))
    return replicas


_SERVER_NAME = re.compile(r"[A-Za-z0-9_-]+")
"""A server's name: an entry ``name=URL`` is told from a URL with ``=`` in its query by it."""
