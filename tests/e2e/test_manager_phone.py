"""The LKS manager on a phone (390×844): no page of theirs scrolls sideways,
long numbers wrap, the document checklist is the upload form (the item's
own "Unggah" button, the size checked on the device, a progress bar, the
item itself changing state); and the staff's LKS page with the step
indicator on a desktop. Screenshots go to test-artifacts/screenshots and
/tmp/shots/lkspage for people to look at."""

from __future__ import annotations

import io
from datetime import datetime, timezone
from pathlib import Path

import pytest

from registry import documents
from registry.tables import Document, Lks
from sigap.audit import Actor
from sigap.tables import Role
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
SHOTS = Path("/tmp/shots/lkspage")
STAFF = Actor(user_id=None, username="petugas", role=Role.staff)
WIDTH = "() => ({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82"
)


def shot(page, screenshot_dir: Path, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for folder in (screenshot_dir, SHOTS):
        page.screenshot(path=str(folder / name), full_page=True)


def _seed(call, make_user, storage) -> dict:
    manager = make_user("pengurus.kasih-bunda", "manager", full_name="Maria Fransiska Kusumawardhani")
    lks_id = manager["lks_id"]
    call(Lks.update({
        Lks.name: "Panti Sosial Asuhan Anak Kasih Bunda Kunciran Indah",
        Lks.npwp: "0123456789012345",
        Lks.phone: "021555123456789",
        Lks.address: "Jl. Kunciran Indah Raya Blok C-12/No.34567890123456789 (belakang Masjid Al-Ikhlas)",
    }).where(Lks.id == lks_id).run)
    from tests.registry.test_workflow import step

    lks = {"id": lks_id}
    step(call, STAFF, lks, "submit")
    step(call, STAFF, lks, "start_document_check")
    step(call, STAFF, lks, "return_to_applicant",
         reason="Dokumen-dokumen-berikut-belum-lengkap-dan-harus-diunggah-ulang-sebelum-tanggal-31-12-2026")
    now = datetime.now(timezone.utc)
    for doc_type in ("org_structure", "domicile", "site_plan"):
        row, _created = call(
            documents.upload, STAFF, lks_id, doc_type=doc_type,
            filename=f"{doc_type}-scan-halaman-1-sampai-12-versi-final-revisi-ketiga-20261122.pdf",
            fileobj=io.BytesIO(b"%PDF-1.4 " + doc_type.encode()), now=now, storage=storage, max_bytes=10**6,
        )
        if doc_type == "site_plan":
            call(documents.review, STAFF, row["id"], verdict="rejected", reason="Denah tidak terbaca; foto ulang dengan cahaya cukup.", now=now)
        elif doc_type == "domicile":
            call(documents.review, STAFF, row["id"], verdict="verified", now=now)
    return manager


def test_manager_pages_fit_a_phone_and_the_checklist_uploads(new_page, make_user, call, app, screenshot_dir, tmp_path):
    manager = _seed(call, make_user, app.state.storage)
    lks_id = manager["lks_id"]
    page = new_page(viewport=PHONE, locale="id-ID", is_mobile=True, has_touch=True)
    sign_in(page, "pengurus.kasih-bunda")

    menu = page.locator("nav.mainnav a").all_inner_texts()
    paths = sorted({page.locator("nav.mainnav a").nth(i).get_attribute("href") for i in range(len(menu))}
                   | {"/", f"/lks/{lks_id}", f"/lks/{lks_id}/edit", "/account"})
    for path in paths:
        page.goto(path)
        width = page.evaluate(WIDTH)
        assert width["scroll"] <= 390, (path, width)
        text = page.locator("main").inner_text()
        assert "API" not in text and "token" not in text.lower(), path
        slug = path.strip("/").replace("/", "-").replace(str(lks_id), "id") or "home"
        shot(page, screenshot_dir, f"manager-{slug}-390.png")

    page.goto(f"/lks/{lks_id}")
    shot(page, screenshot_dir, "lks-manager-390.png")
    rejected = page.locator("#item-site_plan")
    assert "Denah tidak terbaca" in rejected.inner_text()
    assert rejected.locator("button.upload-button").is_visible()
    assert page.locator("#item-domicile .upload-button").count() == 0  # verified: nothing to upload

    # Too large for the server: refused on the device, nothing sent.
    limit = int(page.locator("#item-npwp form").get_attribute("data-max-bytes"))
    big = tmp_path / "npwp-besar.pdf"
    with big.open("wb") as fh:
        fh.write(b"%PDF-1.4 ")
        fh.truncate(limit + 1)
    before = call(Document.count().run)
    with page.expect_file_chooser() as chooser:
        page.locator("#item-npwp .upload-button").click()
    chooser.value.set_files(str(big))
    status = page.locator("#item-npwp .upload-status")
    assert "lebih besar dari" in status.inner_text() and "tidak dikirim" in status.inner_text()
    assert call(Document.count().run) == before

    # The rejected site plan again, from the camera: the item shows the result.
    photo = tmp_path / "denah.png"
    photo.write_bytes(PNG)
    assert rejected.locator("input[type=file]").get_attribute("capture") is None  # a plan: camera or files
    assert page.locator("#item-photo input[type=file]").get_attribute("capture") == "environment"
    with page.expect_file_chooser() as chooser:
        rejected.locator(".upload-button").click()
    with page.expect_response(lambda r: r.url.endswith(f"/api/v1/lks/{lks_id}/documents") and r.request.method == "POST") as answer:
        chooser.value.set_files(str(photo))
    assert answer.value.status == 201
    item = page.locator("#item-site_plan")
    item.locator(".upload-done").wait_for()
    assert "state-pending" in item.get_attribute("class")
    assert "Menunggu verifikasi" in item.locator(".badge").inner_text()
    assert "Sudah diunggah; menunggu verifikasi oleh Dinas Sosial." in item.inner_text()
    assert "denah.png" in item.inner_text() and "Denah tidak terbaca" not in item.inner_text()
    assert page.evaluate(WIDTH)["scroll"] <= 390
    item.scroll_into_view_if_needed()
    shot(page, screenshot_dir, "lks-manager-upload-result-390.png")
    page.screenshot(path=str(SHOTS / "lks-manager-upload-result-viewport-390.png"))
    newest = call(Document.select().where(Document.doc_type == "site_plan").order_by(Document.id, ascending=False).first().run)
    assert newest["status"] == "pending" and newest["filename"] == "denah.png"
    # After a reload the server says the same.
    page.reload()
    assert "state-pending" in page.locator("#item-site_plan").get_attribute("class")


def test_upload_progress_bar_shows_while_sending(new_page, make_user, call, tmp_path, screenshot_dir):
    manager = make_user("pengurus.lambat", "manager")
    page = new_page(viewport=PHONE, locale="id-ID", is_mobile=True, has_touch=True)
    sign_in(page, "pengurus.lambat")
    page.goto(f"/lks/{manager['lks_id']}")
    # Hold the request until the bar has been seen.
    held = []
    page.route("**/api/v1/lks/*/documents", lambda route: held.append(route))
    pdf = tmp_path / "npwp.pdf"
    pdf.write_bytes(b"%PDF-1.4 " + b"x" * 200_000)
    with page.expect_file_chooser() as chooser:
        page.locator("#item-npwp .upload-button").click()
    chooser.value.set_files(str(pdf))
    bar = page.locator("#item-npwp .upload-progress")
    bar.wait_for(state="visible")
    assert "Mengunggah" in page.locator("#item-npwp .upload-status").inner_text()
    page.locator("#item-npwp").scroll_into_view_if_needed()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "lks-manager-uploading-390.png"))
    assert page.locator("#item-npwp .upload-button").is_disabled()
    page.wait_for_timeout(100)
    held[0].continue_()
    page.locator("#item-npwp .upload-done").wait_for()
    assert "state-pending" in page.locator("#item-npwp").get_attribute("class")


