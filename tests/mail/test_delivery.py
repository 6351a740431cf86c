"""Delivery through the outbox over a real SMTP server (п. 1.6): a week reaches each address once
however often it is sent, a killed sender resumes without sending anything twice, a refusing
server is retried with backoff and the failure recorded, a refused address goes to the class
teacher's worklist."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner

from ejournal.cli.main import cli
from ejournal.documents.render import RenderError
from ejournal.mail import messages
from ejournal.mail.smtp import SmtpTransport
from tests.api.conftest import World
from tests.mail.conftest import Smtp, mail_environ
from tests.mail.support import link_parent, mailer, project, subscribe_and_confirm, write_lesson


def _digests(smtp: Smtp, address: str) -> list[Any]:
    return [r for r in smtp.handler.to(address) if "неделя" in r.message["Subject"]]


def _rows(w: World, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    with w.services.ledger.database.transaction(write=False) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _environ(w: World, smtp: Smtp, **extra: str) -> dict[str, str]:
    return {
        **mail_environ(smtp.port),
        "EJOURNAL_DATABASE_URL": w.services.settings.database_url,
        **extra,
    }


def test_sending_a_week_twice_sends_it_once(mail_world: World, smtp: Smtp) -> None:
    # п. 1.6: `ejournal digest --week` run twice: each address gets the week once.
    w = mail_world
    student = w.school.students[2]
    link_parent(w, student)
    address = "dvazhdy@example.ru"
    subscribe_and_confirm(w, smtp, student, address)
    write_lesson(w, date(2025, 9, 15), topic="Деление", marks={student: 5})
    project(w)
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(cli, ["digest", "--week", "2025-W38"], env=_environ(w, smtp))
        assert result.exit_code == 0, result.output
    assert len(_digests(smtp, address)) == 1
    assert "0 new digests planned" in result.output
    assert mailer(w).planner.plan_week("2025-W38") == 0
    assert mailer(w).delivery.deliver_due().sent == 0
    assert len(_digests(smtp, address)) == 1


def test_a_killed_sender_resumes_and_delivers_each_message_once(
    mail_world: World, smtp: Smtp
) -> None:
    # п. 1.6: the sender process is killed (SIGKILL) between two messages; a second run
    # delivers the rest, and no address gets the week twice.
    w = mail_world
    addresses = [f"roditel{n}@example.ru" for n in range(4)]
    students = w.school.students[3:6]
    for student, address in zip(students, addresses, strict=False):
        link_parent(w, student)
        subscribe_and_confirm(w, smtp, student, address)
    link_parent(w, students[0], "other_parent")
    subscribe_and_confirm(w, smtp, students[0], addresses[3], who="other_parent")
    write_lesson(w, date(2025, 9, 22), topic="Дроби")
    project(w)
    smtp.handler.received.clear()
    environ = {**os.environ, **_environ(w, smtp, EJOURNAL_MAIL_LEASE_SECONDS="1")}
    sender = subprocess.Popen(
        [Path(sys.executable).with_name("ejournal"), "digest", "--week", "2025-W39"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )

    def kill_after_two(accepted: int) -> None:
        if accepted == 2:
            os.kill(sender.pid, signal.SIGKILL)

    smtp.handler.on_mail = kill_after_two
    sender.wait(timeout=60)
    assert sender.returncode == -signal.SIGKILL
    smtp.handler.on_mail = None
    assert len(smtp.handler.received) == 2
    statuses = _rows(
        w, "SELECT status, phase FROM mail_outbox WHERE week = ? ORDER BY id", ("2025-W39",)
    )
    assert ("sending", "claimed") in statuses  # the message it was starting on
    time.sleep(1.1)  # its lease runs out
    result = CliRunner().invoke(cli, ["digest", "--week", "2025-W39"], env=_environ(w, smtp))
    assert result.exit_code == 0, result.output
    for address in addresses:
        assert len(_digests(smtp, address)) == 1, address
    remaining = _rows(
        w, "SELECT COUNT(*) FROM mail_outbox WHERE week = ? AND status <> 'sent'", ("2025-W39",)
    )
    assert remaining[0][0] == 0


def test_a_refusing_server_is_retried_with_backoff_and_the_failure_recorded(
    mail_world: World, smtp: Smtp
) -> None:
    # п. 1.6: 451 first, then accepted: retried after the delay, delivered once, failure kept.
    w = mail_world
    student = w.school.students[0]
    address = "povtor@example.ru"
    subscribe_and_confirm(w, smtp, student, address)
    write_lesson(w, date(2025, 9, 29), topic="Проценты", marks={student: 4})
    project(w)
    smtp.handler.transient[address] = 1
    mail = mailer(w)
    mail.planner.plan_week("2025-W40")
    assert mail.delivery.deliver_due().retried == 1
    assert _digests(smtp, address) == []
    assert mail.delivery.deliver_due().sent == 0  # not before the delay
    w.clock.advance(timedelta(seconds=61))
    assert mail.delivery.deliver_due().sent == 1
    assert len(_digests(smtp, address)) == 1
    ((outbox_id, status, attempts),) = _rows(
        w,
        "SELECT id, status, attempts FROM mail_outbox WHERE week = ? AND student_id = ?",
        ("2025-W40", str(student)),
    )
    assert (status, attempts) == ("sent", 2)
    attempts_made = _rows(
        w,
        "SELECT outcome, reply_code, detail FROM mail_attempts WHERE outbox_id = ? ORDER BY id",
        (outbox_id,),
    )
    assert [(a[0], a[1]) for a in attempts_made] == [("retry", 451), ("sent", None)]
    assert "try again later" in attempts_made[0][2]


def test_a_refused_address_is_reported_to_the_class_teacher(mail_world: World, smtp: Smtp) -> None:
    # п. 1.6: 550 for the recipient: the subscription is marked bounced and the class teacher
    # sees it; nobody else outside the administration does.
    w = mail_world
    student = w.school.students[1]
    address = "net.takogo@example.ru"
    link_parent(w, student)
    subscription_id = subscribe_and_confirm(w, smtp, student, address)
    write_lesson(w, date(2025, 10, 6), topic="Уравнения", marks={student: 3})
    project(w)
    smtp.handler.bounce.add(address)
    mail = mailer(w)
    mail.planner.plan_week("2025-W41")
    assert mail.delivery.deliver_due().bounced == 1
    mine = w.client.get("/mail/subscriptions", headers=w.headers("parent")).json()
    (state,) = [s["state"] for s in mine if s["subscription_id"] == str(subscription_id)]
    assert state == "bounced"
    path = f"/classes/{w.ids['klass']}/mail-bounces"
    worklist = w.client.get(path, headers=w.headers("maths"))  # the class teacher of 5«А»
    assert worklist.status_code == 200, worklist.text
    (bounce,) = [b for b in worklist.json() if b["subscription_id"] == str(subscription_id)]
    assert (bounce["week"], bounce["reply_code"], bounce["student_id"]) == (
        "2025-W41",
        550,
        str(student),
    )
    assert address not in bounce["detail"] and "mailbox unavailable" in bounce["detail"]
    for outsider in ("russian", "parent"):
        refused = w.client.get(path, headers=w.headers(outsider))
        assert refused.status_code == 403 and refused.json()["code"] == "access.denied"
    mail.planner.plan_week("2025-W41")
    assert mail.delivery.deliver_due().sent == 0  # a bounced subscription gets nothing more


def _outbox_row(w: World, student: UUID, week: str) -> tuple[int, str, int, str | None]:
    ((outbox_id, status, attempts, last_error),) = _rows(
        w,
        "SELECT id, status, attempts, last_error FROM mail_outbox WHERE week = ? "
        "AND student_id = ?",
        (week, str(student)),
    )
    return int(outbox_id), status, int(attempts), last_error


def _broken_pdf(*args: Any, **kwargs: Any) -> bytes:
    raise RenderError("template error: unknown variable")


def test_a_message_that_cannot_be_written_fails_at_once_with_its_reason(
    fresh_mail_world: World, smtp: Smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    # п. 1.6: a digest whose PDF does not render would fail at every attempt: it is failed at
    # once, with the reason, and never taken up again (it was retried until max_attempts).
    w = fresh_mail_world
    student = w.ids["student"]
    address = "slomano@example.ru"
    subscribe_and_confirm(w, smtp, student, address, attach_pdf=True)
    write_lesson(w, date(2025, 9, 1), topic="Натуральные числа", marks={student: 5})
    project(w)
    monkeypatch.setattr(messages, "digest_pdf", _broken_pdf)
    mail = mailer(w)
    mail.planner.plan_week("2025-W36")
    report = mail.delivery.deliver_due()
    assert (report.sent, report.retried, report.failed) == (0, 0, 1)
    outbox_id, status, attempts, last_error = _outbox_row(w, student, "2025-W36")
    assert (status, attempts) == ("failed", 1)
    assert last_error is not None
    assert "cannot be written" in last_error and "RenderError: template error" in last_error
    w.clock.advance(timedelta(days=1))
    again = mail.delivery.deliver_due()
    assert (again.sent, again.retried, again.failed) == (0, 0, 0)
    assert _outbox_row(w, student, "2025-W36")[1:3] == ("failed", 1)
    assert _rows(w, "SELECT outcome FROM mail_attempts WHERE outbox_id = ?", (outbox_id,)) == [
        ("failed",)
    ]
    assert _digests(smtp, address) == []


def test_a_message_that_cannot_be_handed_over_fails_and_the_run_goes_on(
    fresh_mail_world: World, smtp: Smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    # п. 1.6: an error of our own while sending (not a reply of the server) escaped the run and
    # left the row `sending`, to be taken up again, and again, after every lease.
    w = fresh_mail_world
    student = w.ids["student"]
    address = "ne.otpravit@example.ru"
    subscribe_and_confirm(w, smtp, student, address)
    write_lesson(w, date(2025, 9, 1), topic="Натуральные числа", marks={student: 5})
    project(w)
    send = SmtpTransport.send

    def refuse_digests(self: SmtpTransport, message: Any, **kwargs: Any) -> str:
        if "неделя" in str(message["Subject"]):
            raise ValueError("header cannot be encoded")
        return send(self, message, **kwargs)

    monkeypatch.setattr(SmtpTransport, "send", refuse_digests)
    mail = mailer(w)
    mail.planner.plan_week("2025-W36")
    report = mail.delivery.deliver_due()
    assert (report.sent, report.failed) == (0, 1)
    _, status, attempts, last_error = _outbox_row(w, student, "2025-W36")
    assert (status, attempts) == ("failed", 1)
    assert last_error is not None and "ValueError: header cannot be encoded" in last_error
    assert address not in last_error
    w.clock.advance(timedelta(hours=2))  # past any lease: nothing is taken up again
    assert mail.delivery.deliver_due().failed == 0
    assert _outbox_row(w, student, "2025-W36")[1:3] == ("failed", 1)


def test_a_message_whose_sender_stops_at_every_attempt_fails_after_the_last(
    fresh_mail_world: World, smtp: Smtp
) -> None:
    # п. 1.6: a sender that dies while writing a message (and at every attempt: a printout that
    # exhausts memory) left it `sending`; each recovery put it back to `pending`, for ever.
    w = fresh_mail_world
    student = w.ids["student"]
    address = "vsegda.padaet@example.ru"
    subscribe_and_confirm(w, smtp, student, address)
    write_lesson(w, date(2025, 9, 1), topic="Натуральные числа", marks={student: 5})
    project(w)
    mail = mailer(w)
    mail.planner.plan_week("2025-W36")
    outbox_id = _outbox_row(w, student, "2025-W36")[0]
    with w.services.ledger.database.transaction(write=True) as cursor:
        cursor.execute(
            "UPDATE mail_outbox SET status = 'sending', phase = 'claimed', claimed_by = 'dead', "
            "claimed_until = 0, attempts = ? WHERE id = ?",
            (mail.settings.max_attempts, outbox_id),
        )
    report = mail.delivery.deliver_due()
    assert report.sent == 0
    _, status, attempts, last_error = _outbox_row(w, student, "2025-W36")
    assert (status, attempts) == ("failed", mail.settings.max_attempts)
    assert last_error == f"the sender stopped while writing it, {attempts} times"
    assert _digests(smtp, address) == []
