"""The shape of a generated school, decided before anything is written: staff, classes, students,
parents, groups, who teaches what, timetables, and every ID.

Everything follows from the seed and the school's number, so a resumed run rebuilds the same spec
without reading the ledger. ``demo_school`` is the hand-written demo school; ``district_school``
draws one school of a district.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from uuid import UUID

from ejournal.generator.calendar import WORK_TYPES, YEAR
from ejournal.generator.curriculum import ENGLISH, HOURS, PE, SUBJECT_TEACHERS
from ejournal.ledger.actor import Role
from ejournal.ledger.domain import Group, SchoolClass

ENGLISH_GROUPS = ("Группа 1", "Группа 2")
GROUP_ROOMS = ("21", "22")
"""The rooms of the English groups."""
SUBJECT_ROOMS = {PE: "Спортзал", "Физика": "31", "Биология": "32"}
"""The subjects taught in a room of their own."""
SPLIT_FROM = 20
"""Classes of at least this many students learn English in two groups."""
LETTERS = "АБВГД"
VILLAGES = (
    "Аксай", "Эндирей", "Костек", "Кокрек", "Байрамаул", "Андрейаул", "Дзержинское",
    "Карланюрт", "Могилёвское", "Советское", "Тотурбийкала", "Новогагатли", "Сулевкент",
    "Кандаураул", "Хамавюрт", "Муцалаул", "Нурадилово", "Покровское", "Ботаюрт", "Ново-Костек",
    "Карланюрт", "Львовское", "Боташюрт", "Садовое", "Генжеаул", "Бамматюрт",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class StaffSpec:
    login: str
    person_id: UUID
    session_id: UUID
    roles: tuple[Role, ...]


@dataclass(frozen=True, slots=True)
class RosterSpec:
    """A class or a group, in one subject, with its teacher."""

    roster_id: UUID
    class_name: str
    grade: int
    subject: str
    teacher: str
    """The teacher's login."""
    members: tuple[UUID, ...]
    group: str | None = None
    """The group's name; None for the whole class."""


@dataclass(frozen=True, slots=True)
class ClassSpec:
    name: str
    grade: int
    letter: str
    class_teacher: str
    students: tuple[UUID, ...]
    parents: tuple[tuple[UUID, ...], ...]
    """Each student's parents, in the order of ``students``."""
    timetable: tuple[tuple[str, ...], ...]
    """Subjects by weekday (Monday first) and lesson number."""


@dataclass(frozen=True, slots=True)
class LessonChange:
    """The administration's decision on one lesson of a class's timetable: a substitute teacher
    (a login) takes it, or, with none, it is cancelled; for ``reason``."""

    class_name: str
    on: date
    slot: int
    substitute: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class SchoolSpec:
    number: int
    school_id: UUID
    name: str
    head: str
    deputy: str
    staff: tuple[StaffSpec, ...]
    subjects: Mapping[str, UUID]
    work_types: Mapping[str, UUID]
    classes: tuple[ClassSpec, ...]
    rosters: Mapping[tuple[str, str], tuple[RosterSpec, ...]]
    """(class name, subject) → the class itself, or its groups, in that subject."""
    first_topics: Mapping[tuple[str, str], tuple[str, ...]] = field(default_factory=dict)
    """Hand-written first КТП topics of a class's subject (the demo's)."""
    ability: Mapping[UUID, float] = field(default_factory=dict)
    """Each student's mean mark."""
    rooms: Mapping[str, str] = field(default_factory=dict)
    """Each class's own room, where its timetable has its lessons but for ``SUBJECT_ROOMS``'."""
    changes: tuple[LessonChange, ...] = ()
    """Substitutes and cancelled lessons of the journal's weeks (the demo's)."""

    def room(self, class_name: str, subject: str, group: str | None) -> str:
        """Where a lesson of the timetable is held: a subject's own room, an English group's,
        or the class's."""
        if group is not None:
            return GROUP_ROOMS[ENGLISH_GROUPS.index(group)]
        return SUBJECT_ROOMS.get(subject) or self.rooms.get(class_name, "")

    @property
    def students(self) -> int:
        return sum(len(c.students) for c in self.classes)


def new_id(rng: random.Random) -> UUID:
    return UUID(int=rng.getrandbits(128), version=4)


