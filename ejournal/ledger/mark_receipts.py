"""A mark's receipt for the pupil and the parents (п. 1.5, 1.6, 2.10): proof, checkable offline
with the deployment's published verifier keys alone, that the mark — its value, its lesson's day,
subject and teacher, the pupil — is in the school's signed log.

A receipt proves one entry's leaf, and a leaf commits to its event's payload by digest only; the
mark's value, pupil and lesson are in the payloads of three events. A mark receipt therefore
carries, for each entry the mark's current value rests on, a plain C2SP tlog-proof (exactly what
``GET /ledger/receipts`` and ``ejournal prove`` give) and the event's stored payload, under one
signed checkpoint:

1. the lesson's scheduling (``Lesson.Scheduled``, version 1): school, year, day, subject, teacher;
2. for a lesson the timetable re-planned, or a substitute took, before the mark was recorded, the
   last re-planning (``Lesson.Replanned``: its subject and teacher) and the last substitution
   (``Lesson.SubstituteAssigned``: who taught it), in the order they were recorded;
3. the mark's recording (``Lesson.MarkRecorded``): the pupil, the type of work, its weight and
   the value given;
4. for a corrected mark, the correction that gave it its current value (``Lesson.MarkCorrected``).

The document is JSON::

    {"format": "ejournal.mark-receipt/1",
     "explanation": "<what it proves, in Russian, for people>",
     "mark": {<the facts the records prove: MarkFacts.as_json()>},
     "records": [{"receipt": "<tlog-proof text>", "payload": "<base64 of the stored payload>"}]}

``verify_mark_receipt`` verifies each proof against trusted keys, each payload against its leaf's
digest, that the records are one lesson's mark, and that ``mark`` states what they prove. The
``explanation`` is the school's wording of those facts with the names (of the subject, the type
of work, the people) that no payload holds: it is shown, not proven. A correction's payload also
holds the teacher's reason for it: the receipt shows what the ledger committed to.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import takewhile
from typing import Any
from uuid import UUID

from ejournal.integrity._b64 import b64decode, b64encode
from ejournal.integrity.errors import (
    DocumentMismatchError,
    LeafMismatchError,
    MalformedReceiptError,
    VerificationError,
)
from ejournal.integrity.leaf import Leaf, LeafFormatError, decode_leaf, from_micros
from ejournal.integrity.note import NoteVerifier, Verifier
from ejournal.integrity.receipt import Receipt, VerifiedReceipt, verify_receipt
from ejournal.ledger.database import Cursor, Database
from ejournal.ledger.domain.lesson import Lesson
from ejournal.ledger.domain.topics import stored_topic
from ejournal.ledger.proofs import NotProvableError, prove_events
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.replay import uuid_bytes
from ejournal.ledger.transcoder import default_transcoder

FORMAT = "ejournal.mark-receipt/1"
"""The ``format`` of every mark receipt."""

SCHEDULED = stored_topic(Lesson.Scheduled)
REPLANNED = stored_topic(Lesson.Replanned)
SUBSTITUTED = stored_topic(Lesson.SubstituteAssigned)
RECORDED = stored_topic(Lesson.MarkRecorded)
CORRECTED = stored_topic(Lesson.MarkCorrected)
CHANGES = (REPLANNED, SUBSTITUTED)
"""What changes a lesson's subject or teacher before a mark is recorded in it."""


