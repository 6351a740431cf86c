"""``ejournal digest``: plan and send the weekly e-mail digest of a week (п. 1.6).

Safe to run again, and beside the server's own schedule: the outbox sends each week to each address
once (``mail.outbox``, ``mail.delivery``).
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from typing import Annotated

import typer

from ejournal.cli.common import DatabaseURL, console, database_errors, fail, open_ledger
from ejournal.identity.tables import create_identity_tables
from ejournal.identity.vault import Vault, VaultError, key_from_environment
from ejournal.ledger.application import Ledger
from ejournal.ledger.database import startup_lock
from ejournal.mail.addresses import digest_key
from ejournal.mail.delivery import DeliveryReport
from ejournal.mail.digest import parse_week
from ejournal.mail.mailer import Mailer
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
) -> None:
    """Put a week's digest in the outbox for every active subscription and deliver everything due
    (also retries and confirmations). Running it again sends nothing twice."""
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
    _, ledger = open_ledger(database_url)
    try:
        with database_errors():
            added, report, counts = _plan_and_deliver(
                ledger, settings, kek, week=week, monday=monday, force=force
            )
    finally:
        ledger.close()
    console.print(
        f"{week}: {added} new digests planned; this run sent {report.sent}, "
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


def _plan_and_deliver(
    ledger: Ledger, settings: MailSettings, kek: bytes, *, week: str, monday: date, force: bool
) -> tuple[int, DeliveryReport, dict[str, int]]:
    with startup_lock(ledger.database):  # a server may be creating them at this moment
        create_identity_tables(ledger.database)  # the access log (п. 1.7)
        create_mail_tables(ledger.database)
    vault = Vault(ledger.database, kek)
    mailer = Mailer(ledger, settings, vault=vault, address_key=digest_key(kek))
    due = mailer.planner.due_week()
    if not force and monday > parse_week(due):
        fail(f"the digest of {week} is not due yet (the latest due week is {due}); --force")
    if monday < parse_week(due) - timedelta(weeks=5):
        console.print(f"note: {week} is more than five weeks old")
    added = mailer.planner.plan_week(week)
    report = mailer.delivery.deliver_due()
    return added, report, mailer.outbox.digest_counts(week)
