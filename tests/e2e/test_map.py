"""In Chromium: the map of LKS with the tile server unreachable still shows
its markers and legend, a popup's link opens the LKS, the filter narrows the
markers, and without JavaScript the page lists the LKS in a table.
Screenshots at 1440x900, 1024x768 and 390x844 (SIGAP_SHOTS, default
/tmp/shots/map)."""

from __future__ import annotations

import os
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from overview.map.controllers import map_library_installed
from registry.tables import Lks
from sigap.audit import Actor
from sigap.tables import Role
from tests.conftest import CI
from tests.e2e.conftest import sign_in

STAFF = Actor(user_id=None, username="petugas", role=Role.staff)
SHOTS = Path(os.environ.get("SIGAP_SHOTS", "/tmp/shots/map"))
TILES = re.compile(r"^https?://([a-z0-9-]+\.)*tile\.openstreetmap\.org/")

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _library():
    if not map_library_installed():
        message = "Leaflet is not in static/vendor/ (run: make vendor)"
        if CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


async def _run(query):
    return await query


def shot(page, screenshot_dir, name: str) -> None:
    path = screenshot_dir / name
    page.screenshot(path=str(path), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / name)


@pytest.fixture
def places(call, make_lks, make_user):
    from inspections.incidents import services as incidents

    rows = {
        "registered": make_lks("Panti Asuhan Peta Cahaya", latitude="-6.1780", longitude="106.6310"),
        "expired": make_lks("Panti Werdha Peta Senja", kind="elderly", kelurahan_code="36.71.01.1001",
                            latitude="-6.2300", longitude="106.5800"),
        "unregistered": make_lks("Rumah Anak Peta Harapan", latitude="-6.1400", longitude="106.7100"),
        "incident": make_lks("LKSA Peta Pelita", latitude="-6.2400", longitude="106.7380"),
        "nowhere": make_lks("Rumah Singgah Peta Tanpa Titik"),
    }
    for name, status in (("registered", "registered"), ("expired", "expired"), ("incident", "registered")):
        call(_run, Lks.update({Lks.registration_status: status}).where(Lks.id == rows[name]["id"]))
    call(incidents.record_incident, STAFF, lks_id=rows["incident"]["id"], source="public_complaint",
         category="neglect", severity="high", occurred_on=datetime.now(timezone.utc).date().isoformat(),
         description="Laporan warga: anak-anak tidak diberi makan.", now=datetime.now(timezone.utc))
    make_user("petugas.peta", "staff")
    return rows


def _blocked_tiles(page) -> list[str]:
    """Every request to the tile server fails, as on a network without it."""
    aborted: list[str] = []

    def abort(route):
        aborted.append(route.request.url)
        route.abort()

    page.route(TILES, abort)
    return aborted


@pytest.mark.parametrize("width,height", [(1440, 900), (1024, 768), (390, 844)])
def test_markers_show_without_tiles_and_a_popup_opens_the_lks(new_page, places, screenshot_dir, width, height):
    page = new_page(viewport={"width": width, "height": height}, locale="id-ID", is_mobile=width < 500, has_touch=width < 500)
    aborted = _blocked_tiles(page)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in(page, "petugas.peta")
    page.goto("/map")
    page.locator("#lks-map[data-markers='4']").wait_for()
    markers = page.locator("#lks-map .leaflet-marker-icon")
    markers.first.wait_for()
    assert aborted, "the page never asked the tile server: the test did not block anything"
    assert not problems, problems
    # The four LKS with coordinates are far apart: four markers, by status.
    for category in ("registered", "expired", "unregistered", "incident"):
        assert page.locator(f"#lks-map .map-marker--{category}").count() == 1, category
    assert page.locator("#map-status").inner_text() == "4 LKS tampil di peta."
    assert page.locator(".map-legend .count[data-category='incident']").inner_text() == "(1)"
    assert not page.locator("#legend-cluster").is_visible()  # four LKS are not grouped
    missing = page.locator(".map-missing a")
    assert missing.inner_text().startswith("1 LKS belum punya koordinat")
    # No sideways scrolling of the page.
    assert page.evaluate("document.scrollingElement.scrollWidth <= document.scrollingElement.clientWidth")
    shot(page, screenshot_dir, f"map-{width}.png")

    page.locator("#lks-map .map-marker--incident").click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "LKSA Peta Pelita" in popup.inner_text() and "Kasus terbuka" in popup.inner_text()
    assert "anak-anak tidak diberi makan" not in page.content()
    page.wait_for_timeout(300)  # the popup's fade-in
    shot(page, screenshot_dir, f"map-popup-{width}.png")
    popup.get_by_role("link", name="Buka data LKS").click()
    page.wait_for_url(f"**/lks/{places['incident']['id']}")
    assert "LKSA Peta Pelita" in page.locator("h1").inner_text()

    # The count of LKS without coordinates leads to their list.
    page.go_back()
    page.locator(".map-missing a").click()
    page.wait_for_url(re.compile(r"/lks\?located=0$"))
    assert page.locator("table.lks-list tbody tr").count() == 1
    assert "Rumah Singgah Peta Tanpa Titik" in page.locator("table.lks-list").inner_text()


