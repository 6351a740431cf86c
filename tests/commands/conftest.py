"""A school on each backend (the ``ledger`` fixture runs every test on both): a test that asks
for ``school`` starts from a copy of a database in which ``build_school`` ran."""

from __future__ import annotations

import pytest

from ejournal.ledger.application import Ledger
from tests.commands.school import TestSchool, school_in, school_template
from tests.databases import Template, Templates


@pytest.fixture
def database_template(
    request: pytest.FixtureRequest, templates: Templates
) -> Template[TestSchool] | None:
    """The built school for a test of it, else an empty database."""
    return school_template(templates) if "school" in request.fixturenames else None


@pytest.fixture
def school(ledger: Ledger, database_template: Template[TestSchool] | None) -> TestSchool:
    assert database_template is not None
    return school_in(database_template, ledger)
