"""Risk and the monitoring plan, driven with an explicit ``now`` across months."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

from inspections.findings.tables import Finding
from inspections.incidents import services as incidents
from inspections.planning import jobs, risk
from inspections.planning import services as planning
from inspections.planning.tables import RiskAssessment, Task
from inspections.teams import services as teams
from registry import services as registry_services
from registry.risk_cache import RISK_LEVEL
from registry.tables import Lks, LksRisk
from sigap.audit import Actor
from sigap.i18n import WIB, use_locale
from sigap.tables import Role
from tests.conftest import ROOT

STAFF = Actor(user_id=None, username="petugas", role=Role.staff)
T0 = datetime(2026, 1, 5, 18, 0, tzinfo=timezone.utc)  # 6 Jan 2026, 01:00 WIB


def at(days: int) -> datetime:
    return T0 + timedelta(days=days)


def created(call, lks_id: int, when: datetime) -> None:
    call(Lks.update({Lks.created_at: when}).where(Lks.id == lks_id).run)


def tasks(call, **where) -> list[dict]:
    query = Task.select().order_by(Task.id)
    for key, value in where.items():
        query = query.where(getattr(Task, key) == value)
    return call(query.run)


def register(call, lks_id: int, *, until: date, accreditation: str = "accredited", grade: str = "A") -> None:
    call(Lks.update({Lks.registration_status: "registered", Lks.valid_until: until, Lks.certificate_number: f"{lks_id:04d}/TD-LKS/36.71/2025",
                     Lks.accreditation_status: accreditation, Lks.accreditation_grade: grade}).where(Lks.id == lks_id).run)


def test_risk_levels_and_reasons(call, make_lks):
    good = make_lks("LKSA Tertib")
    register(call, good["id"], until=date(2028, 1, 1))
    unregistered = make_lks("LKSA Liar", capacity=10, residents={"m_6_12": 9, "f_6_12": 6})
    levels = call(risk.assess, now=T0)
    assert levels[good["id"]] == "low"  # registered, grade A, only "never visited"
    assert levels[unregistered["id"]] == "high"
    row = call(risk.assessment, unregistered["id"])
    codes = [r[0] for r in row["reasons"]]
    assert codes == ["unregistered", "not_accredited", "never_visited", "over_capacity"] and row["score"] == 7
    with use_locale("id"):
        texts = [r["text"] for r in risk.describe(row["reasons"])]
    assert "Lebih banyak penghuni (15) daripada kapasitas (10)" in texts
    assert call(Lks.select(RISK_LEVEL).where(Lks.id == unregistered["id"]).first().run)["risk_level"] == "high"
    # Nothing changed: nothing is written again.
    before = call(RiskAssessment.select(RiskAssessment.computed_at).where(RiskAssessment.lks == good["id"]).first().run)
    call(risk.assess, now=at(1))
    after = call(RiskAssessment.select(RiskAssessment.computed_at).where(RiskAssessment.lks == good["id"]).first().run)
    assert before == after


def test_the_plan_keeps_risk_levels_in_their_own_table_and_the_list_filters_by_them(call, make_lks):
    """The daily plan writes levels to registry_lks_risk (narrow), never the
    wide LKS rows: their updated_at and version stay; the list shows and
    filters the levels it wrote, and a second run changes nothing."""
    quiet = make_lks("LKSA Tenang")
    register(call, quiet["id"], until=date(2028, 1, 1))
    wild = make_lks("LKSA Liar Lagi")
    rows = Lks.select(Lks.id, Lks.updated_at, Lks.version).order_by(Lks.id)
    before = call(rows.run)
    call(jobs.plan, now=T0)
    assert call(rows.run) == before
    for level, name in (("high", "LKSA Liar Lagi"), ("low", "LKSA Tenang")):
        page = call(registry_services.list_lks, STAFF, registry_services.LksFilter(risk_level=level))
        assert [(r["name"], r["risk_level"]) for r in page["items"]] == [(name, level)] and page["total"] == 1
    stored = call(LksRisk.select(LksRisk.lks, LksRisk.level).order_by(LksRisk.lks).run)
    assert stored == [{"lks": quiet["id"], "level": "low"}, {"lks": wild["id"], "level": "high"}]
    call(jobs.plan, now=at(1))
    assert call(LksRisk.select(LksRisk.lks, LksRisk.level).order_by(LksRisk.lks).run) == stored
    assert call(rows.run) == before


def test_open_incident_makes_risk_high_and_an_urgent_task_at_once(call, make_lks):
    lks = make_lks("LKSA Laporan")
    register(call, lks["id"], until=date(2028, 1, 1))
    team = call(teams.create_team, STAFF, name="Tim Terpadu Pinang", area_code="36.71.11", now=T0)
    incident = call(
        incidents.record_incident, STAFF, lks_id=lks["id"], source="public_complaint", category="physical_abuse",
        severity="critical", occurred_on=date(2026, 1, 4), description="Laporan warga tentang pemukulan anak.", now=T0,
    )
    urgent = tasks(call, kind="incident_response")
    assert len(urgent) == 1
    assert urgent[0]["incident"] == incident["id"] and urgent[0]["team"] == team["id"] and urgent[0]["unannounced"]
    assert urgent[0]["due_at"] == T0 + timedelta(hours=48)
    row = call(Lks.select(Lks.open_incident, RISK_LEVEL).where(Lks.id == lks["id"]).first().run)
    assert row == {"open_incident": True, "risk_level": "high"}
    # The planner does not duplicate it.
    call(jobs.plan, now=at(1))
    assert len(tasks(call, kind="incident_response")) == 1


def test_routine_tasks_follow_the_risk_interval_across_months(call, make_lks):
    low = make_lks("LKSA Rendah")
    register(call, low["id"], until=date(2029, 1, 1))
    high = make_lks("LKSA Tinggi", capacity=5, residents={"m_6_12": 9})
    for lks in (low, high):
        created(call, lks["id"], T0)
    call(jobs.plan, now=T0)
    # High risk (unregistered, over capacity): routine visit in 3 months; not yet
    # within the 30-day look-ahead. The unregistered check is due in 14 days.
    assert [t["kind"] for t in tasks(call, lks=high["id"])] == ["unregistered_check"]
    check = tasks(call, lks=high["id"], kind="unregistered_check")[0]
    assert check["due_on"] == date(2026, 1, 20)
    assert tasks(call, lks=low["id"]) == []
    # Two months on: the high-risk routine visit (due ~6 April) appears.
    call(jobs.plan, now=at(62))
    routine_high = tasks(call, lks=high["id"], kind="routine")
    assert len(routine_high) == 1 and routine_high[0]["due_on"] == date(2026, 4, 6)
    call(jobs.plan, now=at(63))  # again: nothing new
    assert len(tasks(call, lks=high["id"], kind="routine")) == 1
    # The low-risk LKS only after ~11 months (interval 12 months).
    call(jobs.plan, now=at(300))
    assert tasks(call, lks=low["id"], kind="routine") == []
    call(jobs.plan, now=at(340))
    routine_low = tasks(call, lks=low["id"], kind="routine")
    assert len(routine_low) == 1 and routine_low[0]["due_on"] == date(2027, 1, 6)
    # Done: the next routine visit follows from the visit date, not before.
    call(planning.act_on_task, STAFF, routine_high[0]["id"], "complete", outcome="satisfactory", now=at(95))
    call(jobs.plan, now=at(96))
    assert len(tasks(call, lks=high["id"], kind="routine")) == 1


def test_overdue_routine_is_due_today_and_part_is_unannounced(call, make_lks):
    lks_ids = []
    for n in range(40):
        lks = make_lks(f"LKSA Acak {n:02d}")
        created(call, lks["id"], T0 - timedelta(days=800))
        lks_ids.append(lks["id"])
    call(jobs.plan, now=T0)
    routine = tasks(call, kind="routine")
    assert len(routine) == 40 and {t["due_on"] for t in routine} == {date(2026, 1, 6)}
    share = sum(t["unannounced"] for t in routine) / len(routine)
    assert 0.1 < share < 0.8  # some, not all, unannounced (30-50 % by design)


def test_findings_get_follow_up_tasks(call, make_lks):
    lks = make_lks("LKSA Temuan")
    call(Finding.insert(Finding(lks=lks["id"], severity="critical", description="Kamar tidur tanpa ventilasi.", due_on=date(2026, 2, 1),
                                status="open", created_at=T0)).run)
    call(jobs.plan, now=T0)
    follow = tasks(call, kind="findings_follow_up")
    assert len(follow) == 1 and follow[0]["due_on"] == date(2026, 2, 1)
    level = call(risk.assessment, lks["id"])
    assert "critical_findings" in [r[0] for r in level["reasons"]] and level["level"] == "high"


def _snapshot(call) -> list[tuple]:
    rows = call(Task.select(Task.unique_key, Task.lks, Task.kind, Task.team, Task.lead, Task.due_on, Task.unannounced).order_by(Task.unique_key).run)
    risks = call(RiskAssessment.select(RiskAssessment.lks, RiskAssessment.level, RiskAssessment.score).order_by(RiskAssessment.lks).run)
    return [tuple(r.values()) for r in rows] + [tuple(r.values()) for r in risks]


def _seed_many(call, make_lks, n=30):
    call(teams.create_team, STAFF, name="Tim Kota", area_code="36.71", now=T0)
    call(teams.create_team, STAFF, name="Tim Pinang", area_code="36.71.11", now=T0)
    for i in range(n):
        lks = make_lks(f"LKSA Serentak {i:02d}", kelurahan_code="36.71.11.1005" if i % 2 else "36.71.05.1001")
        created(call, lks["id"], T0 - timedelta(days=100 * (i % 5)))
        if i % 3 == 0:
            register(call, lks["id"], until=date(2027, 6, 1))


def test_two_planners_at_once_equal_one(call, make_lks):
    _seed_many(call, make_lks)

    async def twice():
        return await asyncio.gather(jobs.plan(now=T0), jobs.plan(now=T0))

    call(twice)
    together = _snapshot(call)
    call(Task.delete(force=True).run)
    call(RiskAssessment.delete(force=True).run)
    call(jobs.plan, now=T0)
    assert _snapshot(call) == together
    assert len({row[0] for row in together if isinstance(row[0], str)}) == len([r for r in together if isinstance(r[0], str)])


@pytest.mark.postgres_only
def test_two_planner_processes_on_postgres_equal_one(call, make_lks):
    _seed_many(call, make_lks, n=60)
    sigap = str(Path(sys.executable).parent / "sigap")
    env = dict(os.environ)
    cmd = [sigap, "jobs", "run", "plan", "--now", T0.isoformat()]
    procs = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], results
    together = _snapshot(call)
    call(Task.delete(force=True).run)
    call(RiskAssessment.delete(force=True).run)
    # One planner as the CLI runs it: with the risk factors other domains contribute.
    from sigap.domains import default_plugins
    from sigap.wiring import Wiring

    call(Wiring().install(default_plugins()).jobs["plan"].fn, now=T0)
    assert _snapshot(call) == together


@pytest.mark.postgres_only
def test_only_one_instance_runs_the_scheduler(start_server):
    env = {"SIGAP_SCHEDULER": "1", "SIGAP_SCHEDULER_RETRY_S": "1"}
    first = start_server(env)
    second = start_server(env)
    roles = sorted(httpx.get(s.url + "/readyz").json()["scheduler"] for s in (first, second))
    assert roles == ["leader", "standby"]
    leader = first if httpx.get(first.url + "/readyz").json()["scheduler"] == "leader" else second
    other = second if leader is first else first
    leader.stop()
    # The standby takes over within its retry period.
    deadline = time.monotonic() + 20
    role = "standby"
    while time.monotonic() < deadline and role != "leader":
        time.sleep(1)
        role = httpx.get(other.url + "/readyz").json()["scheduler"]
    assert role == "leader"


@pytest.mark.sqlite_only
def test_a_single_sqlite_worker_is_the_leader(start_server):
    """One worker: it takes the file lock and runs the jobs (several workers:
    tests/sigap/test_workers.py)."""
    server = start_server({"SIGAP_SCHEDULER": "1", "SIGAP_WORKERS": "1"})
    assert httpx.get(server.url + "/readyz").json()["scheduler"] == "leader"


def test_current_risk_counts_days_in_wib_between_midnight_and_7am(call, make_lks):
    """At 01:00 WIB it is still the day before in UTC: the date that counts is
    Jakarta's, for the monitoring page and the LKS-page panel alike (both
    ask risk.current_risk)."""
    lks = make_lks("LKSA Jam Satu")
    register(call, lks["id"], until=date(2028, 1, 1))
    visited = datetime(2025, 1, 6, 10, 0, tzinfo=WIB)
    call(Task.insert(Task(lks=lks["id"], kind="routine", status="done", outcome="satisfactory", due_on=date(2025, 1, 6),
                          done_at=visited, unique_key="test:visit-wib", created_at=visited, updated_at=visited)).run)
    now = datetime(2025, 12, 31, 18, 0, tzinfo=timezone.utc)  # 1 January 2026, 01:00 WIB: 360 days after the visit
    current = call(risk.current_risk, lks["id"], now=now)
    assert "visit_long_ago" in [r["code"] for r in current["reasons"]] and current["computed_at"] is None
    panel = call(risk.risk_panel_at, STAFF, {"id": lks["id"]}, now=now)
    assert (panel["level"], panel["score"], panel["reasons"]) == (current["level"], current["score"], current["reasons"])
    # Two hours earlier it is 31 December in Jakarta too: not yet 12 months.
    before = call(risk.current_risk, lks["id"], now=now - timedelta(hours=2))
    assert "visit_long_ago" not in [r["code"] for r in before["reasons"]]
    assert before["score"] == current["score"] - 1
    # Only Dinas Sosial staff see the panel.
    manager = Actor(user_id=None, username="pengurus", role=Role.manager, lks_id=lks["id"])
    assert call(risk.risk_panel_at, manager, {"id": lks["id"]}, now=now) is None


def test_lks_page_shows_risk_and_reasons_to_staff_only(client, make_user, make_lks, call):
    from tests.conftest import login

    lks = make_lks("LKSA Berisiko", capacity=5, residents={"m_6_12": 8})
    manager = make_user("pengurus", "manager", lks_id=lks["id"])
    make_user("petugas", "staff")
    call(incidents.record_incident, STAFF, lks_id=lks["id"], source="media", category="neglect", severity="high",
         occurred_on=date(2026, 1, 4), description="Berita tentang anak-anak yang tidak terurus.", now=T0)
    login(client, "petugas")
    page = client.get(f"/lks/{lks['id']}")
    assert "Tingkat risiko" in page.text and "Risiko tinggi" in page.text
    assert "1 kasus terbuka" in page.text and "Lebih banyak penghuni (8) daripada kapasitas (5)" in page.text
    client.cookies.clear()
    login(client, "pengurus")
    page = client.get(f"/lks/{manager['lks_id']}")
    assert page.status_code == 200
    assert "kasus terbuka" not in page.text.lower() and "tingkat risiko" not in page.text.lower()
    assert "risiko tinggi" not in page.text.lower()
    body = client.get(f"/api/v1/lks/{manager['lks_id']}").json()
    assert "open_incident" not in body and "risk_level" not in body
