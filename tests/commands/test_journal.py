"""The journal: lessons, attendance, marks, corrections, homework, comments, messages
(п. 2.5–2.7)."""

from __future__ import annotations

from datetime import date, timedelta

from ejournal import commands as c
from ejournal.commands import Conflict, InvalidInput, NotFound
from ejournal.integrity.leaf import micros
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import Lesson, ParentMessage
from ejournal.ledger.logs import school_log_id
from tests.commands.school import (
    FIRST_DAY,
    HOLIDAY,
    MONDAY,
    SUNDAY,
    TestSchool,
    count_events,
    entries,
    refused,
)

ANSWER = "Ответ на уроке"
WRITTEN = "Самостоятельная работа"


def test_a_lesson_takes_its_topic_from_the_plan_and_its_times_from_the_bells(school: TestSchool):
    # п. 2.6
    lesson_id = c.handle(
        c.ConductLesson(
            actor=school.maths,
            roster_id=school.class_id,
            subject_id=school.subjects["Математика"],
            on=MONDAY,
            slot=2,
            plan_item=2,
        ),
        school.ledger,
    )
    lesson: Lesson = school.ledger.get(lesson_id, Lesson)
    assert lesson_id == Lesson.create_id(roster_id=school.class_id, on=MONDAY, slot=2)
    assert lesson.topic == "Сложение и вычитание натуральных чисел"
    assert lesson.plan_item == 2
    assert (lesson.starts_at.isoformat(), lesson.ends_at.isoformat()) == ("09:25:00", "10:10:00")
    assert lesson.teacher_id == school.person["maths"]
    assert entries(school.ledger, school.log_id)[-1][2] == "teacher"


def test_a_topic_can_be_set_later_from_the_plan(school: TestSchool):
    # п. 2.6
    lesson_id = school.lesson()
    c.handle(c.SetLessonTopic(actor=school.maths, lesson_id=lesson_id, plan_item=1), school.ledger)
    assert school.ledger.get(lesson_id, Lesson).topic == "Натуральные числа и шкалы"
    with refused(school.ledger, InvalidInput, "plan.unknown_item"):
        c.handle(
            c.SetLessonTopic(actor=school.maths, lesson_id=lesson_id, plan_item=9), school.ledger
        )
    with refused(school.ledger, InvalidInput, "lesson.topic_required"):
        c.handle(
            c.SetLessonTopic(actor=school.maths, lesson_id=lesson_id, topic=" "), school.ledger
        )


def test_lessons_are_held_on_school_days_only(school: TestSchool):
    for day in (SUNDAY, HOLIDAY, date(2025, 8, 29), date(2026, 7, 1)):
        with refused(school.ledger, InvalidInput, "lesson.not_a_school_day"):
            school.lesson(on=day)


def test_lesson_scheduling_rules(school: TestSchool):
    school.lesson()
    with refused(school.ledger, Conflict, "lesson.already_scheduled"):
        school.lesson()
    with refused(school.ledger, InvalidInput, "bell.unknown_slot"):
        school.lesson(slot=7)
    with refused(school.ledger, InvalidInput, "roster.subject_mismatch"):
        school.lesson(school.english, roster_id=school.group_id, subject="Математика")
    with refused(school.ledger, NotFound, "roster.not_found"):
        school.lesson(roster_id=school.subjects["Математика"])
    with refused(school.ledger, InvalidInput, "plan.unknown_item"):
        c.handle(
            c.ScheduleLesson(
                actor=school.maths,
                roster_id=school.class_id,
                subject_id=school.subjects["Математика"],
                on=MONDAY,
                slot=3,
                plan_item=5,
            ),
            school.ledger,
        )


def test_attendance_for_the_whole_lesson_is_one_event(school: TestSchool, clock: ManualClock):
    # п. 2.5
    lesson_id = school.lesson()
    before = entries(school.ledger, school.log_id)
    clock.advance(timedelta(minutes=3))
    absent, ill, late = school.students[:3]
    codes = {absent: "Н", ill: "Б", late: "ОП"}
    c.handle(
        c.RecordAttendance(actor=school.maths, lesson_id=lesson_id, codes=codes), school.ledger
    )
    after = entries(school.ledger, school.log_id)
    assert len(after) == len(before) + 1
    assert after[-1][1] == micros(clock())
    lesson: Lesson = school.ledger.get(lesson_id, Lesson)
    assert lesson.attendance == codes
    # A later register supersedes: the late student turned out to be excused.
    c.handle(
        c.RecordAttendance(
            actor=school.maths, lesson_id=lesson_id, codes={absent: "Н", ill: "Б", late: "П"}
        ),
        school.ledger,
    )
    lesson = school.ledger.get(lesson_id, Lesson)
    assert lesson.attendance[late] == "П"
    assert lesson.registers == 2


