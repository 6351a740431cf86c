"""Printouts follow the timetable's changes to a lesson: the journal names the substitute who gave
a lesson (п. 2.3) and has no column for a cancelled one (п. 3.1); the weekly diary says a lesson
was cancelled, not why, as the diary page does (п. 1.6)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import pytest

from ejournal import commands as c
from ejournal.documents.certify import (
    ServiceSeal,
    print_class_journal,
    print_weekly_diary,
    rest_on_checkpoint,
)
from ejournal.documents.documents import class_journal_document
from ejournal.integrity.note import generate_signer
from ejournal.ledger.application import Ledger
from ejournal.ledger.checkpoints import Checkpointer
from ejournal.ledger.clock import ManualClock
from tests.commands.school import TestSchool, build_school
from tests.commands.timetables import lesson, set_timetable, week
from tests.documents.support import ORIGIN, text_of

TUESDAY, WEDNESDAY = date(2025, 9, 2), date(2025, 9, 3)
NAMES = {
    "maths": "Петрова Анна Сергеевна",
    "russian": "Смирнов Олег Иванович",
    "english": "Гасанова Мадина Руслановна",
}


@pytest.fixture
def school(ledger: Ledger) -> TestSchool:
    return build_school(ledger)


@pytest.fixture
def changed(school: TestSchool, clock: ManualClock) -> dict[str, Any]:
    """5«А» on its timetable; Tuesday's mathematics given by the English teacher as a
    substitute, Wednesday's Russian cancelled; a signed checkpoint after both."""
    set_timetable(school, week(school))
    tuesday = lesson(school, TUESDAY, 1).id
    c.handle(
        c.AssignSubstitute(
            actor=school.deputy,
            lesson_id=tuesday,
            teacher_id=school.person["english"],
            reason="Больничный",
        ),
        school.ledger,
    )
    c.handle(
        c.SetLessonTopic(actor=school.english, lesson_id=tuesday, topic="Натуральные числа"),
        school.ledger,
    )
    cancelled = lesson(school, WEDNESDAY, 2).id
    c.handle(
        c.CancelLesson(actor=school.deputy, lesson_id=cancelled, reason="Экскурсия в музей"),
        school.ledger,
    )
    signer = generate_signer(ORIGIN)
    checkpointer = Checkpointer(
        school.ledger.database,
        origin=ORIGIN,
        signers=[signer],
        verifiers=[signer.verifier()],
        clock=clock,
    )
    names = {school.person[k]: v for k, v in NAMES.items()}

    def name(person: UUID) -> str | None:
        return names.get(person)

    return {
        "checkpoint": rest_on_checkpoint(checkpointer, school.log_id),
        "origin": ORIGIN,
        "certifier": ServiceSeal(signers=[signer]),
        "names": name,
    }


def test_the_journal_names_the_substitute_and_drops_the_cancelled_lesson(
    school: TestSchool, changed: dict[str, Any]
) -> None:
    # п. 2.3: the substitute writes the lesson and the journal says who gave it.
    maths = print_class_journal(
        school.ledger,
        roster_id=school.class_id,
        subject_id=school.subjects["Математика"],
        first_day=TUESDAY,
        last_day=WEDNESDAY,
        **changed,
    )
    text = " ".join(text_of(maths.pdf).split())
    assert "Натуральные числа Замена: Гасанова М. Р." in text
    # Who stood in comes after the subject's own teacher.
    assert "Учитель: Петрова Анна Сергеевна, Гасанова Мадина Руслановна" in text
    # п. 3.1: a lesson not held has no column in the journal pages.
    russian = class_journal_document(
        school.ledger,
        roster_id=school.class_id,
        subject_id=school.subjects["Русский язык"],
        first_day=TUESDAY,
        last_day=WEDNESDAY,
        checkpoint=changed["checkpoint"],
        origin=ORIGIN,
        names=changed["names"],
    )
    assert [x["on"] for x in russian["lessons"]] == [TUESDAY.isoformat()]


def test_the_diary_says_a_lesson_is_cancelled_but_not_why(
    school: TestSchool, changed: dict[str, Any]
) -> None:
    # п. 1.6: the family's printout shows the day as it was held.
    diary = print_weekly_diary(
        school.ledger,
        class_id=school.class_id,
        student_id=school.students[0],
        week_of=WEDNESDAY,
        **changed,
    )
    text = " ".join(text_of(diary.pdf).split())
    assert "Русский язык Урок отменён" in text
    assert "Экскурсия" not in text
    assert "Гасанова М. Р." in text  # Tuesday's mathematics, given by the substitute
