"""The monthly reports page and API: staff and admins only (403 for the
other roles), "Buat sekarang" (a POST with the CSRF token), downloads with
the right type and name, a bad month named next to the field, the e-mail
subscription toggle, and a query count that does not grow with reports."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import pytest

from overview.monthly.tables import MonthlyReport, MonthlySubscription
from tests.conftest import csrf_token, form, login


def test_other_roles_are_refused(client, as_role):
    for role in ("inspector", "partner", "manager"):
        as_role(role)
        for path in ("/reports/monthly", "/reports/monthly/2026-10/pdf", "/api/v1/reports/monthly", "/api/v1/reports/monthly/2026-10"):
            assert client.get(path, follow_redirects=False).status_code == 403, (role, path)
        assert form(client, "/reports/monthly", {"month": "2026-10"}).status_code == 403
        assert form(client, "/reports/monthly/subscription", {"subscribed": "1"}).status_code == 403
        response = client.post("/api/v1/reports/monthly", json={"month": "2026-10"}, headers={"X-CSRFToken": csrf_token(client)})
        assert response.status_code == 403
        page = client.get("/").text
        assert "/reports/monthly" not in page  # no menu entry either
    client.cookies.clear()
    assert client.get("/reports/monthly", follow_redirects=False).status_code in (302, 303, 401)


def test_make_now_download_and_subscribe(client, call, as_role):
    as_role("staff", email="kepala.bidang@dinsos.example")
    page = client.get("/reports/monthly")
    assert page.status_code == 200 and "Laporan bulanan" in page.text and "Belum ada laporan" in page.text
    assert 'href="/reports/monthly"' in page.text  # the menu entry

    # A month not written as YYYY-MM: the message sits next to the field, nothing is made.
    bad = form(client, "/reports/monthly", {"month": "2026-13"})
    assert bad.status_code == 422 and 'id="e-f-month"' in bad.text and "Pilih bulan (TTTT-BB)." in bad.text
    future = form(client, "/reports/monthly", {"month": "2999-01"})
    assert future.status_code == 422 and "Bulan ini belum dimulai" in future.text
    assert call(MonthlyReport.count().run) == 0
    # Without the CSRF token: refused.
    assert client.post("/reports/monthly", data={"month": "2026-10"}, follow_redirects=False).status_code == 403

    made = form(client, "/reports/monthly", {"month": "2026-10"})
    assert made.status_code == 303 and made.headers["location"] == "/reports/monthly?built=2026-10"
    page = client.get(made.headers["location"]).text
    assert "Laporan Oktober 2026 sudah dibuat" in page and 'href="/reports/monthly/2026-10/pdf"' in page

    pdf = client.get("/reports/monthly/2026-10/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-disposition"] == 'inline; filename="laporan-bulanan-2026-10.pdf"'
    xlsx = client.get("/reports/monthly/2026-10/xlsx")
    assert xlsx.headers["content-disposition"] == 'attachment; filename="laporan-bulanan-2026-10.xlsx"'
    from openpyxl import load_workbook

    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames[0] == "Ringkasan"
    for path in ("/reports/monthly/2026-09/pdf", "/reports/monthly/2026-10/docx", "/reports/monthly/99999999999999999999/pdf"):
        assert client.get(path).status_code == 404, path

    # A file gone from storage: a clear 404, not a broken download.
    row = call(MonthlyReport.select(MonthlyReport.pdf_key).first().run)
    call(client.app.state.storage.delete, row["pdf_key"])
    missing = client.get("/reports/monthly/2026-10/pdf")
    assert missing.status_code == 404 and "buat laporannya lagi" in missing.text

    # Made again: replaced, version 2.
    assert form(client, "/reports/monthly", {"month": "2026-10"}).status_code == 303
    assert "versi 2" in client.get("/reports/monthly").text

    # Subscribe, then stop.
    assert "Berlangganan" in client.get("/reports/monthly").text
    on = form(client, "/reports/monthly/subscription", {"subscribed": "1"})
    assert on.status_code == 303 and call(MonthlySubscription.count().run) == 1
    page = client.get(on.headers["location"]).text
    assert "Anda akan menerima laporan setiap bulan" in page and "Berhenti berlangganan" in page
    off = form(client, "/reports/monthly/subscription", {"subscribed": "0"})
    assert off.status_code == 303 and call(MonthlySubscription.count().run) == 0


def test_subscribing_without_an_address_says_what_to_do(client, call, as_role):
    as_role("admin")
    response = form(client, "/reports/monthly/subscription", {"subscribed": "1"})
    assert response.status_code == 422 and "Akun Anda belum memiliki alamat surel" in response.text
    assert call(MonthlySubscription.count().run) == 0


def test_api(client, as_role):
    as_role("staff", email="staf@dinsos.example")
    headers = {"X-CSRFToken": csrf_token(client)}
    made = client.post("/api/v1/reports/monthly", json={"month": "2026-10"}, headers=headers)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["month"] == "2026-10" and body["version"] == 1 and body["pdf_url"] == "/reports/monthly/2026-10/pdf"
    assert set(body["figures"]["period"]) == {"registrations", "visits", "findings", "incidents", "accreditation"}
    assert client.get("/api/v1/reports/monthly/2026-10").json()["figures"] == body["figures"]
    listed = client.get("/api/v1/reports/monthly").json()
    assert [r["month"] for r in listed["items"]] == ["2026-10"] and listed["subscribed"] is False
    bad = client.post("/api/v1/reports/monthly", json={"month": "Oktober"}, headers=headers)
    assert bad.status_code == 422 and "month" in bad.json()["fields"]
    assert client.put("/api/v1/reports/monthly/subscription", json={"subscribed": True}, headers=headers).json() == {"subscribed": True}
    assert client.get("/api/v1/reports/monthly").json()["subscribed"] is True


@pytest.mark.parametrize("path", ["/reports/monthly", "/api/v1/reports/monthly"])
def test_list_queries_do_not_grow_with_reports(client, call, make_user, count_queries, path):
    make_user("adm", "admin")
    login(client, "adm")

    def reports(months: list[str]) -> None:
        now = datetime.now(timezone.utc)
        for month in months:
            call(MonthlyReport.insert(MonthlyReport(month=month, figures={}, pdf_key=f"x/{month}.pdf", xlsx_key=f"x/{month}.xlsx",
                                                    built_at=now, built_by_name="scheduler", final=True)).run)

    reports(["2025-01"])
    assert client.get(path).status_code == 200
    count_queries.reset()
    client.get(path)
    few = len(count_queries)
    reports([f"2025-{m:02d}" for m in range(2, 13)])
    count_queries.reset()
    response = client.get(path)
    assert response.status_code == 200 and response.text.count("/reports/monthly/2025-") >= 24
    many = len(count_queries)
    assert many == few <= 8, f"{path}: {few} statements with 1 report, {many} with 12:\n" + "\n".join(count_queries.statements)


def test_one_report_and_its_download_are_bounded(client, call, as_role, count_queries):
    as_role("staff")
    assert form(client, "/reports/monthly", {"month": "2026-10"}).status_code == 303
    for path in ("/api/v1/reports/monthly/2026-10", "/reports/monthly/2026-10/pdf", "/reports/monthly/2026-10/xlsx"):
        client.get(path)
        count_queries.reset()
        assert client.get(path).status_code == 200, path
        assert len(count_queries) <= 3, f"{path}:\n" + "\n".join(count_queries.statements)


def test_the_audit_log_names_what_was_made(client, as_role):
    as_role("admin", email="admin@dinsos.example")
    assert form(client, "/reports/monthly", {"month": "2026-10"}).status_code == 303
    assert form(client, "/reports/monthly/subscription", {"subscribed": "1"}).status_code == 303
    log = client.get("/admin/audit").text
    assert "Membuat laporan bulanan" in log and "Oktober 2026" in log and "Berlangganan laporan bulanan" in log
