"""Writing a school-year archive (I7, п. 2.10–2.11, 3.2) from the database.

``write_archive`` exports one log up to a signed checkpoint — its entries with their payloads, every
signed checkpoint with the consistency proofs between them, the verifier keys — together with the
certified documents (summary sheets as data, CSV and PDF/A), ISO 15489 metadata
(``archive.metadata``), the п. 4.4 rules with their receipts (``archive.invalidation_rules``) and
a guide for auditors (``archive.guide``), as a BagIt 1.0 bag (``integrity.bagit``). The bag layout
and the entries format are described in ``integrity.archive`` and in the guide inside every bag.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from contextlib import closing
from datetime import UTC
from pathlib import Path
from typing import Any
from uuid import UUID

from ejournal.archive.errors import ArchiveError
from ejournal.archive.guide import GUIDE, auditor_guide
from ejournal.archive.invalidation_rules import INVALIDATION_JSON, invalidation_rules_json
from ejournal.archive.metadata import (
    ARCHIVE_FORMAT,
    METADATA_JSON,
    ArchiveContext,
    ArchivedDocument,
    archive_metadata,
)
from ejournal.archive.topics import SIGNATORY_TOPICS
from ejournal.integrity.archive import (
    CHECKPOINT_KEYS,
    CHECKPOINTS_JSONL,
    DOCUMENTS_DIR,
    ENTRIES_CSV,
    LOG_JSON,
    SIGNATORY_KEYS,
    ArchivedCheckpoint,
    ArchiveEntry,
    LogHeader,
    write_entries_header,
)
from ejournal.integrity.bagit import BagWriter
from ejournal.integrity.note import Verifier
from ejournal.ledger.checkpoints import StoredCheckpoint, load_checkpoints
from ejournal.ledger.cosignatures import cosigned_note, load_cosignatures
from ejournal.ledger.database import Database
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.replay import row_columns, uuid_bytes
from ejournal.ledger.retention import DEFAULT_SCHEDULE, RetentionSchedule, school_year_of_log
from ejournal.ledger.transcoder import default_transcoder


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

    Raises ``ArchiveError`` if the checkpoint is not the log's, the log is shorter than it or a
    п. 4.4 rule event is not yet covered by a signed checkpoint of the system log;
    ``RetentionError`` if ``log_id`` is not a school year's log or a document names a retention
    class ``schedule`` has not; ``FileExistsError`` if ``out`` exists, ``OSError``.
    """
    if checkpoint.log_id != log_id:
        raise ArchiveError(f"checkpoint of {checkpoint.log_id} given for {log_id}")
    _, year_start = school_year_of_log(log_id)
    cosignatures = load_cosignatures(database, log_id)  # the witnesses' lines ride on each note
    checkpoints = [
        ArchivedCheckpoint(
            size=stored.size,
            signed_at=stored.signed_at,
            chain_head=stored.chain_head,
            consistency_proof=stored.consistency_proof,
            note=cosigned_note(stored.note, log_id, stored.size, cosignatures),
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
                elif entry.topic in SIGNATORY_TOPICS:
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
        rules = invalidation_rules_json(database, checkpoint_verifiers, context.origin)
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
        metadata = archive_metadata(
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


class _TextSink:
    """A text stream over a bag file writer, for ``csv.writer``."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def write(self, text: str) -> int:
        self._target.write(text.encode("utf-8"))
        return len(text)
