"""The guided registration on the LKS page: the step indicator says what is
missing and who must act, only the actions possible now are offered, the
messages say what happened and what comes next, several documents are
reviewed in one pass, and the Tanda Daftar is issued after a confirmation.
Also: the checklist's own upload forms without JavaScript, and the manager's
account page without staff-only jargon."""

from __future__ import annotations

import io
import re
from datetime import datetime, timezone

import pytest

from registry import documents
from registry.tables import Document, Lks
from sigap.errors import ValidationError
from sigap.tables import AuditEvent
from tests.conftest import csrf_token, form, login
from tests.inspections.visit_rows import approved_verification_visit
from tests.registry.test_workflow import STAFF, step

NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def upload(call, app, lks, doc_type: str) -> dict:
    row, _created = call(
        documents.upload, STAFF, lks["id"], doc_type=doc_type, filename=f"{doc_type}.pdf",
        fileobj=io.BytesIO(b"%PDF-1.4 " + doc_type.encode()), now=NOW, storage=app.state.storage, max_bytes=10**6,
    )
    return row


def buttons(html: str) -> set[str]:
    return set(re.findall(r'name="action" value="(\w+)"', html))


def test_step_indicator_missing_items_and_offered_actions(client, app, call, make_user, make_lks):
    make_user("petugas", "staff")
    lks = make_lks("LKSA Terpandu", legal_entity=False, kind="other")
    login(client, "petugas")

    page = client.get(f"/lks/{lks['id']}").text
    assert 'aria-current="step"' in page
    assert "Belum mengajukan: permohonan perlu diajukan." in text_of(page)
    assert buttons(page) >= {"submit"}

    r = form(client, f"/lks/{lks['id']}/workflow", {"action": "submit"})
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "Permohonan diajukan; menunggu pemeriksaan dokumen oleh Dinas Sosial." in page
    assert "Selesai." not in page
    assert "Petugas Dinas Sosial memulai pemeriksaan dokumen." in text_of(page)
    assert "Pengurus LKS mengunggah: 11 dokumen (lihat “Dokumen wajib” di bawah)." in text_of(page)

    form(client, f"/lks/{lks['id']}/workflow", {"action": "start_document_check"})
    page = client.get(f"/lks/{lks['id']}").text
    # Field verification is not offered while documents are missing; the page says which and who.
    assert "start_field_verification" not in buttons(page)
    assert "Pengurus LKS mengunggah:" in text_of(page)

    required = documents.required_types("other", False)
    rows = [upload(call, app, lks, t) for t in required]
    page = client.get(f"/lks/{lks['id']}").text
    assert "Petugas Dinas Sosial memeriksa:" in text_of(page) and "start_field_verification" not in buttons(page)

    # One pass verifies every document.
    data = {f"verdict-{r['id']}": "verified" for r in rows}
    r = form(client, f"/lks/{lks['id']}/documents/review", data)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert f"Hasil pemeriksaan disimpan: {len(rows)} terverifikasi, 0 ditolak." in page
    assert "Semua dokumen wajib sudah terverifikasi." in page and "start_field_verification" in buttons(page)

    r = form(client, f"/lks/{lks['id']}/workflow", {"action": "start_field_verification"})
    page = client.get(r.headers["location"]).text
    assert "Verifikasi lapangan dimulai" in page
    assert "approve" not in buttons(page)  # no approved visit report yet
    assert "belum ada laporan kunjungan verifikasi lapangan yang disetujui" in text_of(page).lower()

    # Approving without the visit report: no confirmation, the refusal says why.
    r = form(client, f"/lks/{lks['id']}/workflow", {"action": "approve"})
    assert r.status_code == 409 and "Terbitkan Tanda Daftar?" not in r.text

    call(approved_verification_visit, lks["id"], now=NOW)
    page = client.get(f"/lks/{lks['id']}").text
    assert "approve" in buttons(page) and "Verifikasi lapangan sudah selesai." in page

    # Approving asks first and changes nothing until confirmed.
    r = form(client, f"/lks/{lks['id']}/workflow", {"action": "approve"})
    assert r.status_code == 200 and "Terbitkan Tanda Daftar?" in r.text and "/TD-LKS/36.71/" in r.text
    assert 'name="confirmed" value="1"' in r.text
    assert call(Lks.select(Lks.registration_status).where(Lks.id == lks["id"]).first().run)["registration_status"] == "field_verification"
    r = form(client, f"/lks/{lks['id']}/workflow", {"action": "approve", "confirmed": "1"})
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "Pendaftaran disetujui dan Tanda Daftar diterbitkan" in page
    assert page.count("step-done") == 4 and "Terdaftar: Tanda Daftar berlaku." in page


