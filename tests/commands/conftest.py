"""A freshly built school on each backend (the ``ledger`` fixture runs every test on both)."""

from __future__ import annotations

import pytest

from ejournal.ledger.application import Ledger
from tests.commands.school import TestSchool, build_school


@pytest.fixture
def school(ledger: Ledger) -> TestSchool:
    return build_school(ledger)