# The contrast ratio (WCAG) of an element's text on its own background.
CONTRAST = """el => {
  const lum = c => c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => v / 255)
    .map(v => v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const s = getComputedStyle(el), a = lum(s.color), b = lum(s.backgroundColor);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def test_staff_lks_page_with_the_step_indicator(new_page, make_user, make_lks, call, app, screenshot_dir):
    make_user("rina", "staff", full_name="Rina Marlina")
    lks = make_lks("Panti Asuhan Kasih Bunda", yayasan_name="Yayasan Kasih Bunda")
    from tests.registry.test_workflow import step

    for action in ("submit", "start_document_check"):
        step(call, STAFF, lks, action)
    now = datetime.now(timezone.utc)
    for doc_type in documents.required_types("lksa", True)[:9]:
        call(documents.upload, STAFF, lks["id"], doc_type=doc_type, filename=f"{doc_type}.pdf",
             fileobj=io.BytesIO(b"%PDF-1.4 " + doc_type.encode()), now=now, storage=app.state.storage, max_bytes=10**6)
    page = new_page(viewport=DESKTOP, locale="id-ID")
    sign_in(page, "rina")
    page.goto(f"/lks/{lks['id']}")
    current = page.locator(".steps [aria-current=step]")
    assert "Pemeriksaan dokumen" in current.inner_text()
    # Readable (white on the brand colour, not on light grey) and numbered once.
    assert current.evaluate(CONTRAST) >= 4.5
    assert current.evaluate("el => getComputedStyle(el, '::before').content") in ("none", "normal")
    assert "Petugas Dinas Sosial memeriksa:" in page.locator(".guide").inner_text()
    assert page.locator("button[value=start_field_verification]").count() == 0
    assert page.evaluate(WIDTH)["scroll"] <= DESKTOP["width"]
    shot(page, screenshot_dir, "lks-staff-steps-1440.png")
    # One pass: verify two, reject one without a reason -> the error is on that row.
    rows = page.locator(".review-all tbody tr")
    rows.nth(0).locator("input[value=verified]").check()
    rows.nth(1).locator("input[value=verified]").check()
    rows.nth(2).locator("input[value=rejected]").check()
    page.locator(".review-all button[type=submit]").click()
    error = page.locator(".review-all .error-text")
    assert error.count() == 1 and error.first.is_visible()
    # The page lands at the review, not at its top ~3,000 px above the error.
    assert page.url.endswith("#review")
    assert page.locator("#review").evaluate("el => el.getBoundingClientRect().top") < DESKTOP["height"] / 3
    assert error.first.evaluate("el => el.getBoundingClientRect().bottom") < DESKTOP["height"]
    page.locator(".review-all tbody tr").nth(2).locator("input[placeholder]").fill("Tidak terbaca, mohon unggah ulang.")
    page.locator(".review-all button[type=submit]").click()
    page.wait_for_url(f"**/lks/{lks['id']}?reviewed=2-1#documents")
    shot(page, screenshot_dir, "lks-staff-reviewed-1440.png")
    # An upload without a type fails at the documents, with its error by the select.
    page.locator(".more-upload summary").click()
    page.locator("#f-file").set_input_files(files=[{"name": "foto.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 x"}])
    page.locator(".upload-form button[type=submit]").click()
    page.wait_for_url("**/documents#documents")
    assert page.locator("#documents").evaluate("el => el.getBoundingClientRect().top") < DESKTOP["height"] / 3
    assert page.locator("#e-doc_type").is_visible()


def test_a_whole_registration_counted_in_clicks_and_page_loads(new_page, make_user, call, tmp_path):
    """Applied → registered as the manager (phone) and staff (desktop) do it;
    the field verification visit itself is the inspector's and not counted.
    Clicks are taps on the page (not the phone's file picker); page loads
    are the browser's ``load`` events."""
    from tests.inspections.visit_rows import approved_verification_visit

    manager = make_user("pengurus.hitung", "manager")
    make_user("petugas.hitung", "staff")
    lks_id = manager["lks_id"]
    pdf = tmp_path / "berkas.pdf"
    pdf.write_bytes(b"%PDF-1.4 berkas")
    counts = {"clicks": 0, "loads": 0}

    def click(locator):
        counts["clicks"] += 1
        locator.click()

    phone = new_page(viewport=PHONE, locale="id-ID", is_mobile=True, has_touch=True)
    desk = new_page(viewport=DESKTOP, locale="id-ID")
    sign_in(phone, "pengurus.hitung")
    sign_in(desk, "petugas.hitung")
    for page in (phone, desk):
        page.on("load", lambda _page: counts.__setitem__("loads", counts["loads"] + 1))

    # The manager applies and uploads every required document from the checklist.
    phone.goto(f"/lks/{lks_id}")
    with phone.expect_navigation():
        click(phone.locator("button[value=submit]"))
    assert "Permohonan diajukan; menunggu pemeriksaan dokumen" in phone.locator("main").inner_text()
    while phone.locator("form.item-upload").count():
        item = phone.locator("#" + phone.locator("form.item-upload").first.evaluate("f => f.closest('li').id"))
        with phone.expect_file_chooser() as chooser:
            click(item.locator(".upload-button"))
        chooser.value.set_files(str(pdf))
        item.locator(".upload-done").wait_for()
    # Staff: document check, one review pass, field verification.
    counts["clicks"] += 1  # the LKS in the list
    desk.goto(f"/lks/{lks_id}")
    with desk.expect_navigation():
        click(desk.locator("button[value=start_document_check]"))
    for radio in desk.locator(".review-all input[value=verified]").all():
        click(radio)
    with desk.expect_navigation():
        click(desk.locator(".review-all button[type=submit]"))
    with desk.expect_navigation():
        click(desk.locator("button[value=start_field_verification]"))
    call(approved_verification_visit, lks_id, now=datetime.now(timezone.utc))
    counts["clicks"] += 1  # back to the LKS from the list
    desk.goto(f"/lks/{lks_id}")
    with desk.expect_navigation():
        click(desk.locator("button[value=approve]"))
    with desk.expect_navigation():
        click(desk.locator("form button.primary"))
    assert call(Lks.select(Lks.registration_status).where(Lks.id == lks_id).first().run)["registration_status"] == "registered"
    required = len(documents.required_types("lksa", True))
    report = f"applied → registered: {counts['clicks']} clicks, {counts['loads']} page loads ({required} documents)"
    print(report)
    (SHOTS / "click-count.txt").write_text(report + "\n")
    assert counts["clicks"] <= 2 * required + 10 and counts["loads"] <= 9, report
