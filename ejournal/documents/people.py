"""People on a printout: full names from the vault (``Names``), a short ID where the vault has
none, pupils in the order of a class list, teachers with initials where space is short."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from uuid import UUID

Names = Callable[[UUID], str | None]
"""A person's full name as entered (surname first), from the personal-data vault; None when the
vault has none (no key, or a person it does not hold)."""


def display_name(person_id: UUID | str, names: Names | None) -> str:
    """The person's full name, or ``ID …1a2b3c`` when the vault has none. Raises nothing."""
    person = UUID(str(person_id))
    name = names(person) if names is not None else None
    return name or f"ID …{person.hex[-6:]}"


def class_list(people: Iterable[str], names: Mapping[str, str]) -> list[str]:
    """Person IDs in the order of a class list: by surname and name as shown (ё as е), those
    shown by a short ID last, then by ID. Raises nothing."""

    def key(person: str) -> tuple[bool, str, str]:
        name = names.get(person, "")
        unnamed = not name or name.startswith("ID …")
        return unnamed, "" if unnamed else name.casefold().replace("ё", "е"), person

    return sorted(people, key=key)


def with_initials(full_name: str) -> str:
    """«Петрова Анна Сергеевна» → «Петрова А. С.», as a diary names a teacher; a short ID or a
    single word is left as it is. Raises nothing."""
    parts = full_name.split()
    if len(parts) < 2 or full_name.startswith("ID …"):
        return full_name
    initials = " ".join(
        "-".join(f"{piece[0].upper()}." for piece in part.split("-") if piece)
        for part in parts[1:3]
    )
    return f"{parts[0]} {initials}"
