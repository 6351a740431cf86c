"""The parents' e-mail digest page with mail on (п. 1.6): the demo school served with a real SMTP
server (aiosmtpd, as tests/mail/ run it); a parent subscribes on the page, gets the confirmation
message, confirms with its code, and unsubscribes. Refusals are shown on the page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.databases import Templates
from tests.mail.conftest import Handler, Received, serving_smtp
from tests.web.site import Site, demo_template, served

ADDRESS = "patimat.alieva@example.ru"


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[Handler, int]]:
    with serving_smtp() as server:
        yield server.handler, server.port


@pytest.fixture(scope="module")
def site(
    request: pytest.FixtureRequest,
    site_backend: str,
    templates: Templates,
    tmp_path_factory: pytest.TempPathFactory,
    smtp: tuple[Handler, int],
) -> Iterator[Site]:
    """The demo school whose mail goes to ``smtp`` (overrides tests/web/conftest.py's)."""
    backend = site_backend
    if backend == "postgres":
        request.getfixturevalue("pg_available")
    environ = {
        "EJOURNAL_SMTP_HOST": "127.0.0.1",
        "EJOURNAL_SMTP_PORT": str(smtp[1]),
        "EJOURNAL_SMTP_SECURITY": "none",
        "EJOURNAL_MAIL_FROM": "dnevnik@school.example",
        "EJOURNAL_SMTP_TIMEOUT": "5",
    }
    folder = tmp_path_factory.mktemp("web-mail")
    with served(demo_template(templates), backend, folder, environ=environ) as running:
        yield running


def _message_to(handler: Handler, address: str, already: int) -> Received:
    """The next message to ``address`` after the ``already`` ones (the schedule sends it at
    once; it is given a minute)."""
    deadline = time.monotonic() + 60
    while len(handler.to(address)) <= already:
        assert time.monotonic() < deadline, "no confirmation message came"
        time.sleep(0.1)
    return handler.to(address)[already]


def test_subscribe_confirm_with_the_code_and_unsubscribe(
    browser_for: Any, site: Site, smtp: tuple[Handler, int]
) -> None:
    handler, _ = smtp
    already = len(handler.to(ADDRESS))
    browser = browser_for("roditel")
    browser.visit("/subscriptions", "family-subscriptions-form")
    page = browser.page
    assert page.get_by_label("Ребёнок").inner_text().strip() == "Алиев Магомед, 5«А»"

    # An address the browser takes but the journal does not: refused on the page, kept typed.
    page.get_by_label("Адрес электронной почты").fill("roditel@shkola")
    page.get_by_role("button", name="Подписаться").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").inner_text() == (
        "Проверьте адрес электронной почты: он записан с ошибкой."
    )
    assert page.get_by_label("Адрес электронной почты").input_value() == "roditel@shkola"
    browser.check("family-subscriptions-bad-address")

    page.get_by_label("Адрес электронной почты").fill(ADDRESS)
    page.get_by_label("Прикладывать дневник недели в PDF").check()
    page.get_by_role("button", name="Подписаться").click()
    page.wait_for_load_state()
    assert "Письмо с кодом подтверждения отправлено" in page.get_by_role("status").inner_text()
    mine = page.locator("li.subscription").last
    assert "pa***@example.ru, с PDF" in mine.inner_text()  # masked: the page shows no address
    assert "ждёт подтверждения" in mine.inner_text()
    browser.check("family-subscriptions-pending")

    message = _message_to(handler, ADDRESS, already)
    code = message.text().split("введите код ")[1].split()[0]

    mine.get_by_label("Код из письма").fill("00000000" if code != "00000000" else "11111111")
    mine.get_by_role("button", name="Подтвердить").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").inner_text() == "Неверный или устаревший код подтверждения."
    browser.check("family-subscriptions-wrong-code")

    mine = page.locator("li.subscription").last
    mine.get_by_label("Код из письма").fill(code)
    mine.get_by_role("button", name="Подтвердить").click()
    page.wait_for_load_state()
    assert "Подписка подтверждена" in page.get_by_role("status").inner_text()
    mine = page.locator("li.subscription").last
    assert "действует" in mine.inner_text() and "с PDF" in mine.inner_text()
    browser.check("family-subscriptions-active")

    mine.get_by_role("button", name="Отписаться").click()
    page.wait_for_load_state()
    assert "Подписка отменена" in page.get_by_role("status").inner_text()
    assert "отменена" in page.locator("li.subscription").last.inner_text()
    browser.check("family-subscriptions-cancelled")


def test_a_pupil_is_not_offered_the_digest(browser_for: Any, site: Site) -> None:
    browser = browser_for("uchenik")
    browser.visit("/subscriptions", "family-subscriptions-pupil")
    assert browser.page.get_by_label("Адрес электронной почты").count() == 0
    assert "Подписаться может только родитель" in browser.page.locator("main").inner_text()
