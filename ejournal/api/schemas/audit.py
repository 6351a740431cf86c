"""What auditors and the administration read of the ledger (I5–I8) and of the access log."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import Field

from ejournal.api.schemas.common import Output
from ejournal.api.schemas.reads import names_field


class LogOut(Output):
    log_id: str
    size: int
    signed_size: int = Field(description="Entries covered by the latest signed checkpoint")


class EntryOut(Output):
    log_id: str
    index: int
    originator_id: UUID
    originator_version: int
    topic: str
    recorded_at: datetime
    actor_id: UUID
    actor_role: str
    credential_version: int
    session_id: UUID
    payload_sha256: str = Field(description="hex")
    leaf_hash: str = Field(description="hex")
    chain_hash: str = Field(description="hex")


class CheckpointOut(Output):
    log_id: str
    size: int
    root_hash: str = Field(description="hex")
    signed_at: datetime
    note: str = Field(description="The C2SP signed note (tlog-checkpoint)")


class ReceiptOut(Output):
    log_id: str
    index: int
    receipt: str = Field(description="C2SP tlog-proof; verify offline with ejournal verify-proof")


class LogReportOut(Output):
    log_id: str
    size: int
    root: str
    checkpoints: int
    signed_size: int


class VerificationOut(Output):
    ok: bool
    entries: int = 0
    logs: list[LogReportOut] = Field(default_factory=list)
    error: str | None = None
    message: str | None = None
    where: str | None = None
    trusted_keys: str = Field(
        default="the database's key store: verify with `ejournal verify --keys FILE` for an "
        "independent check"
    )


class AccessOut(Output):
    id: int
    at: datetime
    reader_account_id: UUID
    reader_role: str
    session_id: UUID
    school_id: UUID | None
    subject_id: UUID = Field(description="Whose data: a person, or a class or roster")
    what: str
    names: dict[UUID, str] = names_field()
