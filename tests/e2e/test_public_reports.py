"""In Chromium: a member of the public reports a concern about a home from
the register at three sizes (no sign-in, no cookie, no sideways scrolling),
gets a tracking code and follows the status; staff triage the report on a
desktop and the reporter sees it change."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from inspections.public_reports.services import MIN_FILL_SECONDS
from registry.tables import Lks
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser

VIEWPORTS = {"1440x900": (1440, 900), "1024x768": (1024, 768), "390x844": (390, 844)}
SHOTS = Path(os.environ.get("SIGAP_SHOTS", "/tmp/shots/lapor"))
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def shot(page, screenshot_dir, name: str) -> None:
    path = screenshot_dir / name
    page.screenshot(path=str(path), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / name)


def test_report_a_concern_follow_it_and_staff_triage_it(new_page, make_user, make_lks, call, screenshot_dir):
    lks = make_lks("Panti Asuhan Kasih Bunda", phone="0812 3456 7890", head_name="Ibu Rahasia", residents={"m_6_12": 8})
    call(Lks.update({Lks.registration_status: "registered"}).where(Lks.id == lks["id"]).run)
    codes = []
    for name, (width, height) in VIEWPORTS.items():
        page = new_page(viewport={"width": width, "height": height}, locale="id-ID", is_mobile=width < 500, has_touch=width < 500)
        page.goto("/register")
        page.get_by_role("link", name="Lapor", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Laporkan kekhawatiran tentang LKS")
        page.get_by_label("Cari di register publik menurut nama").fill("kasih bunda")
        page.get_by_role("button", name="Cari").click()
        page.get_by_role("radio", name=re.compile("Panti Asuhan Kasih Bunda")).check()
        page.get_by_label("Apa yang Anda lihat atau dengar").fill("Anak-anak terlihat tidak sekolah dan sering dibentak pada malam hari.")
        page.get_by_label("Telepon atau WhatsApp").fill("0857 1111 2222")
        assert "Ibu Rahasia" not in page.content() and "0812" not in page.content()
        shot(page, screenshot_dir, f"lapor-form-{name}.png")
        assert page.evaluate(OVERFLOW) <= 0, f"/lapor scrolls sideways at {name}"
        page.wait_for_timeout(MIN_FILL_SECONDS * 1000)
        page.get_by_role("button", name="Kirim laporan").click()
        expect(page.get_by_role("heading", level=2, name="Terima kasih: laporan Anda sudah kami terima")).to_be_visible()
        code = page.locator(".report-code code").inner_text()
        assert re.fullmatch(r"[A-Z0-9]{5}-[A-Z0-9]{5}", code)
        codes.append(code)
        assert "0857" not in page.content() and "Panti Asuhan Kasih Bunda" not in page.content()
        shot(page, screenshot_dir, f"lapor-sent-{name}.png")
        assert page.evaluate(OVERFLOW) <= 0, f"confirmation scrolls sideways at {name}"
        page.goto("/lapor")
        page.get_by_label("Kode pelacakan").fill(code.lower().replace("-", " "))
        page.get_by_role("button", name="Cek status").click()
        expect(page.locator("[aria-current=step]")).to_contain_text("Diterima")
        shot(page, screenshot_dir, f"lapor-status-{name}.png")
        assert page.evaluate(OVERFLOW) <= 0, f"status scrolls sideways at {name}"
        assert page.context.cookies() == [], "a public page set a cookie"

    make_user("petugas.lapor", "staff")
    staff = new_page(viewport={"width": 1440, "height": 900}, locale="id-ID")
    sign_in(staff, "petugas.lapor")
    staff.goto("/public-reports")
    expect(staff.get_by_role("heading", level=1)).to_have_text("Laporan masyarakat")
    shot(staff, screenshot_dir, "lapor-staff-list-1440x900.png")
    staff.get_by_role("row", name=re.compile(codes[0])).get_by_role("link").first.click()
    expect(staff.get_by_role("heading", level=1)).to_contain_text(codes[0])
    assert "0857" not in staff.content()
    staff.get_by_role("link", name="Tampilkan kontak").click()
    expect(staff.get_by_text("0857 1111 2222")).to_be_visible()
    shot(staff, screenshot_dir, "lapor-staff-report-1440x900.png")
    staff.get_by_label("Kategori").select_option("neglect")
    staff.get_by_label("Tingkat keparahan").select_option("high")
    staff.get_by_role("button", name="Catat sebagai kasus").click()
    expect(staff.get_by_role("alert").or_(staff.get_by_role("status")).first).to_contain_text("menjadi kasus")
    shot(staff, screenshot_dir, "lapor-staff-triaged-1440x900.png")

    reporter = new_page(viewport={"width": 390, "height": 844}, locale="id-ID", is_mobile=True, has_touch=True)
    reporter.goto(f"/lapor/{codes[0].replace('-', '')}")
    expect(reporter.locator("[aria-current=step]")).to_contain_text("Sedang ditangani")
    shot(reporter, screenshot_dir, "lapor-status-handling-390x844.png")


def test_a_refused_report_puts_the_phone_at_the_first_marked_field(new_page):
    page = new_page(viewport={"width": 390, "height": 844}, locale="id-ID", is_mobile=True, has_touch=True)
    page.goto("/lapor")
    page.wait_for_timeout(MIN_FILL_SECONDS * 1000 + 200)
    page.get_by_role("button", name="Kirim laporan").click()
    expect(page.get_by_text("Perbaiki isian yang ditandai.").first).to_be_visible()
    focused = page.evaluate("""() => { const el = document.activeElement, box = el.getBoundingClientRect();
      return {invalid: !!el.closest('.has-error'), top: box.top, bottom: box.bottom}; }""")
    assert focused["invalid"] and 0 <= focused["top"] and focused["bottom"] <= 844, focused
