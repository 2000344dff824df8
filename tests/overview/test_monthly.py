"""The monthly report: its figures equal counts prepared for October 2026
(events on both sides of the month's WIB bounds), the PDF (read back with
pdftotext) and the XLSX (read back with openpyxl) show them in Indonesian
with the change against September, nothing restricted reaches them, the job
run twice (or twice at once) keeps one report and mails each subscriber
once through a real SMTP server."""

from __future__ import annotations

import io
import subprocess
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

from accreditation.cycles.tables import Cycle, StageChange
from inspections.findings.tables import Finding
from inspections.incidents import services as incidents
from inspections.planning.tables import Task
from overview.dashboard.services import snapshot
from overview.monthly import document, jobs, services
from overview.monthly.figures import Month
from overview.monthly.tables import MonthlyReport
from registry import workflow
from registry.tables import Application, Lks, StatusChange
from sigap.audit import Actor
from sigap.i18n import WIB
from sigap.tables import Role

STAFF = Actor(user_id=None, username="uji", role=Role.staff)
SECRET = "RAHASIA-5521"  # an incident's description: never in a report or a mail
OCTOBER = Month(2026, 10)


def wib(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=WIB)


BEFORE = wib(2026, 9, 30, 23, 59)  # the last minute of September
FIRST = wib(2026, 10, 1, 0, 0)  # the first of October
LAST = wib(2026, 10, 31, 23, 59)
AFTER = wib(2026, 11, 1, 0, 0)  # already November
JOB_TIME = wib(2026, 11, 1, 1, 30)


def _insert(call, table, **values):
    return call(table.insert(table(**values)).returning(table.id).run)[0]["id"]


def _task(call, lks: int, *, due_on: date, status: str = "open", done_at=None, due_at=None, created=wib(2026, 9, 1)) -> int:
    return _insert(call, Task, lks=lks, kind="routine", status=status, due_on=due_on, due_at=due_at, done_at=done_at,
                   unique_key=f"test:{uuid.uuid4().hex}", created_at=created, updated_at=created)


def _approval(call, lks: int, at: datetime, kind: str) -> None:
    app = _insert(call, Application, lks=lks, kind=kind, step="approved", opened_at=at - timedelta(days=20), closed_at=at)
    _insert(call, StatusChange, lks=lks, application=app, at=at, action="approve", from_status="field_verification",
            to_status="registered", actor_name="uji")


def _stage(call, cycle: int, at: datetime, from_stage: str, to_stage: str) -> None:
    _insert(call, StageChange, cycle=cycle, at=at, from_stage=from_stage, to_stage=to_stage, actor_name="uji")


