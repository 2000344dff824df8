"""Signing in, the language switch and keyboard use, in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import password_for
from tests.e2e.conftest import _is_login_post, html_lang, sign_in, sign_out

pytestmark = pytest.mark.browser

WRONG_CREDENTIALS_ID = "Nama pengguna atau kata sandi salah, atau akun tidak aktif."


def test_sign_in_page_is_indonesian_and_signs_in(page, server, make_user):
    make_user("rina", "staff", full_name="Rina Staf")

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login$"))
    assert html_lang(page) == "id"
    expect(page).to_have_title("Masuk · SIGAP")
    expect(page.get_by_role("heading", level=1)).to_have_text("Masuk ke SIGAP")
    expect(page.get_by_label("Nama pengguna")).to_be_focused()  # autofocus

    # A wrong password: an Indonesian message, still on the form, name kept.
    page.get_by_label("Nama pengguna").fill("rina")
    page.get_by_label("Kata sandi").fill("bukan-sandinya-123")
    with page.expect_response(_is_login_post) as posted:
        page.get_by_role("button", name="Masuk", exact=True).click()
    assert posted.value.status == 401
    expect(page.get_by_role("alert")).to_have_text(WRONG_CREDENTIALS_ID)
    expect(page.get_by_role("heading", level=1)).to_have_text("Masuk ke SIGAP")
    expect(page.get_by_label("Nama pengguna")).to_have_value("rina")
    expect(page.get_by_label("Kata sandi")).to_have_value("")
    assert html_lang(page) == "id"

    # The right password: the home page greets the user by name.
    page.get_by_label("Kata sandi").fill(password_for("rina"))
    page.get_by_role("button", name="Masuk", exact=True).click()
    expect(page).to_have_url(server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Selamat datang, Rina Staf")
    expect(page.locator("p.lead")).to_have_text("Anda masuk sebagai Petugas Dinsos.")
    expect(page.get_by_role("button", name="Keluar")).to_be_visible()
    assert html_lang(page) == "id"


def test_language_switch_is_remembered_for_the_user(page, new_page, server, make_user):
    make_user("budi", "staff", full_name="Budi Santoso")

    # Before signing in, the switch works for the visitor (a cookie).
    page.goto("/login")
    expect(page.get_by_role("button", name="ID", exact=True)).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="EN", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to SIGAP")
    assert html_lang(page) == "en"
    expect(page.get_by_role("button", name="EN", exact=True)).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="ID", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Masuk ke SIGAP")

    # Signed in, the switch changes the page and the account's language.
    sign_in(page, "budi")
    expect(page.get_by_role("heading", level=1)).to_have_text("Selamat datang, Budi Santoso")
    page.get_by_role("button", name="EN", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Budi Santoso")
    expect(page).to_have_url(server.url + "/")  # back where the user was
    assert html_lang(page) == "en"
    expect(page.get_by_role("navigation", name="Main menu")).to_contain_text("Home")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # Signing out keeps the language on this device...
    sign_out(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to SIGAP")
    assert html_lang(page) == "en"
    sign_in(page, "budi")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Budi Santoso")

    # ...and the account remembers it on another device (no cookies there).
    other = new_page()
    other.goto("/login")
    expect(other.get_by_role("heading", level=1)).to_have_text("Masuk ke SIGAP")
    sign_in(other, "budi")
    expect(other.get_by_role("heading", level=1)).to_have_text("Welcome, Budi Santoso")
    assert html_lang(other) == "en"

    # Switching back to Indonesian is stored the same way.
    other.get_by_role("button", name="ID", exact=True).click()
    expect(other.get_by_role("heading", level=1)).to_have_text("Selamat datang, Budi Santoso")
    third = new_page()
    sign_in(third, "budi")
    expect(third.get_by_role("heading", level=1)).to_have_text("Selamat datang, Budi Santoso")
    assert html_lang(third) == "id"


FOCUS_STYLE = """el => {
  const s = getComputedStyle(el);
  return {style: s.outlineStyle, width: parseFloat(s.outlineWidth) || 0, color: s.outlineColor};
}"""

# What the focus ring is drawn against: whatever is painted just outside the
# element's left edge (the ring sits there), up to the first opaque background.
BACKDROP = """el => {
  const r = el.getBoundingClientRect();
  const x = r.left >= 6 ? r.left - 4 : r.right + 4, y = r.top + r.height / 2;
  const hit = document.elementsFromPoint(x, y).find(n => n !== el && !el.contains(n));
  for (let n = hit; n; n = n.parentElement) {
    const c = getComputedStyle(n).backgroundColor;
    if (c && c !== 'transparent' && !c.endsWith(', 0)')) return c;
  }
  return 'rgb(255, 255, 255)';
}"""


def _rgb(css: str) -> tuple[int, int, int]:
    r, g, b = (int(float(x)) for x in re.findall(r"[\d.]+", css)[:3])
    return r, g, b


def _contrast(a: str, b: str) -> float:
    def lum(rgb: tuple[int, int, int]) -> float:
        c = [v / 255 for v in rgb]
        c = [v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((lum(_rgb(a)), lum(_rgb(b))), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _assert_visible_focus(locator) -> None:
    ring = locator.evaluate(FOCUS_STYLE)
    assert ring["style"] != "none" and ring["width"] >= 2, ring
    backdrop = locator.evaluate(BACKDROP)
    # WCAG 1.4.11: a focus indicator needs 3:1 against what surrounds it.
    assert _contrast(ring["color"], backdrop) >= 3, (ring, backdrop)


def test_keyboard_skip_link_and_visible_focus(page, make_user):
    make_user("dewi", "staff", full_name="Dewi Lestari")
    page.goto("/login")

    # The autofocused input shows a focus ring.
    username = page.get_by_label("Nama pengguna")
    expect(username).to_be_focused()
    _assert_visible_focus(username)

    sign_in(page, "dewi")
    page.goto("/")
    skip = page.locator("a.skip-link")
    assert skip.bounding_box()["y"] + skip.bounding_box()["height"] <= 0  # hidden off-screen until focused

    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_have_text("Langsung ke isi utama")
    box = skip.bounding_box()
    assert box["y"] >= 0 and box["height"] > 0 and box["width"] > 0, box
    _assert_visible_focus(skip)

    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    # The next Tab continues inside the main content, not in the header.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
    _assert_visible_focus(page.locator(":focus"))

    # Tabbing through the header reaches buttons with a visible ring too.
    page.goto("/")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.tagName") == "BUTTON":
            break
    focused = page.locator(":focus")
    expect(focused).to_have_attribute("type", "submit")
    _assert_visible_focus(focused)
