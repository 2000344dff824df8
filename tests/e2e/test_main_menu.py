"""The main menu in Chromium, on each role's device: a staff officer's
desktop gets one calm row of groups that open one at a time, by mouse or
keyboard, and close on Escape or a click elsewhere; an inspector's tablet
and a manager's phone get every entry in sight, with no extra tap."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import main_menu, menu_groups, open_menu, sign_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
TABLET = {"width": 800, "height": 1280}
PHONE = {"width": 390, "height": 844}
OPEN = "nav.mainnav details[open] > summary"


def _one_row(page, selector: str) -> bool:
    """Do the elements of ``selector`` sit side by side (every one level with every other)?"""
    boxes = page.locator(selector).evaluate_all("els => els.map(e => [e.getBoundingClientRect().top, e.getBoundingClientRect().bottom])")
    return max(top for top, _ in boxes) < min(bottom for _, bottom in boxes)


def test_staff_menu_is_one_row_of_groups_that_open_one_at_a_time(new_page, make_user, screenshot_dir):
    make_user("rudi", "staff", full_name="Rudi Staf")
    page = new_page(viewport=DESKTOP, locale="id-ID")
    sign_in(page, "rudi")
    nav = page.get_by_role("navigation", name="Menu utama")
    assert menu_groups(page) == ["LKS", "Tugas", "Kasus", "Akreditasi"]
    assert _one_row(page, "nav.mainnav > ul > li")  # 15 pages, one row of 7 entries
    assert len(main_menu(page)) == 15
    expect(nav.get_by_role("link", name="Kunjungan")).to_be_hidden()

    # By mouse: a group opens below its button; opening another closes it.
    toggle = lambda lead: nav.locator(f'summary[aria-label="Lainnya: {lead}"]')  # noqa: E731
    for lead in ("LKS", "Tugas", "Kasus", "Akreditasi"):  # the small button is a full touch target too
        box = toggle(lead).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, (lead, box)
    toggle("Tugas").click()
    expect(nav.get_by_role("link", name="Kunjungan")).to_be_visible()
    Path("/tmp/menu-shots").mkdir(exist_ok=True)
    page.screenshot(path="/tmp/menu-shots/lead-staff-1440-open.png")
    page.screenshot(path=str(screenshot_dir / "menu-staff-1440-open.png"))
    toggle("Kasus").click()
    expect(page.locator(OPEN)).to_have_attribute("aria-label", "Lainnya: Kasus")
    page.locator("footer").click()  # a click elsewhere closes it
    expect(page.locator(OPEN)).to_have_count(0)

    # By keyboard: Tab reaches the lead link, then its button; Enter opens,
    # Tab reaches the entries, Escape closes and gives the focus back to the button.
    nav.get_by_role("link", name="Akreditasi", exact=True).focus()
    page.keyboard.press("Tab")
    expect(toggle("Akreditasi")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(OPEN)).to_have_attribute("aria-label", "Lainnya: Akreditasi")
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Rencana perbaikan")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator(OPEN)).to_have_count(0)
    expect(toggle("Akreditasi")).to_be_focused()

    # Two clicks to a page in a group; there, the page and its group are marked.
    open_menu(page, "Temuan", group="Tugas")
    expect(page.get_by_role("heading", level=1)).to_have_text("Temuan")
    expect(nav.locator("summary[aria-current=true]")).to_have_attribute("aria-label", "Lainnya: Tugas")
    expect(nav.locator("a[aria-current]")).to_have_count(1)
    expect(nav.locator("a[aria-current=page]")).to_have_text("Temuan")
    page.screenshot(path=str(screenshot_dir / "menu-staff-1440-findings.png"))
    open_menu(page, "Peringatan")  # one click outside the groups
    expect(page).to_have_url(re.compile(r"/alerts$"))
    expect(nav.locator("summary[aria-current]")).to_have_count(0)

    # The main jobs are one click from the home page: the LKS list, the tasks.
    for lead, path in (("LKS", "/lks"), ("Tugas", "/tasks")):
        page.goto(page.url.split("/alerts")[0] + "/")
        with page.expect_navigation():
            nav.get_by_role("link", name=lead, exact=True).click()  # the one click
        expect(page).to_have_url(re.compile(path + "$"))
        expect(nav.locator("a[aria-current=page]")).to_have_text(lead)
        expect(nav.locator("summary[aria-current=true]")).to_have_attribute("aria-label", f"Lainnya: {lead}")
    page.screenshot(path="/tmp/menu-shots/lead-staff-1440x900.png")


@pytest.mark.parametrize("role, viewport, entries", [
    ("inspector", TABLET, ["Beranda", "Tugas", "Peringatan"]),
    ("inspector", {"width": 1280, "height": 800}, ["Beranda", "Tugas", "Peringatan"]),
    ("manager", PHONE, ["Beranda", "LKS saya", "Peringatan", "Temuan", "Penilaian mandiri", "Rencana perbaikan"]),
])
def test_few_entries_stay_in_sight_on_tablets_and_phones(new_page, make_user, screenshot_dir, role, viewport, entries):
    make_user("orang", role)
    phone = viewport["width"] < 500
    page = new_page(viewport=viewport, locale="id-ID", is_mobile=phone, has_touch=True)
    sign_in(page, "orang")
    links = page.locator("nav.mainnav a")
    assert main_menu(page) == entries and menu_groups(page) == []
    for i in range(links.count()):
        box = links.nth(i).bounding_box()
        assert box["height"] >= 44 and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (entries[i], box)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], width
    # The name, language and sign-out share one row, even on a phone.
    assert _one_row(page, ".tools > *")
    page.screenshot(path=str(screenshot_dir / f"menu-{role}-{viewport['width']}x{viewport['height']}.png"))
    open_menu(page, entries[-1])
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("nav.mainnav a[aria-current=page]")).to_have_text(entries[-1])


@pytest.mark.parametrize("viewport", [{"width": 1024, "height": 768}, TABLET, PHONE])
def test_every_group_opens_inside_the_window(new_page, make_user, viewport):
    """At 1024 px the admins' last group sits near the right edge: its list
    opens leftwards instead of sticking out (and making the page scroll).
    Where the menu takes two rows or more (a tablet, a phone), an open list
    sits below them and hides no other group's button: the next one is
    clicked straight away."""
    make_user("ani", "admin")
    page = new_page(viewport=viewport, locale="id-ID")
    sign_in(page, "ani")
    summaries = page.locator("nav.mainnav summary")
    assert summaries.count() == 5
    for i in range(5):
        summaries.nth(i).click()
        opened = page.locator("nav.mainnav details[open] ul")
        expect(opened).to_be_visible()
        box = opened.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], (summaries.nth(i).inner_text(), box)
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
