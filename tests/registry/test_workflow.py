"""The registration workflow: every step, who may take it, what it refuses."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

import pytest
from pypdf import PdfReader

from inspections.visits.gate import create_verification_task, verification_visit_problems
from registry import documents, workflow
from registry.tables import Application, Document, Lks, StatusChange
from sigap.audit import Actor
from sigap.errors import Conflict, Forbidden, ValidationError
from sigap.tables import AuditEvent, Role
from tests.conftest import csrf_token, form, login
from tests.inspections.visit_rows import approved_verification_visit

STAFF = Actor(user_id=None, username="petugas", role=Role.staff)
NOW = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)  # 10:00 WIB


def manager_of(lks: dict) -> Actor:
    return Actor(user_id=None, username="pengurus", role=Role.manager, lks_id=lks["id"])


def step(call, actor, lks, action, reason="", now=NOW):
    """One workflow action with joint monitoring's hooks (as the app wires
    them): approval needs an approved field verification visit."""
    return call(
        workflow.transition, actor, lks["id"], action, reason=reason, now=now,
        approval_checks=[verification_visit_problems], verification_started=[create_verification_task],
    )


def verify_all_required(call, app, lks):
    for doc_type in documents.required_types(lks["kind"], lks["legal_entity"]):
        row, _created = call(
            documents.upload, STAFF, lks["id"], doc_type=doc_type, filename=f"{doc_type}.pdf",
            fileobj=io.BytesIO(b"%PDF-1.4 " + doc_type.encode()), now=NOW, storage=app.state.storage, max_bytes=10**6,
        )
        call(documents.review, STAFF, row["id"], verdict="verified", now=NOW)


def test_full_registration_path(call, app, make_lks):
    lks = make_lks("LKSA Jalur Lengkap")
    assert lks["registration_status"] == "unregistered"
    # The manager submits; staff take it through the checks.
    assert step(call, manager_of(lks), lks, "submit")["registration_status"] == "applied"
    assert step(call, STAFF, lks, "start_document_check")["registration_status"] == "document_check"
    with pytest.raises(Conflict) as missing:
        step(call, STAFF, lks, "start_field_verification")
    assert "Akta pendirian" in missing.value.message and "Daftar penerima layanan" in missing.value.message
    verify_all_required(call, app, lks)
    assert step(call, STAFF, lks, "start_field_verification")["registration_status"] == "field_verification"
    call(approved_verification_visit, lks["id"], now=NOW)
    approved = step(call, STAFF, lks, "approve")
    assert approved["registration_status"] == "registered"
    assert approved["certificate_number"] == "0001/TD-LKS/36.71/2026"
    assert approved["registered_on"] == date(2026, 11, 22) and approved["valid_until"] == date(2029, 11, 22)
    app_row = call(Application.select().where(Application.lks == lks["id"]).first().run)
    assert app_row["step"] == "approved" and app_row["kind"] == "new" and app_row["closed_at"] is not None
    history = call(workflow.history, STAFF, lks["id"])
    assert [h["action"] for h in reversed(history)] == ["submit", "start_document_check", "start_field_verification", "approve"]
    audited = call(AuditEvent.select(AuditEvent.action).where(AuditEvent.entity_type == "lks").run)
    assert {"lks.submit", "lks.start_document_check", "lks.start_field_verification", "lks.approve"} <= {a["action"] for a in audited}
    # A second approval in the same year gets the next number.
    other = make_lks("LKSA Kedua")
    for action in ("submit", "start_document_check"):
        step(call, STAFF, other, action)
    verify_all_required(call, app, other)
    step(call, STAFF, other, "start_field_verification")
    call(approved_verification_visit, other["id"], now=NOW)
    assert step(call, STAFF, other, "approve")["certificate_number"] == "0002/TD-LKS/36.71/2026"


def test_approval_needs_an_approved_field_verification_visit(call, app, make_lks):
    from inspections.planning.tables import Task
    from tests.inspections.visit_rows import add_visit

    lks = make_lks("LKSA Belum Dikunjungi")
    for action in ("submit", "start_document_check"):
        step(call, STAFF, lks, action)
    verify_all_required(call, app, lks)
    step(call, STAFF, lks, "start_field_verification")
    # Starting field verification created the visit, once per application.
    application = call(workflow.open_application, lks["id"])
    tasks = call(Task.select().where(Task.lks == lks["id"]).run)
    assert [(t["kind"], t["unique_key"], t["status"]) for t in tasks] == [
        ("registration_verification", f"verification:{application['id']}", "open")
    ]
    with pytest.raises(Conflict) as refused:
        step(call, STAFF, lks, "approve")
    assert refused.value.message == (
        "Pendaftaran belum dapat disetujui: belum ada laporan kunjungan verifikasi lapangan yang disetujui."
    )
    # A report waiting for review is not enough; an approved one is.
    call(add_visit, tasks[0]["id"], status="submitted")
    with pytest.raises(Conflict):
        step(call, STAFF, lks, "approve")
    assert call(Lks.select(Lks.registration_status).where(Lks.id == lks["id"]).first().run)["registration_status"] == "field_verification"
    call(add_visit, tasks[0]["id"], status="approved")
    assert step(call, STAFF, lks, "approve")["registration_status"] == "registered"


def test_refused_steps_say_why_and_change_nothing(call, make_lks):
    lks = make_lks("LKSA Ditolak")
    with pytest.raises(Conflict) as err:
        step(call, STAFF, lks, "approve")
    assert "Belum terdaftar" in err.value.message
    with pytest.raises(Forbidden):
        step(call, manager_of(lks), lks, "start_document_check")
    step(call, STAFF, lks, "submit")
    with pytest.raises(Forbidden):
        step(call, manager_of(lks), lks, "approve")
    with pytest.raises(ValidationError) as no_reason:
        step(call, STAFF, lks, "reject", reason="")
    assert "alasan" in no_reason.value.message.lower()
    with pytest.raises(ValidationError):
        step(call, STAFF, lks, "fly")
    row = call(Lks.select().where(Lks.id == lks["id"]).first().run)
    assert row["registration_status"] == "applied" and row["version"] == lks["version"] + 1


def test_return_and_reject_carry_reasons_for_the_manager(call, client, make_user, make_lks):
    manager = make_user("pengurus", "manager")
    lks = {"id": manager["lks_id"], "kind": "lksa", "legal_entity": True}
    step(call, STAFF, lks, "submit")
    step(call, STAFF, lks, "start_document_check")
    row = step(call, STAFF, lks, "return_to_applicant", reason="Akta pendirian belum dilegalisir notaris.")
    assert row["registration_status"] == "applied"
    login(client, "pengurus")
    page = client.get(f"/lks/{lks['id']}")
    assert "Akta pendirian belum dilegalisir notaris." in page.text
    row = step(call, STAFF, lks, "reject", reason="Alamat tidak dapat ditemukan saat verifikasi.")
    assert row["registration_status"] == "unregistered"
    assert "Alamat tidak dapat ditemukan" in client.get(f"/lks/{lks['id']}").text


def _registered(call, app, make_lks, name="LKSA Terdaftar"):
    lks = make_lks(name)
    step(call, STAFF, lks, "submit")
    step(call, STAFF, lks, "start_document_check")
    verify_all_required(call, app, lks)
    step(call, STAFF, lks, "start_field_verification")
    call(approved_verification_visit, lks["id"], now=NOW)
    return step(call, STAFF, lks, "approve")


def test_sanctions_suspend_reinstate_revoke_close(call, app, make_lks):
    lks = _registered(call, app, make_lks)
    assert step(call, STAFF, lks, "suspend", reason="Temuan kekerasan, menunggu investigasi.")["registration_status"] == "suspended"
    with pytest.raises(Conflict):
        step(call, STAFF, lks, "suspend", reason="dua kali ditangguhkan")
    assert step(call, STAFF, lks, "reinstate", reason="Investigasi selesai, tidak terbukti.")["registration_status"] == "registered"
    revoked = step(call, STAFF, lks, "revoke", reason="Izin dicabut karena pelanggaran berat.")
    assert revoked["registration_status"] == "revoked" and revoked["certificate_number"] is None
    # A revoked LKS may apply again from the start.
    assert step(call, STAFF, lks, "submit")["registration_status"] == "applied"
    closed = step(call, STAFF, lks, "close", reason="Lembaga berhenti beroperasi.")
    assert closed["registration_status"] == "closed"
    assert call(workflow.open_application, lks["id"]) is None
    with pytest.raises(Conflict):
        step(call, STAFF, lks, "submit")


def test_expiry_job_and_renewal(call, app, make_lks):
    lks = _registered(call, app, make_lks)
    valid_until = lks["valid_until"]
    # Renewal is offered only in the last 180 days.
    with pytest.raises(Conflict):
        step(call, STAFF, lks, "renew")
    before_end = datetime.combine(valid_until, datetime.min.time(), tzinfo=timezone.utc)
    assert call(workflow.expire_registrations, now=before_end - timedelta(days=1)) == 0
    after_end = before_end + timedelta(days=1, hours=12)
    assert call(workflow.expire_registrations, now=after_end) == 1
    assert call(workflow.expire_registrations, now=after_end) == 0  # idempotent
    row = call(Lks.select().where(Lks.id == lks["id"]).first().run)
    assert row["registration_status"] == "expired"
    # Renewal: a new application linked to the LKS; approval issues a new validity.
    renewed = step(call, manager_of(lks), lks, "renew", now=after_end)
    assert renewed["registration_status"] == "applied"
    apps = call(Application.select().where(Application.lks == lks["id"]).order_by(Application.id).run)
    assert [a["kind"] for a in apps] == ["new", "renewal"]
    step(call, STAFF, lks, "start_document_check", now=after_end)
    step(call, STAFF, lks, "start_field_verification", now=after_end)
    call(approved_verification_visit, lks["id"], now=after_end)
    final = step(call, STAFF, lks, "approve", now=after_end)
    assert final["registration_status"] == "registered" and final["valid_until"] > valid_until
    changes = call(StatusChange.select(StatusChange.action).where(StatusChange.lks == lks["id"]).run)
    assert "expire" in [c["action"] for c in changes]


def test_a_suspended_registration_still_expires_on_its_date(call, app, make_lks):
    lks = step(call, STAFF, _registered(call, app, make_lks), "suspend", reason="Temuan kekerasan, menunggu investigasi.")
    assert lks["registration_status"] == "suspended"
    end = datetime.combine(lks["valid_until"], datetime.min.time(), tzinfo=timezone.utc)
    assert call(workflow.expire_registrations, now=end - timedelta(days=1)) == 0
    assert call(workflow.expire_registrations, now=end + timedelta(days=1, hours=12)) == 1
    assert call(workflow.expire_registrations, now=end + timedelta(days=2)) == 0  # idempotent
    row = call(Lks.select().where(Lks.id == lks["id"]).first().run)
    assert row["registration_status"] == "expired"
    [change] = call(StatusChange.select().where(StatusChange.action == "expire").run)
    assert (change["from_status"], change["to_status"]) == ("suspended", "expired")
    # Expired, it can still be revoked or renewed (renewal goes through every check again).
    names = [a.name for a in workflow.available_actions(STAFF, row, None, (end + timedelta(days=2)).date())]
    assert "renew" in names and "revoke" in names


def test_renewal_of_a_valid_registration_keeps_it_registered(call, app, make_lks):
    lks = _registered(call, app, make_lks)
    near_end = datetime.combine(lks["valid_until"] - timedelta(days=30), datetime.min.time(), tzinfo=timezone.utc)
    row = step(call, STAFF, lks, "renew", now=near_end)
    assert row["registration_status"] == "registered"  # still legal while the renewal runs
    step(call, STAFF, lks, "start_document_check", now=near_end)
    assert call(Lks.select(Lks.registration_status).where(Lks.id == lks["id"]).first().run)["registration_status"] == "registered"
    rejected = step(call, STAFF, lks, "reject", reason="Laporan kegiatan tidak lengkap.", now=near_end)
    assert rejected["registration_status"] == "registered"


def test_workflow_through_pages_and_api(client, make_user, make_lks, call):
    make_user("petugas", "staff")
    lks = make_lks("LKSA Halaman")
    login(client, "petugas")
    page = client.get(f"/lks/{lks['id']}")
    assert "Ajukan permohonan pendaftaran" in page.text
    assert form(client, f"/lks/{lks['id']}/workflow", {"action": "submit"}).status_code == 303
    r = form(client, f"/lks/{lks['id']}/workflow", {"action": "reject", "reason": ""})
    assert r.status_code == 422 and "Tuliskan alasannya" in r.text
    r = client.post(f"/api/v1/lks/{lks['id']}/transitions", json={"action": "approve"}, headers={"X-CSRFToken": csrf_token(client)})
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    r = client.post(f"/api/v1/lks/{lks['id']}/transitions", json={"action": "start_document_check"}, headers={"X-CSRFToken": csrf_token(client)})
    assert r.status_code == 200 and r.json()["registration_status"] == "document_check"


def test_certificate_pdf(client, make_user, app, call, make_lks):
    make_user("petugas", "staff")
    lks = _registered(call, app, make_lks, "LKSA Sertifikat")
    login(client, "petugas")
    r = client.get(f"/lks/{lks['id']}/certificate.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "TANDA DAFTAR" in text and "LKSA Sertifikat" in text and lks["certificate_number"] in text
    assert "Kunciran Indah" in text and "Pinang" in text and "Kota Tangerang".upper() in text
    unregistered = make_lks("LKSA Belum")
    r = client.get(f"/lks/{unregistered['id']}/certificate.pdf")
    assert r.status_code == 409 and "hanya ada untuk LKS yang terdaftar" in r.text


def test_documents_complete_flag_follows_reviews(call, app, make_lks):
    lks = make_lks("LKSA Kelengkapan", legal_entity=False, yayasan_name="")
    assert call(Lks.select(Lks.documents_complete).where(Lks.id == lks["id"]).first().run)["documents_complete"] is False
    verify_all_required(call, app, lks)
    assert call(Lks.select(Lks.documents_complete).where(Lks.id == lks["id"]).first().run)["documents_complete"] is True
    npwp = call(Document.select().where((Document.lks == lks["id"]) & (Document.doc_type == "npwp")).first().run)
    call(documents.review, STAFF, npwp["id"], verdict="rejected", reason="NPWP tidak terbaca.", now=NOW)
    assert call(Lks.select(Lks.documents_complete).where(Lks.id == lks["id"]).first().run)["documents_complete"] is False


def test_concurrent_approvals_and_submits_let_one_win(call, app, make_lks):
    """Four staff approving one registration at once: one approval, one
    certificate number, one status change and audit event; the others get a
    conflict. Four submits at once open one application."""
    import asyncio

    lks = make_lks("LKSA Serentak")
    for action in ("submit", "start_document_check"):
        step(call, STAFF, lks, action)
    verify_all_required(call, app, lks)
    step(call, STAFF, lks, "start_field_verification")
    call(approved_verification_visit, lks["id"], now=NOW)

    async def at_once(action: str, target: dict) -> list:
        async def one():
            return await workflow.transition(STAFF, target["id"], action, now=NOW,
                                             approval_checks=[verification_visit_problems],
                                             verification_started=[create_verification_task])
        return await asyncio.gather(*(one() for _ in range(4)), return_exceptions=True)

    results = call(at_once, "approve", lks)
    assert sum(isinstance(r, dict) for r in results) == 1, results
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, dict)), results
    numbers = call(Lks.select(Lks.certificate_number).where(Lks.id == lks["id"]).first().run)
    assert numbers["certificate_number"] == "0001/TD-LKS/36.71/2026"
    assert call(StatusChange.count().where((StatusChange.lks == lks["id"]) & (StatusChange.to_status == "registered")).run) == 1
    assert call(AuditEvent.count().where(AuditEvent.action == "lks.approve").run) == 1

    fresh = make_lks("LKSA Serentak Dua")
    results = call(at_once, "submit", fresh)
    assert sum(isinstance(r, dict) for r in results) == 1, results
    assert call(Application.count().where(Application.lks == fresh["id"]).run) == 1
