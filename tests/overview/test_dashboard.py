"""The staff dashboard on the home page: every figure equals a count made
here independently (plain Python over the rows), every figure's link opens
a list showing that same count, other roles do not get it, and its query
count does not grow with the data."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from sigap.audit import Actor
from sigap.tables import Role
from tests.conftest import login

WIB = ZoneInfo("Asia/Jakarta")
ADMIN = Actor(user_id=None, username="uji", role=Role.admin)
CATEGORIES = ["neglect", "physical_abuse", "neglect", "unsafe_premises", "psychological_abuse", "other"]


def load_demo(client, call, now: datetime) -> None:
    context: dict = {}
    for _order, _name, loader in client.app.state.wiring.demo_loaders:
        call(loader, now=now, storage=client.app.state.storage, context=context)


def world(client, call, now: datetime) -> None:
    """The demo, then the monitoring it lacks: the plan job's tasks and
    risk, incidents over several years (one closed), tasks made overdue
    (by day and to the hour), findings overdue or not, visit reports this
    month and last, alerts (one resolved)."""
    from inspections.alerts.jobs import raise_alerts
    from inspections.alerts.tables import Alert
    from inspections.findings.tables import Finding
    from inspections.incidents import services as incidents
    from inspections.planning import jobs
    from inspections.planning.tables import Task
    from registry.tables import Lks
    from tests.inspections.visit_rows import add_visit

    load_demo(client, call, now)
    call(jobs.plan, now=now)
    lks = call(Lks.select(Lks.id).order_by(Lks.id).run)
    today = now.astimezone(WIB).date()
    for i, category in enumerate(CATEGORIES):
        occurred = date(today.year - (i % 3), 3, 1 + i)
        row = call(incidents.record_incident, ADMIN, lks_id=lks[i * 7]["id"], source="public_complaint", category=category,
                   severity="high", occurred_on=occurred.isoformat(), description="Laporan warga untuk uji dasbor.", now=now)
        if i == 5:
            call(incidents.close_incident, ADMIN, row["id"], outcome="Ditangani, tidak terbukti.", now=now)
    tasks = call(Task.select(Task.id, Task.due_at).order_by(Task.id).run)
    routine = [t["id"] for t in tasks if t["due_at"] is None]
    urgent = [t["id"] for t in tasks if t["due_at"] is not None]
    call(Task.update({Task.due_on: today - timedelta(days=3)}).where(Task.id.is_in(routine[:5])).run)
    call(Task.update({Task.due_on: today - timedelta(days=2), Task.status: "done"}).where(Task.id == routine[5]).run)
    past = now - timedelta(hours=1)  # an urgent task's due_on is its deadline's WIB date
    call(Task.update({Task.due_at: past, Task.due_on: past.astimezone(WIB).date()}).where(Task.id.is_in(urgent[:2])).run)
    for i, (days, status) in enumerate([(-10, "open"), (-1, "answered"), (-5, "closed"), (7, "open"), (-2, "open")]):
        call(Finding.insert(Finding(
            lks=lks[i * 3]["id"], severity="major", description="Temuan uji dasbor", due_on=today + timedelta(days=days),
            status=status, created_at=now,
        )).run)
    for task_id in routine[6:9]:
        call(add_visit, task_id, status="submitted", at=now)
    call(add_visit, routine[9], status="approved", at=now - timedelta(days=40))
    call(raise_alerts, now=now)
    first = call(Alert.select(Alert.id).order_by(Alert.id).first().run)
    call(Alert.update({Alert.resolved_at: now}).where(Alert.id == first["id"]).run)


def expected(call, now: datetime) -> dict:
    """The dashboard's figures counted here, row by row."""
    from accreditation.cycles.tables import Cycle
    from inspections.alerts.tables import Alert
    from inspections.findings.tables import Finding
    from inspections.incidents.tables import Incident
    from inspections.planning.tables import Task
    from inspections.visits.tables import Visit
    from registry.tables import Lks, LksRisk

    today = now.astimezone(WIB).date()
    lks = call(Lks.select(Lks.id, Lks.kecamatan_code, Lks.registration_status, Lks.accreditation_status,
                          Lks.accreditation_grade).run)
    levels = {r["lks"]: r["level"] for r in call(LksRisk.select(LksRisk.lks, LksRisk.level).run)}
    for row in lks:  # the risk level lives in its own table (registry.risk_cache)
        row["risk_level"] = levels.get(row["id"])
    where = {r["id"]: r["kecamatan_code"] for r in lks}
    incidents = [r for r in call(Incident.select(Incident.lks, Incident.status).run) if r["status"] == "open"]

    def task_overdue(t) -> bool:
        if t["status"] not in ("open", "in_progress"):
            return False
        return t["due_at"] < now if t["due_at"] is not None else t["due_on"] < today

    tasks = [t for t in call(Task.select(Task.lks, Task.status, Task.due_on, Task.due_at).run) if task_overdue(t)]
    findings = [f for f in call(Finding.select(Finding.status, Finding.due_on).run)
                if f["status"] in ("open", "answered") and f["due_on"] < today]
    alerts = [a for a in call(Alert.select(Alert.severity, Alert.resolved_at).run) if a["resolved_at"] is None]
    visits = [v for v in call(Visit.select(Visit.submitted_at).run)
              if (v["submitted_at"].astimezone(WIB).year, v["submitted_at"].astimezone(WIB).month) == (today.year, today.month)]
    horizon = today + timedelta(days=183)
    cycles = call(Cycle.select(Cycle.stage, Cycle.valid_until).run)
    out = {
        "total_lks": len(lks),
        "open_incidents": len(incidents),
        "overdue_tasks": len(tasks),
        "overdue_findings": len(findings),
        "visits_this_month": len(visits),
        "accreditation_expiring": sum(1 for c in cycles if c["stage"] == "accredited" and c["valid_until"]
                                      and today <= c["valid_until"] <= horizon),
        "key.registered": sum(1 for r in lks if r["registration_status"] == "registered"),
        "key.accredited": sum(1 for r in lks if r["accreditation_status"] == "accredited"),
        "key.high_risk": sum(1 for r in lks if r["risk_level"] == "high"),
    }
    for status in ("unregistered", "applied", "document_check", "field_verification", "registered", "expired",
                   "suspended", "revoked", "closed"):
        out[f"registration.{status}"] = sum(1 for r in lks if r["registration_status"] == status)
    for status in ("accredited", "in_process", "none", "expired"):
        out[f"accreditation.{status}"] = sum(1 for r in lks if r["accreditation_status"] == status)
    for grade in "ABC":
        out[f"grades.{grade}"] = sum(1 for r in lks if r["accreditation_status"] == "accredited" and r["accreditation_grade"] == grade)
    for level in ("high", "medium", "low"):
        out[f"risk.{level}"] = sum(1 for r in lks if r["risk_level"] == level)
    for severity in ("critical", "high", "medium", "low"):
        out[f"alerts.{severity}"] = sum(1 for a in alerts if a["severity"] == severity)
    for code in set(where.values()):
        rows = [r for r in lks if r["kecamatan_code"] == code]
        out[f"kecamatan.{code}.lks"] = len(rows)
        out[f"kecamatan.{code}.registered"] = sum(1 for r in rows if r["registration_status"] == "registered")
        out[f"kecamatan.{code}.expired"] = sum(1 for r in rows if r["registration_status"] == "expired")
        out[f"kecamatan.{code}.accredited"] = sum(1 for r in rows if r["accreditation_status"] == "accredited")
        out[f"kecamatan.{code}.high_risk"] = sum(1 for r in rows if r["risk_level"] == "high")
        out[f"kecamatan.{code}.open_incidents"] = sum(1 for i in incidents if where[i["lks"]] == code)
        out[f"kecamatan.{code}.overdue_tasks"] = sum(1 for t in tasks if where[t["lks"]] == code)
    return out


