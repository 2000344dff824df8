"""Improvement plans: actions planned by staff or by the assessment side
(``add_actions``, idempotent per indicator), answered by the LKS's own
manager with evidence, accepted or reopened by staff only; every write
audited; an overdue action raises one alert however often the job runs."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from accreditation.improvement import jobs as improvement_jobs
from accreditation.improvement import services
from accreditation.improvement.tables import ActionNote, ImprovementAction
from inspections.alerts.jobs import raise_alerts
from inspections.alerts.tables import Alert
from inspections.hooks import ALERT_SOURCES
from registry.tables import Document
from sigap.audit import Actor
from sigap.domains import default_plugins
from sigap.errors import Forbidden, NotFound, ValidationError
from sigap.tables import AuditEvent, Role
from sigap.wiring import Wiring
from tests.conftest import csrf_token, form

NOW = datetime.now(timezone.utc)
TODAY = services.today_wib(NOW)
STAFF = Actor(user_id=None, username="petugas", role=Role.staff)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
WEAKEST = [
    {"code": "SNPA-2.3", "title": "Lengkapi SOP pengasuhan anak"},
    {"code": "SDM-1.1", "title": "Tambah pengasuh bersertifikat", "due_on": TODAY + timedelta(days=30)},
]


def api_post(client, path: str, **kwargs):
    return client.post(path, headers={"X-CSRFToken": csrf_token(client)}, **kwargs)


def test_add_actions_plans_each_weak_indicator_once_while_open(call, make_lks):
    lks = make_lks()
    first = call(services.add_actions, lks["id"], WEAKEST, STAFF, NOW, "indicator", cycle_ref="2026-1")
    assert sorted(a["source_ref"] for a in first) == ["SDM-1.1", "SNPA-2.3"]
    assert {a["cycle_ref"] for a in first} == {"2026-1"}
    by_ref = {a["source_ref"]: a for a in first}
    assert by_ref["SNPA-2.3"]["due_on"] == TODAY + timedelta(days=services.DEFAULT_DUE_DAYS)
    assert by_ref["SDM-1.1"]["due_on"] == TODAY + timedelta(days=30)
    # The assessment side calling again (a retry, a second assessment) adds nothing new.
    assert call(services.add_actions, lks["id"], WEAKEST, STAFF, NOW, "indicator", cycle_ref="2026-2") == []
    assert call(ImprovementAction.count().where(ImprovementAction.lks == lks["id"]).run) == 2
    audited = call(AuditEvent.select(AuditEvent.action).where(AuditEvent.entity_type == "improvement_action").run)
    assert [a["action"] for a in audited] == ["improvement.plan", "improvement.plan"]
    # Once done, the same indicator may be planned again later.
    done = by_ref["SNPA-2.3"]
    call(services.decide, STAFF, done["id"], decision="accept", comment="", version=done["version"], now=NOW)
    again = call(services.add_actions, lks["id"], WEAKEST, STAFF, NOW, "indicator")
    assert [a["source_ref"] for a in again] == ["SNPA-2.3"]


def test_add_actions_refuses_bad_input_and_writes_nothing(call, make_lks):
    lks = make_lks()
    for items, source in (([{"title": "abc"}], "indicator"), (WEAKEST, "rumor"), ([{"title": "Judul cukup", "due_on": "besok"}], "manual")):
        try:
            call(services.add_actions, lks["id"], items, STAFF, NOW, source)
        except ValidationError:
            pass
        else:
            raise AssertionError((items, source))
    try:
        call(services.add_actions, 999999, WEAKEST, STAFF, NOW, "indicator")
    except NotFound:
        pass
    assert call(ImprovementAction.count().run) == 0


def test_the_manager_answers_only_their_own_lks_and_staff_alone_decide(client, as_role, make_lks, call):
    manager = as_role("manager")
    other = make_lks("LKS Lain")
    [mine, _] = call(services.add_actions, manager["lks_id"], WEAKEST, STAFF, NOW, "indicator")
    [theirs, _] = call(services.add_actions, other["id"], WEAKEST, STAFF, NOW, "indicator")

    listed = client.get("/api/v1/accreditation/improvement/actions").json()["items"]
    assert {a["lks"] for a in listed} == {manager["lks_id"]}
    # Filters cannot widen a manager's view.
    assert {a["lks"] for a in client.get(f"/api/v1/accreditation/improvement/actions?lks_id={other['id']}").json()["items"]} == {manager["lks_id"]}
    assert client.get(f"/api/v1/accreditation/improvement/actions/{theirs['id']}").status_code == 404

    body = {"text": "SOP sudah disusun dan ditempel di ruang pengasuh.", "client_id": "answer-0001"}
    r = api_post(client, f"/api/v1/accreditation/improvement/actions/{theirs['id']}/answers", files={k: (None, v) for k, v in body.items()})
    assert r.status_code == 404
    r = api_post(client, f"/api/v1/accreditation/improvement/actions/{mine['id']}/answers", data=body,
                 files={"file": ("sop.png", PNG, "image/png")})
    assert r.status_code == 201, r.text
    again = api_post(client, f"/api/v1/accreditation/improvement/actions/{mine['id']}/answers", data=body,
                     files={"file": ("sop.png", PNG, "image/png")})
    assert again.status_code == 200 and again.json()["id"] == r.json()["id"]
    assert call(ActionNote.count().where(ActionNote.action == mine["id"]).run) == 1
    assert call(Document.count().where(Document.lks == manager["lks_id"]).run) == 1
    # An existing document of another LKS is no evidence for this one.
    doc = Document(lks=other["id"], doc_type="other", status="pending", filename="lain.pdf", content_type="application/pdf",
                   size=1, sha256="0" * 64, storage_key="lks/x/lain.pdf", uploaded_at=NOW)
    call(doc.save().run)
    foreign = api_post(client, f"/api/v1/accreditation/improvement/actions/{mine['id']}/answers",
                       files={k: (None, v) for k, v in {**body, "client_id": "answer-0002", "document_id": str(doc.id)}.items()})
    assert foreign.status_code == 422 and "document_id" in foreign.json()["fields"]
    # The manager cannot accept their own answer.
    r = api_post(client, f"/api/v1/accreditation/improvement/actions/{mine['id']}/decision", json={"decision": "accept", "version": 2})
    assert r.status_code == 403
    try:
        call(services.decide, Actor(user_id=manager["id"], username="m", role=Role.manager, lks_id=manager["lks_id"]), mine["id"],
             decision="accept", comment="", version=2, now=NOW)
    except Forbidden:
        pass
    else:
        raise AssertionError("a manager decided")

    staff = as_role("staff")
    assert staff["role"] == "staff"
    action = client.get(f"/api/v1/accreditation/improvement/actions/{mine['id']}").json()
    assert action["status"] == "answered" and action["notes"][0]["kind"] == "answer"
    r = api_post(client, f"/api/v1/accreditation/improvement/actions/{mine['id']}/decision",
                 json={"decision": "reopen", "comment": "", "version": action["version"]})
    assert r.status_code == 422 and "comment" in r.json()["fields"]
    r = api_post(client, f"/api/v1/accreditation/improvement/actions/{mine['id']}/decision",
                 json={"decision": "reopen", "comment": "Foto SOP belum terbaca, kirim ulang.", "version": action["version"]})
    assert r.status_code == 200 and r.json()["status"] == "reopened"
    stale = api_post(client, f"/api/v1/accreditation/improvement/actions/{mine['id']}/decision",
                     json={"decision": "accept", "version": action["version"]})
    assert stale.status_code == 409
    r = api_post(client, f"/api/v1/accreditation/improvement/actions/{mine['id']}/decision",
                 json={"decision": "accept", "comment": "Baik.", "version": action["version"] + 1})
    assert r.status_code == 200 and r.json()["status"] == "done"
    actions = [e["action"] for e in call(AuditEvent.select(AuditEvent.action).where(
        (AuditEvent.entity_type == "improvement_action") & (AuditEvent.entity_id == str(mine["id"]))).order_by(AuditEvent.id).run)]
    assert actions == ["improvement.plan", "improvement.answer", "improvement.reopen", "improvement.accept"]


def test_staff_plan_list_filters_and_the_pages(client, as_role, make_lks, call):
    a = make_lks("LKSA Cibodas", kecamatan_code="36.71.05", kelurahan_code="36.71.05.1001")
    b = make_lks("LKSA Pinang")
    call(services.add_actions, a["id"], [{"code": "X-1", "title": "Tindakan lewat tenggat", "due_on": TODAY - timedelta(days=3)}],
         STAFF, NOW - timedelta(days=10), "indicator")
    call(services.add_actions, b["id"], [{"code": "X-2", "title": "Tindakan belum jatuh tempo"}], STAFF, NOW, "indicator")
    as_role("staff")
    overdue = client.get("/api/v1/accreditation/improvement/actions?overdue=1").json()["items"]
    assert [x["title"] for x in overdue] == ["Tindakan lewat tenggat"] and overdue[0]["overdue"]
    in_b = client.get(f"/api/v1/accreditation/improvement/actions?kecamatan={b['kecamatan_code']}").json()["items"]
    assert {x["lks"] for x in in_b} == {b["id"]} or a["kecamatan_code"] == b["kecamatan_code"]
    page = client.get("/accreditation/improvement?overdue=1")
    assert page.status_code == 200 and "Tindakan lewat tenggat" in page.text and "Tindakan belum jatuh tempo" not in page.text
    # A new action by hand, through the page; bad input comes back next to the field.
    r = form(client, "/accreditation/improvement", {"lks_id": str(b["id"]), "title": "ab", "due_on": "2020-01-01"})
    assert r.status_code == 422 and "minimal 5 karakter" in r.text
    r = form(client, "/accreditation/improvement", {"lks_id": str(b["id"]), "title": "Perbaiki pagar depan", "due_on": (TODAY + timedelta(days=7)).isoformat()})
    assert r.status_code == 303
    assert "Perbaiki pagar depan" in client.get(r.headers["location"]).text


def test_an_overdue_action_raises_one_alert_however_often_the_job_runs(client, call, make_lks, as_role):
    lks = make_lks()
    [late] = call(services.add_actions, lks["id"], [{"code": "X-9", "title": "Perbaiki jalur evakuasi", "due_on": TODAY - timedelta(days=1)}],
                  STAFF, NOW - timedelta(days=30), "indicator")
    # The wiring binds the contributions into the alerts job, read when it runs.
    wiring = Wiring().install(default_plugins())
    assert improvement_jobs.overdue_alerts in wiring.hook(ALERT_SOURCES)
    job = wiring.jobs["alerts"].fn
    call(job, now=NOW)
    call(job, now=NOW)
    rows = call(Alert.select().where(Alert.kind == "improvement_overdue").run)
    assert len(rows) == 1 and rows[0]["lks"] == lks["id"] and rows[0]["resolved_at"] is None and rows[0]["manager_visible"]
    # Without the contribution the alerts job still runs, and resolves it.
    call(raise_alerts, now=NOW)
    assert call(Alert.select(Alert.resolved_at).where(Alert.kind == "improvement_overdue").first().run)["resolved_at"] is not None
    call(job, now=NOW)  # wanted again: reopened under the same key
    assert call(Alert.count().where((Alert.kind == "improvement_overdue") & Alert.resolved_at.is_null()).run) == 1
    # The manager sees it, titled in Indonesian.
    manager = as_role("manager", lks_id=lks["id"])
    assert manager["lks_id"] == lks["id"]
    page = client.get("/alerts")
    assert "Perbaiki jalur evakuasi" in page.text and "Tindakan perbaikan" in page.text
    # Answering resolves it.
    api_post(client, f"/api/v1/accreditation/improvement/actions/{late['id']}/answers",
             files={"text": (None, "Jalur evakuasi sudah dicat ulang."), "client_id": (None, "answer-9999")})
    call(job, now=NOW)
    assert call(Alert.count().where((Alert.kind == "improvement_overdue") & Alert.resolved_at.is_null()).run) == 0


def test_the_manager_plan_page_answers_on_the_phone(client, as_role, call):
    manager = as_role("manager")
    [action, _] = call(services.add_actions, manager["lks_id"], WEAKEST, STAFF, NOW, "indicator")
    page = client.get("/accreditation/improvement")
    assert page.status_code == 200 and "Lengkapi SOP pengasuhan anak" in page.text
    r = form(client, f"/accreditation/improvement/{action['id']}/answers", {"text": "ok", "client_id": "page-answer-1"})
    assert r.status_code == 422 and "minimal 5 karakter" in r.text
    r = client.post(f"/accreditation/improvement/{action['id']}/answers",
                    data={"_csrf_token": csrf_token(client), "text": "SOP sudah dibuat.", "client_id": "page-answer-2"},
                    files={"file": ("sop.png", PNG, "image/png")}, follow_redirects=False)
    assert r.status_code == 303
    assert "Jawaban Anda terkirim" in client.get(r.headers["location"]).text


def test_the_lks_page_shows_the_plan_to_staff_and_its_own_manager(client, as_role, call):
    manager = as_role("manager")
    call(services.add_actions, manager["lks_id"], [{"code": "X-1", "title": "Perbaiki pagar belakang", "due_on": TODAY - timedelta(days=2)}],
         STAFF, NOW - timedelta(days=10), "indicator")
    page = client.get(f"/lks/{manager['lks_id']}")
    assert "Perbaiki pagar belakang" in page.text and "1 tindakan lewat tenggat" in page.text and "Jawab tindakannya" in page.text
    assert "belum pernah diikuti" in page.text
    as_role("staff")
    page = client.get(f"/lks/{manager['lks_id']}")
    assert "Perbaiki pagar belakang" in page.text and "Seluruh rencana LKS ini" in page.text


def test_alerts_run_without_any_contribution(call, make_lks):
    from inspections.plugin import InspectionsPlugin
    from registry.plugin import RegistryPlugin

    lks = make_lks()
    call(services.add_actions, lks["id"], [{"code": "X-1", "title": "Tindakan lewat tenggat", "due_on": TODAY - timedelta(days=2)}],
         STAFF, NOW - timedelta(days=10), "indicator")
    bare = Wiring().install([RegistryPlugin(), InspectionsPlugin()])
    assert bare.hook(ALERT_SOURCES) == []
    call(bare.jobs["alerts"].fn, now=NOW)
    assert call(Alert.count().where(Alert.kind == "improvement_overdue").run) == 0


def test_an_id_beyond_what_the_database_holds_is_a_field_error(client, as_role):
    as_role("staff")
    r = api_post(client, "/api/v1/accreditation/improvement/actions",
                 json={"lks_id": 94469516342, "title": "Judul yang cukup", "due_on": (TODAY + timedelta(days=3)).isoformat()})
    assert r.status_code == 422 and "lks_id" in r.json()["fields"]
    session = api_post(client, "/api/v1/accreditation/training/sessions", json={
        "topic": "other", "title": "Bimtek", "held_on": TODAY.isoformat(), "place": "Aula", "trainer": "Peksos"}).json()
    r = api_post(client, f"/api/v1/accreditation/training/sessions/{session['id']}/attendance",
                 json={"lks_id": 2**40, "person_name": "Siti Rahmawati", "person_role": "caregiver"})
    assert r.status_code == 422 and "lks_id" in r.json()["fields"]
