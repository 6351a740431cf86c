"""The composition root: everything the HTTP layer uses, wired once from ``Settings``.

Nothing else builds a ``Ledger``, an authenticator or a vault for the server; tests wire theirs
the same way (with a manual clock and cheaper password hashing if they wish), so what they test is
what runs.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol
from uuid import UUID

from ejournal.api.freshness import STALL_SECONDS, Freshness, ProjectorPosition
from ejournal.api.printing import Printing
from ejournal.api.reach import RegionReach
from ejournal.api.reads import ReadModels
from ejournal.identity.access_log import AccessLog, GroupedEntries
from ejournal.identity.authenticator import DEFAULT_SESSION_TTL, Authenticator
from ejournal.identity.credentials import CredentialStore, LoginThrottle, ThrottlePolicy
from ejournal.identity.passwords import OWASP, Argon2Parameters
from ejournal.identity.sessions import SessionStore
from ejournal.identity.tables import create_identity_tables
from ejournal.identity.vault import Vault, key_from_environment
from ejournal.ledger.application import Ledger
from ejournal.ledger.async_database import AsyncDatabase
from ejournal.ledger.checkpoints import Checkpointer, CheckpointSchedule
from ejournal.ledger.clock import Clock, system_clock
from ejournal.ledger.config import BadDatabaseURLError
from ejournal.ledger.database import startup_lock
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.keys import KeyStore, secret_from_environment
from ejournal.ledger.logs import school_log_id
from ejournal.ledger.placement import DIRECTORY, PlacementError, Region
from ejournal.ledger.settings import Settings
from ejournal.ledger.working_days import WorkingCalendar
from ejournal.mail.addresses import digest_key
from ejournal.mail.mailer import Mailer
from ejournal.mail.schedule import DigestSchedule
from ejournal.mail.settings import MailSettings
from ejournal.mail.tables import create_mail_tables
from ejournal.projections.projector import Projector
from ejournal.projections.replicas import WAIT_SECONDS as REPLICA_WAIT_SECONDS
from ejournal.projections.replicas import Replicas
from ejournal.projections.storage import TRACKING_QUERY
from ejournal.witness.submitter import submitter_from_environment

SESSION_TTL_VARIABLE = "EJOURNAL_SESSION_TTL_SECONDS"
STALL_VARIABLE = "EJOURNAL_PROJECTOR_STALL_SECONDS"
"""Seconds the read models may stand still behind the ledger before ``/ready`` says not ready."""
REPLICA_WAIT_VARIABLE = "EJOURNAL_REPLICA_WAIT_SECONDS"
"""Seconds a read waits for a replica to replay as far as it must see, before it reads the
primary."""

log = logging.getLogger("ejournal.api")


class BackgroundProjector(ProjectorPosition, Protocol):
    """What the server needs of the projector: start it, stop it, ask whether it runs, and read
    its progress (``api.freshness``)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


