"""The auditor's page of the ledger: its logs and latest signed checkpoints, a verification run
from the page, a log's latest records, and a record's receipt downloaded as a file that verifies
offline as ``ejournal verify-proof`` verifies it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx

from ejournal.integrity.leaf import decode_leaf
from ejournal.integrity.receipt import Receipt, verify_receipt
from ejournal.ledger.keys import KeyStore
from ejournal.ledger.logs import school_log_id
from tests.web.site import Site


def test_the_auditor_reads_the_ledger_and_verifies_it(browser_for: Any, site: Site) -> None:
    browser = browser_for("auditor")
    browser.visit("/ledger", "ledger")
    page = browser.page
    logs = page.get_by_role("table", name="Журналы реестра")
    assert logs.get_by_role("rowheader", name="Системный журнал").count() == 1
    school_row = logs.get_by_role("row").filter(has_text="2025/2026 учебный год")
    assert school_row.count() == 1
    # Its latest checkpoint: when it was signed, in Moscow time, ДД.ММ.ГГГГ ЧЧ:ММ.
    assert re.search(r"\b\d\d\.09\.2025 \d\d:\d\d\b", school_row.inner_text())
    assert page.get_by_text("проверка не запускалась").is_visible()
    page.get_by_role("button", name="Проверить сейчас").click()
    page.wait_for_load_state()
    assert page.get_by_role("status").get_by_text("Проверка пройдена").is_visible()
    browser.check("ledger-verified")


def test_a_receipt_downloaded_for_a_record_verifies(
    browser_for: Any, site: Site, tmp_path: Path
) -> None:
    browser = browser_for("auditor")
    log_id = school_log_id(site.school.school_id, site.school.year_start)
    browser.goto("/ledger")
    browser.page.get_by_role("link", name="Последние записи: МКОУ").first.click()
    browser.page.wait_for_load_state()
    assert log_id in browser.page.url.replace("%2F", "/")
    browser.check("ledger-entries")
    link = browser.page.get_by_role("link", name="Скачать квитанцию о записи").first
    with browser.page.expect_download() as downloading:
        link.click()
    saved = tmp_path / downloading.value.suggested_filename
    downloading.value.save_as(saved)
    assert saved.suffix == ".proof"
    receipt = Receipt.decode(saved.read_bytes())
    verified = verify_receipt(receipt, KeyStore(site.services.ledger.database).verifiers())
    assert decode_leaf(verified.leaf).log_id == log_id
    # The explanation of what to do with it is on the page, in Russian.
    assert browser.page.get_by_text("ejournal verify-proof").first.is_visible()
    assert browser.page.get_by_text("ejournal verify-archive").first.is_visible()


def test_a_receipt_asked_for_a_bad_record_is_refused_as_a_page(browser_for: Any) -> None:
    browser = browser_for("auditor")
    browser.goto("/ledger")
    browser.page.get_by_label("Идентификатор записи").fill("не идентификатор")
    browser.page.get_by_role("button", name="Скачать квитанцию").click()
    browser.page.wait_for_load_state()
    assert browser.page.get_by_role("alert").get_by_text("Запрос не прошёл проверку").is_visible()
    browser.check("ledger-receipt-refused")
    unknown = "/ledger/proof/00000000-0000-4000-8000-000000000000/1"
    response = browser.visit(unknown, "ledger-receipt-unknown")
    assert response.status == 404
    assert browser.page.get_by_role("alert").get_by_text("Запись не найдена").is_visible()


def test_a_parent_may_not_read_the_ledger(browser_for: Any, site: Site) -> None:
    browser = browser_for("roditel")
    cookies = {c["name"]: c["value"] for c in browser.page.context.cookies()}
    refused = httpx.get(site.url + "/ledger", cookies=cookies)
    assert refused.status_code == 403
    assert "Нет доступа" in refused.text