@dataclass(frozen=True, slots=True)
class ProvenRecord:
    """One entry's receipt and its event's payload as stored."""

    receipt: Receipt
    payload: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkFacts:
    """What a mark receipt proves: each fact from a payload the proven leaves commit to."""

    log_id: str
    school_id: UUID
    year_start: int
    lesson_id: UUID
    on: date
    slot: int
    subject_id: UUID
    teacher_id: UUID
    student_id: UUID
    mark_id: UUID
    value: int
    """The current value: the correction's, if the mark was corrected."""
    work_type_id: UUID
    weight: Decimal
    recorded_at: int
    """When the mark was recorded (µs since the epoch, UTC, the server's clock)."""
    corrected_at: int | None
    """When it was corrected to ``value`` (None: never)."""
    checkpoint_size: int
    signed_by: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """The facts as plain JSON values: IDs as strings, the weight as a decimal string, the
        times in ISO 8601 (UTC)."""
        return {
            "log_id": self.log_id,
            "school_id": str(self.school_id),
            "year_start": self.year_start,
            "lesson_id": str(self.lesson_id),
            "on": self.on.isoformat(),
            "slot": self.slot,
            "subject_id": str(self.subject_id),
            "teacher_id": str(self.teacher_id),
            "student_id": str(self.student_id),
            "mark_id": str(self.mark_id),
            "value": self.value,
            "work_type_id": str(self.work_type_id),
            "weight": str(self.weight),
            "recorded_at": from_micros(self.recorded_at).isoformat(),
            "corrected_at": None
            if self.corrected_at is None
            else from_micros(self.corrected_at).isoformat(),
            "checkpoint_size": self.checkpoint_size,
            "signed_by": list(self.signed_by),
        }


@dataclass(frozen=True, slots=True)
class VerifiedRecord:
    verified: VerifiedReceipt
    leaf: Leaf
    payload: dict[str, Any]


