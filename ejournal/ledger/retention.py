"""Retention schedule and disposition of expired payloads (ГОСТ Р ИСО 15489-1: disposition).

Every record belongs to a retention class by its event topic. Defaults, per the brief: the class
journal (lessons, marks, attendance, homework, plans, assignments, messages) 5 years; the summary
sheets and what they are computed from (the year's setup, classes and enrolments, attestation
marks, certificates) 25 years; disposition acts themselves are kept permanently, and so is any topic
the schedule does not name. Periods are configurable (``RetentionSchedule.with_years``).

Periods run as Russian archival practice counts them: from 1 January of the year after the one in
which the records' file was closed. A school year's journal is closed at the end of August of its
second calendar year, so the 5-year records of 2025/26 may be disposed of from 1 January 2032.

The procedure (``commands.disposition.DisposeExpiredRecords`` runs it):

1. ``plan_disposition`` lists the due entries of one log that still hold a payload, as maximal runs
   of indices, with the classes, periods and disposal dates that make them due;
2. a ``DispositionAct`` naming exactly those runs is recorded in the same log (a ledger event);
3. ``remove_payloads`` sets ``state`` to NULL for those entries, in one transaction, under a permit
   that names the act (``ledger.append_only``); the database refuses any other change.

Every leaf stays (it commits to the payload's digest, not the payload), so ``verify`` and archive
verification still pass, and the act tells an auditor why each payload is missing. Should step 3
fail after step 2, the act stays recorded and every payload stays (the removal is one
transaction); running the disposition again plans the same entries, as they still hold their
payloads, and records a second act naming them before it removes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType
from typing import Any
from uuid import UUID

from ejournal.ledger.append_only import PERMITS_TABLE
from ejournal.ledger.database import Database
from ejournal.ledger.errors import LedgerError
from ejournal.ledger.recorders import EVENTS_TABLE

_SCHOOL_LOG = re.compile(r"school/(?P<school>[0-9a-f-]{36})/(?P<start>[0-9]{4})-(?P<end>[0-9]{4})")


class RetentionError(LedgerError):
    """A log that is no school year's, an unknown retention class, or a failed disposition."""


@dataclass(frozen=True, slots=True)
class RetentionClass:
    """A retention class: its name, Russian title, period in years (None: permanent), and the
    event topics that belong to it. A topic ending in ``.`` names every event of that aggregate."""

    name: str
    title: str
    years: int | None
    topics: frozenset[str]

    def disposal_date(self, year_start: int) -> date | None:
        """The first day the records of the school year ``year_start`` may be disposed of, or None
        for permanent records. Raises nothing."""
        if self.years is None:
            return None
        # The year's file closes in year_start + 1; the period counts from the next 1 January.
        return date(year_start + 2 + self.years, 1, 1)


@dataclass(frozen=True, slots=True)
class RetentionSchedule:
    """Retention classes, and the class of topics none of them names."""

    classes: tuple[RetentionClass, ...]
    default: str = "permanent"
    _by_topic: Mapping[str, RetentionClass] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names = [c.name for c in self.classes]
        if len(set(names)) != len(names) or self.default not in names:
            raise RetentionError("retention class names must be unique and include the default")
        by_topic: dict[str, RetentionClass] = {}
        for retention_class in self.classes:
            for topic in retention_class.topics:
                if topic in by_topic:
                    raise RetentionError(f"topic {topic} is in two retention classes")
                by_topic[topic] = retention_class
        object.__setattr__(self, "_by_topic", MappingProxyType(by_topic))

    def named(self, name: str) -> RetentionClass:
        """The class ``name``. Raises ``RetentionError`` if there is none."""
        for retention_class in self.classes:
            if retention_class.name == name:
                return retention_class
        raise RetentionError(f"no retention class {name!r}")

    def class_of(self, topic: str) -> RetentionClass:
        """The retention class of an event topic (exact topic first, then its aggregate).

        Raises nothing: unnamed topics get the default class.
        """
        exact = self._by_topic.get(topic)
        if exact is not None:
            return exact
        aggregate = topic.rsplit(".", 1)[0] + "."
        return self._by_topic.get(aggregate) or self.named(self.default)

    def with_years(self, years: Mapping[str, int | None]) -> RetentionSchedule:
        """The same schedule with other periods, e.g. ``{"class_journal": 6}``.

        Raises ``RetentionError`` for an unknown class or a negative period.
        """
        for name, value in years.items():
            self.named(name)
            if value is not None and value < 0:
                raise RetentionError(f"negative retention period for {name}")
        classes = tuple(replace(c, years=years.get(c.name, c.years)) for c in self.classes)
        return RetentionSchedule(classes=classes, default=self.default)


def _topics(module: str, *names: str) -> frozenset[str]:
    return frozenset(f"ledger.domain.{module}:{name}" for name in names)


