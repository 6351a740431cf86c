"""The teacher's pages (issue 22): my day, the lesson (register, marks, topic, homework,
corrections with a reason, all saved without reloading), the class journal; and the class
teacher's page. Driven through the login page in real Chromium, each page checked by axe-core and
photographed."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.web.site import Site


def _first_lesson(browser: Any) -> str:
    """The path of the teacher's first lesson of the day, as the day page links it."""
    link = browser.page.locator(".day-lesson h3 a").first
    href = link.get_attribute("href")
    assert href is not None and href.startswith("/lesson/")
    return str(href)


def _saved(page: Any, message: str) -> None:
    """Wait until htmx has swapped the lesson in again and it says ``message``."""
    expect(page.locator(".htmx-request")).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text(message)


def test_my_day_lists_todays_lessons_and_the_monitor(browser_for: Any, site: Site) -> None:
    browser = browser_for("t.russkiy")
    browser.visit("/day", "teacher-day")
    page = browser.page
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Мой день: понедельник, 15 сентября 2025 г."
    )
    assert page.locator(".day-lesson").count() > 0
    assert page.get_by_text("Посещаемость не отмечена").first.is_visible()
    _first_lesson(browser)


def test_a_teacher_keeps_todays_lesson_on_one_page(browser_for: Any, site: Site) -> None:
    browser = browser_for("t.russkiy")
    browser.goto("/day")
    lesson = _first_lesson(browser)
    browser.visit(lesson, "teacher-lesson")
    page = browser.page
    pupils = page.locator(".pupil-row legend").all_inner_texts()
    first, second = pupils[0], pupils[1]
    # The register: one tap per pupil, saved at once.
    page.get_by_role("group", name=first).get_by_text("Н", exact=True).click()
    _saved(page, "Посещаемость сохранена.")
    page.get_by_role("group", name=second).get_by_text("ОП", exact=True).click()
    _saved(page, "Посещаемость сохранена.")
    browser.check("teacher-lesson-register")
    # A mark with its work type.
    page.get_by_label("Ученик").select_option(label=second)
    page.get_by_label("Отметка", exact=True).select_option("4")
    page.get_by_label("Вид работы").select_option(index=1)
    page.get_by_role("button", name="Поставить").click()
    _saved(page, "Отметка поставлена.")
    # The topic and the homework.
    # The topic from the КТП: its item's topic is the lesson's (п. 2.6).
    item = page.get_by_label("Пункт КТП").locator("option").nth(1).inner_text()
    page.get_by_label("Пункт КТП").select_option(index=1)
    page.get_by_role("button", name="Сохранить тему").click()
    _saved(page, "Тема урока сохранена.")
    assert page.locator(".current-topic").inner_text() == item.split(". ", 1)[1]
    page.get_by_label("Задание").fill("Упражнение 12")
    page.get_by_label("Страницы").fill("с. 20–21")
    page.get_by_role("button", name="Сохранить задание").click()
    _saved(page, "Домашнее задание сохранено.")
    browser.check("teacher-lesson-kept")
    # A correction, with its reason.
    page.get_by_text("Исправить или отменить").first.click()
    correction = page.get_by_role("form", name=re.compile(f"Исправление отметки 4: {second}"))
    correction.get_by_label("Новая отметка").select_option("5")
    correction.get_by_label("Причина").fill("ошибка при выставлении")
    correction.get_by_role("button", name="Исправить").click()
    _saved(page, "Отметка исправлена.")
    browser.check("teacher-lesson-corrected")
    assert page.get_by_text("причина: «ошибка при выставлении»").is_visible()
    # All of it is there after a reload.
    browser.goto(lesson)
    assert page.get_by_role("group", name=first).get_by_role("radio", name="Н").is_checked()
    assert page.get_by_role("group", name=second).get_by_role("radio", name="ОП").is_checked()
    assert (
        page.get_by_text("Посещаемость отмечена").is_visible()
        or page.locator("#register-h .tag.done").is_visible()
    )


def test_the_class_journal_of_a_period(browser_for: Any, site: Site) -> None:
    browser = browser_for("t.russkiy")
    browser.page.get_by_role("link", name="5«А» — Русский язык").click()
    browser.page.wait_for_load_state()
    path = browser.page.url.removeprefix(site.url)
    assert path.startswith("/class-journal/")
    browser.visit(path, "teacher-class-journal")
    page = browser.page
    assert page.get_by_role("heading", level=1).inner_text() == "Русский язык, 5«А»"
    assert page.get_by_role("columnheader", name="Средний балл").is_visible()
    assert page.get_by_role("columnheader", name="За период").is_visible()  # her own class
    # The demo's week is kept: marks and their averages are there, with a comma.
    averages = page.locator("table.journal tbody td.num").all_inner_texts()
    assert any(re.fullmatch(r"[1-5],\d\d", text) for text in averages), averages
    # The lesson's date leads to the lesson page: she teaches it.
    assert page.locator("table.journal thead a[href^='/lesson/']").count() > 0


