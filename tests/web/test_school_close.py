"""Closing the school year through the head's page (п. 2.11) and downloading its archive. In a
module of its own: a closed year takes no more records, so no other page test may share its
copy of the demo school."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import httpx

from ejournal.archive.verifier import verify_archive
from ejournal.ledger.domain import SchoolYear
from ejournal.ledger.keys import KeyStore
from tests.web.site import Site


def test_the_head_closes_the_year_and_downloads_its_archive(
    browser_for: Any, site: Site, tmp_path: Path
) -> None:
    school = site.school
    close = f"/school/{school.school_id}/{school.year_start}/close"
    browser = browser_for("direktor")
    browser.visit(close, "school-close")
    page = browser.page
    # Without the confirmation the server refuses too (the checkbox is required in the page).
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    csrf = page.locator("form[action$='/close'] input[name=csrf]").input_value()
    unconfirmed = httpx.post(site.url + close, cookies=cookies, data={"csrf": csrf})
    assert unconfirmed.status_code == 422
    assert "Подтвердите закрытие года" in unconfirmed.text
    year_id = SchoolYear.create_id(school_id=school.school_id, year_start=school.year_start)
    assert not site.services.ledger.get(year_id, SchoolYear).closed

    page.get_by_label("Я понимаю, что журнал 2025/2026 учебного года будет закрыт").check()
    page.get_by_role("button", name="Закрыть учебный год").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").inner_text().startswith("Учебный год 2025/2026 закрыт")
    browser.check("school-close-closed")
    assert site.services.ledger.get(year_id, SchoolYear).closed
    assert page.get_by_role("button", name="Закрыть учебный год").count() == 0

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Скачать архив 2025/2026").click()
    saved = tmp_path / downloading.value.suggested_filename
    downloading.value.save_as(saved)
    assert saved.name == "archive-2025-2026.zip"
    with zipfile.ZipFile(saved) as archive:
        archive.extractall(tmp_path / "unzipped")
    bag = tmp_path / "unzipped" / "archive-2025-2026"
    assert (bag / "bagit.txt").is_file()
    report = verify_archive(bag, verifiers=KeyStore(site.services.ledger.database).verifiers())
    assert report.entries > 0


def test_a_teacher_may_not_close_the_year(browser_for: Any, site: Site) -> None:
    browser = browser_for("t.russkiy")
    school = site.school
    response = browser.visit(
        f"/school/{school.school_id}/{school.year_start}/close", "school-close-refused"
    )
    assert response.status == 403
