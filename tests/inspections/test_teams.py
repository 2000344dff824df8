"""Joint teams: created by staff for a kecamatan (or the city); members are
accounts (inspector, partner, staff) or named contacts with an agency; the
lead receives the team's tasks."""

from __future__ import annotations

from datetime import datetime, timezone

from inspections.planning.tables import Task
from inspections.teams import services as teams
from inspections.teams.tables import Team, TeamMember
from sigap.audit import Actor
from sigap.tables import AuditEvent, Role
from tests.conftest import csrf_token, form, login

STAFF = Actor(user_id=None, username="petugas", role=Role.staff)


def members(call, team_id: int) -> list[dict]:
    return call(TeamMember.select().where(TeamMember.team == team_id).order_by(TeamMember.id).run)


def test_staff_create_a_team_for_a_kecamatan(client, call, make_user):
    make_user("rina", "staff")
    login(client, "rina")
    page = client.get("/teams/new")
    assert page.status_code == 200
    assert 'value="36.71"' in page.text and 'value="36.71.11"' in page.text  # the city and its kecamatan
    assert 'value="36.71.11.1005"' not in page.text  # kelurahan are not offered
    r = form(client, "/teams", {"name": "T", "area_code": "99.99"})
    assert r.status_code == 422
    assert 'aria-invalid="true"' in r.text and call(Team.count().run) == 0
    r = form(client, "/teams", {"name": "Tim Terpadu Pinang", "area_code": "36.71.11"})
    assert r.status_code == 303
    team_id = int(r.headers["location"].split("/")[2].split("?")[0])
    page = client.get(f"/teams/{team_id}")
    assert page.status_code == 200 and "Tim Terpadu Pinang" in page.text and "Pinang" in page.text
    listing = client.get("/teams").text
    assert f'href="/teams/{team_id}"' in listing
    assert call(AuditEvent.count().where(AuditEvent.action == "team.create").run) == 1


def test_members_accounts_and_contacts(client, call, make_user):
    make_user("rina", "staff")
    agus = make_user("agus", "inspector", full_name="Agus Setiawan")
    bambang = make_user("bambang", "partner", full_name="Bambang Prasetyo")
    manager = make_user("pengurus", "manager")
    team = call(teams.create_team, STAFF, name="Tim Terpadu Pinang", area_code="36.71.11", now=datetime.now(timezone.utc))
    login(client, "rina")
    page = client.get(f"/teams/{team['id']}").text
    assert f'<option value="{agus["id"]}"' in page and f'<option value="{bambang["id"]}"' in page
    assert f'<option value="{manager["id"]}"' not in page  # a manager cannot join
    url = f"/teams/{team['id']}/members"
    # An account: inspector as lead.
    assert form(client, url, {"mode": "account", "user_id": str(agus["id"]), "agency": "dinsos", "is_lead": "1"}).status_code == 303
    assert form(client, url, {"mode": "account", "user_id": str(bambang["id"]), "agency": "satpol_pp"}).status_code == 303
    # Refused: no account chosen, a manager's account, the same account twice, an unknown agency.
    assert form(client, url, {"mode": "account", "user_id": "", "agency": "dinsos"}).status_code == 422
    assert form(client, url, {"mode": "account", "user_id": str(manager["id"]), "agency": "dinsos"}).status_code == 422
    r = form(client, url, {"mode": "account", "user_id": str(agus["id"]), "agency": "dinsos"})
    assert r.status_code == 409 and "Akun ini sudah menjadi anggota tim." in r.text
    assert form(client, url, {"mode": "account", "user_id": str(bambang["id"]), "agency": "ormas"}).status_code == 422
    # A contact without an account: a name and an agency; the phone is optional but checked.
    assert form(client, url, {"mode": "contact", "name": "", "agency": "rt_rw"}).status_code == 422
    r = form(client, url, {"mode": "contact", "name": "Pak Harun (Ketua RT 03)", "agency": "rt_rw", "phone": "0812-3456-7890-1234-5678-9"})
    assert r.status_code == 422
    assert form(client, url, {"mode": "contact", "name": "Pak Harun (Ketua RT 03)", "agency": "rt_rw", "phone": "0812 3456 7890"}).status_code == 303
    rows = members(call, team["id"])
    assert [(r["user"], r["agency"], r["is_lead"]) for r in rows] == [
        (agus["id"], "dinsos", True), (bambang["id"], "satpol_pp", False), (None, "rt_rw", False),
    ]
    assert rows[2]["name"] == "Pak Harun (Ketua RT 03)" and rows[2]["phone"] == "0812 3456 7890"
    page = client.get(f"/teams/{team['id']}").text
    assert "Agus Setiawan" in page and "Pak Harun (Ketua RT 03)" in page and 'href="tel:081234567890"' in page
    # The lead gets the team's tasks.
    assert call(teams.team_leads)[team["id"]] == agus["id"]
    # The API shows the same team.
    api = client.get(f"/api/v1/teams/{team['id']}").json()
    assert api["lead"] == agus["id"] and [m["id"] for m in api["members"]] == [r["id"] for r in rows]
    # Removing a member; a member of another team through this team's URL is 404.
    other = call(teams.create_team, STAFF, name="Tim Kota", area_code="36.71", now=datetime.now(timezone.utc))
    assert form(client, f"/teams/{other['id']}/members/{rows[1]['id']}/remove").status_code == 404
    assert form(client, f"/teams/{team['id']}/members/{rows[1]['id']}/remove").status_code == 303
    assert [r["id"] for r in members(call, team["id"])] == [rows[0]["id"], rows[2]["id"]]
    assert form(client, f"/teams/{team['id']}/members/{rows[1]['id']}/remove").status_code == 404
    assert client.get("/teams/999999").status_code == 404