def mark_receipt(explanation: str, facts: MarkFacts, records: Sequence[ProvenRecord]) -> bytes:
    """The receipt document (UTF-8 JSON) of ``records``, which prove ``facts``."""
    document = {
        "format": FORMAT,
        "explanation": explanation,
        "mark": facts.as_json(),
        "records": [
            {"receipt": r.receipt.encode(), "payload": b64encode(r.payload)} for r in records
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8") + b"\n"


def is_mark_receipt(data: bytes) -> bool:
    """Whether ``data`` looks like a mark receipt (a JSON object) rather than a tlog-proof."""
    return data.lstrip()[:1] == b"{"


def verify_mark_receipt(
    data: bytes, verifiers: Iterable[NoteVerifier], *, where: str = "the mark receipt"
) -> tuple[MarkFacts, str, tuple[VerifiedRecord, ...]]:
    """Verify a mark receipt document: (the facts it proves, its explanation, its records).

    Raises ``MalformedReceiptError`` for a document that is not a mark receipt, the errors of
    ``verify_receipt`` for a proof, ``LeafMismatchError`` for a payload its leaf does not commit
    to, and ``DocumentMismatchError`` if ``mark`` states other facts than the records prove.
    """
    try:
        document = json.loads(data)
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise MalformedReceiptError(
                "not a mark receipt", expected=FORMAT, found=repr(str(document)[:40]), where=where
            )
        explanation = document["explanation"]
        claimed = document["mark"]
        records = [
            ProvenRecord(Receipt.decode(r["receipt"]), b64decode(r["payload"]))
            for r in document["records"]
        ]
        if not isinstance(explanation, str):
            raise TypeError("explanation")
    except VerificationError:
        raise
    except (ValueError, KeyError, TypeError) as e:
        raise MalformedReceiptError(f"malformed mark receipt: {e}", where=where) from e
    facts, verified = facts_of(records, verifiers, where=where)
    if claimed != facts.as_json():
        raise DocumentMismatchError(
            "the receipt states other facts than its records prove",
            expected=json.dumps(facts.as_json(), ensure_ascii=False),
            found=json.dumps(claimed, ensure_ascii=False)[:400],
            where=where,
        )
    return facts, explanation, verified


def facts_of(
    records: Sequence[ProvenRecord], verifiers: Iterable[NoteVerifier], *, where: str
) -> tuple[MarkFacts, tuple[VerifiedRecord, ...]]:
    """The facts ``records`` prove (see the module's docstring), and each record verified;
    raises as ``verify_mark_receipt``."""
    trusted = list(verifiers)
    if not 2 <= len(records) <= 2 + len(CHANGES) + 1:
        raise MalformedReceiptError(
            "a mark receipt proves a lesson, its re-planning and substitute, a mark and at most "
            "one correction",
            expected=f"2 to {3 + len(CHANGES)} records",
            found=f"{len(records)} records",
            where=where,
        )
    verified = tuple(_verified(record, trusted, where) for record in records)
    lesson, *rest = verified
    changes = list(takewhile(lambda r: r.leaf.topic in CHANGES, rest))
    if len(changes) == len(rest):
        raise MalformedReceiptError("the receipt proves no mark", where=where)
    recorded, *corrected = rest[len(changes) :]
    _expect(lesson, SCHEDULED, where)
    _expect(recorded, RECORDED, where)
    if lesson.leaf.originator_version != 1 or recorded.leaf.originator_id != (
        lesson.leaf.originator_id
    ):
        raise MalformedReceiptError("the mark is not of the lesson the receipt proves", where=where)
    _check_changes(lesson, changes, recorded, where)
    value, corrected_at = recorded.payload["value"], None
    for correction in corrected:
        _expect(correction, CORRECTED, where)
        if (
            correction.leaf.originator_id != lesson.leaf.originator_id
            or correction.leaf.originator_version <= recorded.leaf.originator_version
            or correction.payload["mark_id"] != recorded.payload["mark_id"]
        ):
            raise MalformedReceiptError("the correction is not of this mark", where=where)
        value, corrected_at = correction.payload["value"], correction.leaf.recorded_at
    if len({record.verified.checkpoint.origin for record in verified}) != 1:
        raise MalformedReceiptError("the records are proven in different logs", where=where)
    try:
        facts = _facts(lesson, changes, recorded, value, corrected_at, verified)
    except (KeyError, TypeError, ValueError, ArithmeticError) as e:
        raise MalformedReceiptError(f"a payload lacks a fact: {e!r}", where=where) from e
    return facts, verified


def _check_changes(
    lesson: VerifiedRecord, changes: Sequence[VerifiedRecord], recorded: VerifiedRecord, where: str
) -> None:
    """The changes are the lesson's, of different kinds, in order, before the mark."""
    versions = [c.leaf.originator_version for c in changes]
    in_order = versions == sorted(set(versions))
    before = all(1 < v < recorded.leaf.originator_version for v in versions)
    kinds = len({c.leaf.topic for c in changes}) == len(changes)
    same = all(c.leaf.originator_id == lesson.leaf.originator_id for c in changes)
    if not (in_order and before and kinds and same):
        raise MalformedReceiptError(
            "the re-planning or substitution is not of this lesson before the mark", where=where
        )


def _facts(
    lesson: VerifiedRecord,
    changes: Sequence[VerifiedRecord],
    recorded: VerifiedRecord,
    value: Any,
    corrected_at: int | None,
    verified: tuple[VerifiedRecord, ...],
) -> MarkFacts:
    scheduled, mark = lesson.payload, recorded.payload
    subject_id, teacher_id = scheduled["subject_id"], scheduled["teacher_id"]
    for change in changes:
        if change.leaf.topic == REPLANNED:
            subject_id = change.payload["subject_id"]
        # A substitution names who taught the lesson: the substitute, or its own teacher again.
        teacher_id = change.payload["teacher_id"]
    last = verified[-1].verified
    return MarkFacts(
        log_id=lesson.leaf.log_id,
        school_id=scheduled["school_id"],
        year_start=scheduled["year_start"],
        lesson_id=lesson.leaf.originator_id,
        on=scheduled["on"],
        slot=scheduled["slot"],
        subject_id=subject_id,
        teacher_id=teacher_id,
        student_id=mark["student_id"],
        mark_id=mark["mark_id"],
        value=value,
        work_type_id=mark["work_type_id"],
        weight=Decimal(mark["weight"]),
        recorded_at=recorded.leaf.recorded_at,
        corrected_at=corrected_at,
        checkpoint_size=min(record.verified.checkpoint.size for record in verified),
        signed_by=tuple(sorted(last.note.signatures)),
    )


def _verified(record: ProvenRecord, verifiers: list[NoteVerifier], where: str) -> VerifiedRecord:
    verified = verify_receipt(record.receipt, verifiers)
    try:
        leaf = decode_leaf(verified.leaf)
    except LeafFormatError as e:
        raise MalformedReceiptError(f"the proven leaf is malformed: {e}", where=where) from e
    if leaf.index != verified.index or not verified.checkpoint.origin.endswith(f"/{leaf.log_id}"):
        raise MalformedReceiptError(
            "the leaf names another index or log than its proof",
            expected=f"{verified.checkpoint.origin} index {verified.index}",
            found=f"{leaf.log_id} index {leaf.index}",
            where=where,
        )
    digest = hashlib.sha256(record.payload).digest()
    if digest != leaf.payload_sha256:
        raise LeafMismatchError(
            "the payload is not the one the proven entry commits to",
            expected=leaf.payload_sha256.hex(),
            found=digest.hex(),
            where=f"{where}: {leaf.log_id} index {leaf.index}",
        )
    try:
        payload = default_transcoder().decode(record.payload)
    except ValueError as e:
        raise MalformedReceiptError(f"a payload is not JSON: {e}", where=where) from e
    if not isinstance(payload, dict):
        raise MalformedReceiptError("a payload is not a JSON object", where=where)
    return VerifiedRecord(verified, leaf, payload)


def _expect(record: VerifiedRecord, topic: str, where: str) -> None:
    if record.leaf.topic != topic:
        raise MalformedReceiptError(
            "a record of another kind than the receipt needs",
            expected=topic,
            found=record.leaf.topic,
            where=f"{where}: {record.leaf.log_id} index {record.leaf.index}",
        )


def prove_mark(
    database: Database,
    lesson_id: UUID,
    entries: Sequence[int],
    *,
    verifiers: Sequence[Verifier],
    origin: str,
) -> tuple[MarkFacts, list[ProvenRecord]]:
    """The facts and records of a mark's receipt: the lesson ``lesson_id``'s scheduling, its last
    re-planning and substitution before the mark, and the ``entries`` (notification IDs: the
    mark's recording, then the correction that gave it its current value, if any), proven under
    the log's latest checkpoint and checked as ``verify_mark_receipt`` checks them.

    Raises ``NotProvableError`` for an entry that is not there, a payload removed at the end of
    its retention, or a log no signed checkpoint covers yet; and ``VerificationError`` if the
    stored log does not support the proof.
    """
    marked: list[tuple[UUID, int]] = []
    # The notification ID is SQLite's rowid (the table's own column on PostgreSQL).
    nid_column = "rowid" if database.dialect == "sqlite" else "notification_id"
    with database.transaction(write=False) as cursor:
        for nid in entries:
            cursor.execute(
                f"SELECT originator_id, originator_version FROM {EVENTS_TABLE} "
                f"WHERE {nid_column} = ?",
                (nid,),
            )
            row = cursor.fetchone()
            if row is None:
                raise NotProvableError(f"no entry of notification ID {nid}")
            marked.append((UUID(bytes=uuid_bytes(row[0])), int(row[1])))
        changes = _changes_before(cursor, database, lesson_id, marked[0][1] if marked else 1)
    events = [(lesson_id, 1), *changes, *marked]
    proven = prove_events(database, events, verifiers=verifiers, origin=origin)
    records = []
    for (originator_id, version), (receipt, payload) in zip(events, proven, strict=True):
        if payload is None:
            raise NotProvableError(f"the payload of {originator_id} v{version} was removed")
        records.append(ProvenRecord(receipt, payload))
    facts, _ = facts_of(records, verifiers, where=f"the receipt of lesson {lesson_id}")
    return facts, records


def _changes_before(
    cursor: Cursor, database: Database, lesson_id: UUID, version: int
) -> list[tuple[UUID, int]]:
    """The lesson's last re-planning and last substitution recorded before its ``version``, in
    order: (lesson, version) of each."""
    key = lesson_id if database.dialect == "postgres" else lesson_id.hex
    cursor.execute(
        f"SELECT topic, MAX(originator_version) FROM {EVENTS_TABLE} WHERE originator_id = ? "
        "AND originator_version < ? AND topic IN (?, ?) GROUP BY topic",
        (key, version, *CHANGES),
    )
    return sorted((lesson_id, int(row[1])) for row in cursor.fetchall())
