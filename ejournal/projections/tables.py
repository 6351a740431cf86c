"""Read-model rows and their tables: one slotted dataclass per table, the SQL derived from it.

Every row that comes from an operation carries that operation's provenance (``Operation``: the
notification ID of its ledger entry, the actor's account, session and credential version, and the
server's recorded time), stored as five trailing columns. Values are stored the
same way on SQLite and PostgreSQL: UUIDs as 32-digit lower-case hex text (as the ledger payloads
carry them), dates as ISO text (``2025-09-01``), times of day as ISO text (``08:30:00``), weights
as decimal text (``2`` or ``1.5``: never a float), flags as 0/1 and instants as microseconds since
the epoch (UTC).

Each table belongs to one aggregate type, except the append-only ones (history, exclusions) whose
rows nobody rewrites. An aggregate's main row is keyed by the aggregate's ID; the rows it owns
(a lesson's marks, a class's members …) are keyed first by the aggregate's *key*: the notification
ID of the event that created it, which is also the main row's ``nid``. Keys grow with time, so the
bulk of the rows is appended at the end of its primary-key index instead of at random places in
it, which made a rebuild twice as fast as keying them by the aggregate's random UUID.
"""

from __future__ import annotations

import dataclasses
import operator
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

SCHEMA_VERSION = 3
"""Bumped whenever a table changes; the projector then rebuilds the read models from scratch."""


class Operation(NamedTuple):
    """The provenance of a row: the operation (ledger entry) that produced it (I8).

    The notification ID names the entry; its log, index and the actor's role are in the ledger's
    row of that ID. The actor's account, session and credential version and the recorded time
    are kept here as well, since they are what invalidation rules (п. 4.4) and the time rules of
    the monitor ask about. A tuple, so that it is appended to a row's values as its trailing
    columns as it is.
    """

    nid: int
    """The event's notification ID: its position in the whole store (gaps are possible)."""
    actor_id: str
    session_id: str
    credential_version: int
    recorded_at: int
    """Microseconds since the epoch (UTC), by the server clock."""


PROVENANCE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("nid", "BIGINT NOT NULL"),
    ("actor_id", "TEXT NOT NULL"),
    ("session_id", "TEXT NOT NULL"),
    ("credential_version", "BIGINT NOT NULL"),
    ("recorded_at", "BIGINT NOT NULL"),
)

Row = Any
"""An instance of one of the row dataclasses below."""


class Table:
    """A read-model table, described by a row dataclass whose last field is ``op: Operation``."""

    def __init__(
        self,
        row_type: type,
        name: str,
        *,
        key: Sequence[str],
        owner: str | None,
        indexes: Sequence[Sequence[str]] = (),
    ) -> None:
        hints = typing.get_type_hints(row_type)
        fields = [f.name for f in dataclasses.fields(row_type)]
        if fields[-1] != "op":
            raise TypeError(f"{row_type.__name__}: the last field must be op: Operation")
        self.row_type = row_type
        self.name = name
        self.fields: tuple[str, ...] = tuple(fields[:-1])
        self.columns: tuple[tuple[str, str], ...] = (
            *((f, _sql_type(hints[f])) for f in self.fields),
            *PROVENANCE_COLUMNS,
        )
        self.column_names: tuple[str, ...] = tuple(c for c, _ in self.columns)
        self.key: tuple[str, ...] = tuple(key)
        self.owner = owner
        self.indexes = tuple(tuple(i) for i in indexes)
        self.key_positions = tuple(self.column_names.index(k) for k in self.key)
        self.owner_position = -1 if owner is None else self.column_names.index(owner)
        self._own_values = operator.attrgetter(*self.fields)
        self._width = len(self.fields)

    def values(self, row: Row) -> tuple[Any, ...]:
        """The row as the table stores it: its own columns, then its provenance."""
        return self._own_values(row) + row.op  # type: ignore[no-any-return]

    def row(self, values: Sequence[Any]) -> Row:
        """A row from its stored values (the inverse of ``values``)."""
        width = self._width
        return self.row_type(*values[:width], Operation(*values[width:]))

    def key_of(self, values: Sequence[Any]) -> tuple[Any, ...]:
        """The primary key of stored values."""
        return tuple(values[i] for i in self.key_positions)

    def __repr__(self) -> str:
        return f"Table({self.name})"


