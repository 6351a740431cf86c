"""Setting up the school year (п. 2.2), and schools and accounts (I8)."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from uuid import UUID

from ejournal import commands as c
from ejournal.commands import Conflict, InvalidInput, NotAllowed, NotFound
from ejournal.ledger.actor import SYSTEM_ACTOR, Actor, Grant, Role
from ejournal.ledger.domain import (
    Account,
    Enrolment,
    Group,
    Guardianship,
    SchoolClass,
    SchoolYear,
    ThematicPlan,
)
from ejournal.ledger.domain.values import BellSlot, PeriodScheme, PlanItem
from tests.commands.school import (
    FIRST_DAY,
    YEAR,
    TestSchool,
    build_school,
    entries,
    refused,
    uid,
)


def year_of(school: TestSchool) -> SchoolYear:
    return school.ledger.get(
        SchoolYear.create_id(school_id=school.school_id, year_start=YEAR), SchoolYear
    )


def test_the_year_as_set_up(school: TestSchool):
    # п. 2.2
    year = year_of(school)
    assert (year.days.starts_on, year.days.ends_on) == (date(2025, 9, 1), date(2026, 8, 31))
    assert year.periods("quarters")[0].name == "I четверть"
    assert year.holiday_on(date(2025, 10, 29)).name == "Осенние каникулы"
    assert {s.name for s in year.subjects.values()} == {
        "Математика",
        "Русский язык",
        "Английский язык",
    }
    assert year.work_types[school.work_types["Самостоятельная работа"]].written
    assert year.bell_slot("основное", 2) == BellSlot(2, time(9, 25), time(10, 10))
    assert not year.closed
    school_class: SchoolClass = school.ledger.get(school.class_id, SchoolClass)
    assert school_class.name == "5«А»"
    assert school_class.class_teacher_id == school.person["maths"]
    assert school_class.members_on(FIRST_DAY) == frozenset(school.students)
    assert school_class.members_on(date(2025, 8, 31)) == frozenset()
    group: Group = school.ledger.get(school.group_id, Group)
    assert group.members_on(FIRST_DAY) == frozenset(school.group_students)
    plan: ThematicPlan = school.ledger.get(
        ThematicPlan.create_id(roster_id=school.class_id, subject_id=school.subjects["Математика"]),
        ThematicPlan,
    )
    assert plan.item(2) == PlanItem(2, "Сложение и вычитание натуральных чисел", 2)


def test_setup_records_are_in_the_year_log_and_accounts_in_the_system_log(school: TestSchool):
    # I1
    roles = {role for _, _, role in entries(school.ledger, school.log_id)}
    assert roles == {"head", "teacher"}  # the КТП was imported by its teacher
    system_roles = {role for _, _, role in entries(school.ledger, "system")}
    assert system_roles == {"system"}


def test_year_rules(school: TestSchool):
    # п. 2.2
    year = {"school_id": school.school_id, "year_start": YEAR}
    with refused(school.ledger, Conflict, "year.already_open"):
        c.handle(c.OpenSchoolYear(actor=school.head, **year), school.ledger)
    with refused(school.ledger, InvalidInput, "year.invalid_dates"):
        c.handle(
            c.OpenSchoolYear(
                actor=school.head,
                school_id=school.school_id,
                year_start=2026,
                starts_on=date(2026, 9, 1),
                ends_on=date(2026, 8, 1),
            ),
            school.ledger,
        )
    with refused(school.ledger, NotFound, "year.not_found"):
        c.handle(
            c.AddSubject(actor=school.head, school_id=school.school_id, year_start=2030, name="X"),
            school.ledger,
        )
    with refused(school.ledger, NotFound, "school.not_found"):
        c.handle(
            c.OpenSchoolYear(actor=school.head, school_id=UUID(int=1), year_start=YEAR),
            school.ledger,
        )


def test_period_and_holiday_rules(school: TestSchool):
    # п. 2.2
    year = {"school_id": school.school_id, "year_start": YEAR}

    def periods(*specs: c.PeriodSpec, scheme: str = PeriodScheme.HALF_YEARS) -> None:
        c.handle(
            c.DefinePeriods(actor=school.head, **year, scheme=scheme, periods=specs),  # type: ignore[arg-type]
            school.ledger,
        )

    first = c.PeriodSpec("1 полугодие", date(2025, 9, 1), date(2025, 12, 28))
    with refused(school.ledger, InvalidInput, "period.unknown_scheme"):
        periods(first, scheme="semesters")
    with refused(school.ledger, InvalidInput, "period.invalid"):
        periods()
    with refused(school.ledger, InvalidInput, "period.invalid"):
        periods(first, c.PeriodSpec("2 полугодие", date(2025, 12, 1), date(2026, 5, 26)))
    with refused(school.ledger, InvalidInput, "period.invalid"):
        periods(first, c.PeriodSpec("1 полугодие", date(2026, 1, 12), date(2026, 5, 26)))
    with refused(school.ledger, InvalidInput, "period.invalid"):
        periods(c.PeriodSpec("1 полугодие", date(2025, 8, 20), date(2025, 12, 28)))
    periods(first, c.PeriodSpec("2 полугодие", date(2026, 1, 12), date(2026, 5, 26)))
    assert len(year_of(school).periods("half_years")) == 2
    for name, starts_on, ends_on in (
        ("", date(2025, 12, 29), date(2026, 1, 11)),
        ("Зимние каникулы", date(2026, 1, 11), date(2025, 12, 29)),
        ("Летние каникулы", date(2026, 6, 1), date(2026, 9, 5)),
    ):
        with refused(school.ledger, InvalidInput, "holiday.invalid"):
            c.handle(
                c.DeclareHoliday(
                    actor=school.head, **year, name=name, starts_on=starts_on, ends_on=ends_on
                ),
                school.ledger,
            )


def test_subject_work_type_and_bell_rules(school: TestSchool):
    # п. 2.2, 2.6
    year = {"school_id": school.school_id, "year_start": YEAR}
    with refused(school.ledger, Conflict, "subject.duplicate"):
        c.handle(c.AddSubject(actor=school.head, **year, name="математика"), school.ledger)
    with refused(school.ledger, InvalidInput, "subject.invalid_name"):
        c.handle(c.AddSubject(actor=school.head, **year, name=" "), school.ledger)
    for weight in (1.5, 0, -1, True, 11, Decimal("NaN")):
        with refused(school.ledger, InvalidInput, "work_type.invalid"):
            c.handle(
                c.DefineWorkType(
                    actor=school.head, **year, name="Проект", weight=weight, written=False
                ),  # type: ignore[arg-type]
                school.ledger,
            )
    work_type_id = c.handle(
        c.DefineWorkType(
            actor=school.head, **year, name="Проект", weight=Decimal("1.5"), written=False
        ),
        school.ledger,
    )
    assert year_of(school).work_types[work_type_id].weight == Decimal("1.5")
    with refused(school.ledger, Conflict, "work_type.duplicate"):
        c.handle(
            c.DefineWorkType(actor=school.head, **year, name="проект", weight=2, written=True),
            school.ledger,
        )
    for slots in (
        (),
        (BellSlot(1, time(9, 0), time(8, 0)),),
        (BellSlot(1, time(8, 0), time(8, 45)), BellSlot(2, time(8, 40), time(9, 25))),
        (BellSlot(1, time(8, 0), time(8, 45)), BellSlot(1, time(9, 0), time(9, 45))),
    ):
        with refused(school.ledger, InvalidInput, "bell.invalid_slots"):
            c.handle(c.DefineBellSchedule(actor=school.head, **year, slots=slots), school.ledger)


def test_class_rules(school: TestSchool):
    year = {"school_id": school.school_id, "year_start": YEAR}

    def open_class(grade: int = 6, letter: str = "Б", **changes: object) -> UUID:
        return c.handle(
            c.OpenClass(
                actor=school.head,
                **year,
                grade=grade,
                letter=letter,
                **{"period_scheme": PeriodScheme.QUARTERS, **changes},  # type: ignore[arg-type]
            ),
            school.ledger,
        )

    for grade in (0, 12):
        with refused(school.ledger, InvalidInput, "class.invalid_grade"):
            open_class(grade=grade)
    for letter in ("АБ", "1", ""):
        with refused(school.ledger, InvalidInput, "class.invalid_letter"):
            open_class(letter=letter)
    with refused(school.ledger, InvalidInput, "period.scheme_not_defined"):
        open_class(period_scheme=PeriodScheme.TRIMESTERS)
    with refused(school.ledger, InvalidInput, "bell.unknown_schedule"):
        open_class(bell_schedule="сокращённое")
    with refused(school.ledger, Conflict, "class.already_open"):
        open_class(grade=5, letter="а")
    class_id = open_class()
    assert class_id == SchoolClass.create_id(
        school_id=school.school_id, year_start=YEAR, grade=6, letter="Б"
    )


def test_enrolment_and_group_rules(school: TestSchool):
    newcomer, student = uid(5000), school.students[0]
    with refused(school.ledger, Conflict, "student.already_enrolled"):
        c.handle(
            c.EnrolStudent(
                actor=school.head, class_id=school.class_id, student_id=student, on=FIRST_DAY
            ),
            school.ledger,
        )
    with refused(school.ledger, InvalidInput, "enrolment.invalid_date"):
        c.handle(
            c.EnrolStudent(
                actor=school.head,
                class_id=school.class_id,
                student_id=newcomer,
                on=date(2024, 9, 1),
            ),
            school.ledger,
        )
    with refused(school.ledger, Conflict, "student.not_enrolled"):
        c.handle(
            c.WithdrawStudent(
                actor=school.head,
                class_id=school.class_id,
                student_id=newcomer,
                on=FIRST_DAY,
                reason="?",
            ),
            school.ledger,
        )
    with refused(school.ledger, InvalidInput, "reason.required"):
        c.handle(
            c.WithdrawStudent(
                actor=school.head,
                class_id=school.class_id,
                student_id=student,
                on=FIRST_DAY,
                reason="",
            ),
            school.ledger,
        )
    with refused(school.ledger, NotFound, "class.not_found"):
        c.handle(
            c.EnrolStudent(
                actor=school.head, class_id=school.group_id, student_id=newcomer, on=FIRST_DAY
            ),
            school.ledger,
        )
    with refused(school.ledger, InvalidInput, "student.not_in_class"):
        c.handle(
            c.AddGroupMember(
                actor=school.head, group_id=school.group_id, student_id=newcomer, on=FIRST_DAY
            ),
            school.ledger,
        )
    with refused(school.ledger, Conflict, "group.already_member"):
        c.handle(
            c.AddGroupMember(
                actor=school.head,
                group_id=school.group_id,
                student_id=school.group_students[0],
                on=FIRST_DAY,
            ),
            school.ledger,
        )
    with refused(school.ledger, Conflict, "group.not_a_member"):
        c.handle(
            c.RemoveGroupMember(
                actor=school.head,
                group_id=school.group_id,
                student_id=school.students[-1],
                on=FIRST_DAY,
            ),
            school.ledger,
        )
    with refused(school.ledger, Conflict, "group.already_formed"):
        c.handle(
            c.FormGroup(
                actor=school.head,
                class_id=school.class_id,
                subject_id=school.subjects["Английский язык"],
                name="группа 1",
            ),
            school.ledger,
        )
    with refused(school.ledger, NotFound, "subject.not_found"):
        c.handle(
            c.FormGroup(
                actor=school.head, class_id=school.class_id, subject_id=uid(1), name="Группа 2"
            ),
            school.ledger,
        )
    with refused(school.ledger, InvalidInput, "student.not_in_class"):
        c.handle(
            c.OpenIndividualCurriculum(
                actor=school.head,
                class_id=school.class_id,
                student_id=newcomer,
                subject_id=school.subjects["Математика"],
                on=FIRST_DAY,
            ),
            school.ledger,
        )


def test_assignment_rules(school: TestSchool):
    # п. 2.3
    assign = {
        "roster_id": school.class_id,
        "subject_id": school.subjects["Математика"],
        "teacher_id": school.person["maths"],
        "on": FIRST_DAY,
    }
    with refused(school.ledger, Conflict, "assignment.duplicate"):
        c.handle(c.AssignTeacher(actor=school.head, **assign), school.ledger)
    with refused(school.ledger, InvalidInput, "roster.subject_mismatch"):
        c.handle(
            c.AssignTeacher(actor=school.head, **{**assign, "roster_id": school.group_id}),
            school.ledger,
        )
    with refused(school.ledger, NotFound, "roster.not_found"):
        c.handle(
            c.AssignTeacher(actor=school.head, **{**assign, "roster_id": uid(1)}), school.ledger
        )
    # An assignment that ended can be resumed.
    c.handle(
        c.UnassignTeacher(actor=school.head, **{**assign, "on": date(2025, 9, 10)}), school.ledger
    )
    c.handle(
        c.AssignTeacher(actor=school.head, **{**assign, "on": date(2025, 9, 20)}), school.ledger
    )


def test_parents_are_linked_to_students(school: TestSchool):
    # п. 1.5, 1.6
    link = {
        "school_id": school.school_id,
        "year_start": YEAR,
        "student_id": school.students[0],
        "parent_id": uid(7000),
    }
    c.handle(c.LinkParent(actor=school.head, **link), school.ledger)
    c.handle(c.LinkParent(actor=school.head, **{**link, "parent_id": uid(7001)}), school.ledger)
    guardianship: Guardianship = school.ledger.get(
        Guardianship.create_id(
            school_id=school.school_id, year_start=YEAR, student_id=school.students[0]
        ),
        Guardianship,
    )
    assert guardianship.parent_ids == {uid(7000), uid(7001)}
    with refused(school.ledger, Conflict, "parent.already_linked"):
        c.handle(c.LinkParent(actor=school.head, **link), school.ledger)
    c.handle(c.UnlinkParent(actor=school.head, **link, reason="Решение суда"), school.ledger)
    with refused(school.ledger, Conflict, "parent.not_linked"):
        c.handle(c.UnlinkParent(actor=school.head, **link, reason="Ещё раз"), school.ledger)


def test_a_pupil_is_in_one_class_of_one_school_at_a_time(school: TestSchool):
    # п. 2.2: another school's pupil is theirs until withdrawn there; a transfer within the year
    # is a withdrawal there, then an enrolment here from that day on.
    other = build_school(school.ledger, number=2)
    pupil = other.students[0]

    def enrol(actor: Actor, class_id: UUID, on: date) -> None:
        c.handle(
            c.EnrolStudent(actor=actor, class_id=class_id, student_id=pupil, on=on), school.ledger
        )

    with refused(school.ledger, NotAllowed, "student.of_another_school"):
        enrol(school.head, school.class_id, date(2025, 9, 15))
    c.handle(
        c.WithdrawStudent(
            actor=other.head,
            class_id=other.class_id,
            student_id=pupil,
            on=date(2025, 9, 15),
            reason="Перевод в СОШ № 1",
        ),
        school.ledger,
    )
    # Not from before the day the pupil left there: no two schools' classes on one day.
    with refused(school.ledger, NotAllowed, "student.of_another_school"):
        enrol(school.head, school.class_id, date(2025, 9, 14))
    enrol(school.head, school.class_id, date(2025, 9, 15))
    enrolment = school.ledger.get(Enrolment.create_id(student_id=pupil, year_start=YEAR), Enrolment)
    assert [(p.school_id, p.stint.starts_on, p.stint.ends_on) for p in enrolment.placements] == [
        (other.school_id, FIRST_DAY, date(2025, 9, 15)),
        (school.school_id, date(2025, 9, 15), None),
    ]
    # Each school's log holds its own part: the enrolment and the withdrawal there, and here
    # the enrolment here.
    database = school.ledger.database
    with database.transaction(write=False) as cursor:
        cursor.execute(
            "SELECT log_id FROM stored_events WHERE originator_id = ? ORDER BY originator_version",
            (database.uuid(enrolment.id),),
        )
        logs = [row[0] for row in cursor.fetchall()]
    assert logs == [other.log_id, other.log_id, other.log_id, school.log_id]
    # Nor in two classes of one school: a move is a withdrawal first.
    six_b = c.handle(
        c.OpenClass(
            actor=school.head,
            school_id=school.school_id,
            year_start=YEAR,
            grade=6,
            letter="Б",
            period_scheme=PeriodScheme.QUARTERS,
        ),
        school.ledger,
    )
    with refused(school.ledger, Conflict, "student.in_another_class"):
        enrol(school.head, six_b, date(2025, 10, 1))
    # The other school takes the pupil back only once this one has withdrawn them.
    with refused(school.ledger, NotAllowed, "student.of_another_school"):
        enrol(other.head, other.class_id, date(2025, 10, 1))


def test_parents_are_linked_to_the_school_s_own_pupils(school: TestSchool):
    # п. 1.6, 2.2: a link lets the parent read the diary under the school's name: only a pupil
    # enrolled now in one of its classes is the school's to link.
    other = build_school(school.ledger, number=2)
    link = {"school_id": school.school_id, "year_start": YEAR, "parent_id": uid(7000)}
    for stranger in (other.students[0], uid(7777)):  # another school's pupil; nobody's
        with refused(school.ledger, NotFound, "student.not_in_school"):
            c.handle(c.LinkParent(actor=school.head, student_id=stranger, **link), school.ledger)
    leaver = school.students[5]
    c.handle(
        c.WithdrawStudent(
            actor=school.head,
            class_id=school.class_id,
            student_id=leaver,
            on=date(2025, 9, 15),
            reason="Переезд",
        ),
        school.ledger,
    )
    with refused(school.ledger, NotFound, "student.not_in_school"):
        c.handle(c.LinkParent(actor=school.head, student_id=leaver, **link), school.ledger)
    # Another school's head links nobody here, not even a pupil of their own school.
    with refused(school.ledger, NotAllowed, "setup.administration_only"):
        c.handle(
            c.LinkParent(actor=other.head, student_id=other.students[0], **link), school.ledger
        )


def test_plan_rules(school: TestSchool):
    # п. 2.6
    def import_plan(actor: Actor, *items: PlanItem, subject: str = "Математика") -> UUID:
        return c.handle(
            c.ImportKtp(
                actor=actor,
                roster_id=school.class_id,
                subject_id=school.subjects[subject],
                items=items,
            ),
            school.ledger,
        )

    for items in (
        (),
        (PlanItem(1, "Тема", 1), PlanItem(1, "Другая тема", 1)),
        (PlanItem(0, "Тема", 1),),
        (PlanItem(1, " ", 1),),
        (PlanItem(1, "Тема", 0),),
    ):
        with refused(school.ledger, InvalidInput, "plan.invalid_items"):
            import_plan(school.maths, *items)
    with refused(school.ledger, NotAllowed, "journal.not_assigned"):
        import_plan(school.english, PlanItem(1, "Тема", 1))
    # A new import replaces the plan; the administration may import it too.
    plan_id = import_plan(school.deputy, PlanItem(1, "Новая тема", 1))
    assert list(school.ledger.get(plan_id, ThematicPlan).items) == [1]
    import_plan(school.russian, PlanItem(1, "Фонетика", 1), subject="Русский язык")


def test_schools_and_accounts(school: TestSchool):
    # I8
    with refused(school.ledger, NotAllowed, "role.required"):
        c.handle(c.RegisterSchool(actor=school.head, name="СОШ № 2"), school.ledger)
    with refused(school.ledger, InvalidInput, "school.invalid_time_zone"):
        c.handle(
            c.RegisterSchool(actor=SYSTEM_ACTOR, name="СОШ № 2", time_zone="Mars/Olympus"),
            school.ledger,
        )
    with refused(school.ledger, InvalidInput, "school.invalid_name"):
        c.handle(c.RegisterSchool(actor=SYSTEM_ACTOR, name=""), school.ledger)
    with refused(school.ledger, Conflict, "school.already_registered"):
        c.handle(
            c.RegisterSchool(actor=SYSTEM_ACTOR, name="СОШ", school_id=school.school_id),
            school.ledger,
        )
    with refused(school.ledger, Conflict, "account.login_taken"):
        c.handle(
            c.RegisterAccount(actor=SYSTEM_ACTOR, login=" Maths ", person_id=uid(1)), school.ledger
        )
    for login in ("ab", "иванов", "a b c", "x" * 65):
        with refused(school.ledger, InvalidInput, "account.invalid_login"):
            c.handle(
                c.RegisterAccount(actor=SYSTEM_ACTOR, login=login, person_id=uid(1)), school.ledger
            )
    with refused(school.ledger, NotAllowed, "role.required"):
        c.handle(
            c.RegisterAccount(actor=school.head, login="novichok", person_id=uid(1)), school.ledger
        )
    account_id = c.handle(
        c.RegisterAccount(actor=SYSTEM_ACTOR, login="Novichok", person_id=uid(1)), school.ledger
    )
    assert account_id == Account.create_id(login="novichok")
    account: Account = school.ledger.get(account_id, Account)
    assert (account.login, account.person_id, account.grants) == ("novichok", uid(1), set())


def test_grant_rules(school: TestSchool):
    # п. 2.1
    account_id = c.handle(
        c.RegisterAccount(actor=SYSTEM_ACTOR, login="novichok", person_id=uid(1)), school.ledger
    )

    def grant(actor: Actor, role: Role, school_id: UUID | None) -> None:
        c.handle(
            c.GrantRole(actor=actor, account_id=account_id, role=role, school_id=school_id),
            school.ledger,
        )

    with refused(school.ledger, InvalidInput, "account.role_not_grantable"):
        grant(SYSTEM_ACTOR, Role.SYSTEM, None)
    with refused(school.ledger, InvalidInput, "account.invalid_grant_scope"):
        grant(SYSTEM_ACTOR, Role.TEACHER, None)
    with refused(school.ledger, InvalidInput, "account.invalid_grant_scope"):
        grant(SYSTEM_ACTOR, Role.AUDITOR, school.school_id)
    with refused(school.ledger, NotFound, "school.not_found"):
        grant(SYSTEM_ACTOR, Role.TEACHER, uid(1))
    with refused(school.ledger, NotAllowed, "role.required"):
        grant(school.head, Role.HEAD, school.school_id)
    with refused(school.ledger, NotAllowed, "role.required"):
        grant(school.deputy, Role.DEPUTY, school.school_id)
    with refused(school.ledger, NotAllowed, "role.required"):
        grant(school.maths, Role.TEACHER, school.school_id)
    with refused(school.ledger, NotAllowed, "role.required"):
        grant(school.head, Role.AUDITOR, None)
    grant(school.head, Role.DEPUTY, school.school_id)
    grant(school.deputy, Role.TEACHER, school.school_id)
    grant(SYSTEM_ACTOR, Role.AUDITOR, None)
    with refused(school.ledger, Conflict, "account.already_granted"):
        grant(school.deputy, Role.TEACHER, school.school_id)
    account: Account = school.ledger.get(account_id, Account)
    assert account.grants == {
        Grant(Role.DEPUTY, school.school_id),
        Grant(Role.TEACHER, school.school_id),
        Grant(Role.AUDITOR),
    }
    with refused(school.ledger, Conflict, "account.not_granted"):
        c.handle(
            c.RevokeRole(
                actor=school.head,
                account_id=account_id,
                role=Role.PARENT,
                school_id=school.school_id,
            ),
            school.ledger,
        )
    with refused(school.ledger, NotFound, "account.not_found"):
        c.handle(
            c.GrantRole(actor=SYSTEM_ACTOR, account_id=uid(1), role=Role.AUDITOR), school.ledger
        )


def test_credentials_and_locks(school: TestSchool):
    # п. 4.2–4.4: support locks accounts and issues credentials again.
    support = school.account("podderzhka", Role.SUPPORT, school=False)
    target = school.maths.account_id
    assert c.handle(c.IssueCredentials(actor=support, account_id=target), school.ledger) == 1
    assert c.handle(c.IssueCredentials(actor=support, account_id=target), school.ledger) == 2
    with refused(school.ledger, NotAllowed, "role.required"):
        c.handle(c.IssueCredentials(actor=school.head, account_id=target), school.ledger)
    with refused(school.ledger, InvalidInput, "reason.required"):
        c.handle(c.LockAccount(actor=support, account_id=target, reason=""), school.ledger)
    with refused(school.ledger, Conflict, "account.not_locked"):
        c.handle(c.UnlockAccount(actor=support, account_id=target, reason="?"), school.ledger)
    c.handle(
        c.LockAccount(actor=support, account_id=target, reason="Пароль передан"), school.ledger
    )
    with refused(school.ledger, Conflict, "account.already_locked"):
        c.handle(c.LockAccount(actor=support, account_id=target, reason="Ещё раз"), school.ledger)
    account: Account = school.ledger.get(target, Account)
    assert account.locked
    assert account.credential_version == 2


def test_group_and_curriculum_refusals(school: TestSchool):
    # п. 2.2, 2.3: groups and individual curricula are set up once, with real names and rosters.
    head, ledger = school.head, school.ledger
    with refused(ledger, InvalidInput, "group.invalid_name"):
        c.handle(
            c.FormGroup(
                actor=head,
                class_id=school.class_id,
                subject_id=school.subjects["Английский язык"],
                name="   ",
            ),
            ledger,
        )
    with refused(ledger, NotFound, "group.not_found"):
        c.handle(
            c.AddGroupMember(
                actor=head, group_id=uid(424242), student_id=school.students[0], on=FIRST_DAY
            ),
            ledger,
        )
    plan = {
        "class_id": school.class_id,
        "student_id": school.students[4],
        "subject_id": school.subjects["Математика"],
        "on": FIRST_DAY,
    }
    c.handle(c.OpenIndividualCurriculum(actor=head, **plan), ledger)
    with refused(ledger, Conflict, "curriculum.already_open"):
        c.handle(c.OpenIndividualCurriculum(actor=head, **plan), ledger)
