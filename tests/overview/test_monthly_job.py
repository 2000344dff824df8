"""The ``monthly-report`` job against a real SMTP server (aiosmtpd): run
twice, and twice at once, it keeps one report of last month and mails each
subscriber once, in their language, with links and counts only."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime

import pytest

from inspections.alerts.tables import Notification
from inspections.incidents import services as incidents
from overview.monthly import jobs, services
from overview.monthly.tables import MonthlyReport
from sigap.audit import Actor
from sigap.errors import Forbidden, ValidationError
from sigap.i18n import WIB
from sigap.settings import get_settings
from sigap.tables import Role
from tests.inspections.test_notify import smtp  # noqa: F401 - the real SMTP server fixture

SECRET = "RAHASIA-8812"
STAFF = Actor(user_id=None, username="uji", role=Role.staff)


def wib(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=WIB)


def actor(user: dict) -> Actor:
    return Actor(user_id=user["id"], username=user["username"], role=Role(user["role"]), lks_id=user["lks_id"])


@pytest.fixture
def people(call, make_user, make_lks):
    lks = make_lks("LKSA Pelita Rahasia")
    call(incidents.record_incident, STAFF, lks_id=lks["id"], source="public_complaint", category="sexual_abuse",
         severity="critical", occurred_on="2027-01-10", description=f"Laporan {SECRET}.", now=wib(2027, 1, 11))
    users = {
        "kepala": make_user("kepala", "admin", email="kepala@dinsos.example", locale="id"),
        "staf_en": make_user("staf_en", "staff", email="staf.en@dinsos.example", locale="en"),
        "terlambat": make_user("terlambat", "staff", email="terlambat@dinsos.example"),
        "berhenti": make_user("berhenti", "staff", email="berhenti@dinsos.example"),
        "tanpa_surel": make_user("tanpa_surel", "staff"),
        "petugas": make_user("petugas", "inspector", email="petugas@dinsos.example"),
    }
    for key in ("kepala", "staf_en", "berhenti"):
        assert call(services.set_subscription, actor(users[key]), True, now=wib(2027, 1, 5)) is True
    call(services.set_subscription, actor(users["kepala"]), True, now=wib(2027, 1, 6))  # twice: still one
    call(services.set_subscription, actor(users["berhenti"]), False, now=wib(2027, 1, 20))
    # Subscribed once January had ended: starts with February's report.
    call(services.set_subscription, actor(users["terlambat"]), True, now=wib(2027, 2, 1, 0, 30))
    with pytest.raises(ValidationError) as info:
        call(services.set_subscription, actor(users["tanpa_surel"]), True, now=wib(2027, 1, 5))
    assert "subscribed" in info.value.fields and "surel" in info.value.message
    with pytest.raises(Forbidden):
        call(services.set_subscription, actor(users["petugas"]), True, now=wib(2027, 1, 5))
    return users


def test_job_twice_and_at_once_keeps_one_report_and_mails_once(call, app, smtp, people):  # noqa: F811
    storage = app.state.storage
    settings = replace(get_settings(), smtp_url=smtp.url, base_url="https://sigap.example.go.id")
    before = set(call(storage.keys, "overview/monthly/2027-01/"))
    at = wib(2027, 2, 1, 1, 30)

    first = call(jobs.monthly_report, now=at, settings=settings)
    assert (first.month, first.built, first.queued, first.sent, first.failed) == ("2027-01", True, 2, 2, 0)

    async def twice():
        return await asyncio.gather(jobs.monthly_report(now=at, settings=settings),
                                    jobs.monthly_report(now=wib(2027, 2, 1, 9), settings=settings))

    for result in [call(jobs.monthly_report, now=wib(2027, 2, 1, 2), settings=settings), *call(twice)]:
        assert (result.built, result.queued, result.sent) == (False, 0, 0)
    assert call(MonthlyReport.count().run) == 1
    row = call(MonthlyReport.select().first().run)
    assert row["month"] == "2027-01" and row["version"] == 1 and row["final"] and row["built_by_name"] == "scheduler"
    assert set(call(storage.keys, "overview/monthly/2027-01/")) - before == {row["pdf_key"], row["xlsx_key"]}

    assert sorted(a for m in smtp.messages for a in m["to"]) == ["kepala@dinsos.example", "staf.en@dinsos.example"]
    kepala = smtp.to("kepala@dinsos.example")[0]
    assert kepala["message"]["Subject"] == "SIGAP: laporan bulanan Januari 2027"
    assert "Laporan bulanan Januari 2027 sudah tersedia." in kepala["body"]
    assert "https://sigap.example.go.id/reports/monthly/2027-01/pdf" in kepala["body"]
    assert "https://sigap.example.go.id/reports/monthly/2027-01/xlsx" in kepala["body"]
    assert "Kasus dicatat: 1; ditutup: 0" in kepala["body"]
    english = smtp.to("staf.en@dinsos.example")[0]
    assert english["message"]["Subject"] == "SIGAP: monthly report January 2027"
    assert "Incidents recorded: 1; closed: 0" in english["body"]
    for message in smtp.messages:
        assert SECRET not in message["body"] and "Pelita" not in message["body"]
    keys = {r["unique_key"] for r in call(Notification.select(Notification.unique_key).run)}
    assert keys == {f"monthly:2027-01:{people[k]['id']}" for k in ("kepala", "staf_en")}

    # February's report on 1 March, by two runs at once: one report, one mail each, the late subscriber too.
    before = set(call(storage.keys, "overview/monthly/2027-02/"))

    async def together():
        return await asyncio.gather(*(jobs.monthly_report(now=wib(2027, 3, 1, 1, 30), settings=settings) for _ in range(2)))

    runs = call(together)
    assert sorted(r.built for r in runs) == [False, True] and sum(r.queued for r in runs) == 3
    row = call(MonthlyReport.select().where(MonthlyReport.month == "2027-02").first().run)
    assert call(MonthlyReport.count().where(MonthlyReport.month == "2027-02").run) == 1 and row["version"] == 1
    assert set(call(storage.keys, "overview/monthly/2027-02/")) - before == {row["pdf_key"], row["xlsx_key"]}
    assert len(smtp.to("terlambat@dinsos.example")) == 1 and len(smtp.messages) == 5
