"""The staff dashboard in a real browser: figures first, a figure opens
the list it counts, the charts are images with a name, and a phone gets
no sideways scrolling."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from sigap.audit import Actor
from sigap.tables import Role
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser


def test_a_figure_opens_its_list_and_the_page_fits_a_phone(page, new_page, server, call, make_user, make_lks, screenshot_dir):
    from inspections.incidents import services as incidents

    make_user("kabid", "staff", full_name="Kepala Bidang")
    rows = [make_lks(f"LKSA Dasbor {i}") for i in range(3)]
    now = datetime.now(timezone.utc)
    for row in rows[:2]:
        call(incidents.record_incident, Actor(user_id=None, username="uji", role=Role.staff), lks_id=row["id"],
             source="public_complaint", category="neglect", severity="high", occurred_on=now.date().isoformat(),
             description="Laporan warga untuk uji dasbor.", now=now)

    sign_in(page, "kabid")
    expect(page.get_by_role("heading", name="Angka hari ini")).to_be_visible()
    figure = page.locator('[data-figure="open_incidents"]')
    expect(figure).to_contain_text("2")
    expect(figure).to_contain_text("Kasus terbuka")
    for name in ("Tanda Daftar terbit dan masa berlaku berakhir, per bulan", "Kasus per tahun, menurut kategori",
                 "LKS pada setiap tahap akreditasi"):
        expect(page.get_by_role("img", name=name)).to_be_visible()
    figure.click()
    expect(page).to_have_url(re.compile(r"/incidents\?status=open"))
    expect(page.get_by_role("status")).to_have_text("2 kasus")
    expect(page.locator("table tbody tr")).to_have_count(2)

    phone = new_page(viewport={"width": 390, "height": 844}, locale="id-ID")
    sign_in(phone, "kabid")
    expect(phone.locator('[data-figure="total_lks"]')).to_contain_text("3")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(screenshot_dir / "dashboard-390x844.png"), full_page=True)
