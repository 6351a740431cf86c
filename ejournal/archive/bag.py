"""School-year archives (I7, п. 2.10–2.11, 3.2): writing the bag from the database, and the
complete offline verification (``integrity.archive`` plus what needs the ledger's payload format).

``write_archive`` exports one log up to a signed checkpoint — its entries with their payloads, every
signed checkpoint with the consistency proofs between them, the verifier keys — together with the
certified documents (summary sheets as data, CSV and PDF/A), ISO 15489 metadata and a guide for
auditors, as a BagIt 1.0 bag (``integrity.bagit``). The bag layout and the entries format are
described in ``integrity.archive`` and in the guide inside every bag.

``verify_archive`` runs ``integrity.archive.verify_archive`` with an observer that, from the
entries alone, recomputes every summary sheet and compares it with the archived one (data and CSV),
checks that each document's certificate is recorded in the log with a key registered there, that
each PDF embeds the certified data, and that every missing payload is named by a disposition act.

The rules of п. 4.4 (breach reports, session invalidations) live in the system log, not in the
year's log; the summary sheets leave out what they invalidate. So the bag carries them as
``invalidation.json``: each rule event's payload with a receipt (C2SP tlog-proof) of its entry in
the system log under a signed checkpoint. The verifier checks each receipt and payload digest with
the bag's checkpoint keys before it applies the rules to the year's entries.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from ejournal.archive.summary import (
    SUMMARY_FORMAT,
    Scope,
    SummaryError,
    SummaryFold,
    first_csv_difference,
    ledger_part,
    summary_csv,
)
from ejournal.integrity.archive import (
    CHECKPOINT_KEYS,
    CHECKPOINTS_JSONL,
    DOCUMENTS_DIR,
    ENTRIES_CSV,
    LOG_JSON,
    SIGNATORY_KEYS,
    ArchivedCheckpoint,
    ArchiveEntry,
    ArchiveReport,
    LogHeader,
    read_log_header,
    read_vkeys,
    write_entries_header,
)
from ejournal.integrity.archive import verify_archive as verify_archive_bag
from ejournal.integrity.bagit import PAYLOAD_DIR, BagWriter
from ejournal.integrity.errors import (
    ArchiveFormatError,
    DocumentMismatchError,
    MissingPayloadError,
    VerificationError,
)
from ejournal.integrity.leaf import decode_leaf
from ejournal.integrity.note import Verifier
from ejournal.integrity.receipt import Receipt, verify_receipt
from ejournal.ledger.checkpoints import StoredCheckpoint, load_checkpoints
from ejournal.ledger.database import Database
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.invalidation import (
    RULE_TOPICS,
    Provenance,
    Rule,
    rule_events,
    rules_from_events,
)
from ejournal.ledger.logs import SYSTEM_LOG
from ejournal.ledger.proofs import NotProvableError, prove_event
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.replay import row_columns, uuid_bytes
from ejournal.ledger.retention import DEFAULT_SCHEDULE, RetentionSchedule, school_year_of_log
from ejournal.ledger.transcoder import default_transcoder

ARCHIVE_FORMAT = "ejournal-school-year-archive/1"
INVALIDATION_JSON = "invalidation.json"
INVALIDATION_FORMAT = "ejournal-invalidation-rules/1"
METADATA_JSON = "metadata.json"
GUIDE = "README.md"
_CERTIFIED_TOPIC = "ledger.domain.certification:DocumentCertification.Certified"
_SIGNATORY_TOPICS = (
    "ledger.domain.certification:SignatoryKey.Registered",
    "ledger.domain.certification:SignatoryKey.Replaced",
)
_ACT_TOPIC = "ledger.domain.disposition:DispositionAct.Recorded"


class ArchiveError(LedgerError):
    """An archive cannot be written: no signed checkpoint, or the log does not reach it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchivedDocument:
    """A certified document to put in the archive under ``documents/<name>.*``."""

    name: str
    """ASCII file stem, e.g. ``summary-05-A``."""
    title: str
    kind: str
    data: bytes
    """The certified bytes (``document.json``)."""
    certificate: str
    """The signed certificate note."""
    csv: bytes | None = None
    pdf: bytes | None = None
    retention_class: str = "summary_sheet"