def test_attendance_rules(school: TestSchool, clock: ManualClock):
    # п. 2.5
    lesson_id = school.lesson()
    stranger = school.person["head"]
    with refused(school.ledger, InvalidInput, "attendance.invalid_code"):
        c.handle(
            c.RecordAttendance(
                actor=school.maths, lesson_id=lesson_id, codes={school.students[0]: "X"}
            ),
            school.ledger,
        )
    with refused(school.ledger, InvalidInput, "student.not_in_roster"):
        c.handle(
            c.RecordAttendance(actor=school.maths, lesson_id=lesson_id, codes={stranger: "Н"}),
            school.ledger,
        )
    tomorrow = school.lesson(on=MONDAY + timedelta(days=1))
    with refused(school.ledger, InvalidInput, "lesson.in_future"):
        c.handle(
            c.RecordAttendance(actor=school.maths, lesson_id=tomorrow, codes={}), school.ledger
        )
    with refused(school.ledger, NotFound, "lesson.not_found"):
        c.handle(
            c.RecordAttendance(actor=school.maths, lesson_id=school.class_id, codes={}),
            school.ledger,
        )


def test_marks_carry_work_type_and_weight(school: TestSchool):
    # п. 2.5, 2.6
    lesson_id = school.lesson()
    student = school.students[0]
    first = c.handle(
        c.RecordMark(
            actor=school.maths,
            lesson_id=lesson_id,
            student_id=student,
            value=5,
            work_type_id=school.work_types[ANSWER],
        ),
        school.ledger,
    )
    second = c.handle(
        c.RecordMark(
            actor=school.maths,
            lesson_id=lesson_id,
            student_id=student,
            value=4,
            work_type_id=school.work_types[WRITTEN],
            checked_on=MONDAY,
        ),
        school.ledger,
    )
    marks = school.ledger.get(lesson_id, Lesson).marks
    assert (marks[first].value, marks[first].weight, marks[first].checked_on) == (5, 1, None)
    assert (marks[second].value, marks[second].weight, marks[second].checked_on) == (4, 2, MONDAY)


def test_mark_rules(school: TestSchool):
    # п. 2.5, 2.6
    lesson_id = school.lesson()
    student = school.students[0]

    def mark(**changes: object) -> None:
        fields: dict[str, object] = {
            "actor": school.maths,
            "lesson_id": lesson_id,
            "student_id": student,
            "value": 5,
            "work_type_id": school.work_types[ANSWER],
        }
        c.handle(c.RecordMark(**{**fields, **changes}), school.ledger)  # type: ignore[arg-type]

    for value in (6, 0, True, "5"):
        with refused(school.ledger, InvalidInput, "mark.invalid_value"):
            mark(value=value)
    with refused(school.ledger, InvalidInput, "work_type.unknown"):
        mark(work_type_id=school.subjects["Математика"])
    with refused(school.ledger, InvalidInput, "student.not_in_roster"):
        mark(student_id=school.person["maths"])
    with refused(school.ledger, InvalidInput, "mark.check_date_required"):
        mark(work_type_id=school.work_types[WRITTEN])
    for checked_on in (MONDAY - timedelta(days=1), MONDAY + timedelta(days=1)):
        with refused(school.ledger, InvalidInput, "mark.check_date_invalid"):
            mark(work_type_id=school.work_types[WRITTEN], checked_on=checked_on)
    with refused(school.ledger, InvalidInput, "mark.check_date_unexpected"):
        mark(checked_on=MONDAY)
    mark_id = c.handle(
        c.RecordMark(
            actor=school.maths,
            lesson_id=lesson_id,
            student_id=student,
            value=3,
            work_type_id=school.work_types[ANSWER],
        ),
        school.ledger,
    )
    with refused(school.ledger, Conflict, "record.duplicate_id"):
        mark(mark_id=mark_id)