def test_the_most_specific_team_and_its_lead_get_the_task(client, call, make_user, make_lks):
    make_user("rina", "staff")
    agus = make_user("agus", "inspector")
    kota = make_user("kota", "inspector")
    now = datetime.now(timezone.utc)
    city = call(teams.create_team, STAFF, name="Tim Kota", area_code="36.71", now=now)
    pinang = call(teams.create_team, STAFF, name="Tim Pinang", area_code="36.71.11", now=now)
    call(teams.add_member, STAFF, city["id"], agency="dinsos", user_id=kota["id"], now=now)
    call(teams.add_member, STAFF, pinang["id"], agency="dinsos", user_id=agus["id"], now=now)
    in_pinang = make_lks("LKSA Pinang", kelurahan_code="36.71.11.1005")
    elsewhere = make_lks("LKSA Benda", kelurahan_code="36.71.04.1001")
    login(client, "rina")
    h = {"X-CSRFToken": csrf_token(client)}
    for lks in (in_pinang, elsewhere):
        body = {"lks_id": lks["id"], "source": "media", "category": "neglect", "severity": "medium",
                "occurred_on": now.date().isoformat(), "description": "Pemberitaan media tentang penelantaran."}
        assert client.post("/api/v1/incidents", json=body, headers=h).status_code == 201
    tasks = {t["lks"]: t for t in call(Task.select().run)}
    assert (tasks[in_pinang["id"]]["team"], tasks[in_pinang["id"]]["lead"]) == (pinang["id"], agus["id"])
    assert (tasks[elsewhere["id"]]["team"], tasks[elsewhere["id"]]["lead"]) == (city["id"], kota["id"])
    page = client.get(f"/teams/{pinang['id']}").text
    assert f'href="/tasks?team={pinang["id"]}"' in page


def test_teams_api(client, call, make_user):
    make_user("rina", "staff")
    login(client, "rina")
    h = {"X-CSRFToken": csrf_token(client)}
    r = client.post("/api/v1/teams", json={"name": "Tim Terpadu Benda", "area_code": "36.71.04"}, headers=h)
    assert r.status_code == 201 and r.json()["area_code"] == "36.71.04"
    r = client.post("/api/v1/teams", json={"name": "", "area_code": "36.71.04.1001.9"}, headers=h)
    assert r.status_code == 422 and set(r.json()["fields"]) == {"name", "area_code"}
    items = client.get("/api/v1/teams").json()["items"]
    assert [t["name"] for t in items] == ["Tim Terpadu Benda"] and items[0]["member_count"] == 0
    assert client.get("/api/v1/teams/999999").status_code == 404


def test_only_staff_manage_teams(client, call, make_user):
    team = call(teams.create_team, STAFF, name="Tim Terpadu Pinang", area_code="36.71.11", now=datetime.now(timezone.utc))
    for role in ("inspector", "partner", "manager"):
        make_user(f"u-{role}", role)
        client.cookies.clear()
        login(client, f"u-{role}")
        h = {"X-CSRFToken": csrf_token(client)}
        for r in (client.get("/teams"), client.get(f"/teams/{team['id']}"), client.get("/teams/new"),
                  form(client, "/teams", {"name": "Tim Liar", "area_code": "36.71.11"}),
                  form(client, f"/teams/{team['id']}/members", {"mode": "contact", "name": "Penyusup", "agency": "other"}),
                  client.get("/api/v1/teams"), client.post("/api/v1/teams", json={"name": "Tim Liar", "area_code": "36.71"}, headers=h)):
            assert r.status_code == 403, (role, r.request.url)
        assert 'href="/teams"' not in client.get("/").text
    assert call(Team.count().run) == 1 and members(call, team["id"]) == []