@dataclass(kw_only=True)
class Services:
    """The server's dependencies; ``close`` releases them."""

    settings: Settings
    ledger: Ledger
    auth: Authenticator
    access_log: AccessLog
    vault: Vault | None
    """None when no key-encryption key is configured: personal data is then refused (503)."""
    reads: ReadModels
    printing: Printing
    """The seal and the signed checkpoints of printouts on request (п. 1.6, 2.9, 3.1)."""
    aio: AsyncDatabase | None = None
    """The statements requests run on the event loop (PostgreSQL); None on SQLite."""
    diary_log: GroupedEntries | None = None
    """The access log of diaries read on the event loop, with the read models' version (with
    ``aio``)."""
    projector: BackgroundProjector | None = None
    freshness: Freshness | None = None
    """How far the read models are projected: reads wait for their caller's writes, and
    ``/ready`` asks whether they follow the ledger. None without a projector."""
    checkpoints: CheckpointSchedule | None = None
    """Signs due checkpoints in the background; None without a signing key and its secret."""
    mail: Mailer | None = None
    """Parents' e-mail (п. 1.6) of the schools on this server; None without an SMTP server
    (``EJOURNAL_SMTP_HOST``) or a vault."""
    mail_schedule: DigestSchedule | None = None
    """Plans the weekly digest and delivers this server's outbox in the background."""
    follow: bool = True
    """Whether the projector follows the ledger in the background while the app runs."""
    region: Region | None = None
    """Schools placed on servers (``ledger.placement``): each server has services of its own
    (``cell``), which share these ones' identity, vault and access log. None: one database."""
    server: str = DIRECTORY
    """The server whose ledger and read models these services use."""
    new_cell: Callable[[str, Ledger], Services] | None = None
    """Builds a server's services from its ledger (the directory's services only)."""
    closed: bool = field(default=False, init=False)
    started: bool = field(default=False, init=False)
    _cells: dict[str, Services] = field(default_factory=dict, init=False)
    _cells_lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    # --- a region's servers ------------------------------------------------------------------

    def cell(self, server: str) -> Services:
        """The services of ``server``: these ones for the directory. Raises ``PlacementError``
        for an unknown server (any other, without a region) and ``ServerUnavailableError``
        (503) for one that cannot be reached: only its schools' requests fail."""
        if server == DIRECTORY:
            return self
        if self.region is None:
            raise PlacementError(f"no server named {server!r}: there is one database")
        cell = self._cells.get(server)
        if cell is not None:
            return cell
        with self._cells_lock:
            cell = self._cells.get(server)
            if cell is None:
                assert self.new_cell is not None
                cell = self.new_cell(server, self.region.ledger(server))
                self._cells[server] = cell
                if self.started:
                    cell.start()
        return cell

    def for_school(self, school_id: UUID) -> Services:
        """The services of the server that holds ``school_id`` (its logs not placed apart)."""
        if self.region is None:
            return self
        return self.cell(self.region.placement.server_of(school_id))

    def for_year(self, school_id: UUID, year_start: int) -> Services:
        """The services of the server that holds ``school_id``'s school year ``year_start``: a
        closed year may be placed apart from its school (an archive server)."""
        return self.for_log(school_log_id(school_id, year_start))

    def for_log(self, log_id: str) -> Services:
        """The services of the server that holds log ``log_id``."""
        if self.region is None:
            return self
        return self.cell(self.region.placement.server_of_log(log_id))

    def locating(self, record_id: UUID) -> Services:
        """The services of the server that holds record ``record_id`` (a lesson, a class …):
        its log's; the directory's if no server has it: it is then not found there either."""
        if self.region is None:
            return self
        log_id = self.region.locate(record_id)
        return self if log_id is None else self.for_log(log_id)

    def cells(self) -> list[Services]:
        """These services and every server's opened so far."""
        return [self, *self._cells.values()]

    def copies(self, server: str) -> dict[str, str]:
        """The logs whose copy ``server`` holds while they live on another server, and that
        server (a move's source keeps one, fenced: ``Region.copies``). What gathers every
        server's logs, their checkpoints or their operations leaves these out: each log is
        reported once, by the server it lives on."""
        if self.region is None:
            return {}
        return self.region.copies(server)

    @property
    def servers(self) -> list[str]:
        """Every server's name, the directory first (the directory alone without a region):
        ``cell`` of each opens the ones not opened so far, or says which is down."""
        return [DIRECTORY] if self.region is None else self.region.names

    def by_server(self, school_ids: Iterable[UUID]) -> list[tuple[Services, list[UUID]]]:
        """``school_ids`` grouped by the services of their servers. A server that is down is
        left out (logged): what a caller reaches in other schools is still shown."""
        groups: dict[str, tuple[Services, list[UUID]]] = {}
        for school_id in school_ids:
            try:
                cell = self.for_school(school_id)
            except LedgerError as e:
                log.warning("school %s is left out: %s", school_id, e)
                continue
            groups.setdefault(cell.server, (cell, []))[1].append(school_id)
        return list(groups.values())

    def reach(self) -> RegionReach:
        """What a person reaches (``projections.reach``), read on each school's server."""
        return RegionReach(self)

    def start(self) -> None:
        self.started = True
        for cell in self._cells.values():
            cell.start()
        if self.follow and self.projector is not None and not self.projector.running:
            self.projector.start()
        if self.follow and self.checkpoints is not None and not self.checkpoints.running:
            self.checkpoints.start()
        if self.follow and self.mail_schedule is not None and not self.mail_schedule.running:
            self.mail_schedule.start()

    def stop(self) -> None:
        self.started = False
        for cell in self._cells.values():
            cell.stop()
        if self.projector is not None and self.projector.running:
            self.projector.stop()
        if self.checkpoints is not None and self.checkpoints.running:
            self.checkpoints.stop()
        if self.mail_schedule is not None and self.mail_schedule.running:
            self.mail_schedule.stop()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.stop()
        for cell in self._cells.values():
            cell.reads.close()
        if self.region is not None:
            self.region.close()
        self.reads.close()
        self.ledger.close()

    def database_reachable(self) -> bool:
        try:
            with self.ledger.database.transaction(write=False) as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except Exception:  # any failure means "not ready"; /ready reports it, it does not raise
            return False
        return True


