"""Pembinaan: sessions and attendance (staff only), the attendance
certificate (an Indonesian PDF), coverage per kecamatan, and coverage
feeding the risk level (with its reason on the LKS risk panel) and the
improvement plan, through the hooks inspections offers; inspections works
the same with no contributions."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

from pypdf import PdfReader

from accreditation import plugin as accreditation_plugin
from accreditation.improvement.tables import ImprovementAction
from accreditation.training import jobs as training_jobs
from accreditation.training import services
from inspections import hooks
from inspections.planning import risk
from inspections.planning.tables import RiskAssessment
from inspections.plugin import InspectionsPlugin
from registry.plugin import RegistryPlugin
from sigap.audit import Actor
from sigap.domains import default_plugins
from sigap.errors import Conflict, Forbidden, ValidationError
from sigap.tables import AuditEvent, Role
from sigap.wiring import Wiring
from tests.conftest import csrf_token, form

NOW = datetime.now(timezone.utc)
TODAY = services.today_wib(NOW)
STAFF = Actor(user_id=None, username="petugas", role=Role.staff)


def session(call, *, topic="child_protection", days_ago=30, title="Pelatihan Perlindungan Anak") -> dict:
    return call(services.create_session, STAFF, services.SessionData(
        topic=topic, title=title, held_on=TODAY - timedelta(days=days_ago), place="Aula Dinsos", trainer="UPTD PPA"), now=NOW)


def attend(call, session_id: int, lks_id: int, name: str = "Siti Rahmawati", role: str = "caregiver") -> dict:
    return call(services.add_attendance, STAFF, session_id, services.AttendanceData(lks_id=lks_id, person_name=name, person_role=role),
                now=NOW)


def test_the_hook_names_accreditation_uses_are_the_ones_inspections_offers():
    assert accreditation_plugin.INSPECTIONS_ALERT_SOURCES == hooks.ALERT_SOURCES
    assert accreditation_plugin.INSPECTIONS_RISK_FACTORS == hooks.RISK_FACTORS
    assert accreditation_plugin.INSPECTIONS_RISK_REASONS == hooks.RISK_REASONS


def test_sessions_and_attendance_are_validated_staff_only_and_audited(call, make_lks):
    lks = make_lks()
    manager = Actor(user_id=None, username="m", role=Role.manager, lks_id=lks["id"])
    try:
        call(services.create_session, manager, services.SessionData(topic="child_protection", title="x"), now=NOW)
    except Forbidden:
        pass
    else:
        raise AssertionError("a manager scheduled a session")
    try:
        call(services.create_session, STAFF, services.SessionData(topic="gossip", title="x", place="", trainer=""), now=NOW)
    except ValidationError as exc:
        assert set(exc.fields) == {"topic", "title", "held_on", "place", "trainer"}
    s = session(call)
    row = attend(call, s["id"], lks["id"])
    assert row["certificate_number"].startswith(f"PB-{s['held_on'].year}-")
    try:  # the same person (any spelling of spaces and case) once per session
        attend(call, s["id"], lks["id"], name="  siti   RAHMAWATI ")
    except Conflict:
        pass
    else:
        raise AssertionError("recorded twice")
    try:
        call(services.add_attendance, STAFF, s["id"], services.AttendanceData(lks_id=lks["id"], person_name="Anak Asuh", person_role="child"),
             now=NOW)
    except ValidationError as exc:
        assert "person_role" in exc.fields
    events = [e["action"] for e in call(AuditEvent.select(AuditEvent.action).where(AuditEvent.entity_type == "training_session").run)]
    assert events == ["training.session.create", "training.attendance.add"]


def test_coverage_counts_child_protection_in_the_last_12_months_per_kecamatan(call, make_lks):
    a, b, c = make_lks("LKSA A"), make_lks("LKSA B"), make_lks("LKSA C")
    attend(call, session(call, days_ago=30)["id"], a["id"])
    attend(call, session(call, days_ago=400)["id"], b["id"])  # too long ago
    attend(call, session(call, topic="care_standards", days_ago=10)["id"], c["id"])  # another topic
    assert call(services.covered_lks, TODAY) == {a["id"]}
    assert call(services.covered_lks, TODAY, [b["id"], c["id"]]) == set()
    from registry.tables import Lks

    call(Lks.update({Lks.registration_status: "registered"}).where(Lks.id.is_in([a["id"], b["id"]])).run)
    data = call(services.coverage, STAFF, today=TODAY, region="36.71")
    row = next(i for i in data["items"] if i["kecamatan_code"] == a["kecamatan_code"])
    assert (row["registered"], row["covered"], row["share"]) == (2, 1, 0.5)
    assert (data["registered"], data["covered"]) == (2, 1)


def test_no_training_adds_a_risk_point_with_its_reason_and_an_action_once(call, make_lks, client, as_role):
    trained, untrained = make_lks("LKSA Terlatih"), make_lks("LKSA Belum Terlatih")
    attend(call, session(call)["id"], trained["id"])
    wiring = Wiring().install(default_plugins())
    plan = wiring.jobs["plan"].fn
    call(plan, now=NOW)
    call(plan, now=NOW)  # idempotent: the same stored assessment
    rows = {r["lks"]: r for r in call(RiskAssessment.select().run)}
    codes = {lks: [r[0] for r in risk._norm_list(row["reasons"])] for lks, row in rows.items()}
    assert training_jobs.NO_TRAINING in codes[untrained["id"]]
    assert training_jobs.NO_TRAINING not in codes[trained["id"]]
    assert rows[untrained["id"]]["score"] == rows[trained["id"]]["score"] + 1
    # Without accreditation (registry and inspections only) the plan runs as before.
    bare = Wiring().install([RegistryPlugin(), InspectionsPlugin()])
    call(bare.jobs["plan"].fn, now=NOW)
    assert training_jobs.NO_TRAINING not in [r[0] for r in risk._norm_list(call(risk.assessment, untrained["id"])["reasons"])]
    call(plan, now=NOW)
    # A caller without the wiring (an incident recorded) keeps the contributed reason.
    call(risk.assess, [untrained["id"]], now=NOW)
    assert training_jobs.NO_TRAINING in [r[0] for r in risk._norm_list(call(risk.assessment, untrained["id"])["reasons"])]

    # The reason shows, translated, on the LKS risk panel.
    as_role("staff")
    page = client.get(f"/lks/{untrained['id']}")
    assert "Tidak ada pengurus yang mengikuti pelatihan perlindungan anak dalam 12 bulan terakhir" in page.text
    assert "Tidak ada pengurus yang mengikuti pelatihan" not in client.get(f"/lks/{trained['id']}").text

    # The improvement plan: one action per untrained LKS, however often the job runs.
    call(wiring.jobs["training-plan"].fn, now=NOW)
    call(wiring.jobs["training-plan"].fn, now=NOW)
    actions = call(ImprovementAction.select().where(ImprovementAction.source == "training").run)
    assert [a["lks"] for a in actions] == [untrained["id"]]
    # Once the staff attend, the action is done by itself and the point goes.
    attend(call, session(call, days_ago=1, title="Angkatan II")["id"], untrained["id"], name="Budi Santoso", role="manager")
    result = call(wiring.jobs["training-plan"].fn, now=NOW)
    assert result.done == 1
    assert call(ImprovementAction.select(ImprovementAction.status).where(ImprovementAction.id == actions[0]["id"]).first().run)["status"] == "done"
    call(plan, now=NOW)
    assert training_jobs.NO_TRAINING not in [r[0] for r in risk._norm_list(call(risk.assessment, untrained["id"])["reasons"])]


def test_the_risk_factor_is_one_set_based_pass(call, make_lks, count_queries):
    for i in range(12):
        make_lks(f"LKSA Banyak {i}")
    count_queries.reset()
    result = call(training_jobs.untrained_risk, None, TODAY)
    assert len(result) == 12
    assert len(count_queries) == 2, "\n".join(count_queries.statements)


def test_the_certificate_is_an_indonesian_pdf_for_staff_and_the_lks_manager(client, call, make_lks, as_role):
    manager = as_role("manager")
    s = session(call, title="Pelatihan Perlindungan Anak Angkatan I")
    row = attend(call, s["id"], manager["lks_id"], name="Dewi Lestari", role="caregiver")
    other = attend(call, s["id"], make_lks("LKS Lain")["id"], name="Agus Prasetyo")
    r = client.get(f"/accreditation/training/certificates/{row['id']}/sertifikat.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = " ".join(PdfReader(io.BytesIO(r.content)).pages[0].extract_text().split())
    for expected in ("SERTIFIKAT KEIKUTSERTAAN", "Dewi Lestari", "Pengasuh", "Pelatihan Perlindungan Anak Angkatan I",
                     "Perlindungan anak", row["certificate_number"], "DINAS SOSIAL", "Kepala Dinas Sosial"):
        assert expected in text, (expected, text)
    # Another LKS's certificate is not there for this manager; the staff pages are not for managers.
    assert client.get(f"/accreditation/training/certificates/{other['id']}/sertifikat.pdf").status_code == 404
    assert client.get("/accreditation/training").status_code == 403
    assert client.get(f"/api/v1/accreditation/training/lks/{manager['lks_id']}").json()["items"][0]["person_name"] == "Dewi Lestari"
    assert client.get(f"/api/v1/accreditation/training/lks/{other['lks']}").status_code == 404


def test_staff_pages_schedule_and_record_attendance(client, as_role, make_lks):
    lks = make_lks("LKSA Harapan Bunda")
    as_role("staff")
    r = form(client, "/accreditation/training", {"topic": "child_protection", "title": "", "held_on": "kemarin", "place": "Aula", "trainer": "PPA"})
    assert r.status_code == 422 and "Beri judul kegiatan" in r.text and "TTTT-BB-HH" in r.text
    r = form(client, "/accreditation/training", {"topic": "child_protection", "title": "Pelatihan PA", "held_on": TODAY.isoformat(),
                                                 "place": "Aula Dinsos", "trainer": "UPTD PPA"})
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert "Kegiatan dijadwalkan" in page.text
    session_url = r.headers["location"].split("?")[0]
    found = client.get(f"{session_url}?q=Harapan")
    assert "LKSA Harapan Bunda" in found.text
    r = form(client, f"{session_url}/attendance", {"lks_id": str(lks["id"]), "person_name": "Rina", "person_role": "caregiver"})
    assert r.status_code == 303
    assert "Rina" in client.get(r.headers["location"]).text
    api = client.post("/api/v1/accreditation/training/sessions", headers={"X-CSRFToken": csrf_token(client)},
                      json={"topic": "care_standards", "title": "Bimtek SNPA", "held_on": TODAY.isoformat(), "place": "Aula", "trainer": "Peksos"})
    assert api.status_code == 201, api.text
    assert client.get("/accreditation/training/coverage").status_code == 200
    assert "items" in client.get("/api/v1/accreditation/training/coverage").json()
