"""What each role sees, creating a user through the admin form, and the
friendly error pages, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import html_lang, main_menu, menu_groups, open_menu, sign_in

pytestmark = pytest.mark.browser


def test_menu_follows_the_role_and_staff_get_a_friendly_403(page, new_page, server, make_user):
    make_user("ani", "admin", full_name="Ani Admin")
    make_user("rudi", "staff", full_name="Rudi Staf")

    sign_in(page, "ani")
    menu = main_menu(page)
    assert "Pengguna" in menu and "Log audit" in menu, menu
    assert menu_groups(page)[-1] == "Administrasi"
    nav = page.get_by_role("navigation", name="Menu utama")
    expect(nav.get_by_role("link", name="Pengguna")).to_be_hidden()  # in its closed group
    open_menu(page, "Pengguna", group="Administrasi")
    expect(page).to_have_url(server.url + "/admin/users")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pengguna")
    expect(page.locator("nav.mainnav a[aria-current=page]")).to_have_text("Pengguna")
    expect(page.locator("nav.mainnav summary[aria-current]")).to_have_text("Administrasi")

    staff = new_page()
    sign_in(staff, "rudi")
    expect(staff.get_by_role("heading", level=1)).to_have_text("Selamat datang, Rudi Staf")
    menu = main_menu(staff)
    assert "Beranda" in menu and "LKS" in menu and "Pengguna" not in menu and "Log audit" not in menu, menu
    assert "Administrasi" not in menu_groups(staff)
    expect(staff.locator("main")).not_to_contain_text("Pengguna")
    expect(staff.locator("main")).not_to_contain_text("Log audit")

    response = staff.goto("/admin/users")
    assert response.status == 403
    expect(staff.get_by_role("heading", level=1)).to_have_text("Akses ditolak")
    expect(staff.locator("main")).to_contain_text("Peran Anda tidak mengizinkan tindakan ini.")
    expect(staff.get_by_role("link", name="Kembali ke beranda")).to_be_visible()
    assert html_lang(staff) == "id"
    # Still signed in, with the same menu: only this page was refused.
    assert main_menu(staff) == menu
    expect(staff.get_by_role("button", name="Keluar")).to_be_visible()
    assert staff.goto("/admin/audit").status == 403


def test_admin_creates_a_user_through_the_form(page, server, make_user):
    make_user("ani", "admin", full_name="Ani Admin")
    sign_in(page, "ani")
    page.goto("/admin/users")
    page.get_by_role("link", name="Pengguna baru").click()
    expect(page).to_have_url(server.url + "/admin/users/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pengguna baru")

    page.get_by_label("Nama pengguna").fill("sari.inspeksi")
    page.get_by_label("Nama lengkap").fill("Sari Wulandari")
    page.get_by_label("Peran").select_option(label="Inspektur")
    password = page.get_by_label("Kata sandi awal")
    password.fill("pendek1")
    expect(password).not_to_have_attribute("aria-invalid", "true")

    # Too short: the form comes back with the problem marked at the field.
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/admin/users")) as posted:
        page.get_by_role("button", name="Buat pengguna").click()
    assert posted.value.status == 422
    expect(page.get_by_role("alert")).to_have_text("Perbaiki isian yang ditandai.")
    password = page.get_by_label("Kata sandi awal")
    expect(password).to_have_attribute("aria-invalid", "true")
    error = page.locator("#e-password")
    expect(error).to_have_text("Kata sandi minimal 10 karakter.")
    expect(error).to_be_visible()
    assert "e-password" in password.get_attribute("aria-describedby").split()
    expect(password).to_have_value("")  # never sent back
    # What was typed elsewhere is kept and not marked.
    expect(page.get_by_label("Nama pengguna")).to_have_value("sari.inspeksi")
    expect(page.get_by_label("Nama pengguna")).not_to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Nama lengkap")).to_have_value("Sari Wulandari")
    expect(page.get_by_role("combobox", name="Peran")).to_have_value("inspector")

    # A good password: the new user's page.
    password.fill("Sawah-Hijau-2024")
    page.get_by_role("button", name="Buat pengguna").click()
    expect(page).to_have_url(re.compile(r"/admin/users/\d+\?created=1$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("sari.inspeksi")
    expect(page.get_by_role("status")).to_have_text("Pengguna telah dibuat.")
    expect(page.get_by_label("Nama lengkap")).to_have_value("Sari Wulandari")
    expect(page.get_by_role("combobox", name="Peran")).to_have_value("inspector")

    page.goto("/admin/users")
    row = page.get_by_role("row").filter(has_text="sari.inspeksi")
    expect(row).to_contain_text("Sari Wulandari")
    expect(row).to_contain_text("Inspektur")


def test_missing_pages_are_friendly(page, make_user):
    response = page.goto("/tidak-ada-halaman-ini")
    assert response.status == 404
    assert html_lang(page) == "id"
    expect(page).to_have_title(re.compile(r"404"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Tidak ditemukan")
    expect(page.locator("main")).to_contain_text("Halaman atau data yang Anda minta tidak ada.")
    expect(page.get_by_role("link", name="Kembali ke beranda")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Traceback")

    # A missing record behind a real route looks the same.
    make_user("ani", "admin")
    sign_in(page, "ani")
    response = page.goto("/admin/users/987654")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Tidak ditemukan")
    page.get_by_role("link", name="Kembali ke beranda").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Selamat datang")