@pytest.fixture
def october(call, make_lks):
    """Three LKS and what happened to them around October 2026; returns the
    figures October's report must show, counted by hand."""
    a, b, c = (make_lks(f"LKSA Bulanan {n}") for n in ("Satu", "Dua", "Tiga"))
    # Registrations: 2 new + 1 renewal approved in October; one the minute before, one at November's start.
    _approval(call, a["id"], FIRST, "new")
    _approval(call, b["id"], wib(2026, 10, 15), "new")
    _approval(call, c["id"], LAST, "renewal")
    _approval(call, c["id"], BEFORE, "new")
    _approval(call, a["id"], AFTER, "renewal")
    # Expired by the real job on 12 October (valid until the 10th), and one in November.
    call(Lks.update({Lks.registration_status: "registered", Lks.valid_until: date(2026, 10, 10)}).where(Lks.id == b["id"]).run)
    call(Lks.update({Lks.registration_status: "registered", Lks.valid_until: date(2026, 12, 31)}).where(Lks.id.is_in([a["id"], c["id"]])).run)
    assert call(workflow.expire_registrations, now=wib(2026, 10, 12, 0, 5)) == 1
    # Visits: done in October (2), in September (1), in November (1, but overdue at October's end).
    _task(call, a["id"], due_on=date(2026, 10, 5), status="done", done_at=wib(2026, 10, 4))
    _task(call, b["id"], due_on=date(2026, 10, 30), status="done", done_at=LAST)
    _task(call, c["id"], due_on=date(2026, 9, 20), status="done", done_at=BEFORE)
    _task(call, c["id"], due_on=date(2026, 10, 25), status="done", done_at=wib(2026, 11, 3))  # overdue on 31 Oct
    _task(call, a["id"], due_on=date(2026, 10, 20))  # overdue
    _task(call, b["id"], due_on=date(2026, 10, 31), status="in_progress")  # overdue from 1 Nov 00:00
    _task(call, c["id"], due_on=date(2026, 11, 1))  # not yet due
    _task(call, a["id"], due_on=date(2026, 10, 5), status="cancelled")  # cancelled: never overdue
    _task(call, b["id"], due_on=date(2026, 11, 1), due_at=wib(2026, 10, 31, 22))  # urgent, deadline passed
    _task(call, c["id"], due_on=date(2026, 10, 2), created=wib(2026, 11, 2))  # made after the month: not counted
    # Findings: 3 recorded in October (one closed in October), one recorded before and closed in October.
    for created, closed in ((FIRST, None), (wib(2026, 10, 9), wib(2026, 10, 20)), (LAST, AFTER), (BEFORE, wib(2026, 10, 2))):
        _insert(call, Finding, lks=a["id"], severity="minor", description="Kamar mandi rusak", due_on=date(2026, 11, 30),
                status="closed" if closed else "open", created_at=created, closed_at=closed)
    # Incidents through the real service: two in October (one closed the same month), one in November.
    first = call(incidents.record_incident, STAFF, lks_id=a["id"], source="public_complaint", category="neglect", severity="high",
                 occurred_on="2026-10-02", description=f"Laporan: {SECRET}, anak usia 9 tahun.", now=wib(2026, 10, 3))
    call(incidents.record_incident, STAFF, lks_id=b["id"], source="police", category="physical_abuse", severity="critical",
         occurred_on="2026-10-28", description=f"Korban {SECRET}.", now=wib(2026, 10, 28))
    call(incidents.close_incident, STAFF, first["id"], outcome="Ditangani UPTD PPA", now=wib(2026, 10, 30))
    call(incidents.record_incident, STAFF, lks_id=c["id"], source="media", category="neglect", severity="low",
         occurred_on="2026-11-01", description="Di bulan berikutnya.", now=wib(2026, 11, 1, 8))
    # Accreditation: cycles opened in October (2), one recommended and graded B, one expired; one started in September.
    cycles = {}
    for lks, opened in ((a, wib(2026, 10, 2)), (b, wib(2026, 10, 3)), (c, BEFORE)):
        cycles[lks["id"]] = _insert(call, Cycle, lks=lks["id"], latest_key=str(lks["id"]), stage="preparing", opened_at=opened,
                                    updated_at=opened)
        _stage(call, cycles[lks["id"]], opened, "", "preparing")
    _stage(call, cycles[a["id"]], wib(2026, 10, 10), "self_assessment", "submitted")
    _stage(call, cycles[a["id"]], wib(2026, 10, 25), "assessor_visit", "accredited")
    call(Cycle.update({Cycle.grade: "B", Cycle.stage: "accredited"}).where(Cycle.id == cycles[a["id"]]).run)
    _stage(call, cycles[c["id"]], wib(2026, 10, 7), "accredited", "expired")
    _stage(call, cycles[b["id"]], AFTER, "self_assessment", "submitted")
    return {
        "lks": [a, b, c],
        "period": {
            "registrations": {"issued": 3, "issued_new": 2, "issued_renewal": 1, "expired": 1},
            # Overdue: the four above, and the urgent visits of the two October incidents (due within 48 hours, not done).
            "visits": {"done": 2, "overdue": 6},
            "findings": {"opened": 3, "closed": 2},
            "incidents": {"opened": 2, "closed": 1},
            "accreditation": {"started": 2, "recommended": 1, "graded": 1, "graded_a": 0, "graded_b": 1, "graded_c": 0,
                              "not_accredited": 0, "expired": 1},
        },
    }


