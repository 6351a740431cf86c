"""Columns and readings several sheet kinds share: a person's details, dates."""

from __future__ import annotations

from ejournal.exchange.cells import day, email, phone
from ejournal.exchange.people import Details
from ejournal.exchange.sheet import Column, Row

BIRTH_DATE = Column("birth_date", "Дата рождения", ("birth date", "date of birth", "д р"))
EMAIL = Column("email", "E-mail", ("email", "e mail", "электронная почта", "эл почта", "почта"))
PHONE = Column("phone", "Телефон", ("phone", "телефон мобильный", "мобильный телефон"))
CLASS = Column("class", "Класс", ("class", "form"), required=True)
SUBJECT = Column("subject", "Предмет", ("subject",), required=True)
GROUP = Column("group", "Группа", ("group", "подгруппа"))


def details(row: Row) -> Details:
    """The row's date of birth, e-mail and phone, each where given (a bad one is a problem)."""
    return Details(
        birth_date=row.read(BIRTH_DATE.key, day),
        email=row.read(EMAIL.key, email),
        phone=row.read(PHONE.key, phone),
    )


def name_parts(full_name: str) -> list[str]:
    """Surname, first name and patronymic of a full name, as three cells (the rest of a long
    patronymic or a double name stays in the last)."""
    parts = full_name.split(" ", 2)
    return parts + [""] * (3 - len(parts))
