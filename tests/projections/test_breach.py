"""A compromised login end to end (п. 4.3–4.4): the report, the lock, the invalidation everywhere,
the re-entry worklist, the review window, and an auditor's recomputation from the leaves."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime
from uuid import UUID, uuid4

import pytest
from typer.testing import CliRunner

from ejournal import commands as c
from ejournal.cli.main import cli
from ejournal.ledger.actor import Actor, Role
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import BreachReport, Lesson
from ejournal.ledger.verify import verify_ledger
from ejournal.ledger.working_days import CalendarError, WorkingCalendar
from ejournal.projections.invalidation import FixedRules
from ejournal.projections.projector import Projector
from ejournal.projections.queries import Queries
from ejournal.projections.reentry import InvalidationQueries
from tests.commands.school import TestSchool, refused
from tests.projections.conftest import moscow

ANSWER = "Ответ на уроке"
runner = CliRunner()


def mark(school: TestSchool, actor: Actor, lesson: UUID, student: UUID, value: int) -> UUID:
    return c.handle(
        c.RecordMark(
            actor=actor,
            lesson_id=lesson,
            student_id=student,
            value=value,
            work_type_id=school.work_types[ANSWER],
        ),
        school.ledger,
    )


def invalidate(school: TestSchool, session: Actor) -> UUID:
    """The head declares every operation of ``session`` invalid (п. 4.4)."""
    return c.handle(
        c.InvalidateSession(
            actor=school.head,
            session_id=session.session_id,
            account_id=session.account_id,
            school_id=school.school_id,
            reason="вход с чужого устройства",
        ),
        school.ledger,
    )


def shown_marks(queries: Queries, school: TestSchool, lesson: UUID) -> dict[UUID, int]:
    page = queries.class_journal(school.class_id, school.subjects["Математика"])
    return {
        student: m.value
        for student in school.students
        for m in page.cell(student, lesson).marks
        if not m.cancelled
    }


def test_a_leaked_password(
    school: TestSchool, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # п. 4.3–4.4: the scenario of the issue, step by step.
    ledger = school.ledger
    support = school.account("support1", Role.SUPPORT, school=False)
    teacher = school.maths
    attacker = replace(teacher, session_id=uuid4())  # the same login, another session
    s0, s1, s2, s3 = school.students[:4]
    clock.set(moscow(2025, 9, 2, 8, 0))
    lesson = school.lesson(on=date(2025, 9, 1), slot=2)

    clock.set(moscow(2025, 9, 2, 9, 0))
    mark(school, teacher, lesson, s0, 5)  # the teacher's own, before anything was suspected
    clock.set(moscow(2025, 9, 2, 9, 30))
    mark(school, attacker, lesson, s1, 2)  # inside the "suspected since" window: stays, flagged
    clock.set(moscow(2025, 9, 2, 10, 0))
    raced = mark(school, attacker, lesson, s2, 2)  # after the head heard of it, before the lock

    # The teacher reports at 10:10: learned at 09:45, suspects since 09:15.
    clock.set(moscow(2025, 9, 2, 10, 10))
    report_id = c.handle(
        c.ReportBreach(
            actor=teacher,
            account_id=teacher.account_id,
            learned_at=moscow(2025, 9, 2, 9, 45),
            suspected_since=moscow(2025, 9, 2, 9, 15),
        ),
        ledger,
    )
    projector.catch_up()
    assert shown_marks(queries, school, lesson) == {s0: 5, s1: 2, s2: 2}

    # The head had taken the teacher's call at 09:50: the earlier receipt counts (п. 4.4).
    clock.set(moscow(2025, 9, 2, 10, 20))
    c.handle(
        c.AntedateBreachReceipt(
            actor=school.head, report_id=report_id, received_at=moscow(2025, 9, 2, 9, 50)
        ),
        ledger,
    )
    # The attacker's next request is refused, and writes nothing.
    with refused(ledger, c.NotAllowed, "account.compromised"):
        mark(school, attacker, lesson, s3, 2)

    projector.catch_up()
    assert shown_marks(queries, school, lesson) == {s0: 5, s1: 2}
    sheet = queries.summary_sheet(school.class_id, "I четверть")
    row = next(r for r in sheet.rows if r.student_id == s2)
    assert row.cells[0].averages[0].marks == 0  # the average is recomputed without it

    audit = InvalidationQueries(ledger.database)
    (rule,) = audit.rules()
    assert rule.rule_id == report_id and rule.since == moscow(2025, 9, 2, 9, 50)
    assert (rule.filed_by, rule.late, rule.deadline) == ("owner", False, date(2025, 9, 3))
    rule_name = f"breach/{report_id.hex}"
    # The re-entry worklist names the raced mark for its author and for the school.
    (item,) = audit.worklist(author_id=teacher.account_id)
    assert (item.rule, item.event, item.school_id) == (
        rule_name,
        "Lesson.MarkRecorded",
        school.school_id,
    )
    assert (item.detail["mark_id"], item.detail["student_id"], item.detail["value"]) == (
        raced.hex,
        s2.hex,
        2,
    )
    assert audit.worklist(school_ids=frozenset({school.school_id})) == [item]
    assert audit.worklist(school_ids=frozenset({uuid4()})) == []
    # The 09:30 mark is valid but flagged for review; the 09:00 one is not.
    (flagged,) = audit.flagged(rule)
    assert (flagged.event, flagged.session_id) == ("Lesson.MarkRecorded", attacker.session_id)
    assert flagged.recorded_at == moscow(2025, 9, 2, 9, 30)

    # An auditor recomputes the invalid set from the leaves; it is what the read models exclude.
    report = verify_ledger(ledger.database)
    assert {(e.originator_id, e.originator_version) for e in report.invalidated} == (
        audit.excluded_set()
    )
    assert [e.rule for e in report.invalidated] == [rule_name]
    assert [(e.log_id, e.index) for e in report.flagged] == [(flagged.log_id, flagged.index)]

    # Support issues new credentials; the teacher enters the mark again, and it is shown.
    clock.set(moscow(2025, 9, 2, 11, 0))
    version = c.handle(c.IssueCredentials(actor=support, account_id=teacher.account_id), ledger)
    renewed = replace(teacher, credential_version=version, session_id=uuid4())
    mark(school, renewed, lesson, s2, 4)
    projector.catch_up()
    assert shown_marks(queries, school, lesson) == {s0: 5, s1: 2, s2: 4}

    # The same result after a rebuild from the ledger.
    before = (shown_marks(queries, school, lesson), audit.excluded_set(), audit.worklist())
    projector.rebuild()
    assert (shown_marks(queries, school, lesson), audit.excluded_set(), audit.worklist()) == before


def test_an_operation_recorded_with_the_rule_in_the_same_page(
    school: TestSchool, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # п. 4.4: the rule and the operations it invalidates arrive in one page; a session's
    # operations are invalidated by the administration, whoever made them.
    ledger = school.ledger
    clock.set(moscow(2025, 9, 2, 9, 0))
    lesson = school.lesson(on=date(2025, 9, 1), slot=2)
    stolen = replace(school.maths, session_id=uuid4())
    mark(school, stolen, lesson, school.students[0], 2)
    mark(school, school.maths, lesson, school.students[1], 5)
    clock.set(moscow(2025, 9, 2, 9, 5))
    invalidate(school, stolen)
    projector.catch_up()  # one page: the marks, then the rule
    assert shown_marks(queries, school, lesson) == {school.students[1]: 5}
    (rule,) = InvalidationQueries(ledger.database).rules()
    assert (rule.kind, rule.session_id, rule.reason) == (
        "session",
        stolen.session_id,
        "вход с чужого устройства",
    )
    report = verify_ledger(ledger.database)
    assert {(e.originator_id, e.originator_version) for e in report.invalidated} == (
        InvalidationQueries(ledger.database).excluded_set()
    )
    assert len(report.invalidated) == 1


def test_verify_checks_what_the_read_models_exclude(
    school: TestSchool, clock: ManualClock, projector: Projector, database_url: str
) -> None:
    # п. 4.4: `ejournal verify` recomputes the invalid set from the leaves and fails when the read
    # models show an invalid operation (here: read models projected without the rules).
    ledger = school.ledger
    clock.set(moscow(2025, 9, 2, 9, 0))
    lesson = school.lesson(on=date(2025, 9, 1), slot=2)
    stolen = replace(school.maths, session_id=uuid4())
    mark(school, stolen, lesson, school.students[0], 2)
    invalidate(school, stolen)
    projector.catch_up()
    result = runner.invoke(cli, ["verify", "--json", "--database-url", database_url])
    assert result.exit_code == 0, result.output
    facts = json.loads(result.output)["invalidation"]
    assert facts["read_models"] == "agree"
    assert [item["topic"].rpartition(".")[2] for item in facts["invalid"]] == ["MarkRecorded"]

    Projector(ledger, rules=FixedRules()).rebuild()
    result = runner.invoke(cli, ["verify", "--json", "--database-url", database_url])
    assert result.exit_code == 1, result.output
    facts = json.loads(result.output)["invalidation"]
    marked = ledger.get(lesson, Lesson).version  # the mark is the lesson's latest event
    assert facts["read_models"] == {"shown": [[lesson.hex, marked]], "hidden": []}


@pytest.mark.parametrize(
    ("reported", "late"),
    [
        (moscow(2025, 11, 5, 18), False),  # the first working day after the breach became known
        (moscow(2025, 11, 6, 9), True),  # the second working day
    ],
)
def test_a_late_report_is_flagged(
    school: TestSchool, clock: ManualClock, reported: datetime, late: bool
) -> None:
    # п. 4.3: reported within one working day of the day the breach became known. Learned on
    # Friday 31 October; 1–2 November are a weekend, 3 November a moved day off (configured),
    # 4 November a public holiday: the deadline is Wednesday 5 November.
    ledger = school.ledger
    ledger.calendar = replace(ledger.calendar, holidays=frozenset({date(2025, 11, 3)}))
    clock.set(reported)
    report_id = c.handle(
        c.ReportBreach(
            actor=school.head,
            account_id=school.russian.account_id,
            learned_at=moscow(2025, 10, 31, 20),
        ),
        ledger,
    )
    report = ledger.get(report_id, BreachReport)
    assert (report.deadline, report.late) == (date(2025, 11, 5), late)


def test_refusals(school: TestSchool, clock: ManualClock) -> None:
    # п. 4.3: who may report, and which moments are possible; nothing is written when refused.
    ledger = school.ledger
    clock.set(moscow(2025, 9, 2, 12))
    learned = moscow(2025, 9, 2, 9)
    teacher = school.russian.account_id

    def report(actor: Actor, **kw: object) -> UUID:
        values: dict[str, object] = {"account_id": teacher, "learned_at": learned, **kw}
        return c.handle(c.ReportBreach(actor=actor, **values), ledger)  # type: ignore[arg-type]

    with refused(ledger, c.NotAllowed, "breach.not_allowed"):
        report(school.english)
    with refused(ledger, c.InvalidInput, "breach.naive_time"):
        report(school.head, learned_at=datetime(2025, 9, 2, 9))
    with refused(ledger, c.InvalidInput, "breach.time_in_future"):
        report(school.head, learned_at=moscow(2025, 9, 2, 13))
    with refused(ledger, c.InvalidInput, "breach.suspected_after_learned"):
        report(school.head, suspected_since=moscow(2025, 9, 2, 10))
    with refused(ledger, c.InvalidInput, "breach.received_before_learned"):
        report(school.head, received_at=moscow(2025, 9, 2, 8))
    with refused(ledger, c.NotAllowed, "breach.receipt_not_yours"):
        report(school.russian, received_at=moscow(2025, 9, 2, 10))
    with refused(ledger, c.NotFound, "account.not_found"):
        report(school.head, account_id=uuid4())

    report_id = report(school.head, received_at=moscow(2025, 9, 2, 10))
    with refused(ledger, c.Conflict, "breach.already_reported"):
        report(school.head)
    with refused(ledger, c.Conflict, "breach.receipt_not_earlier"):
        c.handle(
            c.AntedateBreachReceipt(
                actor=school.head, report_id=report_id, received_at=moscow(2025, 9, 2, 11)
            ),
            ledger,
        )
    with refused(ledger, c.NotAllowed, "breach.receipt_not_yours"):
        c.handle(
            c.AntedateBreachReceipt(actor=school.deputy, report_id=report_id, received_at=learned),
            ledger,
        )
    with refused(ledger, c.NotFound, "breach.not_found"):
        c.handle(
            c.AntedateBreachReceipt(actor=school.head, report_id=uuid4(), received_at=learned),
            ledger,
        )
    # The reported login is refused until new credentials are issued.
    with refused(ledger, c.NotAllowed, "account.compromised"):
        school.lesson(school.russian, subject="Русский язык")

    session = c.InvalidateSession(
        actor=school.head,
        session_id=uuid4(),
        account_id=school.english.account_id,
        school_id=school.school_id,
        reason="  ",
    )
    with refused(ledger, c.InvalidInput, "reason.required"):
        c.handle(session, ledger)
    with refused(ledger, c.NotAllowed, "setup.administration_only"):
        c.handle(replace(session, actor=school.english, reason="x"), ledger)
    outsider = school.account("outsider", Role.AUDITOR, school=False)
    with refused(ledger, c.NotAllowed, "session.not_in_school"):
        c.handle(replace(session, account_id=outsider.account_id, reason="x"), ledger)
    c.handle(replace(session, reason="x"), ledger)
    with refused(ledger, c.Conflict, "session.already_invalidated"):
        c.handle(replace(session, reason="x"), ledger)


def test_the_calendar_comes_from_the_settings() -> None:
    # п. 4.3: the year's moved days off and working weekend days are configured.
    calendar = WorkingCalendar.from_settings(
        {"EJOURNAL_HOLIDAYS": "2025-11-03, 2025-12-31", "EJOURNAL_WORKING_WEEKENDS": "2025-11-01"}
    )
    assert calendar.holidays == frozenset({date(2025, 11, 3), date(2025, 12, 31)})
    assert calendar.is_working(date(2025, 11, 1))  # a Saturday worked
    assert not calendar.is_working(date(2025, 11, 4))  # Unity Day (art. 112)
    assert calendar.report_deadline(date(2025, 12, 30)) == date(2026, 1, 9)
    with pytest.raises(CalendarError, match="EJOURNAL_HOLIDAYS"):
        WorkingCalendar.from_settings({"EJOURNAL_HOLIDAYS": "3 ноября"})
