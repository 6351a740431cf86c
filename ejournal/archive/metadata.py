"""The ISO 15489 metadata of a school-year archive (``data/metadata.json``, ГОСТ Р ИСО 15489-1):
identifier, title, creator, dates, classification, access, the retention classes with their
disposal dates, formats, provenance up to the final checkpoint, relationships, and one record per
certified document with its files and their digests.

``ArchiveContext`` says who and what the archive is about; ``ArchivedDocument`` is one certified
document the archive carries, with its retention class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from ejournal.integrity.archive import DOCUMENTS_DIR, LogHeader
from ejournal.ledger.checkpoints import StoredCheckpoint
from ejournal.ledger.retention import RetentionSchedule

ARCHIVE_FORMAT = "ejournal-school-year-archive/1"
METADATA_JSON = "metadata.json"


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


def archive_metadata(
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
    """The ISO 15489 metadata of the archive of ``header``'s log up to ``final``: ``digests``
    maps each document file's name to its SHA-256 (hex), ``entries`` and ``disposed`` count the
    log's entries and the missing payloads among them.

    Raises ``RetentionError`` if a document names a retention class ``schedule`` has not.
    """
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
