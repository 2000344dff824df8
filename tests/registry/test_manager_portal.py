"""An LKS manager sees and edits only their own LKS; any other is 404."""

from __future__ import annotations

import io
from datetime import datetime, timezone

from registry import documents
from registry.tables import Lks
from sigap.audit import Actor
from sigap.tables import Role
from tests.conftest import csrf_token, form, login


def test_manager_lands_on_their_own_lks(client, make_user, call):
    manager = make_user("pengurus", "manager")
    login(client, "pengurus")
    r = client.get("/lks", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/lks/{manager['lks_id']}"
    page = client.get(f"/lks/{manager['lks_id']}")
    assert page.status_code == 200 and "LKS milik pengurus" in page.text
    assert "LKS saya" in page.text  # the menu entry
    assert "Mulai pemeriksaan dokumen" not in page.text  # no staff actions


def test_another_lks_is_404_everywhere(client, make_user, make_lks, call, app):
    make_user("pengurus", "manager")
    other = make_lks("LKSA Tetangga")
    doc, _ = call(
        documents.upload, Actor(user_id=None, username="petugas", role=Role.staff), other["id"], doc_type="client_list",
        filename="anak.pdf", fileobj=io.BytesIO(b"%PDF-1.4 daftar anak"), now=datetime.now(timezone.utc),
        storage=app.state.storage, max_bytes=10**6,
    )
    login(client, "pengurus")
    h = {"X-CSRFToken": csrf_token(client)}
    oid = other["id"]
    responses = {
        "page": client.get(f"/lks/{oid}"),
        "edit page": client.get(f"/lks/{oid}/edit"),
        "edit": form(client, f"/lks/{oid}/edit", {"version": "1", "phone": "0211234567"}),
        "workflow": form(client, f"/lks/{oid}/workflow", {"action": "submit"}),
        "upload": client.post(f"/lks/{oid}/documents", files={"file": ("a.pdf", b"%PDF-1.4 x")}, data={"doc_type": "npwp", "_csrf_token": csrf_token(client)}),
        "certificate": client.get(f"/lks/{oid}/certificate.pdf"),
        "download page": client.get(f"/documents/{doc['id']}/content"),
        "api get": client.get(f"/api/v1/lks/{oid}"),
        "api patch": client.patch(f"/api/v1/lks/{oid}", json={"version": 1, "phone": "0211234567"}, headers=h),
        "api transition": client.post(f"/api/v1/lks/{oid}/transitions", json={"action": "submit"}, headers=h),
        "api documents": client.get(f"/api/v1/lks/{oid}/documents"),
        "api upload": client.post(f"/api/v1/lks/{oid}/documents", files={"file": ("a.pdf", b"%PDF-1.4 x")}, data={"doc_type": "npwp"}, headers=h),
        "api download": client.get(f"/api/v1/documents/{doc['id']}/content"),
    }
    for what, r in responses.items():
        assert r.status_code == 404, (what, r.status_code)
        assert b"daftar anak" not in r.content and b"LKSA Tetangga" not in r.content, what
    # The list API is staff-only.
    assert client.get("/api/v1/lks").status_code == 403
    row = call(Lks.select().where(Lks.id == oid).first().run)
    assert row["registration_status"] == "unregistered" and row["phone"] == "" and row["version"] == other["version"]


def test_manager_edits_allowed_fields_only(client, make_user, call):
    manager = make_user("pengurus", "manager")
    login(client, "pengurus")
    lks_id = manager["lks_id"]
    h = {"X-CSRFToken": csrf_token(client)}
    current = client.get(f"/api/v1/lks/{lks_id}").json()
    r = client.patch(f"/api/v1/lks/{lks_id}", json={"version": current["version"], "npwp": "012345678901000", "name": "Nama Baru"}, headers=h)
    assert r.status_code == 403
    assert "Hanya petugas Dinas Sosial yang dapat mengubah: name, npwp" in r.json()["message"]
    r = client.patch(
        f"/api/v1/lks/{lks_id}",
        json={"version": current["version"], "phone": "0812 1111 2222", "capacity": 35, "residents": {"m_6_12": 10, "f_6_12": 12}, "services": ["education"]},
        headers=h,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["phone"] == "081211112222" and body["capacity"] == 35 and body["residents_total"] == 22
    # The form drops staff-only fields a manager might post.
    page = client.get(f"/lks/{lks_id}/edit")
    assert 'name="npwp"' not in page.text and 'name="phone"' in page.text
    r = form(client, f"/lks/{lks_id}/edit", {"version": str(body["version"]), "name": "Diam-diam", "phone": "021 555 1234", "capacity": "36"})
    assert r.status_code == 303
    row = call(Lks.select().where(Lks.id == lks_id).first().run)
    assert row["name"] == "LKS milik pengurus" and row["phone"] == "0215551234" and row["capacity"] == 36


def test_manager_uploads_and_sees_rejection_reason(client, make_user, call):
    manager = make_user("pengurus", "manager")
    login(client, "pengurus")
    lks_id = manager["lks_id"]
    r = client.post(
        f"/lks/{lks_id}/documents",
        files={"file": ("npwp.pdf", b"%PDF-1.4 npwp yayasan")},
        data={"doc_type": "npwp", "_csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert r.status_code == 303
    doc = client.get(f"/api/v1/lks/{lks_id}/documents").json()["items"][0]
    call(documents.review, Actor(user_id=None, username="petugas", role=Role.staff), doc["id"], verdict="rejected",
         reason="NPWP atas nama pribadi, harus atas nama yayasan.", now=datetime.now(timezone.utc))
    page = client.get(f"/lks/{lks_id}")
    assert "NPWP atas nama pribadi, harus atas nama yayasan." in page.text
    assert "Belum ada" in page.text  # the checklist shows what is still missing
    # A manager cannot review.
    r = client.post(f"/api/v1/documents/{doc['id']}/review", json={"verdict": "verified"}, headers={"X-CSRFToken": csrf_token(client)})
    assert r.status_code == 403


def test_other_upload_without_a_type_is_refused_and_keeps_the_verified_akta(client, make_user, call):
    """The “upload another document” form starts on no type: a photo sent
    without choosing one must not replace the verified Akta."""
    manager = make_user("pengurus", "manager")
    login(client, "pengurus")
    lks_id = manager["lks_id"]
    r = client.post(f"/lks/{lks_id}/documents", files={"file": ("akta.pdf", b"%PDF-1.4 akta")},
                    data={"doc_type": "akta_pendirian", "_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert r.status_code == 303
    akta = client.get(f"/api/v1/lks/{lks_id}/documents").json()["items"][0]
    call(documents.review, Actor(user_id=None, username="petugas", role=Role.staff), akta["id"], verdict="verified",
         reason="", now=datetime.now(timezone.utc))
    page = client.get(f"/lks/{lks_id}").text
    select = page.split('id="f-doc_type"', 1)[1].split("</select>", 1)[0]
    assert '<option value="" selected disabled>Pilih jenisnya…</option>' in select  # nothing chosen at the start
    assert "Sudah diverifikasi: Akta pendirian" in page  # the manager is told before replacing it
    for doc_type in ("", "rapor"):
        r = client.post(f"/lks/{lks_id}/documents", files={"file": ("foto.jpg", b"\xff\xd8\xff\xe0 foto kegiatan")},
                        data={"doc_type": doc_type, "_csrf_token": csrf_token(client)}, follow_redirects=False)
        assert r.status_code == 422
        assert '<p class="error-text" id="e-doc_type">Pilih jenis dokumen.</p>' in r.text
    items = client.get(f"/api/v1/lks/{lks_id}/documents").json()["items"]
    assert [(d["doc_type"], d["status"]) for d in items] == [("akta_pendirian", "verified")]
