"""The weekly digest over a real SMTP server (п. 1.6): subscription confirmed by its link, the
week's marks with work types, attendance, topics, homework, comments and messages in Russian, in
text and HTML, the PDF when asked for, a working unsubscribe link; invalidated operations
(п. 4.4) never appear."""

from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader

from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.projections.invalidation import FixedRules, RuleSet
from ejournal.projections.projector import Projector
from ejournal.projections.tables import Operation
from tests.api.conftest import World
from tests.mail.conftest import Smtp
from tests.mail.support import (
    link_parent,
    mailer,
    project,
    subscribe,
    subscribe_and_confirm,
    write_lesson,
)


def test_the_digest_arrives_in_russian_with_working_links_and_the_pdf(
    mail_world: World, smtp: Smtp
) -> None:
    # п. 1.6: subscribe, confirm by the link, receive the week, unsubscribe by the link.
    w = mail_world
    student = w.ids["student"]
    address = "mama.ivanova@example.ru"
    requested = subscribe(w, student, address, attach_pdf=True)
    assert requested.status_code == 201, requested.text
    assert requested.json()["state"] == "pending"
    assert mailer(w).delivery.deliver_due().sent == 1
    (confirmation,) = smtp.handler.to(address)
    assert confirmation.message["Subject"] == "Подтвердите подписку на электронный дневник"
    assert "подтвердить подписку" in confirmation.text()
    (path,) = confirmation.links("confirm")
    page = w.client.get(path)
    assert page.status_code == 200 and "<form method='post'" in page.text
    assert w.client.post(path).status_code == 200
    again = w.client.post(path)  # one-time
    assert again.status_code == 404 and again.json()["code"] == "mail.link_invalid"
    (mine,) = w.client.get("/mail/subscriptions", headers=w.headers("parent")).json()
    assert (mine["state"], mine["attach_pdf"], mine["address"]) == (
        "active",
        True,
        "ma***@example.ru",
    )

    write_lesson(
        w,
        date(2025, 9, 1),
        topic="Натуральные числа и шкалы",
        marks={student: 5},
        homework="Упражнение 7",
        comment=(student, "Отлично работал у доски"),
        message=(student, "Принесите, пожалуйста, линейку"),
    )
    write_lesson(
        w,
        date(2025, 9, 2),
        teacher="russian",
        subject="russian",
        topic="Звуки речи",
        absent=[student],
    )
    project(w)
    assert mailer(w).planner.plan_week("2025-W36") >= 1
    mailer(w).delivery.deliver_due()

    (digest,) = smtp.handler.to(address)[1:]
    message = digest.message
    assert message["Subject"] == "Дневник: ученик, 5«А» — неделя 1 сентября – 7 сентября 2025 г."
    text, page_html = digest.text(), digest.html()
    for shown in (
        "Понедельник, 1 сентября",
        "Тема: Натуральные числа и шкалы",
        "Отметки: 5 — Ответ на уроке",
        "Домашнее задание: Упражнение 7, с. 12",
        "Комментарий учителя: Отлично работал у доски",
        "Математика: Принесите, пожалуйста, линейку",
        "Вторник, 2 сентября",
        "Тема: Звуки речи",
        "Посещаемость: Н — отсутствовал(а)",
    ):
        assert shown in text, shown
    assert "Ответ на уроке" in page_html and "Звуки речи" in page_html
    assert "Принесите, пожалуйста, линейку" in page_html
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    pdf = attachment.get_content()
    assert pdf.startswith(b"%PDF-")
    assert "Натуральные числа и шкалы" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()

    (unsubscribe,) = digest.links("unsubscribe")
    assert message["List-Unsubscribe"] == f"<http://testserver{unsubscribe}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert w.client.get(unsubscribe).status_code == 200
    done = w.client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "Вы отписались" in done.text
    assert "уже была отменена" in w.client.post(unsubscribe).text  # idempotent
    (mine,) = w.client.get("/mail/subscriptions", headers=w.headers("parent")).json()
    assert (mine["state"], mine["address"]) == ("cancelled", None)  # the address is forgotten


class _Compromised:
    """п. 4.4: every operation of one account is invalid (as a breach rule would make it)."""

    name = "test-breach"

    def __init__(self, account: str) -> None:
        self.account = account

    def excludes(self, op: Operation, topic: str) -> bool:
        return op.actor_id.replace("-", "") == self.account.replace("-", "")


def test_invalidated_operations_never_appear(mail_world: World, smtp: Smtp) -> None:
    # п. 1.6, п. 4.4: the digest reads the read models, which leave invalid operations out.
    w = mail_world
    student = w.school.students[1]
    link_parent(w, student)
    address = "papa.petrov@example.ru"
    subscribe_and_confirm(w, smtp, student, address)
    write_lesson(w, date(2025, 9, 8), topic="Сложение", marks={student: 4})
    write_lesson(
        w,
        date(2025, 9, 9),
        teacher="russian",
        subject="russian",
        topic="Подложная тема",
        marks={student: 2},
    )
    rules = FixedRules(RuleSet((_Compromised(str(w.accounts["russian"])),)))
    Projector(w.services.ledger, rules=rules).catch_up()
    mailer(w).planner.plan_week("2025-W37")
    mailer(w).delivery.deliver_due()
    (digest,) = [r for r in smtp.handler.to(address) if "неделя" in r.message["Subject"]]
    text = digest.text()
    assert "Отметки: 4 — Ответ на уроке" in text
    assert "Подложная тема" not in text and "2 — " not in text
    assert "Подложная тема" not in digest.html()
    with w.services.ledger.database.transaction(write=False) as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {EVENTS_TABLE} WHERE topic = ?",
            ("ledger.domain.lesson:Lesson.MarkRecorded",),
        )
        assert cursor.fetchone()[0] >= 2  # the ledger keeps the invalid mark (I4)
