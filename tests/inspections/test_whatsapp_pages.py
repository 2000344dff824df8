"""The WhatsApp hand-off on the task page and in the alert inbox: a link
per team member with a usable number (named members without an account
too), the viewer left out, a message that carries no incident detail, an
absolute link under SIGAP_BASE_URL; managers get none; bounded queries."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from inspections.alerts.jobs import raise_alerts
from inspections.planning.services import today_wib
from inspections.teams import services as teams
from tests.conftest import login
from tests.inspections.test_tasks import DESCRIPTION, STAFF, add_routine, make_world

WA = re.compile(r'href="(https://wa\.me/[^"]+)"')


def links(text: str) -> dict[str, str]:
    """wa.me number → the prefilled message, from a page."""
    out = {}
    for href in WA.findall(text):
        parts = urlsplit(html.unescape(href))
        out[parts.path.strip("/")] = parse_qs(parts.query)["text"][0]
    return out


@pytest.fixture
def world(call, make_user, make_lks):
    w = make_world(call, make_user, make_lks)
    now = datetime.now(timezone.utc)
    # agus (the lead, an account) has a mobile number on his membership; a
    # kelurahan office has only a landline; team B's named member is not ours.
    call(teams.remove_member, STAFF, w.team_a["id"], call(_member_id, w.team_a["id"], w.users["agus"]["id"]), now=now)
    call(teams.add_member, STAFF, w.team_a["id"], agency="dinsos", user_id=w.users["agus"]["id"], is_lead=True,
         phone="+62 813-1111-2222", now=now)
    call(teams.add_member, STAFF, w.team_a["id"], agency="kelurahan", name="Kantor Kelurahan Kunciran Indah",
         phone="(021) 555 1234", now=now)
    call(teams.add_member, STAFF, w.team_b["id"], agency="rt_rw", name="Bu RW Sukarasa", phone="0857 0000 1111", now=now)
    return w


async def _member_id(team_id: int, user_id: int) -> int:
    from inspections.teams.tables import TeamMember

    row = await TeamMember.select(TeamMember.id).where((TeamMember.team == team_id) & (TeamMember.user == user_id)).first()
    return row["id"]


def test_task_page_links_each_member_with_a_number_and_says_nothing_of_the_incident(client, world, settings):
    login(client, "rina")
    page = client.get(f"/tasks/{world.task_a['id']}")
    assert page.status_code == 200
    assert "Kirim lewat WhatsApp" in page.text
    found = links(page.text)
    # The named member without an account (0812 3456 789) and the lead; not the landline, not team B.
    assert set(found) == {"628123456789", "6281311112222"}
    assert "Kirim lewat WhatsApp ke Pak RT Sukamaju" in page.text
    for text in found.values():
        assert "LKSA Kasih Bunda" in text
        assert f"{settings.base_url}/tasks/{world.task_a['id']}" in text
        assert "Tanggap kasus" in text  # the task kind
        for secret in (DESCRIPTION, "pemukulan", "Kekerasan fisik", "/incidents/", "physical_abuse"):
            assert secret not in text
    assert found["628123456789"].startswith("Halo Pak RT Sukamaju,")


def test_base_url_setting_makes_the_link(client, world, monkeypatch):
    from sigap.settings import Settings

    monkeypatch.setenv("SIGAP_BASE_URL", "https://sigap.tangerangkota.go.id/")
    assert Settings.from_env().base_url == "https://sigap.tangerangkota.go.id"


def test_the_viewer_is_not_offered_a_message_to_themself(client, world):
    login(client, "agus")
    found = links(client.get(f"/tasks/{world.task_a['id']}").text)
    assert set(found) == {"628123456789"}
    # The API gives the tablet the same links.
    api = client.get(f"/api/v1/tasks/{world.task_a['id']}").json()["whatsapp"]
    assert [(w["name"], w["agency"]) for w in api] == [("Pak RT Sukamaju", "RT/RW")]
    assert parse_qs(urlsplit(api[0]["url"]).query)["text"][0] == found["628123456789"]


def test_alert_rows_offer_the_team_and_managers_get_none(client, call, world, make_user):
    overdue = add_routine(call, world.lks_a["id"], world.team_a["id"], world.users["agus"]["id"],
                          today_wib(datetime.now(timezone.utc)) - timedelta(days=4))
    call(raise_alerts, now=datetime.now(timezone.utc))
    login(client, "rina")
    page = client.get("/alerts")
    row = page.text.split('data-kind="task_overdue"')[1].split("</tr>")[0]
    found = links(row)
    assert set(found) == {"628123456789", "6281311112222"}
    assert all(f"/tasks/{overdue['id']}" in text and "Tugas terlambat" in text for text in found.values())
    assert all(DESCRIPTION not in text for text in links(page.text).values())
    make_user("pengurus", "manager", lks_id=world.lks_a["id"])
    login(client, "pengurus")
    assert not WA.findall(client.get("/alerts").text)


def test_a_partner_sees_links_for_their_teams_alerts_only(client, call, world):
    call(raise_alerts, now=datetime.now(timezone.utc) + timedelta(days=3))  # the urgent visits are late by then
    login(client, "bambang")
    found = links(client.get("/alerts").text)
    assert "6285700001111" not in found  # team B's member
    assert "628123456789" in found


@pytest.mark.parametrize(("path", "budget"), [("/tasks/{task}", 9), ("/api/v1/tasks/{task}", 5), ("/alerts", 9)])
def test_handoff_queries_do_not_grow_with_members_or_alerts(client, call, world, make_lks, count_queries, path, budget):
    now = datetime.now(timezone.utc)
    call(raise_alerts, now=now + timedelta(days=3))
    login(client, "rina")
    url = path.format(task=world.task_a["id"])
    client.get(url)
    count_queries.reset()
    assert client.get(url).status_code == 200
    few = len(count_queries)
    for i in range(8):
        call(teams.add_member, STAFF, world.team_a["id"], agency="other", name=f"Relawan {i}", phone=f"0812 7000 00{i:02d}", now=now)
        lks = make_lks(f"LKSA Tambahan {i}")
        add_routine(call, lks["id"], world.team_a["id"], None, today_wib(now) - timedelta(days=2))
    call(raise_alerts, now=now + timedelta(days=3))
    count_queries.reset()
    page = client.get(url)
    assert page.status_code == 200 and "6281270000007" in page.text
    many = len(count_queries)
    assert many == few, "\n".join(count_queries.statements)
    assert few <= budget, f"{few} statements:\n" + "\n".join(count_queries.statements)