def _sql_type(hint: Any) -> str:
    """SQL for a field's annotation: the same types on SQLite and PostgreSQL."""
    optional = False
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        members = [a for a in typing.get_args(hint) if a is not type(None)]
        optional = len(members) < len(typing.get_args(hint))
        (hint,) = members
    sql = {str: "TEXT", int: "BIGINT"}[hint]
    return sql if optional else f"{sql} NOT NULL"


# --- the rows -------------------------------------------------------------------------------------


@dataclass(slots=True)
class SchoolRow:
    school_id: str
    name: str
    time_zone: str
    op: Operation


@dataclass(slots=True)
class AccountRow:
    """An account and the person behind it: attributes operations (actor) to people (teachers)."""

    account_id: str
    person_id: str
    op: Operation


@dataclass(slots=True)
class YearRow:
    """A school year and when its sections were first set up (п. 2.2): µs, or None if not yet."""

    year_id: str
    school_id: str
    year_start: int
    starts_on: str
    ends_on: str
    closed: int
    periods_at: int | None
    bells_at: int | None
    subjects_at: int | None
    work_types_at: int | None
    op: Operation


@dataclass(slots=True)
class PeriodRow:
    year_key: int
    scheme: str
    name: str
    ordinal: int
    starts_on: str
    ends_on: str
    op: Operation


@dataclass(slots=True)
class BellSlotRow:
    """Lesson ``number`` of bell schedule ``schedule``: its start and end (ISO times)."""

    year_key: int
    schedule: str
    number: int
    starts_at: str
    ends_at: str
    op: Operation


@dataclass(slots=True)
class HolidayRow:
    year_key: int
    name: str
    starts_on: str
    ends_on: str
    op: Operation


@dataclass(slots=True)
class SubjectRow:
    year_key: int
    subject_id: str
    name: str
    op: Operation


@dataclass(slots=True)
class WorkTypeRow:
    year_key: int
    work_type_id: str
    name: str
    weight: str
    written: int
    op: Operation


@dataclass(slots=True)
class RosterRow:
    """A class (its own ``class_id``), a group of a class, or a student's individual curriculum."""

    roster_id: str
    kind: str
    school_id: str
    year_start: int
    class_id: str
    name: str
    subject_id: str | None
    grade: int | None
    period_scheme: str | None
    class_teacher_id: str | None
    student_id: str | None
    bell_schedule: str | None
    """A class's bell schedule (its groups' and curricula's lessons ring by it too)."""
    op: Operation


@dataclass(slots=True)
class MemberRow:
    """One stint of a student in a roster: from ``starts_on`` up to, not including, ``ends_on``."""

    roster_key: int
    student_id: str
    starts_on: str
    ends_on: str | None
    op: Operation


@dataclass(slots=True)
class AssignmentRow:
    assignment_id: str
    school_id: str
    year_start: int
    roster_id: str
    subject_id: str
    teacher_id: str
    op: Operation


@dataclass(slots=True)
class AssignmentStintRow:
    assignment_key: int
    starts_on: str
    ends_on: str | None
    op: Operation


@dataclass(slots=True)
class GuardianshipRow:
    guardianship_id: str
    school_id: str
    year_start: int
    student_id: str
    op: Operation


@dataclass(slots=True)
class GuardianRow:
    guardianship_key: int
    parent_id: str
    op: Operation


@dataclass(slots=True)
class PlanRow:
    plan_id: str
    roster_id: str
    subject_id: str
    op: Operation


