"""What a person reaches (``projections.reach``) over a region: each school's part read on the
server that holds it (``Services.by_server``), and put together as one server would give it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from ejournal.ledger.actor import Role
from ejournal.projections.reach import Reach, SchoolReach, TeacherLesson

if TYPE_CHECKING:
    from ejournal.api.bootstrap import Services


class RegionReach:
    """``projections.reach.Reach`` over a region: each school's part read on its server."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def schools(self, person_id: UUID, roles: Mapping[UUID, frozenset[Role]]) -> list[SchoolReach]:
        found = [
            school
            for cell, ids in self._services.by_server(roles)
            for school in Reach(cell.ledger.database).schools(person_id, {i: roles[i] for i in ids})
        ]
        return sorted(found, key=lambda s: (s.name, s.school_id.hex))

    def time_zones(self, school_ids: Sequence[UUID]) -> dict[UUID, str]:
        zones: dict[UUID, str] = {}
        for cell, ids in self._services.by_server(school_ids):
            zones.update(Reach(cell.ledger.database).time_zones(ids))
        return zones

    def lessons(
        self, teacher_id: UUID, school_ids: Sequence[UUID], first: date, last: date
    ) -> list[TeacherLesson]:
        found = [
            lesson
            for cell, ids in self._services.by_server(school_ids)
            for lesson in Reach(cell.ledger.database).lessons(teacher_id, ids, first, last)
        ]
        return sorted(found, key=lambda x: (x.on, x.starts_at, x.slot, x.lesson_id.hex))
