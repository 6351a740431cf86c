"""The timetable's read side (п. 2.2, 2.3, 2.5): the monitor reads the due lessons the timetable
planned, names the teacher who teaches each (a substitute where one is named) and leaves out a
cancelled lesson; the timetable as of a day and the class's week as readers see them."""

from __future__ import annotations

from datetime import date, time

from ejournal import commands as c
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import Lesson
from ejournal.projections.projector import Projector
from ejournal.projections.queries import Queries
from ejournal.projections.timetable import TimetableReads
from tests.commands.school import YEAR, TestSchool
from tests.commands.timetables import OCTOBER, lesson, set_timetable, week
from tests.projections.conftest import moscow

MONDAY = date(2025, 9, 1)


def _due(projector: Projector, queries: Queries, school: TestSchool) -> list[tuple[str, object]]:
    projector.catch_up()
    found = queries.monitor(school.school_id, YEAR).flags
    return [(f.rule, f.lesson_id) for f in found if f.rule in ("attendance.late", "topic.missing")]


def test_a_cancelled_lesson_is_not_due_in_the_monitor(
    school: TestSchool, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # п. 2.5, 2.6: the timetable's lessons of Monday are due a register and a topic once the day
    # is over; the cancelled one is due nothing.
    set_timetable(school, week(school))
    cancelled = lesson(school, MONDAY, 2).id
    c.handle(
        c.CancelLesson(actor=school.deputy, lesson_id=cancelled, reason="Олимпиада"),
        school.ledger,
    )
    clock.set(moscow(2025, 9, 2, 8, 0))
    due = _due(projector, queries, school)
    held = [lesson(school, MONDAY, 1).id, lesson(school, MONDAY, 3, school.group_id).id]
    assert sorted(due, key=str) == sorted(
        [(rule, x) for x in held for rule in ("attendance.late", "topic.missing")], key=str
    )
    # Today's and later lessons are not due yet, though the timetable planned them.
    assert all(lesson_id in held for _, lesson_id in due)


def test_the_monitor_names_the_substitute(
    school: TestSchool, clock: ManualClock, projector: Projector, queries: Queries
) -> None:
    # п. 2.3, 2.5: the lesson is the substitute's to keep: a missing register is theirs.
    set_timetable(school, week(school))
    taken = lesson(school, MONDAY, 1).id
    c.handle(
        c.AssignSubstitute(
            actor=school.deputy,
            lesson_id=taken,
            teacher_id=school.person["english"],
            reason="Болезнь учителя",
        ),
        school.ledger,
    )
    clock.set(moscow(2025, 9, 2, 8, 0))
    projector.catch_up()
    flags = queries.monitor(school.school_id, YEAR).flags
    (late,) = [f for f in flags if f.rule == "attendance.late" and f.lesson_id == taken]
    assert late.teacher_id == school.person["english"]
    own = queries.monitor(school.school_id, YEAR, teacher_id=school.person["maths"]).flags
    assert taken not in {f.lesson_id for f in own}


def test_the_timetable_as_of_a_day_and_the_class_s_week(
    school: TestSchool, projector: Projector
) -> None:
    # п. 2.2: what was in force on each day, with names and bell times; the week with what
    # became of its lessons.
    set_timetable(school, week(school))
    set_timetable(school, tuple(e for e in week(school) if (e.weekday, e.slot) != (1, 2)), OCTOBER)
    taken = lesson(school, MONDAY, 1).id
    c.handle(
        c.AssignSubstitute(
            actor=school.head,
            lesson_id=taken,
            teacher_id=school.person["russian"],
            reason="Курсы",
        ),
        school.ledger,
    )
    projector.catch_up()
    reads = TimetableReads(school.ledger.database)
    september = reads.timetable(school.class_id, date(2025, 9, 30))
    assert (september.effective_from, september.versions) == (MONDAY, (MONDAY, OCTOBER))
    assert len(september.entries) == len(week(school))
    first = september.entries[0]
    assert (first.weekday, first.slot, first.subject, first.room) == (1, 1, "Математика", "12")
    assert (first.starts_at, first.ends_at) == (time(8, 30), time(9, 15))
    assert (first.roster_kind, first.roster_name) == ("class", "5«А»")
    october = reads.timetable(school.class_id, OCTOBER)
    assert october.effective_from == OCTOBER
    assert (1, 2) not in {(e.weekday, e.slot) for e in october.entries}
    assert reads.timetable(school.class_id, date(2025, 8, 31)).entries == ()

    week_one = reads.class_week(school.class_id, date(2025, 9, 3))
    assert (week_one.starts_on, week_one.ends_on) == (MONDAY, date(2025, 9, 7))
    monday = [x for x in week_one.lessons if x.on == MONDAY]
    assert [(x.slot, x.subject) for x in monday] == [
        (1, "Математика"),
        (2, "Русский язык"),
        (3, "Английский язык"),
    ]
    assert (monday[0].teacher_id, monday[0].substitute_for, monday[0].substitution_reason) == (
        school.person["russian"],
        school.person["maths"],
        "Курсы",
    )
    assert monday[2].roster_name == "Группа 1"
    changed = reads.class_week(school.class_id, date(2025, 10, 6))
    (gone,) = [x for x in changed.lessons if x.on == date(2025, 10, 6) and x.slot == 2]
    assert (gone.cancelled, gone.cancellation_reason) == (
        True,
        "изменение расписания с 01.10.2025",
    )
    # The journal page of Russian shows the lesson as cancelled too.
    page = Queries(school.ledger.database).class_journal(
        school.class_id, school.subjects["Русский язык"], date(2025, 10, 6), date(2025, 10, 6)
    )
    (shown,) = page.lessons
    assert shown.cancelled and shown.cancellation_reason == "изменение расписания с 01.10.2025"
    assert school.ledger.get(shown.lesson_id, Lesson).cancellation is not None