FIGURE = re.compile(r'<a[^>]*href="([^"]*)"[^>]*data-figure="([^"]+)"[^>]*>(.*?)</a>', re.S)
NUMBER = re.compile(r"(?:<strong>|<span class=\"dash-num\">|^)\s*(\d+)\s*(?:</strong>|</span>|$)")


def figures(html: str) -> dict[str, tuple[str, int]]:
    out = {}
    for href, key, inner in FIGURE.findall(html):
        match = NUMBER.search(inner.strip())
        assert match, f"{key}: no number in {inner!r}"
        out[key] = (href.replace("&amp;", "&"), int(match.group(1)))
    return out


def dashboard_panel(app):
    """The app's dashboard provider (overview.dashboard.panel.DashboardPanel)."""
    from overview.dashboard.panel import DashboardPanel
    from sigap.wiring import HOME_PANELS

    [panel] = [p for p in app.state.wiring.hook(HOME_PANELS) if isinstance(p, DashboardPanel)]
    return panel


def forget_dashboard(client) -> None:
    """Drop the figures the home page keeps for a minute: the next home page counts anew."""
    dashboard_panel(client.app).clear()


def shown_count(client, href: str) -> int:
    """How many the list at ``href`` shows, read as its user reads it."""
    page = client.get(href)
    assert page.status_code == 200, href
    html = page.text
    path = href.split("?")[0].split("#")[0]
    if path == "/lks":  # paginated: the total it announces
        return int(re.search(r'role="status">\s*(\d+)', html).group(1))
    if href.startswith("/accreditation") and href.endswith("#expiring-title"):
        section = html.split('id="expiring-title"', 1)[1].split("</section>", 1)[0]
        return len(re.findall(r'href="/accreditation/lks/\d+"', section))
    rows = {"/tasks": r'href="/tasks/(\d+)"', "/incidents": r'href="/incidents/(\d+)"', "/findings": r'href="/findings/(\d+)"',
            "/alerts": r'id="alert-(\d+)"', "/visits": r'href="/visits/(\d+)"'}[path]
    return len(set(re.findall(rows, html)))