def pdf_text(content: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()


def _read(call, storage, key: str) -> bytes:
    async def read() -> bytes:
        return b"".join([chunk async for chunk in storage.iter_chunks(key)])

    return call(read)


def test_october_figures_equal_the_prepared_counts(call, app, october):
    storage = app.state.storage
    row, built = call(services.build, STAFF, OCTOBER, now=JOB_TIME, storage=storage, region="36.71")
    assert built and row["final"] and row["version"] == 1
    report = call(services.get_report, STAFF, "2026-10")
    figures = report["figures"]
    assert figures["period"] == october["period"]
    # The situation figures are the dashboard's at the time (the month's end).
    expected = dict(tuple(p) for p in document.pick(call(snapshot, JOB_TIME)))
    assert dict(tuple(p) for p in figures["snapshot"]) == expected
    assert expected["total_lks"] == 3 and expected["registration.registered"] == 2 and expected["registration.expired"] == 1
    assert expected["open_incidents"] == 2  # the November one is open too: the situation is "now"

    text = pdf_text(_read(call, storage, report["pdf_key"]))
    assert "DINAS SOSIAL" in text and "LAPORAN BULANAN" in text and "Oktober 2026" in text
    assert "Keadaan pada akhir Oktober 2026" in text
    assert "Tanda Daftar diterbitkan" in text and "Kunjungan terlambat pada akhir bulan" in text
    lines = {" ".join(line.split()[:-3]): line.split()[-3:] for line in text.splitlines() if len(line.split()) > 3}
    assert lines["Tanda Daftar diterbitkan"][0] == "3"
    assert lines["Kasus dicatat"][0] == "2" and lines["Kasus ditutup"][0] == "1"
    for forbidden in (SECRET, "anak usia", "Korban", "LKSA Bulanan", "UPTD PPA", "Kamar mandi"):
        assert forbidden not in text

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(_read(call, storage, report["xlsx_key"])))
    assert book.sheetnames[0] == "Ringkasan" and "Kunjungan pemantauan" in book.sheetnames
    visits = book["Kunjungan pemantauan"]
    assert [c.value for c in visits[1]] == ["Uraian", "Oktober 2026", "Bulan lalu", "Perubahan"]
    assert [[c.value for c in r] for r in visits.iter_rows(min_row=2)] == [
        ["Kunjungan dilakukan", 2, None, None], ["Kunjungan terlambat pada akhir bulan", 6, None, None]]
    # Per kecamatan: the dashboard's table, names of places and numbers only (the three LKS are in Pinang).
    places = book["Per kecamatan"]
    assert [c.value for c in places[1]] == ["Kecamatan", "LKS", "Terdaftar", "Kedaluwarsa", "Terakreditasi", "Risiko tinggi",
                                            "Kasus terbuka", "Tugas terlambat"]
    by_name = {r[0].value: [c.value for c in r[1:]] for r in places.iter_rows(min_row=2)}
    dashboard = {r["name"]: r for r in call(snapshot, JOB_TIME)["by_kecamatan"]}
    assert set(by_name) == set(dashboard) and by_name["Pinang"][:3] == [3, 2, 1]
    assert all(v == [dashboard[n][k] for k in ("lks", "registered", "expired", "accredited", "high_risk", "open_incidents",
                                                "overdue_tasks")] for n, v in by_name.items())
    assert "Per kecamatan" in text and "Pinang" in text
    cells = [str(c.value) for ws in book for r in ws.iter_rows() for c in r if c.value is not None]
    assert not any(SECRET in c or "LKSA Bulanan" in c for c in cells)


