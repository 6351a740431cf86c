"""A served school for API tests, on SQLite and on PostgreSQL (I10).

``world`` is built once per module and backend (building a school and hashing a dozen passwords
with the real Argon2id parameters takes a second or two); tests that change the clock or end
sessions build a ``fresh_world`` of their own.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

with warnings.catch_warnings():
    # Starlette's test client warns that it will move to httpx2; the httpx it uses works.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from ejournal import commands as c
from ejournal.api.app import create_app
from ejournal.api.bootstrap import Services, bootstrap
from ejournal.documents.certify import rest_on_checkpoint
from ejournal.identity.passwords import Argon2Parameters
from ejournal.identity.vault import VAULT_KEY_VARIABLE, new_key
from ejournal.ledger.actor import SYSTEM_ACTOR, Role
from ejournal.ledger.checkpoints import Checkpointer, StoredCheckpoint
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import Account
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.keys import PASSPHRASE_VARIABLE, KeyStore
from ejournal.ledger.settings import Settings
from tests.commands.school import YEAR, TestSchool, build_school, uid
from tests.conftest import BACKENDS, _pg_reachable, create_pg_database, drop_pg_database

PASSWORD = "correct horse battery staple"
QUICK_HASHING = Argon2Parameters(memory_kib=1024, iterations=1)
"""Argon2id as the service runs it, with a thousandth of OWASP's work: a world provisions and logs
in eleven people, and hundreds of worlds are built in a run (``bootstrap`` takes the parameters for
this; ``test_secrets_are_stored_only_as_hashes`` checks the service's own, OWASP's)."""
START = datetime(2025, 9, 1, 6, 0, tzinfo=UTC)
"""09:00 Moscow time on Monday 1 September 2025, as the command tests' school expects."""
DEPLOYMENT_SECRET = "test deployment secret"
"""The secret that seals the deployment's signing key (``sign_checkpoint``): every world is given
it, and a world whose test signs a checkpoint creates the key."""
MAIL_ENVIRON = {
    "EJOURNAL_SMTP_HOST": "127.0.0.1",
    "EJOURNAL_SMTP_PORT": "9",
    "EJOURNAL_SMTP_SECURITY": "none",
}
"""Mail is configured, so its routes answer, but nothing is sent: the worlds do not follow (the
mail tests in tests/mail/ point it at a real SMTP server of their own)."""


@dataclass
class World:
    """The test school behind a live app, with a logged-in session for each role."""

    __test__ = False

    client: TestClient
    services: Services
    clock: ManualClock
    school: TestSchool
    logins: dict[str, str] = field(default_factory=dict)
    """Role name → login."""
    other: TestSchool | None = None
    """A second school (``build_world(second_school=…)``): СОШ № 2, its staff, a student and
    a parent, known as ``head2``, ``deputy2``, ``maths2``, ``russian2``, ``english2``,
    ``student2``, ``parent2``."""
    tokens: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, UUID] = field(default_factory=dict)
    persons: dict[str, UUID] = field(default_factory=dict)
    ids: dict[str, Any] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def login(self, who: str, password: str = PASSWORD) -> str:
        response = self.client.post(
            "/auth/login", json={"login": self.logins[who], "password": password}
        )
        assert response.status_code == 201, response.text
        token: str = response.json()["access_token"]
        self.tokens[who] = token
        return token

    def events(self) -> int:
        with self.services.ledger.database.transaction(write=False) as cursor:
            cursor.execute("SELECT COUNT(*) FROM stored_events")
            return int(cursor.fetchone()[0])


ROLES = (
    "head",
    "deputy",
    "russian",
    "maths",
    "english",
    "student",
    "parent",
    "other_parent",
    "auditor",
    "support",
    "sysadmin",
)
"""Everyone the role × endpoint matrix asks: each a logged-in session. The staff are the test
school's: ``maths`` teaches mathematics in 5«А» and is its class teacher, ``russian`` teaches
Russian in 5«А», ``english`` the English group; ``parent`` is linked to the ``student``."""


def _register(world: World, who: str, login: str, person_id: UUID, grants: list[Any]) -> None:
    ledger = world.services.ledger
    account_id = c.handle(
        c.RegisterAccount(actor=SYSTEM_ACTOR, login=login, person_id=person_id), ledger
    )
    for role, school_id in grants:
        c.handle(
            c.GrantRole(actor=SYSTEM_ACTOR, account_id=account_id, role=role, school_id=school_id),
            ledger,
        )
    world.logins[who] = login
    world.accounts[who] = account_id
    world.persons[who] = person_id


OTHER_ROLES = ("head2", "deputy2", "maths2", "russian2", "english2", "student2", "parent2")
"""The people of the second school (``build_world(second_school=OTHER_ROLES)``): its staff, as in
the first, the first of its students and that student's parent (``uid(15001)``)."""


