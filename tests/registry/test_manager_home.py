"""An LKS manager's home page: the panels the registry (status, validity,
documents to upload), joint monitoring (findings to answer) and
accreditation (stage, improvement actions) contribute, about their own LKS
only, each item linking to where the manager acts; bounded queries."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta, timezone

import pytest

from accreditation.improvement import services as improvement
from inspections.findings.tables import Finding
from registry import documents
from registry.tables import Lks
from sigap.audit import Actor
from sigap.i18n import WIB
from sigap.tables import Role
from tests.conftest import login

STAFF = Actor(user_id=None, username="petugas", role=Role.staff)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def today() -> date:
    return now_utc().astimezone(WIB).date()


def add_finding(call, lks_id: int, description: str, *, due: date, status: str = "open", severity: str = "major") -> dict:
    return call(Finding.insert(Finding(
        lks=lks_id, severity=severity, description=description, due_on=due, status=status, created_at=now_utc(),
    )).returning(Finding.id).run)[0]


def upload(call, app, lks_id: int, doc_type: str) -> dict:
    doc, _ = call(
        documents.upload, STAFF, lks_id, doc_type=doc_type, filename=f"{doc_type}.pdf", fileobj=io.BytesIO(b"%PDF-1.4 uji"),
        now=now_utc(), storage=app.state.storage, max_bytes=10**6,
    )
    return doc


@pytest.fixture
def two_lks(call, app, make_user, make_lks) -> dict:
    """The manager's LKS (registered, valid 60 more days, NPWP uploaded,
    findings open, answered and closed, an improvement action) and a
    neighbour's with its own findings and action."""
    manager = make_user("pengurus", "manager")
    mine = manager["lks_id"]
    neighbour = make_lks("LKSA Tetangga Sebelah")["id"]
    call(Lks.update({Lks.registration_status: "registered", Lks.certificate_number: "460/0007-DINSOS/2026",
                     Lks.valid_until: today() + timedelta(days=60)}).where(Lks.id == mine).run)
    upload(call, app, mine, "npwp")
    upload(call, app, neighbour, "site_plan")
    add_finding(call, mine, "Tabung pemadam api kedaluwarsa di dapur", due=today() + timedelta(days=10))
    add_finding(call, mine, "Jadwal piket pengasuh malam belum ada", due=today() - timedelta(days=2), severity="critical")
    add_finding(call, mine, "Kotak P3K kosong", due=today() + timedelta(days=3), status="answered")
    add_finding(call, mine, "Pagar belakang rusak", due=today() - timedelta(days=20), status="closed")
    add_finding(call, neighbour, "Temuan milik tetangga", due=today() + timedelta(days=5))
    action = call(improvement.create_action, STAFF, lks_id=mine, title="Susun SOP pengasuhan tertulis",
                  due_on=today() + timedelta(days=14), now=now_utc())
    call(improvement.create_action, STAFF, lks_id=neighbour, title="Tindakan milik tetangga", due_on=today() + timedelta(days=14),
         now=now_utc())
    return {"manager": manager, "mine": mine, "neighbour": neighbour, "action": action}


def test_manager_home_shows_their_lks_status_documents_findings_and_actions(client, two_lks):
    login(client, "pengurus")
    text = client.get("/").text
    mine = two_lks["mine"]
    # Registration and validity, with the renewal warning (60 days left).
    assert "LKS milik pengurus" in text and "Terdaftar" in text and "460/0007-DINSOS/2026" in text
    assert "Tanda Daftar berakhir dalam 60 hari" in text
    # Missing documents named, each linking to its line of the checklist; the uploaded one is not missing.
    documents_panel = text.split('id="home-documents-title"')[1].split("</section>")[0]
    assert "Struktur organisasi dengan identitas pengurus" in documents_panel and "Denah lokasi" in documents_panel
    assert f'href="/lks/{mine}#item-org_structure"' in text and f'href="/lks/{mine}#item-site_plan"' in text
    assert f'href="/lks/{mine}#item-npwp"' not in text
    assert "1 dokumen sedang menunggu diverifikasi Dinas Sosial" in text
    # Findings: two wait for the manager (one overdue, shown first), one waits for Dinas Sosial.
    findings = text.split('id="home-findings-title"')[1].split("</section>")[0]
    assert '<span class="home-figure-number">2</span>' in findings
    assert "1 lewat tenggat" in findings
    assert findings.index("Jadwal piket pengasuh malam") < findings.index("Tabung pemadam api")
    assert "Kotak P3K" not in findings and "Pagar belakang" not in findings
    assert "1 jawaban sedang menunggu diperiksa Dinas Sosial" in findings
    # Accreditation and the improvement action, linking to where it is answered.
    assert "Susun SOP pengasuhan tertulis" in text
    assert f'href="/accreditation/improvement/{two_lks["action"]["id"]}"' in text
    # The panels in order: registration, documents, findings, accreditation.
    order = [text.index(s) for s in ('id="home-registration-title"', 'id="home-documents-title"', 'id="home-findings-title"',
                                     'id="home-accreditation-title"')]
    assert order == sorted(order)


def test_manager_home_never_shows_another_lks(client, two_lks):
    login(client, "pengurus")
    text = client.get("/").text
    for other in ("LKSA Tetangga Sebelah", "Temuan milik tetangga", "Tindakan milik tetangga", f"/lks/{two_lks['neighbour']}"):
        assert other not in text, other


def test_nothing_missing_says_so(client, call, app, make_user):
    manager = make_user("rapi", "manager")
    lks = call(Lks.select(Lks.kind, Lks.legal_entity).where(Lks.id == manager["lks_id"]).first().run)
    for doc_type in documents.required_types(lks["kind"], lks["legal_entity"]):
        upload(call, app, manager["lks_id"], doc_type)
    login(client, "rapi")
    text = client.get("/").text
    assert "Semua dokumen wajib sudah diunggah." in text
    assert "Tidak ada temuan: tidak ada yang perlu ditindaklanjuti." in text


def test_manager_home_queries_do_not_grow(client, call, two_lks, count_queries):
    login(client, "pengurus")
    client.get("/")
    count_queries.reset()
    assert client.get("/").status_code == 200
    few = len(count_queries)
    for i in range(10):
        add_finding(call, two_lks["mine"], f"Temuan tambahan nomor {i}", due=today() + timedelta(days=i))
        call(improvement.create_action, STAFF, lks_id=two_lks["mine"], title=f"Tindakan tambahan nomor {i}",
             due_on=today() + timedelta(days=20 + i), now=now_utc())
    count_queries.reset()
    assert client.get("/").status_code == 200
    many = len(count_queries)
    assert many == few, "\n".join(count_queries.statements)
    assert few <= 9, f"{few} statements:\n" + "\n".join(count_queries.statements)  # 11 before issue 13
