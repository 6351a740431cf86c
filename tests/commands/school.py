"""A small school built through the commands, for command tests.

One school, the 2025/26 year in quarters with autumn holidays, three subjects, three work types, a
bell schedule, class 5«А» with six students, an English group of three, and staff accounts: head,
deputy, a maths teacher who is also 5«А»'s class teacher, a Russian teacher and an English teacher.
The fixture clock stands at 09:00 Moscow time on Monday 1 September 2025.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from uuid import UUID

import pytest

from ejournal import commands as c
from ejournal.ledger import recorders
from ejournal.ledger.actor import SYSTEM_ACTOR, Actor, Role
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain.values import BellSlot, PeriodScheme, PlanItem
from ejournal.ledger.logs import school_log_id
from tests.databases import Template, Templates

YEAR = 2025
START = datetime(2025, 9, 1, 6, 0, tzinfo=UTC)
"""09:00 Moscow time on Monday 1 September 2025: the ``clock`` fixture's time, at which the school
is built."""
FIRST_DAY = date(2025, 9, 1)
MONDAY = FIRST_DAY
SUNDAY = date(2025, 9, 7)
HOLIDAY = date(2025, 10, 29)
BELLS = (
    BellSlot(1, time(8, 30), time(9, 15)),
    BellSlot(2, time(9, 25), time(10, 10)),
    BellSlot(3, time(10, 30), time(11, 15)),
)


def uid(n: int) -> UUID:
    """A readable fixed person ID."""
    return UUID(int=n)


@dataclass
class TestSchool:
    __test__ = False  # not a test class, despite its name

    ledger: Ledger
    school_id: UUID
    log_id: str
    head: Actor
    deputy: Actor
    maths: Actor
    """Teaches mathematics in 5«А» and is its class teacher."""
    russian: Actor
    english: Actor
    """Teaches the English group."""
    person: dict[str, UUID]
    subjects: dict[str, UUID]
    work_types: dict[str, UUID]
    class_id: UUID
    group_id: UUID
    students: list[UUID]
    group_students: list[UUID]
    accounts: dict[str, UUID] = field(default_factory=dict)
    number: int = 1
    """СОШ № ``number`` (``build_school``)."""

    def account(self, name: str, role: Role, *, school: bool = True) -> Actor:
        """A new account named ``name`` holding ``role`` (in this school, or deployment-wide)."""
        person_id = uid(9000 + len(self.accounts) + (self.number - 1) * SCHOOL_IDS)
        account_id = c.handle(
            c.RegisterAccount(actor=SYSTEM_ACTOR, login=name, person_id=person_id), self.ledger
        )
        c.handle(
            c.GrantRole(
                actor=SYSTEM_ACTOR,
                account_id=account_id,
                role=role,
                school_id=self.school_id if school else None,
            ),
            self.ledger,
        )
        self.accounts[name] = account_id
        self.person[name] = person_id
        return c.actor_for(self.ledger, account_id)

    def lesson(
        self,
        actor: Actor | None = None,
        *,
        subject: str = "Математика",
        on: date = MONDAY,
        slot: int = 1,
        roster_id: UUID | None = None,
    ) -> UUID:
        """Schedule a lesson (by default maths in 5«А», first lesson on 1 September)."""
        return c.handle(
            c.ScheduleLesson(
                actor=actor or self.maths,
                roster_id=roster_id or self.class_id,
                subject_id=self.subjects[subject],
                on=on,
                slot=slot,
                topic="Повторение",
            ),
            self.ledger,
        )


SCHOOL_IDS = 10_000
"""Person, subject and work-type IDs of school ``number`` are those of school 1 plus
``(number - 1) * SCHOOL_IDS``: no ID is two schools'."""


