"""The staff pages of visit reports in real Chromium: the list and a
report with its review form at desktop (1440×900) and tablet (1280×800)
sizes, without sideways scrolling; screenshots kept in test artifacts."""

from __future__ import annotations

from tests.e2e.conftest import browser, screenshot_dir, server, sign_in  # noqa: F401  (fixtures)
from tests.inspections.visit_world import VisitWorld, jpeg_bytes, world  # noqa: F401  (fixture)
from tests.inspections.visit_world import sign_in as api_sign_in

OVERFLOW_JS = "() => ({scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth})"
VIEWPORTS = {"desktop": (1440, 900), "tablet": (1280, 800)}


def test_staff_review_pages_fit_desktop_and_tablet(client, world: VisitWorld, browser, server, screenshot_dir):
    headers = api_sign_in(client, world.users["lead"])
    visit = client.post("/api/v1/visits", json=world.key_no_body(), headers=headers).json()
    fields = {"client_id": "photo-key-0001", "question_code": "A1", "finding_ref": "f1"}
    client.post(f"/api/v1/visits/{visit['id']}/photos", data=fields, files={"file": ("a.jpg", jpeg_bytes(), "image/jpeg")}, headers=headers)
    problems = []
    for name, (width, height) in VIEWPORTS.items():
        context = browser.new_context(base_url=server.url, viewport={"width": width, "height": height}, locale="id-ID")
        page = context.new_page()
        sign_in(page, world.users["staff"]["username"])
        for shot, path, heading in (("visits-list", "/visits", "Laporan kunjungan"), ("visit-report", f"/visits/{visit['id']}", "LKSA Kasih Bunda")):
            page.goto(path)
            assert heading in page.locator("h1").inner_text()
            page.screenshot(path=str(screenshot_dir / f"{shot}-{name}.png"), full_page=True)
            size = page.evaluate(OVERFLOW_JS)
            if size["scrollWidth"] > size["clientWidth"]:
                problems.append(f"{shot} scrolls sideways at {name}: {size}")
        assert page.get_by_role("button", name="Setujui").is_visible()
        context.close()
    assert problems == []