@dataclass(frozen=True, slots=True, kw_only=True)
class ArchiveContext:
    """Who and what the archive is about, for its ISO 15489 metadata."""

    school_id: UUID
    school_name: str
    origin: str
    created_at: datetime
    closed_at: datetime | None = None
    system: str = "ejournal 0.1.0"
    relationships: tuple[Mapping[str, str], ...] = ()


def _entries(database: Database, log_id: str, size: int) -> Iterable[ArchiveEntry]:
    sql = (
        f"SELECT {row_columns(database.dialect)} FROM {EVENTS_TABLE} "
        "WHERE log_id = ? AND idx < ? ORDER BY idx"
    )
    with closing(database.stream(sql, (log_id, size))) as rows:
        for row in rows:
            state = row[5]
            yield ArchiveEntry(
                index=row[1],
                originator_id=UUID(bytes=uuid_bytes(row[2])),
                originator_version=row[3],
                topic=row[4],
                recorded_at=row[6],
                actor_id=UUID(bytes=uuid_bytes(row[7])),
                actor_role=row[8],
                credential_version=row[9],
                session_id=UUID(bytes=uuid_bytes(row[10])),
                payload_sha256=bytes(row[11]),
                leaf_hash=bytes(row[12]),
                chain_hash=bytes(row[13]),
                payload=None if state is None else bytes(state),
            )


def _retention(schedule: RetentionSchedule, year_start: int) -> list[dict[str, Any]]:
    return [
        {
            "class": c.name,
            "title": c.title,
            "years": c.years,
            "disposal_date": (d.isoformat() if (d := c.disposal_date(year_start)) else None),
            "counted_from": f"{year_start + 2}-01-01",
        }
        for c in schedule.classes
    ]


def _metadata(
    context: ArchiveContext,
    header: LogHeader,
    final: StoredCheckpoint,
    documents: Sequence[ArchivedDocument],
    digests: Mapping[str, str],
    schedule: RetentionSchedule,
    year_start: int,
    entries: int,
    disposed: int,
) -> dict[str, Any]:
    identifier = f"urn:ejournal:{context.origin}:{header.log_id}:{final.size}"
    year = f"{year_start}/{year_start + 1}"
    return {
        "format": ARCHIVE_FORMAT,
        "standard": "ГОСТ Р ИСО 15489-1-2019 (ISO 15489-1:2016), BagIt 1.0 (RFC 8493)",
        "identifier": identifier,
        "title": f"Архив электронного журнала за {year} учебный год — {context.school_name}",
        "creator": {
            "organisation": context.school_name,
            "school_id": str(context.school_id),
            "system": context.system,
        },
        "dates": {
            "created": context.created_at.astimezone(UTC).isoformat(),
            "covering": {"from": f"{year_start}-09-01", "to": f"{year_start + 1}-08-31"},
            "closed": None if context.closed_at is None else context.closed_at.isoformat(),
            "final_checkpoint_signed": datetime.fromtimestamp(
                final.signed_at / 1_000_000, UTC
            ).isoformat(),
        },
        "classification": {
            "function": "Учёт текущей успеваемости и результатов аттестации обучающихся",
            "activity": "Ведение электронного журнала и дневника (Порядок ведения ЭЖ, п. 1.1, 2.9)",
            "series": "Электронный классный журнал и сводные ведомости учебного года",
        },
        "access": {
            "level": "ограниченный",
            "reason": "персональные данные обучающихся (152-ФЗ); журнал содержит только "
            "идентификаторы лиц, имена — в заверенных ведомостях",
        },
        "retention": _retention(schedule, year_start),
        "format_of_records": {
            "entries": "CSV (RFC 4180, UTF-8), payloads JSON (orjson) in base64",
            "checkpoints": "C2SP tlog-checkpoint signed notes (Ed25519), JSON Lines",
            "documents": "JSON (canonical), CSV (UTF-8), PDF/A-3b with the JSON attached",
        },
        "provenance": {
            "log_id": header.log_id,
            "checkpoint_origin": header.origin,
            "entries": entries,
            "disposed_payloads": disposed,
            "final_checkpoint": {
                "size": final.size,
                "root_sha256": final.root_hash.hex(),
                "chain_head": final.chain_head.hex(),
            },
        },
        "relationships": [
            {
                "type": "is-part-of",
                "target": f"urn:ejournal:{context.origin}:school/{context.school_id}",
            },
            *(dict(r) for r in context.relationships),
        ],
        "records": [
            {
                "identifier": f"{identifier}:{document.name}",
                "title": document.title,
                "kind": document.kind,
                "retention_class": document.retention_class,
                "disposal_date": (
                    d.isoformat()
                    if (d := schedule.named(document.retention_class).disposal_date(year_start))
                    else None
                ),
                "files": {
                    suffix: {"path": f"{DOCUMENTS_DIR}/{document.name}.{suffix}", "sha256": sha}
                    for suffix in ("json", "certificate", "csv", "pdf")
                    if (sha := digests.get(f"{document.name}.{suffix}"))
                },
            }
            for document in documents
        ],
    }


