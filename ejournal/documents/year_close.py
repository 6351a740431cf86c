"""Year close (п. 2.11, 3.2, 3.4): close the year's journal, certify every class's summary sheet,
sign the final checkpoint and write the school year's archive.

``close_school_year`` runs, in order:

1. ``CloseSchoolYear`` through the commands: the journals take no more records (an administrator
   may reopen with a reason, ``ReopenSchoolYear``, recorded too); a year closed already is refused
   before anything is written;
2. a checkpoint of the year's log covering the close: every summary sheet rests on it;
3. for each class, the summary sheet recomputed from the entries up to that checkpoint, certified by
   the head (the key's registration and each certificate are ledger events), as data, CSV and PDF/A;
4. the final checkpoint of the year's log, covering the certifications;
5. the archive bag (``archive.writer.write_archive``), verified before it is reported.

``archive_school_year`` writes an archive of the log as it stands (after a disposition, say),
carrying forward ``documents`` certified earlier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from ejournal import commands as c
from ejournal.archive.metadata import ArchiveContext, ArchivedDocument
from ejournal.archive.summary import DOCUMENT_KIND, summary_csv
from ejournal.archive.transliteration import class_file_stem
from ejournal.archive.verifier import verify_archive
from ejournal.archive.writer import write_archive
from ejournal.commands.errors import refuse
from ejournal.documents.certify import (
    HeadSignature,
    Printout,
    print_document,
    rest_on_checkpoint,
)
from ejournal.documents.documents import school_of, summary_fold, summary_sheet_document
from ejournal.documents.people import Names
from ejournal.documents.views import summary_sheet_view
from ejournal.integrity.archive import ArchiveReport
from ejournal.integrity.note import Ed25519Signer, Verifier
from ejournal.ledger.actor import Actor
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer, StoredCheckpoint
from ejournal.ledger.domain import School, SchoolYear
from ejournal.ledger.invalidation import load_rules
from ejournal.ledger.logs import SYSTEM_LOG, school_log_id
from ejournal.ledger.retention import DEFAULT_SCHEDULE, RetentionSchedule


@dataclass(frozen=True, slots=True, kw_only=True)
class YearCloseResult:
    archive: Path
    report: ArchiveReport
    sheets_checkpoint: StoredCheckpoint
    final_checkpoint: StoredCheckpoint
    sheets: tuple[Printout, ...]


def _certified_sheets(
    ledger: Ledger,
    *,
    checkpointer: Checkpointer,
    actor: Actor,
    signer: Ed25519Signer,
    school_id: UUID,
    year_start: int,
    checkpoint: StoredCheckpoint,
    names: Names | None,
) -> list[tuple[Printout, ArchivedDocument]]:
    log_id = school_log_id(school_id, year_start)
    fold = summary_fold(ledger, log_id, checkpoint.size)
    sheets = []
    for class_id in fold.class_ids():
        printout = print_document(
            ledger,
            checkpoint=checkpoint,
            origin=checkpointer.origin,
            kind=DOCUMENT_KIND,
            school_id=school_id,
            year_start=year_start,
            build=lambda at, class_id=class_id: summary_sheet_document(  # type: ignore[misc]
                ledger,
                school_id=school_id,
                year_start=year_start,
                class_id=class_id,
                checkpoint=at,
                origin=checkpointer.origin,
                names=names,
                fold=fold,
            ),
            view=summary_sheet_view,
            certifier=HeadSignature(actor=actor, signer=signer),
            names=names,
        )
        document, note = printout.document, printout.certificate
        assert note is not None  # a head's printout is certified
        school_class = document["class"]
        stem = class_file_stem(school_class["grade"], school_class["letter"])
        archived = ArchivedDocument(
            name=f"summary-{stem}",
            title=document["title"],
            kind=DOCUMENT_KIND,
            data=printout.data,
            certificate=note,
            csv=summary_csv(document),
            pdf=printout.pdf,
        )
        sheets.append((printout, archived))
    return sheets


def _sign_rules(ledger: Ledger, checkpointer: Checkpointer) -> None:
    """The archive proves the rules of п. 4.4 by receipts from the system log: sign a checkpoint
    of it that covers them (when there are any)."""
    if load_rules(ledger.database):
        rest_on_checkpoint(checkpointer, SYSTEM_LOG)


def check_closable(ledger: Ledger, *, school_id: UUID, year_start: int) -> None:
    """Refuse, before anything is written, a year ``close_school_year`` cannot close: raises
    ``CommandError`` (``school.not_found``, ``year.not_found``, ``year.already_closed``)."""
    if ledger.find(school_id, School) is None:
        raise refuse("school.not_found")
    name = f"{year_start}/{year_start + 1}"
    year = ledger.find(SchoolYear.create_id(school_id=school_id, year_start=year_start), SchoolYear)
    if year is None:
        raise refuse("year.not_found", year=name)
    if year.closed:
        raise refuse("year.already_closed", year=name)


def close_school_year(
    ledger: Ledger,
    *,
    checkpointer: Checkpointer,
    checkpoint_verifiers: Sequence[Verifier],
    actor: Actor,
    signer: Ed25519Signer,
    school_id: UUID,
    year_start: int,
    out: Path,
    names: Names | None = None,
    schedule: RetentionSchedule = DEFAULT_SCHEDULE,
) -> YearCloseResult:
    """Close the open school year, certify each class's summary sheet, sign the final checkpoint
    and write the archive into the new directory ``out``; the archive is verified (against
    ``checkpoint_verifiers``) before this returns.

    A year closed already is refused (``year.already_closed``) before anything is written: it
    was closed, certified and archived once, and closing it again takes a reopening with its
    reason (``ReopenSchoolYear``) first.

    Raises ``CommandError`` (no such school or year, the year is closed, the actor may not close
    or certify), ``PrintoutError``, ``RenderError``, ``ArchiveError``, ``FileExistsError``, and a
    ``VerificationError`` if the written archive does not verify.
    """
    if out.exists():
        raise FileExistsError(out)
    check_closable(ledger, school_id=school_id, year_start=year_start)
    closed_at = ledger.clock()
    c.handle(c.CloseSchoolYear(actor=actor, school_id=school_id, year_start=year_start), ledger)
    log_id = school_log_id(school_id, year_start)
    sheets_checkpoint = rest_on_checkpoint(checkpointer, log_id)
    sheets = _certified_sheets(
        ledger,
        checkpointer=checkpointer,
        actor=actor,
        signer=signer,
        school_id=school_id,
        year_start=year_start,
        checkpoint=sheets_checkpoint,
        names=names,
    )
    final = rest_on_checkpoint(checkpointer, log_id)
    _sign_rules(ledger, checkpointer)
    context = ArchiveContext(
        school_id=school_id,
        school_name=school_of(ledger, school_id).name,
        origin=checkpointer.origin,
        created_at=ledger.clock(),
        closed_at=closed_at,
    )
    archive = write_archive(
        ledger.database,
        log_id=log_id,
        checkpoint=final,
        context=context,
        checkpoint_verifiers=checkpoint_verifiers,
        documents=[archived for _, archived in sheets],
        out=out,
        schedule=schedule,
    )
    report = verify_archive(archive, verifiers=checkpoint_verifiers)
    return YearCloseResult(
        archive=archive,
        report=report,
        sheets_checkpoint=sheets_checkpoint,
        final_checkpoint=final,
        sheets=tuple(printout for printout, _ in sheets),
    )


def archive_school_year(
    ledger: Ledger,
    *,
    checkpointer: Checkpointer,
    checkpoint_verifiers: Sequence[Verifier],
    school_id: UUID,
    year_start: int,
    out: Path,
    documents: Sequence[ArchivedDocument] = (),
    schedule: RetentionSchedule = DEFAULT_SCHEDULE,
) -> tuple[Path, ArchiveReport]:
    """Sign a checkpoint of the year's log as it stands and write its archive into ``out``,
    with ``documents`` certified earlier; verified before it returns.

    Raises ``PrintoutError`` (empty log), ``ArchiveError``, ``FileExistsError``, and a
    ``VerificationError`` if the written archive does not verify.
    """
    log_id = school_log_id(school_id, year_start)
    final = rest_on_checkpoint(checkpointer, log_id)
    _sign_rules(ledger, checkpointer)
    return archive_at_checkpoint(
        ledger,
        checkpoint=final,
        checkpoint_verifiers=checkpoint_verifiers,
        school_id=school_id,
        year_start=year_start,
        origin=checkpointer.origin,
        out=out,
        documents=documents,
        schedule=schedule,
    )


def archive_at_checkpoint(
    ledger: Ledger,
    *,
    checkpoint: StoredCheckpoint,
    checkpoint_verifiers: Sequence[Verifier],
    school_id: UUID,
    year_start: int,
    origin: str,
    out: Path,
    documents: Sequence[ArchivedDocument] = (),
    schedule: RetentionSchedule = DEFAULT_SCHEDULE,
) -> tuple[Path, ArchiveReport]:
    """The archive of the year's log up to ``checkpoint``, signed already (a web request signs
    none: the deployment's one signer does), written into ``out`` and verified before it returns.

    Raises what ``archive_school_year`` raises; ``ArchiveError`` too if a п. 4.4 rule is not yet
    covered by a signed checkpoint of the system log.
    """
    context = ArchiveContext(
        school_id=school_id,
        school_name=school_of(ledger, school_id).name,
        origin=origin,
        created_at=ledger.clock(),
        closed_at=None,
    )
    archive = write_archive(
        ledger.database,
        log_id=school_log_id(school_id, year_start),
        checkpoint=checkpoint,
        context=context,
        checkpoint_verifiers=checkpoint_verifiers,
        documents=documents,
        out=out,
        schedule=schedule,
    )
    return archive, verify_archive(archive, verifiers=checkpoint_verifiers)
