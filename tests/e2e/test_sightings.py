"""In Chromium: a kelurahan officer reports an unregistered home from a
phone and a tablet (one column, no sideways scrolling, suggestions while
typing), staff see the reports on a desktop, the admin binds a manager by
searching the LKS's name, and the audit log reads in words."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from inspections.teams import services as teams
from registry.sightings.tables import Sighting
from registry.tables import Lks
from sigap.audit import Actor
from sigap.tables import Role, User
from tests.e2e.conftest import sign_in
from tests.inspections.test_findings import PNG

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 800, "height": 1280}
DESKTOP = {"width": 1440, "height": 900}
STAFF = Actor(user_id=None, username="petugas", role=Role.staff)
SHOTS = Path(os.environ.get("SIGAP_SHOTS", "/tmp/shots/partners"))


def shot(page, screenshot_dir, name: str) -> None:
    path = screenshot_dir / name
    page.screenshot(path=str(path), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / name)


def no_sideways_scroll(page) -> None:
    width = page.evaluate("({scroll: document.scrollingElement.scrollWidth, client: document.scrollingElement.clientWidth})")
    assert width["scroll"] <= width["client"], width


@pytest.mark.parametrize("viewport,suffix", [(PHONE, "390"), (TABLET, "800")])
def test_a_partner_reports_an_unregistered_home(new_page, make_user, make_lks, call, screenshot_dir, tmp_path, viewport, suffix):
    from datetime import datetime, timezone

    partner = make_user("lurah.kunciran", "partner", full_name="Siti Aminah")
    team = call(teams.create_team, STAFF, name="Tim Kunciran Indah", area_code="36.71.11.1005", now=datetime.now(timezone.utc))
    call(teams.add_member, STAFF, team["id"], agency="kelurahan", user_id=partner["id"], now=datetime.now(timezone.utc))
    known = make_lks("Panti Asuhan Nurul Iman")
    page = new_page(viewport=viewport, locale="id-ID", is_mobile=viewport is PHONE, has_touch=True)
    sign_in(page, "lurah.kunciran")
    page.goto("/sightings/new")
    # The partner's kelurahan is already chosen.
    assert page.locator("#f-kelurahan_code").input_value() == "36.71.11.1005"
    # Suggestions while typing a known name.
    page.locator("#q").fill("nurul")
    suggestion = page.locator("#q-results a", has_text="Panti Asuhan Nurul Iman")
    suggestion.wait_for()
    assert suggestion.get_attribute("href") == f"/sightings/new?lks_id={known['id']}"
    no_sideways_scroll(page)
    page.locator("#q").fill("")
    page.locator("#f-name").fill("Rumah Singgah Kasih Bunda")
    page.locator("#f-address").fill("Jl. Kenanga 7, RT 003/005, belakang masjid")
    page.locator("#f-kind").select_option("lksa")
    page.locator("#f-seen").fill("Sekitar 10 anak tinggal di rumah dua lantai; tidak ada papan nama; tetangga bilang buka sejak tahun lalu.")
    photo = tmp_path / "rumah.png"
    photo.write_bytes(PNG)
    page.locator("#f-photo").set_input_files(str(photo))
    shot(page, screenshot_dir, f"sighting-form-{suffix}.png")
    no_sideways_scroll(page)
    page.locator("form[action='/sightings'] button[type=submit]").click()
    page.wait_for_url("**/sightings/*?created=1")
    assert "Laporan terkirim" in page.locator(".alert-success").inner_text()
    no_sideways_scroll(page)
    shot(page, screenshot_dir, f"sighting-sent-{suffix}.png")
    assert call(Sighting.count().run) == 1
    lks = call(Lks.select().where(Lks.name == "Rumah Singgah Kasih Bunda").first().run)
    assert lks["registration_status"] == "unregistered"


def test_staff_see_the_reports_and_decide(new_page, make_user, make_lks, call, screenshot_dir):
    from datetime import datetime, timezone

    from registry.sightings import services
    from sigap.storage import LocalStorage

    make_user("petugas.dinsos", "staff", full_name="Budi Santoso")
    partner = make_user("satpol.pinang", "partner", full_name="Agus Satpol PP")
    actor = Actor(user_id=partner["id"], username="satpol.pinang", role=Role.partner)
    storage = LocalStorage(Path(os.environ.get("SIGAP_VAR_DIR", "/tmp")) / "unused")
    places = [
        ("Rumah Singgah Kasih Bunda", "36.71.11.1005", "Sekitar 10 anak, tidak ada papan nama."),
        ("Panti Jompo Melati", "36.71.11.1002", "Lima lansia dirawat di rumah warga."),
        ("Asrama Yatim Al-Hikmah", "36.71.01.1001", "Anak-anak terlihat pulang sekolah ke rumah ini."),
    ]
    for name, kelurahan, seen in places:
        call(services.create, actor, {"name": name, "address": "Jl. Contoh 1", "kelurahan_code": kelurahan, "seen": seen,
                                      "confirm_new": "1"}, now=datetime.now(timezone.utc), storage=storage, max_photo_bytes=1)
    first = call(Sighting.select().order_by(Sighting.id).first().run)
    page = new_page(viewport=DESKTOP, locale="id-ID")
    sign_in(page, "petugas.dinsos")
    page.goto(f"/sightings/{first['id']}")
    page.locator("#f-outcome").select_option("not_lks")
    page.locator("#f-reason").fill("Rumah keluarga besar, bukan lembaga.")
    page.locator("form[action$='/outcome'] button[type=submit]").click()
    page.wait_for_url("**?decided=1")
    page.goto("/sightings?outcome=all")
    rows = page.locator("table.sightings tbody tr")
    assert rows.count() == 3
    assert "satpol.pinang" in page.locator("table.sightings").inner_text()
    shot(page, screenshot_dir, "sightings-staff-1440.png")
    no_sideways_scroll(page)


def test_admin_binds_a_manager_by_searching_the_lks_name(new_page, make_user, make_lks, call, screenshot_dir):
    make_user("admin.dinsos", "admin", full_name="Admin Dinsos")
    make_lks("Panti Asuhan Kasih Ibu")
    bapa = make_lks("Panti Asuhan Kasih Bapa")
    make_lks("Panti Werdha Sejahtera")
    page = new_page(viewport=DESKTOP, locale="id-ID")
    sign_in(page, "admin.dinsos")
    page.goto("/admin/users/new")
    page.locator("#f-username").fill("pengurus.bapa")
    page.locator("#f-full_name").fill("Yohanes Pengurus")
    page.locator("#f-role").select_option("manager")
    page.locator("#f-lks_q").fill("kasih")
    choice = page.locator("#lks-suggestions button", has_text="Panti Asuhan Kasih Bapa")
    choice.wait_for()
    shot(page, screenshot_dir, "admin-user-lks-search-1440.png")
    choice.click()
    assert page.locator("#f-lks_id").input_value() == str(bapa["id"])
    page.locator("#f-password").fill("Sangat-Kuat-2026")
    page.locator("form[action='/admin/users'] button[type=submit]").click()
    page.wait_for_url("**/admin/users/*?created=1")
    assert page.locator("#f-lks_q").input_value() == "Panti Asuhan Kasih Bapa"
    user = call(User.select().where(User.username == "pengurus.bapa").first().run)
    assert user["lks_id"] == bapa["id"]
    shot(page, screenshot_dir, "admin-user-bound-1440.png")
    page.goto("/admin/audit")
    body = page.locator("table.audit tbody").inner_text()
    assert "Membuat akun pengguna" in body and "Yohanes Pengurus (pengurus.bapa)" in body and "Admin Dinsos (admin.dinsos)" in body
    shot(page, screenshot_dir, "audit-log-1440.png")