def write_archive(
    database: Database,
    *,
    log_id: str,
    checkpoint: StoredCheckpoint,
    context: ArchiveContext,
    checkpoint_verifiers: Sequence[Verifier],
    documents: Sequence[ArchivedDocument] = (),
    out: Path,
    schedule: RetentionSchedule = DEFAULT_SCHEDULE,
) -> Path:
    """Write the archive of ``log_id`` up to the signed ``checkpoint`` into the new directory
    ``out``; returns it. The signatories' keys are taken from the log itself (their registration
    events).

    Raises ``ArchiveError`` if the checkpoint is not the log's or the log is shorter than it,
    ``FileExistsError`` if ``out`` exists, ``OSError``.
    """
    if checkpoint.log_id != log_id:
        raise ArchiveError(f"checkpoint of {checkpoint.log_id} given for {log_id}")
    _, year_start = school_year_of_log(log_id)
    checkpoints = [
        ArchivedCheckpoint(
            size=stored.size,
            signed_at=stored.signed_at,
            chain_head=stored.chain_head,
            consistency_proof=stored.consistency_proof,
            note=stored.note,
        )
        for stored in load_checkpoints(database).get(log_id, [])
        if stored.size <= checkpoint.size
    ]
    header = LogHeader(log_id=log_id, origin=f"{context.origin}/{log_id}", size=checkpoint.size)
    decode = default_transcoder().decode
    signatory_keys: dict[str, None] = {}
    writer = BagWriter(out)
    try:
        written = disposed = 0
        with writer.open_payload(ENTRIES_CSV) as raw:
            rows = write_entries_header(_TextSink(raw))
            for entry in _entries(database, log_id, checkpoint.size):
                rows.writerow(entry.csv_row())
                written += 1
                if entry.payload is None:
                    disposed += 1
                elif entry.topic in _SIGNATORY_TOPICS:
                    signatory_keys[decode(entry.payload)["vkey"]] = None
        if written != checkpoint.size:
            raise ArchiveError(f"{log_id} has {written} entries, the checkpoint {checkpoint.size}")
        writer.add_payload(LOG_JSON, header.json_bytes())
        with writer.open_payload(CHECKPOINTS_JSONL) as stream:
            for archived in checkpoints:
                stream.write(archived.json_line())
        writer.add_payload(
            CHECKPOINT_KEYS, "".join(f"{v.vkey}\n" for v in checkpoint_verifiers).encode()
        )
        writer.add_payload(SIGNATORY_KEYS, "".join(f"{k}\n" for k in signatory_keys).encode())
        rules = _invalidation_rules(database, checkpoint_verifiers, context.origin)
        if rules is not None:
            writer.add_payload(INVALIDATION_JSON, rules)
        digests: dict[str, str] = {}
        for document in documents:
            files: dict[str, bytes | None] = {
                "json": document.data,
                "certificate": document.certificate.encode("utf-8"),
                "csv": document.csv,
                "pdf": document.pdf,
            }
            for suffix, data in files.items():
                if data is not None:
                    name = f"{document.name}.{suffix}"
                    digests[name] = writer.add_payload(f"{DOCUMENTS_DIR}/{name}", data)
        metadata = _metadata(
            context, header, checkpoint, documents, digests, schedule, year_start, written, disposed
        )
        writer.add_payload(
            METADATA_JSON,
            json.dumps(metadata, ensure_ascii=False, indent=2).encode("utf-8") + b"\n",
        )
        writer.add_payload(GUIDE, auditor_guide(header, metadata).encode("utf-8"))
        info = [
            ("Source-Organization", context.school_name),
            ("External-Identifier", metadata["identifier"]),
            ("External-Description", metadata["title"]),
            ("Bag-Group-Identifier", log_id),
            ("Bag-Software-Agent", context.system),
            ("Ejournal-Archive-Format", ARCHIVE_FORMAT),
            ("Ejournal-Checkpoint-Origin", header.origin),
            ("Ejournal-Final-Size", str(checkpoint.size)),
            ("Ejournal-Final-Root", checkpoint.root_hash.hex()),
        ]
        return writer.finish(info, bagging_date=context.created_at.astimezone(UTC).date())
    except BaseException:
        writer.abort()
        raise


