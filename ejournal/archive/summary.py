"""The summary sheet (сводная ведомость, п. 2.9) recomputed from a year log's payloads alone.

An archive holds each class's summary sheet as data (``document.json``, certified), as CSV and as
PDF/A. This module computes the sheet's content from the events of the log — the year's periods and
subjects, the classes and their enrolments, the attestation marks — so that an auditor's verifier,
with no database, checks that the archived sheet is exactly what the entries say. It depends only
on the decoded payloads (``ledger.transcoder``), never on a read model.

It reads only records of the 25-year retention class (``ledger.retention.SUMMARY_SHEET``): the
sheet stays recomputable after the class journal's payloads are disposed of.

Which class a mark belongs to: the class of the roster it was set in (a class, or the class of a
group or individual curriculum). Students are listed in order of first enrolment; subjects in the
order they were added to the year; marks by subject, then period (in the scheme's order), year,
exam, final.

Operations that a rule of п. 4.4 declares invalid (``ledger.invalidation``) are left out, as the
read models leave them out: the fold is given the rules and each entry's provenance.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from ejournal.ledger.invalidation import Provenance, Rule
from ejournal.ledger.transcoder import default_transcoder

SUMMARY_FORMAT = "ejournal-summary-sheet/1"
DOCUMENT_KIND = "summary-sheet"
KIND_ORDER = ("period", "year", "exam", "final")
KIND_TITLES = {"period": "за период", "year": "годовая", "exam": "экзамен", "final": "итоговая"}
LEDGER_KEYS = ("year_start", "class", "scope", "periods", "subjects", "students", "marks")
"""The keys of a summary-sheet document that the log determines (the rest: title, school, names,
the checkpoint, are context)."""
CSV_COLUMNS = (
    "row",
    "student_id",
    "student",
    "enrolled_on",
    "withdrawn_on",
    "subject_id",
    "subject",
    "attestation",
    "period",
    "value",
    "revisions",
    "entry_index",
)

_SCHOOL = "ledger.domain.school:SchoolYear."
_CLASS = "ledger.domain.rosters:SchoolClass."
_GROUP_FORMED = "ledger.domain.rosters:Group.Formed"
_CURRICULUM_OPENED = "ledger.domain.rosters:IndividualCurriculum.Opened"
_RECORD = "ledger.domain.attestation:AttestationRecord."
RELEVANT_PREFIXES = (_SCHOOL, _CLASS, _GROUP_FORMED, _CURRICULUM_OPENED, _RECORD)
"""Topics the summary sheet is computed from."""


class SummaryError(ValueError):
    """A payload the summary sheet needs is missing or not what its topic promises."""


@dataclass
class _Class:
    class_id: UUID
    grade: int
    letter: str
    period_scheme: str
    stints: dict[UUID, list[list[date | None]]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.grade}«{self.letter}»"


@dataclass(frozen=True, slots=True)
class Scope:
    """The whole year (every attestation), or one period's marks."""

    period: str | None = None

    def as_json(self) -> dict[str, str]:
        return (
            {"kind": "year"} if self.period is None else {"kind": "period", "period": self.period}
        )

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> Scope:
        """Raises ``SummaryError`` for an unknown scope."""
        if value.get("kind") == "year":
            return cls()
        if value.get("kind") == "period" and isinstance(value.get("period"), str):
            return cls(value["period"])
        raise SummaryError(f"unknown summary-sheet scope {value!r}")

    def admits(self, kind: str, period: str | None) -> bool:
        return self.period is None or (kind == "period" and period == self.period)


