"""The ledger for auditors and the administration: logs, entries, signed checkpoints, receipts
and verification (I5–I8, п. 2.10); and the access log of personal data (п. 1.7), which names
the readers and the people read for the head (whose reading of those names is logged in turn),
and shows auditors IDs only (``api.names``)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query

from ejournal.api.deps import AccessLogDep, CurrentCaller, LedgerDep, NamesDep, ServicesDep
from ejournal.api.errors import ApiError, problem_responses
from ejournal.api.names import People, shows_names
from ejournal.api.policy import access_log_reader, audit_scope
from ejournal.api.schemas.audit import (
    AccessOut,
    CheckpointOut,
    EntryOut,
    LogOut,
    LogReportOut,
    ReceiptOut,
    VerificationOut,
)
from ejournal.api.threads import OneTripRoute
from ejournal.identity.access_log import PAGE_READS, Access, AccessLog, AccessRecord
from ejournal.identity.authenticator import Caller
from ejournal.identity.names import Names, Style
from ejournal.integrity.errors import VerificationError
from ejournal.integrity.leaf import from_micros
from ejournal.ledger.actor import Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import StoredCheckpoint, load_checkpoints
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.proofs import prove_event
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.replay import leaf_of_row, row_columns
from ejournal.ledger.verify import verify_ledger

router = APIRouter(
    route_class=OneTripRoute,
    prefix="/ledger",
    tags=["audit"],
    responses=problem_responses(401, 403, 422),
)

LogId = Annotated[str, Query(max_length=200, description="e.g. school/<uuid>/2025-2026")]


@router.get("/logs", response_model=list[LogOut], summary="The logs the caller may audit")
def list_logs(caller: CurrentCaller, services: ServicesDep) -> list[LogOut]:
    scope = audit_scope(caller)
    found = []
    for cell in services.cells():  # in a region, each server's logs, where they live
        database = cell.ledger.database
        with database.transaction(write=False) as cursor:
            cursor.execute(f"SELECT log_id, COUNT(*) FROM {EVENTS_TABLE} GROUP BY log_id")
            sizes = cursor.fetchall()
        signed = {log_id: cps[-1].size for log_id, cps in load_checkpoints(database).items()}
        copies = services.copies(cell.server)
        found += [
            LogOut(log_id=log_id, size=int(size), signed_size=signed.get(log_id, 0))
            for log_id, size in sizes
            if scope.sees(log_id) and log_id not in copies
        ]
    return sorted(found, key=lambda log: log.log_id)


@router.get(
    "/entries",
    response_model=list[EntryOut],
    summary="Entries of a log, in index order",
    responses=problem_responses(404),
)
def list_entries(
    caller: CurrentCaller,
    ledger: LedgerDep,
    log_id: LogId,
    start: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[EntryOut]:
    if not audit_scope(caller).sees(log_id):
        raise ApiError("access.denied")
    database = ledger.database
    with database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT {row_columns(database.dialect)}, leaf_hash, chain_hash FROM {EVENTS_TABLE} "
            "WHERE log_id = ? AND idx >= ? ORDER BY idx LIMIT ?",
            (log_id, start, limit),
        )
        rows = cursor.fetchall()
    entries = []
    for row in rows:
        leaf = leaf_of_row(row)
        entries.append(
            EntryOut(
                log_id=leaf.log_id,
                index=leaf.index,
                originator_id=leaf.originator_id,
                originator_version=leaf.originator_version,
                topic=leaf.topic,
                recorded_at=from_micros(leaf.recorded_at),
                actor_id=leaf.actor_id,
                actor_role=leaf.actor_role,
                credential_version=leaf.credential_version,
                session_id=leaf.session_id,
                payload_sha256=leaf.payload_sha256.hex(),
                leaf_hash=bytes(row[-2]).hex(),
                chain_hash=bytes(row[-1]).hex(),
            )
        )
    return entries


@router.get(
    "/checkpoints",
    response_model=list[CheckpointOut],
    summary="Signed checkpoints (C2SP tlog-checkpoint notes): all of one log, or each log's latest",
)
def list_checkpoints(
    caller: CurrentCaller, services: ServicesDep, log_id: LogId | None = None
) -> list[CheckpointOut]:
    scope = audit_scope(caller)
    # A log's own server (the query names it: ``deps.route``), or every server's latest of the
    # logs that live there.
    cells = [services] if log_id is not None else services.cells()
    by_log: dict[str, list[StoredCheckpoint]] = {}
    for cell in cells:
        copies = services.copies(cell.server) if log_id is None else {}
        stored = load_checkpoints(cell.ledger.database).items()
        by_log |= {name: checkpoints for name, checkpoints in stored if name not in copies}
    if log_id is not None:
        # Another school's log is refused, as its entries are (``list_entries``).
        if not scope.sees(log_id):
            raise ApiError("access.denied")
        chosen = by_log.get(log_id, [])
    else:
        chosen = [cps[-1] for name, cps in sorted(by_log.items()) if cps and scope.sees(name)]
    return [
        CheckpointOut(
            log_id=cp.log_id,
            size=cp.size,
            root_hash=cp.root_hash.hex(),
            signed_at=from_micros(cp.signed_at),
            note=cp.note,
        )
        for cp in chosen
    ]


@router.get(
    "/receipts/{originator_id}/{version}",
    response_model=ReceiptOut,
    summary="A receipt proving one record is in its log under a signed checkpoint",
    responses=problem_responses(404),
)
def receipt(
    originator_id: UUID,
    version: Annotated[int, Path(ge=1, le=2**62)],
    caller: CurrentCaller,
    ledger: LedgerDep,
    services: ServicesDep,
) -> ReceiptOut:
    scope = audit_scope(caller)
    database = ledger.database
    with database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT log_id FROM {EVENTS_TABLE} WHERE originator_id = ? AND originator_version = ?",
            (database.uuid(originator_id), version),
        )
        row = cursor.fetchone()
    # Out of scope reads as unknown: an administrator learns nothing of other schools' records.
    if row is None or not scope.sees(row[0]):
        raise ApiError("receipt.not_provable")
    try:
        proved = prove_event(
            database,
            originator_id,
            version,
            verifiers=KeyStore((ledger.directory or ledger).database).verifiers(),
            origin=services.settings.origin,
        )
    except (LedgerError, VerificationError) as e:
        # The title says why (no such record, or no signed checkpoint covers it yet); a log that
        # does not verify is said in so many words. Never the error's own (English) text.
        failed = isinstance(e, VerificationError)
        detail = "журнал не прошёл проверку целостности" if failed else None
        raise ApiError("receipt.not_provable", detail=detail) from e
    return ReceiptOut(log_id=row[0], index=proved.index, receipt=proved.encode())


@router.get(
    "/verification",
    response_model=VerificationOut,
    summary="Verify every entry, chain, root and checkpoint of the ledger now",
)
def verification(caller: CurrentCaller, services: ServicesDep) -> VerificationOut:
    scope = audit_scope(caller)
    directory = services.ledger.directory or services.ledger
    verifiers = KeyStore(directory.database).verifiers()
    found = []
    try:
        for cell in services.cells():  # in a region, every server, with the directory's rules
            report = verify_ledger(
                cell.ledger.database,
                verifiers=verifiers,
                origin=services.settings.origin,
                directory=None if cell.ledger.directory is None else directory.database,
            )
            # A copy left on a move's source is verified with its database, and reported by
            # the server the log lives on.
            found += report.without_copies(services.copies(cell.server)).logs
    except VerificationError as e:
        return VerificationOut(ok=False, error=type(e).__name__, message=e.message, where=e.where)
    logs = sorted((log for log in found if scope.sees(log.log_id)), key=lambda log: log.log_id)
    return VerificationOut(
        ok=True,
        entries=sum(log.size for log in logs),
        logs=[
            LogReportOut(
                log_id=log.log_id,
                size=log.size,
                root=log.root.hex(),
                checkpoints=log.checkpoints,
                signed_size=log.signed_size,
            )
            for log in logs
        ],
    )


access_router = APIRouter(
    route_class=OneTripRoute, tags=["personal data"], responses=problem_responses(401, 403, 422)
)


@access_router.get(
    "/access-log",
    response_model=list[AccessOut],
    summary="Who read whose personal data or diary, and when (head of the school, auditors)",
)
def access_log(
    caller: CurrentCaller,
    log: AccessLogDep,
    ledger: LedgerDep,
    names: NamesDep,
    school_id: UUID | None = None,
    subject_id: UUID | None = None,
    after_id: Annotated[int, Query(ge=0, le=2**62)] = 0,
    before_id: Annotated[
        int | None,
        Query(ge=1, le=2**62, description="The latest entries before this ID, newest first"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AccessOut]:
    role = access_log_reader(caller, school_id)
    records = log.entries(
        school_id=school_id,
        subject_id=subject_id,
        after_id=after_id,
        before_id=before_id,
        limit=limit,
    )
    shown = _names(caller, role, records, ledger, names, log) if shows_names(role) else {}
    return [
        AccessOut(
            id=r.id,
            at=r.at,
            reader_account_id=r.reader_account_id,
            reader_role=r.reader_role,
            session_id=r.session_id,
            school_id=r.school_id,
            subject_id=r.subject_id,
            what=r.what.value,
            names=shown.get(r.id, {}),
        )
        for r in records
    ]


def _names(
    caller: Caller,
    role: Role,
    records: list[AccessRecord],
    ledger: Ledger,
    names: Names,
    log: AccessLog,
) -> dict[int, dict[UUID, str]]:
    """Each entry's names: its reader (by the account's ID) and, for a read of a person, whose
    data it was. Every person named is written to the access log first (п. 1.7), under the
    school of the entry: a pupil read, or a pupil who read."""
    people = People()
    for r in records:
        people.account(r.reader_account_id, _style(r.reader_role))
        if r.what not in PAGE_READS:
            people.pupil(r.subject_id)
    wanted = people.wanted(ledger)
    display = names.display(wanted)
    by_school: dict[UUID | None, dict[UUID, None]] = {}
    shown: dict[int, dict[UUID, str]] = {}
    for r in records:
        entry = shown[r.id] = {}
        named = by_school.setdefault(r.school_id, {})
        if r.reader_account_id in display:
            entry[r.reader_account_id] = display[r.reader_account_id]
            if r.reader_role == Role.STUDENT:
                named[wanted[r.reader_account_id][0]] = None
        if r.what not in PAGE_READS and r.subject_id in display:
            entry[r.subject_id] = display[r.subject_id]
            named[r.subject_id] = None
    now = ledger.clock()
    for school, persons in by_school.items():
        log.record(caller, role, Access.ACCESS_LOG, list(persons), school_id=school, now=now)
    return shown


def _style(reader_role: str) -> Style:
    return Style.PUPIL if reader_role == Role.STUDENT else Style.ADULT
