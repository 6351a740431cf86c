"""Every rejection code the commands can raise is pinned by at least one test."""

from __future__ import annotations

from pathlib import Path

from ejournal import commands as c

TESTS = Path(__file__).resolve().parents[1]


def test_every_error_code_is_pinned_by_a_test() -> None:
    sources = "".join(
        path.read_text(encoding="utf-8")
        for path in TESTS.rglob("test_*.py")
        if path.name != Path(__file__).name
    )
    unpinned = [code for code in c.CATALOGUE if f'"{code}"' not in sources]
    assert unpinned == []


def test_every_code_has_a_russian_message_and_a_kind() -> None:
    for code, entry in c.CATALOGUE.items():
        assert entry.message and any("а" <= ch <= "я" for ch in entry.message.lower()), code
        assert issubclass(entry.kind, c.CommandError), code
