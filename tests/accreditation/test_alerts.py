"""Accreditation feeds the alerts (a warning at 180, 90 and 30 days before
the end, and one when it has expired: each raised once, however often the
job runs) and the LKS's risk level (expired, grade C), through the LKS row
the accreditation domain derives from its cycles."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from accreditation import jobs
from accreditation.cycles import services as cycles
from inspections.alerts.jobs import raise_alerts
from inspections.alerts.tables import Alert
from inspections.planning.risk import current_risk
from registry.tables import Lks
from sigap.audit import Actor
from sigap.tables import Role

STAFF = Actor(user_id=None, username="petugas", role=Role.staff)
END = date(2028, 6, 30)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 3, 0, tzinfo=timezone.utc)  # 10:00 WIB


def open_alerts(call, lks_id: int) -> list[dict]:
    return call(Alert.select(Alert.unique_key, Alert.severity, Alert.resolved_at).where(
        (Alert.lks == lks_id) & (Alert.kind == "accreditation_expiring")).order_by(Alert.id).run)


def test_warnings_at_180_90_30_days_and_expired_each_once(call, make_lks):
    lks = make_lks()
    call(Lks.update({Lks.registration_status: "registered"}).where(Lks.id == lks["id"]).run)
    call(cycles.record_external_grade, lks["id"], "B", "accredited", END, STAFF, at(date(2026, 1, 1)), "test")
    steps = [(END - timedelta(days=181), []),
             (END - timedelta(days=180), [("180d", "low")]),
             (END - timedelta(days=91), [("180d", "low")]),
             (END - timedelta(days=90), [("90d", "medium")]),
             (END - timedelta(days=30), [("30d", "high")]),
             (END, [("30d", "high")]),
             (END + timedelta(days=1), [("expired", "high")])]
    for day, wanted in steps:
        call(jobs.expire_grades, now=at(day))
        for _ in range(2):  # twice: nothing new the second time
            call(raise_alerts, now=at(day))
        rows = open_alerts(call, lks["id"])
        still_open = [(r["unique_key"].rsplit(":", 1)[1], r["severity"]) for r in rows if r["resolved_at"] is None]
        assert still_open == wanted, day
    keys = [r["unique_key"] for r in open_alerts(call, lks["id"])]
    assert keys == [f"accreditation:{lks['id']}:{END.isoformat()}:{s}" for s in ("180d", "90d", "30d", "expired")]
    assert call(Lks.select(Lks.accreditation_status).where(Lks.id == lks["id"]).first().run)["accreditation_status"] == "expired"


def test_grade_and_expiry_feed_the_risk_level_with_the_reason(call, make_lks):
    c_grade, lapsed = make_lks(), make_lks()
    for row in (c_grade, lapsed):
        call(Lks.update({Lks.registration_status: "registered", Lks.valid_until: date(2030, 1, 1)}).where(Lks.id == row["id"]).run)
    now = at(date(2026, 11, 30))
    call(cycles.record_external_grade, c_grade["id"], "C", "accredited", date(2027, 12, 1), STAFF, now, "test")
    call(cycles.record_external_grade, lapsed["id"], "A", "accredited", date(2026, 11, 1), STAFF, now, "test")
    reasons = {r["code"] for r in call(current_risk, c_grade["id"], now=now)["reasons"]}
    assert "accreditation_grade_c" in reasons
    reasons = {r["code"] for r in call(current_risk, lapsed["id"], now=now)["reasons"]}
    assert "accreditation_expired" in reasons
