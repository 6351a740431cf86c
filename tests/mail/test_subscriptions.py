"""Subscription commands and routes (п. 1.6): every refusal pinned by its code, nothing written;
the address never enters the ledger (I9)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from uuid import uuid4

from ejournal import commands as c
from ejournal.api.app import create_app
from ejournal.api.bootstrap import bootstrap
from ejournal.identity.vault import VAULT_KEY_VARIABLE, new_key
from ejournal.ledger.actor import SYSTEM_ACTOR
from ejournal.ledger.domain import MailSubscription
from ejournal.ledger.recorders import EVENTS_TABLE
from ejournal.ledger.settings import Settings
from tests.api.conftest import TestClient, World
from tests.commands.school import YEAR, refused
from tests.mail.conftest import Smtp
from tests.mail.support import (
    MOSCOW,
    actor,
    link_parent,
    mailer,
    project,
    subscribe,
    subscribe_and_confirm,
    write_lesson,
)


def test_refusals_of_the_subscription_commands(mail_world: World, smtp: Smtp) -> None:
    # п. 1.6: only a linked parent subscribes; each step in its state; nothing written if refused.
    w = mail_world
    ledger = w.services.ledger
    student = w.ids["student"]
    parent, other = actor(w, "parent"), actor(w, "other_parent")
    request = {"school_id": w.ids["school"], "year_start": YEAR, "student_id": student}
    with refused(ledger, c.NotAllowed, "subscription.not_a_parent"):
        c.handle(c.RequestDigestSubscription(actor=other, address_ref=uuid4(), **request), ledger)
    with refused(ledger, c.NotAllowed, "subscription.not_a_parent"):
        c.handle(
            c.RequestDigestSubscription(actor=actor(w, "maths"), address_ref=uuid4(), **request),
            ledger,
        )
    first, second = uuid4(), uuid4()
    subscription = c.handle(
        c.RequestDigestSubscription(actor=parent, address_ref=first, **request), ledger
    )
    c.handle(c.RequestDigestSubscription(actor=parent, address_ref=second, **request), ledger)
    with refused(ledger, c.Conflict, "subscription.stale_request"):
        c.handle(
            c.ConfirmDigestSubscription(
                actor=parent, subscription_id=subscription, address_ref=first
            ),
            ledger,
        )
    with refused(ledger, c.NotAllowed, "subscription.not_yours"):
        c.handle(
            c.ConfirmDigestSubscription(
                actor=other, subscription_id=subscription, address_ref=second
            ),
            ledger,
        )
    with refused(ledger, c.NotFound, "subscription.not_found"):
        c.handle(
            c.ConfirmDigestSubscription(actor=parent, subscription_id=uuid4(), address_ref=second),
            ledger,
        )
    c.handle(
        c.ConfirmDigestSubscription(actor=parent, subscription_id=subscription, address_ref=second),
        ledger,
    )
    with refused(ledger, c.Conflict, "subscription.not_pending"):
        c.handle(
            c.ConfirmDigestSubscription(
                actor=parent, subscription_id=subscription, address_ref=second
            ),
            ledger,
        )
    with refused(ledger, c.Conflict, "subscription.already_active"):
        c.handle(c.RequestDigestSubscription(actor=parent, address_ref=uuid4(), **request), ledger)
    with refused(ledger, c.InvalidInput, "subscription.invalid_week"):
        c.handle(
            c.RecordDigestBounce(
                actor=SYSTEM_ACTOR, subscription_id=subscription, week="2025-36", reply_code=550
            ),
            ledger,
        )
    with refused(ledger, c.NotAllowed, "role.required"):
        c.handle(
            c.RecordDigestBounce(
                actor=parent, subscription_id=subscription, week="2025-W36", reply_code=550
            ),
            ledger,
        )
    with refused(ledger, c.InvalidInput, "reason.required"):
        c.handle(
            c.CancelDigestSubscription(actor=parent, subscription_id=subscription, reason=" "),
            ledger,
        )
    c.handle(
        c.CancelDigestSubscription(actor=parent, subscription_id=subscription, reason="не нужно"),
        ledger,
    )
    with refused(ledger, c.Conflict, "subscription.already_cancelled"):
        c.handle(
            c.CancelDigestSubscription(actor=parent, subscription_id=subscription, reason="ещё"),
            ledger,
        )
    with refused(ledger, c.Conflict, "subscription.inactive"):
        c.handle(
            c.RecordDigestBounce(
                actor=SYSTEM_ACTOR, subscription_id=subscription, week="2025-W36", reply_code=550
            ),
            ledger,
        )
    state = ledger.get(subscription, MailSubscription)
    assert isinstance(state, MailSubscription) and state.state == "cancelled"


def test_the_address_stays_out_of_the_ledger(mail_world: World, smtp: Smtp) -> None:
    # п. 1.7, I9: the ledger holds a reference; the address is in the parent's vault entry.
    w = mail_world
    student = w.school.students[4]
    link_parent(w, student)
    address = "tainy.adres@example.ru"
    assert subscribe(w, student, address).status_code == 201
    with w.services.ledger.database.transaction(write=False) as cursor:
        cursor.execute(f"SELECT state FROM {EVENTS_TABLE}")
        payloads = b"".join(bytes(row[0]) for row in cursor.fetchall() if row[0] is not None)
    assert b"tainy.adres" not in payloads
    assert w.services.vault is not None
    stored = w.services.vault.get(w.persons["parent"])
    assert stored is not None and address in stored.data.contacts.values()


def test_route_refusals(mail_world: World, smtp: Smtp) -> None:
    # п. 1.6: a wrong code, an unknown link, an address that is none: refused with their codes.
    w = mail_world
    student = w.school.students[5]
    link_parent(w, student)
    bad = subscribe(w, student, "не адрес")
    assert bad.status_code == 422 and bad.json()["code"] == "request.invalid"
    made = subscribe(w, student, "kod@example.ru")
    subscription = made.json()["subscription_id"]
    mailer(w).delivery.deliver_due()
    path = f"/mail/subscriptions/{subscription}/confirmation"
    wrong = w.client.post(path, json={"code": "00000000"}, headers=w.headers("parent"))
    assert wrong.status_code == 422 and wrong.json()["code"] == "mail.code_invalid"
    (confirmation,) = smtp.handler.to("kod@example.ru")
    code = confirmation.text().split("введите код ")[1].split()[0]
    stranger = w.client.post(path, json={"code": code}, headers=w.headers("other_parent"))
    assert stranger.status_code == 403 and stranger.json()["code"] == "subscription.not_yours"
    right = w.client.post(path, json={"code": code}, headers=w.headers("parent"))
    assert right.status_code == 200, right.text
    unknown = w.client.post("/mail/unsubscribe/" + "x" * 43)
    assert unknown.status_code == 404 and unknown.json()["code"] == "mail.link_invalid"
    cancelled = w.client.post(
        f"/mail/subscriptions/{subscription}/cancellation", headers=w.headers("parent")
    )
    assert cancelled.status_code == 200, cancelled.text


def test_without_an_smtp_server_mail_is_unavailable(tmp_path: Path) -> None:
    # п. 1.6: no EJOURNAL_SMTP_HOST: the routes answer 503 mail.unavailable.
    services = bootstrap(
        Settings(database_url=f"sqlite:///{tmp_path / 'ejournal.db'}"),
        environ={VAULT_KEY_VARIABLE: new_key()},
        follow=False,
    )
    try:
        assert services.mail is None and services.mail_schedule is None
        with TestClient(create_app(services)) as client:
            response = client.post("/mail/confirm/" + "x" * 43)
        assert response.status_code == 503 and response.json()["code"] == "mail.unavailable"
    finally:
        services.close()


def test_the_schedule_plans_the_week_once_its_moment_has_come(
    mail_world: World, smtp: Smtp
) -> None:
    # п. 1.6: a week is due from Sunday 18:00 (Moscow); the server's round plans and delivers it.
    w = mail_world
    schedule = w.services.mail_schedule
    assert schedule is not None and not schedule.running  # the test world does not follow
    student = w.school.students[3]
    link_parent(w, student)
    subscribe_and_confirm(w, smtp, student, "raspisanie@example.ru")
    w.clock.set(datetime(2025, 10, 12, 17, 59, tzinfo=MOSCOW).astimezone(UTC))
    assert mailer(w).planner.due_week() == "2025-W40"
    w.clock.set(datetime(2025, 10, 12, 18, 0, tzinfo=MOSCOW).astimezone(UTC))
    assert mailer(w).planner.due_week() == "2025-W41"
    schedule.tick()
    counts = mailer(w).outbox.digest_counts("2025-W41")
    assert sum(counts.values()) >= 1 and "pending" not in counts
    received = len(smtp.handler.received)
    schedule.tick()  # planned once: nothing new, nothing sent twice
    assert mailer(w).outbox.digest_counts("2025-W41") == counts
    assert len(smtp.handler.received) == received


def test_replacing_the_parent_s_data_keeps_the_subscription_s_address(
    mail_world: World, smtp: Smtp
) -> None:
    # п. 1.6, 1.7: `PUT /people/{id}` replaces the name and the form's contacts, not the
    # addresses of subscriptions (kind `email:<reference>`): the parent's digest still goes out.
    w = mail_world
    student = w.school.students[2]
    parent = w.persons["parent"]
    link_parent(w, student)
    address = "ne.propadu@example.ru"
    subscribe_and_confirm(w, smtp, student, address)
    path = f"/people/{parent}"
    for phone in ("+7 900 000-00-01", "+7 900 000-00-02"):
        body = {"full_name": "Родитель Новый", "contacts": {"phone": phone, "email": "a@b.ru"}}
        replaced = w.client.put(path, json=body, headers=w.headers("head"))
        assert replaced.status_code == 200, replaced.text
    stored = w.client.get(path, headers=w.headers("head")).json()
    kept = {k: v for k, v in stored["contacts"].items() if k.startswith("email:")}
    assert address in kept.values()
    assert stored["full_name"] == "Родитель Новый"
    assert {k: v for k, v in stored["contacts"].items() if k not in kept} == {
        "phone": "+7 900 000-00-02",
        "email": "a@b.ru",
    }
    (kind,) = [k for k, v in kept.items() if v == address]
    forged = {"full_name": "Родитель Новый", "contacts": {kind: "chuzhoj@example.ru"}}
    refused_put = w.client.put(path, json=forged, headers=w.headers("head"))
    assert refused_put.status_code == 422 and refused_put.json()["code"] == "request.invalid"
    # What GET returns may be sent back as it is (a form that reads, edits and saves).
    round_trip = {"full_name": stored["full_name"], "contacts": stored["contacts"]}
    assert w.client.put(path, json=round_trip, headers=w.headers("head")).status_code == 200
    write_lesson(w, date(2025, 10, 20), topic="Периметр", marks={student: 5})
    project(w)
    smtp.handler.received.clear()
    assert mailer(w).planner.plan_week("2025-W43") >= 1
    mailer(w).delivery.deliver_due()
    (digest,) = smtp.handler.to(address)
    assert "неделя" in digest.message["Subject"]
