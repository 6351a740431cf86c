"""Compromised logins (п. 4.3–4.4): the breach report, and the administration's invalidation of one
session. Both are rules over provenance (I8) that ``ledger.invalidation`` reads back.

A ``BreachReport`` is one per account and credential version (a second report of the same login
adds nothing: it is already locked and its operations already invalid). It records when the
participant learned of the breach, when the head and when support received the report, whether the
report was late, and, optionally, since when the breach is suspected. It is recorded in the system
log together with the account's ``Compromised`` event, so the rule and the lock are one
transaction.

A ``SessionInvalidation`` declares every operation of one session invalid, whoever's account it
was.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ejournal.ledger.domain.ids import natural_id


class Party(StrEnum):
    """Who a breach report reaches (п. 4.3), or who filed it."""

    OWNER = "owner"
    HEAD = "head"
    SUPPORT = "support"


class BreachReport(Aggregate):
    class Filed(Aggregate.Created):
        account_id: UUID
        credential_version: int
        filed_by: str
        school_id: UUID | None
        learned_at: datetime
        suspected_since: datetime | None
        head_received_at: datetime
        support_received_at: datetime
        deadline: date
        late: bool

    class ReceiptAntedated(Aggregate.Event):
        """The head or support received the report earlier than the service delivered it."""

        party: str
        received_at: datetime
        late: bool

        def apply(self, aggregate: Any) -> None:
            report: BreachReport = aggregate
            if self.party == Party.HEAD:
                report.head_received_at = self.received_at
            else:
                report.support_received_at = self.received_at
            report.late = self.late

    @staticmethod
    def create_id(account_id: UUID, credential_version: int) -> UUID:
        return natural_id("breach-report", account_id, credential_version)

    def __init__(
        self,
        *,
        account_id: UUID,
        credential_version: int,
        filed_by: str,
        school_id: UUID | None,
        learned_at: datetime,
        suspected_since: datetime | None,
        head_received_at: datetime,
        support_received_at: datetime,
        deadline: date,
        late: bool,
    ) -> None:
        self.account_id = account_id
        self.credential_version = credential_version
        self.filed_by = Party(filed_by)
        self.school_id = school_id
        self.learned_at = learned_at
        self.suspected_since = suspected_since
        self.head_received_at = head_received_at
        self.support_received_at = support_received_at
        self.deadline = deadline
        self.late = late

    @property
    def received_at(self) -> datetime:
        """The moment the report counts from: the earlier of the two receipts (п. 4.4)."""
        return min(self.head_received_at, self.support_received_at)

    def received_by(self, party: Party) -> datetime:
        return self.head_received_at if party is Party.HEAD else self.support_received_at

    @classmethod
    def file(
        cls,
        *,
        account_id: UUID,
        credential_version: int,
        filed_by: Party,
        school_id: UUID | None,
        learned_at: datetime,
        suspected_since: datetime | None,
        head_received_at: datetime,
        support_received_at: datetime,
        deadline: date,
        late: bool,
        at: datetime,
    ) -> BreachReport:
        return cls._create(
            cls.Filed,
            id=cls.create_id(account_id, credential_version),
            account_id=account_id,
            credential_version=credential_version,
            filed_by=filed_by.value,
            school_id=school_id,
            learned_at=learned_at,
            suspected_since=suspected_since,
            head_received_at=head_received_at,
            support_received_at=support_received_at,
            deadline=deadline,
            late=late,
            timestamp=at,
        )

    def antedate(self, party: Party, received_at: datetime, *, late: bool, at: datetime) -> None:
        """``party`` received the report at ``received_at``, before the recorded receipt."""
        self.trigger_event(
            self.ReceiptAntedated,
            party=party.value,
            received_at=received_at,
            late=late,
            timestamp=at,
        )


class SessionInvalidation(Aggregate):
    class Declared(Aggregate.Created):
        session_id: UUID
        account_id: UUID
        school_id: UUID
        reason: str

    @staticmethod
    def create_id(session_id: UUID) -> UUID:
        return natural_id("session-invalidation", session_id)

    def __init__(self, *, session_id: UUID, account_id: UUID, school_id: UUID, reason: str) -> None:
        self.session_id = session_id
        self.account_id = account_id
        self.school_id = school_id
        self.reason = reason

    @classmethod
    def declare(
        cls, *, session_id: UUID, account_id: UUID, school_id: UUID, reason: str, at: datetime
    ) -> SessionInvalidation:
        return cls._create(
            cls.Declared,
            id=cls.create_id(session_id),
            session_id=session_id,
            account_id=account_id,
            school_id=school_id,
            reason=reason,
            timestamp=at,
        )
