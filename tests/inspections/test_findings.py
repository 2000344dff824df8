"""Findings follow-up: the LKS manager answers with evidence (once per
client id), staff see and filter them, close one with a note or schedule a
re-inspection; version-checked and audited; managers never see the
inspection behind a finding."""

from __future__ import annotations

import asyncio
import io
from datetime import date, datetime, timedelta, timezone

import pytest

from inspections.findings import follow_up, services
from inspections.findings.tables import Finding, FindingResponse
from inspections.planning.tables import Task
from registry.tables import Document
from sigap.audit import Actor
from sigap.errors import Conflict, Forbidden
from sigap.tables import AuditEvent, Role
from tests.conftest import csrf_token, form

NOW = datetime.now(timezone.utc)
TODAY = (NOW + timedelta(hours=7)).date()
STAFF = Actor(user_id=None, username="petugas", role=Role.staff)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def add_finding(call, lks_id: int, *, severity: str = "major", due_on: date | None = None, **extra) -> dict:
    finding = Finding(lks=lks_id, severity=severity, description="Kamar mandi anak laki-laki dan perempuan belum dipisah.",
                      corrective_action="Pisahkan kamar mandi menurut jenis kelamin.", due_on=due_on or TODAY + timedelta(days=14),
                      created_at=NOW, **extra)
    call(finding.save().run)
    return call(Finding.select().where(Finding.id == finding.id).first().run)


def api_post(client, path: str, **kwargs):
    return client.post(path, headers={"X-CSRFToken": csrf_token(client)}, **kwargs)


def fields(values: dict) -> dict:
    """Multipart fields without a file."""
    return {name: (None, value) for name, value in values.items()}


def test_the_manager_answers_with_evidence_once_per_client_id(client, as_role, make_lks, call):
    manager = as_role("manager")
    mine = add_finding(call, manager["lks_id"], severity="critical")
    other = add_finding(call, make_lks("LKS Lain")["id"])
    listed = client.get("/api/v1/findings").json()["items"]
    assert [f["id"] for f in listed] == [mine["id"]]
    assert "task" not in listed[0] and "follow_up_task" not in listed[0] and "visit" not in listed[0]
    assert listed[0]["corrective_action"] == "Pisahkan kamar mandi menurut jenis kelamin."
    assert client.get(f"/api/v1/findings?lks_id={other['lks']}").json()["items"] == []

    body = {"text": "Kamar mandi sudah dipisah dan diberi tanda.", "client_id": "resp-0001-abcd"}
    first = api_post(client, f"/api/v1/findings/{mine['id']}/responses", data=body, files={"file": ("bukti.png", PNG, "image/png")})
    assert first.status_code == 201, first.text
    again = api_post(client, f"/api/v1/findings/{mine['id']}/responses", data=body, files={"file": ("bukti.png", PNG, "image/png")})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert call(FindingResponse.count().where(FindingResponse.finding == mine["id"]).run) == 1
    evidence = call(Document.select().where(Document.lks == manager["lks_id"]).run)
    assert [(d["doc_type"], d["content_type"]) for d in evidence] == [("finding_evidence", "image/png")]
    assert call(Finding.select(Finding.status).where(Finding.id == mine["id"]).first().run)["status"] == "answered"
    # Someone else's finding is not there for this manager.
    r = api_post(client, f"/api/v1/findings/{other['id']}/responses", files=fields({**body, "client_id": "resp-0002-abcd"}))
    assert r.status_code == 404
    r = api_post(client, f"/api/v1/findings/{mine['id']}/responses", files=fields({"text": "ok", "client_id": "resp-0003-abcd"}))
    assert r.status_code == 422 and "minimal 5 karakter" in r.json()["fields"]["text"]


