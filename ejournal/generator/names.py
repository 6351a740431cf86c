"""Names for a generated school's people, drawn from its seed: the same seed, the same names.

The ledger holds IDs only (I9); a school enters its people's names into the vault. A generated
school does the same, so that what a visitor sees reads as a school's journal does: pupils by
surname and name, teachers and parents with patronymics. A family is one: the mother carries the
feminine form of the child's surname, the father's name gives the child's patronymic.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from uuid import UUID

from ejournal.generator.spec import SchoolSpec

SURNAMES = (
    "Абдуллаев", "Алиев", "Ахмедов", "Баширов", "Васильев", "Виноградов", "Волков",
    "Гаджиев", "Гасанов", "Голубев", "Зайцев", "Ибрагимов", "Иванов", "Исмаилов", "Казаков",
    "Карпов", "Ковалёв", "Курбанов", "Лебедев", "Магомедов", "Медведев", "Михайлов", "Морозов",
    "Мурадов", "Новиков", "Омаров", "Павлов", "Петров", "Рамазанов", "Семёнов", "Смирнов",
    "Соколов", "Сулейманов", "Фёдоров", "Хасанов", "Юсупов",
)  # fmt: skip
"""Surnames whose feminine form ends in «-а» (Алиев, Алиева)."""

MEN = {
    "Магомед": ("Магомедович", "Магомедовна"),
    "Али": ("Алиевич", "Алиевна"),
    "Рамазан": ("Рамазанович", "Рамазановна"),
    "Шамиль": ("Шамилевич", "Шамилевна"),
    "Руслан": ("Русланович", "Руслановна"),
    "Тимур": ("Тимурович", "Тимуровна"),
    "Арсен": ("Арсенович", "Арсеновна"),
    "Ахмед": ("Ахмедович", "Ахмедовна"),
    "Ислам": ("Исламович", "Исламовна"),
    "Расул": ("Расулович", "Расуловна"),
    "Иван": ("Иванович", "Ивановна"),
    "Александр": ("Александрович", "Александровна"),
    "Михаил": ("Михайлович", "Михайловна"),
    "Максим": ("Максимович", "Максимовна"),
    "Кирилл": ("Кириллович", "Кирилловна"),
    "Артём": ("Артёмович", "Артёмовна"),
    "Егор": ("Егорович", "Егоровна"),
    "Дмитрий": ("Дмитриевич", "Дмитриевна"),
    "Сергей": ("Сергеевич", "Сергеевна"),
    "Андрей": ("Андреевич", "Андреевна"),
}
"""Men's names and the patronymics they give (Дмитрий: Дмитриевич, Дмитриевна)."""

WOMEN = (
    "Патимат", "Мадина", "Аминат", "Заира", "Сабина", "Марьям", "Хадижат", "Амина", "Анна",
    "Мария", "София", "Алина", "Виктория", "Дарья", "Полина", "Елизавета", "Ксения",
    "Екатерина", "Ульяна", "Валерия",
)  # fmt: skip


def patronymic(father: str, *, woman: bool) -> str:
    return MEN[father][1 if woman else 0]


def surname(base: str, *, woman: bool) -> str:
    return base + "а" if woman else base


def school_names(spec: SchoolSpec, seed: int) -> Iterator[tuple[UUID, str]]:
    """(person, full name, surname first) of every pupil, parent and member of staff of the
    school, in a deterministic order."""
    rng = random.Random(f"names {seed} {spec.school_id}")
    men = sorted(MEN)
    for staff in spec.staff:
        yield staff.person_id, _adult(rng, rng.choice(SURNAMES), woman=rng.random() < 0.7)
    for school_class in spec.classes:
        for student, parents in zip(school_class.students, school_class.parents, strict=True):
            family = rng.choice(SURNAMES)
            father = rng.choice(men)
            woman = rng.random() < 0.5
            first = rng.choice(WOMEN) if woman else rng.choice(men)
            yield (
                student,
                f"{surname(family, woman=woman)} {first} {patronymic(father, woman=woman)}",
            )
            for n, parent in enumerate(parents):
                if n == 1:  # the second parent: the father
                    yield parent, f"{family} {father} {patronymic(rng.choice(men), woman=False)}"
                else:
                    yield parent, _adult(rng, family, woman=True)


def _adult(rng: random.Random, family: str, *, woman: bool) -> str:
    first = rng.choice(WOMEN) if woman else rng.choice(sorted(MEN))
    return (
        f"{surname(family, woman=woman)} {first} {patronymic(rng.choice(sorted(MEN)), woman=woman)}"
    )
