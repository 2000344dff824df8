"""Incidents: recording one creates its urgent visit and flags the LKS at
once; only staff see them; every view of the details is audited; the
restricted description never reaches the audit log, the server's logs or
any page other than the incident's own; children are counts, never names."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone

import httpx

from inspections.incidents.tables import Incident, IncidentAction
from inspections.planning.tables import Task
from registry.risk_cache import RISK_LEVEL
from registry.tables import Lks
from sigap.i18n import WIB
from sigap.tables import AuditEvent
from tests.conftest import csrf_token, form, login, password_for
from tests.inspections.test_tasks import DESCRIPTION, make_world


def today_wib() -> date:
    return datetime.now(timezone.utc).astimezone(WIB).date()


def record_form(client, lks_id: int, **overrides):
    data = {
        "lks_id": str(lks_id), "source": "public_complaint", "category": "physical_abuse", "severity": "critical",
        "occurred_on": today_wib().isoformat(), "description": DESCRIPTION, **overrides,
    }
    return form(client, "/incidents", data)


def audit_text(call) -> str:
    rows = call(AuditEvent.select().run)
    return json.dumps(rows, default=str)


def test_recording_an_incident_creates_its_urgent_task_at_once(client, call, make_user, make_lks):
    world = make_world(call, make_user, make_lks)  # teams; their incidents are not the one tested here
    lks = make_lks("Panti Asuhan Harapan", kelurahan_code="36.71.11.1001")
    login(client, "rina")
    assert f'value="{lks["id"]}"' in client.get(f"/incidents/new?lks_id={lks['id']}").text
    before = datetime.now(timezone.utc)
    r = record_form(client, lks["id"])
    assert r.status_code == 303
    incident_id = int(r.headers["location"].split("/")[2].split("?")[0])
    tasks = call(Task.select().where(Task.incident == incident_id).run)
    assert len(tasks) == 1
    task = tasks[0]
    assert task["kind"] == "incident_response" and task["status"] == "open" and task["unannounced"] is True
    assert task["team"] == world.team_a["id"] and task["lead"] == world.users["agus"]["id"]
    assert before < task["due_at"] <= datetime.now(timezone.utc) + timedelta(hours=48)
    assert task["due_at"] - task["created_at"] == timedelta(hours=48)
    row = call(Lks.select(Lks.open_incident, RISK_LEVEL).where(Lks.id == lks["id"]).first().run)
    assert row == {"open_incident": True, "risk_level": "high"}
    # Flagged in the register's list filter, the API and the record page.
    flagged = client.get("/lks?open_incident=1").text
    assert "Panti Asuhan Harapan" in flagged
    assert "Panti Asuhan Harapan" not in client.get("/lks?open_incident=0").text
    assert lks["id"] in [i["id"] for i in client.get("/api/v1/lks?open_incident=1").json()["items"]]
    assert "Kasus terbuka" in client.get(f"/lks/{lks['id']}").text
    # The team lead sees the urgent visit in their list at once.
    client.cookies.clear()
    login(client, "agus")
    assert f'href="/tasks/{task["id"]}"' in client.get("/tasks").text


def test_api_records_an_incident(client, call, make_user, make_lks):
    make_user("rina", "staff")
    lks = make_lks("LKSA Melati")
    login(client, "rina")
    h = {"X-CSRFToken": csrf_token(client)}
    body = {"lks_id": lks["id"], "source": "kpai", "category": "neglect", "severity": "high",
            "occurred_on": today_wib().isoformat(), "description": DESCRIPTION}
    r = client.post("/api/v1/incidents", json=body, headers=h)
    assert r.status_code == 201, r.text
    data = r.json()
    assert data["lks"] == lks["id"] and data["status"] == "open" and "description" not in data
    task = call(Task.select().where(Task.id == data["task_id"]).first().run)
    assert task["incident"] == data["id"] and task["kind"] == "incident_response"
    assert DESCRIPTION not in r.text
    # Bad input: a clear message per field, nothing stored.
    r = client.post("/api/v1/incidents", json={**body, "source": "rumor", "occurred_on": "2999-01-01", "description": "x"}, headers=h)
    assert r.status_code == 422 and set(r.json()["fields"]) == {"source", "occurred_on", "description"}
    r = client.post("/api/v1/incidents", json={**body, "lks_id": 999999}, headers=h)
    assert r.status_code == 404
    assert call(Incident.count().run) == 1
    # Lists never carry the description; the detail does, and is audited.
    listed = client.get("/api/v1/incidents").json()["items"]
    assert [i["id"] for i in listed] == [data["id"]] and "description" not in listed[0]
    assert client.get(f"/api/v1/incidents?lks_id={lks['id']}&status=open").json()["items"][0]["id"] == data["id"]
    detail = client.get(f"/api/v1/incidents/{data['id']}")
    assert detail.json()["description"] == DESCRIPTION and detail.json()["tasks"][0]["id"] == data["task_id"]
    assert "no-store" in detail.headers["cache-control"]


def test_the_form_refuses_bad_input(client, call, make_user, make_lks):
    make_user("rina", "staff")
    lks = make_lks("LKSA Anggrek")
    login(client, "rina")
    tomorrow = (today_wib() + timedelta(days=1)).isoformat()
    r = record_form(client, lks["id"], category="", occurred_on=tomorrow, description="pendek")
    assert r.status_code == 422
    assert 'id="f-category" name="category" required aria-required="true" aria-invalid="true"' in r.text
    assert "no-store" in r.headers["cache-control"]
    assert call(Incident.count().run) == 0 and call(Task.count().run) == 0
    assert record_form(client, 999999).status_code == 404


def test_only_staff_see_incidents(client, call, make_user, make_lks):
    world = make_world(call, make_user, make_lks)
    incident = world.incident_a["id"]
    make_user("pengurus", "manager", lks_id=world.lks_a["id"])
    for username in ("agus", "bambang", "pengurus"):
        client.cookies.clear()
        login(client, username)
        h = {"X-CSRFToken": csrf_token(client)}
        responses = {
            "list": client.get("/incidents"),
            "new": client.get(f"/incidents/new?lks_id={world.lks_a['id']}"),
            "create": record_form(client, world.lks_a["id"]),
            "detail": client.get(f"/incidents/{incident}"),
            "action": form(client, f"/incidents/{incident}/actions", {"kind": "note", "note": "coba"}),
            "close": form(client, f"/incidents/{incident}/close", {"outcome": "Ditutup oleh yang tidak berwenang"}),
            "api list": client.get("/api/v1/incidents"),
            "api detail": client.get(f"/api/v1/incidents/{incident}"),
            "api create": client.post("/api/v1/incidents", json={"lks_id": world.lks_a["id"]}, headers=h),
        }
        for what, r in responses.items():
            assert r.status_code == 403, (username, what, r.status_code)
            assert "Rahasia-uji" not in r.text, (username, what)
        assert 'href="/incidents"' not in client.get("/").text  # no menu entry
    assert call(Incident.count().run) == 2 and len(call(IncidentAction.select(IncidentAction.id).run)) == 0
    views = call(AuditEvent.count().where(AuditEvent.action == "incident.view").run)
    assert views == 0


def test_every_view_of_the_details_is_audited(client, call, make_user, make_lks):
    world = make_world(call, make_user, make_lks)
    incident = world.incident_a["id"]
    login(client, "rina")
    rina = world.users["rina"]["id"]

    def views() -> list[dict]:
        return call(AuditEvent.select().where((AuditEvent.action == "incident.view") & (AuditEvent.entity_id == str(incident))).run)

    assert client.get("/incidents").status_code == 200  # a list is not a view of the details
    assert client.get(f"/lks/{world.lks_a['id']}/monitoring").status_code == 200
    assert views() == []
    page = client.get(f"/incidents/{incident}")
    assert page.status_code == 200 and DESCRIPTION in page.text
    assert "no-store" in page.headers["cache-control"]
    client.get(f"/incidents/{incident}")
    client.get(f"/api/v1/incidents/{incident}")
    rows = views()
    assert len(rows) == 3 and {r["actor_id"] for r in rows} == {rina}
    assert all(r["entity_type"] == "incident" for r in rows)


def test_the_description_stays_where_it_belongs(client, call, make_user, make_lks):
    world = make_world(call, make_user, make_lks)
    incident = world.incident_a["id"]
    login(client, "rina")
    assert record_form(client, world.lks_a["id"]).status_code == 303
    client.get(f"/incidents/{incident}")
    form(client, f"/incidents/{incident}/actions", {"kind": "note", "note": "Koordinasi dengan UPTD PPA"})
    form(client, f"/incidents/{incident}/close", {"outcome": "Anak-anak aman, pengasuh diganti; ditutup."})
    assert "Rahasia-uji" not in audit_text(call)
    for path in ("/incidents", "/incidents?status=all", f"/lks/{world.lks_a['id']}", f"/lks/{world.lks_a['id']}/monitoring",
                 "/tasks", f"/tasks/{world.task_a['id']}", "/tasks/calendar", "/api/v1/incidents", "/api/v1/tasks",
                 f"/api/v1/lks/{world.lks_a['id']}"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert "Rahasia-uji" not in r.text, path


def test_the_description_never_reaches_the_server_log(start_server, call, make_user, make_lks):
    """A real server at INFO level: record, view, act, list; its log holds
    neither the description nor the calendar feed token."""
    world = make_world(call, make_user, make_lks)
    server = start_server({"SIGAP_LOG_LEVEL": "INFO"})
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=10) as http:
        http.get("/login")
        token = http.cookies["sigap_csrf"]
        r = http.post("/login", data={"username": "rina", "password": password_for("rina"), "_csrf_token": token, "next": "/"})
        assert r.status_code == 303
        marker = "Rahasia-server: anak dikunci di gudang belakang."
        r = http.post("/incidents", data={
            "lks_id": str(world.lks_b["id"]), "source": "media", "category": "neglect", "severity": "high",
            "occurred_on": today_wib().isoformat(), "description": marker, "_csrf_token": token,
        })
        assert r.status_code == 303, r.text
        incident_id = int(r.headers["location"].split("/")[2].split("?")[0])
        assert marker in http.get(f"/incidents/{incident_id}").text
        r = http.post("/api/v1/incidents", json={
            "lks_id": world.lks_b["id"], "source": "police", "category": "other", "severity": "low",
            "occurred_on": today_wib().isoformat(), "description": marker,
        }, headers={"X-CSRFToken": token})
        assert r.status_code == 201
        assert http.get(f"/api/v1/incidents/{r.json()['id']}").json()["description"] == marker
        # A refused form (description too short) and one with bad input.
        http.post("/incidents", data={"lks_id": str(world.lks_b["id"]), "description": "Rahasia", "_csrf_token": token})
        http.post("/api/v1/incidents", json={"lks_id": "x", "description": marker}, headers={"X-CSRFToken": token})
        for path in ("/tasks", "/tasks/calendar", "/incidents", f"/lks/{world.lks_b['id']}/monitoring"):
            assert http.get(path).status_code == 200
        page = http.post("/tasks/feed", data={"_csrf_token": token, "action": "issue"})
        feed_url = re.search(r'id="feed-url">([^<]+)<', page.text).group(1)
        feed_token = feed_url.rsplit("/", 1)[1].removesuffix(".ics")
        assert httpx.get(feed_url, timeout=10).status_code == 200
        assert httpx.get(server.url + "/tasks/feed/unknown-token.ics", timeout=10).status_code == 404
    log = server.log_text()
    assert '"path": "/incidents"' in log  # the request log is on
    assert '"/tasks/feed/[token].ics"' in log
    assert "Rahasia" not in log
    assert feed_token not in log


def test_children_are_counts_never_names(client, call, make_user, make_lks):
    world = make_world(call, make_user, make_lks)
    incident = world.incident_a["id"]
    login(client, "rina")
    page = client.get(f"/incidents/{incident}").text
    children_form = re.search(r'<form[^>]*>(?:(?!</form>).)*value="children_moved"(?:(?!</form>).)*</form>', page, re.S).group(0)
    names = set(re.findall(r'name="([^"]+)"', children_form))
    assert names == {"_csrf_token", "kind", "count", "note"}
    assert 'type="number"' in children_form and 'min="1"' in children_form
    for bad in ("0", "-3", "", "tiga", "2.5"):
        r = form(client, f"/incidents/{incident}/actions", {"kind": "children_moved", "count": bad})
        assert r.status_code == 422, bad
        assert "Berapa anak yang dipindahkan (jumlah saja, tanpa nama)?" in r.text
    assert len(call(IncidentAction.select(IncidentAction.id).run)) == 0
    r = form(client, f"/incidents/{incident}/actions", {"kind": "children_moved", "count": "13", "note": "Ke RPS Dinsos"})
    assert r.status_code == 303
    rows = call(IncidentAction.select().run)
    assert len(rows) == 1 and rows[0]["count"] == 13 and rows[0]["kind"] == "children_moved"
    # The API has no way to send names either: it records counts through the same service.
    assert "13" in client.get(f"/incidents/{incident}").text


def test_actions_log_and_closing(client, call, make_user, make_lks):
    world = make_world(call, make_user, make_lks)
    incident = world.incident_a["id"]
    lks_id = world.lks_a["id"]
    call(Lks.update({Lks.registration_status: "registered", Lks.certificate_number: "0001/TD-LKS/36.71/2026"}).where(Lks.id == lks_id).run)
    login(client, "rina")
    url = f"/incidents/{incident}/actions"
    assert form(client, url, {"kind": "referral", "referral": "kua"}).status_code == 422
    assert form(client, url, {"kind": "teleport"}).status_code == 422
    assert form(client, url, {"kind": "note", "note": " "}).status_code == 422  # a note needs its text
    assert form(client, url, {"kind": "referral", "referral": "uptd_ppa", "note": "Pendampingan psikologis"}).status_code == 303
    assert form(client, url, {"kind": "admissions_suspended"}).status_code == 303
    assert form(client, url, {"kind": "registration_suspended", "note": "Sampai pemeriksaan selesai"}).status_code == 303
    kinds = [r["kind"] for r in call(IncidentAction.select().order_by(IncidentAction.id).run)]
    assert kinds == ["referral", "admissions_suspended", "registration_suspended"]
    assert call(Lks.select(Lks.registration_status).where(Lks.id == lks_id).first().run)["registration_status"] == "suspended"
    page = client.get(f"/incidents/{incident}").text
    assert "UPTD PPA" in page and "Pendampingan psikologis" in page
    # Closing needs an outcome; then the LKS is no longer flagged and the log is frozen.
    r = form(client, f"/incidents/{incident}/close", {"outcome": "selesai"})
    assert r.status_code == 422
    r = form(client, f"/incidents/{incident}/close", {"outcome": "Pengasuh diganti, anak-anak kembali aman."})
    assert r.status_code == 303
    assert call(Lks.select(Lks.open_incident).where(Lks.id == lks_id).first().run)["open_incident"] is False
    r = form(client, url, {"kind": "note", "note": "Terlambat"})
    assert r.status_code == 409 and "Kasus ini sudah ditutup." in r.text
    page = client.get(f"/incidents/{incident}").text
    assert "Pengasuh diganti, anak-anak kembali aman." in page and f'action="/incidents/{incident}/close"' not in page
    assert client.get("/incidents").status_code == 200
    assert f'href="/incidents/{incident}"' not in client.get("/incidents?status=open").text
    assert f'href="/incidents/{incident}"' in client.get("/incidents?status=closed").text
    # Unknown incidents are 404 everywhere.
    for r in (client.get("/incidents/999999"), form(client, "/incidents/999999/actions", {"kind": "note"}),
              form(client, "/incidents/999999/close", {"outcome": "Tidak ada kasus seperti ini"}),
              client.get("/api/v1/incidents/999999")):
        assert r.status_code == 404


def test_choosing_the_lks_for_a_new_incident(client, call, make_user, make_lks):
    make_user("rina", "staff")
    lks = make_lks("Panti Werdha Budi Luhur", kind="elderly")
    login(client, "rina")
    page = client.get("/incidents/new")
    assert page.status_code == 200 and 'name="description"' not in page.text
    found = client.get("/incidents/new?q=budi").text
    assert f'href="/incidents/new?lks_id={lks["id"]}"' in found
    chosen = client.get(f"/incidents/new?lks_id={lks['id']}").text
    assert 'name="description"' in chosen and 'spellcheck="false"' in chosen
    assert client.get("/incidents/new?lks_id=999999").status_code == 404


def test_a_suspension_that_fails_records_no_action(client, call, make_user, make_lks, monkeypatch):
    """The "registration suspended" action and the suspension are one
    transaction: when the suspension cannot be written, neither is kept."""
    from registry import workflow
    from sigap.errors import Conflict

    world = make_world(call, make_user, make_lks)
    lks_id = world.lks_a["id"]
    call(Lks.update({Lks.registration_status: "registered", Lks.certificate_number: "0002/TD-LKS/36.71/2026"}).where(Lks.id == lks_id).run)

    async def refuses(*args, **kwargs):  # fault injection: the registry refuses the suspension
        raise Conflict("Tidak dapat ditangguhkan sekarang.")

    monkeypatch.setattr(workflow, "transition", refuses)
    login(client, "rina")
    r = form(client, f"/incidents/{world.incident_a['id']}/actions", {"kind": "registration_suspended", "note": "Sampai pemeriksaan"})
    assert r.status_code == 409
    assert call(IncidentAction.select(IncidentAction.id).run) == []
    assert call(Lks.select(Lks.registration_status).where(Lks.id == lks_id).first().run)["registration_status"] == "registered"
