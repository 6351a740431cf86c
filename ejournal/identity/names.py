"""People's names for display (п. 1.7, I9), read from the vault when they are shown.

The ledger and the read models keep person IDs only; whoever shows a person asks here, at the
moment of showing, so that a name changed or forgotten in the vault shows so at the next read.
Who may see a name is the caller's to decide (``api.names``); this module only reads and writes
names down.

How a name is written, as a Russian school writes it (the vault keeps the full name, surname
first: «Иванова Мария Петровна»):

- ``Style.PUPIL``: surname and given name, as a class list has them — «Иванова Мария»;
- ``Style.ADULT``: surname and initials, as a diary names a teacher — «Петрова А. С.»;
- a forgotten person (``Vault.forget``): «данные удалены», in every style;
- a person the vault never held (or held with no name): «имя не внесено».

Printouts take the full name as entered (``Names.full_name``): a certified document must name
the person unambiguously.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from uuid import UUID

from ejournal.identity.vault import Vault

FORGOTTEN = "данные удалены"
"""The name of a person whose data was destroyed (crypto-shredding): the ID stays, the name is
gone for good."""
NOT_ENTERED = "имя не внесено"
"""The name of a person the school has not entered into the vault (yet)."""


class Style(StrEnum):
    """How a name is written."""

    PUPIL = "pupil"
    """«Иванова Мария»: surname and given name."""
    ADULT = "adult"
    """«Петрова А. С.»: surname and initials."""


Wanted = Mapping[UUID, tuple[UUID, Style]]
"""The names a response shows: each ID it shows (a person's, or an account's for who recorded a
value) → the person behind it and how to write them."""


def written(full_name: str, style: Style) -> str:
    """``full_name`` (surname first) in ``style``; ``NOT_ENTERED`` for an empty one."""
    parts = full_name.split()
    if not parts:
        return NOT_ENTERED
    if style is Style.PUPIL:
        return " ".join(parts[:2])
    if len(parts) == 1:
        return parts[0]
    return f"{parts[0]} {' '.join(_initial(part) for part in parts[1:3])}"


def _initial(word: str) -> str:
    """«А.» of «Анна»; «А.-М.» of «Анна-Мария»."""
    return "-".join(f"{piece[0].upper()}." for piece in word.split("-") if piece)


class Names:
    """Names from ``vault``; with no vault (no key-encryption key configured) there are none."""

    def __init__(self, vault: Vault | None) -> None:
        self._vault = vault

    @property
    def vault(self) -> Vault | None:
        return self._vault

    def display(self, wanted: Wanted) -> dict[UUID, str]:
        """The name of each ID of ``wanted``, in its style, all read in one query (or a few);
        empty without a vault. Raises ``VaultError`` for a row the key cannot open."""
        if self._vault is None or not wanted:
            return {}
        return names_of(wanted, self._vault.full_names({p for p, _ in wanted.values()}))

    def full_name(self, person_id: UUID) -> str | None:
        """The full name as entered, for a printout; ``FORGOTTEN`` for a forgotten person; None
        for a person the vault does not hold, or without a vault. Raises ``VaultError``."""
        if self._vault is None:
            return None
        found = self._vault.full_names([person_id])
        if person_id not in found:
            return None
        name = found[person_id]
        return FORGOTTEN if name is None else name.strip() or None


def names_of(wanted: Wanted, full_names: Mapping[UUID, str | None]) -> dict[UUID, str]:
    """Each ID of ``wanted`` written from ``full_names`` (``Vault.full_names``: None for a
    forgotten person, absent for one never stored)."""
    shown = {}
    for shown_id, (person_id, style) in wanted.items():
        if person_id not in full_names:
            shown[shown_id] = NOT_ENTERED
        else:
            name = full_names[person_id]
            shown[shown_id] = FORGOTTEN if name is None else written(name, style)
    return shown
