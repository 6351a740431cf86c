"""The people an import refers to by name: those the school already holds (in the personal-data
vault, with what the read models know them as) and those its own rows bring.

A school's files carry no IDs, so a person is recognised by their full name and, where given, a
date of birth, an e-mail address or a phone number. A row matches a person of the same kind
(pupil, parent, staff) whose name is the same and whose details do not contradict it; a person of
another kind (a teacher who is also a parent) only when a detail the row gives agrees. Two matches
are ambiguous: the row must give a detail that tells them apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from uuid import UUID

from ejournal.exchange.cells import name_key, phone_key
from ejournal.exchange.report import RowRef
from ejournal.identity.vault import PersonalData, StoredPerson

EMAIL = "email"
PHONE = "phone"
"""The vault's contact kinds the files' «E-mail» and «Телефон» columns fill."""


class Kind(StrEnum):
    PUPIL = "pupil"
    PARENT = "parent"
    STAFF = "staff"


@dataclass(frozen=True, slots=True)
class Details:
    """What a row says about a person besides the name."""

    birth_date: date | None = None
    email: str | None = None
    phone: str | None = None

    def conflicts(self, other: Details) -> bool:
        """Whether a detail both give differs."""
        return (
            _differ(self.birth_date, other.birth_date)
            or _differ(self.email, other.email)
            or _differ(_phone(self.phone), _phone(other.phone))
        )

    def agrees(self, other: Details) -> bool:
        """Whether a detail both give is the same."""
        return (
            _same(self.birth_date, other.birth_date)
            or _same(self.email, other.email)
            or _same(_phone(self.phone), _phone(other.phone))
        )

    @property
    def any(self) -> bool:
        return any((self.birth_date, self.email, self.phone))


def _phone(number: str | None) -> str | None:
    return None if number is None else phone_key(number)


def _differ(a: object, b: object) -> bool:
    return a is not None and b is not None and a != b


def _same(a: object, b: object) -> bool:
    return a is not None and a == b


@dataclass(slots=True)
class Person:
    person_id: UUID
    full_name: str
    details: Details
    kinds: set[Kind]
    origin: RowRef | None = None
    """The import row that brings the person; None for one the school already holds."""
    contacts: dict[str, str] = field(default_factory=dict)

    @property
    def new(self) -> bool:
        return self.origin is not None

    def personal_data(self) -> PersonalData:
        contacts = dict(self.contacts)
        if self.details.email:
            contacts[EMAIL] = self.details.email
        if self.details.phone:
            contacts[PHONE] = self.details.phone
        return PersonalData(self.full_name, self.details.birth_date, contacts)


def from_vault(stored: StoredPerson, kinds: set[Kind]) -> Person:
    contacts = dict(stored.data.contacts)
    details = Details(stored.data.birth_date, contacts.get(EMAIL), contacts.get(PHONE))
    return Person(stored.person_id, stored.data.full_name, details, kinds, None, contacts)


class Directory:
    """Everyone an import can name, by name."""

    def __init__(self, people: Iterable[Person] = ()) -> None:
        self._by_name: dict[str, list[Person]] = defaultdict(list)
        self._by_id: dict[UUID, Person] = {}
        for person in people:
            self.add(person)

    def add(self, person: Person) -> None:
        self._by_name[name_key(person.full_name)].append(person)
        self._by_id[person.person_id] = person

    def get(self, person_id: UUID) -> Person | None:
        return self._by_id.get(person_id)

    def everyone(self) -> list[Person]:
        return list(self._by_id.values())

    def matches(self, kind: Kind, full_name: str, details: Details) -> list[Person]:
        """The people ``full_name`` with ``details`` may be, as a ``kind``: see the module."""
        found = []
        for person in self._by_name.get(name_key(full_name), ()):
            if details.conflicts(person.details):
                continue
            if kind in person.kinds or details.agrees(person.details):
                found.append(person)
        if len(found) > 1 and details.any:
            # Among several, those a given detail names.
            agreeing = [p for p in found if details.agrees(p.details)]
            if agreeing:
                return agreeing
        return found

    def named(self, kind: Kind, full_name: str) -> list[Person]:
        """The people of ``kind`` called ``full_name``: a reference by name alone."""
        return [p for p in self._by_name.get(name_key(full_name), ()) if kind in p.kinds]