def test_the_filter_narrows_the_markers(page, places):
    _blocked_tiles(page)
    sign_in(page, "petugas.peta")
    page.goto("/map")
    page.locator("#lks-map[data-markers='4']").wait_for()
    page.locator("details.map-filters summary").click()
    page.locator("#f-kind").select_option("elderly")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url(re.compile(r"/map\?.*kind=elderly"))
    page.locator("#lks-map[data-markers='1']").wait_for()
    assert page.locator("#lks-map .map-marker--expired").count() == 1
    assert page.locator("#lks-map .leaflet-marker-icon").count() == 1
    page.locator("#lks-map .map-marker--expired").click()
    assert "Panti Werdha Peta Senja" in page.locator(".leaflet-popup-content").inner_text()


def test_without_javascript_the_page_lists_the_lks(new_page, places, screenshot_dir):
    page = new_page(viewport={"width": 1024, "height": 768}, locale="id-ID", java_script_enabled=False)
    sign_in(page, "petugas.peta")
    page.goto("/map")
    table = page.locator("#map-table table")
    assert table.is_visible()
    assert not page.locator("#lks-map").is_visible()  # no empty map box
    names = table.locator("tbody a").all_inner_texts()
    assert sorted(names) == sorted(["Panti Asuhan Peta Cahaya", "Panti Werdha Peta Senja", "Rumah Anak Peta Harapan",
                                    "LKSA Peta Pelita", "Rumah Singgah Peta Tanpa Titik"])
    shot(page, screenshot_dir, "map-nojs-1024.png")


def test_many_lks_are_grouped_and_incidents_stay_in_sight(page, call, places):
    """Past 300 LKS nearby ones are grouped (leaflet.markercluster); a group
    opens when clicked, and the LKS with an open incident stays a marker of
    its own."""
    now = datetime.now(timezone.utc)
    rows = [Lks(name=f"LKSA Kelompok {i:03d}", kind="lksa", kelurahan_code="36.71.11.1005", kecamatan_code="36.71.11",
                latitude=-6.2000 + (i % 20) * 0.0005, longitude=106.6500 + (i // 20) * 0.0005,
                registration_status="registered", search_text=f"lksa kelompok {i:03d}", created_at=now, updated_at=now)
            for i in range(320)]
    call(_run, Lks.insert(*rows))
    _blocked_tiles(page)
    sign_in(page, "petugas.peta")
    page.goto("/map")
    page.locator("#lks-map[data-markers]").wait_for()
    assert page.locator("#lks-map").get_attribute("data-markers") == "324", page.locator("#map-status").inner_text()
    groups = page.locator("#lks-map .map-cluster")
    groups.first.wait_for()
    assert page.locator("#legend-cluster").is_visible()
    shown = sum(int(t.replace(".", "")) for t in groups.all_inner_texts())
    singles = page.locator("#lks-map .map-marker").count()
    assert shown + singles == 324 and shown >= 300
    assert page.locator("#lks-map .map-marker--incident").count() == 1  # never inside a grey group
    icons = page.locator("#lks-map .leaflet-marker-icon")
    before = icons.count()
    groups.first.click()  # zooms in: the group opens into smaller ones and single LKS
    for _ in range(200):  # the zoom animates; a busy CI machine takes seconds
        if icons.count() > before:
            break
        page.wait_for_timeout(100)
    assert icons.count() > before
