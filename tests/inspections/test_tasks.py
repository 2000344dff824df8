"""Tasks: who sees which (pages, API, monitoring page), and the task life
cycle through the pages and the API (reasons, versions, closed tasks)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import pytest

from inspections.findings.tables import Finding
from inspections.incidents import services as incidents
from inspections.planning import services as planning
from inspections.planning.services import search_tasks
from inspections.planning.tables import Task
from inspections.teams import services as teams
from sigap.audit import Actor
from sigap.i18n import WIB
from sigap.tables import Role
from tests.conftest import csrf_token, form, login

STAFF = Actor(user_id=None, username="petugas", role=Role.staff)
DESCRIPTION = "Rahasia-uji: laporan pemukulan anak oleh pengasuh pada malam hari."
PINANG = "36.71.11"
TANGERANG = "36.71.01"


@dataclass
class World:
    lks_a: dict  # in Pinang, covered by team_a
    lks_b: dict  # in Kecamatan Tangerang, covered by team_b
    team_a: dict
    team_b: dict
    task_a: dict  # the urgent visit of lks_a's incident
    task_b: dict
    incident_a: dict
    users: dict[str, dict]


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def make_world(call, make_user, make_lks) -> World:
    """Two kecamatan teams, each with an inspector (lead) and a partner, and
    an incident (so an urgent task) on an LKS of each area."""
    now = now_utc()
    users = {
        "rina": make_user("rina", "staff", full_name="Rina Marlina"),
        "agus": make_user("agus", "inspector", full_name="Agus Setiawan"),
        "bambang": make_user("bambang", "partner", full_name="Bambang Prasetyo"),
        "dedi": make_user("dedi", "inspector", full_name="Dedi Kurniawan"),
        "eko": make_user("eko", "partner", full_name="Eko Saputra"),
    }
    lks_a = make_lks("LKSA Kasih Bunda", kelurahan_code="36.71.11.1005")
    lks_b = make_lks("LKSA Cahaya Sukarasa", kelurahan_code="36.71.01.1001")
    team_a = call(teams.create_team, STAFF, name="Tim Terpadu Pinang", area_code=PINANG, now=now)
    team_b = call(teams.create_team, STAFF, name="Tim Terpadu Tangerang", area_code=TANGERANG, now=now)
    call(teams.add_member, STAFF, team_a["id"], agency="dinsos", user_id=users["agus"]["id"], is_lead=True, now=now)
    call(teams.add_member, STAFF, team_a["id"], agency="satpol_pp", user_id=users["bambang"]["id"], now=now)
    call(teams.add_member, STAFF, team_a["id"], agency="rt_rw", name="Pak RT Sukamaju", phone="0812 3456 789", now=now)
    call(teams.add_member, STAFF, team_b["id"], agency="dinsos", user_id=users["dedi"]["id"], is_lead=True, now=now)
    call(teams.add_member, STAFF, team_b["id"], agency="kelurahan", user_id=users["eko"]["id"], now=now)
    incident_a = call(
        incidents.record_incident, STAFF, lks_id=lks_a["id"], source="public_complaint", category="physical_abuse",
        severity="critical", occurred_on=now.astimezone(WIB).date(), description=DESCRIPTION, now=now,
    )
    call(
        incidents.record_incident, STAFF, lks_id=lks_b["id"], source="police", category="neglect", severity="high",
        occurred_on=now.astimezone(WIB).date(), description=DESCRIPTION, now=now,
    )
    task_a = call(search_tasks, STAFF, lks_id=lks_a["id"])[0]
    task_b = call(search_tasks, STAFF, lks_id=lks_b["id"])[0]
    return World(lks_a, lks_b, team_a, team_b, task_a, task_b, incident_a, users)


@pytest.fixture
def world(call, make_user, make_lks) -> World:
    return make_world(call, make_user, make_lks)


def add_routine(call, lks_id: int, team_id: int | None, lead: int | None, due: date, **extra) -> dict:
    now = now_utc()
    call(planning.insert_tasks, [{
        "lks": lks_id, "kind": "routine", "status": "open", "team": team_id, "lead": lead, "due_on": due, "unannounced": False,
        "unique_key": f"test-routine:{lks_id}:{due.isoformat()}", "created_at": now, "updated_at": now, **extra,
    }])
    return call(Task.select().where(Task.unique_key == f"test-routine:{lks_id}:{due.isoformat()}").first().run)


def task_row(call, task_id: int) -> dict:
    return call(Task.select().where(Task.id == task_id).first().run)


def act(client, task_id: int, action: str, **fields):
    version = fields.pop("version", None)
    if version is None:
        version = client.get(f"/api/v1/tasks/{task_id}").json()["version"]
    return form(client, f"/tasks/{task_id}/action", {"action": action, "version": str(version), **fields})


# --- visibility ---------------------------------------------------------------------


@pytest.mark.parametrize("username", ["agus", "bambang"])
def test_field_users_see_only_their_teams_tasks(username, client, world):
    login(client, username)
    a, b = world.task_a["id"], world.task_b["id"]
    page = client.get("/tasks")
    assert page.status_code == 200
    assert f'href="/tasks/{a}"' in page.text and f'href="/tasks/{b}"' not in page.text
    assert "LKSA Kasih Bunda" in page.text and "LKSA Cahaya Sukarasa" not in page.text
    assert client.get(f"/tasks/{a}").status_code == 200
    other = client.get(f"/tasks/{b}")
    assert other.status_code == 404 and "LKSA Cahaya Sukarasa" not in other.text
    # Acting on another team's task is "not found" too, and changes nothing.
    assert act(client, b, "start", version=1).status_code == 404
    # The API: the same rule.
    items = client.get("/api/v1/tasks").json()["items"]
    assert [t["id"] for t in items] == [a]
    assert client.get(f"/api/v1/tasks?lks_id={world.lks_b['id']}").json()["items"] == []
    assert client.get(f"/api/v1/tasks?team_id={world.team_b['id']}").json()["items"] == []
    assert client.get(f"/api/v1/tasks/{b}").status_code == 404
    r = client.post(f"/api/v1/tasks/{b}/actions", json={"action": "start", "version": 1}, headers={"X-CSRFToken": csrf_token(client)})
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    # The calendar of the month the tasks are due in.
    month = world.task_a["due_on"].strftime("%Y-%m")
    calendar = client.get(f"/tasks/calendar?month={month}")
    assert f'href="/tasks/{a}"' in calendar.text and f'href="/tasks/{b}"' not in calendar.text
    # The monitoring page of an LKS in their area, not of another.
    assert client.get(f"/lks/{world.lks_a['id']}/monitoring").status_code == 200
    assert client.get(f"/lks/{world.lks_b['id']}/monitoring").status_code == 404
    # The register itself is not theirs.
    assert client.get(f"/lks/{world.lks_a['id']}").status_code == 403


def test_staff_see_every_task_and_filter(client, world, call):
    later = add_routine(call, world.lks_a["id"], world.team_a["id"], world.users["agus"]["id"], now_utc().date() + timedelta(days=20))
    login(client, "rina")
    page = client.get("/tasks")
    for task in (world.task_a, world.task_b, later):
        assert f'href="/tasks/{task["id"]}"' in page.text
    by_team = client.get(f"/tasks?team={world.team_b['id']}").text
    assert f'href="/tasks/{world.task_b["id"]}"' in by_team and f'href="/tasks/{world.task_a["id"]}"' not in by_team
    by_kind = client.get("/tasks?kind=routine").text
    assert f'href="/tasks/{later["id"]}"' in by_kind and f'href="/tasks/{world.task_a["id"]}"' not in by_kind
    by_area = client.get(f"/tasks?kecamatan={TANGERANG}").text
    assert f'href="/tasks/{world.task_b["id"]}"' in by_area and f'href="/tasks/{later["id"]}"' not in by_area
    done = client.get("/tasks?status=done").text
    assert f'href="/tasks/{world.task_a["id"]}"' not in done
    # Rubbish in the filters is ignored, not an error.
    assert client.get("/tasks?team=abc&kind=x&kecamatan=<script>&status=zzz&from=kemarin").status_code == 200
    api = client.get(f"/api/v1/tasks?status=open&team_id={world.team_a['id']}").json()["items"]
    assert {t["id"] for t in api} == {world.task_a["id"], later["id"]}
    assert all("unique_key" not in t for t in api)


def test_mine_filter_shows_tasks_the_user_leads(client, world, call):
    unled = add_routine(call, world.lks_a["id"], world.team_a["id"], None, now_utc().date() + timedelta(days=3))
    login(client, "agus")
    everything = client.get("/tasks").text
    mine = client.get("/tasks?mine=1").text
    assert f'href="/tasks/{unled["id"]}"' in everything and f'href="/tasks/{unled["id"]}"' not in mine
    assert f'href="/tasks/{world.task_a["id"]}"' in mine
    assert [t["id"] for t in client.get("/api/v1/tasks?mine=true").json()["items"]] == [world.task_a["id"]]


def test_a_user_in_no_team_sees_no_task(client, world, make_user):
    make_user("sendiri", "inspector")
    login(client, "sendiri")
    assert client.get("/api/v1/tasks").json()["items"] == []
    assert "LKSA Kasih Bunda" not in client.get("/tasks").text
    assert client.get(f"/tasks/{world.task_a['id']}").status_code == 404
    assert client.get(f"/lks/{world.lks_a['id']}/monitoring").status_code == 404


def test_managers_never_see_tasks(client, world, make_user):
    manager = make_user("pengurus", "manager", lks_id=world.lks_a["id"])
    login(client, "pengurus")
    task = world.task_a["id"]
    for path in ("/tasks", f"/tasks/{task}", "/tasks/calendar", f"/lks/{manager['lks_id']}/monitoring",
                 "/api/v1/tasks", f"/api/v1/tasks/{task}", f"/api/v1/tasks?lks_id={manager['lks_id']}"):
        r = client.get(path)
        assert r.status_code == 403, path
        assert "LKSA Kasih Bunda" not in r.text, path
    h = {"X-CSRFToken": csrf_token(client)}
    assert client.post(f"/api/v1/tasks/{task}/actions", json={"action": "start", "version": 1}, headers=h).status_code == 403
    assert act(client, task, "start", version=1).status_code == 403
    assert form(client, "/tasks/feed").status_code == 403
    # Their own LKS page says nothing about visits or incidents.
    own = client.get(f"/lks/{manager['lks_id']}")
    assert own.status_code == 200
    assert "/monitoring" not in own.text and "/incidents" not in own.text and "/tasks" not in own.text
    assert 'href="/tasks"' not in client.get("/").text  # no menu entry


def test_monitoring_page_shows_risk_reasons_tasks_findings(client, world, call):
    now = now_utc()
    call(Finding.insert(Finding(lks=world.lks_a["id"], severity="critical", description="Kamar tidur tanpa ventilasi",
                                due_on=now.date() + timedelta(days=10), status="open", created_at=now)).run)
    login(client, "rina")
    page = client.get(f"/lks/{world.lks_a['id']}/monitoring")
    assert page.status_code == 200
    assert "Risiko tinggi" in page.text  # risk level, from the registry's labels
    assert "1 kasus terbuka" in page.text  # a reason
    assert f'href="/tasks/{world.task_a["id"]}"' in page.text
    assert "Kamar tidur tanpa ventilasi" in page.text
    assert f'href="/incidents/{world.incident_a["id"]}"' in page.text  # staff see incidents
    assert DESCRIPTION not in page.text
    # The partner of the team sees the page without the incidents.
    client.cookies.clear()
    login(client, "bambang")
    page = client.get(f"/lks/{world.lks_a['id']}/monitoring")
    assert page.status_code == 200 and f'href="/tasks/{world.task_a["id"]}"' in page.text
    assert "/incidents/" not in page.text and DESCRIPTION not in page.text
    # The register's page links staff to it.
    client.cookies.clear()
    login(client, "rina")
    assert f'href="/lks/{world.lks_a["id"]}/monitoring"' in client.get(f"/lks/{world.lks_a['id']}").text


def test_overdue_and_unannounced_are_marked(client, world, call):
    past = add_routine(call, world.lks_a["id"], world.team_a["id"], world.users["agus"]["id"], now_utc().date() - timedelta(days=5))
    login(client, "agus")
    page = client.get("/tasks").text
    row = re.search(rf'<tr class="overdue">(?:(?!</tr>).)*href="/tasks/{past["id"]}"', page, re.S)
    assert row, "the overdue task's row is marked"
    urgent = re.search(rf'<tr>(?:(?!</tr>).)*href="/tasks/{world.task_a["id"]}".*?</tr>', page, re.S).group(0)
    assert "badge-unannounced" in urgent and 'class="overdue"' not in urgent
    assert client.get("/api/v1/tasks").json()["items"][0]["overdue"] is True
    detail = client.get(f"/tasks/{world.task_a['id']}").text
    assert "badge-unannounced" in detail


# --- the life cycle -------------------------------------------------------------------


def test_start_reschedule_and_cancel_need_what_they_need(client, world, call):
    task_id = world.task_a["id"]
    login(client, "agus")
    r = act(client, task_id, "start")
    assert r.status_code == 303 and task_row(call, task_id)["status"] == "in_progress"
    # Rescheduling needs a reason and a date that is not past.
    tomorrow = (now_utc().astimezone(WIB).date() + timedelta(days=1)).isoformat()
    r = act(client, task_id, "reschedule", due_on=tomorrow, reason="")
    assert r.status_code == 422 and "Tuliskan alasannya (minimal 5 karakter)." in r.text
    r = act(client, task_id, "reschedule", due_on="2020-01-01", reason="Tim tidak lengkap")
    assert r.status_code == 422
    r = act(client, task_id, "reschedule", due_on="31-12-2030", reason="Tim tidak lengkap")
    assert r.status_code == 422
    assert task_row(call, task_id)["due_on"] == world.task_a["due_on"]
    r = act(client, task_id, "reschedule", due_on=tomorrow, reason="Satpol PP baru bisa besok")
    assert r.status_code == 303
    row = task_row(call, task_id)
    assert row["due_on"].isoformat() == tomorrow and row["reason"] == "Satpol PP baru bisa besok" and row["due_at"] is None
    detail = client.get(f"/tasks/{task_id}").text
    assert "Satpol PP baru bisa besok" in detail  # the reason, and in the history
    # Cancelling needs a reason.
    r = act(client, task_id, "cancel", reason="")
    assert r.status_code == 422 and task_row(call, task_id)["status"] == "in_progress"
    r = act(client, task_id, "cancel", reason="Laporan ternyata salah alamat")
    assert r.status_code == 303 and task_row(call, task_id)["status"] == "cancelled"
    # A closed task refuses every action.
    for action in ("start", "complete", "reschedule", "cancel"):
        r = act(client, task_id, action, outcome="satisfactory", due_on=tomorrow, reason="Coba lagi saja")
        assert r.status_code == 409 and "Tugas ini sudah ditutup." in r.text, action
    assert task_row(call, task_id)["status"] == "cancelled"


def test_stale_version_is_a_conflict(client, world, call):
    task_id = world.task_a["id"]
    login(client, "agus")
    version = task_row(call, task_id)["version"]
    assert act(client, task_id, "start", version=version).status_code == 303
    r = act(client, task_id, "cancel", version=version, reason="Form lama dari tablet lain")
    assert r.status_code == 409
    assert "Tugas ini baru saja diubah oleh orang lain." in r.text
    assert task_row(call, task_id)["status"] == "in_progress"
    h = {"X-CSRFToken": csrf_token(client)}
    r = client.post(f"/api/v1/tasks/{task_id}/actions", json={"action": "cancel", "version": version, "reason": "Form lama"}, headers=h)
    assert r.status_code == 409 and r.json()["error"] == "conflict"


def test_partners_start_and_complete_but_never_reschedule_or_cancel(client, world, call):
    task_id = world.task_a["id"]
    login(client, "bambang")
    detail = client.get(f"/tasks/{task_id}").text
    assert 'value="reschedule"' not in detail and 'value="cancel"' not in detail
    tomorrow = (now_utc().astimezone(WIB).date() + timedelta(days=1)).isoformat()
    r = act(client, task_id, "reschedule", due_on=tomorrow, reason="Saya berhalangan hadir")
    assert r.status_code == 403 and "Hanya petugas Dinas Sosial" in r.text
    r = act(client, task_id, "cancel", reason="Saya berhalangan hadir")
    assert r.status_code == 403
    h = {"X-CSRFToken": csrf_token(client)}
    version = task_row(call, task_id)["version"]
    r = client.post(f"/api/v1/tasks/{task_id}/actions", json={"action": "cancel", "version": version, "reason": "Berhalangan"}, headers=h)
    assert r.status_code == 403
    assert act(client, task_id, "start").status_code == 303
    r = act(client, task_id, "complete", outcome="")
    assert r.status_code == 422 and task_row(call, task_id)["status"] == "in_progress"
    r = act(client, task_id, "complete", outcome="concerns", notes="Pengasuh kurang; anak-anak sehat.")
    assert r.status_code == 303
    row = task_row(call, task_id)
    assert row["status"] == "done" and row["outcome"] == "concerns" and row["done_at"] is not None


def test_complete_with_a_finding(client, world, call):
    task_id = world.task_a["id"]
    login(client, "agus")
    due = (now_utc().astimezone(WIB).date() + timedelta(days=30)).isoformat()
    # A finding without a description is refused, and the visit stays open.
    r = act(client, task_id, "complete", outcome="critical", finding_severity="critical", finding_description="", finding_due_on=due)
    assert r.status_code == 422 and task_row(call, task_id)["status"] == "open"
    assert call(Finding.count().where(Finding.task == task_id).run) == 0
    r = act(client, task_id, "complete", outcome="critical", notes="Kunjungan bersama Satpol PP.",
            finding_severity="critical", finding_description="Tidak ada pengasuh malam hari", finding_due_on=due)
    assert r.status_code == 303
    findings = call(Finding.select().where(Finding.task == task_id).run)
    assert len(findings) == 1 and findings[0]["severity"] == "critical" and findings[0]["due_on"].isoformat() == due
    assert "Tidak ada pengasuh malam hari" in client.get(f"/tasks/{task_id}").text


def test_api_actions(client, world, call):
    task_id = world.task_a["id"]
    login(client, "agus")
    h = {"X-CSRFToken": csrf_token(client)}
    url = f"/api/v1/tasks/{task_id}/actions"
    r = client.post(url, json={"action": "start"}, headers=h)
    assert r.status_code == 422 and r.json()["fields"] == {"version": "Wajib diisi."}
    version = client.get(f"/api/v1/tasks/{task_id}").json()["version"]
    r = client.post(url, json={"action": "start", "version": version}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "in_progress" and r.json()["version"] == version + 1
    r = client.post(url, json={"action": "reschedule", "version": version + 1, "due_on": "2030-01-02"}, headers=h)
    assert r.status_code == 422 and "reason" in r.json()["fields"]
    r = client.post(url, json={"action": "fly", "version": version + 1}, headers=h)
    assert r.status_code == 422
    due = (now_utc().astimezone(WIB).date() + timedelta(days=14)).isoformat()
    r = client.post(url, json={"action": "complete", "version": version + 1, "outcome": "concerns", "notes": "Catatan",
                               "finding": {"severity": "major", "description": "Kotak P3K kosong", "due_on": due}}, headers=h)
    assert r.status_code == 200 and r.json()["status"] == "done"
    assert call(Finding.count().where(Finding.task == task_id).run) == 1
    r = client.post(url, json={"action": "cancel", "version": version + 2, "reason": "Terlambat"}, headers=h)
    assert r.status_code == 409


def test_task_pages_never_show_the_incident_description(client, world):
    for username in ("rina", "agus"):
        client.cookies.clear()
        login(client, username)
        for path in ("/tasks", f"/tasks/{world.task_a['id']}", "/tasks/calendar", f"/lks/{world.lks_a['id']}/monitoring",
                     "/api/v1/tasks", f"/api/v1/tasks/{world.task_a['id']}"):
            r = client.get(path)
            assert r.status_code == 200, (username, path)
            assert "Rahasia-uji" not in r.text, (username, path)
    # Staff get a link to the incident from its visit; field users do not.
    client.cookies.clear()
    login(client, "rina")
    assert f'href="/incidents/{world.incident_a["id"]}"' in client.get(f"/tasks/{world.task_a['id']}").text
    client.cookies.clear()
    login(client, "agus")
    assert "/incidents/" not in client.get(f"/tasks/{world.task_a['id']}").text


def test_two_officers_acting_at_once_on_one_task_one_wins(call, world):
    """Both hold version 1 and start the task at the same moment: one starts
    it, the other is told it changed meanwhile (PostgreSQL locks the row)."""
    import asyncio

    from sigap.errors import Conflict

    task = world.task_a

    async def both():
        return await asyncio.gather(
            *(planning.act_on_task(STAFF, task["id"], "start", version=task["version"], now=now_utc()) for _ in range(3)),
            return_exceptions=True,
        )

    results = call(both)
    assert sum(isinstance(r, dict) for r in results) == 1, results
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, dict))
    assert task_row(call, task["id"])["version"] == task["version"] + 1
