"""Deployment settings, read once from the environment by the composition root."""

from __future__ import annotations

import os
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
    replica_urls: tuple[str, ...] = ()
    """Hot-standby replicas of the PostgreSQL primary, for reads of the read models
    (``EJOURNAL_REPLICA_URLS``, comma-separated; docs/adr/0016-replica-reads.md). None: every
    read goes to the primary."""

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] = os.environ, **overrides: object
    ) -> Settings:
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
            "replica_urls": tuple(
                url.strip()
                for url in environ.get("EJOURNAL_REPLICA_URLS", "").split(",")
                if url.strip()
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
