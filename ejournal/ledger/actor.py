"""Who does something: the account, the roles it holds, and the session it acts through (I8)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID


class Role(StrEnum):
    """The roles of the brief. A role is granted for one school, except the deployment-wide ones."""

    SYSTEM = "system"
    """The service itself: bootstrap, generators, scheduled jobs. Never granted to a person."""
    SYSTEM_ADMIN = "system_admin"
    HEAD = "head"
    DEPUTY = "deputy"
    TEACHER = "teacher"
    CLASS_TEACHER = "class_teacher"
    STUDENT = "student"
    PARENT = "parent"
    AUDITOR = "auditor"
    SUPPORT = "support"


ADMINISTRATION = frozenset({Role.HEAD, Role.DEPUTY})
DEPLOYMENT_ROLES = frozenset({Role.SYSTEM, Role.SYSTEM_ADMIN, Role.AUDITOR, Role.SUPPORT})
"""Roles held for the whole deployment rather than for one school."""

NIL = UUID(int=0)


@dataclass(frozen=True, slots=True, order=True)
class Grant:
    """A role held in one school (``school_id``), or deployment-wide (``school_id`` is None)."""

    role: Role
    school_id: UUID | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Actor:
    """The authenticated caller of a command, as the ledger attributes it."""

    account_id: UUID
    grants: frozenset[Grant] = field(default_factory=frozenset)
    credential_version: int = 0
    session_id: UUID = NIL

    def holds(self, role: Role, school_id: UUID | None = None) -> bool:
        """Whether the actor holds ``role`` in ``school_id`` (or deployment-wide)."""
        return Grant(role, school_id) in self.grants or Grant(role, None) in self.grants

    def holds_any(self, roles: frozenset[Role], school_id: UUID | None) -> Role | None:
        """The first of ``roles`` (in a stable order) that the actor holds in ``school_id``."""
        for role in sorted(roles):
            if self.holds(role, school_id):
                return role
        return None


SYSTEM_ACTOR = Actor(account_id=NIL, grants=frozenset({Grant(Role.SYSTEM)}))
"""The service acting on its own behalf (bootstrap, generator, library test cases)."""
