"""Who may write what (п. 2.1–2.4) and with which account (п. 4.2–4.4)."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from ejournal import commands as c
from ejournal.commands import InvalidInput, NotAllowed, NotFound
from ejournal.ledger.actor import SYSTEM_ACTOR, Actor, Grant, Role
from ejournal.ledger.domain import Lesson
from tests.commands.school import FIRST_DAY, MONDAY, TestSchool, entries, refused

ANSWER = "Ответ на уроке"


def mark(school: TestSchool, actor: Actor, lesson_id: UUID) -> UUID:
    return c.handle(
        c.RecordMark(
            actor=actor,
            lesson_id=lesson_id,
            student_id=school.students[0],
            value=5,
            work_type_id=school.work_types[ANSWER],
        ),
        school.ledger,
    )


def test_a_subject_teacher_writes_only_what_they_teach(school: TestSchool):
    # п. 2.3
    maths_lesson = school.lesson()
    mark(school, school.maths, maths_lesson)
    with refused(school.ledger, NotAllowed, "journal.not_assigned"):
        mark(school, school.russian, maths_lesson)
    with refused(school.ledger, NotAllowed, "journal.not_assigned"):
        school.lesson(school.russian, slot=2)  # Russian teacher, maths lesson
    with refused(school.ledger, NotAllowed, "journal.not_assigned"):
        c.handle(
            c.AssignHomework(actor=school.english, lesson_id=maths_lesson, text="Упр. 1"),
            school.ledger,
        )
    with refused(school.ledger, NotAllowed, "journal.not_assigned"):
        c.handle(
            c.SendMessageToParents(
                actor=school.english,
                roster_id=school.class_id,
                subject_id=school.subjects["Математика"],
                student_id=school.students[0],
                text="Прошу зайти.",
            ),
            school.ledger,
        )


def test_a_group_teacher_writes_the_group_not_the_class(school: TestSchool):
    # п. 2.3: the English teacher teaches group 1, not the whole class.
    school.lesson(school.english, roster_id=school.group_id, subject="Английский язык")
    with refused(school.ledger, NotAllowed, "journal.not_assigned"):
        school.lesson(school.english, subject="Английский язык", slot=2)


def test_a_class_teacher_writes_nothing_in_other_teachers_subjects(school: TestSchool):
    # п. 2.4: the maths teacher is 5«А»'s class teacher; Russian is not theirs.
    russian_lesson = school.lesson(school.russian, subject="Русский язык")
    with refused(school.ledger, NotAllowed, "journal.class_teacher_read_only"):
        mark(school, school.maths, russian_lesson)
    with refused(school.ledger, NotAllowed, "journal.class_teacher_read_only"):
        c.handle(
            c.RecordAttendance(actor=school.maths, lesson_id=russian_lesson, codes={}),
            school.ledger,
        )


def test_the_class_teacher_role_alone_gives_no_write_right(school: TestSchool):
    # п. 2.4
    lesson_id = school.lesson()
    class_teacher = school.account("klassruk", Role.CLASS_TEACHER)
    with refused(school.ledger, NotAllowed, "journal.class_teacher_read_only"):
        mark(school, class_teacher, lesson_id)


def test_others_write_nothing_in_the_journal(school: TestSchool):
    # п. 2.1: students, parents, auditors and support read at most; the head controls.
    lesson_id = school.lesson()
    others = [
        (Role.STUDENT, False),
        (Role.PARENT, False),
        (Role.HEAD, False),
        (Role.AUDITOR, True),
        (Role.SUPPORT, True),
    ]
    for role, deployment in others:
        actor = school.account(f"someone.{role.value}", role, school=not deployment)
        with refused(school.ledger, NotAllowed, "journal.not_a_teacher"):
            mark(school, actor, lesson_id)
        if role is not Role.HEAD:  # the head may schedule lessons, for a teacher: see below
            with refused(school.ledger, NotAllowed, "journal.not_a_teacher"):
                school.lesson(actor, slot=2)


def test_a_teacher_of_another_school_writes_nothing_here(school: TestSchool):
    # п. 2.3
    other_school = c.handle(c.RegisterSchool(actor=SYSTEM_ACTOR, name="СОШ № 2"), school.ledger)
    school.account("chuzhoy", Role.TEACHER)
    c.handle(
        c.RevokeRole(
            actor=SYSTEM_ACTOR,
            account_id=school.accounts["chuzhoy"],
            role=Role.TEACHER,
            school_id=school.school_id,
        ),
        school.ledger,
    )
    c.handle(
        c.GrantRole(
            actor=SYSTEM_ACTOR,
            account_id=school.accounts["chuzhoy"],
            role=Role.TEACHER,
            school_id=other_school,
        ),
        school.ledger,
    )
    actor = c.actor_for(school.ledger, school.accounts["chuzhoy"])
    lesson_id = school.lesson()
    with refused(school.ledger, NotAllowed, "journal.not_a_teacher"):
        mark(school, actor, lesson_id)


def test_an_assignment_that_ended_stops_the_writes(school: TestSchool):
    # п. 2.3: the maths teacher stops teaching 5«А» from Tuesday.
    monday = school.lesson()
    tuesday = school.lesson(on=MONDAY + timedelta(days=1))
    c.handle(
        c.UnassignTeacher(
            actor=school.head,
            roster_id=school.class_id,
            subject_id=school.subjects["Математика"],
            teacher_id=school.person["maths"],
            on=MONDAY + timedelta(days=1),
        ),
        school.ledger,
    )
    school.ledger.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
    mark(school, school.maths, monday)
    with refused(school.ledger, NotAllowed, "journal.class_teacher_read_only"):
        mark(school, school.maths, tuesday)
    with refused(school.ledger, NotFound, "assignment.not_found"):
        c.handle(
            c.UnassignTeacher(
                actor=school.head,
                roster_id=school.class_id,
                subject_id=school.subjects["Математика"],
                teacher_id=school.person["maths"],
                on=MONDAY + timedelta(days=2),
            ),
            school.ledger,
        )


def test_the_administration_schedules_lessons_for_assigned_teachers(school: TestSchool):
    # п. 2.2: the timetable is part of the year's setup.
    lesson_id = c.handle(
        c.ScheduleLesson(
            actor=school.deputy,
            roster_id=school.class_id,
            subject_id=school.subjects["Русский язык"],
            on=MONDAY,
            slot=3,
            teacher_id=school.person["russian"],
        ),
        school.ledger,
    )
    assert school.ledger.get(lesson_id, Lesson).teacher_id == school.person["russian"]
    assert entries(school.ledger, school.log_id)[-1][2] == "deputy"
    schedule = {
        "roster_id": school.class_id,
        "subject_id": school.subjects["Русский язык"],
        "on": MONDAY,
        "slot": 2,
    }
    with refused(school.ledger, InvalidInput, "lesson.teacher_required"):
        c.handle(c.ScheduleLesson(actor=school.deputy, **schedule), school.ledger)
    with refused(school.ledger, NotFound, "assignment.not_found"):
        c.handle(
            c.ScheduleLesson(actor=school.deputy, **schedule, teacher_id=school.person["english"]),
            school.ledger,
        )
    with refused(school.ledger, NotAllowed, "setup.administration_only"):
        c.handle(
            c.ScheduleLesson(actor=school.maths, **schedule, teacher_id=school.person["russian"]),
            school.ledger,
        )
    # The administration does not write the lesson itself.
    with refused(school.ledger, NotAllowed, "journal.not_a_teacher"):
        c.handle(
            c.RecordAttendance(actor=school.deputy, lesson_id=lesson_id, codes={}), school.ledger
        )


def test_a_locked_account_can_do_nothing(school: TestSchool):
    # п. 4.4
    lesson_id = school.lesson()
    c.handle(
        c.LockAccount(
            actor=SYSTEM_ACTOR,
            account_id=school.maths.account_id,
            reason="Сообщение о компрометации",
        ),
        school.ledger,
    )
    with refused(school.ledger, NotAllowed, "account.locked"):
        mark(school, school.maths, lesson_id)
    c.handle(
        c.UnlockAccount(actor=SYSTEM_ACTOR, account_id=school.maths.account_id, reason="Проверено"),
        school.ledger,
    )
    mark(school, school.maths, lesson_id)


def test_credentials_issued_again_end_the_old_sessions(school: TestSchool):
    # п. 4.2: a session is bound to a credential version.
    lesson_id = school.lesson()
    version = c.handle(
        c.IssueCredentials(actor=SYSTEM_ACTOR, account_id=school.maths.account_id), school.ledger
    )
    assert version == school.maths.credential_version + 1
    with refused(school.ledger, NotAllowed, "account.credentials_revoked"):
        mark(school, school.maths, lesson_id)
    mark(school, c.actor_for(school.ledger, school.maths.account_id), lesson_id)


def test_a_revoked_role_stops_working_at_once(school: TestSchool):
    # п. 2.1: the session still claims the role; the account no longer holds it.
    lesson_id = school.lesson(school.russian, subject="Русский язык")
    c.handle(
        c.RevokeRole(
            actor=school.head,
            account_id=school.russian.account_id,
            role=Role.TEACHER,
            school_id=school.school_id,
        ),
        school.ledger,
    )
    assert Grant(Role.TEACHER, school.school_id) in school.russian.grants
    with refused(school.ledger, NotAllowed, "journal.not_a_teacher"):
        c.handle(
            c.RecordAttendance(actor=school.russian, lesson_id=lesson_id, codes={}), school.ledger
        )


def test_an_unknown_account_can_do_nothing(school: TestSchool):
    ghost = Actor(account_id=UUID(int=42), grants=school.head.grants)
    with refused(school.ledger, NotAllowed, "account.unknown"):
        c.handle(
            c.AddSubject(actor=ghost, school_id=school.school_id, year_start=2025, name="Музыка"),
            school.ledger,
        )


def test_only_the_administration_sets_up_the_year(school: TestSchool):
    # п. 2.2
    year = {"school_id": school.school_id, "year_start": 2025}
    for actor in (school.maths, school.account("roditel", Role.PARENT), SYSTEM_ACTOR):
        with refused(school.ledger, NotAllowed, "setup.administration_only"):
            c.handle(c.AddSubject(actor=actor, **year, name="Музыка"), school.ledger)
        with refused(school.ledger, NotAllowed, "setup.administration_only"):
            c.handle(
                c.EnrolStudent(
                    actor=actor, class_id=school.class_id, student_id=UUID(int=77), on=FIRST_DAY
                ),
                school.ledger,
            )
    c.handle(c.AddSubject(actor=school.deputy, **year, name="Музыка"), school.ledger)
    assert entries(school.ledger, school.log_id)[-1][2] == "deputy"


def test_the_head_of_another_school_sets_up_nothing_here(school: TestSchool):
    # п. 2.2
    other = c.handle(c.RegisterSchool(actor=SYSTEM_ACTOR, name="СОШ № 2"), school.ledger)
    account_id = c.handle(
        c.RegisterAccount(actor=SYSTEM_ACTOR, login="drugoy.direktor", person_id=UUID(int=55)),
        school.ledger,
    )
    c.handle(
        c.GrantRole(actor=SYSTEM_ACTOR, account_id=account_id, role=Role.HEAD, school_id=other),
        school.ledger,
    )
    head = c.actor_for(school.ledger, account_id)
    with refused(school.ledger, NotAllowed, "setup.administration_only"):
        c.handle(
            c.AddSubject(actor=head, school_id=school.school_id, year_start=2025, name="Музыка"),
            school.ledger,
        )
