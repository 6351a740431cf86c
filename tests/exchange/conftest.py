"""A school to import into, on each backend: the command tests' school (5«А» with six pupils,
mathematics, Russian and English, an English group), a personal-data vault, and read models."""

from __future__ import annotations

import secrets

import pytest

from ejournal.exchange.importer import Importer
from ejournal.identity.tables import create_identity_tables
from ejournal.identity.vault import Vault
from ejournal.ledger.application import Ledger
from ejournal.projections import Projector
from tests.commands.school import TestSchool, build_school


@pytest.fixture
def vault(ledger: Ledger) -> Vault:
    create_identity_tables(ledger.database)
    return Vault(ledger.database, secrets.token_bytes(32))


@pytest.fixture
def school(ledger: Ledger) -> TestSchool:
    built = build_school(ledger)
    Projector(ledger).catch_up()
    return built


@pytest.fixture
def importer(ledger: Ledger, vault: Vault) -> Importer:
    return Importer(ledger, vault)
