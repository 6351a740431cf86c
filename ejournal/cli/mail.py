"""``ejournal digest``: plan and send the weekly e-mail digest of a week (п. 1.6).

Safe to run again, and beside the server's own schedule: the outbox sends each week to each address
once (``mail.outbox``, ``mail.delivery``). In a region (``EJOURNAL_SERVERS``) each server has its
own outbox, beside its schools: the command plans and delivers on the directory, then on each
server (or on ``--server``'s alone), with the directory's vault and access log.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Annotated

import typer

from ejournal.cli.common import (
    DatabaseURL,
    ServerOption,
    console,
    database_errors,
    each_server,
    fail,
    open_ledger,
    region_of,
)
from ejournal.identity.access_log import AccessLog
from ejournal.identity.tables import create_identity_tables
from ejournal.identity.vault import Vault, VaultError, key_from_environment
from ejournal.ledger.application import Ledger
from ejournal.ledger.database import startup_lock
from ejournal.mail.addresses import digest_key
from ejournal.mail.digest import parse_week
from ejournal.mail.mailer import Mailer
from ejournal.mail.planning import due_week
from ejournal.mail.settings import MailSettings, MailSettingsError
from ejournal.mail.tables import create_mail_tables

app = typer.Typer()


@app.command()
def digest(
    week: Annotated[str, typer.Option("--week", help="The ISO week, e.g. 2025-W36.")],
    database_url: DatabaseURL = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Send a week whose digest is not due yet (it is then final)."),
    ] = False,
    server: ServerOption = None,
) -> None:
    """Put a week's digest in the outbox for every active subscription and deliver everything due
    (also retries and confirmations). Running it again sends nothing twice. In a region, on the
    directory and each server in turn (or --server's)."""
    try:
        monday = parse_week(week)
    except ValueError:
        fail(f"--week must be an ISO week YYYY-Www, e.g. 2025-W36, not {week!r}")
    try:
        settings = MailSettings.from_environment(os.environ)
        kek = key_from_environment(os.environ)
    except (MailSettingsError, VaultError) as e:
        fail(str(e))
    if settings is None:
        fail("EJOURNAL_SMTP_HOST is not set: no mail server to send through")
    if kek is None:
        fail("EJOURNAL_VAULT_KEY (or _FILE) is not set: the addresses cannot be read")
    ledger_settings, ledger = open_ledger(database_url)
    try:
        due = due_week(settings, ledger.clock())
        if not force and monday > parse_week(due):
            fail(f"the digest of {week} is not due yet (the latest due week is {due}); --force")
        if monday < parse_week(due) - timedelta(weeks=5):
            console.print(f"note: {week} is more than five weeks old")
        with database_errors():
            with startup_lock(ledger.database):  # a server may be creating them at this moment
                create_identity_tables(ledger.database)  # the vault, the access log (п. 1.7)
            vault, access_log = Vault(ledger.database, kek), AccessLog(ledger.database)
        key = digest_key(kek)
        with region_of(ledger_settings, ledger) as region:
            for name, server_ledger in each_server(region, ledger, server):
                with database_errors():
                    mailer = _mailer(server_ledger, settings, vault, access_log, key)
                    _plan_and_deliver(mailer, week, prefix="" if region is None else f"{name}: ")
    finally:
        ledger.close()


def _mailer(
    ledger: Ledger, settings: MailSettings, vault: Vault, access_log: AccessLog, key: bytes
) -> Mailer:
    """The mail service of ``ledger``'s server (its tables created), with the directory's vault
    and access log."""
    with startup_lock(ledger.database):
        create_mail_tables(ledger.database)
    return Mailer(ledger, settings, vault=vault, address_key=key, access_log=access_log)


def _plan_and_deliver(mailer: Mailer, week: str, *, prefix: str) -> None:
    """Plan ``week`` and deliver what is due in one server's outbox; print what happened."""
    added = mailer.planner.plan_week(week)
    report = mailer.delivery.deliver_due()
    counts = mailer.outbox.digest_counts(week)
    console.print(
        f"{prefix}{week}: {added} new digests planned; this run sent {report.sent}, "
        f"retries {report.retried}, bounced {report.bounced}, failed {report.failed}, "
        f"skipped {report.skipped}"
    )
    console.print(
        "  digests of the week by status: "
        + (", ".join(f"{status} {count}" for status, count in sorted(counts.items())) or "none")
    )
    if report.uncertain:
        console.print(
            f"  [yellow]{report.uncertain} message(s) left uncertain by a crashed sender "
            "(not sent again; see docs/operations.md)[/]"
        )
