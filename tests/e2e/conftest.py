"""Browser tests: the real Chromium (Debian's, not a downloaded one) driven
by Playwright's sync API against a real ``sigap serve`` process.

* Chromium starts once per test module; every test gets a fresh context
  (no cookies, no storage) and page.
* One server process serves the whole session; the database is still
  emptied after every test, so each test creates its own users.
* A missing Chromium (or Playwright) skips these tests with a reason, except
  under ``CI=true`` where it is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, CI, ServerProcess, free_port, password_for

CHROMIUM = os.environ.get("SIGAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-sandbox",
    "--disable-gpu",
]
SCREENSHOTS = ARTIFACTS / "screenshots"
DEFAULT_TIMEOUT_MS = 10_000


def _unavailable(reason: str) -> None:
    """No browser: a failure under CI, a skip with the reason elsewhere."""
    if CI:
        pytest.fail(f"{reason} (CI=true: browser tests must run)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def server(database: str) -> Iterator[ServerProcess]:
    """``python -m sigap.cli serve`` on a free port, against the test database."""
    # The staff home counts its figures on every view (not kept a minute): each test has its own data.
    process = ServerProcess({"SIGAP_DASHBOARD_CACHE": "0"}, free_port())
    try:
        process.wait_healthy()
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
def browser():
    """Chromium, started once per module (module, not session: while it runs,
    ``asyncio.run`` cannot be used in this thread by the tests that follow)."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"Playwright for Python is not installed: {exc}")
    executable = shutil.which(CHROMIUM) or (CHROMIUM if Path(CHROMIUM).is_file() else None)
    if executable is None:
        _unavailable(f"Chromium not found at {CHROMIUM!r} (set SIGAP_CHROMIUM or `apt-get install chromium`)")
    playwright = sync_playwright().start()
    try:
        try:
            chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            # Present but broken is always a failure, on CI or not.
            pytest.fail(f"Chromium at {executable} did not start: {exc}", pytrace=False)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def context(browser, server):
    """A fresh browser context (no cookies) per test; tablet-friendly default size."""
    ctx = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800}, locale="id-ID")
    ctx.set_default_timeout(DEFAULT_TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def new_page(browser, server) -> Iterator[Callable[..., object]]:
    """Extra pages in their own fresh contexts (another device, another user)."""
    contexts = []

    def _new(**options):
        ctx = browser.new_context(base_url=server.url, **options)
        ctx.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(ctx)
        return ctx.new_page()

    yield _new
    for ctx in contexts:
        ctx.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


# --- what a user does ----------------------------------------------------------


def _is_login_post(response) -> bool:
    return response.request.method == "POST" and response.url.split("?")[0].endswith("/login")


def _not_login(url: str) -> bool:
    return not url.split("?")[0].endswith("/login")


def sign_in(page, username: str, password: str | None = None) -> None:
    """Open the sign-in form, type the credentials and submit, as a person
    would; returns once the page the server sent the user to has loaded."""
    if _not_login(page.url):
        page.goto("/login")
    page.locator("#f-username").fill(username)
    page.locator("#f-password").fill(password if password is not None else password_for(username))
    with page.expect_response(_is_login_post) as posted:
        page.locator("form[action='/login'] button[type=submit]").click()
    status = posted.value.status
    assert status == 303, f"signing in as {username!r} failed: HTTP {status}"
    page.wait_for_url(_not_login)


def sign_out(page) -> None:
    page.locator("form[action='/logout'] button").click()
    page.wait_for_url(re.compile(r"/login$"))


def html_lang(page) -> str:
    return page.evaluate("document.documentElement.lang")


def main_menu(page) -> list[str]:
    """Every entry of the main menu, those inside a closed group too."""
    return page.locator("nav.mainnav a").evaluate_all("links => links.map(a => a.textContent.trim())")


def menu_groups(page) -> list[str]:
    """The groups of the main menu (staff and admins) as they read: a group with
    a lead by its lead link ("Tugas"), one without by its button."""
    return page.locator("nav.mainnav .nav-group").evaluate_all(
        "groups => groups.map(g => (g.querySelector(':scope > .nav-lead') || g.querySelector('summary')).textContent.trim())"
    )


def open_menu(page, entry: str, group: str | None = None) -> None:
    """Follow the main menu's ``entry``, first opening its ``group`` as a person
    would (a role with few entries has no groups: pass none). A group's lead
    is a link of its own, one click: ``group`` is then not opened."""
    nav = page.locator("nav.mainnav")
    lead = nav.locator(".nav-lead", has_text=entry)
    if group is not None and not any(t.strip() == entry for t in lead.all_inner_texts()):
        toggle = nav.locator("summary", has_text=group)
        if not toggle.count():  # a group with a lead: its button is named after the lead
            toggle = nav.locator(f'summary[aria-label$=": {group}"]')
        toggle.click()
    with page.expect_navigation():
        nav.get_by_role("link", name=entry, exact=True).click()


# --- a network that really goes away ----------------------------------------------


class RestartableServer:
    """``sigap serve`` on a fixed port that a test stops (the network is gone
    for the page *and* its service worker: Playwright's offline switch does
    not cover workers) and starts again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: ServerProcess | None = None

    def start(self) -> None:
        self.process = ServerProcess({}, self.port)
        self.process.wait_healthy()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


@pytest.fixture
def restartable_server(database: str) -> Iterator[RestartableServer]:
    server = RestartableServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
