"""The public register and the certificate check in a real browser, at the
three sizes the public uses (desktop, small laptop, phone): screenshots into
test-artifacts/screenshots/public-*.png for people to look at, no sideways
scrolling, no cookie, and the verify form used as a person would."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

VIEWPORTS = {"1440x900": (1440, 900), "1024x768": (1024, 768), "390x844": (390, 844)}
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def _seed(call, make_lks) -> str:
    """A small register in every state; returns the check code of a valid certificate."""
    from registry.public import services
    from registry.tables import Lks

    today = datetime.now(timezone.utc).date()
    rows = [
        ("Panti Asuhan Kasih Bunda", "lksa", "36.71.11.1005", "registered", today - timedelta(days=200), "accredited", "A"),
        ("Panti Asuhan Cahaya Harapan", "lksa", "36.71.11.1001", "registered", today - timedelta(days=900), "in_process", None),
        ("Panti Asuhan Nurul Iman", "lksa", "36.71.11.1007", "expired", today - timedelta(days=1200), "none", None),
        ("Panti Asuhan Bina Insani", "lksa", "36.71.11.1005", "suspended", today - timedelta(days=400), "accredited", "B"),
        ("Panti Asuhan Al-Hidayah Sejahtera Bersama Kunciran Indah", "lksa", "36.71.11.1001", "applied", None, "none", None),
        ("Panti Asuhan Tunas Bangsa", "lksa", "36.71.11.1007", "revoked", today - timedelta(days=700), "none", None),
    ]
    code = ""
    for i, (name, kind, kelurahan, status, registered_on, accreditation, grade) in enumerate(rows, start=1):
        lks = make_lks(name, kind=kind, kelurahan_code=kelurahan, phone="0812 3456 7890", head_name="Ibu Rahasia",
                       residents={"m_6_12": 8, "f_6_12": 9})
        changes = {Lks.registration_status: status, Lks.accreditation_status: accreditation, Lks.accreditation_grade: grade}
        if registered_on:
            changes.update({Lks.registered_on: registered_on, Lks.valid_until: registered_on + timedelta(days=3 * 365),
                            Lks.certificate_number: None if status == "revoked" else f"{i:04d}/TD-LKS/36.71/{registered_on.year}"})
        if grade:
            changes[Lks.accreditation_valid_until] = date(today.year + 3, 6, 30)
        call(Lks.update(changes).where(Lks.id == lks["id"]).run)
        if i == 1:
            row = call(Lks.select().where(Lks.id == lks["id"]).first().run)
            code = call(services.code_for_certificate, row, now=datetime.now(timezone.utc))
    return code


def test_public_pages_at_three_sizes(new_page, call, make_lks, screenshot_dir):
    from registry.public import services

    code = _seed(call, make_lks)
    problems = []
    for name, (width, height) in VIEWPORTS.items():
        page = new_page(viewport={"width": width, "height": height}, locale="id-ID")
        page.goto("/login")
        page.get_by_role("link", name="Register publik LKS").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Register publik LKS")
        page.get_by_label("Nama LKS").fill("panti asuhan")
        page.get_by_label("Kecamatan").select_option(label="Pinang")
        page.get_by_role("button", name="Cari").click()
        expect(page.get_by_role("heading", level=2, name="Panti Asuhan Kasih Bunda")).to_be_visible()
        assert "0812" not in page.content() and "Ibu Rahasia" not in page.content()
        page.screenshot(path=str(screenshot_dir / f"public-register-{name}.png"), full_page=True)
        problems.append(("register", name, page.evaluate(OVERFLOW)))

        page.goto("/verify")
        page.get_by_label("Kode cek").fill(f"{code[:4].lower()} {code[4:8].lower()}-{code[8:]}")
        page.get_by_role("button", name="Periksa").click()
        expect(page.get_by_role("heading", level=2, name="Asli dan berlaku")).to_be_visible()
        page.screenshot(path=str(screenshot_dir / f"public-verify-genuine-{name}.png"), full_page=True)
        problems.append(("verify genuine", name, page.evaluate(OVERFLOW)))

        forged = services.code_for("9999/TD-LKS/36.71/2020", date(2020, 1, 2))  # well-formed, never issued
        page.goto(f"/verify/{forged}")
        expect(page.get_by_role("heading", level=2).first).to_contain_text("Tidak asli")
        page.screenshot(path=str(screenshot_dir / f"public-verify-not-genuine-{name}.png"), full_page=True)
        problems.append(("verify not genuine", name, page.evaluate(OVERFLOW)))
    assert [p for p in problems if p[2] > 0] == [], "scrolls sideways"
    fresh = new_page(viewport={"width": 390, "height": 844}, locale="id-ID")
    for path in ("/register?q=kasih", "/verify", f"/verify/{code}", "/verify?code=salah"):
        fresh.goto(path)
    assert fresh.context.cookies() == [], "a public page set a cookie"
