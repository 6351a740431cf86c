"""The teacher's pages (issue 22): my day, the lesson (register, marks, topic, homework,
corrections with a reason, all saved without reloading), the class journal; and the class
teacher's page. Driven through the login page in real Chromium, each page checked by axe-core and
photographed."""

from __future__ import annotations

import re
from typing import Any

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
    page.get_by_label("Тема урока").fill("Звуки и буквы")
    page.get_by_role("button", name="Сохранить тему").click()
    _saved(page, "Тема урока сохранена.")
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
    assert page.get_by_text("Посещаемость отмечена").is_visible() or page.locator(
        "#register-h .tag.done"
    ).is_visible()
