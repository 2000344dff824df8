"""The home page of inspectors and partners: their teams' tasks still to
do, overdue on top, then today's, then the rest of this week; never another
team's; the open alerts counted; a bounded number of queries."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from inspections.alerts.jobs import raise_alerts
from inspections.alerts.tables import Alert
from inspections.planning.home import week_end
from inspections.planning.services import today_wib
from inspections.teams import services as teams
from sigap.audit import Actor
from sigap.tables import Role
from tests.conftest import login
from tests.inspections.test_tasks import add_routine

STAFF = Actor(user_id=None, username="petugas", role=Role.staff)


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


@pytest.fixture
def field(call, make_user, make_lks) -> dict:
    """Team Pinang (inspector agus, partner bambang) and team Tangerang
    (inspector dedi), with tasks overdue, due today, later this week, next
    week and one already done."""
    now = now_utc()
    today = today_wib(now)
    users = {
        "agus": make_user("agus", "inspector", full_name="Agus Setiawan"),
        "bambang": make_user("bambang", "partner", full_name="Bambang Prasetyo"),
        "dedi": make_user("dedi", "inspector", full_name="Dedi Kurniawan"),
    }
    pinang = call(teams.create_team, STAFF, name="Tim Terpadu Pinang", area_code="36.71.11", now=now)
    tangerang = call(teams.create_team, STAFF, name="Tim Terpadu Tangerang", area_code="36.71.01", now=now)
    call(teams.add_member, STAFF, pinang["id"], agency="dinsos", user_id=users["agus"]["id"], is_lead=True, now=now)
    call(teams.add_member, STAFF, pinang["id"], agency="satpol_pp", user_id=users["bambang"]["id"], now=now)
    call(teams.add_member, STAFF, tangerang["id"], agency="dinsos", user_id=users["dedi"]["id"], is_lead=True, now=now)
    lead = users["agus"]["id"]

    def task(name: str, due, team=pinang, lead_id=lead, **extra) -> dict:
        lks = make_lks(name, kelurahan_code="36.71.11.1005" if team is pinang else "36.71.01.1001")
        return add_routine(call, lks["id"], team["id"], lead_id, due, **extra)

    tasks = {
        "today": task("LKSA Hari Ini", today),
        "overdue": task("LKSA Terlambat", today - timedelta(days=3)),
        "next_week": task("LKSA Minggu Depan", week_end(today) + timedelta(days=1)),
        "done": task("LKSA Sudah Selesai", today - timedelta(days=5), status="done"),
        "other_team": task("LKSA Tim Lain", today - timedelta(days=2), team=tangerang, lead_id=users["dedi"]["id"]),
    }
    if week_end(today) > today:  # on a Sunday the week has no later day
        tasks["week"] = task("LKSA Akhir Pekan", week_end(today))
    return {"users": users, "tasks": tasks, "teams": (pinang, tangerang)}


def _positions(text: str, *names: str) -> list[int]:
    return [text.index(name) for name in names]


@pytest.mark.parametrize("username", ["agus", "bambang"])
def test_field_home_lists_overdue_then_today_then_this_week_of_their_team_only(client, field, username):
    login(client, username)
    page = client.get("/")
    assert page.status_code == 200
    text = page.text
    names = ["LKSA Terlambat", "LKSA Hari Ini"] + (["LKSA Akhir Pekan"] if "week" in field["tasks"] else [])
    positions = _positions(text, *names)
    assert positions == sorted(positions), "overdue first, then today, then later this week"
    headings = _positions(text, 'id="home-overdue"', 'id="home-today"', 'id="home-week"')
    assert headings == sorted(headings)
    assert "Terlambat" in text and "Jatuh tempo hari ini" in text and "Nanti minggu ini" in text
    for absent in ("LKSA Minggu Depan", "LKSA Sudah Selesai", "LKSA Tim Lain"):
        assert absent not in text, absent
    tasks = field["tasks"]
    assert f'href="/tasks/{tasks["overdue"]["id"]}"' in text
    if username == "agus":  # the inspector starts the visit report from the home page
        assert f'href="/tasks/{tasks["today"]["id"]}/visit"' in text
    else:  # a partner opens the task (the report is the inspector's)
        assert "/visit" not in text.split("home-alerts")[0]
        assert "Buka tugas" in text


def test_another_team_sees_only_its_own_task(client, field):
    login(client, "dedi")
    text = client.get("/").text
    assert "LKSA Tim Lain" in text
    for absent in ("LKSA Terlambat", "LKSA Hari Ini", "LKSA Akhir Pekan"):
        assert absent not in text


def test_open_alerts_are_counted_for_the_team(client, call, field):
    call(raise_alerts, now=now_utc())
    pinang = field["teams"][0]
    expected = call(Alert.count().where((Alert.team == pinang["id"]) & Alert.resolved_at.is_null()).run)
    assert expected >= 1  # the overdue task raised one
    login(client, "agus")
    text = client.get("/").text
    figure = text.split('class="home-figure-number">')[1].split("<")[0]
    assert int(figure) == expected
    assert 'href="/alerts"' in text


def test_staff_and_managers_get_no_task_panel(client, field, make_user):
    make_user("rina", "staff")
    make_user("pengurus", "manager")
    for username in ("rina", "pengurus"):
        login(client, username)
        text = client.get("/").text
        assert "home-tasks" not in text and "LKSA Terlambat" not in text


def test_empty_week_says_so_and_names_the_next_task(client, call, make_user, make_lks):
    user = make_user("baru", "inspector")
    login(client, "baru")
    text = client.get("/").text
    assert "Tidak ada tugas yang jatuh tempo minggu ini" in text and "Tugas Anda berikutnya" not in text
    team = call(teams.create_team, STAFF, name="Tim Baru", area_code="36.71.11", now=now_utc())
    call(teams.add_member, STAFF, team["id"], agency="dinsos", user_id=user["id"], is_lead=True, now=now_utc())
    later = add_routine(call, make_lks("LKSA Bulan Depan")["id"], team["id"], user["id"], week_end(today_wib(now_utc())) + timedelta(days=9))
    text = client.get("/").text
    assert "Tidak ada tugas yang jatuh tempo minggu ini" in text
    assert "Tugas Anda berikutnya" in text and f'href="/tasks/{later["id"]}"' in text


def test_field_home_queries_do_not_grow_with_tasks(client, call, make_lks, field, count_queries):
    call(raise_alerts, now=now_utc())
    login(client, "agus")
    client.get("/")
    count_queries.reset()
    assert client.get("/").status_code == 200
    few = len(count_queries)
    pinang = field["teams"][0]
    today = today_wib(now_utc())
    for i in range(12):
        lks = make_lks(f"LKSA Tambahan {i:02d}")
        add_routine(call, lks["id"], pinang["id"], field["users"]["agus"]["id"], today - timedelta(days=i % 3))
    call(raise_alerts, now=now_utc())
    count_queries.reset()
    text = client.get("/").text
    assert "LKSA Tambahan 11" in text
    many = len(count_queries)
    assert many == few, "\n".join(count_queries.statements)
    assert few <= 3, f"{few} statements:\n" + "\n".join(count_queries.statements)  # session, tasks, alerts (9 before)


def test_many_overdue_tasks_do_not_push_todays_off_the_page(client, call, make_lks, field):
    from inspections.planning.home import SHOWN

    pinang = field["teams"][0]
    today = today_wib(now_utc())
    for i in range(SHOWN + 2):
        lks = make_lks(f"LKSA Tunggakan {i:02d}")
        add_routine(call, lks["id"], pinang["id"], field["users"]["agus"]["id"], today - timedelta(days=10 + i))
    login(client, "agus")
    text = client.get("/").text
    overdue = text.split('id="home-overdue"')[1].split('id="home-today"')[0]
    assert overdue.count('class="home-task overdue"') == SHOWN
    assert f"LKSA Tunggakan {SHOWN + 1:02d}" in overdue  # the longest overdue first
    assert f'href="/tasks?status=active&amp;to={(today - timedelta(days=1)).isoformat()}"' in overdue
    assert "LKSA Hari Ini" in text.split('id="home-today"')[1]


def test_field_home_in_english(client, field):
    from tests.conftest import form

    login(client, "agus")
    form(client, "/lang", {"locale": "en", "next": "/"})
    text = client.get("/").text
    for words in ("Your work", "Overdue", "Due today", "Fill in the visit report", "open alert"):
        assert words in text, words
    assert "Jatuh tempo hari ini" not in text
