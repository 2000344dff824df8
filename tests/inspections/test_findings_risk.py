"""Findings and visit reports feed the risk level, each with its reason;
closing the findings lowers it again."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from inspections.findings import services as findings
from inspections.findings.tables import Finding
from inspections.planning import risk
from inspections.planning.tables import Task
from sigap.audit import Actor
from sigap.tables import Role
from tests.inspections.visit_rows import add_visit

NOW = datetime(2027, 5, 10, 3, 0, tzinfo=timezone.utc)
STAFF = Actor(user_id=None, username="petugas", role=Role.staff)


def add(call, lks_id: int, severity: str, due_in_days: int) -> int:
    row = call(Finding.insert(Finding(lks=lks_id, severity=severity, description="Temuan uji risiko", due_on=(NOW + timedelta(days=due_in_days)).date(),
                                      created_at=NOW - timedelta(days=40))).returning(Finding.id).run)
    return row[0]["id"]


def reasons(call, lks_id: int) -> dict[str, str]:
    assessed = call(risk.current_risk, lks_id, now=NOW)
    return {r["code"]: r["text"] for r in assessed["reasons"]}


def test_findings_and_the_latest_report_raise_risk_with_reasons(call, make_lks):
    lks = make_lks("LKSA Risiko")
    call(risk.assess, [lks["id"]], now=NOW)
    base = call(risk.current_risk, lks["id"], now=NOW)["score"]
    critical = add(call, lks["id"], "critical", 5)
    add(call, lks["id"], "major", -3)  # overdue
    add(call, lks["id"], "minor", 10)
    task = call(Task.insert(Task(lks=lks["id"], kind="routine", status="done", due_on=NOW.date(), unique_key="risk:1",
                                 created_at=NOW, updated_at=NOW)).returning(Task.id).run)[0]["id"]
    call(add_visit, task, status="submitted", outcome="serious_concern", at=NOW - timedelta(days=2))
    assert call(risk.assess, [lks["id"]], now=NOW)[lks["id"]] == "high"
    assert call(risk.current_risk, lks["id"], now=NOW)["score"] == base + 3 + 1 + 2 + 3
    found = reasons(call, lks["id"])
    assert found["critical_findings"] == "1 temuan kritis yang belum selesai"
    assert found["major_findings"] == "1 temuan berat terbuka"
    assert found["overdue_findings"] == "1 temuan belum diperbaiki sampai batas waktunya"
    assert found["report_serious_concern"].startswith("Laporan kunjungan terakhir menemukan masalah serius (2027-05-08")
    # A newer report calling for immediate action replaces it; a returned one does not count.
    call(add_visit, task, status="approved", outcome="immediate_action", at=NOW - timedelta(days=1))
    call(add_visit, task, status="returned", outcome="compliant", at=NOW)
    call(risk.assess, [lks["id"]], now=NOW)
    found = reasons(call, lks["id"])
    assert "report_immediate_action" in found and "report_serious_concern" not in found


def test_closing_findings_lowers_risk(call, make_lks):
    lks = make_lks("LKSA Membaik")
    ids = [add(call, lks["id"], "critical", 5), add(call, lks["id"], "major", -1)]
    call(risk.assess, [lks["id"]], now=NOW)
    before = call(risk.current_risk, lks["id"], now=NOW)["score"]
    for finding_id in ids:
        call(findings.close_finding, STAFF, finding_id, note="Sudah diperbaiki dan dicek.", now=NOW)
    call(risk.assess, [lks["id"]], now=NOW)
    after = call(risk.current_risk, lks["id"], now=NOW)
    assert after["score"] == before - 3 - 1 - 2
    assert not {"critical_findings", "major_findings", "overdue_findings"} & {r["code"] for r in after["reasons"]}