def _invalidation_rules(
    database: Database, verifiers: Sequence[Verifier], origin: str
) -> bytes | None:
    """``invalidation.json``: every rule event of п. 4.4 with its payload and a receipt of its
    entry in the system log; None if there is none. Raises ``ArchiveError`` if a rule event is
    not yet covered by a signed checkpoint of the system log."""
    rows = rule_events(database)
    if not rows:
        return None
    events = []
    for oid, version, _, state in rows:
        try:
            receipt = prove_event(
                database,
                UUID(bytes=uuid_bytes(oid)),
                int(version),
                verifiers=verifiers,
                origin=origin,
            )
        except NotProvableError as e:
            raise ArchiveError(f"п. 4.4 rule event: {e}") from e
        payload = base64.b64encode(bytes(state)).decode("ascii")
        events.append({"receipt": receipt.encode(), "payload": payload})
    document = {"format": INVALIDATION_FORMAT, "log": SYSTEM_LOG, "events": events}
    return json.dumps(document, indent=1).encode("utf-8") + b"\n"


def read_invalidation_rules(
    root: Path, verifiers: Sequence[Verifier], origin: str
) -> tuple[Rule, ...]:
    """The rules of an archive's ``invalidation.json`` (none if it has none), each proven by its
    receipt under a checkpoint signed by one of ``verifiers``. Raises ``DocumentMismatchError``
    naming the first rule event that does not verify."""
    path = root / PAYLOAD_DIR / INVALIDATION_JSON
    where = f"{PAYLOAD_DIR}/{INVALIDATION_JSON}"
    if not path.exists():
        return ()
    try:
        document = json.loads(path.read_bytes())
        items = [
            (i["receipt"], base64.b64decode(i["payload"], validate=True))
            for i in document["events"]
        ]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DocumentMismatchError(f"the п. 4.4 rules are malformed: {e!r}", where=where) from e
    events = []
    for number, (text, payload) in enumerate(items):
        try:
            verified = verify_receipt(
                Receipt.decode(text), verifiers, origin=f"{origin}/{SYSTEM_LOG}"
            )
            leaf = decode_leaf(verified.leaf)
        except (VerificationError, ValueError) as e:
            raise DocumentMismatchError(
                f"rule event {number}: its receipt does not verify: {e}", where=where
            ) from e
        if leaf.topic not in RULE_TOPICS or hashlib.sha256(payload).digest() != leaf.payload_sha256:
            raise DocumentMismatchError(
                f"rule event {number}: the payload is not the one its entry commits to",
                where=where,
            )
        events.append((leaf.index, leaf.originator_id.hex, leaf.topic, payload))
    events.sort()
    return rules_from_events((oid, topic, payload) for _, oid, topic, payload in events)


