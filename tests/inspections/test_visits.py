"""Visit reports through the API: filing (completes the task), the checks
(unanswered items, key items), stored once per client id even when sent
30 times at once, one report per task, who files and who reviews, return
and resubmission with versions, checklist versions kept."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx

from inspections.planning.tables import Task
from inspections.visits import checklists
from inspections.visits.tables import Visit
from sigap.audit import Actor
from sigap.tables import Role
from tests.inspections.visit_world import VisitWorld, jpeg_bytes, sign_in, world  # noqa: F401  (fixture)


def test_filing_a_report_stores_it_and_completes_the_task(client, call, world: VisitWorld):
    headers = sign_in(client, world.users["lead"])
    body = world.key_no_body()
    response = client.post("/api/v1/visits", json=body, headers=headers)
    assert response.status_code == 201, response.text
    visit = response.json()
    assert visit["status"] == "submitted" and visit["task_id"] == world.task["id"] and visit["lks_id"] == world.lks["id"]
    assert visit["answers"]["A1"] == "no" and visit["outcome"] == "needs_improvement"
    assert [f["question_code"] for f in visit["findings"]] == ["A1"] and visit["findings"][0]["id"]
    assert visit["photos_missing"] == ["photo-key-0001"]
    assert 100 < visit["distance_m"] < 130 and visit["far_start"] is False
    assert visit["internal_notes"] == "Catatan internal tim."
    task = call(Task.select(Task.status, Task.outcome).where(Task.id == world.task["id"]).first)
    assert task == {"status": "done", "outcome": "concerns"}
    again = client.post("/api/v1/visits", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == visit["id"]
    assert call(Visit.count) == 1


def test_unanswered_questions_are_listed_next_to_their_codes(client, world: VisitWorld):
    headers = sign_in(client, world.users["lead"])
    body = world.body()
    del body["answers"]["B2"]
    body["answers"]["C1"] = ""
    body["answers"]["F4"] = "banyak"
    response = client.post("/api/v1/visits", json=body, headers=headers)
    assert response.status_code == 422
    fields = response.json()["fields"]
    assert fields["answers.B2"] == fields["answers.C1"] == "Belum dijawab."
    assert "answers.F4" in fields and "answers.A1" not in fields


def test_a_key_item_answered_no_needs_a_finding_and_a_photo(client, world: VisitWorld):
    headers = sign_in(client, world.users["lead"])
    body = world.key_no_body()
    body["findings"], body["photos"] = [], []
    fields = client.post("/api/v1/visits", json=body, headers=headers).json()["fields"]
    assert "findings.A1" in fields and "photos.A1" in fields
    body = world.key_no_body()
    body["photos"] = []
    body["findings"][0]["finding_ref"] = None
    fields = client.post("/api/v1/visits", json=body, headers=headers).json()["fields"]
    assert "findings.A1" not in fields and "photos.A1" in fields
    assert client.post("/api/v1/visits", json=world.key_no_body(), headers=headers).status_code == 201


def test_a_second_report_for_the_same_task_is_a_conflict(client, world: VisitWorld):
    headers = sign_in(client, world.users["lead"])
    assert client.post("/api/v1/visits", json=world.body(), headers=headers).status_code == 201
    headers = sign_in(client, world.users["member"])
    response = client.post("/api/v1/visits", json=world.body(), headers=headers)
    assert response.status_code == 409
    assert response.json()["error"] == "conflict" and response.json().get("fields", {}) == {}


def test_a_report_queued_by_one_account_is_not_filed_by_the_next_on_the_same_tablet(client, call, world: VisitWorld):
    """Shared tablet: the lead queued a report offline and signed out; the
    member signs in and the page's outbox tries to send it. Refused, nothing
    stored, the task still open; the lead sends it later and it is theirs."""
    body = {**world.body(), "author": world.users["lead"]["id"]}
    headers = sign_in(client, world.users["member"])
    response = client.post("/api/v1/visits", json=body, headers=headers)
    assert response.status_code == 409, response.text
    assert "another account" in response.json()["message"] or "akun lain" in response.json()["message"]
    assert call(Visit.count) == 0
    assert call(Task.select(Task.status).where(Task.id == world.task["id"]).first)["status"] != "done"
    bad = client.post("/api/v1/visits", json={**body, "author": "agus"}, headers=headers)
    assert bad.status_code in (400, 422) and "author" in bad.text, bad.text
    headers = sign_in(client, world.users["lead"])
    response = client.post("/api/v1/visits", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert call(Visit.select(Visit.filed_by).first)["filed_by"] == world.users["lead"]["id"]


def test_thirty_concurrent_copies_of_one_report_store_it_once(client, call, world: VisitWorld):
    headers = sign_in(client, world.users["lead"])
    body = world.body()
    cookies = dict(client.cookies)

    async def send_all():
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000", cookies=cookies) as http:
            return await asyncio.gather(*(http.post("/api/v1/visits", json=body, headers=headers) for _ in range(30)))

    responses = call(send_all)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 29 + [201], [r.text for r in responses if r.status_code >= 300][:2]
    assert len({r.json()["id"] for r in responses}) == 1
    assert call(Visit.count) == 1


def test_partners_managers_and_other_teams_cannot_file(client, world: VisitWorld):
    for name, status in (("partner", 403), ("other", 404), ("manager", 403)):
        headers = sign_in(client, world.users[name])
        assert client.post("/api/v1/visits", json=world.body(), headers=headers).status_code == status, name
    headers = sign_in(client, world.users["member"])
    assert client.post("/api/v1/visits", json=world.body(), headers=headers).status_code == 201


def test_the_team_reads_its_reports_and_others_do_not(client, world: VisitWorld):
    headers = sign_in(client, world.users["lead"])
    visit = client.post("/api/v1/visits", json=world.body(), headers=headers).json()
    sign_in(client, world.users["partner"])
    assert client.get(f"/api/v1/visits/{visit['id']}").status_code == 200
    assert [v["id"] for v in client.get(f"/api/v1/visits?lks_id={world.lks['id']}").json()["items"]] == [visit["id"]]
    sign_in(client, world.users["other"])
    assert client.get(f"/api/v1/visits/{visit['id']}").status_code == 404
    assert client.get("/api/v1/visits").json()["items"] == []
    sign_in(client, world.users["manager"])
    assert client.get(f"/api/v1/visits/{visit['id']}").status_code == 403


def test_only_staff_review_and_approval_waits_for_the_photos(client, world: VisitWorld):
    headers = sign_in(client, world.users["lead"])
    visit = client.post("/api/v1/visits", json=world.key_no_body(), headers=headers).json()
    decision = {"decision": "approve", "comment": "", "version": visit["version"]}
    for name in ("lead", "partner", "manager"):
        headers = sign_in(client, world.users[name])
        assert client.post(f"/api/v1/visits/{visit['id']}/review", json=decision, headers=headers).status_code == 403, name
    headers = sign_in(client, world.users["staff"])
    blocked = client.post(f"/api/v1/visits/{visit['id']}/review", json=decision, headers=headers)
    assert blocked.status_code == 409 and "1 foto" in blocked.json()["message"]
    headers = sign_in(client, world.users["lead"])
    photo = {"client_id": "photo-key-0001", "question_code": "A1", "finding_ref": "f1", "taken_at": "2026-11-30T09:15:00+07:00",
             "latitude": "-6.2", "longitude": "106.65"}
    sent = client.post(f"/api/v1/visits/{visit['id']}/photos", data=photo, files={"file": ("a.jpg", jpeg_bytes(), "image/jpeg")}, headers=headers)
    assert sent.status_code == 201, sent.text
    headers = sign_in(client, world.users["staff"])
    approved = client.post(f"/api/v1/visits/{visit['id']}/review", json=decision, headers=headers)
    assert approved.status_code == 200 and approved.json()["status"] == "approved" and approved.json()["photos_missing"] == []


def test_a_returned_report_is_resubmitted_with_its_version(client, world: VisitWorld):
    headers = sign_in(client, world.users["lead"])
    body = world.body()
    visit = client.post("/api/v1/visits", json=body, headers=headers).json()
    headers = sign_in(client, world.users["staff"])
    short = client.post(f"/api/v1/visits/{visit['id']}/review", json={"decision": "return", "version": 1}, headers=headers)
    assert short.status_code == 422 and "comment" in short.json()["fields"]
    unversioned = client.post(f"/api/v1/visits/{visit['id']}/review", json={"decision": "approve"}, headers=headers)
    assert unversioned.status_code == 422 and "version" in unversioned.json()["fields"]
    returned = client.post(
        f"/api/v1/visits/{visit['id']}/review", json={"decision": "return", "comment": "Lengkapi jumlah anak.", "version": 1}, headers=headers
    ).json()
    assert returned["status"] == "returned" and returned["version"] == 2
    headers = sign_in(client, world.users["lead"])
    stale = client.post(f"/api/v1/visits/{visit['id']}/resubmit", json={**body, "version": 1}, headers=headers)
    assert stale.status_code == 409 and stale.json()["error"] == "conflict" and stale.json().get("fields", {}) == {}
    fixed = client.post(f"/api/v1/visits/{visit['id']}/resubmit", json={**body, "summary": "Sudah dilengkapi.", "version": 2}, headers=headers)
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["status"] == "submitted" and fixed.json()["summary"] == "Sudah dilengkapi." and fixed.json()["version"] == 3
    assert client.get(f"/api/v1/visits/{visit['id']}").json()["review_comment"] == "Lengkapi jumlah anak."


def test_a_report_keeps_its_checklist_version_after_an_admin_saves_a_new_one(client, call, world: VisitWorld):
    headers = sign_in(client, world.users["lead"])
    visit = client.post("/api/v1/visits", json=world.body(), headers=headers).json()
    admin = Actor(user_id=world.users["admin"]["id"], username="admin1", role=Role.admin)
    current = call(checklists.current_of_code, admin, "lksa")
    text = checklists.editable_text(current).replace("Rencana", "Rencana tertulis", 1)
    new = call(checklists.save_new_version, admin, "lksa", text, now=datetime.now(UTC))
    assert new["version"] == 2 and new["is_current"]
    items = client.get("/api/v1/checklists").json()["items"]
    assert next(i for i in items if i["lks_kind"] == "lksa")["id"] == new["id"]
    assert client.get(f"/api/v1/visits/{visit['id']}").json()["checklist_id"] == world.checklist["id"]
    old = call(checklists.get_checklist, world.checklist["id"])
    assert old["version"] == 1 and not old["is_current"]


def test_a_start_far_from_the_registered_point_is_flagged(client, world: VisitWorld):
    headers = sign_in(client, world.users["lead"])
    body = world.body(position={"lat": -6.2300, "lng": 106.6540, "accuracy_m": 8})
    visit = client.post("/api/v1/visits", json=body, headers=headers).json()
    assert visit["far_start"] is True and visit["distance_m"] > 2000

