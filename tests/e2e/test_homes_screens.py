"""The homes as their users see them, in Chromium: an inspector's on the
tablet (portrait and landscape), a partner's in landscape, an LKS manager's
on a phone, and a task page with its WhatsApp links on a desktop.
Screenshots go to test-artifacts/screenshots/home-*.png; checked: the
overdue task on top, no sideways scrolling, targets at least 44 px tall on
the tablet, the manager's panels in one column."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def _seed(call, app, make_user, make_lks) -> dict:
    from accreditation.improvement import services as improvement
    from inspections.alerts.jobs import raise_alerts
    from inspections.findings.tables import Finding
    from inspections.incidents import services as incidents
    from inspections.planning import services as planning
    from inspections.planning.home import week_end
    from inspections.teams import services as teams
    from registry import documents
    from registry.tables import Lks
    from sigap.audit import Actor
    from sigap.tables import Role

    staff = Actor(user_id=None, username="petugas", role=Role.staff)
    now = datetime.now(timezone.utc)
    today = planning.today_wib(now)
    make_user("rina", "staff", full_name="Rina Marlina")
    agus = make_user("agus.pinang", "inspector", full_name="Agus Setiawan")
    bambang = make_user("satpolpp.pinang", "partner", full_name="Bambang Prasetyo")
    team = call(teams.create_team, staff, name="Tim Terpadu Kecamatan Pinang", area_code="36.71.11", now=now)
    call(teams.add_member, staff, team["id"], agency="dinsos", user_id=agus["id"], is_lead=True, phone="0813-1111-2222", now=now)
    call(teams.add_member, staff, team["id"], agency="satpol_pp", user_id=bambang["id"], phone="+62 812 7777 8888", now=now)
    call(teams.add_member, staff, team["id"], agency="rt_rw", name="Pak H. Sukarman (Ketua RW 05)", phone="0812 3456 789", now=now)
    call(teams.add_member, staff, team["id"], agency="kelurahan", name="Kantor Kelurahan Kunciran Indah", phone="(021) 555 1234", now=now)

    def lks(name, kelurahan="36.71.11.1005", **fields):
        return make_lks(name, kelurahan_code=kelurahan, **fields)

    def routine(row, due, **extra):
        call(planning.insert_tasks, [{
            "lks": row["id"], "kind": extra.pop("kind", "routine"), "status": extra.pop("status", "open"), "team": team["id"],
            "lead": agus["id"], "due_on": due, "unannounced": extra.pop("unannounced", False),
            "unique_key": f"shot:{row['id']}:{due}", "created_at": now, "updated_at": now, **extra,
        }])

    routine(lks("Panti Asuhan Kasih Bunda Sejahtera Abadi"), today - timedelta(days=6))
    routine(lks("LKSA Cahaya Harapan", "36.71.11.1001"), today - timedelta(days=1), kind="findings_follow_up")
    routine(lks("Panti Werdha Budi Luhur", "36.71.11.1007", kind="elderly"), today)
    routine(lks("Yayasan Pelita Hati", "36.71.11.1003"), today, status="in_progress")
    if week_end(today) > today:
        routine(lks("LKSA Nurul Iman", "36.71.11.1002"), week_end(today))
        routine(lks("Rumah Singgah Harapan Bangsa", "36.71.11.1006"), week_end(today), kind="unregistered_check", unannounced=True)
    urgent = lks("LKSA Kasih Ibu Kunciran")
    call(incidents.record_incident, staff, lks_id=urgent["id"], source="public_complaint", category="neglect", severity="high",
         occurred_on=today, description="Laporan warga (uji tampilan).", now=now)
    call(raise_alerts, now=now)

    manager = make_user("pengurus.kasih", "manager", full_name="Maria Fransiska")
    mine = manager["lks_id"]
    call(Lks.update({Lks.registration_status: "registered", Lks.certificate_number: "460/0012-DINSOS/2025",
                     Lks.valid_until: today + timedelta(days=45)}).where(Lks.id == mine).run)
    for doc_type in ("npwp", "domicile", "org_structure", "bank_account", "service_programme", "site_plan"):
        call(documents.upload, staff, mine, doc_type=doc_type, filename=f"{doc_type}.pdf", fileobj=io.BytesIO(b"%PDF-1.4 x"),
             now=now, storage=app.state.storage, max_bytes=10**6)
    for description, due, status, severity in (
        ("Tabung pemadam api di dapur sudah kedaluwarsa", today + timedelta(days=10), "open", "major"),
        ("Belum ada jadwal piket pengasuh untuk malam hari", today - timedelta(days=3), "open", "critical"),
        ("Kotak P3K kosong", today + timedelta(days=4), "answered", "minor"),
    ):
        call(Finding.insert(Finding(lks=mine, severity=severity, description=description, due_on=due, status=status,
                                    created_at=now)).run)
    call(improvement.create_action, staff, lks_id=mine, title="Susun SOP pengasuhan tertulis dan sosialisasikan ke pengasuh",
         due_on=today + timedelta(days=21), now=now)
    return {"urgent_lks": urgent}


def _shoot(page, name: str, directory) -> None:
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)
    assert page.evaluate(OVERFLOW) <= 0, f"{name} scrolls sideways"


def test_homes_at_their_device_sizes(new_page, call, app, make_user, make_lks, screenshot_dir):
    world = _seed(call, app, make_user, make_lks)

    for name, size in (("tablet-portrait", {"width": 800, "height": 1280}), ("tablet-landscape", {"width": 1280, "height": 800})):
        page = new_page(viewport=size, locale="id-ID", service_workers="block")
        page.goto("/login")
        sign_in(page, "agus.pinang")
        expect(page.get_by_role("heading", name="Pekerjaan Anda")).to_be_visible()
        first = page.locator(".home-task").first
        expect(first).to_contain_text("Panti Asuhan Kasih Bunda Sejahtera Abadi")  # the most overdue on top
        expect(first).to_have_class("home-task overdue")
        for target in page.locator(".home-task-go, .home-task-main").all():
            box = target.bounding_box()
            assert box["height"] >= 44, (name, target.inner_text(), box)
        _shoot(page, f"home-inspector-{name}", screenshot_dir)
        page.context.close()

    page = new_page(viewport={"width": 1280, "height": 800}, locale="id-ID")
    page.goto("/login")
    sign_in(page, "satpolpp.pinang")
    expect(page.locator(".home-task").first).to_contain_text("Kasih Bunda")
    expect(page.get_by_role("link", name="Isi laporan kunjungan")).to_have_count(0)
    _shoot(page, "home-partner-tablet-landscape", screenshot_dir)
    page.context.close()

    page = new_page(viewport={"width": 390, "height": 844}, locale="id-ID", is_mobile=True, has_touch=True)
    page.goto("/login")
    sign_in(page, "pengurus.kasih")
    expect(page.get_by_role("heading", name="Temuan yang harus dijawab")).to_be_visible()
    lefts = {round(box["x"]) for box in (s.bounding_box() for s in page.locator("section.card").all())}
    assert len(lefts) == 1, f"the manager's panels are not in one column: {lefts}"
    _shoot(page, "home-manager-phone", screenshot_dir)
    page.context.close()

    page = new_page(viewport={"width": 1440, "height": 900}, locale="id-ID")
    page.goto("/login")
    sign_in(page, "rina")
    page.goto("/tasks?kind=incident_response")
    page.get_by_role("link", name=world["urgent_lks"]["name"]).first.click()
    expect(page.get_by_role("heading", name="Kirim lewat WhatsApp")).to_be_visible()
    expect(page.locator("a.wa-link")).to_have_count(3)  # the landline is left out
    _shoot(page, "task-whatsapp-desktop", screenshot_dir)
    page.goto("/alerts")
    page.locator(".wa-menu summary").first.click()
    _shoot(page, "alerts-whatsapp-desktop", screenshot_dir)
    page.context.close()