def bootstrap(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    environ: Mapping[str, str] = os.environ,
    hashing: Argon2Parameters = OWASP,
    throttle: ThrottlePolicy | None = None,
    session_ttl: timedelta | None = None,
    follow: bool = True,
) -> Services:
    """Build the server's services from ``settings`` and the environment.

    The vault's key-encryption key comes from ``EJOURNAL_VAULT_KEY`` (base64) or
    ``EJOURNAL_VAULT_KEY_FILE``; the session lifetime from ``EJOURNAL_SESSION_TTL_SECONDS``.
    The working-day calendar of breach reports (п. 4.3) adds ``EJOURNAL_HOLIDAYS`` and
    ``EJOURNAL_WORKING_WEEKENDS``; how long the read models may stand still behind the ledger
    before the server is not ready, ``EJOURNAL_PROJECTOR_STALL_SECONDS``. ``follow=False`` keeps
    the projector from following the ledger in the background: tests then drive it themselves
    (``services.projector.catch_up()``). Printouts on request are sealed with the signing keys
    of ``EJOURNAL_KEY_PASSPHRASE`` or ``EJOURNAL_KEY_FILE``. Raises ``LedgerError`` if the
    database cannot be opened, ``VaultError`` for a malformed vault key, ``CalendarError`` for a
    malformed calendar setting and ``ValueError`` for a malformed number of seconds. The
    read models' replicas are ``settings.replica_urls``, waited for up to
    ``EJOURNAL_REPLICA_WAIT_SECONDS`` (``BadDatabaseURLError`` for a replica's URL that is not
    PostgreSQL's, or replicas of a SQLite ledger).
    """
    calendar = WorkingCalendar.from_settings(environ)
    stall_seconds = _seconds(environ, STALL_VARIABLE, STALL_SECONDS)
    replica_wait = _seconds(environ, REPLICA_WAIT_VARIABLE, REPLICA_WAIT_SECONDS)
    ledger = Ledger(database_url=settings.database_url, clock=clock, calendar=calendar)
    try:
        database = ledger.database
        replicas = None
        if settings.replica_urls:
            if database.dialect != "postgres":
                raise BadDatabaseURLError(
                    "replicas (EJOURNAL_REPLICA_URLS) need a PostgreSQL ledger"
                )
            replicas = Replicas(
                settings.replica_urls, database, clock=clock, wait_seconds=replica_wait
            )
        with startup_lock(database):
            create_identity_tables(database)
            create_mail_tables(database)
            projector = Projector(ledger)
            printing = Printing(database, origin=settings.origin, environ=environ)
        if session_ttl is None:
            seconds = environ.get(SESSION_TTL_VARIABLE)
            session_ttl = timedelta(seconds=int(seconds)) if seconds else DEFAULT_SESSION_TTL
        auth = Authenticator(
            ledger,
            CredentialStore(database),
            SessionStore(database),
            LoginThrottle(database, throttle or ThrottlePolicy()),
            session_ttl=session_ttl,
            hashing=hashing,
        )
        kek = key_from_environment(environ)
        if kek is None:
            log.warning("no EJOURNAL_VAULT_KEY: personal data cannot be stored or read")
        vault = Vault(database, kek) if kek is not None else None
        access_log = AccessLog(database)
        mail_for = _mail_service(vault, kek, access_log, environ)
        mail = mail_for(ledger) if mail_for is not None else None
        aio = AsyncDatabase.beside(database)
        unknown = {name for name, _ in settings.server_replicas} - set(dict(settings.servers))
        if unknown:
            raise BadDatabaseURLError(
                f"EJOURNAL_REPLICA_URLS names server {sorted(unknown)[0]!r}, "
                "which EJOURNAL_SERVERS does not"
            )
        region = Region(ledger, dict(settings.servers)) if settings.servers else None
        services = Services(
            settings=settings,
            ledger=ledger,
            auth=auth,
            access_log=access_log,
            vault=vault,
            reads=ReadModels(ledger, replicas),
            printing=printing,
            aio=aio,
            diary_log=GroupedEntries(aio, TRACKING_QUERY) if aio is not None else None,
            projector=projector,
            freshness=Freshness(projector, aio, stall_seconds=stall_seconds),
            checkpoints=_checkpoint_schedule(settings, ledger, environ),
            mail=mail,
            mail_schedule=_digest_schedule(mail),
            follow=follow,
            region=region,
        )
        if region is not None:
            services.new_cell = lambda server, cell_ledger: _cell(
                services, server, cell_ledger, environ, stall_seconds, replica_wait, mail_for
            )
            _open_cells(services)
        return services
    except BaseException:
        ledger.close()
        raise


