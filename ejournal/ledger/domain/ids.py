"""Deterministic aggregate IDs: a UUID5 of a natural key.

A command finds an aggregate by its natural key (a school's year, a lesson of a roster on a date and
slot, a teacher's assignment to a roster and subject) by computing its ID, so authorisation and
uniqueness checks need no read model. The namespace is fixed for ever: changing it would orphan
every stored aggregate.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid5

NAMESPACE = UUID("6f1c1f0e-3d6a-5b8e-9a57-2b0f3c7d4e21")
"""The UUID5 namespace of every natural key of ejournal."""

KeyPart = UUID | str | int | date


def natural_id(kind: str, *parts: KeyPart) -> UUID:
    """Return the UUID5 of ``kind/part/part/...``; the same key always gives the same ID."""
    text = "/".join([kind, *(_text(part) for part in parts)])
    return uuid5(NAMESPACE, text)


def _text(part: KeyPart) -> str:
    if isinstance(part, UUID):
        return part.hex
    if isinstance(part, date):
        return part.isoformat()
    return str(part)
