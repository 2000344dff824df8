"""The registry in a real browser: staff register an LKS through the form,
upload a document, verify it; the manager sees their own LKS only."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser


def test_staff_registers_an_lks_and_handles_a_document(page, make_user, tmp_path):
    make_user("rina", "staff")
    sign_in(page, "rina")
    page.goto("/lks/new")
    page.get_by_label("Nama LKS").fill("LKSA Pelita Harapan")
    page.locator("#f-kind").select_option("lksa")
    page.get_by_label("Nama yayasan").fill("Yayasan Pelita Harapan")
    page.get_by_label("NPWP").fill("01.234.567.8-901.000")
    page.get_by_label("Alamat jalan").fill("Jl. Cempaka No. 9")
    page.get_by_label("Kelurahan").select_option("36.71.11.1005")
    page.get_by_label("Kapasitas (tempat)").fill("20")
    page.get_by_label("Penghuni 6–12 Laki-laki").fill("12")
    page.get_by_label("Penghuni 6–12 Perempuan").fill("11")
    page.get_by_role("button", name="Daftarkan LKS").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("LKSA Pelita Harapan")
    expect(page.get_by_text("LKS telah dicatat di SIGAP.")).to_be_visible()
    expect(page.get_by_text("Catatan: jumlah penghuni melebihi kapasitas.")).to_be_visible()

    bad = tmp_path / "foto.pdf"
    bad.write_bytes(b"MZ not a pdf at all")
    # The checklist item is the upload form: its own button, the type already set.
    item = page.locator("#item-npwp")
    with page.expect_file_chooser() as chooser:
        item.get_by_role("button", name="Unggah").click()
    chooser.value.set_files(str(bad))
    expect(item.get_by_text("Jenis berkas ini tidak diterima.")).to_be_visible()

    good = tmp_path / "npwp.pdf"
    good.write_bytes(b"%PDF-1.4\n% NPWP yayasan\n%%EOF\n")
    with page.expect_file_chooser() as chooser:
        item.get_by_role("button", name="Unggah").click()
    chooser.value.set_files(str(good))
    expect(item.get_by_text("Sudah diunggah; menunggu verifikasi oleh Dinas Sosial.")).to_be_visible()
    page.reload()
    page.locator("tr", has_text="npwp.pdf").get_by_label("Verifikasi").check()
    page.get_by_role("button", name="Simpan hasil pemeriksaan").click()
    expect(page.locator("tr", has_text="npwp.pdf").get_by_text("Terverifikasi")).to_be_visible()
    with page.expect_download() as download:
        page.locator("#item-npwp").get_by_role("link", name="npwp.pdf").click()
    assert download.value.suggested_filename == "npwp.pdf"


def test_manager_sees_only_their_lks(page, make_user, make_lks):
    make_lks("LKSA Tetangga Sebelah")
    make_user("pengurus", "manager", full_name="Maria")
    sign_in(page, "pengurus")
    page.goto("/lks")
    expect(page.get_by_role("heading", level=1)).to_have_text("LKS milik pengurus")
    expect(page.get_by_role("link", name="LKS saya")).to_be_visible()
    expect(page.get_by_text("LKSA Tetangga Sebelah")).to_have_count(0)