def test_concurrent_retries_of_one_answer_store_it_once(client, make_user, call):
    manager = make_user("pengurus", "manager")
    finding = add_finding(call, manager["lks_id"])
    actor = Actor(user_id=manager["id"], username="pengurus", role=Role.manager, lks_id=manager["lks_id"])

    async def twenty():
        return await asyncio.gather(*[
            services.respond(actor, finding["id"], text="Sudah diperbaiki minggu ini.", client_id="same-answer-01", now=NOW,
                             storage=None, max_bytes=10**6)
            for _ in range(20)
        ])

    results = call(twenty)
    assert len({row["id"] for row, _created in results}) == 1
    assert sum(created for _row, created in results) == 1
    assert call(FindingResponse.count().run) == 1


def test_manager_page_one_column_answer_shown_where_the_eye_is(client, as_role, call):
    manager = as_role("manager")
    finding = add_finding(call, manager["lks_id"], due_on=TODAY - timedelta(days=2))
    page = client.get("/findings")
    assert page.status_code == 200
    assert "Pisahkan kamar mandi menurut jenis kelamin." in page.text and "Terlambat" in page.text
    r = form(client, f"/findings/{finding['id']}/responses", {"text": "no", "client_id": "page-answer-01"})
    assert r.status_code == 422 and "minimal 5 karakter" in r.text
    r = form(client, f"/findings/{finding['id']}/responses", {"text": "Sudah dipisah, foto terlampir.", "client_id": "page-answer-02"})
    assert r.status_code == 303 and r.headers["location"] == f"/findings?answered={finding['id']}#finding-{finding['id']}"
    shown = client.get(r.headers["location"]).text
    card = shown.split(f'id="finding-{finding["id"]}"')[1]
    assert "Jawaban Anda sudah terkirim" in card and "Sudah dipisah, foto terlampir." in card
    # Closing is for Dinas Sosial only.
    assert api_post(client, f"/api/v1/findings/{finding['id']}/close", json={"note": "Selesai diperbaiki", "version": 2}).status_code == 403


def test_staff_filter_close_and_conflicts(client, as_role, make_lks, call):
    as_role("staff")
    lks = make_lks("LKSA Pinang")
    late = add_finding(call, lks["id"], severity="critical", due_on=TODAY - timedelta(days=1))
    minor = add_finding(call, lks["id"], severity="minor")
    items = lambda query: [f["id"] for f in client.get(f"/api/v1/findings?{query}").json()["items"]]  # noqa: E731
    assert items("") == [late["id"], minor["id"]]
    assert items("overdue=1") == [late["id"]]
    assert items("severity=minor") == [minor["id"]]
    assert items("kecamatan=36.71.11") == [late["id"], minor["id"]] and items("kecamatan=36.71.01") == []
    page = client.get("/findings?overdue=1")
    assert page.status_code == 200 and "LKSA Pinang" in page.text

    path = f"/api/v1/findings/{late['id']}/close"
    r = api_post(client, path, json={"note": "ok", "version": 1})
    assert r.status_code == 422 and "note" in r.json()["fields"]
    assert api_post(client, path, json={"note": "Sudah diperiksa, sesuai.", "version": 7}).status_code == 409
    closed = api_post(client, path, json={"note": "Sudah diperiksa, sesuai.", "version": 1})
    assert closed.status_code == 200 and closed.json()["status"] == "closed" and closed.json()["closure_note"] == "Sudah diperiksa, sesuai."
    r = api_post(client, path, json={"note": "Sudah diperiksa, sesuai.", "version": 2})
    assert r.status_code == 409 and r.json()["message"] == "Temuan ini sudah ditutup."
    assert items("status=closed") == [late["id"]] and items("") == [minor["id"]]
    assert call(AuditEvent.count().where(AuditEvent.action == "finding.close").run) == 1


