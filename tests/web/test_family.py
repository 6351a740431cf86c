"""The family's pages (п. 1.5, 1.6): the parent's and the pupil's diary of the week, marks by
subject, the certified printout, the e-mail digest page; a parent who edits the URL to another
child's diary is refused and nothing of that child is read or logged (п. 1.7)."""

from __future__ import annotations

from typing import Any

import httpx

from ejournal.web.sessions import SESSION_COOKIE, csrf_token
from tests.web.site import PASSWORD, Site


def _diary(site: Site, student: Any) -> str:
    return f"/diary/{site.school.school_id}/{site.school.year_start}/{student}"


def test_the_parent_sees_the_week_and_the_one_before(browser_for: Any, site: Site) -> None:
    browser = browser_for("roditel")
    browser.visit("/diary", "family-diary-this-week")
    assert browser.page.url.endswith(_diary(site, site.school.child))
    page = browser.page
    assert page.get_by_role("heading", level=1).inner_text() == "Дневник: Алиев Магомед"
    assert "15.09.2025 — 21.09.2025" in page.get_by_role("heading", level=2).first.inner_text()
    monday = page.get_by_role("region", name="Понедельник, 15.09.2025 сегодня")
    assert monday.get_by_role("listitem").count() > 0
    page.get_by_role("link", name="← Предыдущая неделя").click()
    page.wait_for_load_state()
    browser.check("family-diary-kept-week")
    assert page.url.endswith("?week=2025-09-08")
    marked = page.locator("li.lesson").filter(has=page.locator(".given"))
    assert marked.count() > 0


def test_a_lesson_shows_its_marks_with_their_work_type(browser_for: Any, site: Site) -> None:
    browser = browser_for("roditel")
    browser.goto(_diary(site, site.school.child) + "?week=2025-09-10")
    page = browser.page
    thursday = page.get_by_role("region", name="Четверг, 11.09.2025")
    lessons = thursday.get_by_role("listitem").filter(has=page.locator(".subject"))
    biology = lessons.filter(has_text="Биология")
    assert biology.count() == 1
    marks = [" ".join(t.split()) for t in biology.locator(".given li").all_text_contents()]
    assert marks == ["4 Ответ на уроке"]
    # Each lesson's item is found by its lesson too: ``#lesson-<lesson_id>``.
    lesson_id = biology.get_attribute("id")
    assert lesson_id is not None and lesson_id.startswith("lesson-")
    assert page.locator(f"#{lesson_id} .subject").inner_text() == "Биология"


def test_another_childs_diary_is_refused_and_nothing_of_it_logged(
    browser_for: Any, site: Site
) -> None:
    browser = browser_for("roditel")
    other = site.school.other_child
    reader = site.school.logins["roditel"]
    before = [
        e
        for e in site.services.access_log.entries(subject_id=other, limit=100_000)
        if e.reader_account_id == reader
    ]
    for path in (
        _diary(site, other),
        _diary(site, other) + "?week=2025-09-08",
        _diary(site, other) + "/printout?week=2025-09-08",
        f"/marks/{site.school.school_id}/{site.school.year_start}/{other}",
    ):
        response = browser.visit(path, "family-other-child")
        assert response.status in (403, 404), path
        assert browser.page.get_by_role("alert").is_visible()
        text = browser.page.locator("main").inner_text()
        assert "Дневник:" not in text and "Отметки:" not in text
        assert _name_of(site, other) not in browser.page.content()
    after = [
        e
        for e in site.services.access_log.entries(subject_id=other, limit=100_000)
        if e.reader_account_id == reader
    ]
    assert after == before


def _name_of(site: Site, person: Any) -> str:
    from ejournal.identity.names import Names

    name = Names(site.services.vault).full_name(person)
    assert name
    return name


def test_the_pupil_sees_their_own_diary(browser_for: Any, site: Site) -> None:
    browser = browser_for("uchenik")
    browser.visit("/diary", "family-pupil-diary")
    assert browser.page.url.endswith(_diary(site, site.school.child))
    page = browser.page
    assert page.get_by_role("heading", level=1).inner_text() == "Дневник: Алиев Магомед"
    # A pupil subscribes nothing: the digest is the parents'.
    assert page.get_by_role("link", name="Рассылка").count() == 0
    browser.visit(_diary(site, site.school.child) + "?week=2025-09-08", "family-pupil-kept-week")
    assert page.locator("li.lesson .given").count() > 0


