"""A parent of two children (п. 1.6): the diary's child switcher. Its own module: the head links
roditel to a second pupil of 5«А», which the other family tests must not see."""

from __future__ import annotations

from typing import Any

import httpx

from tests.web.site import PASSWORD, Site


def _token(site: Site, login: str) -> dict[str, str]:
    opened = httpx.post(site.url + "/auth/login", json={"login": login, "password": PASSWORD})
    return {"Authorization": f"Bearer {opened.json()['access_token']}"}


def test_a_parent_of_two_switches_between_their_diaries(browser_for: Any, site: Site) -> None:
    school, year = site.school.school_id, site.school.year_start
    parent = httpx.get(site.url + "/auth/me", headers=_token(site, "roditel")).json()
    linked = httpx.post(
        f"{site.url}/schools/{school}/years/{year}/students/{site.school.other_child}/parents",
        json={"parent_id": parent["person_id"]},
        headers=_token(site, "direktor"),
    )
    assert linked.status_code == 200, linked.text
    site.wait_projected()

    browser = browser_for("roditel")
    page = browser.page
    # Two children: /diary asks whose diary to open.
    browser.visit("/diary", "family-choose-child")
    choices = page.get_by_role("main").get_by_role("link").all_inner_texts()
    assert len(choices) == 2 and "Алиев Магомед, 5«А»" in choices
    page.get_by_role("link", name="Алиев Магомед, 5«А»").click()
    page.wait_for_load_state()
    browser.check("family-diary-two-children")
    switcher = page.get_by_label("Ребёнок")
    options = switcher.locator("option").all_inner_texts()
    assert options == choices
    other = next(name for name in options if name != "Алиев Магомед, 5«А»")
    switcher.select_option(label=other)
    page.wait_for_url(f"**/diary/{school}/{year}/{site.school.other_child}")
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Дневник: " + other.rsplit(",", 1)[0]
    assert page.get_by_label("Ребёнок").input_value().endswith(str(site.school.other_child))
