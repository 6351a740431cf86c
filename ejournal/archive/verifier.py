"""The complete offline verification of a school-year archive (what ``ejournal verify-archive``
runs): ``integrity.archive.verify_archive`` plus what needs the ledger's payload format.

``verify_archive`` runs ``integrity.archive.verify_archive`` with an observer that, from the
entries alone, recomputes every summary sheet and compares it with the archived one (data and CSV),
checks that each document's certificate is recorded in the log with a key registered there, that
each PDF embeds the certified data (``archive.printouts``), that every file the metadata lists is
there with its digest, and that every missing payload is named by a disposition act. The rules of
п. 4.4 are applied to the entries once their receipts verify (``archive.invalidation_rules``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from ejournal.archive.invalidation_rules import INVALIDATION_JSON, read_invalidation_rules
from ejournal.archive.metadata import METADATA_JSON
from ejournal.archive.printouts import check_pdf_embeds
from ejournal.archive.summary import (
    SUMMARY_FORMAT,
    Scope,
    SummaryError,
    SummaryFold,
    first_csv_difference,
    ledger_part,
    summary_csv,
)
from ejournal.archive.topics import ACT_TOPIC, CERTIFIED_TOPIC, SIGNATORY_TOPICS
from ejournal.integrity.archive import (
    CHECKPOINT_KEYS,
    DOCUMENTS_DIR,
    LOG_JSON,
    ArchiveEntry,
    ArchiveReport,
    read_log_header,
    read_vkeys,
)
from ejournal.integrity.archive import verify_archive as verify_archive_bag
from ejournal.integrity.bagit import PAYLOAD_DIR
from ejournal.integrity.errors import (
    ArchiveFormatError,
    DocumentMismatchError,
    MissingPayloadError,
    VerificationError,
)
from ejournal.integrity.note import Verifier
from ejournal.ledger.invalidation import Provenance, Rule
from ejournal.ledger.transcoder import default_transcoder


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
        elif entry.topic == CERTIFIED_TOPIC:
            event = self._decode(entry.payload)
            self.certified[event["certificate"]] = (event["signer_id"], event["vkey"])
        elif entry.topic in SIGNATORY_TOPICS:
            event = self._decode(entry.payload)
            person = event.get("person_id") or self.key_records[entry.originator_id]
            self.key_records[entry.originator_id] = person
            self.signatory_keys.setdefault(person, set()).add(event["vkey"])
        elif entry.topic == ACT_TOPIC:
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
            directory = self.root / PAYLOAD_DIR / DOCUMENTS_DIR
            csv_path = directory / f"{request.name}.csv"
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
                check_pdf_embeds(pdf_path, directory / f"{request.name}.json", where=f"{base}.pdf")
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