def test_a_written_work_is_marked_on_the_day_checking_ended(school: TestSchool, clock: ManualClock):
    # п. 2.5: the work was written on Monday; checking ended on Wednesday.
    lesson_id = school.lesson()
    clock.advance(timedelta(days=2))
    wednesday = MONDAY + timedelta(days=2)
    c.handle(
        c.RecordMark(
            actor=school.maths,
            lesson_id=lesson_id,
            student_id=school.students[1],
            value=4,
            work_type_id=school.work_types[WRITTEN],
            checked_on=wednesday,
        ),
        school.ledger,
    )
    assert school.ledger.get(lesson_id, Lesson).live_marks()[0].checked_on == wednesday


def test_marks_for_a_class_work_are_one_save(school: TestSchool, clock: ManualClock):
    # п. 2.5
    lesson_id = school.lesson()
    clock.advance(timedelta(hours=7))
    before = entries(school.ledger, school.log_id)
    marks = {s: 5 - n % 3 for n, s in enumerate(school.students)}
    mark_ids = c.handle(
        c.RecordClassWorkMarks(
            actor=school.maths,
            lesson_id=lesson_id,
            work_type_id=school.work_types[WRITTEN],
            marks=marks,
            checked_on=MONDAY,
        ),
        school.ledger,
    )
    added = entries(school.ledger, school.log_id)[len(before) :]
    assert len(added) == len(marks) == len(mark_ids)
    assert {recorded_at for _, recorded_at, _ in added} == {micros(clock())}
    lesson: Lesson = school.ledger.get(lesson_id, Lesson)
    assert {m.student_id: m.value for m in lesson.live_marks()} == marks
    assert {m.mark_id for m in lesson.live_marks()} == set(mark_ids)


def test_class_work_rules_refuse_the_whole_batch(school: TestSchool):
    # п. 2.5: one bad mark, nothing recorded.
    lesson_id = school.lesson()

    def class_work(marks: dict, checked_on: date | None = MONDAY) -> None:
        c.handle(
            c.RecordClassWorkMarks(
                actor=school.maths,
                lesson_id=lesson_id,
                work_type_id=school.work_types[WRITTEN],
                marks=marks,
                checked_on=checked_on,
            ),
            school.ledger,
        )

    with refused(school.ledger, InvalidInput, "mark.invalid_value"):
        class_work({school.students[0]: 5, school.students[1]: 6})
    with refused(school.ledger, InvalidInput, "student.not_in_roster"):
        class_work({school.students[0]: 5, school.person["head"]: 4})
    with refused(school.ledger, InvalidInput, "marks.empty"):
        class_work({})
    with refused(school.ledger, InvalidInput, "mark.check_date_required"):
        class_work({school.students[0]: 5}, checked_on=None)
    assert school.ledger.get(lesson_id, Lesson).marks == {}


def test_corrections_and_cancellations_are_new_events_with_a_reason(school: TestSchool):
    # п. 1.4
    lesson_id = school.lesson()
    mark_id = c.handle(
        c.RecordMark(
            actor=school.maths,
            lesson_id=lesson_id,
            student_id=school.students[0],
            value=3,
            work_type_id=school.work_types[ANSWER],
        ),
        school.ledger,
    )
    before = count_events(school.ledger)
    c.handle(
        c.CorrectMark(
            actor=school.maths, lesson_id=lesson_id, mark_id=mark_id, value=4, reason="Опечатка"
        ),
        school.ledger,
    )
    assert count_events(school.ledger) == before + 1
    mark = school.ledger.get(lesson_id, Lesson).marks[mark_id]
    assert (mark.value, mark.corrections, mark.cancelled) == (4, 1, False)
    with refused(school.ledger, InvalidInput, "mark.unchanged"):
        c.handle(
            c.CorrectMark(
                actor=school.maths, lesson_id=lesson_id, mark_id=mark_id, value=4, reason="Снова"
            ),
            school.ledger,
        )
    for reason in ("", "   "):
        with refused(school.ledger, InvalidInput, "mark.reason_required"):
            c.handle(
                c.CancelMark(
                    actor=school.maths, lesson_id=lesson_id, mark_id=mark_id, reason=reason
                ),
                school.ledger,
            )
    with refused(school.ledger, NotFound, "mark.not_found"):
        c.handle(
            c.CorrectMark(
                actor=school.maths, lesson_id=lesson_id, mark_id=lesson_id, value=5, reason="?"
            ),
            school.ledger,
        )
    c.handle(
        c.CancelMark(
            actor=school.maths, lesson_id=lesson_id, mark_id=mark_id, reason="Не тому ученику"
        ),
        school.ledger,
    )
    lesson: Lesson = school.ledger.get(lesson_id, Lesson)
    assert lesson.marks[mark_id].cancelled
    assert lesson.live_marks() == []
    with refused(school.ledger, Conflict, "mark.cancelled"):
        c.handle(
            c.CorrectMark(
                actor=school.maths, lesson_id=lesson_id, mark_id=mark_id, value=5, reason="Ошибка"
            ),
            school.ledger,
        )
    with refused(school.ledger, Conflict, "mark.cancelled"):
        c.handle(
            c.CancelMark(actor=school.maths, lesson_id=lesson_id, mark_id=mark_id, reason="Ещё"),
            school.ledger,
        )


