"""The journal's aggregates: their events, deterministic IDs, queries, and a round trip through the
transcoder and both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from uuid import UUID

from eventsourcing.persistence import Mapper

from ejournal.ledger.actor import SYSTEM_ACTOR, Grant, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.domain import (
    Account,
    AttestationRecord,
    Lesson,
    SchoolClass,
    SchoolYear,
    TeachingAssignment,
    ThematicPlan,
    Timetable,
    TimetableEntry,
)
from ejournal.ledger.domain.ids import natural_id
from ejournal.ledger.domain.lesson import Homework, LessonPlan
from ejournal.ledger.domain.values import BellSlot, DateRange, Period, PlanItem, WorkType
from ejournal.ledger.transcoder import default_transcoder

AT = datetime(2025, 9, 1, 6, 0, tzinfo=UTC)
SCHOOL = UUID(int=1)
ROSTER = UUID(int=2)
SUBJECT = UUID(int=3)
TEACHER = UUID(int=4)
STUDENT = UUID(int=5)
WRITTEN = WorkType(UUID(int=6), "Контрольная работа", Decimal("3"), written=True)
ORAL = WorkType(UUID(int=7), "Ответ на уроке", 1, written=False)


def new_lesson() -> Lesson:
    return Lesson.schedule(
        school_id=SCHOOL,
        year_start=2025,
        roster_id=ROSTER,
        roster_kind="class",
        class_id=ROSTER,
        subject_id=SUBJECT,
        teacher_id=TEACHER,
        on=date(2025, 9, 1),
        slot=1,
        starts_at=time(8, 30),
        ends_at=time(9, 15),
        topic="Натуральные числа",
        plan_item=1,
        at=AT,
    )


def busy_lesson() -> Lesson:
    lesson = new_lesson()
    lesson.record_attendance({STUDENT: "Н", UUID(int=9): "ОП"}, at=AT)
    lesson.record_mark(
        mark_id=UUID(int=10),
        student_id=UUID(int=9),
        value=4,
        work_type=ORAL,
        checked_on=None,
        at=AT,
    )
    lesson.record_mark(
        mark_id=UUID(int=11),
        student_id=UUID(int=9),
        value=3,
        work_type=WRITTEN,
        checked_on=date(2025, 9, 3),
        at=AT,
    )
    lesson.correct_mark(UUID(int=11), 4, "Опечатка", at=AT)
    lesson.cancel_mark(UUID(int=10), "Не тому ученику", at=AT)
    lesson.assign_homework(Homework("Упражнения", "с. 5", "№ 1, 2", date(2025, 9, 2)), at=AT)
    lesson.add_comment(UUID(int=12), UUID(int=9), "Молодец", at=AT)
    return lesson


def test_natural_ids_are_deterministic_and_distinct():
    assert natural_id("lesson", ROSTER, date(2025, 9, 1), 1) == natural_id(
        "lesson", ROSTER, date(2025, 9, 1), 1
    )
    assert Lesson.create_id(roster_id=ROSTER, on=date(2025, 9, 1), slot=1) != Lesson.create_id(
        roster_id=ROSTER, on=date(2025, 9, 1), slot=2
    )
    assert new_lesson().id == Lesson.create_id(roster_id=ROSTER, on=date(2025, 9, 1), slot=1)
    assert SchoolYear.create_id(school_id=SCHOOL, year_start=2025) != SchoolYear.create_id(
        school_id=SCHOOL, year_start=2026
    )
    assert Account.create_id(login=" Ivanov ") == Account.create_id(login="ivanov")
    assert SchoolClass.create_id(
        school_id=SCHOOL, year_start=2025, grade=5, letter="а"
    ) == SchoolClass.create_id(school_id=SCHOOL, year_start=2025, grade=5, letter="А")


def test_a_lesson_keeps_every_record_as_an_event():
    # п. 1.4: corrections and cancellations are new events; nothing is edited.
    lesson = busy_lesson()
    names = [type(e).__name__ for e in lesson.pending_events]
    assert names == [
        "Scheduled",
        "AttendanceRecorded",
        "MarkRecorded",
        "MarkRecorded",
        "MarkCorrected",
        "MarkCancelled",
        "HomeworkAssigned",
        "CommentAdded",
    ]
    assert all(e.timestamp == AT for e in lesson.pending_events)
    assert lesson.attendance == {STUDENT: "Н", UUID(int=9): "ОП"}
    (live,) = lesson.live_marks()
    assert (live.value, live.weight, live.checked_on, live.corrections) == (
        4,
        Decimal("3"),
        date(2025, 9, 3),
        1,
    )
    assert lesson.marks[UUID(int=10)].cancelled


def test_attendance_is_one_event_in_a_stable_order():
    lesson = new_lesson()
    codes = {UUID(int=n): "Н" for n in (30, 10, 20)}
    lesson.record_attendance(codes, at=AT)
    event = lesson.pending_events[-1]
    assert [student for student, _ in event.codes] == sorted(codes, key=lambda u: u.bytes)


def test_the_transcoder_round_trips_a_domain_event():
    # UUID, date, time, Decimal and tuples survive the orjson transcoder with their types.
    mapper: Mapper[UUID] = Mapper(transcoder=default_transcoder())
    lesson = busy_lesson()
    for event in lesson.pending_events:
        stored = mapper.to_stored_event(event)
        again = mapper.to_domain_event(stored)
        assert again == event
        assert type(again) is type(event)
    scheduled = mapper.to_domain_event(mapper.to_stored_event(lesson.pending_events[0]))
    assert isinstance(scheduled.starts_at, time)
    assert isinstance(scheduled.on, date) and not isinstance(scheduled.on, datetime)
    register = mapper.to_domain_event(mapper.to_stored_event(lesson.pending_events[1]))
    assert isinstance(register.codes, tuple) and isinstance(register.codes[0], tuple)
    assert isinstance(register.codes[0][0], UUID)
    written = mapper.to_domain_event(mapper.to_stored_event(lesson.pending_events[3]))
    assert isinstance(written.weight, Decimal)


def test_the_school_year_knows_its_school_days():
    year = SchoolYear.open(
        school_id=SCHOOL,
        year_start=2025,
        starts_on=date(2025, 9, 1),
        ends_on=date(2026, 8, 31),
        at=AT,
    )
    year.define_periods(
        "quarters",
        [Period("I четверть", DateRange(date(2025, 9, 1), date(2025, 10, 26)))],
        at=AT,
    )
    year.declare_holiday("День учителя", DateRange(date(2025, 10, 6), date(2025, 10, 6)), at=AT)
    year.define_bell_schedule("основное", [BellSlot(1, time(8, 30), time(9, 15))], at=AT)
    assert year.is_school_day(date(2025, 9, 6), "quarters")  # a Saturday
    assert not year.is_school_day(date(2025, 9, 7), "quarters")  # a Sunday
    assert not year.is_school_day(date(2025, 10, 6), "quarters")  # a holiday
    assert not year.is_school_day(date(2025, 10, 28), "quarters")  # after the period
    assert not year.is_school_day(date(2025, 9, 1), "half_years")  # no such scheme defined
    assert year.bell_slot("основное", 1) == BellSlot(1, time(8, 30), time(9, 15))
    assert year.bell_slot("основное", 2) is None


def test_membership_is_dated():
    school_class = SchoolClass.open(
        school_id=SCHOOL,
        year_start=2025,
        grade=5,
        letter="а",
        period_scheme="quarters",
        bell_schedule="основное",
        at=AT,
    )
    school_class.enrol(STUDENT, date(2025, 9, 1), at=AT)
    school_class.withdraw(STUDENT, date(2025, 10, 1), "Переезд", at=AT)
    school_class.enrol(STUDENT, date(2025, 11, 10), at=AT)
    assert school_class.name == "5«А»"
    assert school_class.is_member(STUDENT, date(2025, 9, 30))
    assert not school_class.is_member(STUDENT, date(2025, 10, 1))
    assert school_class.is_member(STUDENT, date(2026, 5, 1))
    assert not school_class.is_member(STUDENT, date(2025, 8, 31))


def test_assignments_end_and_resume():
    assignment = TeachingAssignment.assign(
        school_id=SCHOOL,
        year_start=2025,
        roster_id=ROSTER,
        roster_kind="class",
        subject_id=SUBJECT,
        teacher_id=TEACHER,
        starts_on=date(2025, 9, 1),
        at=AT,
    )
    assignment.end(date(2025, 10, 1), at=AT)
    assert not assignment.is_current
    assignment.resume(date(2025, 11, 1), at=AT)
    assert assignment.is_current
    assert assignment.active_on(date(2025, 9, 30))
    assert not assignment.active_on(date(2025, 10, 15))
    assert assignment.active_on(date(2025, 11, 1))
    assert assignment.id == TeachingAssignment.create_id(
        roster_id=ROSTER, subject_id=SUBJECT, teacher_id=TEACHER
    )


def test_accounts_hold_grants_and_a_credential_version():
    account = Account.register(login="Ivanov", person_id=STUDENT, at=AT)
    account.grant(Grant(Role.TEACHER, SCHOOL), at=AT)
    account.grant(Grant(Role.AUDITOR), at=AT)
    account.revoke(Grant(Role.AUDITOR), at=AT)
    assert account.issue_credentials(at=AT) == 1
    account.lock("Пароль передан", at=AT)
    assert (account.login, account.grants, account.credential_version, account.locked) == (
        "ivanov",
        {Grant(Role.TEACHER, SCHOOL)},
        1,
        True,
    )


def test_attestation_marks_are_revised_not_edited():
    record = AttestationRecord.open(
        school_id=SCHOOL, year_start=2025, student_id=STUDENT, subject_id=SUBJECT, at=AT
    )
    record.set_mark(
        kind="period", period="I четверть", value="4", roster_id=ROSTER, reason="", at=AT
    )
    record.set_mark(
        kind="period", period="I четверть", value="5", roster_id=ROSTER, reason="Пересдача", at=AT
    )
    record.set_mark(kind="final", period=None, value="ОСВ", roster_id=ROSTER, reason="", at=AT)
    assert record.mark("period", "I четверть").value == "5"
    assert record.mark("period", "I четверть").revisions == 1
    assert record.mark("final", None).value == "ОСВ"
    assert len(record.pending_events) == 4


def test_aggregates_come_back_from_the_ledger_as_they_were_saved(ledger: Ledger):
    # I10: the same on SQLite and PostgreSQL.
    lesson = busy_lesson()
    plan = ThematicPlan.import_items(
        school_id=SCHOOL,
        year_start=2025,
        roster_id=ROSTER,
        subject_id=SUBJECT,
        items=[PlanItem(1, "Натуральные числа", 1), PlanItem(2, "Шкалы", 2)],
        at=AT,
    )
    school_class = SchoolClass.open(
        school_id=SCHOOL,
        year_start=2025,
        grade=5,
        letter="А",
        period_scheme="quarters",
        bell_schedule="основное",
        at=AT,
    )
    school_class.enrol(STUDENT, date(2025, 9, 1), at=AT)
    school_class.withdraw(STUDENT, date(2025, 10, 1), "Переезд", at=AT)
    ledger.record(
        lesson,
        plan,
        school_class,
        log_id="school/test/2025-2026",
        actor=SYSTEM_ACTOR,
        role=Role.SYSTEM,
    )
    assert ledger.get(school_class.id, SchoolClass) == school_class
    assert ledger.get(lesson.id, Lesson) == lesson
    assert ledger.get(plan.id, ThematicPlan) == plan
    assert ledger.get(plan.id, ThematicPlan).item(2) == PlanItem(2, "Шкалы", 2)


def test_a_timetable_s_versions_are_in_force_from_their_dates() -> None:
    # п. 2.2: a version is in force from its date to the next; one of the same date replaces it.
    timetable = Timetable.open(school_id=SCHOOL, year_start=2025, class_id=ROSTER, at=AT)
    entry = TimetableEntry(1, 1, ROSTER, SUBJECT, TEACHER, "12")
    timetable.set_version(date(2025, 9, 1), [entry], at=AT)
    timetable.set_version(date(2025, 10, 1), [entry], at=AT)
    moved = TimetableEntry(2, 1, ROSTER, SUBJECT, TEACHER, "14")
    timetable.set_version(date(2025, 10, 1), [moved], at=AT)
    assert timetable.id == Timetable.create_id(ROSTER)
    assert [v.effective_from for v in timetable.versions] == [date(2025, 9, 1), date(2025, 10, 1)]
    assert timetable.version_on(date(2025, 8, 31)) is None
    september = timetable.version_on(date(2025, 9, 30))
    assert september is not None and september.entries == (entry,)
    latest = timetable.latest
    assert latest is not None and latest.on_weekday(2) == (moved,)
    in_force = timetable.in_force(date(2025, 9, 15), date(2026, 5, 31))
    assert [(first, last) for first, last, _ in in_force] == [
        (date(2025, 9, 15), date(2025, 9, 30)),
        (date(2025, 10, 1), date(2026, 5, 31)),
    ]


def test_a_lesson_is_re_planned_cancelled_and_substituted_by_events() -> None:
    # п. 2.2, 2.3: the lesson keeps its ID; a substitute teaches it; its own teacher ends that.
    lesson = new_lesson()
    assert lesson.holds_records() and not lesson.is_kept()  # a topic, no journal yet
    other = UUID(int=8)
    lesson.cancel("Экскурсия", at=AT)
    assert lesson.cancellation is not None and lesson.cancellation.timetable_from is None
    plan = LessonPlan(SUBJECT, other, "14", time(9, 25), time(10, 10))
    lesson.replan(plan, "изменение расписания с 01.09.2025", at=AT)
    assert (lesson.cancellation, lesson.plan, lesson.teacher_in_charge) == (None, plan, other)
    lesson.assign_substitute(TEACHER, "Болезнь учителя", at=AT)
    assert lesson.substitution is not None and lesson.teacher_in_charge == TEACHER
    lesson.assign_substitute(other, "Учитель вышел", at=AT)
    assert lesson.substitution is None and lesson.teacher_in_charge == other
