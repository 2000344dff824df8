"""The task calendar (a month grid) and the private iCal feed."""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timedelta, timezone

import httpx

from inspections.planning.tables import CalendarFeed, Task
from sigap.tables import AuditEvent, User
from tests.conftest import form, login
from tests.inspections.test_tasks import DESCRIPTION, add_routine, make_world


def issue_feed(client) -> str:
    r = form(client, "/tasks/feed", {"action": "issue"})
    assert r.status_code == 201
    url = re.search(r'id="feed-url">([^<]+)<', r.text).group(1)
    assert url.startswith("http://127.0.0.1:8000/tasks/feed/") and url.endswith(".ics")
    return url


def fetch(client, url: str):
    """The feed as a calendar app fetches it: no cookies, no session (the
    same client, its cookies set aside: one app, one event loop)."""
    saved = httpx.Cookies(client.cookies)
    client.cookies.clear()
    try:
        return client.get(url.removeprefix("http://127.0.0.1:8000"))
    finally:
        client.cookies = saved


def unfold(body: str) -> list[str]:
    assert "\n" not in body.replace("\r\n", ""), "every line ends with CRLF"
    lines: list[str] = []
    for raw in body.split("\r\n"):
        assert len(raw.encode()) <= 75, raw
        if raw.startswith(" "):
            lines[-1] += raw[1:]
        elif raw:
            lines.append(raw)
    return lines


def events(body: str) -> list[dict[str, str]]:
    out, current = [], None
    for line in unfold(body):
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            out.append(current)
            current = None
        elif current is not None:
            key, _sep, value = line.partition(":")
            current[key] = value
    return out


def test_month_grid(client, call, make_user, make_lks):
    world = make_world(call, make_user, make_lks)
    due = date(2031, 2, 14)
    routine = add_routine(call, world.lks_a["id"], world.team_a["id"], world.users["agus"]["id"], due)
    login(client, "agus")
    page = client.get("/tasks/calendar?month=2031-02")
    assert page.status_code == 200
    text = page.text
    assert text.count('<th scope="col">') == 7
    assert '<time datetime="2031-02-14">' in text and f'href="/tasks/{routine["id"]}"' in text
    # Monday-first weeks: 1 Feb 2031 is a Saturday, so the grid starts on Monday 27 January.
    assert text.index('datetime="2031-01-27"') < text.index('datetime="2031-02-01"')
    assert 'datetime="2031-01-26"' not in text and 'datetime="2031-03-02"' in text and 'datetime="2031-03-03"' not in text
    assert 'href="/tasks/calendar?month=2031-01"' in text and 'href="/tasks/calendar?month=2031-03"' in text
    assert "Februari 2031" in text
    # Month boundaries: December → January of the next year.
    dec = client.get("/tasks/calendar?month=2030-12").text
    assert 'href="/tasks/calendar?month=2031-01"' in dec and 'href="/tasks/calendar?month=2030-11"' in dec
    # Nonsense months fall back to this month.
    for bad in ("2031-13", "abc", "1999-01", "2031-2"):
        assert client.get(f"/tasks/calendar?month={bad}").status_code == 200
    # Another team's task is not there; a cancelled one neither.
    add_routine(call, world.lks_b["id"], world.team_b["id"], world.users["dedi"]["id"], due)
    assert "LKSA Cahaya Sukarasa" not in client.get("/tasks/calendar?month=2031-02").text
    call(Task.update({Task.status: "cancelled"}).where(Task.id == routine["id"]).run)
    assert f'href="/tasks/{routine["id"]}"' not in client.get("/tasks/calendar?month=2031-02").text


def test_a_busy_day_links_to_the_list(client, call, make_user, make_lks):
    world = make_world(call, make_user, make_lks)
    due = date(2031, 5, 6)
    for n in range(6):
        lks = make_lks(f"LKSA Ramai {n}")
        add_routine(call, lks["id"], world.team_a["id"], None, due)
    login(client, "rina")
    text = client.get("/tasks/calendar?month=2031-05").text
    assert text.count('class="cal-task ') == 4
    assert 'href="/tasks?status=all&amp;from=2031-05-06&amp;to=2031-05-06"' in text
    listed = client.get("/tasks?status=all&from=2031-05-06&to=2031-05-06").text
    assert len(re.findall(r'href="/tasks/\d+"', listed)) == 6


