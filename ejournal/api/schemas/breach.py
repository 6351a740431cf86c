"""Compromised logins (п. 4.3–4.4): reports, invalidations, the re-entry worklist."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from ejournal.api.schemas.common import Id, Input, IsoMoment, Reason
from ejournal.api.schemas.reads import ProvenanceOut, ViewOut, names_field


def _plausible(moment: datetime) -> datetime:
    # Far-off years would overflow when moved between time zones: refuse them as input.
    if not 2000 <= moment.year <= 2200:
        message = "момент времени должен быть между 2000 и 2200 годами"
        raise PydanticCustomError("datetime_range", message)
    return moment


Moment = Annotated[IsoMoment, AfterValidator(_plausible)]


class BreachReportIn(Input):
    account_id: Id = Field(description="The compromised login's account (your own, or on behalf)")
    learned_at: Moment = Field(description="When the participant learned of the breach")
    suspected_since: Moment | None = Field(
        None, description="Since when a breach is suspected: operations from then on are flagged"
    )
    received_at: Moment | None = Field(
        None, description="Head or support: when you received the report, if before now"
    )


class ReceiptIn(Input):
    received_at: Moment = Field(description="When you (head or support) received the report")


class SessionInvalidationIn(Input):
    school_id: Id
    reason: Reason


class InvalidationRuleOut(ViewOut):
    rule: str = Field(description="breach/<id> or session/<id>: what excluded operations carry")
    rule_id: UUID
    kind: str = Field(description="breach or session")
    account_id: UUID
    session_id: UUID | None
    up_to_version: int
    since: datetime | None = Field(description="Operations from this moment on are invalid")
    review_since: datetime | None
    school_id: UUID | None
    filed_by: str
    learned_at: datetime | None
    head_received_at: datetime | None
    support_received_at: datetime | None
    deadline: date | None = Field(description="The last day the report was in time (п. 4.3)")
    late: bool
    reason: str
    provenance: ProvenanceOut


class ExcludedOperationOut(ViewOut):
    rule: str
    originator_id: UUID
    originator_version: int
    event: str = Field(description="e.g. Lesson.MarkRecorded")
    school_id: UUID | None
    detail: dict[str, Any] = Field(description="What the operation would have recorded")
    provenance: ProvenanceOut
    names: dict[UUID, str] = names_field()


class FlaggedOperationOut(ViewOut):
    rule: str
    log_id: str
    index: int
    originator_id: UUID
    originator_version: int
    event: str
    session_id: UUID
    recorded_at: datetime