def test_the_class_teachers_page(browser_for: Any, site: Site) -> None:
    browser = browser_for("t.russkiy")
    browser.page.get_by_role("link", name="Мой класс: 5«А»").click()
    browser.page.wait_for_load_state()
    path = browser.page.url.removeprefix(site.url)
    browser.visit(path, "class-teacher")
    page = browser.page
    assert page.get_by_role("heading", level=1).inner_text() == "Класс 5«А»"
    assert page.get_by_role("heading", name=re.compile("^Посещаемость")).is_visible()
    assert page.get_by_role("heading", name="Недоставленные письма родителям").is_visible()
    assert page.get_by_role("rowheader", name="Алиев Магомед").first.is_visible()
    # Another teacher's subject: read-only, no links to write its lessons.
    page.get_by_role("link", name="Математика").click()
    page.wait_for_load_state()
    browser.check("class-teacher-subject")
    assert page.get_by_text("Только просмотр").is_visible()
    assert page.locator("table.journal thead a").count() == 0


def _form_token(browser: Any) -> str:
    token = browser.page.locator("input[name=csrf]").first.get_attribute("value")
    assert token
    return str(token)


def test_another_teachers_lesson_is_refused_as_a_page(browser_for: Any, site: Site) -> None:
    russian = browser_for("t.russkiy")
    russian.goto("/day")
    lesson = _first_lesson(russian)
    maths = browser_for("t.matematika")
    response = maths.visit(lesson, "teacher-lesson-refused")
    assert response.status == 403
    assert maths.page.get_by_role("alert").is_visible()
    # Nor may the maths teacher write it: refused with the journal's reason (п. 2.3).
    cookies = {c["name"]: c["value"] for c in maths.page.context.cookies()}
    maths.goto("/day")
    refused = httpx.post(
        site.url + lesson + "/attendance",
        cookies=cookies,
        data={"csrf": _form_token(maths)},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert "Учитель не ведёт этот предмет у этого класса" in refused.text


def test_a_form_without_its_token_writes_nothing(browser_for: Any, site: Site) -> None:
    browser = browser_for("t.russkiy")
    browser.goto("/day")
    lesson = _first_lesson(browser)
    browser.goto(lesson)
    taken = browser.page.locator("#register-h .tag").inner_text()
    cookies = {c["name"]: c["value"] for c in browser.page.context.cookies()}
    refused = httpx.post(
        site.url + lesson + "/topic",
        cookies=cookies,
        data={"csrf": "guessed", "topic": "Чужая тема"},
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert "Форма устарела" in refused.text
    browser.goto(lesson)
    assert browser.page.get_by_text("Чужая тема").count() == 0
    assert browser.page.locator("#register-h .tag").inner_text() == taken


def test_a_refused_mark_and_a_cancelled_one(browser_for: Any, site: Site) -> None:
    browser = browser_for("t.russkiy")
    browser.goto("/day")
    lesson = browser.page.locator(".day-lesson h3 a").nth(1).get_attribute("href")
    assert lesson is not None
    browser.goto(lesson)
    pupil = browser.page.locator("#m-student option").nth(1).get_attribute("value")
    work_type = browser.page.locator("#m-type option").nth(1).get_attribute("value")
    cookies = {c["name"]: c["value"] for c in browser.page.context.cookies()}
    sent = {"csrf": _form_token(browser), "student_id": pupil, "work_type_id": work_type}
    refused = httpx.post(site.url + lesson + "/marks", cookies=cookies, data={**sent, "value": "7"})
    assert refused.status_code == 422
    assert "Отметка" in refused.text and 'role="alert"' in refused.text
    browser.goto(lesson)
    assert browser.page.get_by_text("Отметок за урок пока нет.").is_visible()
    # Without JavaScript a form is posted, redirected and the lesson drawn again.
    posted = httpx.post(
        site.url + lesson + "/marks",
        cookies=cookies,
        data={**sent, "value": "2"},
        follow_redirects=False,
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == lesson + "?saved=mark"
    browser.visit(posted.headers["location"], "teacher-lesson-saved")
    page = browser.page
    assert page.get_by_role("status").inner_text() == "Отметка поставлена."
    # The mark cancelled, with its reason: struck out, its history kept (п. 1.4).
    page.get_by_text("Исправить или отменить").click()
    form = page.get_by_role("form", name=re.compile("^Исправление отметки 2: "))
    form.get_by_label("Причина").fill("поставлена не тому ученику")
    form.get_by_role("button", name="Отменить отметку").click()
    _saved(page, "Отметка отменена.")
    assert page.get_by_text("причина: «поставлена не тому ученику»").is_visible()
    assert page.locator(".lesson-marks .tag.due").inner_text() == "отменена"
    browser.check("teacher-lesson-cancelled")


def test_a_late_mark_is_in_the_teachers_monitor(browser_for: Any, site: Site) -> None:
    browser = browser_for("t.russkiy")
    page = browser.page
    browser.goto("/day")
    page.get_by_role("link", name="← 14.09.2025").click()
    page.get_by_role("link", name="← 13.09.2025").click()
    page.get_by_role("link", name="← 12.09.2025").click()
    page.wait_for_url("**/day?date=2025-09-12")
    browser.check("teacher-day-past")
    # Friday's lesson, kept that day: a mark added on Monday is late (п. 2.5).
    page.locator(".day-lesson h3 a").last.click()
    page.wait_for_load_state()
    page.get_by_label("Ученик").select_option(index=3)
    page.get_by_label("Отметка", exact=True).select_option("3")
    page.get_by_label("Вид работы").select_option(index=1)
    page.get_by_role("button", name="Поставить").click()
    _saved(page, "Отметка поставлена.")
    browser.visit("/day", "teacher-day-monitor")
    late = page.locator("table.flags tbody tr").filter(
        has_text="Отметка за урок выставлена после окончания учебного дня."
    )
    expect(late.first).to_contain_text("12.09.2025")
