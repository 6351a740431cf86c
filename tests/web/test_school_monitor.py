"""The monitor of journal keeping with something to report: a copy of the demo school of its own,
its clock moved on to Tuesday, so that Monday's lessons, left unkept, are flagged (п. 2.5–2.6)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.web.site import Site


def test_the_monitor_lists_yesterdays_unkept_lessons(browser_for: Any, site: Site) -> None:
    site.clock.advance(timedelta(days=1))
    school = f"/school/{site.school.school_id}/{site.school.year_start}"
    browser = browser_for("zavuch")
    browser.visit(school + "/monitor", "school-monitor-flags")
    page = browser.page
    flags = page.get_by_role("table", name="Замечания по ведению журнала")
    rows = flags.get_by_role("row").filter(has_text="15.09.2025")
    assert rows.count() > 0
    first = rows.first.inner_text()
    assert "п. 2." in first
    assert "«" in first  # the class, as the journal writes it: 5«А»
    # Filtered by a teacher named in a flag: only that teacher's flags.
    teacher = rows.first.get_by_role("cell").nth(4).inner_text()
    assert teacher
    page.get_by_label("Учитель").select_option(label=teacher)
    page.get_by_role("button", name="Показать").click()
    page.wait_for_load_state()
    browser.check("school-monitor-flags-teacher")
    cells = flags.get_by_role("row").locator("td:nth-child(5)").all_inner_texts()
    assert cells and set(cells) == {teacher}, set(cells)
