"""Serving the API with uvicorn: ``serve`` is what ``ejournal serve`` runs.

With ``demo=True`` it first builds the demo school (``generator.demo.run_demo``) in a fresh SQLite
file, signs a checkpoint of each log, gives the demo's people logins, and prints the URL and the
logins. The demo's records are dated in September 2025, so the demo server's clock starts at the end
of the demo week and runs on from there in real time: teachers can keep the journal "today"."""

from __future__ import annotations

import atexit
import gc
import os
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import uvicorn
from fastapi import FastAPI

from ejournal.api.bootstrap import Services, bootstrap
from ejournal.api.workers import serve_workers
from ejournal.generator.demo import YEAR, run_demo
from ejournal.generator.demo_logins import DEMO_PASSWORD, provision_demo_logins
from ejournal.identity.vault import VAULT_KEY_FILE_VARIABLE, VAULT_KEY_VARIABLE, new_key
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer, scheduled_checkpoints
from ejournal.ledger.clock import Clock, ManualClock, system_clock
from ejournal.ledger.keys import PASSPHRASE_VARIABLE, KeyStore
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.settings import Settings
from ejournal.projections.projector import Projector
from ejournal.web.site import create_site
from ejournal.witness.submitter import submitter_from_environment

DEMO_DATABASE = Path("ejournal-demo.db")
FOLLOW_VARIABLE = "EJOURNAL_FOLLOW"
"""0: this process does not run the projector (another process does)."""
DEMO_START = datetime(2025, 9, 1, 5, 0, tzinfo=UTC)


class OffsetClock:
    """Real time, shifted so that it reads ``start`` at the moment it is made."""

    def __init__(self, start: datetime) -> None:
        self._offset = start - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self._offset


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    demo: bool = False,
    workers: int = 1,
    access_log: bool = True,
) -> None:
    """Serve the API on ``host``:``port`` until interrupted.

    ``demo``: build the demo school in a fresh ``ejournal-demo.db`` (in the working directory) and
    serve that, with the logins printed. ``workers`` > 1 runs that many processes (each with its
    own ledger and connection pool and its own listening socket: ``api.workers``), for
    PostgreSQL; it is not combined with ``demo``. ``access_log``: uvicorn logs each request.
    Raises ``LedgerError`` if the database cannot be opened, ``VaultError`` for a malformed key,
    ``ServeError`` if the workers cannot start.
    """
    if workers > 1 and not demo:
        _serve_workers(settings, host=host, port=port, workers=workers, access_log=access_log)
        return
    environ = dict(os.environ)
    clock: Clock = system_clock
    school: UUID | None = None
    if demo:
        settings, clock, school = _build_demo(settings, environ)
    services = bootstrap(settings, clock=clock, environ=environ)
    try:
        if school is not None:
            _introduce_demo(services, school, host, port)
        else:
            print(
                f"ejournal: serving {_redacted(settings.database_url)} at http://{host}:{port}/docs"
            )
        app = create_site(services)
        _settle_start_up()
        uvicorn.run(app, host=host, port=port, log_level="info", access_log=access_log)
    finally:
        services.close()


def create_app_from_environment() -> FastAPI:
    """The app for ``uvicorn --factory web.server:create_app_from_environment`` (worker
    processes): settings from the environment, services closed when the process exits."""
    # The projector may run elsewhere (the supervisor, or `ejournal project --follow`): two
    # processes projecting the same pages both do the work and one of them throws it away.
    follow = os.environ.get(FOLLOW_VARIABLE, "1") != "0"
    services = bootstrap(Settings.from_environment(), follow=follow)
    atexit.register(services.close)
    app = create_site(services)
    _settle_start_up()
    return app


def _settle_start_up() -> None:
    """Exempt what the server made at start-up (modules, routes, schemas: some 137,000 objects)
    from Python's cyclic garbage collector, which would walk them all again at every full
    collection: 80 ms idle and 100–230 ms under load on the benchmark machine, while every
    request of the process waits. They live as long as the process; refcounting still frees
    whatever of them is let go."""
    gc.collect()
    gc.freeze()