def test_the_weeks_diary_downloads_as_a_pdf(browser_for: Any, site: Site) -> None:
    browser = browser_for("roditel")
    browser.goto(_diary(site, site.school.child) + "?week=2025-09-08")
    with browser.page.expect_download() as download_info:
        browser.page.get_by_role("link", name="Скачать PDF недели").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".pdf")
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_marks_by_subject_with_averages(browser_for: Any, site: Site) -> None:
    browser = browser_for("roditel")
    browser.goto(_diary(site, site.school.child))
    browser.page.get_by_role("link", name="Отметки").click()
    browser.page.wait_for_load_state()
    browser.check("family-marks")
    page = browser.page
    assert page.get_by_role("heading", level=1).inner_text().startswith("Отметки: Алиев Магомед")
    first = page.get_by_role("link", name="I четверть", exact=True)
    assert first.get_attribute("aria-current") == "page"
    biology = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Биология"))
    cells = biology.get_by_role("cell").all_inner_texts()
    assert cells[0].startswith("4")
    assert cells[1] == "4,00"


def test_an_unknown_week_is_refused_with_a_page(browser_for: Any, site: Site) -> None:
    browser = browser_for("roditel")
    response = browser.visit(
        _diary(site, site.school.child) + "?week=15.09.2025", "family-bad-week"
    )
    assert response.status == 422
    assert browser.page.get_by_role("alert").is_visible()


def test_the_digest_page_says_mail_is_off_and_a_subscription_is_refused(
    browser_for: Any, site: Site
) -> None:
    # The demo site has no SMTP server: the page says so honestly and offers no form.
    browser = browser_for("roditel")
    browser.goto(_diary(site, site.school.child))
    browser.page.get_by_role("link", name="Рассылка").click()
    browser.page.wait_for_load_state()
    browser.check("family-subscriptions-mail-off")
    page = browser.page
    assert page.get_by_role("heading", name="Рассылка пока недоступна").is_visible()
    assert page.get_by_label("Адрес электронной почты").count() == 0
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    form = {
        "child": f"{site.school.school_id}:{site.school.year_start}:{site.school.child}",
        "address": "roditel@example.ru",
    }
    # Without the form's token: refused before anything is tried.
    refused = httpx.post(site.url + "/subscriptions", cookies=cookies, data=form)
    assert refused.status_code == 403 and "Форма устарела" in refused.text
    # With it: refused because e-mail is off, as a page with the API's title.
    token = csrf_token(cookies[SESSION_COOKIE])
    off = httpx.post(site.url + "/subscriptions", cookies=cookies, data={**form, "csrf": token})
    assert off.status_code == 503
    assert "Рассылка по электронной почте не настроена" in off.text
    assert "mail.unavailable" in off.text


def test_a_mark_recorded_today_shows_on_the_parents_page(browser_for: Any, site: Site) -> None:
    # The parent has the week open (drawn, and kept drawn); then the teacher marks the child.
    browser = browser_for("roditel")
    browser.goto(_diary(site, site.school.child))
    teacher = httpx.post(
        site.url + "/auth/login", json={"login": "t.russkiy", "password": PASSWORD}
    ).json()
    headers = {"Authorization": f"Bearer {teacher['access_token']}"}
    lessons = httpx.get(site.url + "/me/lessons", headers=headers).json()["lessons"]
    lesson = next(x for x in lessons if x["subject"] == "Русский язык")
    year = f"/schools/{site.school.school_id}/years/{site.school.year_start}"
    kinds = httpx.get(site.url + year + "/work-types", headers=headers).json()["items"]
    kind = next(k for k in kinds if not k["written"])
    body = {"student_id": str(site.school.child), "value": 5, "work_type_id": kind["work_type_id"]}
    written = httpx.post(
        f"{site.url}/lessons/{lesson['lesson_id']}/marks", json=body, headers=headers
    )
    assert written.status_code == 201, written.text
    site.wait_projected()
    browser.goto(_diary(site, site.school.child))
    item = browser.page.locator(f"#lesson-{lesson['lesson_id']}")
    assert item.locator(".subject").inner_text() == "Русский язык"
    marks = [" ".join(t.split()) for t in item.locator(".given li").all_text_contents()]
    assert marks == [f"5 {kind['name']}"]
    browser.check("family-diary-marked-today")
