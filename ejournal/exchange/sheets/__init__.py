"""The sheet kinds an import reads and the set-up export writes, in the order they apply.

Adding a kind is one module that declares a ``SheetKind`` (its title, columns, ``plan`` of its
rows into commands, and ``rows`` for the export) and one line here.
"""

from __future__ import annotations

from ejournal.exchange.sheet import SheetKind
from ejournal.exchange.sheets.assignments import ASSIGNMENTS
from ejournal.exchange.sheets.classes import CLASSES
from ejournal.exchange.sheets.parents import PARENTS
from ejournal.exchange.sheets.plans import PLANS
from ejournal.exchange.sheets.pupils import PUPILS
from ejournal.exchange.sheets.staff import STAFF
from ejournal.exchange.sheets.subjects import SUBJECTS
from ejournal.exchange.sheets.timetable import TIMETABLE

KINDS: tuple[SheetKind, ...] = (
    SUBJECTS,
    STAFF,
    CLASSES,
    PUPILS,
    PARENTS,
    ASSIGNMENTS,
    TIMETABLE,
    PLANS,
)
"""Every kind, in the order an import applies them (``SheetKind.order``)."""


def kind_named(name: str) -> SheetKind | None:
    """The kind called ``name`` (``pupils``) or titled so («Ученики»)."""
    return next((k for k in KINDS if k.named(name)), None)


__all__ = ["KINDS", "SheetKind", "kind_named"]