def test_change_against_the_previous_kept_report(call, app, october):
    storage = app.state.storage
    call(services.build, STAFF, Month(2026, 9), now=wib(2026, 10, 1, 1, 30), storage=storage, region="36.71")
    call(services.build, STAFF, OCTOBER, now=JOB_TIME, storage=storage, region="36.71")
    report = call(services.get_report, STAFF, "2026-10")
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(_read(call, storage, report["xlsx_key"])))
    sheet = book["Kunjungan pemantauan"]
    assert [c.value for c in sheet[1]] == ["Uraian", "Oktober 2026", "September 2026", "Perubahan"]
    # September: one visit done; overdue at its end: none (every task was due in October or later).
    assert [[c.value for c in r] for r in sheet.iter_rows(min_row=2)] == [
        ["Kunjungan dilakukan", 2, 1, 1], ["Kunjungan terlambat pada akhir bulan", 6, 0, 6]]
    text = pdf_text(_read(call, storage, report["pdf_key"]))
    line = next(x for x in text.splitlines() if x.strip().startswith("Kunjungan dilakukan"))
    assert line.split()[-3:] == ["2", "1", "+1"]


def test_building_again_replaces_and_keeps_the_month_end_situation(call, app, october):
    storage = app.state.storage
    first, _ = call(services.build, STAFF, OCTOBER, now=JOB_TIME, storage=storage, region="36.71")
    before = call(services.get_report, STAFF, "2026-10")
    # Later, more LKS exist; the October report made again keeps the situation of 1 November.
    call(Lks.update({Lks.registration_status: "revoked"}).where(Lks.id == october["lks"][0]["id"]).run)
    second, built = call(services.build, STAFF, OCTOBER, now=wib(2026, 11, 20), storage=storage, region="36.71")
    after = call(services.get_report, STAFF, "2026-10")
    assert built and second["version"] == 2 and call(MonthlyReport.count().run) == 1
    assert after["figures"]["snapshot"] == before["figures"]["snapshot"]
    assert after["figures"]["by_kecamatan"] == before["figures"]["by_kecamatan"]
    assert after["figures"]["period"] == october["period"]
    keys = set(call(storage.keys, "overview/monthly/2026-10/"))
    assert {after["pdf_key"], after["xlsx_key"]} <= keys  # the new files in, the old ones gone
    assert not {before["pdf_key"], before["xlsx_key"]} & keys
    # The job leaves a month-end report as it is.
    assert call(services.build, Actor.system("scheduler"), OCTOBER, now=wib(2026, 11, 21), storage=storage,
                region="36.71", replace=False)[1] is False


def test_a_month_under_way_is_replaced_by_the_job(call, app, october):
    storage = app.state.storage
    row, _ = call(services.build, STAFF, OCTOBER, now=wib(2026, 10, 20), storage=storage, region="36.71")
    assert not row["final"]
    report = call(services.get_report, STAFF, "2026-10")
    assert report["figures"]["period"]["registrations"]["issued"] == 2  # the 31st's not yet
    text = pdf_text(_read(call, storage, report["pdf_key"]))
    assert "Bulan berjalan: angka per 20 Okt 2026, 10.00 WIB" in text and "Keadaan saat laporan dibuat" in text
    row, built = call(services.build, Actor.system("scheduler"), OCTOBER, now=JOB_TIME, storage=storage, region="36.71",
                      replace=False)
    assert built and row["final"] and row["version"] == 2


def test_months_refused(call):
    now = wib(2026, 11, 20)
    for bad in ("", "2026-13", "26-10", "2026/10", "9999999999-01", "2026-1"):
        with pytest.raises(services.ValidationError) as info:
            services.parse_month(bad, now=now)
        assert "month" in info.value.fields
    with pytest.raises(services.ValidationError):
        services.parse_month("2026-12", now=now)
    assert str(services.parse_month("2026-11", now=now)) == "2026-11"
