"""The read models through their queries: the class journal page, corrections and cancellations,
the diary, the summary sheet and its weighted averages (п. 1.4, 1.5, 2.3–2.9)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from ejournal import commands as c
from ejournal.ledger.clock import ManualClock
from ejournal.projections.errors import NotProjected
from ejournal.projections.projector import Projector
from ejournal.projections.queries import Queries
from tests.commands.school import TestSchool
from tests.projections.conftest import moscow

ANSWER = "Ответ на уроке"
WRITTEN = "Самостоятельная работа"


def mark(school: TestSchool, lesson: UUID, student: UUID, value: int, work_type: str = ANSWER,
         checked_on: date | None = None) -> UUID:  # fmt: skip
    return c.handle(
        c.RecordMark(
            actor=school.maths,
            lesson_id=lesson,
            student_id=student,
            value=value,
            work_type_id=school.work_types[work_type],
            checked_on=checked_on,
        ),
        school.ledger,
    )


def test_class_journal_page(
    school: TestSchool, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # п. 2.3–2.7: lessons by date with topic and КТП item; students × lessons; homework.
    clock.set(moscow(2025, 9, 2, 10, 0))
    maths = school.subjects["Математика"]
    first = school.lesson(on=date(2025, 9, 1), slot=2)
    second = c.handle(
        c.ScheduleLesson(
            actor=school.maths,
            roster_id=school.class_id,
            subject_id=maths,
            on=date(2025, 9, 2),
            slot=1,
            plan_item=1,
        ),
        school.ledger,
    )
    school.lesson(school.russian, subject="Русский язык", on=date(2025, 9, 2), slot=2)
    absent, ill = school.students[0], school.students[1]
    c.handle(
        c.RecordAttendance(actor=school.maths, lesson_id=second, codes={absent: "Н", ill: "Б"}),
        school.ledger,
    )
    c.handle(
        c.AssignHomework(
            actor=school.maths, lesson_id=second, text="Задачи", pages="с. 12", tasks="№ 3, 4"
        ),
        school.ledger,
    )
    answer = mark(school, second, school.students[2], 5)
    written = mark(school, first, school.students[2], 4, WRITTEN, checked_on=date(2025, 9, 2))
    projector.catch_up()

    page = queries.class_journal(school.class_id, maths)
    assert [(lesson.lesson_id, lesson.on) for lesson in page.lessons] == [
        (first, date(2025, 9, 1)),
        (second, date(2025, 9, 2)),
    ]
    assert page.students == tuple(school.students)
    lesson = page.lessons[1]
    assert (lesson.topic, lesson.plan_item, lesson.plan_topic) == (
        "Натуральные числа и шкалы",
        1,
        "Натуральные числа и шкалы",
    )
    assert (lesson.subject, lesson.teacher_id) == ("Математика", school.person["maths"])
    assert lesson.homework is not None
    assert (lesson.homework.text, lesson.homework.pages, lesson.homework.tasks) == (
        "Задачи",
        "с. 12",
        "№ 3, 4",
    )
    assert page.cell(absent, second).attendance == "Н"
    assert page.cell(ill, second).attendance == "Б"
    assert page.cell(school.students[2], second).attendance is None
    (answer_mark,) = page.cell(school.students[2], second).marks
    assert (answer_mark.mark_id, answer_mark.value, answer_mark.work_type) == (answer, 5, ANSWER)
    assert answer_mark.weight == Decimal(1)
    (written_mark,) = page.cell(school.students[2], first).marks
    assert (written_mark.mark_id, written_mark.weight, written_mark.checked_on) == (
        written,
        Decimal(2),
        date(2025, 9, 2),
    )
    # The provenance of every value: who, through which session, when.
    assert answer_mark.provenance.actor_id == school.maths.account_id
    assert answer_mark.provenance.session_id == school.maths.session_id
    assert answer_mark.provenance.recorded_at == moscow(2025, 9, 2, 10, 0)
    # A date range narrows the page.
    narrow = queries.class_journal(school.class_id, maths, date(2025, 9, 2), date(2025, 9, 2))
    assert [lesson.lesson_id for lesson in narrow.lessons] == [second]


def test_group_page_shows_its_own_students(
    school: TestSchool, projector: Projector, queries: Queries
) -> None:
    # п. 2.3: a group's journal is its own page, with its members only.
    english = school.subjects["Английский язык"]
    lesson = school.lesson(school.english, subject="Английский язык", roster_id=school.group_id)
    projector.catch_up()
    page = queries.class_journal(school.group_id, english)
    assert page.students == tuple(school.group_students)
    assert [x.lesson_id for x in page.lessons] == [lesson]
    assert queries.class_journal(school.class_id, english).lessons == ()


def test_corrections_and_cancellations_keep_their_history(
    school: TestSchool, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # п. 1.4: a correction or cancellation shows the current value and keeps the history.
    lesson = school.lesson()
    student = school.students[0]
    corrected = mark(school, lesson, student, 3)
    cancelled = mark(school, lesson, student, 2)
    projector.catch_up()  # the mark is projected before it changes, as it would be live
    for value, reason in ((4, "описка"), (5, "пересмотрено")):
        clock.advance(moscow(2025, 9, 1, 10, 0) - moscow(2025, 9, 1, 9, 30))
        c.handle(
            c.CorrectMark(
                actor=school.maths, lesson_id=lesson, mark_id=corrected, value=value, reason=reason
            ),
            school.ledger,
        )
    c.handle(
        c.CancelMark(actor=school.maths, lesson_id=lesson, mark_id=cancelled, reason="не тот"),
        school.ledger,
    )
    c.handle(
        c.RecordAttendance(actor=school.maths, lesson_id=lesson, codes={student: "ОП"}),
        school.ledger,
    )
    c.handle(c.RecordAttendance(actor=school.maths, lesson_id=lesson, codes={}), school.ledger)
    projector.catch_up()

    marks = {
        m.mark_id: m
        for m in queries.class_journal(school.class_id, lesson_subject(school))
        .cell(student, lesson)
        .marks
    }
    first = marks[corrected]
    assert (first.value, first.first_value, first.cancelled, first.corrected) == (5, 3, False, True)
    assert [(h.action, h.value, h.reason) for h in first.history] == [
        ("corrected", "4", "описка"),
        ("corrected", "5", "пересмотрено"),
    ]
    assert first.history[0].provenance.actor_id == school.maths.account_id
    assert first.history[0].provenance.recorded_at < first.history[1].provenance.recorded_at
    second = marks[cancelled]
    assert (second.value, second.cancelled) == (2, True)
    assert [(h.action, h.reason) for h in second.history] == [("cancelled", "не тот")]
    # The later register supersedes the earlier one: the student was present after all.
    page = queries.class_journal(school.class_id, lesson_subject(school))
    assert page.cell(student, lesson).attendance is None
    # The sheet's average counts the corrected value and leaves the cancelled mark out.
    sheet = queries.summary_sheet(school.class_id, "I четверть")
    average = sheet.rows[0].cells[0].averages[0]
    assert (average.weighted_sum, average.weights, average.marks) == (Decimal(5), Decimal(1), 1)


def lesson_subject(school: TestSchool) -> UUID:
    return school.subjects["Математика"]


def test_weighted_averages_per_period(
    school: TestSchool, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # п. 2.9: Σ(w·m)/Σw of the current marks of each period, in exact decimal arithmetic.
    half = c.handle(
        c.DefineWorkType(
            actor=school.head,
            school_id=school.school_id,
            year_start=2025,
            name="Проект",
            weight=Decimal("1.5"),
            written=False,
        ),
        school.ledger,
    )
    school.work_types["Проект"] = half
    clock.set(moscow(2025, 11, 10, 12, 0))
    student = school.students[1]
    autumn = school.lesson(on=date(2025, 9, 2))
    winter = school.lesson(on=date(2025, 11, 6))
    mark(school, autumn, student, 5)  # w 1
    mark(school, autumn, student, 4, WRITTEN, checked_on=date(2025, 9, 3))  # w 2
    mark(school, autumn, student, 3, "Проект")  # w 1.5
    mark(school, winter, student, 2, "Проект")
    mark(school, winter, school.students[2], 5)
    projector.catch_up()

    sheet = queries.summary_sheet(school.class_id)
    assert [p.name for p in sheet.periods][:2] == ["I четверть", "II четверть"]
    assert [s.name for s in sheet.subjects] == ["Математика", "Русский язык", "Английский язык"]
    row = next(r for r in sheet.rows if r.student_id == student)
    autumn_average, winter_average = row.cells[0].averages[:2]
    assert (autumn_average.weighted_sum, autumn_average.weights) == (
        Decimal("17.5"),
        Decimal("4.5"),
    )
    assert autumn_average.value == Decimal("17.5") / Decimal("4.5")
    assert (winter_average.weighted_sum, winter_average.weights) == (Decimal("3.0"), Decimal("1.5"))
    assert winter_average.value == Decimal(2)
    assert row.cells[0].averages[2].value is None  # no marks in the III четверть
    assert row.cells[1].averages[0].marks == 0  # nor in Russian
    only = queries.summary_sheet(school.class_id, "II четверть")
    assert [p.name for p in only.periods] == ["II четверть"]
    with pytest.raises(NotProjected):
        queries.summary_sheet(school.class_id, "V четверть")
    with pytest.raises(NotProjected):
        queries.summary_sheet(UUID(int=1))


def test_summary_sheet_attestation_marks(
    school: TestSchool, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # п. 2.8, 2.9: period, year, exam and final marks, «ОСВ» and «Н/А», with their revisions.
    clock.set(moscow(2025, 10, 24, 12, 0))
    maths, english = school.subjects["Математика"], school.subjects["Английский язык"]
    student = school.group_students[0]

    def set_mark(command: Any, **kw: object) -> None:
        c.handle(command(student_id=student, **kw), school.ledger)

    common = {"actor": school.maths, "roster_id": school.class_id, "subject_id": maths}
    set_mark(c.SetPeriodMark, **common, value="Н/А", period="I четверть")
    set_mark(c.SetPeriodMark, **common, value=4, period="I четверть", reason="аттестован")
    set_mark(c.SetYearMark, **common, value="4")
    set_mark(c.SetFinalMark, **common, value="5")
    c.handle(
        c.SetPeriodMark(
            actor=school.english,
            roster_id=school.group_id,
            subject_id=english,
            student_id=student,
            value="ОСВ",
            period="I четверть",
        ),
        school.ledger,
    )
    projector.catch_up()
    sheet = queries.summary_sheet(school.class_id)
    row = next(r for r in sheet.rows if r.student_id == student)
    cells = {cell.subject_id: cell for cell in row.cells}
    period = cells[maths].periods[0]
    assert period is not None
    assert (period.kind, period.period, period.value) == ("period", "I четверть", "4")
    assert [(h.action, h.value, h.reason) for h in period.history] == [
        ("set", "Н/А", ""),
        ("revised", "4", "аттестован"),
    ]
    year, final = cells[maths].year, cells[maths].final
    assert (year and year.value, final and final.value, cells[maths].exam) == ("4", "5", None)
    english_period = cells[english].periods[0]
    assert english_period is not None and english_period.value == "ОСВ"  # set in the group


def test_diary_week(
    school: TestSchool, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # п. 1.5: homework, comments, messages to parents and marks show in the student's diary.
    student = school.group_students[0]
    other = school.students[5]  # not in the English group
    clock.set(moscow(2025, 9, 3, 14, 0))
    maths = school.lesson(on=date(2025, 9, 3), slot=2)
    english = school.lesson(
        school.english,
        subject="Английский язык",
        roster_id=school.group_id,
        on=date(2025, 9, 3),
        slot=1,
    )
    c.handle(c.AssignHomework(actor=school.maths, lesson_id=maths, text="№ 10"), school.ledger)
    mark(school, maths, student, 5)
    c.handle(
        c.AddComment(actor=school.maths, lesson_id=maths, student_id=student, text="Отлично"),
        school.ledger,
    )
    c.handle(
        c.RecordAttendance(actor=school.english, lesson_id=english, codes={student: "П"}),
        school.ledger,
    )
    c.handle(
        c.SendMessageToParents(
            actor=school.maths,
            roster_id=school.class_id,
            subject_id=school.subjects["Математика"],
            student_id=student,
            text="Прошу подписать дневник",
        ),
        school.ledger,
    )
    projector.catch_up()

    diary = queries.diary(student, date(2025, 9, 5))
    assert (diary.starts_on, diary.ends_on) == (date(2025, 9, 1), date(2025, 9, 7))
    assert [day.on.day for day in diary.days] == [1, 2, 3, 4, 5, 6, 7]
    wednesday = diary.days[2]
    assert [entry.lesson.lesson_id for entry in wednesday.lessons] == [english, maths]
    english_entry, maths_entry = wednesday.lessons
    assert english_entry.attendance == "П"
    assert maths_entry.lesson.homework is not None and maths_entry.lesson.homework.text == "№ 10"
    assert [m.value for m in maths_entry.marks] == [5]
    assert [comment.text for comment in maths_entry.comments] == ["Отлично"]
    assert [message.text for message in wednesday.messages] == ["Прошу подписать дневник"]
    assert wednesday.messages[0].author_id == school.person["maths"]
    # A classmate outside the group sees the maths lesson only, with none of these entries.
    (own,) = queries.diary(other, date(2025, 9, 3)).days[2].lessons
    assert (own.lesson.lesson_id, own.marks, own.comments) == (maths, (), ())
    assert queries.student_class(school.school_id, 2025, student) == school.class_id
    assert queries.student_class(school.school_id, 2025, UUID(int=5)) is None


def test_withdrawn_student_keeps_the_days_before(
    school: TestSchool, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # п. 1.5, 2.3: membership is dated; the diary follows it day by day.
    student = school.students[4]
    school.lesson(on=date(2025, 9, 1))
    clock.set(moscow(2025, 9, 3, 9, 0))
    c.handle(
        c.WithdrawStudent(
            actor=school.head,
            class_id=school.class_id,
            student_id=student,
            on=date(2025, 9, 2),
            reason="переезд",
        ),
        school.ledger,
    )
    later = school.lesson(on=date(2025, 9, 3))
    projector.catch_up()
    days = queries.diary(student, date(2025, 9, 1)).days
    assert (len(days[0].lessons), len(days[2].lessons)) == (1, 0)
    page = queries.class_journal(school.class_id, school.subjects["Математика"], date(2025, 9, 3))
    assert student not in page.students
    assert [x.lesson_id for x in page.lessons] == [later]


def test_diary_shows_a_write_within_a_second(
    school: TestSchool, projector: Projector, queries: Queries
) -> None:
    # п. 1.5: with the projector running, a mark shows in the diary without anyone rebuilding;
    # the test waits on the tracking position, never on the clock.
    projector.start()
    lesson = school.lesson()
    student = school.students[3]
    mark_id = mark(school, lesson, student, 4)
    projector.wake()
    assert projector.wait_until(projector.head(), timeout=30)
    (entry,) = queries.diary(student, date(2025, 9, 1)).days[0].lessons
    assert [m.mark_id for m in entry.marks] == [mark_id]
    assert projector.running and projector.last_error is None
    projector.stop()
    assert not projector.running