@dataclass(slots=True)
class PlanItemRow:
    plan_key: int
    number: int
    topic: str
    hours: int
    op: Operation


@dataclass(slots=True)
class TimetableRow:
    """A class's timetable; ``op`` opened it."""

    timetable_id: str
    school_id: str
    year_start: int
    class_id: str
    op: Operation


@dataclass(slots=True)
class TimetableVersionRow:
    """A version of a class's timetable, in force from ``effective_from``; ``op`` set it."""

    timetable_key: int
    effective_from: str
    op: Operation


@dataclass(slots=True)
class TimetableEntryRow:
    """One weekly lesson of a timetable version: ISO ``weekday`` (1 Monday), bell ``slot``."""

    timetable_key: int
    effective_from: str
    weekday: int
    slot: int
    roster_id: str
    subject_id: str
    teacher_id: str
    room: str
    op: Operation


@dataclass(slots=True)
class LessonRow:
    """A lesson with its topic, homework and register summary.

    ``op`` is the scheduling; the topic, homework and register columns name the operation that last
    set them (``*_nid``, full provenance in the history table). ``homework_first_at`` and
    ``register_first_at`` are when they were first entered, for the time rules (п. 2.5, 2.7).

    ``teacher_id`` is who teaches the lesson: a substitute's lesson is theirs (their lessons, the
    monitor), ``substitute_for`` then the lesson's own teacher. ``plan_nid`` names the last
    re-planning by the timetable, ``substitution_nid`` the substitution (a mark's receipt proves
    both); a cancelled lesson keeps its reason.
    """

    lesson_id: str
    school_id: str
    year_start: int
    roster_id: str
    roster_kind: str
    class_id: str
    subject_id: str
    teacher_id: str
    held_on: str
    slot: int
    starts_at: str
    ends_at: str
    topic: str
    plan_item: int | None
    topic_nid: int | None
    homework_text: str | None
    homework_pages: str | None
    homework_tasks: str | None
    homework_due_on: str | None
    homework_nid: int | None
    homework_first_at: int | None
    registers: int
    register_nid: int | None
    register_first_at: int | None
    room: str
    plan_nid: int | None
    substitute_for: str | None
    substitution_reason: str | None
    substitution_nid: int | None
    cancelled: int
    cancel_reason: str | None
    op: Operation


@dataclass(slots=True)
class AttendanceRow:
    """A code of the current register; a student without one was present."""

    lesson_key: int
    student_id: str
    code: str
    op: Operation


@dataclass(slots=True)
class MarkRow:
    """A lesson mark: its current value, its first value, and whether it was cancelled.

    ``op`` is the recording; ``changed_nid`` the last correction or cancellation (in history).
    ``recorded_on`` is the school's local date of the recording, for the time rules (п. 2.5).
    """

    lesson_key: int
    mark_id: str
    student_id: str
    value: int
    first_value: int
    work_type_id: str
    weight: str
    checked_on: str | None
    cancelled: int
    corrections: int
    changed_nid: int | None
    recorded_on: str
    op: Operation


@dataclass(slots=True)
class CommentRow:
    lesson_key: int
    comment_id: str
    student_id: str
    text: str
    op: Operation


@dataclass(slots=True)
class MessageRow:
    """A message to a student's parents; ``sent_on`` is the school's local date of sending."""

    message_id: str
    school_id: str
    year_start: int
    roster_id: str
    subject_id: str
    student_id: str
    author_id: str
    text: str
    sent_on: str
    op: Operation


@dataclass(slots=True)
class AttestationRecordRow:
    record_id: str
    school_id: str
    year_start: int
    student_id: str
    subject_id: str
    op: Operation


@dataclass(slots=True)
class AttestationRow:
    """The current period, year, exam or final mark (``period`` is '' for all but period marks).

    ``op`` set the current value; ``first_at`` is when the first value was entered (п. 2.8).
    """

    record_key: int
    kind: str
    period: str
    roster_id: str
    value: str
    revisions: int
    first_at: int
    op: Operation


