"""The calendar-thematic plan (КТП) of one roster in one subject (п. 2.6)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ejournal.ledger.domain.ids import natural_id
from ejournal.ledger.domain.values import PlanItem


def _items(items: tuple[dict[str, Any], ...]) -> dict[int, PlanItem]:
    return {i["number"]: PlanItem(i["number"], i["topic"], i["hours"]) for i in items}


def _payload(items: Iterable[PlanItem]) -> tuple[dict[str, Any], ...]:
    return tuple({"number": i.number, "topic": i.topic, "hours": i.hours} for i in items)


class ThematicPlan(Aggregate):
    """The КТП items (number, topic, hours) of a roster's subject; a new import replaces them."""

    class Imported(Aggregate.Created):
        school_id: UUID
        year_start: int
        roster_id: UUID
        subject_id: UUID
        items: tuple[dict[str, Any], ...]

    class Replaced(Aggregate.Event):
        items: tuple[dict[str, Any], ...]

        def apply(self, aggregate: Any) -> None:
            plan: ThematicPlan = aggregate
            plan.items = _items(self.items)

    @staticmethod
    def create_id(roster_id: UUID, subject_id: UUID) -> UUID:
        """The plan of ``subject_id`` for roster ``roster_id``."""
        return natural_id("thematic-plan", roster_id, subject_id)

    def __init__(
        self,
        *,
        school_id: UUID,
        year_start: int,
        roster_id: UUID,
        subject_id: UUID,
        items: tuple[dict[str, Any], ...],
    ) -> None:
        self.school_id = school_id
        self.year_start = year_start
        self.roster_id = roster_id
        self.subject_id = subject_id
        self.items = _items(items)

    @classmethod
    def import_items(
        cls,
        *,
        school_id: UUID,
        year_start: int,
        roster_id: UUID,
        subject_id: UUID,
        items: Iterable[PlanItem],
        at: datetime,
    ) -> ThematicPlan:
        """A new plan with ``items``."""
        return cls._create(
            cls.Imported,
            school_id=school_id,
            year_start=year_start,
            roster_id=roster_id,
            subject_id=subject_id,
            items=_payload(items),
            timestamp=at,
        )

    def replace(self, items: Iterable[PlanItem], *, at: datetime) -> None:
        """The plan's items are now ``items``; the earlier ones stay in the ledger."""
        self.trigger_event(self.Replaced, items=_payload(items), timestamp=at)

    def item(self, number: int) -> PlanItem | None:
        """Item ``number`` of the plan, if there is one."""
        return self.items.get(number)
