"""The visit form page's weight (``bench.visits``, part 1): Debian's
Chromium (Playwright) opens ``/tasks/{id}/visit`` as the inspector, through
a loopback proxy that counts every byte the server sends, first with an
empty cache and then reloaded (the service worker answering)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path
from typing import Self

from bench.servers import HOST, BenchError, SigapApp, free_port

PAGE_TARGET_KB = 200
INSPECTOR = "inspektur"
PASSWORD = "Tolok-Ukur-Kunjungan-2026"  # >= 10 characters, not containing the user names
LKS_POINT = (-6.2085, 106.6540)
CHROMIUM = os.environ.get("SIGAP_CHROMIUM", "/usr/bin/chromium")
# tests/e2e/conftest.py's launch arguments (that module is not importable
# outside pytest: importing it sets up the test database).
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-sandbox", "--disable-gpu"]
VIEWPORT = {"width": 1280, "height": 800}
PAGE_TIMEOUT_S = 30

# --- 1. the form page ------------------------------------------------------------------


class CountingProxy:
    """A loopback TCP proxy in front of the app that counts the bytes the
    server sends: what really crossed the "network" (headers, encoded
    bodies, framing), whoever asked (page, service worker) and whatever the
    browser's HTTP cache answered instead (nothing). Runs in a thread."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.down = 0  # server -> browser
        self.up = 0  # browser -> server
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="counting-proxy", daemon=True)

    def reset(self) -> None:
        self.down = self.up = 0

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, downstream: bool) -> None:
        try:
            while data := await reader.read(65536):
                if downstream:
                    self.down += len(data)
                else:
                    self.up += len(data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(HOST, self.target_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pipe(reader, up_writer, False), self._pipe(up_reader, writer, True))

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._client, HOST, self.port))
        self._ready.set()
        self._loop.run_forever()
        self._server.close()

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._ready.wait(10):
            raise BenchError("the byte-counting proxy did not start")
        return self

    def __exit__(self, *exc) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class Traffic:
    """Every request of a browser context (page and service worker) that
    finished: where each response came from, for the breakdown."""

    def __init__(self) -> None:
        self.finished: list = []
        self.failed: list = []

    def clear(self) -> None:
        self.finished, self.failed = [], []

    def summary(self, proxy: CountingProxy) -> dict:
        sw_served = sw_cache = 0
        rows = []
        sw_fetched = {r.url for r in self.finished if r.service_worker is not None}
        for request in self.finished:
            response = request.response()
            if response is None:
                continue
            if response.from_service_worker:
                # What the worker handed the page: decoded bytes. From its
                # cache unless the worker fetched the same URL meanwhile.
                try:
                    size = len(response.body())
                except Exception:  # noqa: BLE001 - a body the page's cache.add() consumed
                    size = 0
                sw_served += size
                if request.url not in sw_fetched:
                    sw_cache += size
                source = "sw (its cache)" if request.url not in sw_fetched else "sw (from network)"
            else:
                sizes = request.sizes()
                size = sizes["responseHeadersSize"] + max(sizes["responseBodySize"], 0)
                source = "network, by the sw" if request.service_worker is not None else "network"
                if sizes["responseBodySize"] <= 0 and response.status == 200:
                    source += " (body size unknown: HTTP cache, or the worker's script)"
            rows.append({"url": request.url, "status": response.status, "source": source, "bytes": size})
        return {"network_bytes": proxy.down, "sent_bytes": proxy.up, "sw_served_bytes": sw_served, "sw_cache_bytes": sw_cache,
                "requests": rows, "failed": [f"{r.method} {r.url}: {r.failure}" for r in self.failed]}


