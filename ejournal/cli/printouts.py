"""``ejournal print journal|diary|summary`` and ``ejournal verify-printout`` (п. 1.6, 2.9, 3.1).

A printout rests on a checkpoint signed for it (of everything the year's log holds), names people
from the vault when ``EJOURNAL_VAULT_KEY`` (or ``EJOURNAL_VAULT_KEY_FILE``) is set, and is
certified either by the head (``--head LOGIN``: the head's key, ``EJOURNAL_SIGNATORY_PASSPHRASE``,
recorded in the log) or by the journal's seal (the deployment's signing keys,
``EJOURNAL_KEY_PASSPHRASE`` or ``EJOURNAL_KEY_FILE``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from eventsourcing.application import AggregateNotFoundError

from ejournal import commands as c
from ejournal.cli.archive import LEDGER_FAILURES
from ejournal.cli.common import (
    DatabaseURL,
    JsonOutput,
    KeysFile,
    PrintoutNames,
    console,
    fail,
    failure_json,
    open_ledger,
    read_verifiers,
    secret,
)
from ejournal.documents.certify import (
    Certifier,
    HeadSignature,
    Printout,
    ServiceSeal,
    certificate_of,
    log_of,
    print_class_journal,
    print_summary_sheet,
    print_weekly_diary,
    rest_on_checkpoint,
)
from ejournal.documents.verify import CERTIFICATE, attachments, verify_printout_file
from ejournal.integrity.errors import VerificationError
from ejournal.integrity.note import Verifier
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer, StoredCheckpoint
from ejournal.ledger.domain import Account
from ejournal.ledger.domain.certification import SignatoryKey
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.settings import Settings
from ejournal.ledger.signatories import SignatoryKeyStore

app = typer.Typer()
print_app = typer.Typer(
    no_args_is_help=True,
    help="Print a certified PDF/A: journal pages, a weekly diary, a summary sheet.",
)

SIGNATORY_PASSPHRASE_VARIABLE = "EJOURNAL_SIGNATORY_PASSPHRASE"
Out = Annotated[Path, typer.Option("--out", help="The PDF to write (a new file).")]
Head = Annotated[
    str | None,
    typer.Option(
        "--head",
        help="The head's login: certify with the head's key (EJOURNAL_SIGNATORY_PASSPHRASE); "
        "without it, the journal's seal (the deployment's keys) certifies.",
    ),
]
Day = Annotated[str, typer.Option(help="A day, YYYY-MM-DD.")]


def _uuid(text: str, what: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        fail(f"{what} must be an ID (a UUID), not {text!r}")


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"{what} must be a day, YYYY-MM-DD, not {text!r}")


def _certifier(ledger: Ledger, head: str | None, keys: KeyStore, deployment: bytes) -> Certifier:
    if head is None:
        return ServiceSeal(signers=keys.signers(deployment))
    passphrase = os.environ.get(SIGNATORY_PASSPHRASE_VARIABLE, "").encode()
    if not passphrase:
        fail(f"set {SIGNATORY_PASSPHRASE_VARIABLE}: the head's certifying key is sealed with it")
    account_id = Account.create_id(login=head)
    person_id = ledger.get(account_id, Account).person_id
    signer = SignatoryKeyStore(ledger.database, clock=ledger.clock).signer(person_id, passphrase)
    return HeadSignature(actor=c.actor_for(ledger, account_id), signer=signer)


PrintOne = Callable[[Ledger, StoredCheckpoint, str, Certifier, PrintoutNames], Printout]


def _print(database_url: str | None, out: Path, head: str | None, of: UUID, make: PrintOne) -> None:
    """Open the ledger, sign the checkpoint of ``of``'s year, certify and write ``out``."""
    if out.exists():
        fail(f"{out} exists: a printout goes into a new file")
    settings, ledger = open_ledger(database_url)
    try:
        names = PrintoutNames.from_environment(ledger)
        printout = _printed(settings, ledger, head, of, names, make)
        out.write_bytes(printout.pdf)
    except (*LEDGER_FAILURES, AggregateNotFoundError) as e:
        fail(f"{type(e).__name__}: {e}", code=1)
    finally:
        ledger.close()
    who = "the head" if head else "the journal's seal"
    console.print(
        f"{printout.title}: {out} ({len(printout.pdf):,} bytes), certified by {who}; "
        f"checkpoint at size {printout.checkpoint.size}"
    )
    if names.unnamed:
        console.print(f"[yellow]{names.unnamed}[/]")


def _printed(
    settings: Settings,
    ledger: Ledger,
    head: str | None,
    of: UUID,
    names: PrintoutNames,
    make: PrintOne,
) -> Printout:
    deployment = secret()
    keys = KeyStore(ledger.database, clock=ledger.clock)
    certifier = _certifier(ledger, head, keys, deployment)
    checkpointer = Checkpointer(
        ledger.database,
        origin=settings.origin,
        signers=keys.signers(deployment),
        verifiers=keys.verifiers(),
        clock=ledger.clock,
    )
    checkpoint = rest_on_checkpoint(checkpointer, log_of(ledger, of))
    return make(ledger, checkpoint, settings.origin, certifier, names)


