"""The monitor's time rules at their edges, in the school's time zone (Europe/Moscow), from the
server clock the commands record with (п. 2.2, 2.5–2.8). Late entries are accepted, then flagged.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from ejournal import commands as c
from ejournal.ledger.actor import SYSTEM_ACTOR
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain.values import PlanItem
from ejournal.projections.monitor import Flag
from ejournal.projections.projector import Projector
from ejournal.projections.queries import Queries
from tests.commands.school import YEAR, TestSchool, build_school
from tests.projections.conftest import moscow

ANSWER = "Ответ на уроке"
WRITTEN = "Самостоятельная работа"


def flags(
    projector: Projector,
    queries: Queries,
    school: TestSchool,
    rule: str,
    *,
    teacher_id: UUID | None = None,
) -> list[Flag]:
    projector.catch_up()
    found = queries.monitor(school.school_id, YEAR, teacher_id=teacher_id).flags
    return [f for f in found if f.rule == rule]


def test_homework_within_90_minutes_of_the_class_s_last_lesson(
    school: TestSchool, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # п. 2.7: the class's lessons on 2 September end at 11:15 (slot 3): homework is due by 12:45.
    clock.set(moscow(2025, 9, 2, 8, 0))
    maths = school.lesson(on=date(2025, 9, 2), slot=1)
    russian = school.lesson(school.russian, subject="Русский язык", on=date(2025, 9, 2), slot=3)
    clock.set(moscow(2025, 9, 2, 12, 44))  # 1 h 29 min after 11:15
    c.handle(c.AssignHomework(actor=school.maths, lesson_id=maths, text="№ 1–5"), school.ledger)
    clock.set(moscow(2025, 9, 2, 12, 46))  # 1 h 31 min after 11:15
    c.handle(
        c.AssignHomework(actor=school.russian, lesson_id=russian, text="Упр. 12"), school.ledger
    )
    late = flags(projector, queries, school, "homework.late")
    assert [f.lesson_id for f in late] == [russian]
    assert late[0].clause == "п. 2.7"
    assert late[0].deadline is not None and late[0].deadline.strftime("%H:%M") == "12:45"
    assert late[0].entered_at is not None and late[0].entered_at.strftime("%H:%M") == "12:46"
    # The maths teacher's own view does not show the Russian teacher's lateness.
    assert not flags(projector, queries, school, "homework.late", teacher_id=school.person["maths"])


def test_homework_deadline_follows_the_class_s_last_lesson_even_in_a_group(
    school: TestSchool, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # п. 2.7: "that class's lessons" include its groups' lessons; a later one moves the deadline.
    clock.set(moscow(2025, 9, 2, 12, 0))
    maths = school.lesson(on=date(2025, 9, 2), slot=1)
    c.handle(c.AssignHomework(actor=school.maths, lesson_id=maths, text="№ 7"), school.ledger)
    clock.set(moscow(2025, 9, 2, 11, 0))
    assert flags(projector, queries, school, "homework.late")  # 12:00 > 09:15 + 1:30
    school.lesson(
        school.english,
        subject="Английский язык",
        roster_id=school.group_id,
        on=date(2025, 9, 2),
        slot=3,
    )
    assert not flags(projector, queries, school, "homework.late")  # due 12:45 now


def test_lesson_mark_within_the_lesson_s_day(
    school: TestSchool, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # п. 2.5: a lesson mark is entered during the lesson or within the same school day.
    lesson = school.lesson(on=date(2025, 9, 1))
    on_time, late = school.students[0], school.students[1]
    for moment, student in (
        (moscow(2025, 9, 1, 23, 59), on_time),
        (moscow(2025, 9, 2, 0, 1), late),
    ):
        clock.set(moment)
        c.handle(
            c.RecordMark(
                actor=school.maths,
                lesson_id=lesson,
                student_id=student,
                value=5,
                work_type_id=school.work_types[ANSWER],
            ),
            school.ledger,
        )
    found = flags(projector, queries, school, "mark.late")
    assert [(f.student_id, f.on) for f in found] == [(late, date(2025, 9, 1))]
    assert found[0].clause == "п. 2.5"


def test_written_work_mark_on_the_day_checking_ended(
    school: TestSchool, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # п. 2.5: a written-work mark is entered on the day its checking ended, not after.
    lesson = school.lesson(on=date(2025, 9, 1))
    checked = date(2025, 9, 2)
    on_time, late = school.students[0], school.students[1]
    for moment, student in (
        (moscow(2025, 9, 2, 23, 59), on_time),
        (moscow(2025, 9, 3, 0, 1), late),
    ):
        clock.set(moment)
        c.handle(
            c.RecordMark(
                actor=school.maths,
                lesson_id=lesson,
                student_id=student,
                value=4,
                work_type_id=school.work_types[WRITTEN],
                checked_on=checked,
            ),
            school.ledger,
        )
    found = flags(projector, queries, school, "written_mark.late")
    assert [(f.student_id, f.on) for f in found] == [(late, checked)]
    assert not flags(projector, queries, school, "mark.late")


def test_attendance_by_the_end_of_the_lesson_s_day(
    school: TestSchool, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # п. 2.5: attendance is marked every day; a lesson with no register by midnight is flagged.
    registered = school.lesson(on=date(2025, 9, 1), slot=1)
    forgotten = school.lesson(on=date(2025, 9, 1), slot=2)
    clock.set(moscow(2025, 9, 1, 23, 59))
    c.handle(c.RecordAttendance(actor=school.maths, lesson_id=registered, codes={}), school.ledger)
    assert not flags(projector, queries, school, "attendance.late")  # the day is not over
    clock.set(moscow(2025, 9, 2, 0, 1))
    missing = flags(projector, queries, school, "attendance.late")
    assert [(f.lesson_id, f.entered_at) for f in missing] == [(forgotten, None)]
    c.handle(c.RecordAttendance(actor=school.maths, lesson_id=forgotten, codes={}), school.ledger)
    late = flags(projector, queries, school, "attendance.late")
    assert [f.lesson_id for f in late] == [forgotten]  # entered, but after its day
    assert late[0].entered_at is not None and late[0].entered_at.strftime("%d %H:%M") == "02 00:01"


def test_period_mark_in_the_last_week_of_the_period(
    school: TestSchool, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # п. 2.8: the I четверть ends on Sunday 26 October; its window is 20–26 October.
    entries = (
        (moscow(2025, 10, 19, 23, 59), school.students[0], True),
        (moscow(2025, 10, 20, 0, 1), school.students[1], False),  # first day of the window
        (moscow(2025, 10, 26, 23, 59), school.students[2], False),  # last day of the window
        (moscow(2025, 10, 27, 0, 1), school.students[3], True),
    )
    for moment, student, _ in entries:
        clock.set(moment)
        c.handle(
            c.SetPeriodMark(
                actor=school.maths,
                roster_id=school.class_id,
                subject_id=school.subjects["Математика"],
                student_id=student,
                value=5,
                period="I четверть",
            ),
            school.ledger,
        )
    found = flags(projector, queries, school, "attestation.outside_window")
    assert {f.student_id for f in found} == {s for _, s, flagged in entries if flagged}
    assert {f.teacher_id for f in found} == {school.person["maths"]}
    assert all(f.clause == "п. 2.8" for f in found)


def test_a_period_mark_missing_after_the_period_s_last_week(
    school: TestSchool, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # п. 2.8: period marks are entered in the period's last week; once the I четверть is over
    # (Sunday 26 October), each student without one is flagged, per subject taught to them.
    students = school.students
    clock.set(moscow(2025, 10, 10, 9, 0))
    c.handle(
        c.WithdrawStudent(
            actor=school.head,
            class_id=school.class_id,
            student_id=students[5],
            on=date(2025, 10, 10),
            reason="Переезд",
        ),
        school.ledger,
    )
    clock.set(moscow(2025, 10, 20, 9, 0))
    school.lesson(on=date(2025, 10, 20), slot=1)
    school.lesson(
        school.english,
        subject="Английский язык",
        roster_id=school.group_id,
        on=date(2025, 10, 20),
        slot=2,
    )
    for teacher, roster, subject, student in (
        (school.maths, school.class_id, "Математика", students[0]),
        (school.english, school.group_id, "Английский язык", students[1]),
    ):
        c.handle(
            c.SetPeriodMark(
                actor=teacher,
                roster_id=roster,
                subject_id=school.subjects[subject],
                student_id=student,
                value=5,
                period="I четверть",
            ),
            school.ledger,
        )
    clock.set(moscow(2025, 10, 26, 23, 59))  # the last day of the window
    assert not flags(projector, queries, school, "attestation.missing")
    clock.set(moscow(2025, 10, 27, 0, 1))
    found = flags(projector, queries, school, "attestation.missing")
    maths, english = school.subjects["Математика"], school.subjects["Английский язык"]
    assert {(f.subject_id, f.student_id) for f in found} == {
        *((maths, s) for s in students[1:5]),  # not the one withdrawn before the period's end
        *((english, s) for s in (students[0], students[2])),  # the group only
    }
    assert {(f.subject_id, f.teacher_id) for f in found} == {
        (maths, school.person["maths"]),
        (english, school.person["english"]),
    }
    flag = found[0]
    assert (flag.clause, flag.on, flag.entered_at) == ("п. 2.8", date(2025, 10, 26), None)
    assert (
        flag.message == "Отметка за период «I четверть» не выставлена в последнюю неделю периода."
    )
    assert (
        flag.deadline is not None and flag.deadline.strftime("%d.%m.%Y %H:%M") == "26.10.2025 23:59"
    )
    assert {f.class_id for f in found} == {school.class_id}
    mine = flags(
        projector, queries, school, "attestation.missing", teacher_id=school.person["english"]
    )
    assert {f.subject_id for f in mine} == {english}
    # Entered late, after the window: no longer missing (flagged outside the window instead).
    c.handle(
        c.SetPeriodMark(
            actor=school.english,
            roster_id=school.group_id,
            subject_id=english,
            student_id=students[0],
            value=4,
            period="I четверть",
        ),
        school.ledger,
    )
    late = flags(
        projector, queries, school, "attestation.missing", teacher_id=school.person["english"]
    )
    assert [f.student_id for f in late] == [students[2]]
    assert [
        f.student_id for f in flags(projector, queries, school, "attestation.outside_window")
    ] == [students[0]]


def _set_up_school_at(ledger: Ledger, clock: ManualClock, day: int, hour: int, minute: int) -> Flag:
    clock.set(moscow(2025, 9, day, hour, minute))
    school = build_school(ledger)
    projector = Projector(ledger)
    projector.catch_up()
    monitor = Queries(ledger.database, clock=clock).monitor(school.school_id, YEAR)
    setup = [f for f in monitor.flags if f.rule.startswith("year.")]
    assert len(setup) <= 1
    return setup[0] if setup else Flag("none", "", "", date.min)


def test_year_set_up_on_5_september_is_on_time(ledger: Ledger, clock: ManualClock) -> None:
    # п. 2.2: the administration sets up the year's sections by 5 September.
    assert _set_up_school_at(ledger, clock, 5, 23, 59).rule == "none"


def test_year_set_up_on_6_september_is_late(ledger: Ledger, clock: ManualClock) -> None:
    # п. 2.2: set up on 6 September: flagged, with when it was done.
    flag = _set_up_school_at(ledger, clock, 6, 0, 1)
    assert (flag.rule, flag.clause, flag.on) == ("year.setup_late", "п. 2.2", date(2025, 9, 6))


def test_year_not_set_up_after_5_september(ledger: Ledger, clock: ManualClock) -> None:
    # п. 2.2: a year opened but without classes is flagged once 5 September has passed.
    school_id = c.handle(c.RegisterSchool(actor=SYSTEM_ACTOR, name="СОШ № 3"), ledger)
    projector = Projector(ledger)
    projector.catch_up()
    queries = Queries(ledger.database, clock=clock)
    clock.set(moscow(2025, 9, 5, 23, 59))
    assert not queries.monitor(school_id, YEAR).flags
    clock.set(moscow(2025, 9, 6, 0, 1))
    (flag,) = queries.monitor(school_id, YEAR).flags
    assert flag.rule == "year.not_set_up"
    assert "классы" in flag.message and "учебный год" in flag.message


def test_topics_follow_the_ktp(
    school: TestSchool, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # п. 2.6: topics per the КТП; a lesson without a topic is flagged once its day is over.
    subject = school.subjects["Математика"]

    def lesson(on: date, slot: int, topic: str = "", plan_item: int | None = None) -> UUID:
        return c.handle(
            c.ScheduleLesson(
                actor=school.maths,
                roster_id=school.class_id,
                subject_id=subject,
                on=on,
                slot=slot,
                topic=topic,
                plan_item=plan_item,
            ),
            school.ledger,
        )

    no_topic = lesson(date(2025, 9, 1), 1)
    clock.set(moscow(2025, 9, 2, 9, 0))
    from_item = lesson(date(2025, 9, 2), 1, plan_item=1)
    same_words = lesson(date(2025, 9, 2), 2, topic=" натуральные числа и шкалы")
    off_plan = lesson(date(2025, 9, 2), 3, topic="Повторение")
    assert [f.lesson_id for f in flags(projector, queries, school, "topic.not_in_plan")] == [
        off_plan
    ]
    assert [f.lesson_id for f in flags(projector, queries, school, "topic.missing")] == [no_topic]
    assert {from_item, same_words}.isdisjoint(
        f.lesson_id for f in queries.monitor(school.school_id, YEAR).flags
    )
    # A new КТП without item 1: the lesson that followed it no longer does.
    c.handle(
        c.ImportKtp(
            actor=school.maths,
            roster_id=school.class_id,
            subject_id=subject,
            items=(PlanItem(2, "Сложение и вычитание натуральных чисел", 2),),
        ),
        school.ledger,
    )
    found = {f.lesson_id for f in flags(projector, queries, school, "topic.not_in_plan")}
    assert found == {off_plan, from_item, same_words}
