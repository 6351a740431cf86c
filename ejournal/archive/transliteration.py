"""ASCII file names for a school's documents inside an archive: Cyrillic class letters
transliterated by ГОСТ 7.79-2000, system B, so that every file system and BagIt tool reads them.
"""

from __future__ import annotations

from types import MappingProxyType

_CYRILLIC = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
_LATIN = "A B V G D E YO ZH Z I J K L M N O P R S T U F X CZ CH SH SHH _ Y _ E YU YA"
_TRANSLIT = MappingProxyType(dict(zip(_CYRILLIC, _LATIN.split(), strict=True)))


def class_file_stem(grade: int, letter: str) -> str:
    """An ASCII file stem for a class: ``05-A`` for 5«А» (ГОСТ 7.79-2000, system B). Raises
    nothing."""
    return f"{grade:02d}-{_translit(letter)}"


def _translit(text: str) -> str:
    out = "".join(_TRANSLIT.get(char.upper(), char) for char in text)
    return "".join(char for char in out if char.isascii() and char.isalnum()) or "X"