class SummaryFold:
    """Folds a year log's events, in index order, into the state summary sheets are read from."""

    def __init__(self, rules: Sequence[Rule] = ()) -> None:
        self._decode = default_transcoder().decode
        self.rules = tuple(rules)
        self.year_start: int | None = None
        self.schemes: dict[str, list[str]] = {}
        self.subjects: dict[UUID, str] = {}
        self.classes: dict[UUID, _Class] = {}
        self.roster_class: dict[UUID, UUID] = {}
        self.records: dict[UUID, tuple[UUID, UUID]] = {}
        self.marks: dict[tuple[UUID, UUID, UUID, str, str | None], tuple[str, int, int]] = {}
        self.missing: list[int] = []
        """Indices of relevant entries whose payload was disposed of."""

    @staticmethod
    def relevant(topic: str) -> bool:
        """Whether the summary sheet reads events of ``topic``. Raises nothing."""
        return topic.startswith(RELEVANT_PREFIXES)

    def feed(
        self,
        index: int,
        originator_id: UUID,
        topic: str,
        payload: bytes | None,
        op: Provenance | None = None,
    ) -> None:
        """Apply one entry (unless a rule declares its operation ``op`` invalid). Raises
        ``SummaryError`` if a relevant payload does not decode to what its topic needs."""
        if not self.relevant(topic):
            return
        if op is not None and any(rule.excludes(op, topic) for rule in self.rules):
            return
        if payload is None:
            self.missing.append(index)
            return
        try:
            event = self._decode(payload)
            self._apply(index, originator_id, topic, event)
        except (KeyError, TypeError, ValueError) as e:
            raise SummaryError(f"entry {index} ({topic}) cannot be read: {e!r}") from e

    def _apply(self, index: int, origin: UUID, topic: str, event: dict[str, Any]) -> None:
        name = topic.split(":", 1)[1]
        if name == "SchoolYear.Opened":
            self.year_start = int(event["year_start"])
        elif name == "SchoolYear.PeriodsDefined":
            self.schemes[event["scheme"]] = [p["name"] for p in event["periods"]]
        elif name == "SchoolYear.SubjectAdded":
            self.subjects.setdefault(event["subject_id"], event["name"])
        elif name == "SchoolClass.Opened":
            self.classes[origin] = _Class(
                origin, int(event["grade"]), event["letter"], event["period_scheme"]
            )
            self.roster_class[origin] = origin
        elif name == "SchoolClass.StudentEnrolled":
            stints = self.classes[origin].stints.setdefault(event["student_id"], [])
            stints.append([event["on"], None])
        elif name == "SchoolClass.StudentWithdrawn":
            self.classes[origin].stints[event["student_id"]][-1][1] = event["on"]
        elif name in ("Group.Formed", "IndividualCurriculum.Opened"):
            self.roster_class[origin] = event["class_id"]
        elif name == "AttestationRecord.Opened":
            self.records[origin] = (event["student_id"], event["subject_id"])
        elif name == "AttestationRecord.MarkSet":
            if origin not in self.records:
                return  # the record's opening was invalid (п. 4.4): nothing of it is shown
            student_id, subject_id = self.records[origin]
            for class_id in self._classes_of(event["roster_id"], student_id):
                key = (class_id, student_id, subject_id, event["kind"], event["period"])
                previous = self.marks.get(key)
                revisions = 0 if previous is None else previous[1] + 1
                self.marks[key] = (event["value"], revisions, index)

    def _classes_of(self, roster_id: UUID, student_id: UUID) -> list[UUID]:
        class_id = self.roster_class.get(roster_id)
        if class_id is not None:
            return [class_id]
        # The roster's record is unknown: the classes the student was enrolled in.
        return [c.class_id for c in self.classes.values() if student_id in c.stints]

    def class_ids(self) -> list[UUID]:
        """Every class of the year, by grade and letter. Raises nothing."""
        return [
            c.class_id for c in sorted(self.classes.values(), key=lambda c: (c.grade, c.letter))
        ]

    def class_name(self, class_id: UUID) -> str:
        """5«А». Raises ``KeyError`` for an unknown class."""
        return self.classes[class_id].name

    def sheet(self, class_id: UUID, scope: Scope = Scope()) -> dict[str, Any]:
        """The log-determined part of a class's summary sheet (``LEDGER_KEYS``), JSON-ready.

        Raises ``SummaryError`` for an unknown class, or when relevant payloads were disposed of
        (the sheet is then no longer recomputable).
        """
        if self.missing:
            raise SummaryError(
                f"{len(self.missing)} summary-sheet records have no payload "
                f"(first: entry {self.missing[0]}): the sheet cannot be recomputed"
            )
        school_class = self.classes.get(class_id)
        if school_class is None or self.year_start is None:
            raise SummaryError(f"no class {class_id} in this year's log")
        periods = self.schemes.get(school_class.period_scheme, [])
        if scope.period is not None and scope.period not in periods:
            raise SummaryError(f"no period {scope.period!r} in the class's scheme")
        period_rank = {name: rank for rank, name in enumerate(periods)}
        subject_rank = {subject: rank for rank, subject in enumerate(self.subjects)}
        students = list(school_class.stints)
        student_rank = {student: rank for rank, student in enumerate(students)}
        kept = [
            (key, value)
            for key, value in self.marks.items()
            if key[0] == class_id and scope.admits(key[3], key[4]) and key[1] in student_rank
        ]

        def order(item: tuple[tuple[UUID, UUID, UUID, str, str | None], Any]) -> tuple[int, ...]:
            _, student, subject, kind, period = item[0]
            return (
                student_rank[student],
                subject_rank.get(subject, len(subject_rank)),
                KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER),
                period_rank.get(period or "", len(period_rank)),
            )

        kept.sort(key=order)
        marked_subjects = {key[2] for key, _ in kept}
        return {
            "year_start": self.year_start,
            "class": {
                "id": str(class_id),
                "name": school_class.name,
                "grade": school_class.grade,
                "letter": school_class.letter,
                "period_scheme": school_class.period_scheme,
            },
            "scope": scope.as_json(),
            "periods": list(periods) if scope.period is None else [scope.period],
            "subjects": [
                {"id": str(subject), "name": name}
                for subject, name in self.subjects.items()
                if subject in marked_subjects
            ],
            "students": [
                {
                    "id": str(student),
                    "enrolled_on": _iso(school_class.stints[student][0][0]),
                    "withdrawn_on": _iso(school_class.stints[student][-1][1]),
                }
                for student in students
            ],
            "marks": [
                {
                    "student_id": str(student),
                    "subject_id": str(subject),
                    "kind": kind,
                    "period": period,
                    "value": value,
                    "revisions": revisions,
                    "entry_index": entry_index,
                }
                for (_, student, subject, kind, period), (value, revisions, entry_index) in kept
            ],
        }


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def summary_document(
    sheet: Mapping[str, Any],
    *,
    title: str,
    school: Mapping[str, str],
    checkpoint: Mapping[str, Any],
    names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The whole summary-sheet document: the log-determined ``sheet``, its title, the school, the
    checkpoint it rests on (``log_id``, ``origin``, ``size``, ``root``) and the students' names
    shown (personal data from the vault, not from the log). Raises nothing."""
    return {
        "format": SUMMARY_FORMAT,
        "title": title,
        "school": dict(school),
        "log": dict(checkpoint),
        "names": dict(names or {}),
        **sheet,
    }


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a document: sorted keys, no spaces, UTF-8. Raises ``TypeError``
    for a value JSON cannot hold."""
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.encode("utf-8")


def ledger_part(document: Mapping[str, Any]) -> dict[str, Any]:
    """The log-determined keys of a summary-sheet document. Raises ``SummaryError`` if absent."""
    missing = [key for key in LEDGER_KEYS if key not in document]
    if missing:
        raise SummaryError(f"summary sheet lacks {', '.join(missing)}")
    return {key: document[key] for key in LEDGER_KEYS}


def summary_csv(document: Mapping[str, Any]) -> bytes:
    """The CSV of a summary-sheet document (UTF-8, CRLF, header ``CSV_COLUMNS``): one row per mark,
    and one row without a mark for a student who has none. Raises ``SummaryError`` if the document
    is not a summary sheet."""
    if document.get("format") != SUMMARY_FORMAT:
        raise SummaryError("not a summary-sheet document")
    subjects = {s["id"]: s["name"] for s in document["subjects"]}
    names: Mapping[str, str] = document.get("names") or {}
    by_student: dict[str, list[Mapping[str, Any]]] = {}
    for mark in document["marks"]:
        by_student.setdefault(mark["student_id"], []).append(mark)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    row = 0
    for student in document["students"]:
        person = [student["id"], names.get(student["id"], ""), student["enrolled_on"] or ""]
        person.append(student["withdrawn_on"] or "")
        marks: Sequence[Mapping[str, Any]] = by_student.get(student["id"], [])
        for mark in marks or [None]:  # type: ignore[list-item]
            row += 1
            if mark is None:
                writer.writerow([row, *person, "", "", "", "", "", "", ""])
                continue
            writer.writerow(
                [
                    row,
                    *person,
                    mark["subject_id"],
                    subjects.get(mark["subject_id"], ""),
                    mark["kind"],
                    mark["period"] or "",
                    mark["value"],
                    mark["revisions"],
                    mark["entry_index"],
                ]
            )
    return buffer.getvalue().encode("utf-8")


def first_csv_difference(expected: bytes, found: bytes) -> str:
    """Where two CSV files first differ, as ``row N, column NAME``. Raises nothing."""
    expected_rows = list(csv.reader(io.StringIO(expected.decode("utf-8", "replace"))))
    found_rows = list(csv.reader(io.StringIO(found.decode("utf-8", "replace"))))
    for number, (want, got) in enumerate(zip(expected_rows, found_rows, strict=False)):
        if want != got:
            for position, (a, b) in enumerate(zip(want, got, strict=False)):
                if a != b:
                    column = CSV_COLUMNS[position] if position < len(CSV_COLUMNS) else position
                    return f"line {number + 1}, column {column}: {a!r} → {b!r}"
            return f"line {number + 1}: {len(want)} cells → {len(got)} cells"
    return f"{len(expected_rows)} lines → {len(found_rows)} lines"
