"""The rules of п. 4.4 as rows: breach reports and session invalidations.

The projector reads these rows before each page (``projections.invalidation.ProjectedRules``), and
when a page changes them it re-projects the records the changed rules reach (``Projector``).
"""

from __future__ import annotations

from datetime import datetime

from ejournal.integrity.leaf import micros
from ejournal.ledger.domain import BreachReport, SessionInvalidation
from ejournal.projections.decoding import Fields
from ejournal.projections.handlers.base import Kind, Owned, Page, handles
from ejournal.projections.tables import INVALIDATIONS, InvalidationRow, Operation

INVALIDATION = Kind("Invalidation", INVALIDATIONS)


def _micros(text: str | None) -> int | None:
    return None if text is None else micros(datetime.fromisoformat(text))


@handles(INVALIDATION, BreachReport.Filed, creates=True)
def breach_reported(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    head, support = _micros(f["head_received_at"]), _micros(f["support_received_at"])
    assert head is not None and support is not None
    state.primary = InvalidationRow(
        rule_id=state.aggregate_id,
        kind="breach",
        account_id=f["account_id"],
        target_session_id=None,
        up_to_version=f["credential_version"],
        since=min(head, support),
        review_since=_micros(f["suspected_since"]),
        school_id=f["school_id"],
        filed_by=f["filed_by"],
        learned_at=_micros(f["learned_at"]),
        head_received_at=head,
        support_received_at=support,
        deadline=f["deadline"],
        late=int(f["late"]),
        reason="",
        op=op,
    )


@handles(INVALIDATION, BreachReport.ReceiptAntedated)
def breach_receipt_antedated(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    row: InvalidationRow = state.row
    received = _micros(f["received_at"])
    if f["party"] == "head":
        row.head_received_at = received
    else:
        row.support_received_at = received
    assert row.head_received_at is not None and row.support_received_at is not None
    row.since = min(row.head_received_at, row.support_received_at)
    row.late = int(f["late"])


@handles(INVALIDATION, SessionInvalidation.Declared, creates=True)
def session_invalidated(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.primary = InvalidationRow(
        rule_id=state.aggregate_id,
        kind="session",
        account_id=f["account_id"],
        target_session_id=f["session_id"],
        up_to_version=0,
        since=0,
        review_since=None,
        school_id=f["school_id"],
        filed_by="administration",
        learned_at=None,
        head_received_at=None,
        support_received_at=None,
        deadline=None,
        late=0,
        reason=f["reason"],
        op=op,
    )
