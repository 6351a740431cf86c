"""Accounts (I8): who may log in, as which person, with which roles; no secrets in the ledger.

The account ID is a function of the login, so a second account with the same login is refused by
the ledger itself. Password hashes live outside the ledger; the ledger records only that credentials
were issued again (a new credential version, which ends every session bound to an older one), and
whether the account is locked (п. 4.3, 4.4).

Two things stop an account: a lock, which an operator lifts (``unlock``), and a breach report
(``compromised``), which only new credentials lift: the compromised password must never work again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ejournal.ledger.actor import Grant, Role
from ejournal.ledger.domain.ids import natural_id


def normalise_login(login: str) -> str:
    """Logins compare without case and surrounding blanks."""
    return login.strip().casefold()


class Account(Aggregate):
    """A person's login, grants (role × school), credential version and lock."""

    class Registered(Aggregate.Created):
        login: str
        person_id: UUID

    class RoleGranted(Aggregate.Event):
        role: str
        school_id: UUID | None

        def apply(self, aggregate: Any) -> None:
            account: Account = aggregate
            account.grants.add(Grant(Role(self.role), self.school_id))

    class RoleRevoked(Aggregate.Event):
        role: str
        school_id: UUID | None

        def apply(self, aggregate: Any) -> None:
            account: Account = aggregate
            account.grants.discard(Grant(Role(self.role), self.school_id))

    class CredentialsIssued(Aggregate.Event):
        credential_version: int

        def apply(self, aggregate: Any) -> None:
            account: Account = aggregate
            account.credential_version = self.credential_version
            account.compromised = False

    class Compromised(Aggregate.Event):
        """A breach of the login was reported (п. 4.3); recorded with the report."""

        report_id: UUID

        def apply(self, aggregate: Any) -> None:
            account: Account = aggregate
            account.compromised = True

    class Locked(Aggregate.Event):
        reason: str

        def apply(self, aggregate: Any) -> None:
            account: Account = aggregate
            account.locked = True

    class Unlocked(Aggregate.Event):
        reason: str

        def apply(self, aggregate: Any) -> None:
            account: Account = aggregate
            account.locked = False

    @staticmethod
    def create_id(login: str) -> UUID:
        """The account of ``login`` (compared without case and blanks)."""
        return natural_id("account", normalise_login(login))

    def __init__(self, *, login: str, person_id: UUID) -> None:
        self.login = login
        self.person_id = person_id
        self.grants: set[Grant] = set()
        self.credential_version = 0
        self.locked = False
        self.compromised = False

    @classmethod
    def register(cls, *, login: str, person_id: UUID, at: datetime) -> Account:
        """A new account of person ``person_id``, with no grants and credential version 0."""
        return cls._create(
            cls.Registered, login=normalise_login(login), person_id=person_id, timestamp=at
        )

    def grant(self, grant: Grant, *, at: datetime) -> None:
        """The account now holds ``grant``. Precondition: it did not."""
        self.trigger_event(
            self.RoleGranted, role=grant.role.value, school_id=grant.school_id, timestamp=at
        )

    def revoke(self, grant: Grant, *, at: datetime) -> None:
        """The account no longer holds ``grant``. Precondition: it did."""
        self.trigger_event(
            self.RoleRevoked, role=grant.role.value, school_id=grant.school_id, timestamp=at
        )

    def issue_credentials(self, *, at: datetime) -> int:
        """Start a new credential version; returns it."""
        self.trigger_event(
            self.CredentialsIssued, credential_version=self.credential_version + 1, timestamp=at
        )
        return self.credential_version

    def lock(self, reason: str, *, at: datetime) -> None:
        """No operation is accepted from the account until it is unlocked (п. 4.4)."""
        self.trigger_event(self.Locked, reason=reason, timestamp=at)

    def mark_compromised(self, report_id: UUID, *, at: datetime) -> None:
        """No operation is accepted from the account until new credentials are issued."""
        self.trigger_event(self.Compromised, report_id=report_id, timestamp=at)

    def unlock(self, reason: str, *, at: datetime) -> None:
        """The account may act again."""
        self.trigger_event(self.Unlocked, reason=reason, timestamp=at)