def test_a_re_inspection_is_one_follow_up_task(client, as_role, make_lks, call):
    as_role("staff")
    lks = make_lks("LKSA Tindak Lanjut")
    finding = add_finding(call, lks["id"])
    path = f"/api/v1/findings/{finding['id']}/close"
    r = api_post(client, path, json={"follow_up_on": (TODAY - timedelta(days=1)).isoformat(), "version": 1})
    assert r.status_code == 422 and "follow_up_on" in r.json()["fields"]
    day = TODAY + timedelta(days=10)
    after = api_post(client, path, json={"follow_up_on": day.isoformat(), "note": "Cek pemisahan kamar mandi", "version": 1}).json()
    assert after["status"] == "open" and after["follow_up_task"]
    task = call(Task.select().where(Task.id == after["follow_up_task"]).first().run)
    assert (task["kind"], task["due_on"], task["finding"], task["unique_key"]) == ("findings_follow_up", day, finding["id"], f"finding:{finding['id']}")
    # Choosing another date moves that visit: still one task.
    later = day + timedelta(days=5)
    again = call(follow_up.schedule_follow_up, STAFF, finding["id"], follow_up_on=later, now=NOW, version=after["version"])
    assert again["follow_up_task"] == task["id"]
    assert [(t["due_on"], t["kind"]) for t in call(Task.select().where(Task.lks == lks["id"]).run)] == [(later, "findings_follow_up")]
    with pytest.raises(Conflict):
        call(follow_up.schedule_follow_up, STAFF, finding["id"], follow_up_on=later, now=NOW, version=after["version"])
    # The decision page shows it.
    page = client.get(f"/findings/{finding['id']}")
    assert page.status_code == 200 and f"/tasks/{task['id']}" in page.text


def test_decision_page_forms(client, as_role, make_lks, call):
    as_role("staff")
    finding = add_finding(call, make_lks()["id"])
    r = form(client, f"/findings/{finding['id']}/decision", {"decision": "close", "note": "", "version": "1"})
    assert r.status_code == 422 and 'id="e-f-close-note"' in r.text
    r = form(client, f"/findings/{finding['id']}/decision", {"decision": "follow_up", "follow_up_on": "", "version": "1"})
    assert r.status_code == 422 and 'id="e-follow_up_on"' in r.text
    r = form(client, f"/findings/{finding['id']}/decision", {"decision": "close", "note": "Diperbaiki, dicek via foto.", "version": "1"})
    assert r.status_code == 303 and r.headers["location"] == f"/findings/{finding['id']}?done=closed"
    assert "Temuan ditutup" in client.get(r.headers["location"]).text


def test_field_roles_and_strangers_get_no_findings_list(client, as_role):
    as_role("inspector")
    assert client.get("/api/v1/findings").status_code == 403
    assert client.get("/findings").status_code == 403


def test_only_staff_decide(call, make_user):
    manager = make_user("pengurus2", "manager")
    finding = add_finding(call, manager["lks_id"])
    actor = Actor(user_id=manager["id"], username="pengurus2", role=Role.manager, lks_id=manager["lks_id"])
    with pytest.raises(Forbidden):
        call(services.close_finding, actor, finding["id"], note="Sudah beres semua.", now=NOW)
    with pytest.raises(Forbidden):
        call(follow_up.schedule_follow_up, actor, finding["id"], follow_up_on=TODAY, now=NOW)


def test_lks_page_panel_for_staff_and_the_own_manager_only(call, make_user, make_lks):
    manager = make_user("pengurus3", "manager")
    lks = {"id": manager["lks_id"]}
    finding = add_finding(call, manager["lks_id"])
    own = Actor(user_id=manager["id"], username="pengurus3", role=Role.manager, lks_id=manager["lks_id"])
    other = Actor(user_id=None, username="lain", role=Role.manager, lks_id=make_lks("LKS Tetangga")["id"])
    inspector = Actor(user_id=None, username="insp", role=Role.inspector)
    for viewer in (own, STAFF):
        panel = call(services.findings_panel, viewer, lks)
        assert panel["template"] == "inspections/findings/_panel.html" and [f["id"] for f in panel["findings"]] == [finding["id"]]
    assert call(services.findings_panel, other, lks) is None and call(services.findings_panel, inspector, lks) is None