def test_one_pass_review_marks_the_reason_of_the_document_rejected_without_one(client, app, call, make_user, make_lks):
    make_user("petugas", "staff")
    lks = make_lks("LKSA Periksa Sekaligus")
    a, b, c = (upload(call, app, lks, t) for t in ("npwp", "domicile", "site_plan"))
    login(client, "petugas")
    r = form(client, f"/lks/{lks['id']}/documents/review", {
        f"verdict-{a['id']}": "verified",
        f"verdict-{b['id']}": "rejected", f"reason-{b['id']}": "",
        f"verdict-{c['id']}": "rejected", f"reason-{c['id']}": "Denah tidak terbaca, mohon unggah ulang.",
    })
    assert r.status_code == 422
    # The error sits on b's own reason field; what was typed is kept; nothing was saved.
    assert f'id="e-reason-{b["id"]}"' in r.text and f'id="e-reason-{c["id"]}"' not in r.text
    assert re.search(rf'id="reason-{b["id"]}"[^>]*aria-invalid="true"', r.text)
    assert "Denah tidak terbaca, mohon unggah ulang." in r.text
    assert "nothing was saved" not in r.text and "tidak ada yang disimpan" in r.text
    statuses = {d["id"]: d["status"] for d in call(Document.select(Document.id, Document.status).run)}
    assert set(statuses.values()) == {"pending"}

    r = form(client, f"/lks/{lks['id']}/documents/review", {
        f"verdict-{a['id']}": "verified", f"verdict-{b['id']}": "",
        f"verdict-{c['id']}": "rejected", f"reason-{c['id']}": "Denah tidak terbaca, mohon unggah ulang.",
    })
    assert r.status_code == 303
    rows = {d["id"]: d for d in call(Document.select().run)}
    assert rows[a["id"]]["status"] == "verified" and rows[b["id"]]["status"] == "pending"
    assert rows[c["id"]]["status"] == "rejected" and rows[c["id"]]["review_reason"] == "Denah tidak terbaca, mohon unggah ulang."
    audited = [e["action"] for e in call(AuditEvent.select(AuditEvent.action).where(AuditEvent.entity_type == "document").run)]
    assert audited.count("document.verify") == 1 and audited.count("document.reject") == 1


def test_review_many_refuses_documents_of_another_lks_and_empty_passes(call, app, make_lks):
    one, other = make_lks("LKSA Satu"), make_lks("LKSA Dua")
    foreign = upload(call, app, other, "npwp")
    from sigap.errors import NotFound

    with pytest.raises(NotFound):
        call(documents.review_many, STAFF, one["id"], {foreign["id"]: ("verified", "")}, now=NOW)
    with pytest.raises(ValidationError):
        call(documents.review_many, STAFF, one["id"], {}, now=NOW)
    assert call(Document.select(Document.status).where(Document.id == foreign["id"]).first().run)["status"] == "pending"


def test_a_manager_cannot_review_in_one_pass(client, app, call, make_user):
    manager = make_user("pengurus", "manager")
    row = upload(call, app, {"id": manager["lks_id"]}, "npwp")
    login(client, "pengurus")
    r = form(client, f"/lks/{manager['lks_id']}/documents/review", {f"verdict-{row['id']}": "verified"})
    assert r.status_code == 403


def test_checklist_items_upload_without_javascript(client, call, make_user):
    manager = make_user("pengurus", "manager")
    lks_id = manager["lks_id"]
    login(client, "pengurus")
    page = client.get(f"/lks/{lks_id}").text
    # Every missing item is its own form with the type set and the limit for the device's check.
    assert page.count('class="item-upload"') == len(documents.required_types("lksa", True))
    assert '<input type="hidden" name="doc_type" value="npwp">' in page
    assert re.search(r'data-max-bytes="\d+"', page)
    assert re.search(r'id="file-photo"[^>]*capture="environment"', page.replace("\n", " "))
    assert "checklist-upload.js" in page
    r = client.post(
        f"/lks/{lks_id}/documents", files={"file": ("npwp.pdf", b"%PDF-1.4 npwp")},
        data={"doc_type": "npwp", "item": "1", "_csrf_token": csrf_token(client)}, follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == f"/lks/{lks_id}?uploaded=npwp#item-npwp"
    page = client.get(r.headers["location"]).text
    item = re.search(r'<li class="check-item state-(\w+)" id="item-npwp">(.*?)</li>', page, re.S)
    assert item.group(1) == "pending" and "Sudah diunggah; menunggu verifikasi oleh Dinas Sosial." in item.group(2)
    assert "item-upload" not in item.group(2)  # nothing more to upload there
    # A refused file: the message sits in that item.
    r = client.post(
        f"/lks/{lks_id}/documents", files={"file": ("x.txt", b"just text")},
        data={"doc_type": "domicile", "item": "1", "_csrf_token": csrf_token(client)}, follow_redirects=False,
    )
    assert r.status_code == 422
    item = re.search(r'id="item-domicile">(.*?)</li>', r.text, re.S).group(1)
    assert 'id="e-file-domicile"' in item and 'aria-invalid="true"' in item


def test_manager_account_and_home_show_no_api_tokens(client, make_user):
    make_user("pengurus", "manager")
    make_user("petugas", "staff")
    login(client, "pengurus")
    for path in ("/account", "/"):
        page = client.get(path).text
        assert "API" not in text_of(page) and "token" not in text_of(page).lower(), path
    login(client, "petugas")
    assert "Token API" in client.get("/account").text
