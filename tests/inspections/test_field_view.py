"""The field view of an LKS: inspectors get the whole profile (map link,
head, phone, residents, documents, past visits, open findings), partners
the basic profile only, others of another area "not found", managers no
access at all."""

from __future__ import annotations

from datetime import timedelta

import pytest

from inspections.findings.tables import Finding
from registry.tables import Lks
from tests.conftest import login
from tests.inspections.test_tasks import make_world, now_utc
from tests.inspections.visit_rows import add_visit


@pytest.fixture
def world(call, make_user, make_lks):
    world = make_world(call, make_user, make_lks)
    call(Lks.update({Lks.latitude: -6.2087, Lks.longitude: 106.6554, Lks.head_name: "Ibu Sari Wulandari", Lks.phone: "021 5550 123",
                     Lks.residents: {"m_6_12": 4, "f_6_12": 5}, Lks.residents_total: 9}).where(Lks.id == world.lks_a["id"]).run)
    now = now_utc()
    call(Finding.insert(Finding(lks=world.lks_a["id"], severity="major", description="Alat pemadam kebakaran kedaluwarsa",
                                corrective_action="Ganti APAR", due_on=now.date() + timedelta(days=7), created_at=now)).run)
    call(add_visit, world.task_a["id"], status="approved", outcome="needs_improvement", at=now - timedelta(days=30))
    return world


def test_inspector_gets_the_whole_field_profile(client, world):
    login(client, "agus")
    data = client.get(f"/api/v1/lks/{world.lks_a['id']}/field").json()
    lks = data["lks"]
    assert data["basic_only"] is False
    assert lks["map_url"].startswith("https://www.openstreetmap.org/?mlat=-6.20870&mlon=106.65540")
    assert (lks["head_name"], lks["phone"], lks["kelurahan"], lks["capacity"], lks["residents_total"]) == (
        "Ibu Sari Wulandari", "021 5550 123", "Kunciran Indah", 30, 9)
    assert lks["residents"]["f_6_12"] == 5
    assert {d["doc_type"]: d["state"] for d in data["documents"]}["akta_pendirian"] == "missing"
    assert [(v["outcome"], v["status"]) for v in data["visits"]] == [("needs_improvement", "approved")]
    assert [f["description"] for f in data["findings"]] == ["Alat pemadam kebakaran kedaluwarsa"]
    page = client.get(f"/lks/{world.lks_a['id']}/monitoring").text
    for text in ("https://www.openstreetmap.org/?mlat=-6.20870", "tel:021 5550 123", "Ibu Sari Wulandari",
                 "Alat pemadam kebakaran kedaluwarsa", "Ganti APAR", "Akta pendirian", "Kunjungan terdahulu"):
        assert text in page, text
    # Another area's LKS is not there.
    assert client.get(f"/api/v1/lks/{world.lks_b['id']}/field").status_code == 404


def test_partner_gets_the_basic_profile_only(client, world):
    login(client, "bambang")
    data = client.get(f"/api/v1/lks/{world.lks_a['id']}/field").json()
    assert data["basic_only"] is True and set(data) == {"basic_only", "lks"}
    assert data["lks"]["head_name"] == "Ibu Sari Wulandari" and data["lks"]["map_url"]
    assert "residents" not in data["lks"] and "capacity" not in data["lks"] and "risk_level" not in data["lks"]
    page = client.get(f"/lks/{world.lks_a['id']}/monitoring").text
    assert "Ibu Sari Wulandari" in page and "openstreetmap.org" in page
    assert "Alat pemadam kebakaran kedaluwarsa" not in page and "Kunjungan terdahulu" not in page and "Tingkat risiko" not in page
    assert client.get(f"/api/v1/lks/{world.lks_b['id']}/field").status_code == 404


def test_staff_see_it_managers_and_strangers_do_not(client, world, make_user):
    login(client, "rina")
    assert client.get(f"/api/v1/lks/{world.lks_b['id']}/field").json()["basic_only"] is False
    client.cookies.clear()
    make_user("sendiri", "inspector")
    login(client, "sendiri")
    assert client.get(f"/api/v1/lks/{world.lks_a['id']}/field").status_code == 404
    client.cookies.clear()
    make_user("pengurus", "manager", lks_id=world.lks_a["id"])
    login(client, "pengurus")
    r = client.get(f"/api/v1/lks/{world.lks_a['id']}/field")
    assert r.status_code == 403 and "Ibu Sari Wulandari" not in r.text