def _wait_js(page, predicate: str, what: str, timeout_s: float = PAGE_TIMEOUT_S) -> None:
    """Poll a JavaScript function (the page's CSP forbids the eval of wait_for_function)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(predicate):
        if time.monotonic() > deadline:
            raise BenchError(f"the form page never got there: {what}")
        page.wait_for_timeout(100)


def _settle(page, traffic: Traffic, quiet_ms: int = 1000, timeout_s: float = PAGE_TIMEOUT_S) -> None:
    """Until no request has finished for ``quiet_ms`` (the page and its worker are done)."""
    deadline = time.monotonic() + timeout_s
    seen = -1
    while time.monotonic() < deadline:
        if len(traffic.finished) + len(traffic.failed) == seen:
            return
        seen = len(traffic.finished) + len(traffic.failed)
        page.wait_for_timeout(quiet_ms)
    raise BenchError("the form page kept loading")


def _form_ready(page, traffic: Traffic) -> None:
    page.locator(".question").first.wait_for(state="visible", timeout=PAGE_TIMEOUT_S * 1000)
    _wait_js(page, "() => navigator.serviceWorker.ready.then(r => !!r.active && r.active.state === 'activated')", "service worker active")
    _wait_js(page, "() => navigator.serviceWorker.controller !== null", "page controlled by the service worker")
    _wait_js(page, "() => caches.match(location.pathname).then(r => !!r)", "form kept in the service worker's cache")
    _settle(page, traffic)


def measure_form_page(app: SigapApp, task_id: int) -> dict:
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise BenchError(f"Playwright for Python is not installed: {exc}") from exc
    if not Path(CHROMIUM).is_file():
        raise BenchError(f"Chromium not found at {CHROMIUM} (set SIGAP_CHROMIUM or `apt-get install chromium`)")

    with CountingProxy(app.server.port) as proxy, sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        except PlaywrightError as exc:
            raise BenchError(f"Chromium at {CHROMIUM} did not start: {exc}") from exc
        try:
            context = browser.new_context(
                base_url=proxy.url, viewport=VIEWPORT, locale="id-ID", service_workers="allow",
                geolocation={"latitude": LKS_POINT[0] + 0.0004, "longitude": LKS_POINT[1]}, permissions=["geolocation"],
            )
            context.set_default_timeout(PAGE_TIMEOUT_S * 1000)
            traffic = Traffic()
            context.on("requestfinished", lambda request: traffic.finished.append(request))
            context.on("requestfailed", lambda request: traffic.failed.append(request))
            page = context.new_page()
            # Signing in is not part of the form's weight.
            page.goto("/login")
            page.locator("#f-username").fill(INSPECTOR)
            page.locator("#f-password").fill(PASSWORD)
            with page.expect_response(lambda r: r.request.method == "POST" and r.url.split("?")[0].endswith("/login")) as posted:
                page.locator("form[action='/login'] button[type=submit]").click()
            if posted.value.status != 303:
                raise BenchError(f"signing in as {INSPECTOR} in the browser failed: HTTP {posted.value.status}")
            page.wait_for_url(lambda url: not url.split("?")[0].endswith("/login"))
            page.wait_for_load_state("load")
            _settle(page, traffic, quiet_ms=500)
            # A cold start: nothing of the sign-in pages (the shared style
            # sheet) left in the HTTP cache; no service worker yet.
            page.context.new_cdp_session(page).send("Network.clearBrowserCache")
            if page.evaluate("() => navigator.serviceWorker.getRegistrations().then(r => r.length)"):
                raise BenchError("a service worker was registered before the form page was opened")

            traffic.clear()
            proxy.reset()
            response = page.goto(f"/tasks/{task_id}/visit")
            if response is None or response.status != 200:
                raise BenchError(f"/tasks/{task_id}/visit answered {response and response.status}")
            _form_ready(page, traffic)
            first = traffic.summary(proxy)

            traffic.clear()
            proxy.reset()
            page.reload()
            _form_ready(page, traffic)
            reload = traffic.summary(proxy)
            context.close()
        finally:
            browser.close()
    for label, phase in (("first load", first), ("reload", reload)):
        if phase["failed"]:
            raise BenchError(f"form page, {label}: requests failed: {phase['failed'][:5]}")
        bad = [f"{r['status']} {r['url']}" for r in phase["requests"] if r["status"] >= 400]
        if bad:
            raise BenchError(f"form page, {label}: error responses: {bad[:5]}")
    return {"first": first, "reload": reload}