CLASS_JOURNAL = RetentionClass(
    name="class_journal",
    title="Классный журнал (электронный)",
    years=5,
    topics=_topics("lesson", "Lesson.")
    | _topics("timetable", "Timetable.", "SchoolTimetable.")
    | _topics("plan", "ThematicPlan.")
    | _topics("assignments", "TeachingAssignment.")
    | _topics("people", "Guardianship.")
    | _topics("messages", "ParentMessage.")
    | _topics("rosters", "Group.MemberAdded", "Group.MemberRemoved", "IndividualCurriculum.Closed"),
)
SUMMARY_SHEET = RetentionClass(
    name="summary_sheet",
    title="Сводные ведомости итоговых отметок",
    years=25,
    topics=_topics("school", "SchoolYear.")
    | _topics("rosters", "SchoolClass.", "Group.Formed", "IndividualCurriculum.Opened")
    | _topics("enrolment", "Enrolment.")
    | _topics("attestation", "AttestationRecord.")
    | _topics("certification", "SignatoryKey.", "DocumentCertification."),
)
PERMANENT = RetentionClass(
    name="permanent",
    title="Постоянно (акты о выделении к уничтожению и записи вне перечня)",
    years=None,
    topics=_topics("disposition", "DispositionAct."),
)
DEFAULT_SCHEDULE = RetentionSchedule(classes=(CLASS_JOURNAL, SUMMARY_SHEET, PERMANENT))
"""Class journals 5 years, summary sheets 25 years, disposition acts and the rest permanently."""


def school_year_of_log(log_id: str) -> tuple[UUID, int]:
    """(school ID, first calendar year) of a school year's log ``school/<id>/<YYYY>-<YYYY+1>``.

    Raises ``RetentionError`` for any other log (the system log has no retention period).
    """
    match = _SCHOOL_LOG.fullmatch(log_id)
    if match is None or int(match["end"]) != int(match["start"]) + 1:
        raise RetentionError(f"{log_id!r} is not a school year's log")
    return UUID(match["school"]), int(match["start"])


@dataclass(frozen=True, slots=True)
class DispositionPlan:
    """What one disposition of one log removes: the due entries that still hold a payload."""

    log_id: str
    school_id: UUID
    year_start: int
    on: date
    classes: tuple[RetentionClass, ...]
    """The classes that are due on ``on``."""
    ranges: tuple[tuple[int, int], ...]
    """Maximal runs ``[from, to)`` of due entries that hold a payload."""
    count: int

    def act_classes(self) -> tuple[dict[str, Any], ...]:
        """The classes as a disposition act records them. Raises nothing."""
        return tuple(
            {"name": c.name, "years": c.years, "disposal_date": c.disposal_date(self.year_start)}
            for c in self.classes
        )

    @property
    def topics(self) -> tuple[str, ...]:
        """The topics of the due classes, sorted. Raises nothing."""
        return tuple(sorted(topic for c in self.classes for topic in c.topics))


def due_classes(
    schedule: RetentionSchedule, year_start: int, on: date
) -> tuple[RetentionClass, ...]:
    """The classes of ``schedule`` whose records of ``year_start`` are due on ``on``."""
    due = []
    for retention_class in schedule.classes:
        disposal = retention_class.disposal_date(year_start)
        if disposal is not None and disposal <= on:
            due.append(retention_class)
    return tuple(due)


def plan_disposition(
    database: Database, log_id: str, *, schedule: RetentionSchedule, on: date
) -> DispositionPlan:
    """List the entries of ``log_id`` due for disposition on ``on`` that still hold a payload.

    Streams the log once. Raises ``RetentionError`` if ``log_id`` is not a school year's log.
    """
    school_id, year_start = school_year_of_log(log_id)
    classes = due_classes(schedule, year_start, on)
    names = {c.name for c in classes}
    ranges: list[tuple[int, int]] = []
    start: int | None = None
    count = 0
    last = -1
    with closing(
        database.stream(
            f"SELECT idx, topic, state IS NULL FROM {EVENTS_TABLE} WHERE log_id = ? ORDER BY idx",
            (log_id,),
        )
    ) as rows:
        for index, topic, disposed in rows:
            due = bool(names) and not disposed and schedule.class_of(topic).name in names
            if due:
                count += 1
                if start is None:
                    start = index
            elif start is not None:
                ranges.append((start, index))
                start = None
            last = index
    if start is not None:
        ranges.append((start, last + 1))
    return DispositionPlan(
        log_id=log_id,
        school_id=school_id,
        year_start=year_start,
        on=on,
        classes=classes,
        ranges=tuple(ranges),
        count=count,
    )


def remove_payloads(
    database: Database, *, log_id: str, act_id: UUID, ranges: Iterable[tuple[int, int]]
) -> int:
    """Set ``state`` to NULL for the entries of ``log_id`` in ``ranges`` that still hold a
    payload, under a permit naming the recorded act ``act_id``; one transaction. Returns how many
    payloads were removed.

    Raises ``RetentionError`` if the database refuses (the act is not recorded in that log, or the
    trigger was not replaced), wrapping the database's error; nothing is removed then.
    """
    ranges = list(ranges)
    act = database.uuid(act_id)
    removed = 0
    try:
        with database.transaction(write=True) as cursor:
            cursor.executemany(
                f"INSERT INTO {PERMITS_TABLE} (act_id, log_id, idx_from, idx_to) "
                "VALUES (?, ?, ?, ?)",
                [(act, log_id, lo, hi) for lo, hi in ranges],
            )
            for lo, hi in ranges:
                result = cursor.execute(
                    f"UPDATE {EVENTS_TABLE} SET state = NULL "
                    "WHERE log_id = ? AND idx >= ? AND idx < ? AND state IS NOT NULL",
                    (log_id, lo, hi),
                )
                removed += max(int(result.rowcount), 0)
            cursor.execute(f"DELETE FROM {PERMITS_TABLE} WHERE act_id = ?", (act,))
    except LedgerError:
        raise
    except Exception as e:
        raise RetentionError(f"the database refused the disposition of {log_id}: {e}") from e
    return removed
