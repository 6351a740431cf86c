"""The classes' timetables (п. 2.2): each version and its entries, as rows the week view, the
timetable read and an exporter join with subjects, rosters and bell times."""

from __future__ import annotations

from ejournal.ledger.domain import Timetable
from ejournal.projections.decoding import Fields
from ejournal.projections.handlers.base import Kind, Owned, Page, handles
from ejournal.projections.tables import (
    TIMETABLE_ENTRIES,
    TIMETABLE_VERSIONS,
    TIMETABLES,
    Operation,
    TimetableEntryRow,
    TimetableRow,
    TimetableVersionRow,
)

TIMETABLE = Kind(
    "Timetable",
    TIMETABLES,
    (
        (TIMETABLE_VERSIONS, lambda r: r.effective_from),
        (TIMETABLE_ENTRIES, lambda r: (r.effective_from, r.weekday, r.slot, r.roster_id)),
    ),
)


@handles(TIMETABLE, Timetable.Opened, creates=True)
def timetable_opened(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    state.primary = TimetableRow(
        state.aggregate_id, f["school_id"], f["year_start"], f["class_id"], op
    )


@handles(TIMETABLE, Timetable.VersionSet)
def version_set(page: Page, state: Owned, f: Fields, op: Operation) -> None:
    effective_from = f["effective_from"]
    versions = state.rows(TIMETABLE_VERSIONS)
    entries = state.rows(TIMETABLE_ENTRIES)
    # As the aggregate: the new version replaces any of its date (none is later).
    for key in [k for k in versions if k >= effective_from]:
        del versions[key]
    for key in [k for k in entries if k[0] >= effective_from]:
        del entries[key]
    versions[effective_from] = TimetableVersionRow(state.key, effective_from, op)
    for e in f["entries"]:
        row = TimetableEntryRow(
            state.key,
            effective_from,
            e["weekday"],
            e["slot"],
            e["roster_id"],
            e["subject_id"],
            e["teacher_id"],
            e["room"],
            op,
        )
        entries[(effective_from, row.weekday, row.slot, row.roster_id)] = row
