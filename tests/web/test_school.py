"""The head's and the deputies' pages: the summary sheet of a class (п. 2.9), the monitor of
journal keeping with its filters, a breach report filed through the page and what it does
(п. 4.3–4.4: the account stops, its operations from the moment given are invalid and listed for
re-entry), a session declared invalid, and the access log (п. 1.7).

The tests of this module share one served copy of the demo school: the breach report names
t.matematika, whose marks no other test here counts on; the invalidated session is
t.angliyskiy2's own, opened for that test."""

from __future__ import annotations

from typing import Any

import httpx

from tests.web.site import PASSWORD, Site

SUMMARY_NAME = "Алиев Магомед"


def _school(site: Site) -> str:
    return f"/school/{site.school.school_id}/{site.school.year_start}"


def test_the_head_sees_the_summary_sheet_of_a_class(browser_for: Any, site: Site) -> None:
    browser = browser_for("direktor")
    browser.visit("/school", "school-overview")
    assert browser.page.url.endswith(_school(site))
    browser.page.get_by_role("link", name="5«А»", exact=True).click()
    browser.page.wait_for_load_state()
    browser.check("school-summary-5a")
    page = browser.page
    assert page.get_by_role("heading", level=1).inner_text() == "Сводная ведомость 5«А»"
    assert page.get_by_role("rowheader", name=SUMMARY_NAME).is_visible()
    assert page.get_by_role("columnheader", name="Математика").is_visible()
    # The week of 08–12.09 was kept: each pupil's row has current averages (4,35 with a comma).
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=SUMMARY_NAME))
    averages = row.locator(".avg").all_inner_texts()
    assert averages and all("," in a for a in averages), averages


def test_the_monitor_with_its_filters(browser_for: Any, site: Site) -> None:
    browser = browser_for("zavuch")
    browser.visit(_school(site) + "/monitor", "school-monitor")
    page = browser.page
    assert page.get_by_role("heading", name="Мониторинг ведения журнала").is_visible()
    page.get_by_label("Класс").select_option(label="5«А»")
    page.get_by_role("button", name="Показать").click()
    page.wait_for_load_state()
    assert "class_id=" in page.url
    assert page.get_by_label("Класс").evaluate("s => s.selectedOptions[0].text") == "5«А»"
    browser.check("school-monitor-class")
    page.get_by_label("Класс").select_option(label="Все классы")
    teacher = page.get_by_label("Учитель")
    names = teacher.evaluate("s => [...s.options].map(o => o.text)")
    assert "Все учителя" in names and len(names) > 3, names
    teacher.select_option(index=1)
    page.get_by_role("button", name="Показать").click()
    page.wait_for_load_state()
    assert "teacher_id=" in page.url
    assert teacher.evaluate("s => s.selectedIndex") == 1
    browser.check("school-monitor-teacher")


def test_a_teacher_may_not_read_the_whole_school(browser_for: Any, site: Site) -> None:
    browser = browser_for("t.russkiy")
    response = browser.visit(_school(site) + "/monitor", "school-monitor-refused")
    assert response.status == 403
    assert browser.page.get_by_role("alert").get_by_text("Нет доступа").is_visible()


def test_the_access_log(browser_for: Any, site: Site) -> None:
    browser = browser_for("direktor")
    # A read to find there: the summary sheet of 5«А», by the head.
    browser.goto(_school(site))
    browser.page.get_by_role("link", name="5«А»", exact=True).click()
    browser.page.wait_for_load_state()
    browser.page.get_by_role("link", name="Журнал доступа").click()
    browser.page.wait_for_load_state()
    browser.check("school-access-log")
    page = browser.page
    assert page.get_by_role("heading", level=1).inner_text().startswith("Журнал доступа")
    sheet = page.get_by_role("row").filter(has_text="сводная ведомость").filter(has_text="5«А»")
    assert sheet.count() >= 1
    assert "руководитель ОУ" in sheet.first.inner_text()
    # Newest first: the head's own reads of a moment ago head the table.
    assert "руководитель ОУ" in page.locator("table.access tbody tr").first.inner_text()