def test_ical_feed(client, call, make_user, make_lks):
    world = make_world(call, make_user, make_lks)
    routine = add_routine(call, world.lks_a["id"], world.team_a["id"], world.users["agus"]["id"], date(2031, 3, 9))
    add_routine(call, world.lks_b["id"], world.team_b["id"], world.users["dedi"]["id"], date(2031, 3, 9))
    login(client, "agus")
    assert 'id="feed-url"' not in client.get("/tasks/calendar").text
    url = issue_feed(client)
    raw = url.rsplit("/", 1)[1].removesuffix(".ics")
    # Only the hash is stored; the URL is shown once.
    stored = call(CalendarFeed.select().run)
    assert len(stored) == 1 and stored[0]["token_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in client.get("/tasks/calendar").text
    r = fetch(client, url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    body = r.text
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") and body.endswith("END:VCALENDAR\r\n")
    found = {e["UID"]: e for e in events(body)}
    assert set(found) == {f"task-{world.task_a['id']}@sigap.36.71", f"task-{routine['id']}@sigap.36.71"}
    event = found[f"task-{routine['id']}@sigap.36.71"]
    assert event["DTSTART;VALUE=DATE"] == "20310309" and event["DTEND;VALUE=DATE"] == "20310310"
    assert event["SUMMARY"] == "Pengawasan rutin: LKSA Kasih Bunda"
    urgent = found[f"task-{world.task_a['id']}@sigap.36.71"]
    assert urgent["SUMMARY"].startswith("Tanggap kasus") and urgent["SUMMARY"].endswith("LKSA Kasih Bunda")
    assert "DTSTAMP" in urgent
    assert "Rahasia-uji" not in body and DESCRIPTION not in body and "LKSA Cahaya Sukarasa" not in body
    # The UID stays the same when the task changes.
    call(Task.update({Task.due_on: date(2031, 3, 10), Task.version: 2}).where(Task.id == routine["id"]).run)
    again = {e["UID"]: e for e in events(fetch(client, url).text)}
    assert again[f"task-{routine['id']}@sigap.36.71"]["DTSTART;VALUE=DATE"] == "20310310"
    # A new address replaces the old one; revoking ends it; unknown is 404.
    new_url = issue_feed(client)
    assert fetch(client, url).status_code == 404 and fetch(client, new_url).status_code == 200
    assert form(client, "/tasks/feed", {"action": "revoke"}).status_code == 303
    assert fetch(client, new_url).status_code == 404
    assert fetch(client, "/tasks/feed/not-a-token.ics").status_code == 404
    assert call(CalendarFeed.count().run) == 0
    actions = [r["action"] for r in call(AuditEvent.select(AuditEvent.action).where(AuditEvent.action.like("calendar_feed.%")).order_by(AuditEvent.id).run)]
    assert actions == ["calendar_feed.issue", "calendar_feed.reissue", "calendar_feed.revoke"]
    assert raw not in str(call(AuditEvent.select().run))


def test_ical_feed_follows_the_owner(client, call, make_user, make_lks):
    """The feed shows what its owner may see at each fetch: a partner sees
    their team's tasks, a deactivated account's feed stops."""
    world = make_world(call, make_user, make_lks)
    login(client, "eko")  # partner in team B
    url = issue_feed(client)
    uids = {e["UID"] for e in events(fetch(client, url).text)}
    assert uids == {f"task-{world.task_b['id']}@sigap.36.71"}
    call(User.update({User.is_active: False}).where(User.username == "eko").run)
    assert fetch(client, url).status_code == 404
    # Staff see every task in their feed, in their language.
    client.cookies.clear()
    login(client, "rina")
    call(User.update({User.locale: "en"}).where(User.username == "rina").run)
    body = fetch(client, issue_feed(client)).text
    summaries = {e["SUMMARY"] for e in events(body)}
    assert "Incident response (urgent joint visit): LKSA Kasih Bunda" in summaries
    assert len(summaries) == 2


def test_long_names_are_folded_and_escaped(client, call, make_user, make_lks):
    world = make_world(call, make_user, make_lks)
    lks = make_lks("Panti Asuhan; Yayasan Kasih, Cinta & Harapan Bangsa Indonesia — Cabang Kunciran Indah Pinang")
    add_routine(call, lks["id"], world.team_a["id"], None, datetime.now(timezone.utc).date() + timedelta(days=3))
    login(client, "agus")
    body = fetch(client, issue_feed(client)).text
    summaries = [e["SUMMARY"] for e in events(body)]
    assert any(s.endswith("Panti Asuhan\\; Yayasan Kasih\\, Cinta & Harapan Bangsa Indonesia — Cabang Kunciran Indah Pinang") for s in summaries)
