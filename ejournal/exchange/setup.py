"""A school year's set-up as the export writes it, read from the read models and the vault: the
year's subjects, classes and groups, and the school's people with what they are to it.

The read models must be projected up to the moment the export describes (the caller waits for
them); the names, dates of birth and contacts come from the vault.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from ejournal.exchange.people import Directory, Kind, Person, from_vault
from ejournal.identity.vault import Vault
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import SchoolClass, SchoolYear
from ejournal.projections.lists import Lists
from ejournal.projections.setup import PeopleKinds, SetupRows, people_kinds, school_setup


@dataclass(frozen=True, slots=True)
class GroupSetup:
    group_id: UUID
    class_id: UUID
    subject_id: UUID
    name: str


@dataclass(slots=True)
class SchoolSetup:
    school_id: UUID
    year_start: int
    year: SchoolYear
    classes: list[SchoolClass]
    """By grade and letter."""
    groups: dict[UUID, GroupSetup]
    rows: SetupRows
    people: dict[UUID, Person] = field(default_factory=dict)

    def subject_name(self, subject_id: UUID) -> str:
        subject = self.year.subjects.get(subject_id)
        return "" if subject is None else subject.name

    def name(self, person_id: UUID) -> str:
        person = self.people.get(person_id)
        return "" if person is None else person.full_name

    def class_of(self, roster_id: UUID) -> SchoolClass | None:
        """The class a class or group belongs to."""
        group = self.groups.get(roster_id)
        class_id = roster_id if group is None else group.class_id
        return next((k for k in self.classes if k.id == class_id), None)


def kinds_of(person_id: UUID, kinds: PeopleKinds) -> set[Kind]:
    """What a person of the school is to it: a pupil, a parent, staff (the teachers, and everyone
    else the school entered who is neither a pupil nor a parent: the head, the deputies …)."""
    found = set()
    if person_id in kinds.pupils:
        found.add(Kind.PUPIL)
    if person_id in kinds.parents:
        found.add(Kind.PARENT)
    if person_id in kinds.teachers or not found:
        found.add(Kind.STAFF)
    return found


def school_directory(ledger: Ledger, vault: Vault, school_id: UUID) -> Directory:
    """Everyone the school entered into the vault, with what they are to it. Raises
    ``VaultError``."""
    kinds = people_kinds(ledger.database, school_id)
    return Directory(
        from_vault(stored, kinds_of(stored.person_id, kinds))
        for stored in vault.school_people(school_id)
    )


def read_setup(ledger: Ledger, vault: Vault, school_id: UUID, year_start: int) -> SchoolSetup:
    """The school year's set-up. Raises ``AggregateNotFoundError`` for a year that is not open,
    ``VaultError``."""
    year = ledger.get(SchoolYear.create_id(school_id=school_id, year_start=year_start), SchoolYear)
    entries = Lists(ledger.database).classes(school_id, year_start, None)
    classes = [ledger.get(entry.class_id, SchoolClass) for entry in entries]
    classes.sort(key=lambda k: (k.grade, k.letter))
    groups = {
        group.group_id: GroupSetup(group.group_id, entry.class_id, group.subject_id, group.name)
        for entry in entries
        for group in entry.groups
    }
    directory = school_directory(ledger, vault, school_id)
    setup = SchoolSetup(
        school_id,
        year_start,
        year,
        classes,
        groups,
        school_setup(ledger.database, school_id, year_start),
    )
    setup.people = {p.person_id: p for p in directory.everyone()}
    return setup
