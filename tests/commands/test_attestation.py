"""Period, year, exam and final marks (п. 2.8)."""

from __future__ import annotations

from ejournal import commands as c
from ejournal.commands import InvalidInput, NotAllowed
from ejournal.ledger.domain import AttestationRecord
from tests.commands.school import TestSchool, refused


def period_mark(school: TestSchool, value: object, *, reason: str = "", **changes: object):
    fields: dict[str, object] = {
        "actor": school.maths,
        "roster_id": school.class_id,
        "subject_id": school.subjects["Математика"],
        "student_id": school.students[0],
        "period": "I четверть",
        "value": value,
        "reason": reason,
    }
    return c.handle(c.SetPeriodMark(**{**fields, **changes}), school.ledger)  # type: ignore[arg-type]


def test_period_marks_take_the_regulations_values(school: TestSchool):
    # п. 2.8
    values = (5, "4", "ОСВ", "Н/А", "зачёт", "незачёт")
    for student, value in zip(school.students, values, strict=True):
        record_id = period_mark(school, value, student_id=student)
        record: AttestationRecord = school.ledger.get(record_id, AttestationRecord)
        assert record.mark("period", "I четверть").value == str(value)


def test_attestation_rules(school: TestSchool):
    # п. 2.8
    for value in (6, "6", "отлично", "осв", True, 0):
        with refused(school.ledger, InvalidInput, "attestation.invalid_value"):
            period_mark(school, value)
    with refused(school.ledger, InvalidInput, "attestation.unknown_period"):
        period_mark(school, 5, period="1 полугодие")
    with refused(school.ledger, InvalidInput, "student.not_in_roster"):
        period_mark(school, 5, student_id=school.person["head"])
    with refused(school.ledger, NotAllowed, "journal.not_assigned"):
        period_mark(school, 5, actor=school.russian)
    with refused(school.ledger, NotAllowed, "journal.class_teacher_read_only"):
        period_mark(school, 5, subject_id=school.subjects["Русский язык"])


def test_changing_an_attestation_mark_needs_a_reason(school: TestSchool):
    # п. 1.4, 2.8
    record_id = period_mark(school, 4)
    with refused(school.ledger, InvalidInput, "attestation.reason_required"):
        period_mark(school, 5)
    with refused(school.ledger, InvalidInput, "attestation.unchanged"):
        period_mark(school, "4", reason="Пересчёт")
    period_mark(school, 5, reason="Пересдача контрольной работы")
    mark = school.ledger.get(record_id, AttestationRecord).mark("period", "I четверть")
    assert (mark.value, mark.revisions) == ("5", 1)


def test_year_exam_and_final_marks(school: TestSchool):
    # п. 2.8, 2.9
    common = {
        "actor": school.maths,
        "roster_id": school.class_id,
        "subject_id": school.subjects["Математика"],
        "student_id": school.students[1],
    }
    c.handle(c.SetYearMark(**common, value=4), school.ledger)
    c.handle(c.SetExamMark(**common, value="зачёт"), school.ledger)
    record_id = c.handle(c.SetFinalMark(**common, value="4"), school.ledger)
    record: AttestationRecord = school.ledger.get(record_id, AttestationRecord)
    assert {kind: m.value for (kind, _), m in record.marks.items()} == {
        "year": "4",
        "exam": "зачёт",
        "final": "4",
    }
    assert record_id == AttestationRecord.create_id(
        school_id=school.school_id,
        year_start=2025,
        student_id=school.students[1],
        subject_id=school.subjects["Математика"],
    )


def test_a_group_teacher_sets_marks_for_the_group(school: TestSchool):
    # п. 2.3, 2.8
    common = {
        "actor": school.english,
        "roster_id": school.group_id,
        "subject_id": school.subjects["Английский язык"],
        "period": "I четверть",
    }
    c.handle(
        c.SetPeriodMark(**common, student_id=school.group_students[0], value="5"), school.ledger
    )
    with refused(school.ledger, InvalidInput, "student.not_in_roster"):
        c.handle(
            c.SetPeriodMark(**common, student_id=school.students[-1], value="5"), school.ledger
        )
