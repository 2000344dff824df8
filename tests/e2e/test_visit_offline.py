"""The tablet's visit form, offline for real: the test server is stopped
while the inspector works (the page then comes from the service worker's
cache), and started again on the same port. At 1280×800 and 800×1280:
fill a report with no network, reload, the draft is there; a second tab
holds the same draft; back online exactly one visit is stored and the
second tab says it was sent. And 20 photos queued offline all arrive once."""

from __future__ import annotations

import io
import re
import time

import pytest
from PIL import Image
from playwright.sync_api import expect

from inspections.visits.tables import Visit, VisitPhoto
from tests.e2e.conftest import sign_in
from tests.inspections.visit_world import LKS_POINT, make_visit_world

pytestmark = pytest.mark.browser

VIEWPORTS = {"landscape": {"width": 1280, "height": 800}, "portrait": {"width": 800, "height": 1280}}
SENT = "Laporan ini sudah dikirim."
SEND_TIMEOUT_MS = 30_000


@pytest.fixture
def world(client, call, make_user, make_lks):
    return make_visit_world(client, call, make_user, make_lks)


@pytest.fixture
def camera_photos(tmp_path):
    """Photos as a tablet camera makes them: large JPEGs with EXIF."""

    def _make(count: int) -> list[str]:
        paths = []
        for n in range(count):
            exif = Image.Exif()
            exif[0x010F] = "KameraTablet"
            out = io.BytesIO()
            Image.new("RGB", (2400, 1800), (40 + n * 9, 120, 90)).save(out, format="JPEG", exif=exif.tobytes(), quality=92)
            path = tmp_path / f"kamera-{n:02d}.jpg"
            path.write_bytes(out.getvalue())
            paths.append(str(path))
        return paths

    return _make


def tablet(browser, server, size: dict):
    context = browser.new_context(
        base_url=server.url, viewport=size, locale="id-ID", service_workers="allow",
        geolocation={"latitude": LKS_POINT[0] + 0.0004, "longitude": LKS_POINT[1]}, permissions=["geolocation"],
    )
    context.set_default_timeout(15_000)
    return context


def wait_until(page, predicate: str, timeout_s: float = 15) -> None:
    """Poll a JavaScript function (it may return a promise) until it is
    true: page.evaluate, since the page's CSP forbids the eval that
    wait_for_function uses for strings."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(predicate):
        if time.monotonic() >= deadline:
            worker = page.evaluate(
                "() => navigator.serviceWorker.getRegistration().then(r => r ? JSON.stringify({installing: r.installing"
                " && r.installing.state, waiting: r.waiting && r.waiting.state, active: r.active && r.active.state}) : 'none')"
            )
            raise AssertionError(f"still false after {timeout_s} s: {predicate}; page {page.url}; worker {worker}")
        page.wait_for_timeout(200)


def open_form_online(page, task_id: int) -> None:
    """The inspector opens the task list and the form once with a network:
    from then on the service worker holds them."""
    sign_in(page, "agus")
    page.goto("/tasks")
    page.goto(f"/tasks/{task_id}/visit")
    expect(page.locator(".question").first).to_be_visible()
    # The worker installs by caching the inspector's tasks and forms: on a
    # busy CI machine that has taken more than 15 s.
    wait_until(page, "() => navigator.serviceWorker.ready.then(r => r.active !== null)", timeout_s=40)
    if not page.evaluate("() => navigator.serviceWorker.controller !== null"):
        # A navigation that began while the worker was activating is not
        # claimed by it (clients.claim() ran before this document existed):
        # the next one is, as on a real tablet.
        page.reload()
    wait_until(page, "() => navigator.serviceWorker.controller !== null", timeout_s=40)
    wait_until(page, "() => caches.match(location.pathname).then(r => !!r)", timeout_s=40)


def form_on_tablet(browser, server, world, viewport: str):
    """A fresh tablet (browser context) with the task's form opened online."""
    context = tablet(browser, server, VIEWPORTS[viewport])
    page = context.new_page()
    open_form_online(page, world.task["id"])
    return context, page


def answer_all(page, checklist: dict, photos: list[str], key_no: str = "A1") -> None:
    for q in checklist["questions"]:
        item = page.locator(f"#q-{q['code']}")
        if q["type"] == "yesno":
            item.locator(".answer-no" if q["code"] == key_no else ".answer-yes").click()
        elif q["type"] == "number":
            item.locator("input[type=number]").fill("3")
        elif q["type"] == "text":
            item.locator("textarea").fill("Kondisi umum baik.")
        elif q["type"] == "choice":
            item.locator(".choice").first.click()
        else:
            item.locator(".answer-na").click()
    key = page.locator(f"#q-{key_no}")
    finding = key.locator(".finding")  # added by itself for a key item answered "no"
    finding.locator(".severity .choice").nth(1).click()
    finding.locator("[data-f=description]").fill("Tanda Daftar LKS sudah habis masa berlakunya.")
    finding.locator("[data-f=corrective_action]").fill("Ajukan perpanjangan Tanda Daftar ke Dinas Sosial.")
    key.locator("input[type=file]").set_input_files(photos)
    expect(key.locator(".thumbs li")).to_have_count(len(photos))


