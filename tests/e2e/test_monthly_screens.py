"""The monthly reports page in real Chromium for the demo's data: staff make
last month's report with "Buat sekarang", see it listed with its downloads,
subscribe to the e-mail; no sideways scrolling at 1440×900 and 1024×768;
screenshots and the PDF's first page (pdftoppm) kept for people to look at."""

from __future__ import annotations

import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from overview.monthly import services
from overview.monthly.figures import Month
from sigap.audit import Actor
from sigap.tables import Role
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser

OVERFLOW_JS = "() => ({scroll: document.scrollingElement.scrollWidth, client: document.scrollingElement.clientWidth})"
SHOTS = Path(os.environ.get("SIGAP_SHOTS_DIR", "/tmp/shots/report"))


def test_make_list_and_subscribe_at_desktop_sizes(client, call, make_user, new_page, screenshot_dir):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context: dict = {}
    now = datetime.now(timezone.utc)
    for _order, name, loader in client.app.state.wiring.demo_loaders:
        if name in ("registry", "inspections", "accreditation"):
            call(loader, now=now, storage=client.app.state.storage, context=context)
    last = Month.of(now).previous()
    staff = Actor(user_id=None, username="rina", role=Role.staff)
    for month in (last.previous().previous(), last.previous()):  # two kept months before: the change shows
        call(services.build, staff, month, now=now, storage=client.app.state.storage, region="36.71")
    make_user("rina", "staff", full_name="Rina Marlina", email="rina.marlina@dinsos.example")

    page = new_page(viewport={"width": 1440, "height": 900}, locale="id-ID")
    sign_in(page, "rina")
    page.goto("/reports/monthly")
    page.get_by_label("Bulan").select_option(str(last))
    page.get_by_role("button", name="Buat sekarang").click()
    page.wait_for_url(f"**/reports/monthly?built={last}")
    assert "sudah dibuat" in page.locator(".alert-success").inner_text()
    assert page.locator("table.monthly-reports tbody tr").count() == 3
    page.get_by_role("button", name="Berlangganan").click()
    page.wait_for_url("**subscription=on**")
    for name, viewport in (("1440x900", {"width": 1440, "height": 900}), ("1024x768", {"width": 1024, "height": 768})):
        page.set_viewport_size(viewport)
        page.goto("/reports/monthly")
        page.screenshot(path=str(SHOTS / f"monthly-{name}.png"), full_page=True)
        page.screenshot(path=str(screenshot_dir / f"monthly-reports-{name}.png"), full_page=True)
        size = page.evaluate(OVERFLOW_JS)
        assert size["scroll"] <= size["client"], (name, size)

    response = page.request.get(f"/reports/monthly/{last}/pdf")
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    pdf = SHOTS / "monthly.pdf"
    pdf.write_bytes(response.body())
    subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "2", str(pdf), str(SHOTS / "monthly-pdf")], check=True)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True, text=True).stdout
    assert "LAPORAN BULANAN" in text and "(Demo)" not in text  # counts, never an LKS's name