def test_homework(school: TestSchool):
    # п. 2.7
    lesson_id = school.lesson()
    tuesday = MONDAY + timedelta(days=1)
    c.handle(
        c.AssignHomework(
            actor=school.maths,
            lesson_id=lesson_id,
            text=" Решить задачи ",
            pages="с. 21",
            tasks="№ 45, 47",
            due_on=tuesday,
        ),
        school.ledger,
    )
    homework = school.ledger.get(lesson_id, Lesson).homework
    assert (homework.text, homework.pages, homework.tasks, homework.due_on) == (
        "Решить задачи",
        "с. 21",
        "№ 45, 47",
        tuesday,
    )
    with refused(school.ledger, InvalidInput, "homework.empty"):
        c.handle(c.AssignHomework(actor=school.maths, lesson_id=lesson_id, text=""), school.ledger)
    with refused(school.ledger, InvalidInput, "homework.invalid_due_date"):
        c.handle(
            c.AssignHomework(actor=school.maths, lesson_id=lesson_id, text="Упр. 1", due_on=MONDAY),
            school.ledger,
        )


def test_comments(school: TestSchool):
    # п. 1.5
    lesson_id = school.lesson()
    student = school.students[2]
    comment_id = c.handle(
        c.AddComment(actor=school.maths, lesson_id=lesson_id, student_id=student, text="Молодец!"),
        school.ledger,
    )
    assert school.ledger.get(lesson_id, Lesson).comments[comment_id].student_id == student
    with refused(school.ledger, InvalidInput, "comment.empty"):
        c.handle(
            c.AddComment(actor=school.maths, lesson_id=lesson_id, student_id=student, text=" "),
            school.ledger,
        )
    with refused(school.ledger, InvalidInput, "student.not_in_roster"):
        c.handle(
            c.AddComment(
                actor=school.maths,
                lesson_id=lesson_id,
                student_id=school.person["head"],
                text="Молодец!",
            ),
            school.ledger,
        )


def test_messages_to_parents(school: TestSchool):
    # п. 1.5
    student = school.students[0]
    message = {
        "roster_id": school.class_id,
        "subject_id": school.subjects["Русский язык"],
        "student_id": student,
    }
    message_id = c.handle(
        c.SendMessageToParents(actor=school.russian, **message, text="Прошу зайти в школу."),
        school.ledger,
    )
    sent: ParentMessage = school.ledger.get(message_id, ParentMessage)
    assert (sent.student_id, sent.author_id, sent.text) == (
        student,
        school.person["russian"],
        "Прошу зайти в школу.",
    )
    with refused(school.ledger, InvalidInput, "message.empty"):
        c.handle(c.SendMessageToParents(actor=school.russian, **message, text=""), school.ledger)
    with refused(school.ledger, InvalidInput, "student.not_in_roster"):
        c.handle(
            c.SendMessageToParents(
                actor=school.russian,
                **{**message, "student_id": school.person["head"]},
                text="Прошу зайти в школу.",
            ),
            school.ledger,
        )


def test_group_lessons_list_only_the_group(school: TestSchool):
    # п. 2.3: a group's lesson is the group's page of the journal.
    lesson_id = school.lesson(school.english, roster_id=school.group_id, subject="Английский язык")
    inside, outside = school.group_students[0], school.students[-1]
    c.handle(
        c.RecordAttendance(actor=school.english, lesson_id=lesson_id, codes={inside: "Б"}),
        school.ledger,
    )
    with refused(school.ledger, InvalidInput, "student.not_in_roster"):
        c.handle(
            c.RecordAttendance(actor=school.english, lesson_id=lesson_id, codes={outside: "Н"}),
            school.ledger,
        )