@dataclass(slots=True)
class HistoryRow:
    """One operation on a changeable item of the journal: a lesson's topic, its register, its
    homework, a mark's correction or cancellation, an attestation mark. Append-only."""

    item: str
    """topic, attendance, homework, mark, attestation, lesson (re-planned, substituted,
    cancelled)"""
    owner_key: int
    """The lesson or attestation record (the notification ID of its creation)."""
    item_id: str
    """The mark's ID, ``kind/period`` of an attestation mark, or '' for a lesson's own items."""
    student_id: str | None
    action: str
    value: str
    reason: str
    op: Operation


@dataclass(slots=True)
class ExcludedRow:
    """An operation the invalidation rules excluded from every read model (п. 4.4): the re-entry
    worklist of its author and its school's administration."""

    originator_id: str
    originator_version: int
    topic: str
    rule: str
    school_id: str | None
    """The school of the record it changed (None for records of no school)."""
    detail: str
    """The event's payload as JSON (plain values: IDs as hex): what would have to be re-entered."""
    op: Operation


@dataclass(slots=True)
class InvalidationRow:
    """A rule of п. 4.4: a breach report (``kind`` breach) or a session invalidation (session)."""

    rule_id: str
    kind: str
    account_id: str
    target_session_id: str | None
    """The session a session rule invalidates (``session_id`` is the provenance's)."""
    up_to_version: int
    """A breach rule reaches this credential version of the account and older ones."""
    since: int
    """Operations recorded from this moment on (µs, UTC) are invalid; 0 for a session rule."""
    review_since: int | None
    """A breach suspected since this moment: operations until ``since`` are flagged for review."""
    school_id: str | None
    filed_by: str
    """owner, head or support (a breach); the administration (a session)."""
    learned_at: int | None
    head_received_at: int | None
    support_received_at: int | None
    deadline: str | None
    """The last day a breach report was in time (п. 4.3), ISO."""
    late: int
    reason: str
    op: Operation


