"""Unregistered-LKS reports: partners and staff report through the page and
the API; a report creates an unregistered LKS (the plan job then plans its
14-day check) or attaches to a known one (an unregistered one gets its check
at once unless one is open); similar names are shown before saving; retries
are stored once; staff decide the outcome; who may see what."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from inspections.planning import jobs
from inspections.planning.tables import Task
from inspections.teams import services as teams
from registry.sightings.tables import Sighting
from registry.tables import Lks
from sigap.audit import Actor
from sigap.tables import AuditEvent, Role
from tests.conftest import csrf_token, form, login
from tests.registry.test_documents import pdf_bytes, png_bytes

STAFF = Actor(user_id=None, username="petugas", role=Role.staff)
PINANG_KUNCIRAN_INDAH = "36.71.11.1005"


async def _run(query):
    return await query


def report(client, **fields):
    data = {"seen": "Sekitar 10 anak tinggal di sana, tidak ada papan nama.", "client_id": uuid.uuid4().hex, **fields}
    files = {"photo": fields.pop("photo")} if "photo" in fields else None
    data.pop("photo", None)
    return client.post("/api/v1/sightings", data=data, files=files, headers={"X-CSRFToken": csrf_token(client)})


def new_place(**extra):
    return {"name": "Rumah Singgah Kasih Bunda", "address": "Jl. Kenanga 7, RT 003/005",
            "kelurahan_code": PINANG_KUNCIRAN_INDAH, "kind": "lksa", **extra}


def test_partner_report_creates_an_unregistered_lks_that_the_plan_job_checks_within_14_days(client, as_role, call):
    partner = as_role("partner")
    response = report(client, **new_place())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["created_lks"] is True and body["outcome"] == "open" and body["lks_status"] == "unregistered"
    lks = call(_run, Lks.select().where(Lks.id == body["lks"]).first())
    assert lks["name"] == "Rumah Singgah Kasih Bunda" and lks["registration_status"] == "unregistered"
    assert lks["kecamatan_code"] == "36.71.11"

    now = datetime.now(timezone.utc)
    call(jobs.plan, now=now)
    checks = call(_run, Task.select().where((Task.lks == lks["id"]) & (Task.kind == "unregistered_check")))
    assert len(checks) == 1
    assert checks[0]["due_on"] == (lks["created_at"] + timedelta(hours=7)).date() + timedelta(days=14)

    # Audited: the LKS and the report, by the partner.
    events = call(_run, AuditEvent.select().where(AuditEvent.actor_id == partner["id"]).order_by(AuditEvent.id))
    assert [e["action"] for e in events if e["action"] != "auth.login"] == ["lks.create", "sighting.create"]


def test_a_retry_with_the_same_client_id_is_stored_once(client, as_role, call):
    as_role("partner")
    client_id = uuid.uuid4().hex
    first = report(client, client_id=client_id, **new_place())
    again = report(client, client_id=client_id, **new_place())
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert call(_run, Sighting.count()) == 1 and call(_run, Lks.count()) == 1


def test_similar_names_in_the_kelurahan_are_shown_before_saving(client, as_role, make_lks, call):
    known = make_lks("Panti Asuhan Kasih Bunda")
    as_role("partner")
    response = report(client, **new_place(name="Kasih Bunda"))
    assert response.status_code == 409
    assert response.json()["duplicates"][0]["id"] == known["id"]
    assert call(_run, Sighting.count()) == 0

    # The page shows them too, with a button for each and "another place".
    page = form(client, "/sightings", {"seen": "Ada anak-anak", "client_id": uuid.uuid4().hex, **new_place(name="Kasih Bunda")})
    assert page.status_code == 409 and "Panti Asuhan Kasih Bunda" in page.text and 'name="confirm_new"' in page.text
    assert f'name="pick" value="{known["id"]}"' in page.text

    # Confirmed as another place: a new LKS; picked: attached to the known one.
    assert report(client, confirm_new="1", **new_place(name="Kasih Bunda")).status_code == 201
    picked = report(client, lks_id=str(known["id"]))
    assert picked.status_code == 201 and picked.json()["lks"] == known["id"] and picked.json()["created_lks"] is False
    assert call(_run, Lks.count()) == 2


def test_a_report_of_a_known_unregistered_lks_starts_its_check_unless_one_is_open(client, as_role, call):
    team = call(teams.create_team, STAFF, name="Tim Pinang", area_code="36.71.11", now=datetime.now(timezone.utc))
    as_role("partner")
    lks_id = report(client, **new_place()).json()["lks"]
    call(jobs.plan, now=datetime.now(timezone.utc))
    assert call(_run, Task.count().where(Task.lks == lks_id)) >= 1
    # The open check stays the only one when the place is reported again.
    report(client, lks_id=str(lks_id))
    assert call(_run, Task.count().where((Task.lks == lks_id) & (Task.kind == "unregistered_check"))) == 1
    # Once it is done, a new report starts a new check at once, for the team of the area.
    call(_run, Task.update({Task.status: "done"}).where(Task.lks == lks_id))
    report(client, lks_id=str(lks_id))
    checks = call(_run, Task.select().where((Task.lks == lks_id) & (Task.kind == "unregistered_check") & (Task.status == "open")))
    assert len(checks) == 1 and checks[0]["team"] == team["id"]
    call(jobs.plan, now=datetime.now(timezone.utc))  # the job adds no second one
    assert call(_run, Task.count().where((Task.lks == lks_id) & (Task.kind == "unregistered_check") & (Task.status == "open"))) == 1


def test_a_registered_lks_reported_gets_the_report_but_no_check(client, as_role, make_lks, call):
    known = make_lks("Panti Werdha Sejahtera")
    call(_run, Lks.update({Lks.registration_status: "registered"}).where(Lks.id == known["id"]))
    as_role("staff")
    response = report(client, lks_id=str(known["id"]))
    assert response.status_code == 201
    assert call(_run, Task.count().where(Task.lks == known["id"])) == 0


def test_bad_input_names_each_field_and_changes_nothing(client, as_role, call):
    as_role("partner")
    response = report(client, name="ab", address="", kelurahan_code="99.99", seen="")
    assert response.status_code == 422
    assert set(response.json()["fields"]) >= {"name", "address", "kelurahan_code", "seen"}
    assert report(client, lks_id="999999").status_code == 422
    assert report(client, photo=("x.pdf", pdf_bytes(), "application/pdf"), **new_place()).json()["fields"]["photo"]
    assert call(_run, Sighting.count()) == 0 and call(_run, Lks.count()) == 0


def test_photo_is_stored_and_shown_to_staff_and_the_reporter_only(client, as_role, call):
    as_role("partner")
    body = report(client, photo=("rumah.png", png_bytes(), "image/png"), **new_place()).json()
    assert body["photo_url"] == f"/sightings/{body['id']}/photo"
    shown = client.get(body["photo_url"])
    assert shown.status_code == 200 and shown.content == png_bytes() and shown.headers["content-type"] == "image/png"
    as_role("partner")  # another partner
    assert client.get(body["photo_url"]).status_code == 404
    as_role("staff")
    assert client.get(body["photo_url"]).status_code == 200
    assert call(_run, AuditEvent.count().where(AuditEvent.action == "sighting.photo_view")) == 2


def test_the_page_form_creates_a_report_and_the_partner_sees_it_with_its_outcome(client, as_role, call):
    partner = as_role("partner")
    page = client.get("/sightings/new")
    assert page.status_code == 200 and 'name="kelurahan_code"' in page.text and 'capture="environment"' in page.text
    response = form(client, "/sightings", {"seen": "Ada sekitar 12 lansia", "client_id": uuid.uuid4().hex, **new_place()},
                    files={"photo": ("", b"", "application/octet-stream")})
    assert response.status_code == 303, response.text
    sighting_id = int(response.headers["location"].split("/")[2].split("?")[0])
    assert "Laporan terkirim" in client.get(response.headers["location"]).text or "Report sent" in client.get(response.headers["location"]).text

    # Staff decide the outcome with a reason; the partner sees it.
    as_role("staff")
    listing = client.get("/sightings")
    assert "Rumah Singgah Kasih Bunda" in listing.text and partner["username"] in listing.text
    no_reason = form(client, f"/sightings/{sighting_id}/outcome", {"outcome": "not_lks", "reason": "", "version": "1"})
    assert no_reason.status_code == 422 and 'id="e-f-reason"' in no_reason.text
    done = form(client, f"/sightings/{sighting_id}/outcome", {"outcome": "not_lks", "reason": "Rumah keluarga biasa.", "version": "1"})
    assert done.status_code == 303
    stale = form(client, f"/sightings/{sighting_id}/outcome", {"outcome": "closed", "reason": "Tutup sendiri.", "version": "1"})
    assert stale.status_code == 409
    client.cookies.clear()
    login(client, partner["username"])
    mine = client.get("/api/v1/sightings").json()["items"]
    assert [(s["id"], s["outcome"], s["outcome_reason"]) for s in mine] == [(sighting_id, "not_lks", "Rumah keluarga biasa.")]
    assert "Rumah keluarga biasa." in client.get("/sightings").text


def test_a_partner_sees_only_their_own_reports(client, as_role):
    as_role("partner")
    own = report(client, **new_place()).json()["id"]
    as_role("partner")
    report(client, **new_place(name="Panti Jompo Melati Putih", address="Jl. Melati 2"))
    items = client.get("/api/v1/sightings").json()["items"]
    assert [s["name"] for s in items] == ["Panti Jompo Melati Putih"]
    assert client.get(f"/api/v1/sightings/{own}").status_code == 404
    assert client.get(f"/sightings/{own}").status_code == 404
    # Nor may a partner decide an outcome.
    response = client.post(f"/api/v1/sightings/{own}/outcome", json={"outcome": "closed", "reason": "Sudah tutup."},
                           headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code == 403
    as_role("staff")
    assert len(client.get("/api/v1/sightings").json()["items"]) == 2


@pytest.mark.parametrize("role", ["manager", "inspector"])
def test_managers_and_inspectors_cannot_report_or_see_reports(client, as_role, role):
    as_role(role)
    assert report(client, **new_place()).status_code == 403
    assert client.get("/api/v1/sightings").status_code == 403
    assert client.get("/sightings").status_code == 403
    assert client.get("/sightings/new").status_code == 403


def test_the_public_cannot_report_or_see_reports(client):
    assert report(client, **new_place()).status_code == 401
    assert client.get("/api/v1/sightings").status_code == 401
    assert client.get("/sightings", follow_redirects=False).status_code == 303


def test_a_partner_s_kelurahan_is_preselected_and_lks_are_found_by_name(client, as_role, make_lks, call):
    team = call(teams.create_team, STAFF, name="Tim Kunciran Indah", area_code=PINANG_KUNCIRAN_INDAH, now=datetime.now(timezone.utc))
    partner = as_role("partner")
    call(teams.add_member, STAFF, team["id"], agency="kelurahan", user_id=partner["id"], now=datetime.now(timezone.utc))
    page = client.get("/sightings/new")
    assert f'<option value="{PINANG_KUNCIRAN_INDAH}" selected>' in page.text
    known = make_lks("Panti Asuhan Nurul Iman")
    found = client.get("/api/v1/sightings/lks?q=nurul").json()["items"]
    assert [f["id"] for f in found] == [known["id"]] and set(found[0]) == {"id", "name", "address", "kelurahan_name", "registration_status"}
    # Without script, the same search lists the matches as links.
    assert f'href="/sightings/new?lks_id={known["id"]}"' in client.get("/sightings/new?q=nurul").text
    picked = client.get(f"/sightings/new?lks_id={known['id']}")
    assert "Panti Asuhan Nurul Iman" in picked.text and f'name="lks_id" value="{known["id"]}"' in picked.text
    assert json.loads(json.dumps(found))  # plain JSON
