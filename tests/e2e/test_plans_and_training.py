"""Improvement plans and pembinaan in a real browser: the LKS manager
answers an action on a phone (390×844: one column, no sideways scrolling);
staff see the plan list and a training session page on a desktop
(1440×900)."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

from accreditation.improvement import services as improvement
from accreditation.improvement.tables import ActionNote
from accreditation.training import jobs as training_jobs
from accreditation.training import services as training
from sigap.audit import Actor
from sigap.tables import Role
from tests.e2e.conftest import sign_in
from tests.inspections.test_findings import PNG

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
ADMIN = Actor(user_id=None, username="uji", role=Role.admin)
SHOTS = Path("/tmp/shots/train")


def _shot(page, screenshot_dir: Path, name: str) -> None:
    path = screenshot_dir / name
    page.screenshot(path=str(path), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / name)


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("({scroll: document.scrollingElement.scrollWidth, client: document.scrollingElement.clientWidth})")
    assert width["scroll"] <= width["client"], width


def test_manager_answers_an_improvement_action_on_a_phone(new_page, make_user, call, screenshot_dir, tmp_path):
    manager = make_user("pengurus.kasih", "manager", full_name="Maria Fransiska")
    now = datetime.now(timezone.utc)
    today = improvement.today_wib(now)
    call(improvement.add_actions, manager["lks_id"], [
        {"code": "SNPA-2.3", "title": "Lengkapi SOP pengasuhan dan tempel di ruang pengasuh", "due_on": today - timedelta(days=3)},
        {"code": "SARPRAS-3.1", "title": "Pasang jalur evakuasi dan APAR di setiap lantai", "due_on": today + timedelta(days=45)},
    ], ADMIN, now - timedelta(days=20), "indicator", cycle_ref="2026")
    call(training_jobs.plan_training, now=now)
    page = new_page(viewport=PHONE, locale="id-ID", is_mobile=True, has_touch=True)
    sign_in(page, "pengurus.kasih")
    page.goto("/accreditation/improvement")
    cards = page.locator(".finding-card")
    assert cards.count() == 3
    first = cards.first
    assert "Lengkapi SOP pengasuhan" in first.inner_text() and "Terlambat" in first.inner_text()
    assert "Latih pengurus dan pengasuh tentang perlindungan anak" in page.locator("main").inner_text()
    _no_sideways_scroll(page)
    _shot(page, screenshot_dir, "improvement-manager-390.png")
    photo = tmp_path / "sop.png"
    photo.write_bytes(PNG)
    first.locator("textarea[name=text]").fill("SOP pengasuhan sudah disusun, ditandatangani ketua yayasan, dan ditempel.")
    first.locator("input[type=file]").set_input_files(str(photo))
    first.locator("button[type=submit]").click()
    page.wait_for_url("**/accreditation/improvement?answered=*")
    answered = page.locator(".alert-success")
    assert answered.is_visible() and "Jawaban Anda terkirim" in answered.inner_text()
    _no_sideways_scroll(page)
    _shot(page, screenshot_dir, "improvement-manager-answered-390.png")
    assert call(ActionNote.count().where(ActionNote.kind == "answer").run) == 1


def test_staff_plan_list_and_training_session_on_a_desktop(new_page, make_user, make_lks, call, screenshot_dir):
    make_user("petugas.dinsos", "staff", full_name="Ahmad Fauzi")
    now = datetime.now(timezone.utc)
    today = improvement.today_wib(now)
    homes = [make_lks(name) for name in ("LKSA Kasih Bunda", "LKSA Harapan Kita", "Panti Werdha Sejahtera", "LKSA Al-Ikhlas")]
    session = call(training.create_session, ADMIN, training.SessionData(
        topic="child_protection", title="Pelatihan Perlindungan Anak Angkatan I", held_on=today - timedelta(days=14),
        place="Aula Dinas Sosial Kota Tangerang", trainer="Tim UPTD PPA"), now=now)
    for lks, (name, role) in zip(homes[:2], (("Siti Rahmawati", "manager"), ("Budi Santoso", "caregiver")), strict=True):
        call(training.add_attendance, ADMIN, session["id"], training.AttendanceData(lks_id=lks["id"], person_name=name, person_role=role), now=now)
    call(improvement.add_actions, homes[0]["id"], [{"code": "SNPA-2.3", "title": "Lengkapi SOP pengasuhan", "due_on": today - timedelta(days=2)}],
         ADMIN, now - timedelta(days=30), "indicator")
    call(training_jobs.plan_training, now=now)
    page = new_page(viewport=DESKTOP, locale="id-ID")
    sign_in(page, "petugas.dinsos")
    page.goto("/accreditation/improvement")
    rows = page.locator("tbody tr")
    assert rows.count() == 3  # the overdue SOP action and two training actions
    _shot(page, screenshot_dir, "improvement-staff-1440.png")
    page.goto(f"/accreditation/training/{session['id']}")
    assert "Siti Rahmawati" in page.locator("#attendance").locator("xpath=..").inner_text()
    page.locator("#q").fill("Al-Ikhlas")
    page.locator("form[role=search] button[type=submit]").click()
    page.get_by_role("link", name="LKSA Al-Ikhlas").click()
    page.locator("#f-person_name").fill("Dewi Lestari")
    page.locator("#f-person_role").select_option("social_worker")
    page.get_by_role("button", name="Tambahkan ke daftar").click()
    page.wait_for_url("**added=1**")
    assert "Dewi Lestari" in page.locator("table").first.inner_text()
    _shot(page, screenshot_dir, "training-session-1440.png")
    page.goto("/accreditation/training/coverage")
    _shot(page, screenshot_dir, "training-coverage-1440.png")