class _TextSink:
    """A text stream over a bag file writer, for ``csv.writer``."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def write(self, text: str) -> int:
        self._target.write(text.encode("utf-8"))
        return len(text)


# --- offline verification ------------------------------------------------------------------------


@dataclass
class _SheetRequest:
    name: str
    document: dict[str, Any]
    class_id: UUID
    scope: Scope
    size: int
    recomputed: dict[str, Any] | None = None
    unavailable: str | None = None


@dataclass
class _LedgerObserver:
    """What the archive's entries say about its documents and missing payloads."""

    root: Path
    verifiers: Sequence[Verifier] | None = None
    """The trusted checkpoint keys (default: the bag's own)."""
    fold: SummaryFold = field(default_factory=SummaryFold)
    requests: dict[int, list[_SheetRequest]] = field(default_factory=dict)
    certified: dict[str, tuple[UUID, str]] = field(default_factory=dict)
    signatory_keys: dict[UUID, set[str]] = field(default_factory=dict)
    key_records: dict[UUID, UUID] = field(default_factory=dict)
    """Signatory key record → person."""
    act_ranges: list[tuple[int, int]] = field(default_factory=list)
    missing_runs: list[list[int]] = field(default_factory=list)
    sheets: list[_SheetRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._decode = default_transcoder().decode
        self.fold = SummaryFold(self._rules())
        directory = self.root / PAYLOAD_DIR / DOCUMENTS_DIR
        if not directory.is_dir():
            return
        for path in sorted(directory.glob("*.json")):
            where = f"{PAYLOAD_DIR}/{DOCUMENTS_DIR}/{path.name}"
            try:
                document = json.loads(path.read_bytes())
            except ValueError as e:
                raise DocumentMismatchError(f"document is not JSON: {e}", where=where) from e
            if not isinstance(document, dict) or document.get("format") != SUMMARY_FORMAT:
                continue
            try:
                request = _SheetRequest(
                    name=path.name.removesuffix(".json"),
                    document=document,
                    class_id=UUID(document["class"]["id"]),
                    scope=Scope.from_json(document["scope"]),
                    size=int(document["log"]["size"]),
                )
            except (KeyError, TypeError, ValueError) as e:
                raise DocumentMismatchError(
                    f"summary sheet is malformed: {e!r}", where=where
                ) from e
            self.sheets.append(request)
            self.requests.setdefault(request.size, []).append(request)

    def _rules(self) -> tuple[Rule, ...]:
        if not (self.root / PAYLOAD_DIR / INVALIDATION_JSON).exists():
            return ()
        try:
            header = read_log_header(self.root)
            verifiers = self.verifiers
            if verifiers is None:
                keys = (self.root / PAYLOAD_DIR / CHECKPOINT_KEYS).read_text("utf-8")
                verifiers = read_vkeys(keys, where=f"{PAYLOAD_DIR}/{CHECKPOINT_KEYS}")
        except (OSError, VerificationError):
            return ()  # the bag's own checks name what is wrong with its header or keys
        prefix = header.origin.removesuffix(f"/{header.log_id}")
        return read_invalidation_rules(self.root, verifiers, prefix)

    def observe(self, entry: ArchiveEntry) -> None:
        op = Provenance(
            entry.actor_id.hex, entry.session_id.hex, entry.credential_version, entry.recorded_at
        )
        self.fold.feed(entry.index, entry.originator_id, entry.topic, entry.payload, op)
        if entry.payload is None:
            if self.missing_runs and self.missing_runs[-1][1] == entry.index:
                self.missing_runs[-1][1] += 1
            else:
                self.missing_runs.append([entry.index, entry.index + 1])
        elif entry.topic == _CERTIFIED_TOPIC:
            event = self._decode(entry.payload)
            self.certified[event["certificate"]] = (event["signer_id"], event["vkey"])
        elif entry.topic in _SIGNATORY_TOPICS:
            event = self._decode(entry.payload)
            person = event.get("person_id") or self.key_records[entry.originator_id]
            self.key_records[entry.originator_id] = person
            self.signatory_keys.setdefault(person, set()).add(event["vkey"])
        elif entry.topic == _ACT_TOPIC:
            event = self._decode(entry.payload)
            self.act_ranges.extend((int(lo), int(hi)) for lo, hi in event["ranges"])
        for request in self.requests.pop(entry.index + 1, []):
            try:
                request.recomputed = self.fold.sheet(request.class_id, request.scope)
            except SummaryError as e:
                request.unavailable = str(e)

    def finish(self, root: Path, report: ArchiveReport) -> None:
        self._check_sheets(report)
        self._check_certificates(root)
        self._check_records(root)
        self._check_disposition(report)

    def _check_records(self, root: Path) -> None:
        """Every file the metadata lists for a record is there, with its SHA-256."""
        where = f"{PAYLOAD_DIR}/{METADATA_JSON}"
        try:
            metadata = json.loads((root / PAYLOAD_DIR / METADATA_JSON).read_bytes())
            files = [f for record in metadata["records"] for f in record["files"].values()]
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ArchiveFormatError(f"archive metadata cannot be read: {e!r}", where=where) from e
        for listed in files:
            path = root / PAYLOAD_DIR / str(listed["path"])
            if not path.is_file():
                raise DocumentMismatchError(
                    "a file of a record is missing", where=f"{PAYLOAD_DIR}/{listed['path']}"
                )
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            if digest != listed["sha256"]:
                raise DocumentMismatchError(
                    "a file of a record differs from the metadata",
                    expected=listed["sha256"],
                    found=digest,
                    where=f"{PAYLOAD_DIR}/{listed['path']}",
                )

    def _check_sheets(self, report: ArchiveReport) -> None:
        recomputed = 0
        for request in self.sheets:
            base = f"{PAYLOAD_DIR}/{DOCUMENTS_DIR}/{request.name}"
            if request.size in self.requests:
                raise DocumentMismatchError(
                    "summary sheet rests on more entries than the archive holds",
                    found=f"size {request.size}",
                    where=f"{base}.json",
                )
            if request.recomputed is None:
                report.checks.append(f"summary sheet {request.name}: {request.unavailable}")
            else:
                archived = ledger_part(request.document)
                if archived != request.recomputed:
                    raise DocumentMismatchError(
                        "summary sheet disagrees with the entries of the log",
                        expected=_first_difference(request.recomputed, archived, "recomputed"),
                        found=_first_difference(archived, request.recomputed, "archived"),
                        where=f"{base}.json",
                    )
                recomputed += 1
            csv_path = self.root / PAYLOAD_DIR / DOCUMENTS_DIR / f"{request.name}.csv"
            if csv_path.is_file():
                expected_csv = summary_csv(request.document)
                found_csv = csv_path.read_bytes()
                if found_csv != expected_csv:
                    raise DocumentMismatchError(
                        "summary sheet CSV differs from its certified data",
                        expected="the CSV of the certified JSON",
                        found=first_csv_difference(expected_csv, found_csv),
                        where=f"{base}.csv",
                    )
            pdf_path = csv_path.with_suffix(".pdf")
            if pdf_path.is_file():
                _check_pdf_attachment(pdf_path, f"{base}.pdf", request)
        report.checks.append(
            f"summary sheets: {recomputed} of {len(self.sheets)} recomputed from the entries and "
            "equal (data, CSV, PDF attachment)"
        )

    def _check_certificates(self, root: Path) -> None:
        directory = root / PAYLOAD_DIR / DOCUMENTS_DIR
        if not directory.is_dir():
            return
        for path in sorted(directory.glob("*.certificate")):
            note = path.read_text("utf-8")
            where = f"{PAYLOAD_DIR}/{DOCUMENTS_DIR}/{path.name}"
            if note not in self.certified:
                raise DocumentMismatchError(
                    "the certificate is not recorded in the log", where=where
                )
            signer, vkey = self.certified[note]
            if vkey not in self.signatory_keys.get(signer, set()):
                raise DocumentMismatchError(
                    "the certificate's key is not registered in the log for its signer",
                    found=vkey,
                    where=where,
                )

    def _check_disposition(self, report: ArchiveReport) -> None:
        acts = sorted(self.act_ranges)
        for lo, hi in self.missing_runs:
            index = lo
            for act_lo, act_hi in acts:
                if act_lo <= index < act_hi:
                    index = min(act_hi, hi)
                if index >= hi:
                    break
            if index < hi:
                raise MissingPayloadError(
                    "the payload is missing and no disposition act names this entry",
                    where=f"log {report.log_id} index {index}",
                )
        if self.missing_runs:
            report.checks.append(
                f"disposition: {report.disposed_payloads} missing payloads, each named by an act"
            )


def _first_difference(a: Any, b: Any, label: str, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), label, f"{path}.{key}")
    if isinstance(a, list) and isinstance(b, list):
        for position, (x, y) in enumerate(zip(a, b, strict=False)):
            if x != y:
                return _first_difference(x, y, label, f"{path}[{position}]")
        if len(a) != len(b):
            return f"{label}{path}: {len(a)} items"
    return f"{label}{path} = {json.dumps(a, ensure_ascii=False)}"


