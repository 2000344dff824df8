"""The import of the office's spreadsheet in a real browser, at the staff's
desktop size (1440×900): upload, the mapping page, the dry-run report, the
commit. Screenshots go to test-artifacts/screenshots/ (and SIGAP_SHOTS_DIR
when set) for people to look at; no page scrolls sideways."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.registry.test_import_office import EXPECTED, office_xlsx

pytestmark = pytest.mark.browser

OVERFLOW = "() => ({scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth})"


def _shoot(page, name: str, directories: list[Path]) -> None:
    for directory in directories:
        page.screenshot(path=str(directory / f"{name}-desktop.png"), full_page=True)
    size = page.evaluate(OVERFLOW)
    assert size["scrollWidth"] <= size["clientWidth"], f"{name} scrolls sideways: {size}"


def test_import_pages_at_desktop_size(new_page, make_user, make_lks, screenshot_dir, tmp_path):
    make_user("rina", "staff", full_name="Rina Marlina")
    make_lks("Panti Asuhan Al Ikhlas", kelurahan_code="36.71.11.1005")
    make_lks("LKSA Mekar Sari", kelurahan_code="36.71.11.1007")
    directories = [screenshot_dir]
    if os.environ.get("SIGAP_SHOTS_DIR"):
        directories.append(Path(os.environ["SIGAP_SHOTS_DIR"]))
        directories[-1].mkdir(parents=True, exist_ok=True)
    sheet = tmp_path / "Daftar LKS Kota Tangerang 2026.xlsx"
    sheet.write_bytes(office_xlsx())

    page = new_page(viewport={"width": 1440, "height": 900}, locale="id-ID")
    sign_in(page, "rina")
    page.goto("/lks/import")
    page.locator("#f-file").set_input_files(str(sheet))
    page.get_by_role("button", name="Periksa berkas").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kolom mana berisi apa")
    expect(page.locator("select#col-1")).to_have_value("nama")
    _shoot(page, "import-mapping", directories)

    page.get_by_role("button", name="Periksa baris-barisnya").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pemeriksaan impor")
    outcomes = {int(r.get_attribute("data-row")): r.get_attribute("data-outcome") for r in page.locator("tr[data-row]").all()}
    assert outcomes == EXPECTED
    expect(page.locator('[data-cell="L11"]')).to_contain_text("30-02-2026")
    _shoot(page, "import-report", directories)

    page.get_by_role("button", name="Impor baris yang valid").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Impor selesai")
    _shoot(page, "import-result", directories)
