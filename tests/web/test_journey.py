"""One school day across the readers, through the pages only (issue 22's acceptance): the teacher
takes the register of today's lesson, records a mark and homework, corrects the mark with a
reason; the parent then sees it in the diary; the head sees the summary sheet change; a breach
report for the teacher's login (п. 4.3–4.4) takes the mark out of both. In real Chromium, on
SQLite and on PostgreSQL, each page checked by axe-core and photographed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from tests.web.site import Site

SITE_BACKENDS = ("sqlite", "postgres")
"""The demo's default and a district's server (tests/web/conftest.py)."""

CHILD = "Алиев Магомед"
"""roditel's child (uchenik), as the staff's pages name him."""


def _saved(page: Any, message: str) -> None:
    expect(page.locator(".htmx-request")).to_have_count(0)
    expect(page.get_by_role("status")).to_have_text(message)


def _until(browser: Any, path: str, seen: Callable[[], bool]) -> None:
    """Open ``path`` until ``seen()`` (the read models follow the ledger a moment later)."""
    deadline = time.monotonic() + 20
    while True:
        browser.goto(path)
        if seen() or time.monotonic() > deadline:
            return
        time.sleep(0.2)


def test_a_mark_from_the_lesson_to_the_diary_and_the_sheet_and_out_after_a_breach(
    browser_for: Any, site: Site
) -> None:
    school, year, child = site.school.school_id, site.school.year_start, site.school.child
    head = browser_for("direktor")
    head.goto(f"/school/{school}/{year}")
    head.page.get_by_role("link", name=re.compile("5«А»")).first.click()
    sheet = head.page.url.removeprefix(site.url)
    row = head.page.get_by_role("row", name=re.compile(CHILD))
    before = row.inner_text()

    # The teacher: today's first lesson, 5«А»'s Russian.
    teacher = browser_for("t.russkiy")
    teacher.goto("/day")
    lesson = teacher.page.locator(".day-lesson h3 a").first.get_attribute("href")
    assert lesson is not None and lesson.startswith("/lesson/")
    lesson_id = lesson.removeprefix("/lesson/")
    teacher.goto(lesson)
    page = teacher.page
    child_name = next(n for n in page.locator(".pupil-row legend").all_inner_texts() if CHILD in n)
    page.get_by_role("group", name=child_name).get_by_text("ОП", exact=True).click()
    _saved(page, "Посещаемость сохранена.")
    page.get_by_label("Ученик").select_option(label=child_name)
    page.get_by_label("Отметка", exact=True).select_option("4")
    kinds = page.get_by_label("Вид работы").locator("option").all_inner_texts()
    answer = next(k for k in kinds if k.startswith("Ответ на уроке"))
    page.get_by_label("Вид работы").select_option(label=answer)
    page.get_by_role("button", name="Поставить").click()
    _saved(page, "Отметка поставлена.")
    page.get_by_label("Задание").fill("Выучить словарные слова")
    page.get_by_label("Страницы").fill("с. 14")
    page.get_by_role("button", name="Сохранить задание").click()
    _saved(page, "Домашнее задание сохранено.")
    page.get_by_text("Исправить или отменить").first.click()
    correction = page.get_by_role("form", name=f"Исправление отметки 4: {child_name}")
    correction.get_by_label("Новая отметка").select_option("5")
    correction.get_by_label("Причина").fill("ошибка при выставлении")
    correction.get_by_role("button", name="Исправить").click()
    _saved(page, "Отметка исправлена.")
    teacher.check("journey-teacher-lesson")
    history = page.locator(".history").first.inner_text()
    assert "исправлена на 5; причина: «ошибка при выставлении»" in history

    # The parent: the week's diary shows the corrected mark, the late arrival and the homework.
    parent = browser_for("roditel")
    diary = f"/diary/{school}/{year}/{child}"
    marks = parent.page.locator(f"#lesson-{lesson_id} .given li")
    _until(parent, diary, lambda: marks.count() > 0)
    parent.check("journey-parent-diary")
    shown = [" ".join(text.split()) for text in marks.all_text_contents()]
    assert shown == ["5 Ответ на уроке"]
    entry = parent.page.locator(f"#lesson-{lesson_id}")
    assert "Выучить словарные слова" in entry.inner_text()
    assert "ОП" in entry.inner_text()

    # The head: the summary sheet has the new mark in the child's average.
    _until(head, sheet, lambda: row.inner_text() != before)
    after = row.inner_text()
    assert after != before
    head.check("journey-head-summary")

    # п. 4.3–4.4: the teacher's login was compromised from 09:00; the head reports it.
    head.goto(f"/school/{school}/{year}/breaches")
    form = head.page
    form.get_by_label("Учётная запись").select_option(value=str(site.school.logins["t.russkiy"]))
    form.get_by_label("С какого времени операции недействительны").fill("2025-09-15T09:00")
    form.get_by_role("button", name="Сообщить о нарушении").click()
    expect(form.get_by_role("status")).to_contain_text("Сообщение о нарушении записано")
    head.check("journey-head-breach")

    # The mark is gone from the diary and from the sheet; the ledger keeps it.
    _until(parent, diary, lambda: marks.count() == 0)
    assert marks.count() == 0
    _until(head, sheet, lambda: row.inner_text() == before)
    assert row.inner_text() == before
    # And the teacher's session has ended with the report.
    teacher.goto("/day")
    assert "/login" in teacher.page.url