def test_a_breach_report_filed_by_the_head(browser_for: Any, site: Site) -> None:
    browser = browser_for("direktor")
    browser.visit(_school(site) + "/breaches", "school-breaches")
    page = browser.page
    account = page.get_by_label("Учётная запись")
    label = next(
        text
        for text in account.evaluate("s => [...s.options].map(o => o.text)")
        if text.endswith("— t.matematika")
    )
    account.select_option(label=label)
    # The teacher's login was known to someone since the start of the demo week: every
    # operation of theirs from then on is invalid.
    page.get_by_label("С какого времени операции недействительны").fill("2025-09-08T08:00")
    page.get_by_role("button", name="Сообщить о нарушении").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text().startswith("Сообщение о нарушении записано")
    browser.check("school-breaches-reported")
    rule = page.get_by_role("row").filter(has_text="t.matematika")
    assert "08.09.2025 08:00" in rule.inner_text()
    # The head received it on 08.09 (the form dates the receipt back): in time (п. 4.3).
    assert "в срок" in rule.inner_text()
    worklist = page.get_by_role("table", name="Недействительные операции")
    assert worklist.get_by_role("row").filter(has_text="выставлена отметка").count() > 0
    # The account is stopped: its owner cannot log in.
    refused = httpx.post(
        site.url + "/auth/login", json={"login": "t.matematika", "password": PASSWORD}
    )
    assert refused.status_code == 403, refused.text
    # Reported again: refused, said above the form, nothing more written.
    account.select_option(label=label)
    page.get_by_role("button", name="Сообщить о нарушении").click()
    page.wait_for_load_state()
    assert "уже" in page.get_by_role("alert").inner_text()
    browser.check("school-breaches-refused")
    assert page.get_by_role("row").filter(has_text="t.matematika").count() == 1


def test_a_session_declared_invalid(browser_for: Any, site: Site) -> None:
    opened = httpx.post(
        site.url + "/auth/login", json={"login": "t.angliyskiy2", "password": PASSWORD}
    ).json()
    bearer = {"Authorization": f"Bearer {opened['access_token']}"}
    assert httpx.get(site.url + "/auth/me", headers=bearer).status_code == 200
    browser = browser_for("zavuch")
    browser.goto(_school(site) + f"/breaches?session={opened['session_id']}")
    page = browser.page
    assert page.get_by_label("Сеанс (идентификатор)").input_value() == opened["session_id"]
    page.get_by_label("Причина").fill("Сеанс открыт с чужого компьютера")
    page.get_by_role("button", name="Признать операции сеанса недействительными").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text().startswith("Сеанс завершён")
    assert page.get_by_role("row").filter(has_text="Сеанс открыт с чужого компьютера").count() == 1
    assert httpx.get(site.url + "/auth/me", headers=bearer).status_code == 401


def test_an_unknown_session_is_refused_as_a_page(browser_for: Any, site: Site) -> None:
    browser = browser_for("zavuch")
    browser.goto(_school(site) + "/breaches?session=00000000-0000-4000-8000-000000000000")
    browser.page.get_by_label("Причина").fill("Проверка")
    browser.page.get_by_role("button", name="Признать операции сеанса недействительными").click()
    browser.page.wait_for_load_state()
    assert browser.page.get_by_role("alert").get_by_text("Сеанс не найден.").is_visible()
    browser.check("school-session-refused")


def test_a_breach_form_without_its_csrf_token_writes_nothing(browser_for: Any, site: Site) -> None:
    browser = browser_for("direktor")
    cookies = {c["name"]: c["value"] for c in browser.page.context.cookies()}
    account = site.school.logins["t.russkiy"]
    refused = httpx.post(
        site.url + _school(site) + "/breaches",
        cookies=cookies,
        data={"csrf": "guessed", "account_id": str(account), "received_at": "2025-09-15T09:00"},
    )
    assert refused.status_code == 403
    assert "Форма устарела" in refused.text
    browser.goto(_school(site) + "/breaches")
    assert browser.page.get_by_role("row").filter(has_text="— t.russkiy").count() == 0