@pytest.fixture
def now():
    return datetime.now(timezone.utc)


def test_every_figure_equals_an_independent_count_and_its_list(client, call, make_user, now):
    world(client, call, now)
    make_user("kepala", "staff")
    login(client, "kepala")
    forget_dashboard(client)  # counted now, from the rows above
    home = client.get("/")
    assert home.status_code == 200
    shown = figures(home.text)
    want = expected(call, now)
    # The data is not trivial: each kind of figure has something to count.
    for key in ("open_incidents", "overdue_tasks", "overdue_findings", "visits_this_month", "key.high_risk", "key.accredited"):
        assert want[key] > 0, key
    assert want["overdue_tasks"] == 7 and want["overdue_findings"] == 3 and want["open_incidents"] == 5
    assert want["visits_this_month"] == 3
    for key, value in want.items():
        assert key in shown, f"the dashboard does not show {key}"
        assert shown[key][1] == value, f"{key}: the dashboard says {shown[key][1]}, the rows say {value}"
    # Every figure, the charts' data tables included, opens a list of that many.
    for key, (href, value) in shown.items():
        if key.startswith("chart.stage.") or key == "progress":
            continue  # the board: checked below
        if key.startswith("chart.") and value == 0:
            continue  # an empty month or year: nothing to open
        assert shown_count(client, href) == value, f"{key}: {href} shows another count than {value}"
    board = client.get(shown["progress"][0]).text
    for key, (_href, value) in shown.items():
        if key.startswith("chart.stage."):
            assert f'data-stage="{key.rsplit(".", 1)[1]}">{value}<' in board, key


def test_chart_series_match_the_rows(client, call, make_user, now):
    from inspections.incidents.tables import Incident
    from overview.dashboard.services import snapshot
    from registry.tables import Lks

    world(client, call, now)
    snap = call(snapshot, now)
    today = now.astimezone(WIB).date()
    lks = call(Lks.select(Lks.registered_on, Lks.valid_until).run)
    for row in snap["registrations_by_month"]:
        assert row["issued"] == sum(1 for r in lks if r["registered_on"] and r["registered_on"].isoformat()[:7] == row["month"])
        assert row["expired"] == sum(1 for r in lks if r["valid_until"] and r["valid_until"].isoformat()[:7] == row["month"])
    assert len(snap["registrations_by_month"]) == 12 and snap["registrations_by_month"][-1]["month"] == today.isoformat()[:7]
    assert sum(r["issued"] for r in snap["registrations_by_month"]) > 0
    incidents = call(Incident.select(Incident.occurred_on, Incident.category).run)
    for row in snap["incidents_by_year"]:
        for category, n in row["categories"].items():
            assert n == sum(1 for i in incidents if i["occurred_on"].year == row["year"] and i["category"] == category)
    assert sum(r["total"] for r in snap["incidents_by_year"]) == len(CATEGORIES)
    # One kecamatan: its row of the table and its own snapshot agree.
    pinang = next(r for r in snap["by_kecamatan"] if r["code"] == "36.71.11")
    one = call(snapshot, now, kecamatan="36.71.11")
    assert one["total_lks"] == pinang["lks"] and one["registration"]["registered"] == pinang["registered"]
    assert one["open_incidents"] == pinang["open_incidents"] and one["overdue_tasks"] == pinang["overdue_tasks"]
    assert [r["code"] for r in one["by_kecamatan"]] == ["36.71.11"]


def test_the_api_gives_the_same_figures_to_staff_only(client, call, make_user, as_role, now):
    world(client, call, now)
    as_role("admin")
    data = client.get("/api/v1/dashboard").json()
    assert data["total_lks"] == 72 and data["open_incidents"] == 5
    assert client.get("/api/v1/dashboard?kecamatan=36.71.11").json()["kecamatan"] == "36.71.11"
    bad = client.get("/api/v1/dashboard?kecamatan=x%27;--")
    assert bad.status_code == 422 and "kecamatan" in bad.text
    for role in ("inspector", "partner", "manager"):
        as_role(role)
        assert client.get("/api/v1/dashboard").status_code == 403, role


