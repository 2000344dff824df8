"""The staff pages of visit reports (list, report, review form), the
berita acara PDF and the admins' checklist editor."""

from __future__ import annotations

import io
import subprocess

from pypdf import PdfReader

from tests.conftest import ARTIFACTS, form
from tests.inspections.visit_world import VisitWorld, jpeg_bytes, sign_in, world  # noqa: F401  (fixture)


def _filed_with_photo(client, world: VisitWorld) -> dict:
    headers = sign_in(client, world.users["lead"])
    visit = client.post("/api/v1/visits", json=world.key_no_body(), headers=headers).json()
    fields = {"client_id": "photo-key-0001", "question_code": "A1", "finding_ref": "f1"}
    sent = client.post(f"/api/v1/visits/{visit['id']}/photos", data=fields, files={"file": ("a.jpg", jpeg_bytes(), "image/jpeg")}, headers=headers)
    assert sent.status_code == 201
    return visit


def test_staff_see_reports_waiting_first_and_review_them_on_the_page(client, world: VisitWorld):
    headers = sign_in(client, world.users["lead"])
    visit = client.post("/api/v1/visits", json=world.key_no_body(), headers=headers).json()
    sign_in(client, world.users["staff"])
    listing = client.get("/visits")
    assert listing.status_code == 200 and "LKSA Kasih Bunda" in listing.text and "Menunggu pemeriksaan" in listing.text
    page = client.get(f"/visits/{visit['id']}")
    assert page.status_code == 200
    for text in ("Ibu Siti Aminah", "Butir kunci", "Tanda Daftar LKS sudah habis", "1 foto yang dinyatakan belum diterima", "disabled"):
        assert text in page.text, text
    refused = form(client, f"/visits/{visit['id']}/review", {"decision": "return", "comment": "", "version": "1"})
    assert refused.status_code == 422 and "Tuliskan apa yang harus diperbaiki" in refused.text
    done = form(client, f"/visits/{visit['id']}/review", {"decision": "return", "comment": "Tambahkan foto kamar.", "version": "1"})
    assert done.status_code == 303
    sign_in(client, world.users["lead"])
    mine = client.get(f"/visits/{visit['id']}")
    assert mine.status_code == 200 and "Tambahkan foto kamar." in mine.text and 'name="decision"' not in mine.text


def test_the_berita_acara_is_an_indonesian_pdf_of_an_approved_report(client, world: VisitWorld, tmp_path):
    visit = _filed_with_photo(client, world)
    sign_in(client, world.users["staff"])
    assert client.get(f"/visits/{visit['id']}/report.pdf").status_code == 409
    assert form(client, f"/visits/{visit['id']}/review", {"decision": "approve", "version": "1"}).status_code == 303
    response = client.get(f"/visits/{visit['id']}/report.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    for expected in ("BERITA ACARA KUNJUNGAN", "DINAS SOSIAL", "LKSA Kasih Bunda", "Tanda Daftar LKS sudah habis", "Perlu perbaikan",
                     "Ibu Siti Aminah", "Rina Marlina", "WIB"):
        assert expected in text, expected
    pdf_path = tmp_path / "berita-acara.pdf"
    pdf_path.write_bytes(response.content)
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "3", str(pdf_path), str(ARTIFACTS / "visit-berita-acara")], check=True)


def test_an_admin_saves_a_new_checklist_version_with_errors_next_to_the_field(client, world: VisitWorld):
    sign_in(client, world.users["admin"])
    editor = client.get("/admin/checklists/lksa/new")
    assert editor.status_code == 200 and "sections" in editor.text and "Rencana" in editor.text
    broken = form(client, "/admin/checklists/lksa/new", {"definition": '{"lks_kinds": ["lksa"], '})
    assert broken.status_code == 422 and "Ini bukan JSON yang sah" in broken.text and 'id="e-f-definition"' in broken.text
    sign_in(client, world.users["staff"])
    assert client.get("/admin/checklists").status_code == 403