def test_a_withdrawn_student_leaves_the_class_and_its_groups(school: TestSchool):
    leaver = school.group_students[0]
    tuesday = MONDAY + timedelta(days=1)
    c.handle(
        c.WithdrawStudent(
            actor=school.head,
            class_id=school.class_id,
            student_id=leaver,
            on=tuesday,
            reason="Переезд",
        ),
        school.ledger,
    )
    group_lesson = school.lesson(
        school.english, roster_id=school.group_id, subject="Английский язык"
    )
    c.handle(
        c.RecordAttendance(actor=school.english, lesson_id=group_lesson, codes={leaver: "Н"}),
        school.ledger,
    )  # Monday: still enrolled
    later = school.lesson(
        school.english, roster_id=school.group_id, subject="Английский язык", on=tuesday
    )
    school.ledger.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
    with refused(school.ledger, InvalidInput, "student.not_in_roster"):
        c.handle(
            c.RecordAttendance(actor=school.english, lesson_id=later, codes={leaver: "Н"}),
            school.ledger,
        )


def test_individual_curriculum_lessons(school: TestSchool):
    # п. 2.3: a student on an individual curriculum in Russian, taught by the Russian teacher.
    student = school.students[5]
    curriculum_id = c.handle(
        c.OpenIndividualCurriculum(
            actor=school.head,
            class_id=school.class_id,
            student_id=student,
            subject_id=school.subjects["Русский язык"],
            on=FIRST_DAY,
        ),
        school.ledger,
    )
    c.handle(
        c.AssignTeacher(
            actor=school.head,
            roster_id=curriculum_id,
            subject_id=school.subjects["Русский язык"],
            teacher_id=school.person["russian"],
            on=FIRST_DAY,
        ),
        school.ledger,
    )
    lesson_id = school.lesson(
        school.russian, roster_id=curriculum_id, subject="Русский язык", slot=3
    )
    c.handle(
        c.RecordMark(
            actor=school.russian,
            lesson_id=lesson_id,
            student_id=student,
            value=5,
            work_type_id=school.work_types[ANSWER],
        ),
        school.ledger,
    )
    with refused(school.ledger, InvalidInput, "student.not_in_roster"):
        c.handle(
            c.RecordMark(
                actor=school.russian,
                lesson_id=lesson_id,
                student_id=school.students[0],
                value=5,
                work_type_id=school.work_types[ANSWER],
            ),
            school.ledger,
        )
    assert school.ledger.get(lesson_id, Lesson).roster_kind == "individual"


def test_journal_records_go_to_the_school_year_log(school: TestSchool):
    # I1: one log per school and year; schools and accounts in the system log.
    assert school.log_id == school_log_id(school.school_id, 2025)
    school.lesson()
    indexes = [idx for idx, _, _ in entries(school.ledger, school.log_id)]
    assert indexes == list(range(len(indexes)))
    system = entries(school.ledger, "system")
    assert len(system) > 0
    assert len(system) + len(indexes) == count_events(school.ledger)


def test_a_closed_year_takes_no_records(school: TestSchool):
    # п. 2.11: the year's journal is closed; reopening needs a reason.
    lesson_id = school.lesson()
    year = {"school_id": school.school_id, "year_start": 2025}
    c.handle(c.CloseSchoolYear(actor=school.head, **year), school.ledger)
    with refused(school.ledger, Conflict, "year.closed"):
        c.handle(
            c.RecordAttendance(actor=school.maths, lesson_id=lesson_id, codes={}), school.ledger
        )
    with refused(school.ledger, Conflict, "year.already_closed"):  # п. 2.11: not closed twice
        c.handle(c.CloseSchoolYear(actor=school.head, **year), school.ledger)
    with refused(school.ledger, InvalidInput, "reason.required"):
        c.handle(c.ReopenSchoolYear(actor=school.head, **year, reason=""), school.ledger)
    c.handle(c.ReopenSchoolYear(actor=school.head, **year, reason="Исправление"), school.ledger)
    with refused(school.ledger, Conflict, "year.not_closed"):
        c.handle(c.ReopenSchoolYear(actor=school.head, **year, reason="Ещё"), school.ledger)
    c.handle(c.RecordAttendance(actor=school.maths, lesson_id=lesson_id, codes={}), school.ledger)
