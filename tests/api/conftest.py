"""A served school for API tests, on SQLite and on PostgreSQL (I10).

``world`` is one per module and backend; tests that change the clock or end sessions get a
``fresh_world`` of their own. Either is opened on a copy of a database in which ``build_world``
ran once in the session (``world_template``, tests/databases.py): the copy has the school, the
accounts, their credentials and the logged-in sessions, and its services start as a restarted
server's do, with empty caches.
"""

from __future__ import annotations

import copy
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
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
from tests.commands.school import START, YEAR, TestSchool, build_school, uid
from tests.conftest import BACKENDS, _pg_reachable
from tests.databases import Template, Templates, create_pg_database, drop_pg_database

PASSWORD = "correct horse battery staple"
QUICK_HASHING = Argon2Parameters(memory_kib=1024, iterations=1)
"""Argon2id as the service runs it, with a thousandth of OWASP's work: a world provisions and logs
in eleven people, and hundreds of worlds are built in a run (``bootstrap`` takes the parameters for
this; ``test_secrets_are_stored_only_as_hashes`` checks the service's own, OWASP's)."""
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
    environ: dict[str, str] = field(default_factory=dict)
    """The environment its services were started with (the vault's key among it)."""
    hashing: Argon2Parameters | None = QUICK_HASHING
    """The services' password hashing (None: the service's own)."""

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

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        self.services.close()

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
    environ = {
        VAULT_KEY_VARIABLE: new_key(),
        PASSPHRASE_VARIABLE: DEPLOYMENT_SECRET,
        **MAIL_ENVIRON,
        **(environ or {}),
    }
    services, clock = _serve(database_url, environ, hashing)
    school = build_school(services.ledger)
    client = TestClient(create_app(services), raise_server_exceptions=False)
    world = World(
        client=client,
        services=services,
        clock=clock,
        school=school,
        environ=environ,
        hashing=hashing,
    )
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


def _serve(
    database_url: str, environ: dict[str, str], hashing: Argon2Parameters | None
) -> tuple[Services, ManualClock]:
    clock = ManualClock(START)
    services = bootstrap(
        Settings(database_url=database_url),
        clock=clock,
        environ=environ,
        follow=False,
        **({} if hashing is None else {"hashing": hashing}),
    )
    return services, clock


T = TypeVar("T")


def world_template(
    templates: Templates, *, prepare: Callable[[World], T] | None = None, **options: Any
) -> Template[tuple[World, T | None]]:
    """A database in which ``build_world(url, **options)`` ran, then ``prepare`` (whose result
    the copies get): tests/databases.py. The world it returns is closed; ``open_copy`` serves a
    copy of its database."""
    key = ("world", prepare, *sorted((k, _frozen(v)) for k, v in options.items()))

    def build(url: str) -> tuple[World, T | None]:
        world = build_world(url, **options)
        try:
            return world, None if prepare is None else prepare(world)
        finally:
            world.close()

    return templates.get(key, build)


def _frozen(value: Any) -> Any:
    return tuple(sorted(value.items())) if isinstance(value, dict) else value


def open_copy(built: tuple[World, T], database_url: str) -> tuple[World, T]:
    """The world ``built`` (and what its template's ``prepare`` returned), served from
    ``database_url``, a copy of its database: as ``build_world`` would have left it there, with
    services started afresh, as after a restart."""
    world, prepared = built
    services, clock = _serve(database_url, world.environ, world.hashing)
    client = TestClient(create_app(services), raise_server_exceptions=False)
    # A deep copy, so that a test's logins and IDs stay its own; the services are the copy's.
    memo = {
        id(world.client): client,
        id(world.services): services,
        id(world.clock): clock,
        id(world.services.ledger): services.ledger,
    }
    world, prepared = copy.deepcopy((world, prepared), memo)
    client.__enter__()
    return world, prepared


@contextmanager
def copied_world(
    template: Template[tuple[World, T]], backend: str, folder: Path
) -> Iterator[tuple[World, T]]:
    """A world served from a new copy of ``template``'s database on ``backend`` (SQLite in
    ``folder``), closed and dropped afterwards."""
    if backend == "sqlite":
        path = folder / f"{uuid.uuid4().hex}.db"
        built = template.copy_sqlite(path)
        url = f"sqlite:///{path}"
    else:
        url, built = template.copy_postgres()
    try:
        world, prepared = open_copy(built, url)
        try:
            yield world, prepared
        finally:
            world.close()
    finally:
        if backend == "postgres":
            drop_pg_database(url)


@contextmanager
def world_at(template: Template[tuple[World, Any]], database_url: str) -> Iterator[World]:
    """The world of ``template`` served from ``database_url``, a new copy of its database (made by
    ``database_url`` from ``database_template``); closed afterwards."""
    backend = "sqlite" if database_url.startswith("sqlite") else "postgres"
    world, _ = open_copy(template.result(backend), database_url)
    try:
        yield world
    finally:
        world.close()


@pytest.fixture(scope="module", params=BACKENDS)
def module_backend(request: pytest.FixtureRequest) -> str:
    """The backend of a module's shared databases: each module runs on both."""
    if request.param == "postgres" and (reason := _pg_reachable()) is not None:
        pytest.skip(f"PostgreSQL not reachable: {reason}")
    backend: str = request.param
    return backend


@pytest.fixture(scope="module")
def backend_url(module_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty database per module and backend."""
    if module_backend == "sqlite":
        path: Path = tmp_path_factory.mktemp("api") / "ejournal.db"
        yield f"sqlite:///{path}"
        return
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(scope="module")
def world(
    module_backend: str, templates: Templates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """The module's world (``build_world``'s), on a copy of the session's."""
    with copied_world(
        world_template(templates), module_backend, tmp_path_factory.mktemp("api")
    ) as (built, _):
        yield built


FRESH_ROLES = ("head", "russian", "maths", "parent", "support", "student")


@pytest.fixture
def database_template(
    request: pytest.FixtureRequest, templates: Templates
) -> Template[tuple[World, None]] | None:
    """For a test of a ``fresh_world``, its database is a copy of one where that world was
    built; else it is empty."""
    if "fresh_world" in request.fixturenames:
        return world_template(templates, roles=FRESH_ROLES)
    return None


@pytest.fixture
def fresh_world(
    database_url: str, database_template: Template[tuple[World, None]] | None
) -> Iterator[World]:
    """A world of its own for one test (both backends, via ``database_url``)."""
    assert database_template is not None
    with world_at(database_template, database_url) as built:
        yield built
