"""The demo school served with its pages by a real uvicorn server, for the browser tests.

``demo_template`` runs the demo (a week of September 2025 kept by its teachers, names in the
vault, logins for every role, a signed checkpoint) once per backend and test process; each test
module serves a copy of it (tests/databases.py). The copy's clock reads Monday 15 September 2025,
10:30 in Moscow: the timetable has planned the day's lessons and nothing is written in them yet,
so a teacher has a day to keep."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import httpx
import uvicorn

from ejournal.api.bootstrap import Services, bootstrap
from ejournal.generator.demo import YEAR, run_demo
from ejournal.generator.demo_logins import DEMO_PASSWORD, provision_demo_logins
from ejournal.identity.vault import VAULT_KEY_VARIABLE, new_key
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import Account, Guardianship
from ejournal.ledger.keys import PASSPHRASE_VARIABLE, KeyStore
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.settings import Settings
from ejournal.web.site import create_site
from tests.api.conftest import QUICK_HASHING
from tests.api.processes import free_port
from tests.databases import Template, Templates, drop_pg_database

MONDAY = datetime(2025, 9, 15, 7, 30, tzinfo=UTC)
"""10:30 in Moscow on the Monday after the demo's week."""
DEMO_BUILT = datetime(2025, 9, 1, 5, 0, tzinfo=UTC)
PASSWORD = DEMO_PASSWORD
SECRET = "demo"


@dataclass(frozen=True)
class DemoSchool:
    """What the tests need to know of the demo school."""

    school_id: UUID
    year_start: int
    environ: dict[str, str]
    child: UUID
    """roditel's child (uchenik), in 5«А»."""
    other_child: UUID
    """A pupil of 5«А» who is not roditel's child."""
    logins: dict[str, UUID]
    """Login → account."""


def _build(url: str) -> DemoSchool:
    environ = {VAULT_KEY_VARIABLE: new_key(), PASSPHRASE_VARIABLE: SECRET}
    clock = ManualClock(DEMO_BUILT)
    ledger = Ledger(database_url=url, clock=clock)
    try:
        summary = run_demo(ledger, clock)
        store = KeyStore(ledger.database, clock=clock)
        store.create(Settings().origin, SECRET.encode())
        checkpointer = Checkpointer(
            ledger.database,
            origin=Settings().origin,
            signers=store.signers(SECRET.encode()),
            verifiers=store.verifiers(),
            clock=clock,
        )
        checkpointer.checkpoint(summary.log_id)
        built_at = clock()
    finally:
        ledger.close()
    services = _services(url, environ, ManualClock(built_at))
    try:
        logins = provision_demo_logins(
            services.ledger, services.auth, services.vault, summary.school_id, YEAR
        )
        guardianships = _guardianships(services.ledger)
        child = guardianships[0].student_id
        other = next(g.student_id for g in guardianships if g.student_id != child)
    finally:
        services.close()
    return DemoSchool(
        school_id=summary.school_id,
        year_start=YEAR,
        environ=environ,
        child=child,
        other_child=other,
        logins={login.login: Account.create_id(login=login.login) for login in logins},
    )


def _guardianships(ledger: Ledger) -> list[Guardianship]:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT originator_id FROM {EVENTS_TABLE} WHERE topic LIKE ? ORDER BY log_id, idx",
            ("%:Guardianship.Opened",),
        )
        ids = [UUID(str(row[0])) for row in cursor.fetchall()]
    found = [ledger.find(i, Guardianship) for i in ids]
    return [g for g in found if g is not None]


def _services(
    url: str, environ: dict[str, str], clock: ManualClock, *, follow: bool = False
) -> Services:
    """The services as a server runs them; ``follow``: the projector and the checkpointer work
    in the background."""
    return bootstrap(
        Settings(database_url=url),
        clock=clock,
        environ=environ,
        follow=follow,
        hashing=QUICK_HASHING,
    )


def demo_template(templates: Templates) -> Template[DemoSchool]:
    return templates.get(("web demo",), _build)


@dataclass
class Site:
    """A served copy of the demo school."""

    url: str
    services: Services
    clock: ManualClock
    school: DemoSchool

    def client(self) -> httpx.Client:
        """A client of the site with room for a loaded machine (httpx waits 5 s by default)."""
        return httpx.Client(base_url=self.url, timeout=60)

    def wait_projected(self) -> None:
        projector = self.services.projector
        assert projector is not None
        assert projector.wait_until(projector.head(), timeout=60)


@contextmanager
def served(
    template: Template[DemoSchool],
    backend: str,
    folder: Path,
    *,
    environ: Mapping[str, str] | None = None,
) -> Iterator[Site]:
    """A copy of the demo school on ``backend``, served by uvicorn on a free port, its clock at
    ``MONDAY``; ``environ`` adds settings (an SMTP server's, say) to the school's."""
    if backend == "sqlite":
        path = folder / f"{uuid.uuid4().hex}.db"
        school = template.copy_sqlite(path)
        url = f"sqlite:///{path}"
    else:
        url, school = template.copy_postgres()
    clock = ManualClock(MONDAY)
    services = _services(url, {**school.environ, **(environ or {})}, clock, follow=True)
    port = free_port()
    config = uvicorn.Config(
        create_site(services), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the site did not start"
            time.sleep(0.05)
        site = Site(f"http://127.0.0.1:{port}", services, clock, school)
        site.wait_projected()
        yield site
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        services.close()
        if backend == "postgres":
            drop_pg_database(url)
