"""The LKS manager answers a finding on a phone (390 px): one column, no
sideways scrolling, the evidence photo picked from the phone, and the
confirmation shown on the finding just answered."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from inspections.findings.tables import Finding, FindingResponse
from registry.tables import Document
from tests.e2e.conftest import sign_in
from tests.inspections.test_findings import PNG

PHONE = {"width": 390, "height": 844}


def test_manager_answers_a_finding_with_a_photo_on_a_phone(new_page, make_user, call, screenshot_dir, tmp_path):
    manager = make_user("pengurus.bunda", "manager", full_name="Maria Fransiska")
    now = datetime.now(timezone.utc)
    for severity, text in (("critical", "Tidak ada kebijakan perlindungan anak tertulis."), ("minor", "Papan jadwal kegiatan belum dipasang.")):
        call(Finding.insert(Finding(lks=manager["lks_id"], severity=severity, description=text,
                                    corrective_action="Susun dan tandatangani kebijakan perlindungan anak; tempel di ruang pengasuh.",
                                    due_on=(now + timedelta(days=14)).date(), created_at=now)).run)
    page = new_page(viewport=PHONE, locale="id-ID", is_mobile=True, has_touch=True)
    sign_in(page, "pengurus.bunda")
    page.goto("/findings")
    first = page.locator(".finding-card").first
    assert "Tidak ada kebijakan perlindungan anak tertulis." in first.inner_text()
    page.screenshot(path=str(screenshot_dir / "findings-manager-390.png"), full_page=True)
    photo = tmp_path / "bukti.png"
    photo.write_bytes(PNG)
    first.locator("textarea[name=text]").fill("Kebijakan sudah disusun, ditandatangani ketua yayasan, dan ditempel.")
    first.locator("input[type=file]").set_input_files(str(photo))
    first.locator("button[type=submit]").click()
    page.wait_for_url("**/findings?answered=*")
    answered = page.locator(".finding-card").first
    assert "Jawaban Anda sudah terkirim" in answered.inner_text()
    assert answered.locator(".alert-success").is_visible()
    width = page.evaluate("({scroll: document.scrollingElement.scrollWidth, client: document.scrollingElement.clientWidth})")
    assert width["scroll"] <= width["client"], width
    page.screenshot(path=str(screenshot_dir / "findings-manager-answered-390.png"), full_page=True)
    assert call(FindingResponse.count().run) == 1
    assert call(Document.count().where(Document.doc_type == "finding_evidence").run) == 1