class _Builder:
    """Collects a school's spec as it is drawn."""

    def __init__(self, rng: random.Random, number: int, name: str) -> None:
        self.rng = rng
        self.number = number
        self.name = name
        self.school_id = new_id(rng)
        self.staff: dict[str, StaffSpec] = {}
        self.subjects: dict[str, UUID] = {}
        self.classes: list[ClassSpec] = []
        self.rosters: dict[tuple[str, str], tuple[RosterSpec, ...]] = {}
        self.ability: dict[UUID, float] = {}

    def person(self, login: str, *roles: Role) -> str:
        self.staff[login] = StaffSpec(login, new_id(self.rng), new_id(self.rng), roles)
        return login

    def add_class_teacher_role(self, login: str) -> None:
        spec = self.staff[login]
        if Role.CLASS_TEACHER not in spec.roles:
            self.staff[login] = StaffSpec(
                login, spec.person_id, spec.session_id, (*spec.roles, Role.CLASS_TEACHER)
            )

    def school_class(
        self,
        grade: int,
        letter: str,
        size: int,
        class_teacher: str,
        timetable: tuple[tuple[str, ...], ...],
    ) -> ClassSpec:
        rng = self.rng
        students = tuple(new_id(rng) for _ in range(size))
        parents = tuple(tuple(new_id(rng) for _ in range(rng.choice((1, 2, 2)))) for _ in students)
        for student in students:
            self.ability[student] = min(4.8, max(2.6, rng.gauss(3.9, 0.55)))
        for day in timetable:
            for subject in day:
                if subject not in self.subjects:
                    self.subjects[subject] = new_id(rng)
        spec = ClassSpec(
            f"{grade}{letter}", grade, letter, class_teacher, students, parents, timetable
        )
        self.classes.append(spec)
        self.add_class_teacher_role(class_teacher)
        return spec

    def whole_class(self, spec: ClassSpec, subject: str, teacher: str, class_id: UUID) -> None:
        roster = RosterSpec(class_id, spec.name, spec.grade, subject, teacher, spec.students)
        self.rosters[spec.name, subject] = (roster,)

    def groups(
        self, spec: ClassSpec, subject: str, teachers: Sequence[str], group_ids: Sequence[UUID]
    ) -> None:
        half = len(spec.students) // 2 + 1
        parts = (spec.students[:half], spec.students[half:])
        self.rosters[spec.name, subject] = tuple(
            RosterSpec(group_id, spec.name, spec.grade, subject, teacher, members, name)
            for name, teacher, members, group_id in zip(
                ENGLISH_GROUPS, teachers, parts, group_ids, strict=True
            )
        )

    def build(
        self, head: str, deputy: str, first_topics: Mapping[tuple[str, str], tuple[str, ...]]
    ) -> SchoolSpec:
        work_types = {name: new_id(self.rng) for name, _, _ in WORK_TYPES}
        return SchoolSpec(
            number=self.number,
            school_id=self.school_id,
            name=self.name,
            head=head,
            deputy=deputy,
            staff=tuple(self.staff.values()),
            subjects=dict(self.subjects),
            work_types=work_types,
            classes=tuple(self.classes),
            rosters=dict(self.rosters),
            first_topics=dict(first_topics),
            ability=dict(self.ability),
        )


def _ids(school_id: UUID, spec: ClassSpec, subject_id: UUID) -> tuple[UUID, list[UUID]]:
    # The class and group IDs follow from their natural keys, as the commands derive them.
    class_id = SchoolClass.create_id(
        school_id=school_id, year_start=YEAR, grade=spec.grade, letter=spec.letter
    )
    groups = [
        Group.create_id(class_id=class_id, subject_id=subject_id, name=name)
        for name in ENGLISH_GROUPS
    ]
    return class_id, groups


# --- the demo school ----------------------------------------------------------------------------