def build_world(
    database_url: str,
    *,
    roles: tuple[str, ...] = ROLES,
    environ: dict[str, str] | None = None,
    second_school: tuple[str, ...] = (),
    hashing: Argon2Parameters | None = QUICK_HASHING,
) -> World:
    """The test school behind a live app, ``roles`` logged in; with ``second_school`` (some of
    ``OTHER_ROLES``) СОШ № 2 beside it too, those of its people logged in. ``hashing``: None for
    the service's own password hashing."""
    clock = ManualClock(START)
    services = bootstrap(
        Settings(database_url=database_url),
        clock=clock,
        environ={
            VAULT_KEY_VARIABLE: new_key(),
            PASSPHRASE_VARIABLE: DEPLOYMENT_SECRET,
            **MAIL_ENVIRON,
            **(environ or {}),
        },
        follow=False,
        **({} if hashing is None else {"hashing": hashing}),
    )
    school = build_school(services.ledger)
    client = TestClient(create_app(services), raise_server_exceptions=False)
    world = World(client=client, services=services, clock=clock, school=school)
    s = school.school_id
    for who in ("head", "deputy", "maths", "russian", "english"):
        world.logins[who] = who
        world.accounts[who] = Account.create_id(login=who)
        world.persons[who] = school.person[who]
    student = school.students[0]
    _register(world, "student", "student", student, [(Role.STUDENT, s)])
    _register(world, "parent", "parent", uid(5001), [(Role.PARENT, s)])
    _register(world, "other_parent", "other.parent", uid(5002), [(Role.PARENT, s)])
    _register(world, "auditor", "auditor", uid(5003), [(Role.AUDITOR, None)])
    _register(world, "support", "support", uid(5004), [(Role.SUPPORT, None)])
    _register(world, "sysadmin", "sysadmin", uid(5005), [(Role.SYSTEM_ADMIN, None)])
    c.handle(
        c.LinkParent(
            actor=school.head,
            school_id=s,
            year_start=YEAR,
            student_id=student,
            parent_id=uid(5001),
        ),
        services.ledger,
    )
    if second_school:
        roles = (*roles, *second_school)
        _second_school(world)
    for who in roles:
        services.auth.provision(world.accounts[who], PASSWORD)
    world.ids.update(
        school=s,
        klass=school.class_id,
        group=school.group_id,
        student=student,
        maths=school.subjects["Математика"],
        russian=school.subjects["Русский язык"],
        english=school.subjects["Английский язык"],
        answer=school.work_types["Ответ на уроке"],
    )
    client.__enter__()
    for who in roles:
        world.login(who)
    return world


def sign_checkpoint(world: World, school: TestSchool | None = None) -> StoredCheckpoint:
    """Sign a checkpoint of the school's year (the first school's by default), creating the
    deployment's signing key first if the world has none: printouts on request rest on it and
    are sealed with that key."""
    database = world.services.ledger.database
    keys = KeyStore(database, clock=world.clock)
    try:
        signers = keys.signers(DEPLOYMENT_SECRET.encode())
    except LedgerError:
        keys.create(world.services.settings.origin, DEPLOYMENT_SECRET.encode())
        signers = keys.signers(DEPLOYMENT_SECRET.encode())
    checkpointer = Checkpointer(
        database,
        origin=world.services.settings.origin,
        signers=signers,
        verifiers=keys.verifiers(),
        clock=world.clock,
    )
    return rest_on_checkpoint(checkpointer, (school or world.school).log_id)


def _second_school(world: World) -> None:
    """СОШ № 2 beside the first, with IDs of its own (``build_school(number=2)``)."""
    ledger = world.services.ledger
    other = build_school(ledger, number=2)
    world.other = other
    for who in ("head", "deputy", "maths", "russian", "english"):
        world.logins[who + "2"] = who + "2"
        world.accounts[who + "2"] = Account.create_id(login=who + "2")
        world.persons[who + "2"] = other.person[who]
    s = other.school_id
    student = other.students[0]
    _register(world, "student2", "student2", student, [(Role.STUDENT, s)])
    _register(world, "parent2", "parent2", uid(15001), [(Role.PARENT, s)])
    c.handle(
        c.LinkParent(
            actor=other.head, school_id=s, year_start=YEAR, student_id=student, parent_id=uid(15001)
        ),
        ledger,
    )


@pytest.fixture(scope="module", params=BACKENDS)
def backend_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh database per module and backend."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("api") / "ejournal.db"
        yield f"sqlite:///{path}"
        return
    if (reason := _pg_reachable()) is not None:
        pytest.skip(f"PostgreSQL not reachable: {reason}")
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(scope="module")
def world(backend_url: str) -> Iterator[World]:
    built = build_world(backend_url)
    try:
        yield built
    finally:
        built.client.__exit__(None, None, None)
        built.services.close()


@pytest.fixture
def fresh_world(database_url: str) -> Iterator[World]:
    """A world of its own for one test (both backends, via ``database_url``)."""
    built = build_world(
        database_url, roles=("head", "russian", "maths", "parent", "support", "student")
    )
    try:
        yield built
    finally:
        built.client.__exit__(None, None, None)
        built.services.close()
