"""Public reports (/lapor): anyone reports a concern without signing in and
follows it with a tracking code that shows only the status; spam controls
(honeypot, minimum fill time, per-address limits) refuse with a translated
message and store nothing; staff triage each report once into an incident,
an unregistered-LKS report or a closure; the reporter's contact is
restricted and every read of it audited."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import re
import shutil
from datetime import datetime, timedelta, timezone

import pytest
from PIL import Image

from inspections.incidents import services as incidents
from inspections.incidents.tables import Incident
from inspections.public_reports import services, triage
from inspections.public_reports.tables import PublicReport
from registry.sightings import services as sightings
from registry.sightings.tables import Sighting
from registry.tables import Lks
from sigap.audit import Actor
from sigap.errors import Conflict
from sigap.tables import AuditEvent, Role
from tests.conftest import app_client, form
from tests.registry.test_public import assert_nothing_restricted, sensitive_lks

STAFF = Actor(user_id=None, username="petugas", role=Role.staff)
WHAT = "Malam tadi terdengar anak menangis lama dan pengasuh membentak keras."
CONTACT = {"contact_name": "Siti Pelapor", "contact_phone": "0857 1111 2222", "contact_email": "siti.pelapor@contoh.id"}
PUBLIC_STATUS_KEYS = {"code", "status", "received_on", "handled_on", "closed_on"}


def token(settings, seconds_ago: int = 30) -> str:
    return services.form_token(settings.secret_key, now=datetime.now(timezone.utc) - timedelta(seconds=seconds_ago))


def send(client, settings, *, files=None, seconds_ago: int = 30, **fields):
    data = {"what": WHAT, "form_token": token(settings, seconds_ago), "website": "", **fields}
    return client.post("/lapor", data=data, files=files, follow_redirects=False)


def sent_code(response) -> str:
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/lapor/([A-Z0-9]{10})\?sent=1", response.headers["location"])
    assert match, response.headers["location"]
    return match.group(1)


def count(call, table, where=None) -> int:
    query = table.count()
    return call((query.where(where) if where is not None else query).run)


def registered(call, make_lks, name: str) -> dict:
    lks = make_lks(name)
    call(Lks.update({Lks.registration_status: "registered"}).where(Lks.id == lks["id"]).run)
    return lks


def described(**extra):
    return {"place_name": "Rumah Singgah Tanpa Papan", "place_address": "Gg. Mawar 3, dekat masjid",
            "kelurahan_code": "36.71.11.1005", **extra}


# --- the reporter's path ------------------------------------------------------------


def test_report_an_lks_from_the_register_and_follow_only_its_status(client, call, app, settings, make_lks, as_role):
    lks = sensitive_lks(call, app, make_lks)
    client.cookies.clear()
    page = client.get("/lapor?q=harapan")
    assert page.status_code == 200 and "set-cookie" not in page.headers and page.headers["cache-control"] == "no-store"
    assert "Laporkan kekhawatiran" in page.text and "LKSA Harapan Bangsa" in page.text
    assert_nothing_restricted(page.text)

    code = sent_code(send(client, settings, lks_id=str(lks["id"]), **CONTACT))
    confirmation = client.get(f"/lapor/{code}?sent=1")
    assert confirmation.status_code == 200 and f"{code[:5]}-{code[5:]}" in confirmation.text
    assert "Diterima" in confirmation.text and "set-cookie" not in confirmation.headers

    def public_views() -> list[str]:
        html = client.get(f"/lapor/{code}").text
        api = client.get(f"/api/v1/public/reports/{code}")
        assert api.status_code == 200 and set(api.json()) == PUBLIC_STATUS_KEYS
        for text in (html, api.text):
            assert_nothing_restricted(text)
            for secret in (WHAT[:20], "Siti Pelapor", "0857", "siti.pelapor", "LKSA Harapan Bangsa"):
                assert secret not in text
        return [html, api.json()["status"]]

    assert public_views()[1] == "received"
    report = call(PublicReport.select().where(PublicReport.code == code).first().run)
    assert report["lks"] == lks["id"] and report["contact_phone"] == "0857 1111 2222" and report["incident"] is None

    # Staff triage it into an incident: the reporter now sees "being handled".
    as_role("staff")
    done = form(client, f"/public-reports/{report['id']}/incident",
                {"version": "1", "category": "psychological_abuse", "severity": "high", "occurred_on": ""})
    assert done.status_code == 303, done.text
    client.cookies.clear()
    html, status = public_views()
    assert status == "handling" and "Sedang ditangani" in html
    linked = call(PublicReport.select().where(PublicReport.code == code).first().run)
    incident = call(Incident.select().where(Incident.id == linked["incident"]).first().run)
    assert incident["source"] == "public_complaint" and incident["lks"] == lks["id"] and WHAT in incident["description"]
    as_role("staff")
    incident_page = client.get(f"/incidents/{incident['id']}")
    assert f'href="/public-reports/{linked["id"]}"' in incident_page.text and code[:5] in incident_page.text
    client.cookies.clear()

    # The incident is closed: so is the report, for the reporter.
    call(incidents.close_incident, STAFF, incident["id"], outcome="Anak-anak aman, pengasuh diganti.", now=datetime.now(timezone.utc))
    html, status = public_views()
    assert status == "closed" and "Laporan ditutup" in html and "pengasuh diganti" not in html


def test_a_described_place_becomes_an_unregistered_lks_report(client, call, settings, as_role):
    code = sent_code(send(client, settings, **described()))
    report = call(PublicReport.select().where(PublicReport.code == code).first().run)
    as_role("staff")
    page = client.get(f"/public-reports/{report['id']}")
    assert page.status_code == 200 and "Rumah Singgah Tanpa Papan" in page.text
    done = form(client, f"/public-reports/{report['id']}/sighting",
                {"version": "1", "name": "Rumah Singgah Tanpa Papan", "address": "Gg. Mawar 3", "kelurahan_code": "36.71.11.1005",
                 "kind": "lksa"})
    assert done.status_code == 303, done.text
    sighting = call(Sighting.select().where(Sighting.source_ref == code).first().run)
    assert sighting["source"] == "public" and sighting["created_lks"] is True
    assert client.get(f"/api/v1/public/reports/{code}").json()["status"] == "handling"
    call(sightings.set_outcome, STAFF, sighting["id"], outcome="not_lks", reason="Rumah kos biasa, bukan LKS.", version=None,
         now=datetime.now(timezone.utc))
    assert client.get(f"/api/v1/public/reports/{code}").json()["status"] == "closed"


def test_bad_input_gets_messages_next_to_the_fields_and_stores_nothing(client, call, settings):
    response = send(client, settings, what="pendek", place_name="", place_address="", kelurahan_code="99.99",
                    contact_phone="telepon saya", contact_email="bukan-email")
    assert response.status_code == 422
    html = response.text
    for field in ("what", "place_name", "place_address", "kelurahan_code", "contact_phone", "contact_email"):
        assert re.search(f'id="e-(f-)?{field}"', html), field
    assert "Tuliskan apa yang terjadi" in html
    bad_lks = send(client, settings, lks_id="99999999999999999999")
    assert bad_lks.status_code == 422 and 'id="e-lks_id"' in bad_lks.text
    api = client.post("/api/v1/public/reports", json={"what": "x", "form_token": token(settings)})
    assert api.status_code == 422 and set(api.json()["fields"]) >= {"what", "place_name", "place_address"}
    assert count(call, PublicReport) == 0


def test_the_same_form_sent_twice_is_stored_once(client, call, settings):
    data = {"what": WHAT, "form_token": token(settings), **described()}
    first = client.post("/lapor", data=data, follow_redirects=False)
    again = client.post("/lapor", data=data, follow_redirects=False)
    assert first.headers["location"] == again.headers["location"]
    api_token = token(settings)
    one = client.post("/api/v1/public/reports", json={"what": WHAT, "form_token": api_token, **described()})
    two = client.post("/api/v1/public/reports", json={"what": WHAT, "form_token": api_token, **described()})
    assert one.status_code == 201 and two.status_code == 200 and one.json() == two.json()
    assert count(call, PublicReport) == 2


def test_bad_codes_answer_404_never_500(client):
    for code in ("ABCDE23456", "abc", "x" * 500, "ABCDE-2345O", "0" * 10, "99999999999999999999999999", "%25"):
        page = client.get(f"/lapor/{code}")
        assert page.status_code == 404 and "Laporan tidak ditemukan" in page.text, code
        api = client.get(f"/api/v1/public/reports/{code}")
        assert api.status_code == 404 and api.json()["error"] == "not_found", code
    assert client.get("/lapor/A%2FB").status_code == 404
    assert client.get("/lapor/%00").status_code == 422  # a NUL anywhere is refused before routing, as everywhere
    typed = client.get("/lapor/cek", params={"code": "abc"})
    assert typed.status_code == 422 and 'aria-invalid="true"' in typed.text


# --- spam controls ---------------------------------------------------------------------


def test_honeypot_too_fast_and_forged_forms_are_refused_with_nothing_stored(client, call, settings):
    honeypot = send(client, settings, website="http://spam.example", **described())
    assert honeypot.status_code == 422 and "tampak dikirim otomatis" in honeypot.text
    too_fast = send(client, settings, seconds_ago=0, **described())
    assert too_fast.status_code == 422 and "terlalu cepat" in too_fast.text
    assert services.check_form_token(re.search(r'name="form_token" value="([^"]+)"', too_fast.text).group(1),
                                     settings.secret_key, now=datetime.now(timezone.utc) + timedelta(seconds=10))
    forged = client.post("/lapor", data={"what": WHAT, "form_token": "abc.def.ghi", **described()}, follow_redirects=False)
    assert forged.status_code == 422 and "Muat ulang halaman" in forged.text
    stale = send(client, settings, seconds_ago=2 * 24 * 3600, **described())
    assert stale.status_code == 422
    api = client.post("/api/v1/public/reports", json={"what": WHAT, "form_token": token(settings, 0), **described()})
    assert api.status_code == 422 and api.json()["error"] == "refused" and "terlalu cepat" in api.json()["message"]
    api_hp = client.post("/api/v1/public/reports", json={"what": WHAT, "form_token": token(settings), "website": "x", **described()})
    assert api_hp.status_code == 422 and api_hp.json()["error"] == "refused"
    fresh = client.get("/api/v1/public/reports/form").json()
    assert fresh["min_seconds"] == services.MIN_FILL_SECONDS and fresh["form_token"]
    assert count(call, PublicReport) == 0
    assert count(call, AuditEvent, AuditEvent.action == "public_report.create") == 0


def test_too_many_reports_from_one_address_get_429_with_a_translated_message(client, call, settings):
    for _ in range(services.REPORTS_PER_HOUR):
        sent_code(send(client, settings, **described()))
    page = send(client, settings, **described())
    assert page.status_code == 429 and "Anda sudah mengirim 5 laporan" in page.text and int(page.headers["retry-after"]) > 0
    api = client.post("/api/v1/public/reports", json={"what": WHAT, "form_token": token(settings), **described()})
    assert api.status_code == 429 and api.json()["error"] == "throttled" and "Anda sudah mengirim" in api.json()["message"]
    assert count(call, PublicReport) == services.REPORTS_PER_HOUR


def test_the_public_rate_limit_covers_the_report_pages(settings):
    from sigap.app import create_app

    shutil.rmtree(settings.var_dir / "rate-limit", ignore_errors=True)
    limited = dataclasses.replace(settings, public_rate_limit=3)
    with app_client(create_app(limited)) as (client, _call):
        for _ in range(3):
            assert client.get("/lapor").status_code == 200
        page = client.get("/lapor/ABCDE23456")
        assert page.status_code == 429 and "Terlalu banyak permintaan" in page.text and "set-cookie" not in page.headers
        api = client.post("/api/v1/public/reports", json={})
        assert api.status_code == 429 and api.json()["message"] == "Terlalu banyak permintaan. Tunggu sebentar lalu coba lagi."
    shutil.rmtree(settings.var_dir / "rate-limit", ignore_errors=True)


# --- photo -----------------------------------------------------------------------------


def jpeg_with_gps(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height), (200, 80, 40))
    exif = Image.Exif()
    exif[0x010F] = "KameraRahasia"  # Make
    exif[0x8825] = {1: "S", 2: (6.0, 10.0, 30.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def test_a_photo_is_downscaled_stripped_and_shown_only_to_staff(client, call, settings, as_role):
    raw = jpeg_with_gps(3200, 2000)
    assert b"KameraRahasia" in raw
    code = sent_code(send(client, settings, files={"photo": ("IMG_0001.jpg", raw, "image/jpeg")}, **described()))
    report = call(PublicReport.select().where(PublicReport.code == code).first().run)
    assert report["photo_type"] == "image/jpeg"
    assert client.get(f"/public-reports/{report['id']}/photo", follow_redirects=False).status_code in (303, 401)
    as_role("staff")
    photo = client.get(f"/public-reports/{report['id']}/photo")
    assert photo.status_code == 200 and b"KameraRahasia" not in photo.content
    stored = Image.open(io.BytesIO(photo.content))
    assert max(stored.size) == 1600 and not stored.getexif()
    assert count(call, AuditEvent, AuditEvent.action == "public_report.photo_view") == 1

    client.cookies.clear()
    refused = send(client, settings, files={"photo": ("surat.pdf", b"%PDF-1.4 bukan foto", "application/pdf")}, **described())
    assert refused.status_code == 422 and 'id="e-photo"' in refused.text and "Hanya foto JPEG, PNG atau WebP" in refused.text
    assert count(call, PublicReport) == 1


# --- staff: contact, triage once -------------------------------------------------------------


def test_the_contact_is_shown_only_on_request_and_every_read_is_audited(client, call, settings, as_role):
    code = sent_code(send(client, settings, **CONTACT, **described()))
    report_id = call(PublicReport.select(PublicReport.id).where(PublicReport.code == code).first().run)["id"]
    as_role("manager")
    assert client.get(f"/public-reports/{report_id}").status_code == 403
    assert client.get(f"/api/v1/public-reports/{report_id}?contact=true").status_code == 403
    as_role("staff")
    listing = client.get("/public-reports")
    assert listing.status_code == 200 and code[:5] in listing.text
    assert WHAT not in listing.text and "Siti Pelapor" not in listing.text
    page = client.get(f"/public-reports/{report_id}")
    assert WHAT in page.text and "Siti Pelapor" not in page.text and "0857" not in page.text
    assert count(call, AuditEvent, AuditEvent.action == "public_report.contact_view") == 0
    shown = client.get(f"/public-reports/{report_id}?contact=1")
    assert "Siti Pelapor" in shown.text and "0857 1111 2222" in shown.text and "siti.pelapor@contoh.id" in shown.text
    api = client.get(f"/api/v1/public-reports/{report_id}?contact=true").json()
    assert api["contact_phone"] == "0857 1111 2222" and "sender_key" not in api and "client_key" not in api
    events = call(AuditEvent.select().where(AuditEvent.action == "public_report.contact_view").run)
    assert len(events) == 2 and all(e["entity_id"] == str(report_id) for e in events)
    everything = " ".join(str(e) for e in call(AuditEvent.select().run))
    assert "Siti" not in everything and "0857" not in everything and WHAT[:20] not in everything


def test_a_report_becomes_an_incident_once(client, call, app, settings, make_lks, as_role):
    lks = make_lks("LKSA Satu Kali")
    code = sent_code(send(client, settings, **described()))
    report_id = call(PublicReport.select(PublicReport.id).where(PublicReport.code == code).first().run)["id"]
    as_role("staff")
    missing_lks = form(client, f"/public-reports/{report_id}/incident", {"version": "1", "category": "neglect", "severity": "high"})
    assert missing_lks.status_code == 422 and 'id="e-lks_id"' in missing_lks.text
    fields = {"version": "1", "lks_id": str(lks["id"]), "category": "neglect", "severity": "high", "occurred_on": ""}
    assert form(client, f"/public-reports/{report_id}/incident", fields).status_code == 303
    again = form(client, f"/public-reports/{report_id}/incident", fields)
    assert again.status_code == 409 and "sudah dipilah" in again.text
    closing = client.post(f"/api/v1/public-reports/{report_id}/triage", json={"decision": "closed", "version": 2, "reason": "Duplikat."},
                          headers={"X-CSRFToken": client.cookies.get("sigap_csrf")})
    assert closing.status_code == 409 and closing.json()["error"] == "conflict"
    assert count(call, Incident) == 1
    actions = [e["action"] for e in call(AuditEvent.select().where(AuditEvent.entity_type == "public_report").run)]
    assert actions.count("public_report.incident") == 1


def test_two_staff_triaging_at_once_make_one_incident(client, call, settings, make_lks):
    lks = registered(call, make_lks, "LKSA Berebut")
    code = sent_code(send(client, settings, lks_id=str(lks["id"])))
    report_id = call(PublicReport.select(PublicReport.id).where(PublicReport.code == code).first().run)["id"]
    now = datetime.now(timezone.utc)

    async def both():
        return await asyncio.gather(*(
            triage.to_incident(Actor(user_id=None, username=f"petugas{i}", role=Role.staff), report_id, version=1, lks_id=None,
                               category="neglect", severity="high", occurred_on=None, now=now)
            for i in range(2)
        ), triage.close(STAFF, report_id, version=1, reason="Tidak cukup keterangan.", now=now), return_exceptions=True)

    results = call(both)
    assert sum(isinstance(r, dict) for r in results) == 1, results
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, dict)), results
    assert count(call, Incident) + count(call, PublicReport, PublicReport.triage == "closed") == 1


def test_closing_keeps_the_reason_internal(client, call, settings, as_role):
    code = sent_code(send(client, settings, **described()))
    report_id = call(PublicReport.select(PublicReport.id).where(PublicReport.code == code).first().run)["id"]
    as_role("staff")
    short = form(client, f"/public-reports/{report_id}/close", {"version": "1", "reason": "x"})
    assert short.status_code == 422 and 'id="e-f-reason"' in short.text
    assert form(client, f"/public-reports/{report_id}/close", {"version": "1", "reason": "Alamat tidak ditemukan petugas."}).status_code == 303
    client.cookies.clear()
    page = client.get(f"/lapor/{code}")
    assert "Laporan ditutup" in page.text and "Alamat tidak ditemukan" not in page.text


# --- query budgets ----------------------------------------------------------------------------


def test_query_budgets(client, call, settings, make_lks, as_role, count_queries):
    lks = registered(call, make_lks, "LKSA Hitung")
    code = sent_code(send(client, settings, lks_id=str(lks["id"]), **CONTACT))
    public_budget = {"/lapor": 3, "/lapor?q=hitung": 5, f"/lapor/{code}": 1, f"/api/v1/public/reports/{code}": 1,
                     "/api/v1/public/reports/form": 0}
    for path, budget in public_budget.items():
        client.get(path)  # warm: region names are cached per process
        count_queries.reset()
        assert client.get(path).status_code == 200
        assert len(count_queries) <= budget, f"{path}: {len(count_queries)}\n" + "\n".join(count_queries.statements)
    as_role("staff")
    report_id = call(PublicReport.select(PublicReport.id).where(PublicReport.code == code).first().run)["id"]

    def measure(path: str) -> int:
        client.get(path)
        count_queries.reset()
        assert client.get(path).status_code == 200
        return len(count_queries)

    staff_paths = ("/public-reports", "/public-reports?show=all", "/api/v1/public-reports", f"/public-reports/{report_id}",
                   f"/public-reports/{report_id}?contact=1")
    few = {path: measure(path) for path in staff_paths}
    for i in range(15):
        call(PublicReport(code=services.new_code(), what=WHAT, received_at=datetime.now(timezone.utc), lks=lks["id"] if i % 2 else None,
                          place_name=f"Tempat {i}", kelurahan_code="36.71.11.1005", kecamatan_code="36.71.11").save().run)
    for path in staff_paths:
        many = measure(path)
        assert many == few[path], f"{path}: {few[path]} statements with 1 report, {many} with 16\n" + "\n".join(count_queries.statements)
        assert many <= 12, f"{path}: {many}\n" + "\n".join(count_queries.statements)


def test_staff_triage_through_the_api(client, call, settings, as_role):
    codes = [sent_code(send(client, settings, **described(place_name=f"Rumah Singgah {n}"))) for n in ("Satu", "Dua")]
    as_role("staff")
    headers = {"X-CSRFToken": client.cookies.get("sigap_csrf")}
    listed = client.get("/api/v1/public-reports").json()["items"]
    assert sorted(r["code"] for r in listed) == sorted(codes) and all("what" not in r and "contact_phone" not in r for r in listed)
    first, second = (next(r for r in listed if r["code"] == c) for c in codes)
    stale = client.post(f"/api/v1/public-reports/{first['id']}/triage", json={"decision": "closed", "version": 7, "reason": "Duplikat laporan."},
                        headers=headers)
    assert stale.status_code == 409
    closed = client.post(f"/api/v1/public-reports/{first['id']}/triage", json={"decision": "closed", "version": 1, "reason": "Duplikat laporan."},
                         headers=headers)
    assert closed.status_code == 201 and closed.json()["triage"] == "closed" and closed.json()["version"] == 2
    unknown = client.post(f"/api/v1/public-reports/{second['id']}/triage", json={"decision": "maybe", "version": 1}, headers=headers)
    assert unknown.status_code == 422 and "decision" in unknown.json()["fields"]
    sighting = client.post(f"/api/v1/public-reports/{second['id']}/triage",
                           json={"decision": "sighting", "version": 1, "kelurahan_code": "36.71.11.1005", "kind": "lksa"}, headers=headers)
    assert sighting.status_code == 201 and sighting.json()["sighting"]
    assert [r["code"] for r in client.get("/api/v1/public-reports?show=new").json()["items"]] == []
    client.cookies.clear()
    assert [client.get(f"/api/v1/public/reports/{c}").json()["status"] for c in codes] == ["closed", "handling"]


def test_retention_clears_old_contacts_and_sender_keys_only(client, call, settings, as_role):
    from inspections.public_reports import jobs

    codes = [sent_code(send(client, settings, **CONTACT, **described(place_name=f"Tempat {n}"))) for n in ("Lama", "Baru")]
    as_role("staff")
    now = datetime.now(timezone.utc)
    for code in codes:
        report_id = call(PublicReport.select(PublicReport.id).where(PublicReport.code == code).first().run)["id"]
        call(triage.close, STAFF, report_id, version=None, reason="Sudah ditangani kelurahan.", now=now)
    call(PublicReport.update({PublicReport.triaged_at: now - timedelta(days=400), PublicReport.received_at: now - timedelta(days=401)})
         .where(PublicReport.code == codes[0]).run)
    assert call(jobs.purge_contacts, now, settings, None) == {"public_report_contacts": 1, "public_report_sender_keys": 1}
    old, new = (call(PublicReport.select().where(PublicReport.code == c).first().run) for c in codes)
    assert (old["contact_phone"], old["contact_name"], old["sender_key"], old["what"]) == ("", "", "", WHAT)
    assert new["contact_phone"] == "0857 1111 2222" and new["sender_key"]
    assert call(jobs.purge_contacts, now, settings, None) == {}