DEMO_TEACHERS = {
    # login: (subjects taught, class whose class teacher they are)
    "t.russkiy": (("Русский язык", "Литература"), "5А"),
    "t.matematika": (("Математика", "Алгебра", "Геометрия"), None),
    "t.angliyskiy1": ((ENGLISH,), None),
    "t.angliyskiy2": ((ENGLISH,), "10Б"),
    "t.istoriya": (("История",), None),
    "t.biologiya": (("Биология",), None),
    "t.fizika": (("Физика",), None),
    "t.fizkultura": ((PE,), None),
}
DEMO_ENGLISH_TEACHERS = ("t.angliyskiy1", "t.angliyskiy2")
DEMO_CLASSES = {"5А": (5, "А"), "10Б": (10, "Б")}
DEMO_TIMETABLE = {
    "5А": (
        ("Русский язык", "Математика", ENGLISH, "Литература", PE),
        ("Математика", "Русский язык", "История", "Биология", ENGLISH),
        ("Русский язык", "Математика", "Литература", ENGLISH, PE),
        ("Математика", "Русский язык", "История", "Биология", "Литература"),
        ("Русский язык", "Математика", ENGLISH, PE, "Литература"),
    ),
    "10Б": (
        ("Алгебра", "Физика", "Русский язык", ENGLISH, "История", "Литература"),
        ("Литература", "Геометрия", "Биология", ENGLISH, "Алгебра", PE),
        ("Алгебра", "Русский язык", "Физика", "История", ENGLISH, "Литература"),
        ("Биология", "Геометрия", "Алгебра", "Литература", PE, "История"),
        ("Алгебра", ENGLISH, "Физика", "Русский язык", PE, "Геометрия"),
    ),
}
"""Subjects by weekday and lesson number; no teacher teaches both classes at one time (the
timetable refuses that)."""
DEMO_ROOMS = {"5А": "12", "10Б": "24"}
DEMO_CHANGES = (
    LessonChange("5А", date(2025, 9, 11), 5, "t.istoriya", "Болезнь учителя"),
    LessonChange("10Б", date(2025, 9, 12), 5, None, "Спортивный зал закрыт на ремонт"),
)
"""Thursday's literature in 5«А» is taken by the history teacher; Friday's PE in 10«Б» is
cancelled."""
DEMO_STUDENTS_PER_CLASS = 25


def demo_school(seed: int, first_topics: Mapping[tuple[str, str], tuple[str, ...]]) -> SchoolSpec:
    """The demo school: a head, a deputy, eight teachers, classes 5«А» and 10«Б» of 25 students
    each with their parents, English in two groups per class."""
    rng = random.Random(seed)
    b = _Builder(rng, 0, "МКОУ «Демонстрационная средняя общеобразовательная школа»")
    b.person("direktor", Role.HEAD)
    b.person("zavuch", Role.DEPUTY)
    for login in DEMO_TEACHERS:
        b.person(login, Role.TEACHER)
    for name, (grade, letter) in DEMO_CLASSES.items():
        class_teacher = next(t for t, (_, cls) in DEMO_TEACHERS.items() if cls == name)
        spec = b.school_class(
            grade, letter, DEMO_STUDENTS_PER_CLASS, class_teacher, DEMO_TIMETABLE[name]
        )
        for subject in dict.fromkeys(s for day in spec.timetable for s in day):
            class_id, group_ids = _ids(b.school_id, spec, b.subjects[subject])
            if subject == ENGLISH:
                b.groups(spec, subject, DEMO_ENGLISH_TEACHERS, group_ids)
            else:
                teacher = next(t for t, (taught, _) in DEMO_TEACHERS.items() if subject in taught)
                b.whole_class(spec, subject, teacher, class_id)
    built = b.build("direktor", "zavuch", first_topics)
    return replace(built, rooms=DEMO_ROOMS, changes=DEMO_CHANGES)


# --- a district school --------------------------------------------------------------------------


def district_school(seed: int, number: int, *, parallels: int | None = None) -> SchoolSpec:
    """School ``number`` (from 1) of the district drawn from ``seed``.

    A school has one to four classes per grade (``parallels`` fixes it) of 10–28 students; a
    primary teacher for each class of grades 1–4; subject teachers for grades 5–11 (and English and
    PE from grade 1), as many as the hours need at about 24 lessons a week each.
    """
    rng = random.Random(f"{seed}:school:{number}")
    village = VILLAGES[(number - 1) % len(VILLAGES)]
    suffix = f" № {(number - 1) // len(VILLAGES) + 1}" if number > len(VILLAGES) else ""
    b = _Builder(rng, number, f"МКОУ «Средняя общеобразовательная школа с. {village}{suffix}»")
    prefix = f"s{number:02d}."
    head = b.person(f"{prefix}direktor", Role.HEAD)
    deputy = b.person(f"{prefix}zavuch", Role.DEPUTY)
    shapes = _class_shapes(rng, parallels or rng.choices((1, 2, 3, 4), (25, 40, 25, 10))[0])
    staffroom = _Staffroom.hire(b, prefix, shapes)
    in_turn = itertools.cycle(staffroom.everyone())  # class teachers of grades 5–11
    for n, (grade, letter, size) in enumerate(shapes, start=1):
        if grade < 5:
            class_teacher = b.person(f"{prefix}t.nachalnye{n}", Role.TEACHER)
        else:
            class_teacher = next(in_turn)
        spec = b.school_class(grade, letter, size, class_teacher, _timetable(rng, HOURS[grade]))
        _staff_class(b, staffroom, spec, size)
    return b.build(head, deputy, {})