def _cell(
    directory: Services,
    server: str,
    ledger: Ledger,
    environ: Mapping[str, str],
    stall_seconds: float,
    replica_wait: float,
    mail_for: Callable[[Ledger], Mailer] | None,
) -> Services:
    """The services of a region's ``server``: its ledger, read models (on its hot standbys,
    ``name=URL`` in ``EJOURNAL_REPLICA_URLS``), projector, checkpoints and mail service (its
    subscriptions, outbox and link tokens in its database; ``mail_for``), with the directory's
    identity, vault, access log and signing keys. Its reads take the thread path (no statements
    on the event loop: those read the access log and the read models' position in one round
    trip, and here they are two databases)."""
    projector = Projector(ledger)
    mail = None
    if mail_for is not None:
        with startup_lock(ledger.database):
            create_mail_tables(ledger.database)
        mail = mail_for(ledger)
    urls = tuple(url for name, url in directory.settings.server_replicas if name == server)
    clock = ledger.clock
    replicas = (
        Replicas(urls, ledger.database, clock=clock, wait_seconds=replica_wait) if urls else None
    )
    keys = directory.ledger.database
    return Services(
        settings=directory.settings,
        ledger=ledger,
        auth=directory.auth,
        access_log=directory.access_log,
        vault=directory.vault,
        reads=ReadModels(ledger, replicas),
        printing=Printing(
            ledger.database, origin=directory.settings.origin, environ=environ, keys=keys
        ),
        projector=projector,
        freshness=Freshness(projector, None, stall_seconds=stall_seconds),
        checkpoints=_checkpoint_schedule(directory.settings, ledger, environ),
        mail=mail,
        mail_schedule=_digest_schedule(mail),
        follow=directory.follow,
        server=server,
    )


def _open_cells(services: Services) -> None:
    """Open every server's services now, so that a request finds them ready; one that cannot be
    reached is logged and tried again when a request needs it."""
    assert services.region is not None
    for server in services.region.names[1:]:
        try:
            services.cell(server)
        except LedgerError as e:
            log.warning("server %s is unavailable for now: %s", server, e)


def _seconds(environ: Mapping[str, str], variable: str, default: float) -> float:
    """Positive seconds from ``environ``, ``default`` if unset; raises ``ValueError``."""
    text = environ.get(variable)
    if not text:
        return default
    seconds = float(text)
    if not 0 < seconds < float("inf"):
        raise ValueError(f"{variable} must be a positive number of seconds, not {text!r}")
    return seconds


def _checkpoint_schedule(
    settings: Settings, ledger: Ledger, environ: Mapping[str, str]
) -> CheckpointSchedule | None:
    """Due checkpoints signed in the background (I5), if a signing key can be unsealed."""
    # A region's servers sign with the directory's keys: one deployment, one key.
    keys = KeyStore((ledger.directory or ledger).database, clock=ledger.clock)
    try:
        signers = keys.signers(secret_from_environment(environ))
    except LedgerError as e:
        log.warning("checkpoints are not signed automatically: %s", e)
        return None
    checkpointer = Checkpointer(
        ledger.database,
        origin=settings.origin,
        signers=signers,
        verifiers=keys.verifiers(),
        clock=ledger.clock,
        every_entries=settings.checkpoint_every_entries,
        every_seconds=settings.checkpoint_every_seconds,
    )
    submitter = submitter_from_environment(ledger.database, environ, clock=ledger.clock)
    return CheckpointSchedule(
        checkpointer, after_signing=submitter.submit_due if submitter is not None else None
    )


def _mail_service(
    vault: Vault | None, kek: bytes | None, access_log: AccessLog, environ: Mapping[str, str]
) -> Callable[[Ledger], Mailer] | None:
    """How a ledger's mail service (п. 1.6) is built, if an SMTP server is configured and
    addresses can be kept in the vault: the directory's and, in a region, each server's, with
    the same settings, the directory's vault and address key, and the directory's access log.
    Raises ``MailSettingsError`` for a malformed setting."""
    settings = MailSettings.from_environment(environ)
    if settings is None:
        return None
    if vault is None or kek is None:
        log.warning("EJOURNAL_SMTP_HOST is set but there is no vault key: e-mail is off")
        return None
    key = digest_key(kek)
    return lambda ledger: Mailer(
        ledger, settings, vault=vault, address_key=key, access_log=access_log
    )


def _digest_schedule(mail: Mailer | None) -> DigestSchedule | None:
    """The weekly digest planned and the outbox delivered in the background, if mail is on."""
    if mail is None:
        return None
    return DigestSchedule(mail.planner, mail.delivery, poll_seconds=mail.settings.poll_seconds)