def _check_pdf_attachment(path: Path, where: str, request: _SheetRequest) -> None:
    from pypdf import PdfReader  # imported here: only archives with PDFs need it

    try:
        attachments = PdfReader(path).attachments
        embedded = attachments.get("document.json", [])
    except Exception as e:
        raise DocumentMismatchError(f"PDF cannot be read: {e}", where=where) from e
    data = (path.parent / f"{request.name}.json").read_bytes()
    if data not in embedded:
        raise DocumentMismatchError(
            "the PDF does not embed the certified data (document.json)", where=where
        )


def verify_archive(
    root: Path,
    *,
    verifiers: Sequence[Verifier] | None = None,
    signatories: Sequence[Verifier] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ArchiveReport:
    """Verify a school-year archive completely, offline (what ``ejournal verify-archive`` runs).

    Everything ``integrity.archive.verify_archive`` checks, then: each summary sheet recomputed
    from the entries equals the archived data, its CSV is the CSV of that data and its PDF embeds
    it; each certificate is recorded in the log, with a key registered there for its signer; each
    missing payload is named by a disposition act.

    Raises the errors of ``integrity.archive.verify_archive``, ``DocumentMismatchError`` and
    ``MissingPayloadError``; ``SummaryError`` is reported as a check that could not run (the
    sheet's payloads were disposed of), not as a failure.
    """
    observer = _LedgerObserver(root, verifiers)
    return verify_archive_bag(
        root,
        verifiers=verifiers,
        signatories=signatories,
        observers=[observer],
        progress=progress,
    )


def archive_entry_count(root: Path) -> int:
    """The number of entries an archive declares (for a progress bar's total), or 0 if its
    header cannot be read. Raises nothing."""
    try:
        record = json.loads((root / PAYLOAD_DIR / LOG_JSON).read_bytes())
        return int(record["size"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


def class_file_stem(grade: int, letter: str) -> str:
    """An ASCII file stem for a class: ``05-A`` for 5«А» (ГОСТ 7.79-2000, system B). Raises
    nothing."""
    return f"{grade:02d}-{_translit(letter)}"


_CYRILLIC = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯ"
_LATIN = "A B V G D E YO ZH Z I J K L M N O P R S T U F X CZ CH SH SHH _ Y _ E YU YA"
_TRANSLIT = dict(zip(_CYRILLIC, _LATIN.split(), strict=True))


def _translit(text: str) -> str:
    out = "".join(_TRANSLIT.get(char.upper(), char) for char in text)
    return "".join(char for char in out if char.isascii() and char.isalnum()) or "X"


def auditor_guide(header: LogHeader, metadata: Mapping[str, Any]) -> str:
    """The guide for auditors inside every archive (Russian, with the formats). Raises nothing."""
    final = metadata["provenance"]["final_checkpoint"]
    return _GUIDE.format(
        title=metadata["title"],
        identifier=metadata["identifier"],
        log_id=header.log_id,
        origin=header.origin,
        size=header.size,
        root=final["root_sha256"],
    )


_GUIDE = """\
# {title}

Идентификатор: `{identifier}`
Журнал (лог): `{log_id}`, источник контрольных точек: `{origin}`
Итоговая контрольная точка: {size} записей, корень Merkle `{root}`

Этот пакет — архив электронного журнала одного учебного года одного ОУ в формате BagIt 1.0
(RFC 8493). Его можно проверить без базы данных и без сети:

    ejournal verify-archive ПАПКА --keys district.vkeys [--json]

`--keys` — файл ключей проверки контрольных точек, полученный от района **не из этого архива**
(ключи в `data/keys/` приведены для справки; проверка только по ним не независима).
Любая программа для BagIt также проверит манифесты: `bagit.py --validate ПАПКА`.

## Что внутри (`data/`)

- `log/log.json` — какой журнал, источник (origin) и число записей;
- `log/entries.csv` — все записи журнала по порядку (см. ниже);
- `log/checkpoints.jsonl` — подписанные контрольные точки (C2SP tlog-checkpoint) с
  доказательствами согласованности между ними;
- `keys/checkpoint.vkeys` — ключи проверки подписей контрольных точек (C2SP vkey);
- `keys/signatories.vkeys` — ключи проверки подписи руководителя, заверявшего документы;
- `documents/*.json` — данные заверенных документов (сводных ведомостей): заверены именно эти
  байты;
- `documents/*.certificate` — подпись руководителя (C2SP signed note), то же, что в QR-коде
  распечатки;
- `documents/*.csv`, `*.pdf` — те же ведомости в CSV (UTF-8) и PDF/A-3b (данные вложены в PDF
  как `document.json`);
- `metadata.json` — метаданные по ГОСТ Р ИСО 15489-1: идентификатор, заголовок, создатель, даты,
  классификация, доступ, сроки хранения и даты уничтожения, форматы, происхождение, связи.

## Записи (`entries.csv`)

CSV по RFC 4180, UTF-8, строки через CRLF, первая строка — заголовок:
`index, originator_id, originator_version, topic, recorded_at, actor_id, actor_role,
credential_version, session_id, payload_sha256, leaf_hash, chain_hash, payload`.
UUID — в каноническом виде с дефисами; `recorded_at` — микросекунды с 1970-01-01T00:00:00Z (время
сервера); хэши — 64 шестнадцатеричные цифры; `payload` — байты события (JSON) в base64, **пусто**,
если содержимое уничтожено по истечении срока хранения (тогда запись и её хэши остаются, а акт об
уничтожении — событие `DispositionAct.Recorded` того же журнала — называет её номер).

Для каждой записи проверяется:

1. SHA-256(base64-декодированный payload) = `payload_sha256`;
2. лист (leaf) — байты `EJL1`, журнал, номер, событие, тема, время, пользователь, роль, версия
   учётных данных, сеанс и `payload_sha256` (формат описан побайтно в docs/ledger-format.md
   проекта ejournal); SHA-256(0x00 ‖ лист) = `leaf_hash`;
3. `chain_hash` = SHA-256(предыдущий chain_hash ‖ leaf_hash), перед записью 0 — 32 нулевых байта;
4. корень дерева Merkle (RFC 6962) первых N листьев совпадает с подписанным корнем каждой
   контрольной точки размера N, `chain_head` — с цепочкой; между соседними точками проверяется
   доказательство согласованности (RFC 9162); последняя точка покрывает все записи.

## Сводные ведомости

Каждая ведомость пересчитывается из записей журнала: периоды и предметы года
(`SchoolYear.*`), класс и зачисления (`SchoolClass.*`), группы и индивидуальные планы (для
отнесения отметки к классу), отметки аттестации (`AttestationRecord.*`) — по записям до размера
контрольной точки, на которую опирается ведомость (`log.size` в её JSON). Пересчёт должен
совпасть с архивной ведомостью (ключи `year_start, class, scope, periods, subjects, students,
marks`), а CSV — с CSV, построенным из JSON. Подпись руководителя (`.certificate`) проверяется
ключом из `keys/signatories.vkeys`, который зарегистрирован в журнале событием
`SignatoryKey.Registered`; сама подпись записана в журнал событием
`DocumentCertification.Certified`.

Проверка распечатки: QR-код содержит подпись (certificate) целиком: SHA-256 данных документа,
контрольную точку (origin, размер, корень) и подпись руководителя.
"""
