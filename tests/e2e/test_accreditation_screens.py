"""Accreditation in real Chromium: the pipeline board for the demo's 72
LKS (17 accredited, 12 in process) at desktop (1440×900) and tablet
(800×1280) size, and the LKS manager filling in the self-assessment on a
390×844 phone, without sideways scrolling; screenshots kept."""

from __future__ import annotations

from datetime import datetime, timezone

from accreditation.assessments.tables import Assessment
from accreditation.instruments.services import load_shipped_instruments
from tests.e2e.conftest import sign_in
from tests.inspections.test_findings import PNG

OVERFLOW_JS = "() => ({scroll: document.scrollingElement.scrollWidth, client: document.scrollingElement.clientWidth})"
PHONE = {"width": 390, "height": 844}


def test_the_board_for_the_demo_at_desktop_and_tablet(client, call, make_user, new_page, screenshot_dir):
    context: dict = {}
    for _order, name, loader in client.app.state.wiring.demo_loaders:
        if name in ("registry", "accreditation"):
            call(loader, now=datetime.now(timezone.utc), storage=client.app.state.storage, context=context)
    make_user("petugas.akreditasi", "staff")
    for name, viewport in (("1440x900", {"width": 1440, "height": 900}), ("800x1280", {"width": 800, "height": 1280})):
        page = new_page(viewport=viewport, locale="id-ID")
        sign_in(page, "petugas.akreditasi")
        page.goto("/accreditation")
        assert page.locator('[data-figure="accredited"]').inner_text() == "17"
        assert page.locator('[data-figure="in_process"]').inner_text() == "12"
        assert page.locator('[data-stage="total"]').inner_text() == "72"
        page.screenshot(path=str(screenshot_dir / f"accreditation-board-{name}.png"), full_page=True)
        size = page.evaluate(OVERFLOW_JS)
        assert size["scroll"] <= size["client"], (name, size)
        page.context.close()


def test_the_manager_fills_in_the_self_assessment_on_a_phone(call, make_user, new_page, screenshot_dir, tmp_path):
    call(load_shipped_instruments)
    make_user("pengurus.harapan", "manager", full_name="Siti Aminah")
    page = new_page(viewport=PHONE, locale="id-ID", is_mobile=True, has_touch=True)
    sign_in(page, "pengurus.harapan")
    page.goto("/accreditation/self-assessment")
    page.get_by_role("button", name="Mulai penilaian mandiri").click()
    page.wait_for_url("**/accreditation/assessments/*")
    indicators = page.locator(".indicator")
    count = indicators.count()
    assert count == 14
    page.screenshot(path=str(screenshot_dir / "accreditation-self-assessment-390-start.png"), full_page=False)
    for n in range(count - 1):  # all but the last: a draft
        indicators.nth(n).locator("label", has_text="3").first.click()
    photo = tmp_path / "program.png"
    photo.write_bytes(PNG)
    indicators.first.locator("input[type=file]").set_input_files(str(photo))
    page.get_by_role("button", name="Simpan draf").click()
    page.wait_for_url("**done=saved")
    assert "Draf disimpan" in page.locator(".alert-success").inner_text()
    size = page.evaluate(OVERFLOW_JS)
    assert size["scroll"] <= size["client"], size
    # Submitting with one indicator left: the message sits at that indicator.
    page.get_by_role("button", name="Ajukan untuk diperiksa").click()
    last = page.locator(".indicator").last
    assert "sebelum mengajukan" in last.locator(".error-text").inner_text()
    last.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "accreditation-self-assessment-390-error.png"), full_page=False)
    last.locator("label", has_text="4").first.click()
    page.get_by_role("button", name="Ajukan untuk diperiksa").click()
    page.wait_for_url("**done=submitted")
    assert "Penilaian mandiri diajukan" in page.locator(".alert-success").inner_text()
    page.screenshot(path=str(screenshot_dir / "accreditation-self-assessment-390-submitted.png"), full_page=True)
    size = page.evaluate(OVERFLOW_JS)
    assert size["scroll"] <= size["client"], size
    row = call(Assessment.select(Assessment.status, Assessment.answers).first().output(load_json=True).run)
    assert row["status"] == "submitted" and len(row["answers"]) == 14
    assert row["answers"]["PRG1"]["documents"]
    # Dinas Sosial reviews it at a desk: marks one indicator and returns it.
    make_user("petugas.review", "staff")
    desk = new_page(viewport={"width": 1440, "height": 900}, locale="id-ID")
    sign_in(desk, "petugas.review")
    assessment = call(Assessment.select(Assessment.id, Assessment.lks).first().run)
    desk.goto(f"/accreditation/assessments/{assessment['id']}")
    desk.locator("input[name=fix_SDM3]").check()
    desk.locator("textarea[name=comment_SDM3]").fill("Lampirkan sertifikat pelatihan perlindungan anak para pengasuh.")
    desk.screenshot(path=str(screenshot_dir / "accreditation-review-1440x900.png"), full_page=False)
    desk.get_by_role("button", name="Kembalikan dengan catatan").click()
    desk.wait_for_url("**done=return")
    assert "Dikembalikan ke LKS" in desk.locator(".alert-success").inner_text()
    desk.goto(f"/accreditation/lks/{assessment['lks']}")
    desk.screenshot(path=str(screenshot_dir / "accreditation-record-1440x900.png"), full_page=True)
    assert call(Assessment.select(Assessment.status).first().run)["status"] == "returned"
