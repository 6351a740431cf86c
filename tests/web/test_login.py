"""Logging in and out through the page, the forced change of a temporary password (п. 4.1–4.2),
and the CSRF token every form must carry."""

from __future__ import annotations

from typing import Any

import httpx

from tests.web.site import Site

SITE_BACKENDS = ("sqlite", "postgres")
"""The demo's default and a district's server (tests/web/conftest.py)."""


def test_the_site_opens_on_the_login_page(browser_for: Any) -> None:
    browser = browser_for()
    browser.goto("/")
    assert browser.page.url.endswith("/login?next=%2F")
    browser.check("login")
    assert browser.page.get_by_role("heading", name="Вход в электронный журнал").is_visible()


def test_a_wrong_password_is_refused_on_the_page(browser_for: Any) -> None:
    browser = browser_for()
    browser.goto("/login")
    browser.page.get_by_label("Логин").fill("roditel")
    browser.page.get_by_label("Пароль", exact=True).fill("not the password")
    browser.page.get_by_role("button", name="Войти").click()
    assert browser.page.get_by_role("alert").inner_text() == "Неверный логин или пароль."
    browser.check("login-refused")


def test_login_home_and_logout(browser_for: Any, site: Site) -> None:
    browser = browser_for("roditel")
    browser.check("home-parent")
    assert browser.page.get_by_role("heading", level=1).inner_text().startswith("Здравствуйте")
    assert browser.page.get_by_text("Алиева Патимат Ибрагимовна").first.is_visible()
    assert browser.page.get_by_role("link", name="Алиев Магомед, 5«А»").is_visible()
    browser.page.get_by_role("button", name="Выйти").click()
    browser.page.wait_for_url("**/login")
    browser.goto("/")
    assert "/login" in browser.page.url


def test_a_form_without_its_csrf_token_is_refused(browser_for: Any, site: Site) -> None:
    browser = browser_for("roditel")
    cookies = {c["name"]: c["value"] for c in browser.page.context.cookies()}
    # The logout form, posted from elsewhere: the cookie is sent, the token is not known.
    refused = httpx.post(
        site.url + "/logout", cookies=cookies, data={"csrf": "guessed"}, follow_redirects=False
    )
    assert refused.status_code == 403
    assert "Форма устарела" in refused.text
    # The session is still live: nothing was done.
    browser.goto("/")
    assert "/login" not in browser.page.url
