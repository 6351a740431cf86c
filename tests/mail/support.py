"""Steps the mail tests share: a parent subscribes and confirms, a teacher writes a week."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from ejournal import commands as c
from ejournal.ledger.actor import Actor
from ejournal.mail.mailer import Mailer
from tests.api.conftest import World
from tests.commands.school import YEAR
from tests.mail.conftest import Smtp

MOSCOW = ZoneInfo("Europe/Moscow")


def mailer(w: World) -> Mailer:
    assert w.services.mail is not None
    return w.services.mail


def actor(w: World, who: str) -> Actor:
    return c.actor_for(w.services.ledger, w.accounts[who])


def link_parent(w: World, student: UUID, parent: str = "parent") -> None:
    """Link the parent to another student of the class (idempotent)."""
    try:
        c.handle(
            c.LinkParent(
                actor=actor(w, "head"),
                school_id=w.ids["school"],
                year_start=YEAR,
                student_id=student,
                parent_id=w.persons[parent],
            ),
            w.services.ledger,
        )
    except c.CommandError as e:
        assert e.code == "parent.already_linked"


def subscribe(
    w: World, student: UUID, address: str, *, attach_pdf: bool = False, who: str = "parent"
) -> Any:
    return w.client.post(
        "/mail/subscriptions",
        headers=w.headers(who),
        json={
            "school_id": str(w.ids["school"]),
            "year_start": YEAR,
            "student_id": str(student),
            "address": address,
            "attach_pdf": attach_pdf,
        },
    )


def subscribe_and_confirm(
    w: World,
    smtp: Smtp,
    student: UUID,
    address: str,
    *,
    attach_pdf: bool = False,
    who: str = "parent",
) -> UUID:
    """Subscribe, receive the confirmation over SMTP and confirm by its link."""
    response = subscribe(w, student, address, attach_pdf=attach_pdf, who=who)
    assert response.status_code == 201, response.text
    mailer(w).delivery.deliver_due()
    (confirmation,) = smtp.handler.to(address)[-1:]
    (path,) = confirmation.links("confirm")
    confirmed = w.client.post(path)
    assert confirmed.status_code == 200, confirmed.text
    return UUID(response.json()["subscription_id"])


def at(w: World, day: date, hour: int = 15) -> None:
    """Move the server clock to ``hour`` o'clock (Moscow) on ``day``."""
    moment = datetime.combine(day, time(hour), tzinfo=MOSCOW)
    if moment > w.clock():
        w.clock.set(moment.astimezone(UTC))


def write_lesson(
    w: World,
    day: date,
    *,
    teacher: str = "maths",
    subject: str = "maths",
    slot: int = 1,
    topic: str = "Натуральные числа",
    marks: dict[UUID, int] | None = None,
    absent: list[UUID] | None = None,
    homework: str | None = None,
    comment: tuple[UUID, str] | None = None,
    message: tuple[UUID, str] | None = None,
) -> UUID:
    """A lesson of 5«А» with what the teacher wrote in it (the clock at 15:00 that day)."""
    at(w, day)
    ledger = w.services.ledger
    who = actor(w, teacher)
    roster, subject_id = w.ids["klass"], w.ids[subject]
    lesson = c.handle(
        c.ScheduleLesson(
            actor=who, roster_id=roster, subject_id=subject_id, on=day, slot=slot, topic=topic
        ),
        ledger,
    )
    for student, value in (marks or {}).items():
        c.handle(
            c.RecordMark(
                actor=who,
                lesson_id=lesson,
                student_id=student,
                value=value,
                work_type_id=w.ids["answer"],
            ),
            ledger,
        )
    if absent:
        c.handle(
            c.RecordAttendance(actor=who, lesson_id=lesson, codes=dict.fromkeys(absent, "Н")),
            ledger,
        )
    if homework:
        c.handle(
            c.AssignHomework(actor=who, lesson_id=lesson, text=homework, pages="с. 12"), ledger
        )
    if comment:
        c.handle(
            c.AddComment(actor=who, lesson_id=lesson, student_id=comment[0], text=comment[1]),
            ledger,
        )
    if message:
        c.handle(
            c.SendMessageToParents(
                actor=who,
                roster_id=roster,
                subject_id=subject_id,
                student_id=message[0],
                text=message[1],
            ),
            ledger,
        )
    return lesson


def project(w: World) -> None:
    assert w.services.projector is not None
    w.services.projector.catch_up()


def monday(week: str) -> date:
    year, number = week.split("-W")
    return date.fromisocalendar(int(year), int(number), 1)


def next_day(day: date) -> date:
    return day + timedelta(days=1)