@print_app.command("journal")
def print_journal(
    roster: Annotated[str, typer.Option(help="The class, group or curriculum (ID).")],
    subject: Annotated[str, typer.Option(help="The subject (ID).")],
    first: Annotated[str, typer.Option("--from", help="The first day, YYYY-MM-DD.")],
    last: Annotated[str, typer.Option("--to", help="The last day, YYYY-MM-DD.")],
    out: Out,
    head: Head = None,
    database_url: DatabaseURL = None,
) -> None:
    """Class journal pages of a roster's subject between two days (п. 3.1)."""
    roster_id, subject_id = _uuid(roster, "--roster"), _uuid(subject, "--subject")
    first_day, last_day = _day(first, "--from"), _day(last, "--to")
    if not 0 <= (last_day - first_day).days <= 366:
        fail("--from must come before --to, within a school year")
    _print(
        database_url,
        out,
        head,
        roster_id,
        lambda ledger, checkpoint, origin, certifier, names: print_class_journal(
            ledger,
            checkpoint=checkpoint,
            origin=origin,
            roster_id=roster_id,
            subject_id=subject_id,
            first_day=first_day,
            last_day=last_day,
            certifier=certifier,
            names=names,
        ),
    )


@print_app.command("diary")
def print_diary(
    school_class: Annotated[str, typer.Option("--class", help="The pupil's class (ID).")],
    student: Annotated[str, typer.Option(help="The pupil (ID).")],
    week: Annotated[str, typer.Option(help="A day of the week, YYYY-MM-DD.")],
    out: Out,
    head: Head = None,
    database_url: DatabaseURL = None,
) -> None:
    """A pupil's weekly diary: the parents' printout on request (п. 1.6)."""
    class_id, student_id = _uuid(school_class, "--class"), _uuid(student, "--student")
    week_of = _day(week, "--week")
    _print(
        database_url,
        out,
        head,
        class_id,
        lambda ledger, checkpoint, origin, certifier, names: print_weekly_diary(
            ledger,
            checkpoint=checkpoint,
            origin=origin,
            class_id=class_id,
            student_id=student_id,
            week_of=week_of,
            certifier=certifier,
            names=names,
        ),
    )


@print_app.command("summary")
def print_summary(
    school_class: Annotated[str, typer.Option("--class", help="The class (ID).")],
    out: Out,
    period: Annotated[
        str | None, typer.Option(help="One period, e.g. «I четверть»; the year without it.")
    ] = None,
    head: Head = None,
    database_url: DatabaseURL = None,
) -> None:
    """The summary sheet of a class for a period or the year (п. 2.9)."""
    class_id = _uuid(school_class, "--class")
    _print(
        database_url,
        out,
        head,
        class_id,
        lambda ledger, checkpoint, origin, certifier, names: print_summary_sheet(
            ledger,
            checkpoint=checkpoint,
            origin=origin,
            class_id=class_id,
            period=period,
            certifier=certifier,
            names=names,
        ),
    )


def _database_keys(database_url: str | None, pdf: bytes) -> list[Verifier]:
    """The deployment's verifier keys and the certificate's signatory's registered keys, read
    from the database (keys the database itself holds: ``--keys`` is the stronger check)."""
    try:
        certificate = certificate_of(attachments(pdf)[CERTIFICATE].decode("utf-8"))
    except (KeyError, ValueError, VerificationError):
        return []  # the verification names what is wrong with the file
    _, ledger = open_ledger(database_url)
    try:
        verifiers = KeyStore(ledger.database).verifiers()
        log_id = certificate.origin.rsplit("/", 3)
        year_start = int(log_id[-1].split("-")[0]) if len(log_id) == 4 else 0
        key_id = SignatoryKey.create_id(certificate.school_id, year_start, certificate.signer_id)
        key = ledger.find(key_id, SignatoryKey)
        return verifiers + ([Verifier.from_vkey(v) for v in key.vkeys] if key else [])
    finally:
        ledger.close()


@app.command("verify-printout")
def verify_printout_command(
    path: Annotated[Path, typer.Argument(help="A printout (PDF) made by ejournal.")],
    keys: KeysFile = None,
    database_url: DatabaseURL = None,
    as_json: JsonOutput = False,
) -> None:
    """Verify a certified printout from the file: the QR code holds the attached certificate,
    a trusted key signed it, the attached data is the certified data, and the signed checkpoint
    it rests on is the one named. Trusted keys: --keys (the deployment's and the heads' vkeys,
    kept outside the database), else those the database holds."""
    try:
        pdf = path.read_bytes()
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror or e}")
    if keys is not None:
        verifiers, source = read_verifiers(keys), f"keys from {keys}"
    else:
        verifiers, source = _database_keys(database_url, pdf), "keys read from the database"
    try:
        verified = verify_printout_file(pdf, verifiers=verifiers)
    except VerificationError as error:
        if as_json:
            print(json.dumps(failure_json(error), ensure_ascii=False))
        else:
            console.print(f"[bold red]FAILED[/] {path}: {type(error).__name__}: {error}")
        raise typer.Exit(1) from error
    certificate = verified.certificate
    if as_json:
        report = {
            "ok": True,
            "kind": certificate.kind,
            "school_id": str(certificate.school_id),
            "signer_id": str(certificate.signer_id),
            "checkpoint": {"origin": certificate.origin, "size": certificate.size},
            "certified_at": certificate.certified_at.isoformat(),
            "signed_by": list(verified.signed_by),
            "checks": verified.checks,
            "keys": source,
        }
        print(json.dumps(report, ensure_ascii=False))
        return
    console.print(f"[bold green]OK[/] {path}: {certificate.kind}, trusted {source}")
    for check in verified.checks:
        console.print(f"  ✓ {check}")
