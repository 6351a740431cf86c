"""Reading one cell as a school writes it: text, a date (ДД.ММ.ГГГГ, or an Excel date), a whole
number, a class's name («5А», «5 «А»», «5-а»), an e-mail address. Each reader returns the value or
raises ``CellError`` with the reason in Russian, which the import report shows for that cell.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from ejournal.exchange.files import Cell

_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^0-9a-zа-я]+")
_DOTTED = re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_CLASS = re.compile(r"(\d{1,2})\s*[-–—]?\s*[«\"'“„]?\s*([^\W\d_])\s*[»\"'”]?")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_LATIN_TWINS = str.maketrans("ABCEHKMOPTXY", "АВСЕНКМОРТХУ")
"""Latin capitals that look like Cyrillic ones: «5A» typed in Latin is 5«А»."""


class CellError(Exception):
    """A cell's value cannot be read; ``reason`` says why, in Russian."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def header_key(text: object) -> str:
    """A header as compared: lower case, ё as е, words only («E-mail:» → «e mail»)."""
    folded = str(text or "").casefold().replace("ё", "е")
    return _NOT_WORD.sub(" ", folded).strip()


def name_key(text: str) -> str:
    """A person's or a class's name as compared: case, ё/е and extra blanks do not count."""
    return _SPACES.sub(" ", text.casefold().replace("ё", "е")).strip()


def text(value: Cell) -> str:
    """The cell as text, blanks trimmed ('' for an empty cell); a whole number without «.0»."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y") if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return _SPACES.sub(" ", str(value)).strip()


def day(value: Cell) -> date:
    """A date: an Excel date cell, ДД.ММ.ГГГГ (or Д.М.ГГГГ, ДД/ММ/ГГГГ) or ГГГГ-ММ-ДД."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    written = text(value)
    try:
        if match := _DOTTED.fullmatch(written):
            return date(int(match[3]), int(match[2]), int(match[1]))
        if match := _ISO.fullmatch(written):
            return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise CellError(f"нет такой даты: «{written}»") from None
    raise CellError(f"дата записывается как ДД.ММ.ГГГГ, а не «{written}»")


def whole(value: Cell, *, least: int = 1, most: int | None = None) -> int:
    """A whole number from ``least`` to ``most``."""
    written = text(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        number = int(value)
    elif written.isdigit():
        number = int(written)
    else:
        raise CellError(f"ожидается целое число, а не «{written}»")
    if number < least or (most is not None and number > most):
        upper = f" до {most}" if most is not None else ""
        raise CellError(f"число должно быть от {least}{upper}, а не {number}")
    return number


def class_name(value: Cell) -> tuple[int, str]:
    """A class's parallel and letter: «5А», «5 А», «5-а», «5«А»», «10 "Б"»; a Latin letter that
    looks Cyrillic counts as Cyrillic."""
    written = text(value)
    match = _CLASS.fullmatch(written)
    if match is None:
        raise CellError(f"класс записывается как «5А», а не «{written}»")
    grade = int(match[1])
    if not 1 <= grade <= 11:
        raise CellError(f"параллель класса должна быть от 1 до 11, а не {grade}")
    letter = match[2].upper().translate(_LATIN_TWINS)
    if not "А" <= letter <= "Я" and letter != "Ё":
        raise CellError(f"литера класса — русская буква, а не «{match[2]}»")
    return grade, letter


def written_class(grade: int, letter: str) -> str:
    """A class as a file writes it: «5А»."""
    return f"{grade}{letter}"


def email(value: Cell) -> str:
    written = text(value)
    if not _EMAIL.fullmatch(written):
        raise CellError(f"неверный адрес электронной почты «{written}»")
    return written.casefold()


def phone(value: Cell) -> str:
    """A phone number as written; only its digits are compared (``phone_key``)."""
    written = text(value)
    if sum(ch.isdigit() for ch in written) < 5:
        raise CellError(f"неверный номер телефона «{written}»")
    return written


def phone_key(number: str) -> str:
    digits = "".join(ch for ch in number if ch.isdigit())
    # +7 and 8 in front of a Russian number are the same prefix.
    if len(digits) == 11 and digits[0] in "78":
        return "7" + digits[1:]
    return digits
