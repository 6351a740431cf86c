"""The projector's central property (I10): for random command sequences through the commands
layer, the read models kept up incrementally — after every command, in pages of a random size —
equal the read models rebuilt from scratch, on SQLite and on PostgreSQL.

Sequences mix every journal command (lessons, topics, registers, marks, class works, corrections,
cancellations, homework, comments, messages, attestation marks and their revisions, КТП imports,
withdrawals and re-enrolments, timetable versions that schedule, re-plan and cancel lessons,
substitutes, cancelled lessons) with the clock moving on; refused commands are part of the game.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ejournal import commands as c
from ejournal.ledger.actor import Actor
from ejournal.ledger.application import Ledger
from ejournal.ledger.clock import ManualClock
from ejournal.ledger.domain.values import ATTESTATION_VALUES, PlanItem
from ejournal.projections import storage
from ejournal.projections.projector import Projector
from tests.commands.school import START, TestSchool, school_in, school_template
from tests.conftest import BACKENDS
from tests.databases import Template, drop_pg_database
from tests.projections.conftest import MOSCOW

EXAMPLES = 12
CODES = ("Н", "Б", "П", "ОП")

index = st.integers(min_value=0, max_value=50)
student = st.integers(min_value=0, max_value=5)
subject = st.integers(min_value=0, max_value=2)
STEP = st.one_of(
    st.tuples(st.just("advance"), st.integers(min_value=1, max_value=3 * 24 * 60)),
    st.tuples(st.just("lesson"), subject, st.integers(0, 6), st.integers(1, 3)),
    st.tuples(
        st.just("topic"), index, st.sampled_from([None, 1, 2]), st.sampled_from(["", "Дроби"])
    ),
    st.tuples(st.just("attendance"), index, st.lists(st.tuples(student, st.sampled_from(CODES)))),
    st.tuples(st.just("mark"), index, student, st.integers(1, 5), st.booleans()),
    st.tuples(st.just("class_work"), index, st.integers(1, 5)),
    st.tuples(st.just("correct"), index, st.integers(1, 5)),
    st.tuples(st.just("cancel"), index),
    st.tuples(st.just("homework"), index, st.sampled_from(["§ 1", "№ 2–4"])),
    st.tuples(st.just("comment"), index, student),
    st.tuples(st.just("message"), student),
    st.tuples(
        st.just("attest"),
        student,
        subject,
        st.sampled_from(ATTESTATION_VALUES),
        st.sampled_from(["period", "year", "final"]),
    ),
    st.tuples(st.just("ktp"), st.integers(1, 3)),
    st.tuples(st.just("withdraw"), student),
    st.tuples(st.just("enrol"), student),
    st.tuples(st.just("timetable"), subject, st.integers(1, 2)),
    st.tuples(st.just("substitute"), index, subject),
    st.tuples(st.just("cancel_lesson"), index),
)


@contextmanager
def fresh_school(
    template: Template[TestSchool], backend: str, folder: Path
) -> Iterator[tuple[TestSchool, ManualClock]]:
    """A new database with the test school in it, a copy of ``template`` (the fixtures are per
    test, not per Hypothesis example)."""
    if backend == "sqlite":
        path = folder / f"{uuid.uuid4().hex}.db"
        template.copy_sqlite(path)
        url = f"sqlite:///{path}"
    else:
        url, _ = template.copy_postgres()
    clock = ManualClock(START)
    ledger = Ledger(database_url=url, clock=clock)
    try:
        yield school_in(template, ledger), clock
    finally:
        ledger.close()
        if backend == "postgres":
            drop_pg_database(url)


class Journal:
    """Runs the drawn steps as commands, remembering what they created."""

    def __init__(self, school: TestSchool, clock: ManualClock) -> None:
        self.school = school
        self.clock = clock
        self.lessons: list[tuple[UUID, Actor, int]] = []
        self.marks: list[tuple[UUID, UUID, Actor]] = []
        subjects = school.subjects
        self.teaching = (
            (school.class_id, subjects["Математика"], school.maths),
            (school.class_id, subjects["Русский язык"], school.russian),
            (school.group_id, subjects["Английский язык"], school.english),
        )

    def today(self) -> Any:
        return self.clock().astimezone(MOSCOW).date()

    def run(self, step: tuple[Any, ...]) -> None:
        # A refusal writes nothing: the property holds all the same.
        with suppress(c.CommandError):
            getattr(self, f"_{step[0]}")(*step[1:])

    def _handle(self, command: c.Command[Any]) -> Any:
        return c.handle(command, self.school.ledger)

    def _lesson_at(self, i: int) -> tuple[UUID, Actor, int] | None:
        return self.lessons[i % len(self.lessons)] if self.lessons else None

    def _advance(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))

    def _lesson(self, s: int, days_back: int, slot: int) -> None:
        roster, subject_id, teacher = self.teaching[s]
        lesson = self._handle(
            c.ScheduleLesson(
                actor=teacher,
                roster_id=roster,
                subject_id=subject_id,
                on=self.today() - timedelta(days=days_back),
                slot=slot,
                topic="Повторение" if slot != 2 else "",
                plan_item=1 if s == 0 and slot == 3 else None,
            )
        )
        self.lessons.append((lesson, teacher, s))

    def _topic(self, i: int, plan_item: int | None, text: str) -> None:
        if found := self._lesson_at(i):
            lesson, teacher, _ = found
            self._handle(
                c.SetLessonTopic(actor=teacher, lesson_id=lesson, topic=text, plan_item=plan_item)
            )

    def _attendance(self, i: int, codes: list[tuple[int, str]]) -> None:
        if found := self._lesson_at(i):
            lesson, teacher, _ = found
            register = {self.school.students[s]: code for s, code in codes}
            self._handle(c.RecordAttendance(actor=teacher, lesson_id=lesson, codes=register))

    def _mark(self, i: int, s: int, value: int, written: bool) -> None:
        if found := self._lesson_at(i):
            lesson, teacher, _ = found
            kind = "Самостоятельная работа" if written else "Ответ на уроке"
            mark = self._handle(
                c.RecordMark(
                    actor=teacher,
                    lesson_id=lesson,
                    student_id=self.school.students[s],
                    value=value,
                    work_type_id=self.school.work_types[kind],
                    checked_on=self.today() if written else None,
                )
            )
            self.marks.append((lesson, mark, teacher))

    def _class_work(self, i: int, value: int) -> None:
        if found := self._lesson_at(i):
            lesson, teacher, s = found
            students = self.school.group_students if s == 2 else self.school.students
            marks = self._handle(
                c.RecordClassWorkMarks(
                    actor=teacher,
                    lesson_id=lesson,
                    work_type_id=self.school.work_types["Ответ на уроке"],
                    marks={student: value for student in students},
                )
            )
            self.marks.extend((lesson, mark, teacher) for mark in marks)

    def _correct(self, j: int, value: int) -> None:
        if self.marks:
            lesson, mark, teacher = self.marks[j % len(self.marks)]
            self._handle(
                c.CorrectMark(
                    actor=teacher, lesson_id=lesson, mark_id=mark, value=value, reason="описка"
                )
            )

    def _cancel(self, j: int) -> None:
        if self.marks:
            lesson, mark, teacher = self.marks[j % len(self.marks)]
            self._handle(
                c.CancelMark(actor=teacher, lesson_id=lesson, mark_id=mark, reason="ошибка")
            )

    def _homework(self, i: int, text: str) -> None:
        if found := self._lesson_at(i):
            lesson, teacher, _ = found
            self._handle(c.AssignHomework(actor=teacher, lesson_id=lesson, text=text))

    def _comment(self, i: int, s: int) -> None:
        if found := self._lesson_at(i):
            lesson, teacher, _ = found
            self._handle(
                c.AddComment(
                    actor=teacher,
                    lesson_id=lesson,
                    student_id=self.school.students[s],
                    text="Молодец",
                )
            )

    def _message(self, s: int) -> None:
        roster, subject_id, teacher = self.teaching[0]
        self._handle(
            c.SendMessageToParents(
                actor=teacher,
                roster_id=roster,
                subject_id=subject_id,
                student_id=self.school.students[s],
                text="Прошу зайти в школу",
            )
        )

    def _attest(self, s: int, subject_index: int, value: str, kind: str) -> None:
        roster, subject_id, teacher = self.teaching[subject_index]
        common: dict[str, Any] = {
            "actor": teacher,
            "roster_id": roster,
            "subject_id": subject_id,
            "student_id": self.school.students[s],
            "value": value,
            "reason": "пересмотр",
        }
        if kind == "period":
            self._handle(c.SetPeriodMark(**common, period="I четверть"))
        elif kind == "year":
            self._handle(c.SetYearMark(**common))
        else:
            self._handle(c.SetFinalMark(**common))

    def _ktp(self, items: int) -> None:
        roster, subject_id, teacher = self.teaching[0]
        plan = tuple(PlanItem(n, f"Тема {n}", 1) for n in range(1, items + 1))
        self._handle(
            c.ImportKtp(actor=teacher, roster_id=roster, subject_id=subject_id, items=plan)
        )

    def _timetable(self, s: int, slot: int) -> None:
        # A small timetable (one weekly lesson): each version from today re-plans or cancels
        # what the last one planned.
        roster, subject_id, _ = self.teaching[s]
        person = self.school.person[("maths", "russian", "english")[s]]
        self._handle(
            c.SetTimetable(
                actor=self.school.deputy,
                class_id=self.school.class_id,
                effective_from=self.today(),
                entries=(c.TimetableEntry(1, slot, roster, subject_id, person),),
            )
        )

    def _substitute(self, i: int, s: int) -> None:
        if found := self._lesson_at(i):
            lesson, _, _ = found
            teacher = self.school.person[("maths", "russian", "english")[s]]
            self._handle(
                c.AssignSubstitute(
                    actor=self.school.head, lesson_id=lesson, teacher_id=teacher, reason="болезнь"
                )
            )

    def _cancel_lesson(self, i: int) -> None:
        if found := self._lesson_at(i):
            lesson, _, _ = found
            self._handle(
                c.CancelLesson(actor=self.school.head, lesson_id=lesson, reason="каникулы")
            )

    def _withdraw(self, s: int) -> None:
        self._handle(
            c.WithdrawStudent(
                actor=self.school.head,
                class_id=self.school.class_id,
                student_id=self.school.students[s],
                on=self.today(),
                reason="перевод",
            )
        )

    def _enrol(self, s: int) -> None:
        self._handle(
            c.EnrolStudent(
                actor=self.school.head,
                class_id=self.school.class_id,
                student_id=self.school.students[s],
                on=self.today(),
            )
        )


def read_models(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    with ledger.database.transaction(write=False) as cursor:
        return storage.table_dump(cursor)


@pytest.mark.parametrize("backend", BACKENDS)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(STEP, min_size=1, max_size=16), page_size=st.integers(1, 7))
def test_incremental_equals_rebuild(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    backend: str,
    steps: list[tuple[Any, ...]],
    page_size: int,
) -> None:
    # I10, п. 2.9 ("in real time"): what the live projector shows is what a replay shows.
    if backend == "postgres":
        request.getfixturevalue("pg_available")
    template = school_template(request.getfixturevalue("templates"))
    with fresh_school(template, backend, tmp_path) as (school, clock):
        journal = Journal(school, clock)
        live = Projector(school.ledger, page_size=page_size)
        live.catch_up()
        for step in (("lesson", 0, 0, 1), ("lesson", 2, 0, 1), *steps):
            journal.run(step)
            live.catch_up()
        assert live.lag() == 0
        incremental = read_models(school.ledger)
        Projector(school.ledger).rebuild()
        assert read_models(school.ledger) == incremental
