"""Full-page screenshots of the shell's pages at tablet and desktop sizes,
into test-artifacts/screenshots/<page>-<viewport>.png, for people to look at;
and the one layout rule a machine can check: no sideways scrolling."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser

VIEWPORTS = {
    "tablet-portrait": {"width": 800, "height": 1280},
    "tablet-landscape": {"width": 1280, "height": 800},
    "desktop": {"width": 1440, "height": 900},
}

# name, path, the page's main heading (Indonesian)
PAGES = [
    ("home", "/", "Selamat datang, Hj. Siti Nurhaliza Kusumawardhani"),
    ("admin-users", "/admin/users", "Pengguna"),
    ("admin-audit", "/admin/audit", "Log audit"),
    ("account", "/account", "Akun saya"),
    ("lks-list", "/lks?kecamatan=36.71.11", "Daftar LKS"),
    ("lks-detail", "/lks/{lks}", "Panti Asuhan Kasih Bunda"),
    ("lks-new", "/lks/new", "Daftarkan LKS baru"),
]

OVERFLOW = """() => {
  const d = document.documentElement;
  return {scrollWidth: d.scrollWidth, clientWidth: d.clientWidth};
}"""


def _seed(make_user, call, make_lks) -> int:
    """Enough realistic data that tables and menus have something to show."""
    from sigap import tokens
    from sigap.audit import Actor
    from sigap.tables import Role

    admin = make_user("siti.admin", "admin", full_name="Hj. Siti Nurhaliza Kusumawardhani")
    make_user("rina", "staff", full_name="Rina Marlina", email="rina.marlina@dinsos.tangerangkota.go.id")
    make_user("agus.pinang", "inspector", full_name="Agus Setiawan")
    make_user("satpolpp.kunciran", "partner", full_name="Bambang Prasetyo (Satpol PP Kec. Pinang)")
    lks = make_lks("Panti Asuhan Kasih Bunda", yayasan_name="Yayasan Kasih Bunda", phone="021-5551234",
                   residents={"m_6_12": 8, "f_6_12": 9, "m_13_17": 5, "f_13_17": 6}, services=["residential_care", "education"])
    make_lks("LKSA Cahaya Harapan", kelurahan_code="36.71.11.1001")
    make_lks("Panti Werdha Budi Luhur", kind="elderly", kelurahan_code="36.71.11.1007")
    make_user("pengurus.lksa-kasih-bunda", "manager", full_name="Maria Fransiska", lks_id=lks["id"])
    actor = Actor(user_id=admin["id"], username=admin["username"], role=Role.admin)
    now = datetime.now(timezone.utc)
    call(tokens.create_token, actor, name="Tablet inspeksi Kecamatan Pinang", now=now, expires_in_days=90)
    call(tokens.create_token, actor, name="Integrasi SIKS-NG", now=now)
    return lks["id"]


def _shoot(page, name: str, viewport: str, directory) -> str | None:
    """Screenshot the page; a sentence if it scrolls sideways, else None."""
    path = directory / f"{name}-{viewport}.png"
    page.screenshot(path=str(path), full_page=True)
    size = page.evaluate(OVERFLOW)
    if size["scrollWidth"] > size["clientWidth"]:
        return f"{name} scrolls sideways at {viewport}: {size} (see {path})"
    return None


def test_screenshots_at_tablet_and_desktop_sizes(new_page, make_user, make_lks, call, screenshot_dir):
    lks_id = _seed(make_user, call, make_lks)
    problems: list[str] = []
    for viewport, size in VIEWPORTS.items():
        page = new_page(viewport=size, locale="id-ID")  # a fresh context per size
        page.goto("/login")
        expect(page.get_by_role("heading", level=1)).to_have_text("Masuk ke SIGAP")
        problems.append(_shoot(page, "login", viewport, screenshot_dir))

        sign_in(page, "siti.admin")
        for name, path, heading in PAGES:
            response = page.goto(path.format(lks=lks_id))
            assert response.status == 200, (path, response.status)
            expect(page.get_by_role("heading", level=1)).to_have_text(heading)
            problems.append(_shoot(page, name, viewport, screenshot_dir))
        page.context.close()
    # Every screenshot is taken first, so all of them can be looked at.
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)
