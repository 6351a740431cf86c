"""The generated school's names: everyone named once, the same seed the same names, a family one."""

from __future__ import annotations

from ejournal.generator.demo import DEMO_SEED, demo_plan
from ejournal.generator.names import MEN, patronymic, school_names


def test_everyone_of_the_school_is_named_once_and_the_seed_repeats_the_names() -> None:
    (spec,) = demo_plan(DEMO_SEED).schools
    named = list(school_names(spec, DEMO_SEED))
    people = {s.person_id for s in spec.staff}
    for school_class in spec.classes:
        people |= set(school_class.students)
        people |= {parent for parents in school_class.parents for parent in parents}
    assert [person for person, _ in named] == list(dict.fromkeys(p for p, _ in named))
    assert {person for person, _ in named} == people
    assert all(len(name.split()) == 3 for _, name in named)
    assert named == list(school_names(spec, DEMO_SEED))
    assert named != list(school_names(spec, DEMO_SEED + 1))


def test_a_child_takes_the_family_surname_and_the_father_s_patronymic() -> None:
    (spec,) = demo_plan(DEMO_SEED).schools
    names = dict(school_names(spec, DEMO_SEED))
    families = [
        (student, parents)
        for school_class in spec.classes
        for student, parents in zip(school_class.students, school_class.parents, strict=True)
        if len(parents) == 2
    ]
    assert families
    for student, (mother, father) in families:
        child, mother_name, father_name = names[student], names[mother], names[father]
        family, father_first = father_name.split()[:2]
        assert mother_name.split()[0] == family + "а"
        assert child.split()[0] in (family, family + "а")
        woman = child.split()[0].endswith("а")
        assert child.split()[2] == patronymic(father_first, woman=woman)


def test_patronymics_are_made_as_russian_makes_them() -> None:
    assert [patronymic(name, woman=False) for name in ("Расул", "Дмитрий", "Шамиль", "Михаил")] == [
        "Расулович",
        "Дмитриевич",
        "Шамилевич",
        "Михайлович",
    ]
    assert patronymic("Сергей", woman=True) == "Сергеевна"
    assert all(male.endswith("ич") and female.endswith("на") for male, female in MEN.values())