SCHOOLS = Table(SchoolRow, "rm_school", key=("school_id",), owner="school_id")
ACCOUNTS = Table(AccountRow, "rm_account", key=("account_id",), owner="account_id")
YEARS = Table(
    YearRow, "rm_year", key=("year_id",), owner="year_id", indexes=[("school_id", "year_start")]
)
PERIODS = Table(PeriodRow, "rm_period", key=("year_key", "scheme", "name"), owner="year_key")
HOLIDAYS = Table(HolidayRow, "rm_holiday", key=("year_key", "nid"), owner="year_key")
BELL_SLOTS = Table(
    BellSlotRow, "rm_bell_slot", key=("year_key", "schedule", "number"), owner="year_key"
)
SUBJECTS = Table(SubjectRow, "rm_subject", key=("year_key", "subject_id"), owner="year_key")
WORK_TYPES = Table(WorkTypeRow, "rm_work_type", key=("year_key", "work_type_id"), owner="year_key")
ROSTERS = Table(
    RosterRow,
    "rm_roster",
    key=("roster_id",),
    owner="roster_id",
    indexes=[("class_id",), ("school_id", "year_start"), ("nid",)],
)
MEMBERS = Table(
    MemberRow,
    "rm_member",
    key=("roster_key", "nid"),
    owner="roster_key",
    indexes=[("student_id",)],
)
ASSIGNMENTS = Table(
    AssignmentRow,
    "rm_assignment",
    key=("assignment_id",),
    owner="assignment_id",
    indexes=[("teacher_id",), ("roster_id",)],
)
ASSIGNMENT_STINTS = Table(
    AssignmentStintRow,
    "rm_assignment_stint",
    key=("assignment_key", "nid"),
    owner="assignment_key",
)
GUARDIANSHIPS = Table(
    GuardianshipRow,
    "rm_guardianship",
    key=("guardianship_id",),
    owner="guardianship_id",
    indexes=[("student_id",)],
)
GUARDIANS = Table(
    GuardianRow,
    "rm_guardian",
    key=("guardianship_key", "parent_id"),
    owner="guardianship_key",
    indexes=[("parent_id",)],
)
PLANS = Table(
    PlanRow, "rm_plan", key=("plan_id",), owner="plan_id", indexes=[("roster_id", "subject_id")]
)
PLAN_ITEMS = Table(PlanItemRow, "rm_plan_item", key=("plan_key", "number"), owner="plan_key")
TIMETABLES = Table(
    TimetableRow,
    "rm_timetable",
    key=("timetable_id",),
    owner="timetable_id",
    indexes=[("class_id",)],
)
TIMETABLE_VERSIONS = Table(
    TimetableVersionRow,
    "rm_timetable_version",
    key=("timetable_key", "effective_from"),
    owner="timetable_key",
)
TIMETABLE_ENTRIES = Table(
    TimetableEntryRow,
    "rm_timetable_entry",
    key=("timetable_key", "effective_from", "weekday", "slot", "roster_id"),
    owner="timetable_key",
)
LESSONS = Table(
    LessonRow,
    "rm_lesson",
    key=("lesson_id",),
    owner="lesson_id",
    indexes=[
        ("class_id", "held_on"),
        ("roster_id", "held_on"),
        ("school_id", "year_start", "held_on"),
    ],
)
ATTENDANCE = Table(
    AttendanceRow, "rm_attendance", key=("lesson_key", "student_id"), owner="lesson_key"
)
# A mark or a comment is identified within its lesson by its ID; in the table by its recording's
# notification ID, which never changes either and makes a narrower, append-only primary key.
MARKS = Table(MarkRow, "rm_mark", key=("lesson_key", "nid"), owner="lesson_key")
COMMENTS = Table(CommentRow, "rm_comment", key=("lesson_key", "nid"), owner="lesson_key")
MESSAGES = Table(
    MessageRow,
    "rm_message",
    key=("message_id",),
    owner="message_id",
    indexes=[("student_id", "sent_on")],
)
ATTESTATION_RECORDS = Table(
    AttestationRecordRow,
    "rm_attestation_record",
    key=("record_id",),
    owner="record_id",
    indexes=[("school_id", "year_start", "student_id")],
)
ATTESTATION = Table(
    AttestationRow, "rm_attestation", key=("record_key", "kind", "period"), owner="record_key"
)
HISTORY = Table(HistoryRow, "rm_history", key=("nid",), owner=None, indexes=[("owner_key",)])
EXCLUDED = Table(
    ExcludedRow, "rm_excluded", key=("nid",), owner=None, indexes=[("rule",), ("school_id",)]
)
INVALIDATIONS = Table(InvalidationRow, "rm_invalidation", key=("rule_id",), owner="rule_id")

TABLES: tuple[Table, ...] = (
    SCHOOLS,
    ACCOUNTS,
    YEARS,
    PERIODS,
    HOLIDAYS,
    BELL_SLOTS,
    SUBJECTS,
    WORK_TYPES,
    ROSTERS,
    MEMBERS,
    ASSIGNMENTS,
    ASSIGNMENT_STINTS,
    GUARDIANSHIPS,
    GUARDIANS,
    PLANS,
    PLAN_ITEMS,
    TIMETABLES,
    TIMETABLE_VERSIONS,
    TIMETABLE_ENTRIES,
    LESSONS,
    ATTENDANCE,
    MARKS,
    COMMENTS,
    MESSAGES,
    ATTESTATION_RECORDS,
    ATTESTATION,
    HISTORY,
    EXCLUDED,
    INVALIDATIONS,
)
"""Every read-model table, in the order they are written."""

TRACKING_TABLE = "rm_tracking"
