"""The composition root: everything the HTTP layer uses, wired once from ``Settings``.

Nothing else builds a ``Ledger``, an authenticator or a vault for the server; tests wire theirs
the same way (with a manual clock and cheaper password hashing if they wish), so what they test is
what runs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from ejournal.api.freshness import STALL_SECONDS, Freshness, ProjectorPosition
from ejournal.api.printing import Printing
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
    """Parents' e-mail (п. 1.6); None without an SMTP server (``EJOURNAL_SMTP_HOST``) or a vault."""
    mail_schedule: DigestSchedule | None = None
    """Plans the weekly digest and delivers the outbox in the background."""
    follow: bool = True
    """Whether the projector follows the ledger in the background while the app runs."""
    closed: bool = field(default=False, init=False)

    def start(self) -> None:
        if self.follow and self.projector is not None and not self.projector.running:
            self.projector.start()
        if self.follow and self.checkpoints is not None and not self.checkpoints.running:
            self.checkpoints.start()
        if self.follow and self.mail_schedule is not None and not self.mail_schedule.running:
            self.mail_schedule.start()

    def stop(self) -> None:
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
        mail = _mailer(ledger, vault, kek, environ)
        aio = AsyncDatabase.beside(database)
        return Services(
            settings=settings,
            ledger=ledger,
            auth=auth,
            access_log=AccessLog(database),
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
        )
    except BaseException:
        ledger.close()
        raise


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
    keys = KeyStore(ledger.database, clock=ledger.clock)
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


def _mailer(
    ledger: Ledger, vault: Vault | None, kek: bytes | None, environ: Mapping[str, str]
) -> Mailer | None:
    """Parents' e-mail (п. 1.6), if an SMTP server is configured and addresses can be kept in the
    vault. Raises ``MailSettingsError`` for a malformed setting."""
    settings = MailSettings.from_environment(environ)
    if settings is None:
        return None
    if vault is None or kek is None:
        log.warning("EJOURNAL_SMTP_HOST is set but there is no vault key: e-mail is off")
        return None
    return Mailer(ledger, settings, vault=vault, address_key=digest_key(kek))


def _digest_schedule(mail: Mailer | None) -> DigestSchedule | None:
    """The weekly digest planned and the outbox delivered in the background, if mail is on."""
    if mail is None:
        return None
    return DigestSchedule(mail.planner, mail.delivery, poll_seconds=mail.settings.poll_seconds)