def _serve_workers(
    settings: Settings, *, host: str, port: int, workers: int, access_log: bool
) -> None:
    # The supervisor projects and signs due checkpoints; the workers only serve (one projector
    # and one checkpoint schedule per database suffice).
    os.environ["EJOURNAL_DATABASE_URL"] = settings.database_url
    os.environ["EJOURNAL_ORIGIN"] = settings.origin
    os.environ[FOLLOW_VARIABLE] = "0"
    ledger = Ledger(database_url=settings.database_url)
    projector = Projector(ledger)
    projector.start()
    submitter = submitter_from_environment(ledger.database, clock=ledger.clock)
    checkpoints = scheduled_checkpoints(
        ledger.database,
        settings,
        clock=ledger.clock,
        after_signing=submitter.submit_due if submitter is not None else None,
    )
    if checkpoints is not None:
        checkpoints.start()
    try:
        print(
            f"ejournal: serving {_redacted(settings.database_url)} at http://{host}:{port}/docs "
            f"with {workers} workers"
        )
        serve_workers(
            "ejournal.web.server:create_app_from_environment",
            host=host,
            port=port,
            workers=workers,
            access_log=access_log,
        )
    finally:
        if checkpoints is not None:
            checkpoints.stop()
        projector.stop()
        ledger.close()


def _build_demo(settings: Settings, environ: dict[str, str]) -> tuple[Settings, Clock, UUID]:
    """Build the demo school in a fresh file; returns the settings and clock to serve it with,
    and the school (``environ`` gains the keys the demo needs)."""
    for stale in (DEMO_DATABASE, Path(f"{DEMO_DATABASE}-wal"), Path(f"{DEMO_DATABASE}-shm")):
        stale.unlink(missing_ok=True)
    settings = replace(settings, database_url=f"sqlite:///{DEMO_DATABASE}")
    clock = ManualClock(DEMO_START)
    ledger = Ledger(database_url=settings.database_url, clock=clock)
    try:
        summary = run_demo(ledger, clock)
        print(summary.describe())
        # Signed checkpoints, so that receipts can be asked for; the key is sealed with the
        # configured passphrase, or "demo".
        secret = environ.get(PASSPHRASE_VARIABLE, "demo").encode()
        environ.setdefault(PASSPHRASE_VARIABLE, secret.decode())
        store = KeyStore(ledger.database, clock=clock)
        store.create(settings.origin, secret)
        checkpointer = Checkpointer(
            ledger.database,
            origin=settings.origin,
            signers=store.signers(secret),
            verifiers=store.verifiers(),
            clock=clock,
        )
        with ledger.database.transaction(write=False) as cursor:
            cursor.execute(f"SELECT DISTINCT log_id FROM {EVENTS_TABLE} ORDER BY log_id")
            logs = [row[0] for row in cursor.fetchall()]
        for log_id in logs:
            checkpointer.checkpoint(log_id)
        demo_end = clock()
    finally:
        ledger.close()
    if not environ.get(VAULT_KEY_VARIABLE) and not environ.get(VAULT_KEY_FILE_VARIABLE):
        # An ephemeral key: the demo's personal data lives only as long as this process.
        environ[VAULT_KEY_VARIABLE] = new_key()
    return settings, OffsetClock(demo_end + timedelta(minutes=1)), summary.school_id


def _introduce_demo(services: Services, school: UUID, host: str, port: int) -> None:
    logins = provision_demo_logins(services.ledger, services.auth, services.vault, school, YEAR)
    url = f"http://{host}:{port}"
    lines = [
        "",
        f"ejournal demo: {url}/  (school {school}, year {YEAR}/{YEAR + 1}; the API: {url}/docs)",
        f"  the server's clock reads {services.ledger.clock():%Y-%m-%d %H:%M} UTC and runs on",
        f"  every login's password: {DEMO_PASSWORD}",
    ]
    lines += [f"    {login.login:<14} {login.who}" for login in logins]
    lines.append(
        f"  e.g. curl -s -X POST {url}/auth/login -H 'Content-Type: application/json' "
        f'-d \'{{"login": "roditel", "password": "{DEMO_PASSWORD}"}}\''
    )
    print("\n".join(lines), file=sys.stdout, flush=True)


def _redacted(url: str) -> str:
    """The database URL without its password, for the terminal."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}@{host}"
