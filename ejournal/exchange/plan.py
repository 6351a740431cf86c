"""What an import is about to do: the school year it writes into, the subjects, classes, groups
and people its rows name (the school's own and those the rows bring), and the commands each row
runs, in order.

The sheet kinds (``exchange.sheets``) fill it row by row; ``exchange.importer`` then runs its
steps. Every ID is chosen here, before anything runs: a class's and a group's follow from their
names (as the commands derive them), a new person's and a new subject's are drawn once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from ejournal import commands as c
from ejournal.exchange.cells import class_name, name_key, written_class
from ejournal.exchange.people import Details, Directory, Kind, Person
from ejournal.exchange.report import Problem, RowRef, SheetSummary
from ejournal.exchange.sheet import Row
from ejournal.ledger.actor import Actor
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import Enrolment, Group, SchoolClass, SchoolYear

Place = tuple[RowRef, str | None]
"""Where a refusal is reported: a row, and a column's header as the file writes it."""

Locate = Callable[[c.CommandError], list[Place]]
"""Where a refusal of a command that several rows make together is reported."""


@dataclass(frozen=True, slots=True)
class Step:
    """A command a row runs; a refusal names the row and ``column``, or where ``locate`` says."""

    row: RowRef
    column: str | None
    command: c.Command[Any]
    needs: frozenset[RowRef]
    """Rows whose own steps must have run: a pupil's enrolment needs the row opening the class."""
    locate: Locate | None = None
    """For a command of several rows (a class's timetable): the rows its refusal concerns."""

    def places(self, error: c.CommandError) -> list[Place]:
        """Where ``error``, the command's refusal, is reported."""
        found = [] if self.locate is None else self.locate(error)
        return found or [(self.row, self.column)]


@dataclass(frozen=True, slots=True)
class ClassRef:
    class_id: UUID
    grade: int
    letter: str

    @property
    def written(self) -> str:
        return written_class(self.grade, self.letter)


@dataclass(slots=True)
class Plan:
    ledger: Ledger
    actor: Actor
    school_id: UUID
    year_start: int
    year: SchoolYear
    people: Directory
    steps: list[Step] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    subjects: dict[str, UUID] = field(default_factory=dict)
    """Subject names (``name_key``) → IDs: the year's and those the import adds."""
    origins: dict[UUID, RowRef] = field(default_factory=dict)
    """Whatever a row of this import creates (class, group, subject, person) → that row."""
    spoiled: set[str] = field(default_factory=set)
    """Classes (as written) and people (``name_key``) whose own row is bad: rows that name them
    are passed over, not reported again."""
    placed: dict[UUID, UUID] = field(default_factory=dict)
    """Pupils → the class of the year they are in: those the import enrols, and those looked up."""
    summary: SheetSummary | None = None
    """The sheet being planned."""

    def __post_init__(self) -> None:
        for subject_id, subject in self.year.subjects.items():
            self.subjects[name_key(subject.name)] = subject_id

    @property
    def first_day(self) -> date:
        return self.year.days.starts_on

    # --- steps ----------------------------------------------------------------------------------

    def run(
        self,
        row: Row,
        command: c.Command[Any],
        *,
        column: str | None = None,
        needs: Iterable[UUID] = (),
        locate: Locate | None = None,
    ) -> None:
        """Run ``command`` for ``row`` (after the rows that create what ``needs`` names); its
        refusal is reported on ``row`` and ``column``, or where ``locate`` says."""
        rows = frozenset(self.origins[i] for i in needs if i in self.origins) - {row.ref}
        header = None if column is None else row.header(column)
        self.steps.append(Step(row.ref, header, command, rows, locate))

    def create(self, row: Row, created: UUID) -> None:
        self.origins.setdefault(created, row.ref)

    def counted(self, applied: bool) -> None:
        """Count a planned row as applied or as already present."""
        assert self.summary is not None
        if applied:
            self.summary.applied += 1
        else:
            self.summary.present += 1

    # --- what rows name -------------------------------------------------------------------------

    def subject(self, row: Row, key: str) -> UUID | None:
        """The subject named in ``key``'s cell: the year's, or one the import adds."""
        name = row.text(key, required=True)
        if not name:
            return None
        subject_id = self.subjects.get(name_key(name))
        if subject_id is None:
            row.problem(
                key, f"предмета «{name}» нет в учебном году: добавьте его на лист «Предметы»"
            )
        return subject_id

    def class_written(self, row: Row, key: str) -> ClassRef | None:
        """The class a cell names, opened or not (None and a problem if unreadable)."""
        value = row.read(key, class_name, required=True)
        if value is None:
            return None
        grade, letter = value
        class_id = SchoolClass.create_id(
            school_id=self.school_id, year_start=self.year_start, grade=grade, letter=letter
        )
        return ClassRef(class_id, grade, letter)

    def school_class(self, row: Row, key: str) -> ClassRef | None:
        """The class a cell names, which must be open or opened by the import; None (and a
        problem, unless the class's own row is bad) otherwise."""
        found = self.class_written(row, key)
        if found is None:
            return None
        if found.written in self.spoiled:
            row.bad = True
            return None
        if found.class_id in self.origins or self.class_aggregate(found.class_id) is not None:
            return found
        row.problem(key, f"класс {found.written} не открыт: добавьте его на лист «Классы»")
        return None

    def placement(self, person_id: UUID) -> UUID | None:
        """The class of the year the pupil is in now (any school's), or None."""
        if person_id not in self.placed:
            enrolment = self.ledger.find(
                Enrolment.create_id(student_id=person_id, year_start=self.year_start), Enrolment
            )
            current = None if enrolment is None else enrolment.current()
            if current is not None:
                self.placed[person_id] = current.class_id
        return self.placed.get(person_id)

    def class_aggregate(self, class_id: UUID) -> SchoolClass | None:
        return self.ledger.find(class_id, SchoolClass)

    def group(self, class_id: UUID, subject_id: UUID, name: str) -> tuple[UUID, bool]:
        """The group's ID, and whether it exists (in the school or formed by the import)."""
        group_id = Group.create_id(class_id=class_id, subject_id=subject_id, name=name)
        exists = group_id in self.origins or self.ledger.find(group_id, Group) is not None
        return group_id, exists

    def staff_member(self, row: Row, key: str) -> Person | None:
        """A member of staff named by full name in ``key``'s cell (None and a problem if there is
        none or several)."""
        written = row.text(key, required=True)
        if not written:
            return None
        if name_key(written) in self.spoiled:
            row.bad = True
            return None
        found = self.people.named(Kind.STAFF, written)
        if len(found) == 1:
            return found[0]
        if not found:
            row.problem(key, f"сотрудника «{written}» нет: добавьте его на лист «Сотрудники»")
        else:
            row.problem(key, f"несколько сотрудников с именем «{written}»")
        return None

    def new_person(self, row: Row, full_name: str, details: Details, kind: Kind) -> Person:
        person = Person(uuid4(), full_name, details, {kind}, origin=row.ref)
        self.people.add(person)
        self.create(row, person.person_id)
        return person
