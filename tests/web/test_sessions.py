"""A browser's session (п. 4.1–4.2): the cookie's attributes, the headers of every page, CSRF on
the login form, where a login may send the browser next, and a session the API ends."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from ejournal.web.render import CONTENT_SECURITY_POLICY
from tests.web.site import PASSWORD, Site


def _login_form(client: httpx.Client) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert found is not None
    return found.group(1)


def _login(client: httpx.Client, login: str, *, next_page: str = "/") -> httpx.Response:
    token = _login_form(client)
    return client.post(
        "/login", data={"csrf": token, "login": login, "password": PASSWORD, "next": next_page}
    )


def test_the_session_cookie_is_http_only_and_same_site_lax(site: Site) -> None:  # п. 4.2
    with site.client() as client:
        answer = _login(client, "roditel")
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("ejournal_session=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # served over plain HTTP here


def test_behind_a_tls_proxy_the_cookie_is_secure(site: Site) -> None:
    # uvicorn takes the scheme from X-Forwarded-Proto sent by a trusted proxy (127.0.0.1). The
    # client speaks plain HTTP to the proxy's place, so it sends the Secure cookie by hand.
    forwarded = {"X-Forwarded-Proto": "https"}
    form = httpx.get(site.url + "/login", headers=forwarded)
    assert "Secure" in form.headers["set-cookie"]
    secret = form.headers["set-cookie"].split(";", 1)[0]
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', form.text)
    assert token is not None
    answer = httpx.post(
        site.url + "/login",
        headers={**forwarded, "Cookie": secret},
        data={"csrf": token.group(1), "login": "roditel", "password": PASSWORD},
    )
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("ejournal_session=") and "Secure" in cookie


def test_every_page_has_the_content_security_policy(site: Site) -> None:
    with site.client() as client:
        _login(client, "roditel")
        for path in ("/login", "/", "/password", "/no-such-page"):
            page = client.get(path, headers={"Accept": "text/html"})
            assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
            assert page.headers["cache-control"] == "no-store", path
            assert page.headers["x-content-type-options"] == "nosniff", path
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY


def test_an_unknown_page_is_a_page_in_russian_for_a_browser_and_json_for_a_client(
    site: Site,
) -> None:
    with site.client() as client:
        page = client.get("/no-such-page", headers={"Accept": "text/html"})
        api = client.get("/no-such-page")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Код: request.not_found" in page.text
    assert api.status_code == 404 and api.json()["code"] == "request.not_found"


def test_a_login_form_without_its_token_opens_no_session(site: Site) -> None:  # п. 4.1
    with site.client() as client:
        _login_form(client)
        answer = client.post(
            "/login", data={"csrf": "0" * 64, "login": "roditel", "password": PASSWORD}
        )
    assert answer.status_code == 403
    assert "Страница входа устарела" in answer.text
    assert "ejournal_session" not in answer.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_a_login_never_sends_the_browser_to_another_site(site: Site, target: str) -> None:
    with site.client() as client:
        answer = _login(client, "roditel", next_page=target)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"


def test_a_login_returns_to_the_page_asked_for(site: Site) -> None:
    with site.client() as client:
        asked = client.get("/password")
        assert asked.status_code == 303
        assert asked.headers["location"] == "/login?next=%2Fpassword"
        answer = _login(client, "roditel", next_page="/password")
    assert answer.headers["location"] == "/password"


def test_a_wrong_password_is_refused_in_russian_and_opens_no_session(site: Site) -> None:
    with site.client() as client:
        token = _login_form(client)
        answer = client.post(
            "/login", data={"csrf": token, "login": "roditel", "password": "wrong password"}
        )
    assert answer.status_code == 401
    assert "Неверный логин или пароль." in answer.text
    assert "ejournal_session" not in answer.headers.get("set-cookie", "")


def test_a_session_ended_through_the_api_ends_the_pages_too(site: Site) -> None:  # п. 4.2
    with site.client() as client:
        _login(client, "t.matematika")
        assert client.get("/").status_code == 200
        token = client.cookies["ejournal_session"]
        logout = client.post("/auth/logout", headers={"Authorization": f"Bearer {token}"})
        assert logout.status_code == 200
        after = client.get("/")
    assert after.status_code == 303
    assert after.headers["location"].startswith("/login")


def test_a_temporary_password_must_be_changed_first(browser_for: Any, site: Site) -> None:
    # п. 4.2: the system administrator resets t.angliyskiy2's password; the one-time password
    # opens a session that may only change it.
    admin = httpx.post(
        site.url + "/auth/login", json={"login": "sysadmin", "password": PASSWORD}
    ).json()["access_token"]
    account = site.school.logins["t.angliyskiy2"]
    reset = httpx.post(
        f"{site.url}/accounts/{account}/password-reset",
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert reset.status_code == 200, reset.text
    temporary = reset.json()["temporary_password"]
    browser = browser_for()
    browser.login("t.angliyskiy2", temporary)
    assert browser.page.url.endswith("/password")
    browser.check("password-forced")
    assert "временному паролю" in browser.page.get_by_role("status").inner_text()
    browser.goto("/")
    assert browser.page.url.endswith("/password")  # nothing else opens
    page = browser.page
    page.get_by_label("Текущий пароль").fill(temporary)
    # Long enough for the browser's own check, refused by the server: it is the login.
    page.get_by_label("Новый пароль", exact=True).fill("t.angliyskiy2")
    page.get_by_label("Новый пароль ещё раз").fill("t.angliyskiy2")
    page.get_by_role("button", name="Сменить пароль").click()
    assert "не совпадать с логином" in page.get_by_role("alert").inner_text()
    browser.check("password-refused")
    page.get_by_label("Текущий пароль").fill(temporary)
    page.get_by_label("Новый пароль", exact=True).fill("новый пароль учителя 2025")
    page.get_by_label("Новый пароль ещё раз").fill("новый пароль учителя 2025")
    page.get_by_role("button", name="Сменить пароль").click()
    page.wait_for_url("**/?password=changed")
    assert page.get_by_role("status").inner_text() == "Пароль изменён."
