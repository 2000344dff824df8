"""Alerts: the hourly job driven with an explicit `now` across months (raised
when due, once, escalated, resolved), who sees which alert, acknowledging,
and the inbox page and API."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from inspections.alerts import services as alerts
from inspections.alerts.jobs import raise_alerts
from inspections.alerts.tables import Alert, AlertAck
from inspections.findings.tables import Finding
from inspections.incidents import services as incidents
from inspections.planning import services as planning
from inspections.planning.tables import Task
from inspections.teams import services as teams
from registry.tables import Document, Lks
from sigap.audit import Actor
from sigap.errors import NotFound
from sigap.i18n import WIB
from sigap.tables import AuditEvent, Role, User
from tests.conftest import ROOT, csrf_token, form, login

STAFF = Actor(user_id=None, username="test", role=Role.staff)
PINANG = "36.71.11"  # the kecamatan of conftest's default kelurahan (36.71.11.1005)
TANGERANG_KEL = "36.71.01.1001"  # Sukarasa, Kecamatan Tangerang


def wib(y: int, m: int, d: int, h: int = 9, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=WIB)


@pytest.fixture
def run(call):
    return lambda now: call(raise_alerts, now=now)


def all_alerts(call) -> dict[str, dict]:
    return {r["unique_key"]: r for r in call(Alert.select().order_by(Alert.id).run)}


def of_kind(call, kind: str) -> list[dict]:
    return [a for a in all_alerts(call).values() if a["kind"] == kind]


def actor(user: dict) -> Actor:
    return Actor(user_id=user["id"], username=user["username"], role=Role(user["role"]), lks_id=user["lks_id"])


def register(call, lks_id: int, valid_until: date) -> None:
    call(Lks.update({Lks.registration_status: "registered", Lks.registered_on: valid_until - timedelta(days=3 * 365),
                     Lks.valid_until: valid_until}).where(Lks.id == lks_id).run)


def make_task(call, lks_id: int, due_on: date, *, kind: str = "routine", team: int | None = None,
              lead: int | None = None, due_at: datetime | None = None, incident: int | None = None) -> int:
    now = datetime.now(timezone.utc)
    rows = call(Task.insert(Task(lks=lks_id, kind=kind, status="open", team=team, lead=lead, due_on=due_on, due_at=due_at,
                                 incident=incident, unique_key=f"test:{uuid.uuid4().hex}", created_at=now,
                                 updated_at=now)).returning(Task.id).run)
    return rows[0]["id"]


def make_team(call, name: str, area: str, *members: tuple[dict, bool]) -> int:
    team = call(teams.create_team, STAFF, name=name, area_code=area, now=datetime.now(timezone.utc))
    for user, lead in members:
        call(teams.add_member, STAFF, team["id"], agency="dinsos", user_id=user["id"], is_lead=lead,
             now=datetime.now(timezone.utc))
    return team["id"]


def make_document(call, lks_id: int, expires_on: date, doc_type: str = "npwp", status: str = "verified") -> int:
    rows = call(Document.insert(Document(
        lks=lks_id, doc_type=doc_type, status=status, filename=f"{doc_type}.pdf", content_type="application/pdf", size=10,
        sha256="0" * 64, storage_key=f"test/{uuid.uuid4().hex}", expires_on=expires_on,
        uploaded_at=datetime.now(timezone.utc))).returning(Document.id).run)
    return rows[0]["id"]


def snapshot(call) -> set[tuple]:
    return {(a["unique_key"], a["kind"], a["severity"], a["resolved_at"] is None, a["manager_visible"], a["lks"], a["task"],
             a["team"], a["link"]) for a in all_alerts(call).values()}


# --- the job ---------------------------------------------------------------------


def test_registration_alert_appears_escalates_and_clears(call, run, make_lks):
    lks = make_lks("LKSA Bina Harapan")
    register(call, lks["id"], date(2027, 6, 30))
    run(wib(2027, 3, 1))  # 121 days before
    assert of_kind(call, "registration_expiring") == []

    run(wib(2027, 4, 5))  # 86 days: low
    run(wib(2027, 4, 5, 10))
    [first] = of_kind(call, "registration_expiring")
    assert first["severity"] == "low" and first["manager_visible"] and first["link"] == f"/lks/{lks['id']}"
    assert first["lks"] == lks["id"] and first["escalated_at"] is None and first["resolved_at"] is None

    run(wib(2027, 6, 5))  # 25 days: medium, the same alert
    [second] = of_kind(call, "registration_expiring")
    assert (second["id"], second["severity"]) == (first["id"], "medium")
    assert second["escalated_at"] == wib(2027, 6, 5)
    assert second["raised_at"] == first["raised_at"]

    run(wib(2027, 6, 25))  # 5 days: high
    run(wib(2027, 6, 25, 11))
    [third] = of_kind(call, "registration_expiring")
    assert (third["id"], third["severity"]) == (first["id"], "high")

    # A late run with an older `now` never lowers a severity.
    run(wib(2027, 6, 5))
    assert of_kind(call, "registration_expiring")[0]["severity"] == "high"

    # Renewed: the alert is resolved, nothing new is raised.
    register(call, lks["id"], date(2030, 6, 30))
    result = run(wib(2027, 6, 26))
    [done] = of_kind(call, "registration_expiring")
    assert done["resolved_at"] == wib(2027, 6, 26)
    assert result.resolved >= 1 and result.raised == 0
    assert len(all_alerts(call)) == 1


def test_registration_expired_replaces_expiring(call, run, make_lks):
    lks = make_lks()
    register(call, lks["id"], date(2027, 6, 30))
    run(wib(2027, 6, 28))
    run(wib(2027, 7, 2))  # past validity, even before the expiry job has run
    [expiring] = of_kind(call, "registration_expiring")
    [expired] = of_kind(call, "registration_expired")
    assert expiring["resolved_at"] is not None
    assert expired["severity"] == "high" and expired["resolved_at"] is None and expired["manager_visible"]
    # The expiry job changes the status: still the same one alert.
    call(Lks.update({Lks.registration_status: "expired"}).where(Lks.id == lks["id"]).run)
    run(wib(2027, 7, 3))
    assert [a["id"] for a in of_kind(call, "registration_expired")] == [expired["id"]]
    assert of_kind(call, "registration_expired")[0]["resolved_at"] is None


def test_a_suspended_registration_is_alerted_and_expires_like_a_registered_one(call, run, make_lks):
    from registry.workflow import expire_registrations

    lks = make_lks("LKSA Ditangguhkan")
    register(call, lks["id"], date(2027, 6, 30))
    call(Lks.update({Lks.registration_status: "suspended", Lks.status_reason: "Menunggu investigasi."}).where(Lks.id == lks["id"]).run)
    run(wib(2027, 4, 5))  # 86 days before the end of its validity
    [expiring] = of_kind(call, "registration_expiring")
    assert expiring["lks"] == lks["id"] and expiring["severity"] == "low" and expiring["manager_visible"]
    run(wib(2027, 7, 2))  # past its date, before the expiry job has run
    [expired] = of_kind(call, "registration_expired")
    assert expired["resolved_at"] is None and of_kind(call, "registration_expiring")[0]["resolved_at"] is not None
    # The expiry job ends it on its date; the alert stays the same one.
    assert call(expire_registrations, now=wib(2027, 7, 2)) == 1
    assert call(Lks.select(Lks.registration_status).where(Lks.id == lks["id"]).first().run)["registration_status"] == "expired"
    run(wib(2027, 7, 3))
    assert [a["id"] for a in of_kind(call, "registration_expired") if a["resolved_at"] is None] == [expired["id"]]


def test_accreditation_and_documents(call, run, make_lks):
    lks = make_lks()
    register(call, lks["id"], date(2030, 1, 1))
    call(Lks.update({Lks.accreditation_status: "accredited", Lks.accreditation_grade: "B",
                     Lks.accreditation_valid_until: date(2027, 9, 1)}).where(Lks.id == lks["id"]).run)
    npwp = make_document(call, lks["id"], date(2027, 6, 20))
    superseded = make_document(call, lks["id"], date(2027, 6, 1), doc_type="domicile", status="superseded")
    rejected = make_document(call, lks["id"], date(2027, 6, 1), doc_type="ad_art", status="rejected")

    run(wib(2027, 5, 1))  # accreditation in 123 days: its 180-day warning; document in 50: nothing
    assert [a["severity"] for a in all_alerts(call).values()] == ["low"]
    run(wib(2027, 6, 5))  # accreditation 88 days: the 90-day warning (medium); document 15 days: low
    acc = of_kind(call, "accreditation_expiring")[-1]
    [doc] = of_kind(call, "document_expiring")
    assert acc["severity"] == "medium" and acc["manager_visible"] and acc["resolved_at"] is None
    assert (doc["document"], doc["severity"], doc["manager_visible"]) == (npwp, "low", True)
    assert doc["link"] == f"/lks/{lks['id']}#documents"
    run(wib(2027, 6, 16))
    assert of_kind(call, "document_expiring")[0]["severity"] == "medium"
    run(wib(2027, 6, 21))  # the document has expired
    assert of_kind(call, "document_expiring")[0]["severity"] == "high"
    run(wib(2027, 9, 5))  # the accreditation has expired
    assert of_kind(call, "accreditation_expiring")[-1]["severity"] == "high"
    assert {a["document"] for a in of_kind(call, "document_expiring")} == {npwp}
    assert superseded and rejected

    # A new document replaces the old one: resolved.
    call(Document.update({Document.status: "superseded", Document.superseded_at: wib(2027, 9, 6)}).where(Document.id == npwp).run)
    run(wib(2027, 9, 6))
    assert of_kind(call, "document_expiring")[0]["resolved_at"] == wib(2027, 9, 6)


def test_overdue_task_escalates_after_14_days_and_clears_when_done(call, run, make_lks):
    lks = make_lks()
    task = make_task(call, lks["id"], date(2027, 2, 10))
    run(wib(2027, 2, 10, 23))  # due today: not yet overdue
    assert of_kind(call, "task_overdue") == []
    run(wib(2027, 2, 11, 0, 30))
    [alert] = of_kind(call, "task_overdue")
    assert (alert["severity"], alert["task"], alert["link"], alert["manager_visible"]) == ("medium", task, f"/tasks/{task}", False)
    run(wib(2027, 2, 23))
    assert of_kind(call, "task_overdue")[0]["severity"] == "medium"
    run(wib(2027, 2, 24))  # 14 days overdue
    [critical] = of_kind(call, "task_overdue")
    assert (critical["id"], critical["severity"]) == (alert["id"], "critical")

    call(planning.act_on_task, STAFF, task, "complete", outcome="satisfactory", now=wib(2027, 2, 25, 8))
    run(wib(2027, 2, 25, 9))
    [done] = of_kind(call, "task_overdue")
    assert done["resolved_at"] == wib(2027, 2, 25, 9)
    run(wib(2027, 2, 26, 9))
    assert len(of_kind(call, "task_overdue")) == 1


def test_rescheduled_task_gets_a_new_alert_when_late_again(call, run, make_lks):
    lks = make_lks()
    task = make_task(call, lks["id"], date(2027, 2, 10))
    run(wib(2027, 2, 12))
    call(planning.act_on_task, STAFF, task, "reschedule", due_on=date(2027, 3, 1), reason="Tim sedang bertugas di lokasi lain",
         now=wib(2027, 2, 12, 10))
    run(wib(2027, 2, 12, 11))
    assert [a["resolved_at"] is not None for a in of_kind(call, "task_overdue")] == [True]
    run(wib(2027, 3, 2))
    alerts_now = of_kind(call, "task_overdue")
    assert len(alerts_now) == 2 and sum(a["resolved_at"] is None for a in alerts_now) == 1


def test_critical_finding_past_due(call, run, make_lks, make_user):
    lks = make_lks()
    register(call, lks["id"], date(2030, 1, 1))
    inspector = make_user("insp_finding", "inspector")
    team = make_team(call, "Tim Pinang", PINANG, (inspector, True))
    now = datetime.now(timezone.utc)
    for severity in ("critical", "major"):
        call(Finding.insert(Finding(lks=lks["id"], severity=severity, description="Tangga tanpa pegangan",
                                    due_on=date(2027, 3, 1), status="open", created_at=now)).run)
    run(wib(2027, 3, 1, 20))
    assert of_kind(call, "finding_overdue") == []
    run(wib(2027, 3, 2))
    [alert] = of_kind(call, "finding_overdue")
    assert (alert["severity"], alert["team"], alert["manager_visible"]) == ("critical", team, False)
    assert [a["id"] for a in call(alerts.inbox, actor(inspector), now=wib(2027, 3, 2))] == [alert["id"]]
    call(Finding.update({Finding.status: "closed"}).where(Finding.severity == "critical").run)
    run(wib(2027, 3, 3))
    assert of_kind(call, "finding_overdue")[0]["resolved_at"] is not None


def test_incident_without_visit_after_48_hours(call, run, make_lks, make_user):
    lks = make_lks("LKSA Kunciran")
    inspector = make_user("insp_incident", "inspector")
    manager = make_user("mgr_incident", "manager", lks_id=lks["id"])
    team = make_team(call, "Tim Pinang", PINANG, (inspector, True))
    register(call, lks["id"], date(2027, 2, 1))  # the manager has an alert of their own too
    t0 = wib(2027, 1, 10, 14)
    incident = call(incidents.record_incident, STAFF, lks_id=lks["id"], source="public_complaint", category="physical_abuse",
                    severity="critical", occurred_on="2027-01-09", description="Laporan warga: RAHASIA-42 dipukul pengasuh.",
                    now=t0)
    [task] = call(Task.select().where(Task.incident == incident["id"]).run)

    run(t0 + timedelta(hours=47))
    assert of_kind(call, "incident_unvisited") == [] and of_kind(call, "task_overdue") == []
    run(t0 + timedelta(hours=48, minutes=5))
    [alert] = of_kind(call, "incident_unvisited")
    assert alert["severity"] == "critical" and not alert["manager_visible"]
    assert (alert["link"], alert["task"], alert["team"]) == (f"/incidents/{incident['id']}", task["id"], team)
    assert "RAHASIA" not in str(alert["params"])
    # The urgent task is overdue as well, critical at once.
    [overdue] = of_kind(call, "task_overdue")
    assert overdue["severity"] == "critical" and overdue["task"] == task["id"]

    # The manager sees their registration alert, never anything incident-related.
    mine = call(alerts.inbox, actor(manager), include_acknowledged=True, include_resolved=True, now=t0 + timedelta(hours=49))
    assert [a["kind"] for a in mine] == ["registration_expiring"]
    # The team sees both, and acts on the task (not the staff-only incident page).
    field = call(alerts.inbox, actor(inspector), now=t0 + timedelta(hours=49))
    assert {a["kind"] for a in field} == {"incident_unvisited", "task_overdue"}
    assert {a["link"] for a in field} == {f"/tasks/{task['id']}"}
    staff = call(alerts.inbox, STAFF, now=t0 + timedelta(hours=49))
    assert f"/incidents/{incident['id']}" in {a["link"] for a in staff}
    with pytest.raises(NotFound):
        call(alerts.acknowledge, actor(manager), alert["id"], now=t0 + timedelta(hours=49))

    call(planning.act_on_task, STAFF, task["id"], "complete", outcome="critical", now=t0 + timedelta(hours=50))
    run(t0 + timedelta(hours=51))
    assert of_kind(call, "incident_unvisited")[0]["resolved_at"] == t0 + timedelta(hours=51)
    assert of_kind(call, "task_overdue")[0]["resolved_at"] == t0 + timedelta(hours=51)


def test_unregistered_lks_not_checked_after_14_days(call, run, make_lks):
    lks = make_lks("Panti Tanpa Izin")  # unregistered since it became known
    known = lks["created_at"]
    run(known + timedelta(days=13))
    assert of_kind(call, "unregistered_unchecked") == []
    run(known + timedelta(days=14, minutes=1))
    [alert] = of_kind(call, "unregistered_unchecked")
    assert (alert["severity"], alert["link"], alert["manager_visible"]) == ("high", f"/lks/{lks['id']}", False)
    # A check done before the LKS became known does not count; one after does.
    task = make_task(call, lks["id"], (known + timedelta(days=14)).astimezone(WIB).date(), kind="unregistered_check")
    call(planning.act_on_task, STAFF, task, "complete", outcome="concerns", now=known + timedelta(days=15))
    run(known + timedelta(days=15, hours=1))
    assert of_kind(call, "unregistered_unchecked")[0]["resolved_at"] is not None


def _mixed_data(call, make_lks, make_user, base: datetime) -> None:
    today = base.astimezone(WIB).date()
    inspector = make_user(f"insp_{uuid.uuid4().hex[:6]}", "inspector")
    team = make_team(call, "Tim Pinang", PINANG, (inspector, True))
    for i in range(3):
        lks = make_lks(f"LKS Campuran {i}")
        register(call, lks["id"], today + timedelta(days=5 + 30 * i))
        make_task(call, lks["id"], today - timedelta(days=3 + 10 * i), team=team)
        make_document(call, lks["id"], today + timedelta(days=3 + 10 * i))
        call(Finding.insert(Finding(lks=lks["id"], severity="critical", description="Kamar tanpa ventilasi",
                                    due_on=today - timedelta(days=1), status="open", created_at=base)).run)
    lks = make_lks("LKS Insiden")
    call(incidents.record_incident, STAFF, lks_id=lks["id"], source="police", category="neglect", severity="high",
         occurred_on=today - timedelta(days=4), description="Anak-anak tidak mendapat makan yang layak.",
         now=base - timedelta(days=3))
    call(Lks.update({Lks.accreditation_status: "accredited", Lks.accreditation_valid_until: today + timedelta(days=40)}).where(
        Lks.id == lks["id"]).run)


def test_twice_late_and_concurrently_gives_each_alert_once(call, run, make_lks, make_user):
    now = datetime.now(timezone.utc) + timedelta(days=20)  # the LKS made now are unregistered for 20 days
    _mixed_data(call, make_lks, make_user, now)

    async def three_at_once():
        return await asyncio.gather(*(raise_alerts(now=now) for _ in range(3)))

    results = call(three_at_once)
    assert sum(r.raised for r in results) == results[0].open
    concurrent = snapshot(call)
    kinds = {row[1] for row in concurrent}
    assert kinds == {"registration_expiring", "task_overdue", "document_expiring", "finding_overdue", "incident_unvisited",
                     "accreditation_expiring", "unregistered_unchecked"}
    assert len(concurrent) == len(all_alerts(call))

    again = run(now)
    assert (again.raised, again.escalated, again.resolved, again.reopened) == (0, 0, 0, 0)
    assert snapshot(call) == concurrent

    # One run on an empty table gives exactly what the concurrent runs gave.
    call(Alert.delete(force=True).run)
    run(now)
    assert snapshot(call) == concurrent


def test_two_processes_at_once(call, make_lks, make_user):
    now = datetime.now(timezone.utc) + timedelta(days=20)
    _mixed_data(call, make_lks, make_user, now)
    sigap = str(Path(sys.executable).parent / "sigap")
    args = [sigap, "jobs", "run", "alerts", "--now", now.isoformat()]
    procs = [subprocess.Popen(args, cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    both = snapshot(call)
    call(Alert.delete(force=True).run)
    call(raise_alerts, now=now)
    assert snapshot(call) == both and len(both) > 10


# --- who sees what, acknowledging -------------------------------------------------


def test_inspectors_and_partners_see_only_their_teams_alerts(call, run, make_lks, make_user):
    a, b = make_lks("LKS Pinang"), make_lks("LKS Sukarasa", kelurahan_code=TANGERANG_KEL)
    insp_a, insp_b = make_user("insp_a", "inspector"), make_user("insp_b", "inspector")
    partner = make_user("satpol_b", "partner")
    manager_a = make_user("mgr_a", "manager", lks_id=a["id"])
    team_a = make_team(call, "Tim Pinang", PINANG, (insp_a, True))
    team_b = make_team(call, "Tim Tangerang", "36.71.01", (insp_b, True))
    ta = make_task(call, a["id"], date(2027, 1, 5), team=team_a)
    tb = make_task(call, b["id"], date(2027, 1, 5), team=team_b, lead=partner["id"])
    register(call, a["id"], date(2027, 2, 1))
    register(call, b["id"], date(2027, 2, 1))
    now = wib(2027, 1, 10)
    run(now)

    def kinds_tasks(user):
        return sorted((x["kind"], x["lks_id"]) for x in call(alerts.inbox, actor(user) if user else STAFF, now=now))

    assert kinds_tasks(insp_a) == [("task_overdue", a["id"])]
    assert kinds_tasks(insp_b) == [("task_overdue", b["id"])]
    assert kinds_tasks(partner) == [("task_overdue", b["id"])]  # leads the task, in no team
    assert kinds_tasks(manager_a) == [("registration_expiring", a["id"])]
    assert len(kinds_tasks(None)) == 4
    assert {x["link"] for x in call(alerts.inbox, actor(insp_a), now=now)} == {f"/tasks/{ta}"}
    other = all_alerts(call)[f"task_overdue:{tb}:2027-01-05"]
    with pytest.raises(NotFound):
        call(alerts.acknowledge, actor(insp_a), other["id"], now=now)


def test_acknowledge_is_per_user_and_returns_on_escalation(call, run, make_lks, make_user):
    s1, s2 = make_user("staf_satu", "staff"), make_user("staf_dua", "staff")
    lks = make_lks()
    register(call, lks["id"], date(2027, 6, 30))
    run(wib(2027, 4, 5))
    [alert] = of_kind(call, "registration_expiring")

    call(alerts.acknowledge, actor(s1), alert["id"], now=wib(2027, 4, 5, 10))
    call(alerts.acknowledge, actor(s1), alert["id"], now=wib(2027, 4, 5, 11))  # twice: one row
    assert call(AlertAck.count().run) == 1
    audited = call(AuditEvent.select(AuditEvent.actor_id, AuditEvent.entity_id).where(AuditEvent.action == "alert.acknowledge").run)
    assert audited == [{"actor_id": s1["id"], "entity_id": str(alert["id"])}] * 2
    assert call(alerts.inbox, actor(s1), now=wib(2027, 4, 6)) == []
    assert [x["id"] for x in call(alerts.inbox, actor(s2), now=wib(2027, 4, 6))] == [alert["id"]]
    assert (call(alerts.unacknowledged_count, actor(s1)), call(alerts.unacknowledged_count, actor(s2))) == (0, 1)
    [seen] = call(alerts.inbox, actor(s1), include_acknowledged=True, now=wib(2027, 4, 6))
    assert seen["acknowledged"] and seen["acknowledged_at"] == wib(2027, 4, 5, 11)

    run(wib(2027, 6, 5, 9))  # escalated to medium: back in the inbox
    [back] = call(alerts.inbox, actor(s1), now=wib(2027, 6, 5, 10))
    assert (back["id"], back["severity"], back["acknowledged"]) == (alert["id"], "medium", False)
    assert call(alerts.unacknowledged_count, actor(s1)) == 1
    call(alerts.acknowledge, actor(s1), alert["id"], now=wib(2027, 6, 5, 11))
    assert call(alerts.inbox, actor(s1), now=wib(2027, 6, 5, 12)) == []
    assert call(AlertAck.count().run) == 1

    with pytest.raises(NotFound):
        call(alerts.acknowledge, actor(s1), alert["id"] + 999, now=wib(2027, 6, 5, 2))


def test_inbox_count_from_its_rows_is_unacknowledged_count(call, run, make_lks, make_user):
    """The alerts page counts the open alerts from the inbox's own rows when
    it read them all; that count is unacknowledged_count's, acknowledged or
    not, with a severity filter, and when the limit cut the read."""
    s1, s2 = make_user("staf_satu", "staff"), make_user("staf_dua", "staff")
    for n in range(3):
        register(call, make_lks(name=f"LKS Hitung {n}")["id"], date(2027, 6, 30))
    run(wib(2027, 4, 5))
    first = of_kind(call, "registration_expiring")[0]
    call(alerts.acknowledge, actor(s1), first["id"], now=wib(2027, 4, 5, 10))

    def both(user, **kwargs):
        items, count = call(alerts.inbox_and_count, actor(user), now=wib(2027, 4, 6), **kwargs)
        return count, call(alerts.unacknowledged_count, actor(user)), len(items)

    assert both(s1) == (2, 2, 2)
    assert both(s1, include_acknowledged=True) == (2, 2, 3)
    assert both(s2) == (3, 3, 3)
    assert both(s2, severity="critical") == (3, 3, 0)
    assert both(s2, limit=1) == (3, 3, 1)
    assert both(s1, include_acknowledged=True, limit=2) == (2, 2, 2)


def test_inbox_orders_unacknowledged_then_by_severity(call, run, make_lks, make_user):
    s1 = make_user("staf_urut", "staff")
    soon, later = make_lks("LKS Segera"), make_lks("LKS Nanti")
    register(call, soon["id"], date(2027, 4, 10))  # 5 days: high
    register(call, later["id"], date(2027, 6, 1))  # 57 days: low
    task = make_task(call, later["id"], date(2027, 3, 1))  # 34 days late: critical
    run(wib(2027, 4, 5))
    items = call(alerts.inbox, actor(s1), now=wib(2027, 4, 5))
    assert [i["severity"] for i in items] == ["critical", "high", "low"]
    call(alerts.acknowledge, actor(s1), items[0]["id"], now=wib(2027, 4, 5, 10))
    items = call(alerts.inbox, actor(s1), include_acknowledged=True, now=wib(2027, 4, 5, 11))
    assert [(i["severity"], i["acknowledged"]) for i in items] == [("high", False), ("low", False), ("critical", True)]
    assert items[2]["link"] == f"/tasks/{task}"


# --- pages and API --------------------------------------------------------------------


def _live_alerts(call, make_lks, make_user):
    """Alerts raised at the real current time (acknowledging uses the clock)."""
    now = datetime.now(timezone.utc)
    lks = make_lks("LKS Halaman")
    inspector = make_user("insp_page", "inspector")
    team = make_team(call, "Tim Pinang", PINANG, (inspector, True))
    task = make_task(call, lks["id"], now.astimezone(WIB).date() - timedelta(days=2), team=team)
    register(call, lks["id"], now.astimezone(WIB).date() + timedelta(days=20))
    incident = call(incidents.record_incident, STAFF, lks_id=lks["id"], source="media", category="neglect", severity="high",
                    occurred_on=(now - timedelta(days=3)).astimezone(WIB).date(),
                    description="Berita media: bangunan tidak layak.", now=now - timedelta(days=3))
    call(raise_alerts, now=now)
    # Two overdue tasks: the routine one and the incident's urgent visit.
    by_kind = {a["kind"]: a for a in all_alerts(call).values() if a["task"] in (None, task) or a["kind"] != "task_overdue"}
    return lks, task, incident, by_kind


def test_inbox_page_and_acknowledge_form(client, call, make_lks, make_user, as_role):
    lks, task, incident, by_kind = _live_alerts(call, make_lks, make_user)
    overdue = by_kind["task_overdue"]
    as_role("staff")
    page = client.get("/alerts")
    assert page.status_code == 200
    assert f'id="alert-{overdue["id"]}"' in page.text
    assert f'href="/tasks/{task}"' in page.text and f'href="/incidents/{incident["id"]}"' in page.text
    assert f'action="/alerts/{overdue["id"]}/ack"' in page.text
    assert 'data-severity="critical"' in page.text and lks["name"] in page.text
    assert 'href="/alerts"' in page.text  # in the menu

    no_csrf = client.post(f"/alerts/{overdue['id']}/ack", data={}, follow_redirects=False)
    assert no_csrf.status_code == 403
    done = form(client, f"/alerts/{overdue['id']}/ack")
    assert done.status_code == 303 and done.headers["location"] == "/alerts?acked=1"
    assert f'id="alert-{overdue["id"]}"' not in client.get("/alerts").text
    shown = client.get("/alerts?all=1").text
    assert f'id="alert-{overdue["id"]}"' in shown and f'action="/alerts/{overdue["id"]}/ack"' not in shown
    assert form(client, "/alerts/999999/ack").status_code == 404

    client.cookies.clear()
    anonymous = client.get("/alerts", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_alerts_api(client, call, make_lks, make_user, as_role):
    lks, task, incident, by_kind = _live_alerts(call, make_lks, make_user)
    assert client.get("/api/v1/alerts").status_code == 401
    as_role("staff")
    body = client.get("/api/v1/alerts").json()
    assert {i["kind"] for i in body["items"]} == set(by_kind)
    assert len(body["items"]) == len(all_alerts(call))
    item = next(i for i in body["items"] if i["id"] == by_kind["task_overdue"]["id"])
    assert set(item) >= {"id", "kind", "severity", "title", "link", "lks_id", "raised_at", "acknowledged", "resolved"}
    assert (item["link"], item["lks_id"], item["acknowledged"], item["resolved"]) == (f"/tasks/{task}", lks["id"], False, False)
    assert body["items"][0]["severity"] == "critical"

    assert client.post(f"/api/v1/alerts/{item['id']}/ack").status_code == 403  # no CSRF header
    ok = client.post(f"/api/v1/alerts/{item['id']}/ack", headers={"X-CSRFToken": csrf_token(client)})
    assert ok.status_code == 200 and ok.json()["acknowledged"] is True
    assert item["id"] not in {i["id"] for i in client.get("/api/v1/alerts").json()["items"]}
    listed = client.get("/api/v1/alerts", params={"include_acknowledged": "true"}).json()["items"]
    assert next(i for i in listed if i["id"] == item["id"])["acknowledged"] is True
    assert client.post("/api/v1/alerts/999999/ack", headers={"X-CSRFToken": csrf_token(client)}).status_code == 404


def test_manager_api_never_shows_incident_alerts(client, call, make_lks, make_user):
    lks, task, incident, by_kind = _live_alerts(call, make_lks, make_user)
    manager = make_user("mgr_api", "manager", lks_id=lks["id"])
    client.cookies.clear()
    login(client, manager["username"])
    items = client.get("/api/v1/alerts", params={"include_acknowledged": "true", "include_resolved": "true"}).json()["items"]
    assert [i["kind"] for i in items] == ["registration_expiring"]
    assert client.get("/alerts").status_code == 200
    hidden = by_kind["incident_unvisited"]
    assert client.post(f"/api/v1/alerts/{hidden['id']}/ack", headers={"X-CSRFToken": csrf_token(client)}).status_code == 404
    assert "/incidents/" not in client.get("/alerts").text


def test_bearer_token_client_can_acknowledge_without_csrf(client, call, make_lks, make_user):
    from sigap import tokens

    lks, task, incident, by_kind = _live_alerts(call, make_lks, make_user)
    inspector = call(User.select().where(User.username == "insp_page").first().run)
    raw, _row = call(tokens.create_token, actor(inspector), name="tablet", now=datetime.now(timezone.utc))
    client.cookies.clear()
    headers = {"Authorization": f"Bearer {raw}"}
    items = client.get("/api/v1/alerts", headers=headers).json()["items"]
    assert {i["kind"] for i in items} == {"task_overdue", "incident_unvisited"}
    assert all(i["link"].startswith("/tasks/") for i in items)
    assert client.post(f"/api/v1/alerts/{items[0]['id']}/ack", headers=headers).status_code == 200


def test_answered_critical_finding_past_due_still_alerts_staff_and_team(call, run, make_lks, make_user):
    lks = make_lks()
    inspector = make_user("insp_answered", "inspector")
    team = make_team(call, "Tim Pinang", PINANG, (inspector, True))
    call(Finding.insert(Finding(lks=lks["id"], severity="critical", description="Tidak ada pintu darurat",
                                due_on=date(2027, 3, 1), status="answered", created_at=datetime.now(timezone.utc))).run)
    run(wib(2027, 3, 2))
    run(wib(2027, 3, 3))  # once, however often the job runs
    [alert] = of_kind(call, "finding_overdue")
    assert (alert["team"], alert["link"], alert["resolved_at"]) == (team, f"/lks/{lks['id']}/monitoring", None)
    for reader in (actor(inspector), STAFF):
        inbox = call(alerts.inbox, reader, now=wib(2027, 3, 3))
        assert [a["id"] for a in inbox if a["kind"] == "finding_overdue"] == [alert["id"]]


def test_a_visit_for_a_team_without_a_lead_alerts_staff_until_it_has_one(client, call, run, make_lks, make_user):
    lks = make_lks("LKSA Tanpa Ketua")
    team = make_team(call, "Tim Pinang Tanpa Ketua", PINANG)
    call(teams.add_member, STAFF, team, agency="satpol_pp", name="Satpol PP Pinang", now=datetime.now(timezone.utc))
    incident = call(incidents.record_incident, STAFF, lks_id=lks["id"], source="police", category="neglect", severity="high",
                    occurred_on=datetime.now(WIB).date(), description="Anak-anak ditinggal tanpa pengasuh.", now=datetime.now(timezone.utc))
    [task] = call(Task.select().where(Task.incident == incident["id"]).run)
    assert (task["team"], task["lead"]) == (team, None)
    run(datetime.now(timezone.utc))
    [alert] = of_kind(call, "team_without_lead")
    assert (alert["severity"], alert["task"], alert["team"], alert["unique_key"]) == ("critical", task["id"], None, f"team_without_lead:{task['id']}")
    inspector = make_user("insp_lead_later", "inspector")
    assert call(alerts.inbox, actor(inspector), now=datetime.now(timezone.utc)) == []  # for staff
    staff_titles = [a["title"] for a in call(alerts.inbox, STAFF, now=datetime.now(timezone.utc)) if a["kind"] == "team_without_lead"]
    assert staff_titles and "tim tanpa ketua" in staff_titles[0]
    # The incident page warns.
    make_user("rina_staf", "staff")
    login(client, "rina_staf")
    assert "Tim ini belum punya ketua" in client.get(f"/incidents/{incident['id']}").text
    # A lead joins the team: the task gets them and the alert resolves.
    call(teams.add_member, STAFF, team, agency="dinsos", user_id=inspector["id"], is_lead=True, now=datetime.now(timezone.utc))
    assert call(Task.select(Task.lead).where(Task.id == task["id"]).first().run)["lead"] == inspector["id"]
    run(datetime.now(timezone.utc))
    assert of_kind(call, "team_without_lead")[0]["resolved_at"] is not None
    assert "Tim ini belum punya ketua" not in client.get(f"/incidents/{incident['id']}").text
