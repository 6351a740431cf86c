"""The school-year timetable (п. 2.2): lessons are planned from it, a change from a date re-plans
or cancels what nothing is written in and keeps the rest; substitutes write the lessons they take
(п. 2.3); a cancelled lesson takes no records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, time, timedelta
from typing import Any
from uuid import UUID

import pytest

from ejournal import commands as c
from ejournal.commands import Conflict, InvalidInput, NotAllowed
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain import Lesson, Timetable
from ejournal.ledger.domain.values import BellSlot, PeriodScheme
from ejournal.ledger.replay import uuid_bytes
from tests.commands.school import YEAR, TestSchool, count_events, entries, refused, uid
from tests.commands.timetables import (
    FIRST,
    OCTOBER,
    E,
    lesson,
    school_days,
    set_timetable,
    week,
)


def lessons_of(ledger: Ledger) -> list[Lesson]:
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            "SELECT DISTINCT originator_id FROM stored_events WHERE topic LIKE ?",
            ("%:Lesson.Scheduled",),
        )
        ids = [UUID(bytes=uuid_bytes(row[0])) for row in cursor.fetchall()]
    return [ledger.get(i, Lesson) for i in ids]


# --- the week generated ------------------------------------------------------------------------


def test_a_class_s_week_is_generated_from_its_timetable(school: TestSchool) -> None:
    # п. 2.2: the administration sets the timetable; every lesson of the year follows from it.
    before = count_events(school.ledger)
    change = set_timetable(school, week(school))
    days = list(school_days(FIRST))
    expected = sum(2 + (d.isoweekday() in (1, 3, 5)) for d in days if d.isoweekday() <= 5)
    assert (change.scheduled, change.replanned, change.cancelled, change.kept) == (
        expected,
        0,
        0,
        (),
    )
    assert change.timetable_id == Timetable.create_id(school.class_id)
    # One save: the timetable's two events, the school's index's two, and a lesson each.
    assert count_events(school.ledger) - before == expected + 4
    assert {role for _, _, role in entries(school.ledger, school.log_id)[-expected:]} == {"deputy"}
    monday = lesson(school, FIRST, 1)
    assert (monday.subject_id, monday.teacher_id, monday.room) == (
        school.subjects["Математика"],
        school.person["maths"],
        "12",
    )
    assert (monday.starts_at, monday.ends_at) == (time(8, 30), time(9, 15))
    english = lesson(school, FIRST, 3, school.group_id)
    assert (english.roster_kind, english.class_id, english.room) == (
        "group",
        school.class_id,
        "21",
    )
    assert english.starts_at == time(10, 30)
    assert english.topic == "" and not english.holds_records()
    found = {(x.on, x.slot, x.roster_id) for x in lessons_of(school.ledger)}
    assert len(found) == expected
    assert not any(on.isoweekday() == 6 for on, _, _ in found)  # no entries on Saturday
    assert not any(date(2025, 10, 27) <= on <= date(2025, 11, 4) for on, _, _ in found)
    assert max(on for on, _, _ in found) == date(2026, 5, 26)  # the last day of lessons
    assert (date(2025, 9, 2), 3, school.group_id) not in found  # English on Mon, Wed, Fri


def test_setting_the_same_version_again_changes_no_lesson(school: TestSchool) -> None:
    # п. 2.2: a version of the same date replaces the latest; the lessons follow by their IDs.
    set_timetable(school, week(school))
    before = count_events(school.ledger)
    change = set_timetable(school, week(school))
    assert (change.scheduled, change.replanned, change.cancelled, change.kept) == (0, 0, 0, ())
    assert count_events(school.ledger) - before == 2  # the version, and the school's index
    timetable = school.ledger.get(Timetable.create_id(school.class_id), Timetable)
    assert [v.effective_from for v in timetable.versions] == [FIRST]


def test_the_teacher_writes_the_lesson_the_timetable_planned(
    school: TestSchool, clock: ManualClock
) -> None:
    # п. 2.3, 2.5: the teacher no longer posts the lesson; a make-up in its slot is refused.
    set_timetable(school, week(school))
    planned = lesson(school, FIRST, 1).id
    c.handle(
        c.RecordAttendance(actor=school.maths, lesson_id=planned, codes={school.students[0]: "Н"}),
        school.ledger,
    )
    c.handle(c.SetLessonTopic(actor=school.maths, lesson_id=planned, plan_item=1), school.ledger)
    assert lesson(school, FIRST, 1).attendance == {school.students[0]: "Н"}
    with refused(school.ledger, Conflict, "lesson.already_scheduled"):
        school.lesson(on=FIRST, slot=1)


# --- a change from a date -----------------------------------------------------------------------


def test_a_change_from_a_date_re_plans_cancels_and_keeps(school: TestSchool) -> None:
    # п. 2.2: from 1 October Monday's first lesson is Russian, the second is gone and Tuesday
    # gets English; п. 1.4: a lesson with records is never changed, only reported.
    set_timetable(school, week(school))
    written = lesson(school, date(2025, 10, 13), 1)  # a Monday, its topic planned ahead
    c.handle(
        c.SetLessonTopic(actor=school.maths, lesson_id=written.id, topic="Дроби"), school.ledger
    )
    russian, english = school.subjects["Русский язык"], school.subjects["Английский язык"]
    changed = [e for e in week(school) if e.weekday != 1 or e.slot == 3]
    changed += [
        E(1, 1, school.class_id, russian, school.person["russian"], "14"),
        E(2, 3, school.group_id, english, school.person["english"], "22"),
    ]
    change = set_timetable(school, tuple(changed), OCTOBER)
    mondays = [d for d in school_days(OCTOBER) if d.isoweekday() == 1]
    tuesdays = [d for d in school_days(OCTOBER) if d.isoweekday() == 2]
    assert change.scheduled == len(tuesdays)
    assert change.replanned == len(mondays) - 1
    assert change.cancelled == len(mondays)
    assert change.kept == (
        c.KeptLesson(written.id, school.class_id, date(2025, 10, 13), 1, "records"),
    )
    # Before the date nothing changed; after it, the same lessons (same IDs) changed.
    assert lesson(school, date(2025, 9, 29), 1).subject_id == school.subjects["Математика"]
    assert lesson(school, date(2025, 9, 29), 2).cancellation is None
    replanned = lesson(school, date(2025, 10, 6), 1)
    assert (replanned.subject_id, replanned.teacher_id, replanned.room) == (
        russian,
        school.person["russian"],
        "14",
    )
    cancelled = lesson(school, date(2025, 10, 6), 2)
    assert cancelled.cancellation is not None
    assert cancelled.cancellation.reason == "изменение расписания с 01.10.2025"
    assert cancelled.cancellation.timetable_from == OCTOBER
    kept = lesson(school, date(2025, 10, 13), 1)
    assert (kept.subject_id, kept.topic) == (school.subjects["Математика"], "Дроби")
    new = lesson(school, date(2025, 10, 7), 3, school.group_id)
    assert (new.subject_id, new.room) == (english, "22")
    # Versions are kept: the timetable knows what was in force on each day.
    timetable = school.ledger.get(Timetable.create_id(school.class_id), Timetable)
    on_sept = timetable.version_on(date(2025, 9, 29))
    on_oct = timetable.version_on(date(2025, 10, 6))
    assert on_sept is not None and on_sept.effective_from == FIRST
    assert on_oct is not None and on_oct.effective_from == OCTOBER


def test_a_later_version_holds_again_what_a_change_cancelled(school: TestSchool) -> None:
    # п. 2.2: a lesson a change cancelled, nothing written in it, is held again by a later one.
    set_timetable(school, week(school))
    set_timetable(school, tuple(e for e in week(school) if (e.weekday, e.slot) != (1, 2)), OCTOBER)
    november = date(2025, 11, 10)
    change = set_timetable(school, week(school), november)
    mondays = [d for d in school_days(november) if d.isoweekday() == 1]
    assert (change.scheduled, change.replanned, change.cancelled) == (0, len(mondays), 0)
    assert lesson(school, november, 2).cancellation is None
    assert lesson(school, date(2025, 11, 5) + timedelta(days=5), 2).cancellation is None
    assert lesson(school, date(2025, 10, 6), 2).cancellation is not None  # before the version


def test_lessons_outside_the_timetable_are_kept(school: TestSchool) -> None:
    # п. 2.2: a make-up lesson (scheduled outside the timetable) is the teacher's own, not the
    # timetable's: a version that plans another lesson in its slot leaves it and reports it.
    saturday = date(2025, 9, 6)

    def makeup(on: date, slot: int) -> UUID:
        command = c.ScheduleLesson(
            actor=school.maths,
            roster_id=school.class_id,
            subject_id=school.subjects["Математика"],
            on=on,
            slot=slot,
        )
        return c.handle(command, school.ledger)

    outside = makeup(saturday, 3)
    same = makeup(date(2025, 9, 13), 2)
    entries_ = (
        *week(school),
        E(6, 3, school.class_id, school.subjects["Русский язык"], school.person["russian"]),
        E(6, 2, school.class_id, school.subjects["Математика"], school.person["maths"]),
    )
    change = set_timetable(school, entries_)
    assert [(k.lesson_id, k.reason) for k in change.kept] == [(outside, "outside_timetable")]
    assert lesson(school, saturday, 3).subject_id == school.subjects["Математика"]
    # The one in the slot and subject the timetable plans is simply the timetable's lesson.
    assert lesson(school, date(2025, 9, 13), 2).id == same


# --- substitutes (п. 2.3) ------------------------------------------------------------------------


def substitute(school: TestSchool, lesson_id: UUID, teacher: str, **kw: Any) -> None:
    command = c.AssignSubstitute(
        actor=kw.pop("actor", school.deputy),
        lesson_id=lesson_id,
        teacher_id=school.person[teacher],
        reason=kw.pop("reason", "Болезнь учителя"),
    )
    c.handle(command, school.ledger)


def test_a_substitute_takes_and_writes_the_lesson(school: TestSchool) -> None:
    # п. 2.3: the substitute writes the lesson they take without an assignment of their own;
    # the lesson's own teacher no longer writes it.
    set_timetable(school, week(school))
    maths_lesson = lesson(school, FIRST, 1).id
    substitute(school, maths_lesson, "russian")
    taken = school.ledger.get(maths_lesson, Lesson)
    assert taken.substitution is not None
    assert taken.teacher_in_charge == school.person["russian"]
    assert taken.teacher_id == school.person["maths"]
    assert entries(school.ledger, school.log_id)[-1][2] == "deputy"
    ledger, sub, student = school.ledger, school.russian, school.students[1]
    c.handle(c.SetLessonTopic(actor=sub, lesson_id=maths_lesson, plan_item=1), ledger)
    c.handle(c.RecordAttendance(actor=sub, lesson_id=maths_lesson, codes={student: "ОП"}), ledger)
    mark = c.handle(
        c.RecordMark(
            actor=sub,
            lesson_id=maths_lesson,
            student_id=student,
            value=4,
            work_type_id=school.work_types["Ответ на уроке"],
        ),
        ledger,
    )
    c.handle(c.AssignHomework(actor=sub, lesson_id=maths_lesson, text="№ 12, 14"), ledger)
    assert entries(ledger, school.log_id)[-1][2] == "teacher"
    written = ledger.get(maths_lesson, Lesson)
    assert (written.topic, written.attendance, written.marks[mark].value) == (
        "Натуральные числа и шкалы",
        {student: "ОП"},
        4,
    )
    with refused(ledger, NotAllowed, "lesson.substituted"):
        c.handle(c.AssignHomework(actor=school.maths, lesson_id=maths_lesson, text="№ 1"), ledger)
    with refused(ledger, NotAllowed, "journal.not_assigned"):
        c.handle(c.AssignHomework(actor=school.english, lesson_id=maths_lesson, text="1"), ledger)
    # The substitute writes only the lesson they take: the next maths lesson is not theirs.
    with refused(ledger, NotAllowed, "journal.not_assigned"):
        c.handle(
            c.SetLessonTopic(
                actor=sub, lesson_id=lesson(school, date(2025, 9, 2), 1).id, topic="x"
            ),
            ledger,
        )


def test_naming_the_lesson_s_own_teacher_ends_the_substitution(school: TestSchool) -> None:
    # п. 2.3: the teacher is back before the lesson: the administration names them again.
    set_timetable(school, week(school))
    maths_lesson = lesson(school, FIRST, 1).id
    substitute(school, maths_lesson, "russian")
    substitute(school, maths_lesson, "maths", reason="Учитель вышел на работу")
    assert school.ledger.get(maths_lesson, Lesson).substitution is None
    c.handle(
        c.SetLessonTopic(actor=school.maths, lesson_id=maths_lesson, topic="Шкалы"), school.ledger
    )
    with refused(school.ledger, NotAllowed, "journal.not_assigned"):
        c.handle(
            c.SetLessonTopic(actor=school.russian, lesson_id=maths_lesson, topic="x"),
            school.ledger,
        )


def second_class(school: TestSchool) -> UUID:
    """5«Б», whose Russian the Russian teacher of 5«А» teaches first thing on Monday."""
    ledger, head = school.ledger, school.head
    class_id = c.handle(
        c.OpenClass(
            actor=head,
            school_id=school.school_id,
            year_start=YEAR,
            grade=5,
            letter="Б",
            period_scheme=PeriodScheme.QUARTERS,
        ),
        ledger,
    )
    russian = school.subjects["Русский язык"]
    teacher = school.person["russian"]
    c.handle(
        c.AssignTeacher(
            actor=head, roster_id=class_id, subject_id=russian, teacher_id=teacher, on=FIRST
        ),
        ledger,
    )
    set_timetable(school, (E(1, 1, class_id, russian, teacher, "15"),), class_id=class_id)
    return class_id


def test_substitution_rules(school: TestSchool) -> None:
    # п. 2.2, 2.3
    set_timetable(school, week(school))
    second_class(school)
    ledger = school.ledger
    maths_lesson = lesson(school, FIRST, 1).id
    with refused(ledger, NotAllowed, "lesson.administration_only"):
        substitute(school, maths_lesson, "russian", actor=school.maths)
    with refused(ledger, InvalidInput, "reason.required"):
        substitute(school, maths_lesson, "russian", reason="  ")
    with refused(ledger, InvalidInput, "substitution.same_teacher"):
        substitute(school, maths_lesson, "maths")
    with refused(ledger, InvalidInput, "substitution.not_of_school"):
        school.person["stranger"] = uid(4242)  # teaches in no timetable of the school
        substitute(school, maths_lesson, "stranger")
    # At 8:30 on Monday the Russian teacher teaches 5«Б».
    with refused(ledger, Conflict, "substitution.teacher_busy"):
        substitute(school, maths_lesson, "russian")
    assert "5«Б»" in c.refuse("substitution.teacher_busy", other="5«Б»").message
    c.handle(
        c.RecordAttendance(actor=school.maths, lesson_id=maths_lesson, codes={}), school.ledger
    )
    with refused(ledger, Conflict, "substitution.lesson_kept"):
        substitute(school, maths_lesson, "english")
    tuesday = lesson(school, date(2025, 9, 2), 1).id
    c.handle(c.CancelLesson(actor=school.head, lesson_id=tuesday, reason="Экскурсия"), ledger)
    with refused(ledger, Conflict, "lesson.cancelled"):
        substitute(school, tuesday, "english")


def test_a_substitute_may_take_a_group_together_with_their_own(school: TestSchool) -> None:
    # п. 2.3: the other group's teacher of the same subject takes both groups at once.
    ledger, head = school.ledger, school.head
    english = school.subjects["Английский язык"]
    other = c.handle(
        c.FormGroup(actor=head, class_id=school.class_id, subject_id=english, name="Группа 2"),
        ledger,
    )
    c.handle(
        c.AssignTeacher(
            actor=head,
            roster_id=other,
            subject_id=english,
            teacher_id=school.person["russian"],
            on=FIRST,
        ),
        ledger,
    )
    set_timetable(school, (*week(school), E(1, 3, other, english, school.person["russian"])))
    group_lesson = lesson(school, FIRST, 3, school.group_id).id
    substitute(school, group_lesson, "russian")
    assert school.ledger.get(group_lesson, Lesson).teacher_in_charge == school.person["russian"]


# --- cancelled lessons ---------------------------------------------------------------------------


def test_a_cancelled_lesson_takes_no_records(school: TestSchool) -> None:
    # п. 2.2: the administration cancels a lesson with a reason; nobody writes it any more.
    set_timetable(school, week(school))
    ledger = school.ledger
    cancelled = lesson(school, FIRST, 2).id
    c.handle(c.CancelLesson(actor=school.deputy, lesson_id=cancelled, reason="Экскурсия"), ledger)
    found = ledger.get(cancelled, Lesson)
    assert found.cancellation is not None
    assert (found.cancellation.reason, found.cancellation.timetable_from) == ("Экскурсия", None)
    assert entries(ledger, school.log_id)[-1][2] == "deputy"
    with refused(ledger, Conflict, "lesson.cancelled"):
        c.handle(c.RecordAttendance(actor=school.russian, lesson_id=cancelled, codes={}), ledger)
    with refused(ledger, Conflict, "lesson.cancelled"):
        c.handle(c.SetLessonTopic(actor=school.russian, lesson_id=cancelled, topic="x"), ledger)
    with refused(ledger, Conflict, "lesson.already_cancelled"):
        c.handle(c.CancelLesson(actor=school.head, lesson_id=cancelled, reason="x"), ledger)
    # A timetable change leaves the administration's cancellation as it is, and says so.
    mathematics = (
        *(e for e in week(school) if (e.weekday, e.slot) != (1, 2)),
        E(1, 2, school.class_id, school.subjects["Математика"], school.person["maths"], "12"),
    )
    for entries_ in (week(school), mathematics):
        change = set_timetable(school, entries_)
        assert [(k.lesson_id, k.reason) for k in change.kept] == [(cancelled, "cancelled")]
        assert ledger.get(cancelled, Lesson).cancellation == found.cancellation


def test_cancellation_rules(school: TestSchool) -> None:
    # п. 2.2, 1.4: only the administration cancels, with a reason, a lesson nothing is in yet.
    set_timetable(school, week(school))
    ledger = school.ledger
    first = lesson(school, FIRST, 1).id
    with refused(ledger, NotAllowed, "lesson.administration_only"):
        c.handle(c.CancelLesson(actor=school.maths, lesson_id=first, reason="x"), ledger)
    with refused(ledger, InvalidInput, "reason.required"):
        c.handle(c.CancelLesson(actor=school.head, lesson_id=first, reason=""), ledger)
    c.handle(c.SetLessonTopic(actor=school.maths, lesson_id=first, topic="Шкалы"), ledger)
    with refused(ledger, Conflict, "lesson.has_records"):
        c.handle(c.CancelLesson(actor=school.head, lesson_id=first, reason="x"), ledger)
    with refused(ledger, c.NotFound, "lesson.not_found"):
        c.handle(c.CancelLesson(actor=school.head, lesson_id=uid(1), reason="x"), ledger)


def test_a_make_up_lesson_is_held_in_a_cancelled_lesson_s_slot(school: TestSchool) -> None:
    # п. 2.2: instead of the cancelled Russian lesson, mathematics; a teacher may not do that.
    set_timetable(school, week(school))
    ledger = school.ledger
    cancelled = lesson(school, FIRST, 2).id
    c.handle(c.CancelLesson(actor=school.head, lesson_id=cancelled, reason="Болезнь"), ledger)
    with refused(ledger, Conflict, "lesson.already_scheduled"):
        school.lesson(on=FIRST, slot=2)
    makeup = c.ScheduleLesson(
        actor=school.deputy,
        roster_id=school.class_id,
        subject_id=school.subjects["Математика"],
        teacher_id=school.person["maths"],
        on=FIRST,
        slot=2,
        room="12",
    )
    assert c.handle(makeup, ledger) == cancelled
    held = ledger.get(cancelled, Lesson)
    assert held.cancellation is None
    assert (held.subject_id, held.teacher_id, held.room) == (
        school.subjects["Математика"],
        school.person["maths"],
        "12",
    )
    c.handle(c.RecordAttendance(actor=school.maths, lesson_id=cancelled, codes={}), ledger)


# --- what the administration could get wrong ----------------------------------------------------


def _first(school: TestSchool, **changes: Any) -> tuple[c.TimetableEntry, ...]:
    """The week with its first entry (Monday, first lesson, mathematics) changed."""
    found = list(week(school))
    found[0] = replace(found[0], **changes)
    return tuple(found)


def _added(school: TestSchool, entry: c.TimetableEntry) -> tuple[c.TimetableEntry, ...]:
    return (*week(school), entry)


Case = Callable[[TestSchool], tuple[c.TimetableEntry, ...]]

REFUSALS: list[tuple[str, type[c.CommandError], Case]] = [
    ("timetable.empty", InvalidInput, lambda s: ()),
    ("timetable.invalid_weekday", InvalidInput, lambda s: _first(s, weekday=7)),
    ("timetable.invalid_weekday", InvalidInput, lambda s: _first(s, weekday=0)),
    ("timetable.unknown_slot", InvalidInput, lambda s: _first(s, slot=4)),
    ("timetable.roster_not_of_class", InvalidInput, lambda s: _first(s, roster_id=uid(77))),
    ("timetable.subject_not_of_roster", InvalidInput, lambda s: _first(s, subject_id=uid(88))),
    (
        "timetable.subject_not_of_roster",  # the English group learns no mathematics
        InvalidInput,
        lambda s: _first(s, roster_id=s.group_id),
    ),
    (
        "timetable.teacher_not_assigned",  # п. 2.3: the Russian teacher teaches no mathematics
        InvalidInput,
        lambda s: _first(s, teacher_id=s.person["russian"]),
    ),
    (
        "timetable.slot_taken",  # two lessons of the class in one slot
        InvalidInput,
        lambda s: _added(s, E(1, 1, s.class_id, s.subjects["Русский язык"], s.person["russian"])),
    ),
    (
        "timetable.slot_taken",  # the class and its group at once
        InvalidInput,
        lambda s: _added(s, E(1, 3, s.class_id, s.subjects["Математика"], s.person["maths"])),
    ),
    ("timetable.slot_taken", InvalidInput, lambda s: (*week(s), week(s)[2])),
]


@pytest.mark.parametrize(("code", "kind", "case"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_every_mistake_in_a_timetable_is_refused(
    school: TestSchool, code: str, kind: type[c.CommandError], case: Case
) -> None:
    # п. 2.2: nothing is written, and the refusal names the entry.
    with refused(school.ledger, kind, code):
        set_timetable(school, case(school))


def test_a_refusal_names_the_entry(school: TestSchool) -> None:
    with pytest.raises(InvalidInput) as refusal:
        set_timetable(school, _first(school, slot=4, weekday=3))
    assert refusal.value.message == "среда, 4-й урок: в расписании звонков класса нет урока № 4."
    assert refusal.value.clause == "п. 2.2"


def test_a_version_is_of_the_year_and_not_before_the_latest(school: TestSchool) -> None:
    # п. 2.2
    with refused(school.ledger, InvalidInput, "timetable.date_outside_year"):
        set_timetable(school, week(school), date(2026, 9, 1))
    with refused(school.ledger, InvalidInput, "timetable.date_outside_year"):
        set_timetable(school, week(school), date(2025, 8, 31))
    set_timetable(school, week(school), OCTOBER)
    with refused(school.ledger, Conflict, "timetable.before_previous"):
        set_timetable(school, week(school), FIRST)


def test_only_the_administration_sets_the_timetable_of_an_open_year(school: TestSchool) -> None:
    # п. 2.2, 2.11
    with refused(school.ledger, NotAllowed, "setup.administration_only"):
        set_timetable(school, week(school), actor=school.maths)
    set_timetable(school, week(school), actor=school.head)
    c.handle(
        c.CloseSchoolYear(actor=school.head, school_id=school.school_id, year_start=YEAR),
        school.ledger,
    )
    with refused(school.ledger, Conflict, "year.closed"):
        set_timetable(school, week(school))


def test_a_teacher_in_two_places_at_once_is_refused(school: TestSchool) -> None:
    # п. 2.2: in one class (two of its rosters at once) and across classes, by bell times.
    ledger, head = school.ledger, school.head
    english = school.subjects["Английский язык"]
    pupil = school.students[4]
    curriculum = c.handle(
        c.OpenIndividualCurriculum(
            actor=head, class_id=school.class_id, student_id=pupil, subject_id=english, on=FIRST
        ),
        ledger,
    )
    c.handle(
        c.AssignTeacher(
            actor=head,
            roster_id=curriculum,
            subject_id=english,
            teacher_id=school.person["english"],
            on=FIRST,
        ),
        ledger,
    )
    both = _added(school, E(1, 3, curriculum, english, school.person["english"]))
    with refused(ledger, InvalidInput, "timetable.teacher_busy"):
        set_timetable(school, both)
    second_class(school)  # the Russian teacher: 5«Б» at 8:30 on Monday
    clash = _first(
        school, subject_id=school.subjects["Русский язык"], teacher_id=school.person["russian"]
    )
    clash = tuple(e for e in clash if (e.weekday, e.slot) != (1, 2))
    with pytest.raises(InvalidInput, match=r"timetable\.teacher_busy") as refusal:
        set_timetable(school, clash)
    assert "5«Б»" in refusal.value.message
    # Once 5«Б» rings to a later bell schedule, the same lesson at its first bell is no clash.
    c.handle(
        c.DefineBellSchedule(
            actor=head,
            school_id=school.school_id,
            year_start=YEAR,
            name="вторая смена",
            slots=(BellSlot(1, time(13, 30), time(14, 15)),),
        ),
        ledger,
    )
    other = c.handle(
        c.OpenClass(
            actor=head,
            school_id=school.school_id,
            year_start=YEAR,
            grade=6,
            letter="А",
            period_scheme=PeriodScheme.QUARTERS,
            bell_schedule="вторая смена",
        ),
        ledger,
    )
    c.handle(
        c.AssignTeacher(
            actor=head,
            roster_id=other,
            subject_id=school.subjects["Математика"],
            teacher_id=school.person["maths"],
            on=FIRST,
        ),
        ledger,
    )
    set_timetable(
        school,
        (E(1, 1, other, school.subjects["Математика"], school.person["maths"]),),
        class_id=other,
    )
    set_timetable(school, week(school))
