"""The staff dashboard as a home page panel (``sigap.home_panels``): the
snapshot's figures, the link of the list each one counts, and the charts.
Staff and admins only; every other role gets None (their home is another
provider's)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from overview.dashboard import charts
from overview.dashboard.services import snapshot
from registry.access import STAFF_ROLES

href = charts.href


def links(snap: dict) -> dict:
    """The list each figure counts; the list shows the same number."""
    k = snap.get("kecamatan")
    return {
        "total": href("/lks", kecamatan=k),
        "registration": {s: href("/lks", registration_status=s, kecamatan=k) for s in snap["registration"]},
        "accreditation": {a: href("/lks", accreditation_status=a, kecamatan=k) for a in snap["accreditation"]},
        "grades": {g: href("/lks", accreditation_status="accredited", accreditation_grade=g, kecamatan=k) for g in snap["grades"]},
        "expiring": href("/accreditation", kecamatan=k) + "#expiring-title",
        "risk": {r: href("/lks", risk_level=r, kecamatan=k) for r in snap["risk"] if r != "none"},
        "open_incidents": href("/incidents", status="open", kecamatan=k),
        "overdue_tasks": href("/tasks", status="active", overdue=1, kecamatan=k),
        "overdue_findings": href("/findings", overdue=1, kecamatan=k),
        "alerts": {s: href("/alerts", all=1, severity=s) for s in snap["alerts"]},
        "visits_this_month": href("/visits", month=snap["month"], kecamatan=k),
        "progress": href("/accreditation", kecamatan=k),
    }


def kecamatan_links(row: dict) -> dict:
    code = row["code"]
    return {
        "lks": href("/lks", kecamatan=code),
        "registered": href("/lks", kecamatan=code, registration_status="registered"),
        "expired": href("/lks", kecamatan=code, registration_status="expired"),
        "accredited": href("/lks", kecamatan=code, accreditation_status="accredited"),
        "high_risk": href("/lks", kecamatan=code, risk_level="high"),
        "open_incidents": href("/incidents", status="open", kecamatan=code),
        "overdue_tasks": href("/tasks", status="active", overdue=1, kecamatan=code),
    }


async def home_panel(user: Any, now: datetime) -> dict | None:
    if user is None or user.role not in STAFF_ROLES:
        return None
    snap = await snapshot(now)
    return {
        "template": "overview/dashboard.html",
        "order": 10,
        "snap": snap,
        "links": links(snap),
        "rows": [{**row, "links": kecamatan_links(row)} for row in snap["by_kecamatan"]],
        "charts": charts.charts(snap),
        "now": now,
    }