def build_school(ledger: Ledger, *, number: int = 1) -> TestSchool:
    """School ``number`` (СОШ № ``number``): school 1 as described above; another has the same
    shape with IDs of its own and its staff's logins suffixed with its number (``head2``)."""

    def run(command: c.Command[object]) -> object:
        return c.handle(command, ledger)

    def n(base: int) -> UUID:
        return uid(base + (number - 1) * SCHOOL_IDS)

    suffix = "" if number == 1 else str(number)
    school_id = c.handle(c.RegisterSchool(actor=SYSTEM_ACTOR, name=f"СОШ № {number}"), ledger)
    accounts: dict[str, Actor] = {}
    person: dict[str, UUID] = {}
    staff = {
        "head": [Role.HEAD],
        "deputy": [Role.DEPUTY],
        "maths": [Role.TEACHER, Role.CLASS_TEACHER],
        "russian": [Role.TEACHER],
        "english": [Role.TEACHER],
    }
    for index, (login, roles) in enumerate(staff.items(), start=1):
        person[login] = n(100 + index)
        account_id = c.handle(
            c.RegisterAccount(actor=SYSTEM_ACTOR, login=login + suffix, person_id=person[login]),
            ledger,
        )
        for role in roles:
            run(
                c.GrantRole(
                    actor=SYSTEM_ACTOR, account_id=account_id, role=role, school_id=school_id
                )
            )
        accounts[login] = c.actor_for(ledger, account_id)
    head = accounts["head"]
    year = {"school_id": school_id, "year_start": YEAR}
    run(c.OpenSchoolYear(actor=head, **year))
    run(
        c.DefinePeriods(
            actor=head,
            **year,
            scheme=PeriodScheme.QUARTERS,
            periods=(
                c.PeriodSpec("I четверть", date(2025, 9, 1), date(2025, 10, 26)),
                c.PeriodSpec("II четверть", date(2025, 11, 5), date(2025, 12, 28)),
                c.PeriodSpec("III четверть", date(2026, 1, 12), date(2026, 3, 22)),
                c.PeriodSpec("IV четверть", date(2026, 4, 1), date(2026, 5, 26)),
            ),
        )
    )
    run(
        c.DeclareHoliday(
            actor=head,
            **year,
            name="Осенние каникулы",
            starts_on=date(2025, 10, 27),
            ends_on=date(2025, 11, 4),
        )
    )
    subjects = {
        name: c.handle(c.AddSubject(actor=head, **year, name=name, subject_id=n(200 + i)), ledger)
        for i, name in enumerate(("Математика", "Русский язык", "Английский язык"))
    }
    work_types = {
        name: c.handle(
            c.DefineWorkType(
                actor=head,
                **year,
                name=name,
                weight=weight,
                written=written,
                work_type_id=n(300 + i),
            ),
            ledger,
        )
        for i, (name, weight, written) in enumerate(
            (("Ответ на уроке", 1, False), ("Самостоятельная работа", 2, True)),
        )
    }
    run(c.DefineBellSchedule(actor=head, **year, slots=BELLS))
    class_id = c.handle(
        c.OpenClass(actor=head, **year, grade=5, letter="А", period_scheme=PeriodScheme.QUARTERS),
        ledger,
    )
    run(c.AssignClassTeacher(actor=head, class_id=class_id, teacher_id=person["maths"]))
    students = [n(1000 + i) for i in range(6)]
    for student in students:
        run(c.EnrolStudent(actor=head, class_id=class_id, student_id=student, on=FIRST_DAY))
    group_id = c.handle(
        c.FormGroup(
            actor=head, class_id=class_id, subject_id=subjects["Английский язык"], name="Группа 1"
        ),
        ledger,
    )
    group_students = students[:3]
    for student in group_students:
        run(c.AddGroupMember(actor=head, group_id=group_id, student_id=student, on=FIRST_DAY))
    for roster, subject, teacher in (
        (class_id, "Математика", "maths"),
        (class_id, "Русский язык", "russian"),
        (group_id, "Английский язык", "english"),
    ):
        run(
            c.AssignTeacher(
                actor=head,
                roster_id=roster,
                subject_id=subjects[subject],
                teacher_id=person[teacher],
                on=FIRST_DAY,
            )
        )
    run(
        c.ImportKtp(
            actor=accounts["maths"],
            roster_id=class_id,
            subject_id=subjects["Математика"],
            items=(
                PlanItem(1, "Натуральные числа и шкалы", 1),
                PlanItem(2, "Сложение и вычитание натуральных чисел", 2),
            ),
        )
    )
    return TestSchool(
        ledger=ledger,
        school_id=school_id,
        log_id=school_log_id(school_id, YEAR),
        head=head,
        deputy=accounts["deputy"],
        maths=accounts["maths"],
        russian=accounts["russian"],
        english=accounts["english"],
        person=person,
        subjects=subjects,
        work_types=work_types,
        class_id=class_id,
        group_id=group_id,
        students=students,
        group_students=group_students,
        number=number,
    )


def school_template(templates: Templates) -> Template[TestSchool]:
    """A database in which ``build_school`` ran at ``START`` (tests/databases.py)."""
    return templates.get("school", _build_school_template)


def _build_school_template(url: str) -> TestSchool:
    ledger = Ledger(database_url=url, clock=ManualClock(START))
    try:
        return build_school(ledger)
    finally:
        ledger.close()


def school_in(template: Template[TestSchool], ledger: Ledger) -> TestSchool:
    """The school of ``template``, in ``ledger``, whose database is a copy of the template's: as
    ``build_school(ledger)`` would have returned it, had it run there."""
    if ledger.clock() != START:
        msg = f"the school is built at {START}, the clock reads {ledger.clock()}: move it later"
        raise RuntimeError(msg)
    built = template.result(ledger.database.dialect)
    # A deep copy, so that a test's new accounts stay its own; the ledger is the test's.
    return copy.deepcopy(built, {id(built.ledger): ledger})


def count_events(ledger: Ledger) -> int:
    """How many events the ledger holds."""
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute("SELECT COUNT(*) FROM stored_events")
        return int(cursor.fetchone()[0])


@contextmanager
def refused(ledger: Ledger, kind: type[c.CommandError], code: str) -> Iterator[None]:
    """Expect the block to be refused with ``code`` (of ``kind``), having written nothing."""
    before = count_events(ledger)
    with pytest.raises(kind, match=re.escape(code)) as info:
        yield
    assert info.value.code == code
    assert c.CATALOGUE[code].kind is kind
    assert count_events(ledger) == before, "a refused command wrote to the ledger"


def entries(ledger: Ledger, log_id: str) -> list[tuple[int, int, str]]:
    """(index, recorded_at, actor_role) of every entry of a log, in order."""
    # The entries are columns of the events table, or rows of a table of their own: either will do.
    table = getattr(recorders, "ENTRIES_TABLE", "stored_events")
    with ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT idx, recorded_at, actor_role FROM {table} WHERE log_id = ? ORDER BY idx",
            (log_id,),
        )
        return [(int(i), int(t), str(r)) for i, t, r in cursor.fetchall()]
