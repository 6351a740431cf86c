"""The base of every command: who asks (the actor) and what its handler returns (the type
argument)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from ejournal.ledger.actor import Actor

R_co = TypeVar("R_co", covariant=True)


@dataclass(frozen=True, kw_only=True, slots=True)
class Command(Generic[R_co]):
    """A request to change the journal, made by ``actor``; its handler returns an ``R_co``."""

    actor: Actor