@pytest.mark.parametrize("role", ["inspector", "partner", "manager"])
def test_other_roles_do_not_get_the_dashboard(client, call, as_role, role, now):
    load_demo(client, call, now)
    as_role(role)
    home = client.get("/")
    assert home.status_code == 200
    assert "data-figure" not in home.text and "dash-figs" not in home.text


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admins_get_it(client, call, as_role, role, now):
    load_demo(client, call, now)
    as_role(role)
    home = client.get("/")
    assert 'data-figure="total_lks"' in home.text and '<svg viewBox=' in home.text
    assert 'role="img"' in home.text and "<title id=\"chart-reg-t\">" in home.text


def test_dashboard_queries_do_not_grow_with_the_data(client, call, make_user, make_lks, count_queries, now):
    make_user("adm", "admin")
    login(client, "adm")
    make_lks("LKSA Satu")
    assert client.get("/").status_code == 200
    forget_dashboard(client)  # each measured page counts its figures
    count_queries.reset()
    assert client.get("/").status_code == 200
    few = len(count_queries)
    world(client, call, now)
    forget_dashboard(client)
    count_queries.reset()
    assert client.get("/").status_code == 200
    many = len(count_queries)
    assert many == few, "\n".join(count_queries.statements)
    assert few <= 20, f"{few} statements:\n" + "\n".join(count_queries.statements)
    # Within the minute the figures are kept: the session is the one statement.
    count_queries.reset()
    assert client.get("/").status_code == 200
    assert len(count_queries) == 1, "\n".join(count_queries.statements)
    count_queries.reset()
    assert client.get("/api/v1/dashboard").status_code == 200
    assert len(count_queries) <= 16, "\n".join(count_queries.statements)


def test_the_figures_are_kept_a_minute_saying_when_they_were_counted(client, call, make_user, make_lks, now):
    """The home page keeps the figures for CACHE_SECONDS and shows the time
    they were counted; past it (or once forgotten) a new LKS shows."""
    from overview.dashboard.panel import CACHE_SECONDS
    from sigap.i18n import format_datetime, use_locale

    make_lks("LKSA Satu")
    user = make_user("kepala", "staff")
    login(client, "kepala")
    home = client.get("/").text
    assert figures(home)["total_lks"][1] == 1
    panel = dashboard_panel(client.app)
    counted = panel._counted["now"]
    with use_locale("id"):
        assert f"Per {format_datetime(counted)} (diperbarui tiap menit)" in home
    make_lks("LKSA Dua")
    again = client.get("/").text
    assert figures(again)["total_lks"][1] == 1 and format_datetime(counted) in again  # kept, and says since when

    class Staff:  # sigap.web.CurrentUser as the provider reads it
        role = user["role"]

    within = call(panel, Staff, counted + timedelta(seconds=CACHE_SECONDS - 1))
    assert figures(within["html"])["total_lks"][1] == 1
    later = counted + timedelta(seconds=CACHE_SECONDS)
    past = call(panel, Staff, later)
    assert figures(past["html"])["total_lks"][1] == 2 and past["as_of"] == later
    make_lks("LKSA Tiga")
    forget_dashboard(client)
    assert figures(client.get("/").text)["total_lks"][1] == 3


def test_with_the_cache_off_every_view_counts(client, make_user, make_lks, monkeypatch):
    """SIGAP_DASHBOARD_CACHE=0 (the browser tests' server): nothing kept."""
    from dataclasses import replace

    from sigap import settings

    monkeypatch.setattr(settings, "_current", replace(settings.get_settings(), dashboard_cache=False))
    make_lks("LKSA Satu")
    make_user("kepala", "staff")
    login(client, "kepala")
    assert figures(client.get("/").text)["total_lks"][1] == 1
    make_lks("LKSA Dua")
    assert figures(client.get("/").text)["total_lks"][1] == 2


def test_the_kept_figures_follow_the_language_and_nobody_s_name(client, call, make_user, make_lks):
    """The markup kept is rendered without the request: each language its
    own, the greeting still the signed-in user's own."""
    from tests.conftest import form

    make_lks("LKSA Satu")
    make_user("kepala", "staff", full_name="Kepala Bidang")
    make_user("admin1", "admin", full_name="Admin Dinsos")
    login(client, "kepala")
    home = client.get("/").text
    assert "Angka hari ini" in home and "Kepala Bidang" in home
    form(client, "/lang", {"locale": "en", "next": "/"})
    english = client.get("/").text
    assert "Today's figures" in english and "Angka hari ini" not in english
    assert figures(english) == figures(home)
    client.cookies.clear()
    login(client, "admin1")
    other = client.get("/").text
    assert "Admin Dinsos" in other and "Kepala Bidang" not in other
