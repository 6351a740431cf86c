"""Deployment settings, read once from the environment by the composition root."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ejournal.ledger.config import DEFAULT_DATABASE_URL


@dataclass(frozen=True, kw_only=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    origin: str = "ejournal.local"
    """Checkpoint origin prefix: the deployment's name, e.g. ``journal.khasavyurt-rayon.ru``."""
    checkpoint_every_entries: int = 10_000
    checkpoint_every_seconds: float = 300.0

    @classmethod
    def from_environment(
        cls, environ: Mapping[str, str] = os.environ, **overrides: object
    ) -> Settings:
        values: dict[str, object] = {
            "database_url": environ.get("EJOURNAL_DATABASE_URL", DEFAULT_DATABASE_URL),
            "origin": environ.get("EJOURNAL_ORIGIN", "ejournal.local"),
            "checkpoint_every_entries": int(environ.get("EJOURNAL_CHECKPOINT_ENTRIES", "10000")),
            "checkpoint_every_seconds": float(environ.get("EJOURNAL_CHECKPOINT_SECONDS", "300")),
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)  # type: ignore[arg-type]