def fill_start_and_end(page) -> None:
    page.locator("[name=announced][value='0'] + span").click()
    page.locator("[name=present-member]").first.check()
    page.locator("[name='residents.male_6_12']").fill("4")
    page.locator("[name='residents.female_6_12']").fill("5")
    page.locator(".outcome-needs_improvement").click()
    page.locator("#f-summary").fill("Tanda Daftar harus diperpanjang.")
    canvas = page.locator("[data-signature=lead] canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 120, box["y"] + 80, steps=5)
    page.mouse.move(box["x"] + 220, box["y"] + 30, steps=5)
    page.mouse.up()


def wait_saved(page) -> None:
    expect(page.locator("#draft-status")).to_contain_text("Draf tersimpan")


def count(call, table) -> int:
    return call(table.count().run)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_report_filled_offline_survives_reload_and_is_stored_once(
    viewport, browser, restartable_server, world, call, camera_photos, screenshot_dir,
):
    context, page = form_on_tablet(browser, restartable_server, world, viewport)
    expect(page.locator("#gps-status")).to_contain_text("m dari titik lokasi LKS")
    page.screenshot(path=str(screenshot_dir / f"visit-form-{viewport}.png"), full_page=False)

    restartable_server.stop()  # no network from here on, for the page and its worker
    fill_start_and_end(page)
    answer_all(page, world.checklist, camera_photos(2))
    wait_saved(page)
    page.screenshot(path=str(screenshot_dir / f"visit-form-filled-{viewport}.png"), full_page=True)
    assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"), "scrolls sideways"

    page.reload()  # served by the service worker: the server is down
    expect(page.locator("#q-A1 .answer-no input")).to_be_checked()
    expect(page.locator("#q-A1 [data-f=description]")).to_have_value("Tanda Daftar LKS sudah habis masa berlakunya.")
    expect(page.locator("#q-A1 .thumbs li")).to_have_count(2)
    expect(page.locator("#f-summary")).to_have_value("Tanda Daftar harus diperpanjang.")

    second = context.new_page()  # the same draft in a second tab
    second.goto(f"/tasks/{world.task['id']}/visit")
    expect(second.locator("#q-A1 .answer-no input")).to_be_checked()

    page.locator("#submit").click()
    expect(page.locator("#visit-status")).to_contain_text("1 laporan dan 2 foto menunggu dikirim")
    expect(second.locator("#visit-banner")).to_contain_text("Laporan tersimpan di perangkat ini")
    page.screenshot(path=str(screenshot_dir / f"visit-queued-{viewport}.png"), full_page=False)
    assert count(call, Visit) == 0

    restartable_server.start()  # the network is back
    context.set_offline(True)
    context.set_offline(False)  # fires `online` in both tabs
    expect(page.locator("#visit-banner")).to_contain_text(SENT, timeout=SEND_TIMEOUT_MS)
    expect(second.locator("#visit-banner")).to_contain_text(SENT, timeout=SEND_TIMEOUT_MS)
    expect(page.locator("#visit-status")).to_contain_text("Tidak ada yang menunggu dikirim", timeout=SEND_TIMEOUT_MS)
    page.screenshot(path=str(screenshot_dir / f"visit-sent-{viewport}.png"), full_page=False)
    assert count(call, Visit) == 1
    assert count(call, VisitPhoto) == 2
    second.reload()
    expect(second.locator("#visit-banner")).to_contain_text(SENT)
    second.goto("/visits/outbox")
    # The outbox page is served by the service worker and reads IndexedDB:
    # seconds on a busy machine, so the same patience as for sending.
    expect(second.locator("#outbox-list li.outbox-sent")).to_contain_text("LKSA Kasih Bunda", timeout=SEND_TIMEOUT_MS)
    second.screenshot(path=str(screenshot_dir / f"visit-outbox-{viewport}.png"), full_page=False)
    assert count(call, Visit) == 1
    context.close()


def test_twenty_photos_queued_offline_all_arrive_once(browser, restartable_server, world, call, camera_photos):
    context, page = form_on_tablet(browser, restartable_server, world, "portrait")
    restartable_server.stop()
    fill_start_and_end(page)
    answer_all(page, world.checklist, camera_photos(20))
    page.locator("#submit").click()
    expect(page.locator("#visit-status")).to_contain_text("1 laporan dan 20 foto menunggu dikirim")

    restartable_server.start()
    page.reload()  # on load, the outbox sends what waits
    expect(page.locator("#visit-status")).to_contain_text("Tidak ada yang menunggu dikirim", timeout=SEND_TIMEOUT_MS)
    assert count(call, Visit) == 1
    photos = call(VisitPhoto.select(VisitPhoto.client_id, VisitPhoto.width, VisitPhoto.height).run)
    assert len(photos) == 20
    assert len({p["client_id"] for p in photos}) == 20
    assert all(max(p["width"], p["height"]) <= 1600 for p in photos)  # downscaled on the tablet
    context.close()


def test_a_wrong_photo_is_refused_on_the_tablet_with_the_servers_message(browser, restartable_server, world, tmp_path):
    context, page = form_on_tablet(browser, restartable_server, world, "landscape")
    empty = tmp_path / "kosong.jpg"
    empty.write_bytes(b"")
    text = tmp_path / "catatan.txt"
    text.write_text("bukan foto")
    item = page.locator("#q-A1")
    item.locator("input[type=file]").set_input_files(str(empty))
    expect(item.locator(".q-error")).to_have_text("Foto kosong.")
    item.locator("input[type=file]").set_input_files({"name": "catatan.txt", "mimeType": "text/plain", "buffer": b"bukan foto"})
    expect(item.locator(".q-error")).to_have_text(re.compile("JPEG, PNG"))
    expect(item.locator(".thumbs li")).to_have_count(0)
    context.close()


def test_a_report_already_filed_from_elsewhere_is_shown_side_by_side_and_nothing_is_sent(
    browser, restartable_server, world, call, screenshot_dir,
):
    from tests.inspections.visit_rows import add_visit

    call(add_visit, world.task["id"], status="submitted", outcome="serious_concern")
    context, page = form_on_tablet(browser, restartable_server, world, "portrait")
    expect(page.locator("#visit-banner")).to_contain_text("Laporan lain sudah dikirim untuk tugas ini")
    compare = page.locator("#visit-compare table")
    expect(compare.locator("thead")).to_contain_text("Di perangkat ini")
    expect(compare.locator("thead")).to_contain_text("Di server")
    expect(compare.locator("tr.differs", has_text="Masalah serius")).to_have_count(1)
    expect(page.locator("#submit")).to_be_hidden()
    page.screenshot(path=str(screenshot_dir / "visit-conflict-portrait.png"), full_page=False)
    assert count(call, Visit) == 1
    context.close()


def test_a_report_returned_for_correction_is_corrected_and_sent_again(browser, restartable_server, world, call, camera_photos):
    from datetime import datetime, timezone

    from inspections.visits import services
    from sigap.audit import Actor
    from sigap.tables import Role

    context, page = form_on_tablet(browser, restartable_server, world, "landscape")
    fill_start_and_end(page)
    answer_all(page, world.checklist, camera_photos(1))
    page.locator("#submit").click()
    expect(page.locator("#visit-banner")).to_contain_text(SENT, timeout=SEND_TIMEOUT_MS)
    [visit] = call(Visit.select(Visit.id, Visit.version).run)
    staff = Actor(user_id=world.users["staff"]["id"], username="rina", role=Role.staff)
    call(services.review, staff, visit["id"], decision="return", comment="Foto papan nama kurang jelas.", version=visit["version"],
         now=datetime.now(timezone.utc))

    page.reload()
    expect(page.locator("#visit-banner")).to_contain_text("mengembalikan laporan ini untuk diperbaiki: Foto papan nama kurang jelas.")
    page.locator("#visit-banner button", has_text="Perbaiki laporan").click()
    page.locator("#f-summary").fill("Tanda Daftar harus diperpanjang; foto papan nama diperbaiki.")
    page.locator("#submit").click()
    expect(page.locator("#visit-banner")).to_contain_text(SENT, timeout=SEND_TIMEOUT_MS)
    rows = call(Visit.select(Visit.status, Visit.summary).run)
    assert rows == [{"status": "submitted", "summary": "Tanda Daftar harus diperpanjang; foto papan nama diperbaiki."}]
    assert count(call, VisitPhoto) == 1
    context.close()



def test_opening_the_task_list_keeps_the_days_forms_for_offline_use(browser, restartable_server, world):
    context = tablet(browser, restartable_server, VIEWPORTS["portrait"])
    page = context.new_page()
    sign_in(page, "agus")
    page.goto("/tasks")
    expect(page.get_by_role("link", name="Isi laporan kunjungan")).to_be_visible()
    wait_until(page, "() => navigator.serviceWorker.controller !== null")
    wait_until(page, f"() => caches.match('/tasks/{world.task['id']}/visit').then(r => !!r)")
    wait_until(page, "() => caches.match('/api/v1/checklists').then(r => !!r)")
    restartable_server.stop()
    page.goto(f"/tasks/{world.task['id']}/visit")  # never opened before, and no network
    expect(page.locator("#q-A1")).to_be_visible()
    expect(page.locator(".question")).to_have_count(len(world.checklist["questions"]))
    context.close()


def test_a_report_the_server_refuses_comes_back_as_a_draft_with_the_servers_words_by_the_field(
    browser, restartable_server, world, call, camera_photos,
):
    context, page = form_on_tablet(browser, restartable_server, world, "landscape")
    fill_start_and_end(page)
    answer_all(page, world.checklist, camera_photos(1))
    page.locator("#q-A1 [data-f=due_on]").fill("2020-01-31")  # the tablet lets it pass; the server does not
    page.locator("#submit").click()
    expect(page.locator("#visit-banner")).to_contain_text("Tidak terkirim: Laporan belum lengkap", timeout=SEND_TIMEOUT_MS)
    expect(page.locator("#q-A1 .f-error")).to_contain_text("Isi tanggal batas perbaikan (hari ini atau sesudahnya).")
    expect(page.locator("#submit")).to_be_visible()  # a draft again: correct and send
    assert count(call, Visit) == 0
    context.close()

# --- what the server gives the tablet (no browser needed) -------------------------


def test_the_service_worker_is_served_fresh_for_the_whole_site_with_the_forms_files(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["service-worker-allowed"] == "/"
    assert re.search(r'"/static/visit/visit\.js\?v=[0-9a-f]{12}"', response.text)
    manifest = client.get("/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    assert manifest.json()["start_url"] == "/tasks"
    assert all(client.get(icon["src"]).status_code == 200 for icon in manifest.json()["icons"])


def test_only_the_teams_inspectors_and_staff_open_the_form_and_it_may_use_camera_and_position(client, world):
    from tests.conftest import login

    login(client, "agus")
    page = client.get(f"/tasks/{world.task['id']}/visit")
    assert page.status_code == 200
    assert "geolocation=(self)" in page.headers["permissions-policy"]
    assert "Foto terlalu besar (paling besar 5 MB)." in page.text  # the server's own message, for the tablet
    client.cookies.clear()
    login(client, "bambang")  # a partner of the team: co-signs, does not file
    assert client.get(f"/tasks/{world.task['id']}/visit").status_code == 403
    client.cookies.clear()
    login(client, "yanti")  # an inspector of another team
    assert client.get(f"/tasks/{world.task['id']}/visit").status_code == 404



def test_a_shared_tablet_forgets_the_kept_pages_at_sign_out_and_sends_a_report_only_as_its_author(
    browser, restartable_server, world, call, camera_photos,
):
    """Agus queues a report offline and hands the tablet over. Signed out,
    the pages kept for his offline work are gone; Dedi (same team) signs in
    and opens the outbox: Agus's report waits for Agus, nothing is sent in
    Dedi's name. Agus signs in again and it is sent, as his."""
    context, page = form_on_tablet(browser, restartable_server, world, "landscape")
    form_url = f"/tasks/{world.task['id']}/visit"
    restartable_server.stop()
    fill_start_and_end(page)
    answer_all(page, world.checklist, camera_photos(1))
    page.locator("#submit").click()
    expect(page.locator("#visit-status")).to_contain_text("1 laporan dan 1 foto menunggu dikirim")
    page.close()  # the form (whose outbox would send at once) is left before the network returns

    restartable_server.start()
    home = context.new_page()
    home.goto("/")
    home.locator("form[action='/logout'] button").click()
    home.wait_for_url("**/login")
    wait_until(home, f"() => caches.match('{form_url}').then(r => !r)", timeout_s=15)
    assert count(call, Visit) == 0

    sign_in(home, "dedi")
    home.goto("/visits/outbox")
    waiting = home.locator("#outbox-list li.outbox-waiting")
    expect(waiting).to_contain_text("ditulis oleh akun lain", ignore_case=True, timeout=SEND_TIMEOUT_MS)
    home.wait_for_timeout(2_000)  # a flush or two of the outbox
    assert count(call, Visit) == 0

    home.locator("form[action='/logout'] button").click()
    home.wait_for_url("**/login")
    sign_in(home, "agus")
    home.goto("/visits/outbox")
    expect(home.locator("#outbox-list li.outbox-sent")).to_contain_text("LKSA Kasih Bunda", timeout=SEND_TIMEOUT_MS)
    visits = call(Visit.select(Visit.filed_by).run)
    assert visits == [{"filed_by": world.users["lead"]["id"]}]
    context.close()