def _class_shapes(rng: random.Random, parallels: int) -> list[tuple[int, str, int]]:
    """(grade, letter, size) of every class: ``parallels`` classes a grade, one fewer in grades
    10–11; a village school with one class a grade has small classes."""
    small = parallels == 1
    return [
        (grade, LETTERS[n], rng.randint(10, 22) if small else rng.randint(20, 28))
        for grade in range(1, 12)
        for n in range(parallels if grade < 10 else max(1, parallels - 1))
    ]


@dataclass
class _Staffroom:
    """A district school's subject teachers by speciality, and the weekly lessons each teaches."""

    teachers: dict[str, list[str]]
    load: dict[str, int]

    @classmethod
    def hire(cls, b: _Builder, prefix: str, shapes: Sequence[tuple[int, str, int]]) -> _Staffroom:
        """Enough teachers of each speciality for its hours at about 24 a week (English groups
        count twice), and two English teachers at least, for the groups."""
        hours: dict[str, int] = {}
        for grade, _, size in shapes:
            for subject, h in HOURS[grade].items():
                if grade < 5 and subject not in (ENGLISH, PE):
                    continue
                speciality = SUBJECT_TEACHERS[subject]
                split = subject == ENGLISH and size >= SPLIT_FROM
                hours[speciality] = hours.get(speciality, 0) + h * (2 if split else 1)
        teachers: dict[str, list[str]] = {}
        for speciality, total in hours.items():
            needed = max(1, math.ceil(total / 24))
            if speciality == "angliyskiy":
                needed = max(needed, 2)
            teachers[speciality] = [
                b.person(f"{prefix}t.{speciality}{n}", Role.TEACHER) for n in range(1, needed + 1)
            ]
        return cls(teachers, {login: 0 for logins in teachers.values() for login in logins})

    def everyone(self) -> list[str]:
        return [login for logins in self.teachers.values() for login in logins]

    def take(self, speciality: str, hours: int, taken: Sequence[str] = ()) -> str:
        """The least loaded teacher of ``speciality`` (other than ``taken``, if there is one),
        who now teaches ``hours`` more."""
        candidates = [t for t in self.teachers[speciality] if t not in taken]
        teacher = min(candidates or self.teachers[speciality], key=lambda t: (self.load[t], t))
        self.load[teacher] += hours
        return teacher


def _staff_class(b: _Builder, staffroom: _Staffroom, spec: ClassSpec, size: int) -> None:
    """Who teaches the class what: its class teacher all subjects of grades 1–4 but English and
    PE; two teachers for the English groups of a large class; one teacher for the subjects of one
    speciality (algebra, geometry …)."""
    bundles: dict[str, str] = {}
    for subject, h in HOURS[spec.grade].items():
        class_id, group_ids = _ids(b.school_id, spec, b.subjects[subject])
        if spec.grade < 5 and subject not in (ENGLISH, PE):
            b.whole_class(spec, subject, spec.class_teacher, class_id)
            continue
        speciality = SUBJECT_TEACHERS[subject]
        if subject == ENGLISH and size >= SPLIT_FROM and spec.grade >= 2:
            first = staffroom.take(speciality, h)
            second = staffroom.take(speciality, h, taken=(first,))
            b.groups(spec, subject, (first, second), group_ids)
            continue
        teacher = bundles.get(speciality)
        if teacher is None:
            teacher = bundles[speciality] = staffroom.take(speciality, h)
        else:
            staffroom.load[teacher] += h
        b.whole_class(spec, subject, teacher, class_id)


def _timetable(rng: random.Random, hours: Mapping[str, int]) -> tuple[tuple[str, ...], ...]:
    """A five-day timetable: each subject's lessons on different days where it can, the days as
    even as the hours allow, the order within a day drawn."""
    days: list[list[str]] = [[] for _ in range(5)]
    for subject, h in sorted(hours.items(), key=lambda item: (-item[1], item[0])):
        for n in range(h):
            free = [d for d in range(5) if subject not in days[d]] if n < 5 else list(range(5))
            least = min(len(days[d]) for d in free)
            choice = rng.choice([d for d in free if len(days[d]) == least])
            days[choice].append(subject)
    for day in days:
        rng.shuffle(day)
    return tuple(tuple(day) for day in days)
