"""The map of LKS (overview/map): markers by status from GET /api/v1/map/lks,
the list's filters, staff only, nothing restricted in the payload, the
count of LKS without coordinates and the list it links to, the page's own
image policy for the tile server, and bounded queries."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from overview.map import services
from registry.tables import Lks
from sigap.audit import Actor
from sigap.settings import Settings, SettingsError
from sigap.tables import Role
from tests.conftest import csrf_token, login

STAFF = Actor(user_id=None, username="petugas", role=Role.staff)
INCIDENT_TEXT = "Anak-anak dipukul pengasuh pada malam hari (uraian rahasia)."
HEAD = "Ibu Rahasia Kepala"
PHONE = "081299988877"


def now():
    return datetime.now(timezone.utc)


async def _run(query):
    return await query


def _status(call, lks_id: int, status: str) -> None:
    call(_run, Lks.update({Lks.registration_status: status}).where(Lks.id == lks_id))


@pytest.fixture
def world(call, make_lks, make_user, client):
    """One LKS per marker category, a closed one, and one without coordinates."""
    from inspections.incidents import services as incidents

    at = {"latitude": "-6.2251", "longitude": "106.6824"}
    rows = {
        "registered": make_lks("Panti Asuhan Peta Terdaftar", **at),
        "expired": make_lks("Panti Werdha Peta Kedaluwarsa", kind="elderly", kelurahan_code="36.71.01.1001",
                            latitude="-6.1781", longitude="106.6311"),
        "unregistered": make_lks("Rumah Anak Peta Belum Terdaftar", latitude="-6.2300", longitude="106.6700"),
        "incident": make_lks("LKSA Peta Kasus", head_name=HEAD, phone=PHONE, capacity=40,
                             residents={"m_6_12": 7, "f_6_12": 5}, **at),
        "closed": make_lks("Panti Asuhan Peta Tutup", **at),
        "nowhere": make_lks("Rumah Anak Peta Tanpa Titik"),
    }
    _status(call, rows["registered"]["id"], "registered")
    _status(call, rows["expired"]["id"], "expired")
    _status(call, rows["incident"]["id"], "registered")
    _status(call, rows["closed"]["id"], "closed")
    call(incidents.record_incident, STAFF, lks_id=rows["incident"]["id"], source="public_complaint", category="physical_abuse",
         severity="high", occurred_on=now().date().isoformat(), description=INCIDENT_TEXT, now=now())
    # A partner reports the unregistered home (the registry's sightings).
    make_user("lurah.peta", "partner")
    login(client, "lurah.peta")
    answer = client.post("/api/v1/sightings", data={"seen": "Ada papan nama baru, anak-anak bermain di halaman.",
                                                    "client_id": uuid.uuid4().hex, "lks_id": str(rows["unregistered"]["id"])},
                         headers={"X-CSRFToken": csrf_token(client)})
    assert answer.status_code == 201, answer.text
    rows["sighting"] = answer.json()
    client.cookies.clear()
    make_user("petugas.peta", "staff")
    login(client, "petugas.peta")
    return rows


def _features(client, query: str = "") -> dict:
    response = client.get("/api/v1/map/lks" + query)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    return response.json()


def test_each_lks_gets_the_marker_of_its_status(client, world):
    body = _features(client)
    assert body["type"] == "FeatureCollection"
    by_id = {f["id"]: f for f in body["features"]}
    category = {name: by_id[row["id"]]["properties"]["c"] for name, row in world.items() if name not in ("nowhere", "sighting")}
    assert category == {"registered": "registered", "expired": "expired", "unregistered": "unregistered",
                        "incident": "incident", "closed": "closed"}
    # GeoJSON order: longitude, latitude.
    assert by_id[world["expired"]["id"]]["geometry"] == {"type": "Point", "coordinates": [106.6311, -6.1781]}
    # The unregistered home's popup links to the open report about it.
    assert by_id[world["unregistered"]["id"]]["properties"]["o"] == world["sighting"]["id"]
    assert "o" not in by_id[world["registered"]["id"]]["properties"]
    # The LKS without coordinates is not a marker, but it is counted.
    assert world["nowhere"]["id"] not in by_id
    assert body["without_coordinates"] == 1 and body["total"] == 5


def test_filters_narrow_the_map_like_the_list(client, world):
    def ids(query):
        return {f["id"] for f in _features(client, query)["features"]}

    assert ids("?kind=elderly") == {world["expired"]["id"]}
    assert ids("?kecamatan=36.71.01") == {world["expired"]["id"]}
    assert ids("?registration_status=expired") == {world["expired"]["id"]}
    assert ids("?open_incident=1") == {world["incident"]["id"]}
    assert ids("?q=belum+terdaftar") == {world["unregistered"]["id"]}
    assert ids("?registration_status=registered&open_incident=0") == {world["registered"]["id"]}
    # An unknown choice is ignored, as in the list.
    assert len(ids("?kind=castle")) == 5
    # The count of LKS without coordinates follows the filter too.
    assert _features(client, "?kind=elderly")["without_coordinates"] == 0
    assert _features(client, "?q=tanpa+titik")["without_coordinates"] == 1


def test_the_payload_carries_no_restricted_field(client, world):
    text = client.get("/api/v1/map/lks").text
    for secret in (INCIDENT_TEXT, HEAD, PHONE, "residents", "capacity", "risk", "Jl. Melati", "Yayasan Uji Coba", "Ada papan nama"):
        assert secret not in text
    for feature in _features(client)["features"]:
        assert set(feature["properties"]) <= {"n", "k", "r", "c", "o"}


@pytest.mark.parametrize("role", ["inspector", "partner", "manager"])
def test_only_staff_see_the_map(client, as_role, make_lks, role):
    extra = {"lks_id": make_lks("Panti Asuhan Milik Pengelola")["id"]} if role == "manager" else {}
    as_role(role, **extra)
    assert client.get("/api/v1/map/lks").status_code == 403
    assert client.get("/map").status_code == 403
    assert 'href="/map"' not in client.get("/").text  # nor in their menu


def test_signed_out_is_asked_to_sign_in(client):
    assert client.get("/api/v1/map/lks").status_code == 401
    response = client.get("/map?kind=lksa", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=%2Fmap")


def test_the_page_counts_lks_without_coordinates_and_links_to_them(client, world):
    page = client.get("/map?kind=lksa")
    assert page.status_code == 200
    assert "1 LKS belum punya koordinat" in page.text
    assert 'href="/lks?kind=lksa&amp;located=0"' in page.text
    listed = client.get("/lks?kind=lksa&located=0").text
    assert "Rumah Anak Peta Tanpa Titik" in listed and "Panti Asuhan Peta Terdaftar" not in listed
    on_map = client.get("/lks?located=1").text
    assert "Rumah Anak Peta Tanpa Titik" not in on_map and "Panti Asuhan Peta Terdaftar" in on_map
    # The table under the map (for a browser without JavaScript) lists them too.
    assert 'href="/lks/%d"' % world["registered"]["id"] in page.text


def test_only_the_map_page_lets_tiles_in(client, world):
    page_policy = client.get("/map").headers["content-security-policy"]
    assert "img-src 'self' data: blob: https://tile.openstreetmap.org;" in page_policy
    assert "script-src 'self';" in page_policy  # the rest of the policy is unchanged
    assert "tile.openstreetmap.org" not in client.get("/lks").headers["content-security-policy"]


def test_the_tile_server_is_configurable():
    base = {"SIGAP_SECRET_KEY": "x"}
    mine = Settings.from_env({**base, "SIGAP_MAP_TILES_URL": "https://{s}.tiles.dinsos.example/{z}/{x}/{y}.png",
                              "SIGAP_MAP_TILES_ATTRIBUTION": "Peta: Dinsos"})
    assert services.tile_source(mine.map_tiles_url) == "https://*.tiles.dinsos.example"
    assert mine.map_tiles_attribution == "Peta: Dinsos"
    assert services.tile_source("http://127.0.0.1:8080/tiles/{z}/{x}/{y}.png") == "http://127.0.0.1:8080"
    for bad in ("https://tiles.example/static.png", "ftp://tiles.example/{z}/{x}/{y}.png"):
        with pytest.raises(SettingsError, match="SIGAP_MAP_TILES_URL"):
            Settings.from_env({**base, "SIGAP_MAP_TILES_URL": bad})


def _more_lks(call, make_lks, n: int, offset: int) -> None:
    from inspections.incidents import services as incidents

    for i in range(n):
        row = make_lks(f"LKSA Hitung Peta {offset + i:03d}", latitude="-6.2251", longitude=f"106.{6800 + i}")
        _status(call, row["id"], ("registered", "expired", "unregistered")[i % 3])
    call(incidents.record_incident, STAFF, lks_id=row["id"], source="public_complaint", category="neglect",
         severity="high", occurred_on=now().date().isoformat(), description="Uji jumlah kueri.", now=now())
    make_lks(f"LKSA Hitung Tanpa Titik {offset}")


@pytest.mark.parametrize("path", ["/map", "/api/v1/map/lks", "/map?kind=lksa&q=hitung", "/api/v1/map/lks?kind=lksa&q=hitung"])
def test_queries_do_not_grow_with_the_lks_shown(client, call, make_lks, make_user, count_queries, path):
    make_user("adm.peta", "admin")
    login(client, "adm.peta")
    _more_lks(call, make_lks, 2, 0)
    assert client.get(path).status_code == 200  # warm
    count_queries.reset()
    assert client.get(path).status_code == 200
    few = len(count_queries)
    _more_lks(call, make_lks, 30, 100)
    count_queries.reset()
    response = client.get(path)
    assert response.status_code == 200
    many = len(count_queries)
    assert many == few, f"{path}: {few} statements with 3 LKS, {many} with 34:\n" + "\n".join(count_queries.statements)
    assert few <= 10, f"{path}: {few} statements:\n" + "\n".join(count_queries.statements)
    if path.startswith("/api"):
        assert response.json()["total"] == 32 and response.json()["without_coordinates"] == 2


def test_without_the_map_library_the_page_lists_the_lks(client, world, monkeypatch, tmp_path):
    """A machine without npm (scripts/vendor-js.sh could not install Leaflet):
    the page says so and shows the table, and loads no missing script."""
    from overview.map import controllers

    monkeypatch.setattr(controllers, "VENDOR", tmp_path)
    page = client.get("/map")
    assert page.status_code == 200
    assert "Pustaka peta belum terpasang" in page.text and "make vendor" in page.text
    assert "vendor/leaflet" not in page.text and 'id="lks-map"' not in page.text
    assert "Panti Asuhan Peta Terdaftar" in page.text and "Rumah Anak Peta Tanpa Titik" in page.text
