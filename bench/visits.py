"""The visit report on a tablet: the form page's weight, and the time to
send a 20-photo report, on PostgreSQL with S3 storage (SeaweedFS).

    python -m bench.visits [--photos 20] [--parallel 4] [--json FILE]
                           [--postgres-admin-url URL]

Starts a fresh PostgreSQL database (``bench.servers.postgres_database``) and a
SeaweedFS S3 server (``weed mini``, as ``tests/s3.py`` starts it), migrates
(``sigap migrate``), seeds an inspector (lead of the joint team of kecamatan
36.71.11), a staff account, two LKSA in kelurahan 36.71.11.1005 with their
coordinates and one routine task each (through the services, in a child
process: ``python -m bench.visits --seed``), then serves SIGAP on them.

1. Form page: Debian's Chromium (Playwright, 1280x800) signs in as the
   inspector, empties the HTTP cache, opens ``/tasks/{id}/visit`` and waits
   for the form, the active service worker controlling the page and its
   cached copy of the page, then for a second with no request. The page has
   no "ready" flag of its own: those are what the offline browser test waits
   for. Network bytes are counted by a loopback proxy in front of the server
   (everything the server sent: headers, encoded bodies, page's and
   worker's requests alike; HTTP cache hits cost nothing); Playwright tells
   what the service worker answered from its cache (decoded bytes). Then a
   reload, counted the same way. Target: under 200 KB on first load.
2. Submit: 20 JPEG photos (1600x1200, camera-like noise, ~300-500 KB each)
   are made with Pillow; with a bearer token the report is filed
   (``POST /api/v1/visits``, every item answered, the photos declared) and
   the photos sent (``POST /api/v1/visits/{id}/photos``) one at a time as
   the tablet's outbox does, then for the second task with ``--parallel``
   at once. Afterwards ``GET /api/v1/visits/{id}`` must list every photo and
   ``photos_missing == []``.

Loopback only; every process and the database are gone when it ends.
Exits 1 when anything did not work (a benchmark of errors measures nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

import httpx

from bench.servers import (
    DEFAULT_POSTGRES_ADMIN_URL,
    HOST,
    ROOT,
    BenchError,
    SigapApp,
    free_port,
    sigap_server,
)

PAGE_TARGET_KB = 200
INSPECTOR = "inspektur"
STAFF_USER = "petugas"
PASSWORD = "Tolok-Ukur-Kunjungan-2026"  # >= 10 characters, not containing the user names
KECAMATAN = "36.71.11"  # Pinang
KELURAHAN = "36.71.11.1005"  # Kunciran Indah
LKS_POINT = (-6.2085, 106.6540)
CHROMIUM = os.environ.get("SIGAP_CHROMIUM", "/usr/bin/chromium")
# tests/e2e/conftest.py's launch arguments (that module is not importable
# outside pytest: importing it sets up the test database).
CHROMIUM_ARGS = ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-sandbox", "--disable-gpu"]
VIEWPORT = {"width": 1280, "height": 800}
PAGE_TIMEOUT_S = 30


# --- the world: run in a child process with the server's environment -----------------


async def _seed() -> dict:
    from inspections.planning import services as planning
    from inspections.planning.tables import TaskKind
    from inspections.teams import services as teams
    from registry import services as registry
    from sigap import accounts, db
    from sigap.audit import Actor
    from sigap.i18n import WIB
    from sigap.tables import Role

    await db.start()
    try:
        now = datetime.now(UTC)
        system = Actor.system("bench")
        staff = Actor(user_id=None, username="bench", role=Role.staff)
        lead = await accounts.create_user(system, username=INSPECTOR, role="inspector", password=PASSWORD, full_name="Agus Setiawan", now=now)
        await accounts.create_user(system, username=STAFF_USER, role="staff", password=PASSWORD, full_name="Rina Marlina", now=now)
        team = await teams.create_team(staff, name="Tim Terpadu Pinang", area_code=KECAMATAN, now=now)
        await teams.add_member(staff, team["id"], agency="dinsos", user_id=lead["id"], is_lead=True, now=now)
        tasks = []
        for n in (1, 2):
            lks, _warnings = await registry.create_lks(staff, {
                "kind": "lksa", "legal_entity": True, "yayasan_name": "Yayasan Kasih Bunda", "name": f"LKSA Kasih Bunda {n}",
                "address": f"Jl. Melati No. {n}", "rt": "001", "rw": "002", "kelurahan_code": KELURAHAN, "capacity": 30,
                "latitude": LKS_POINT[0], "longitude": LKS_POINT[1], "head_name": "Siti Aminah",
            }, now=now)
            row = planning.new_task(
                {**lks, "kecamatan_code": KECAMATAN}, TaskKind.routine, now.astimezone(WIB).date(), f"bench:{lks['id']}",
                teams=[team], leads={team["id"]: lead["id"]}, now=now,
            )
            await planning.insert_tasks([row])
            task = (await planning.search_tasks(staff, lks_id=lks["id"]))[0]
            tasks.append({"id": task["id"], "lks_id": lks["id"]})
        return {"lead_id": lead["id"], "team_id": team["id"], "tasks": tasks}
    finally:
        await db.stop()


def seed(app: SigapApp) -> dict:
    argv = [sys.executable, "-m", "bench.visits", "--seed"]
    result = subprocess.run(argv, check=False, cwd=ROOT, env=app.env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise BenchError(f"seeding the visit world failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- S3 ------------------------------------------------------------------------------


@contextmanager
def s3_server(workdir: Path):
    """SeaweedFS exactly as the tests start it (tests/s3.py)."""
    try:
        from tests.s3 import start_s3_server, stop_s3_server
    except ImportError as exc:
        raise BenchError(f"tests/s3.py is not importable (install the test extra): {exc}") from exc
    root = Path(tempfile.mkdtemp(prefix="sigap-bench-s3-"))  # short: unix socket paths
    try:
        try:
            server = start_s3_server(root / "run")
        except Exception as exc:
            logs = sorted(root.glob("run/weed-*.log"))
            tail = logs[-1].read_text(errors="replace")[-2000:] if logs else "(no log)"
            raise BenchError(f"SeaweedFS did not start: {exc}\n{tail}") from exc
        try:
            yield server
        finally:
            stop_s3_server(server)
    finally:
        shutil.rmtree(root, ignore_errors=True)


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


# --- 2. submitting a report with its photos ------------------------------------------


def make_photos(count: int, seed: int = 2026) -> list[bytes]:
    """JPEGs as the tablet sends them after downscaling: 1600x1200, quality
    88, a scene-like gradient with shapes and sensor noise (~300-500 KB)."""
    from PIL import Image, ImageDraw, ImageFilter

    rng = random.Random(seed)
    out = []
    for n in range(count):
        base = Image.linear_gradient("L").resize((1600, 1200))
        rgb = Image.merge("RGB", (base, base.rotate(90).resize((1600, 1200)), Image.new("L", (1600, 1200), 90 + 5 * n)))
        draw = ImageDraw.Draw(rgb)
        for _ in range(40):
            x, y = rng.randrange(1600), rng.randrange(1200)
            w, h = rng.randrange(40, 400), rng.randrange(40, 300)
            draw.rectangle([x, y, x + w, y + h], fill=tuple(rng.randrange(256) for _ in range(3)))
        rgb = rgb.filter(ImageFilter.GaussianBlur(2))
        noise = Image.merge("RGB", [Image.effect_noise((1600, 1200), 28 + n % 5) for _ in range(3)])
        rgb = Image.blend(rgb, noise, 0.22)
        buffer = io.BytesIO()
        rgb.save(buffer, format="JPEG", quality=88)
        out.append(buffer.getvalue())
    return out


def _signature_png() -> str:
    from PIL import Image, ImageDraw

    buffer = io.BytesIO()
    image = Image.new("RGB", (240, 100), "white")
    ImageDraw.Draw(image).line([(20, 70), (80, 30), (140, 75), (220, 35)], fill="navy", width=4)
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def report_body(checklist: dict, task_id: int, lead_id: int, photo_ids: list[str]) -> dict:
    """A complete report: every yes/no item "yes" (no finding needed), numbers,
    text and choices filled; the photos declared on the checklist's items."""
    answers = {}
    for q in checklist["questions"]:
        answers[q["code"]] = {"yesno": "yes", "number": 3, "text": "Kondisi umum baik.",
                              "choice": q["options"][0]["value"] if q["options"] else ""}.get(q["type"], "na")
    codes = [q["code"] for q in checklist["questions"]]
    return {
        "client_id": f"bench-visit-{uuid.uuid4().hex[:12]}", "task_id": task_id, "checklist_id": checklist["id"],
        "announced": False, "started_at": datetime.now(UTC).isoformat(),
        "position": {"lat": LKS_POINT[0] + 0.0004, "lng": LKS_POINT[1], "accuracy_m": 12},
        "present": [
            {"kind": "member", "user_id": lead_id, "name": "Agus Setiawan", "agency": "Dinas Sosial"},
            {"kind": "lks_head", "user_id": None, "name": "Ibu Siti Aminah", "agency": ""},
        ],
        "residents_present": {"male_6_12": 4, "female_6_12": 5, "male_13_17": 3, "female_13_17": 2},
        "answers": answers, "findings": [],
        "photos": [{"client_id": pid, "question_code": codes[i % len(codes)], "finding_ref": ""} for i, pid in enumerate(photo_ids)],
        "signatures": {"lead": _signature_png(), "lks_head": _signature_png()},
        "outcome": "compliant", "summary": "Kondisi panti baik.", "internal_notes": "",
    }


async def _file_report(url: str, token: str, body: dict, photos: list[bytes], parallel: int) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    timeout = httpx.Timeout(120.0)
    limits = httpx.Limits(max_connections=parallel, max_keepalive_connections=parallel)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=timeout, limits=limits) as http:
        started = time.perf_counter()
        response = await http.post("/api/v1/visits", json=body)
        report_s = time.perf_counter() - started
        if response.status_code != 201:
            raise BenchError(f"POST /api/v1/visits answered {response.status_code}: {response.text[:800]}")
        visit_id = response.json()["id"]
        gate = asyncio.Semaphore(parallel)
        per_photo: list[float] = []

        async def send(declared: dict, data: bytes) -> None:
            async with gate:
                t0 = time.perf_counter()
                sent = await http.post(
                    f"/api/v1/visits/{visit_id}/photos",
                    data={"client_id": declared["client_id"], "question_code": declared["question_code"], "finding_ref": "",
                          "taken_at": datetime.now(UTC).isoformat(), "latitude": str(LKS_POINT[0]), "longitude": str(LKS_POINT[1])},
                    files={"file": (f"{declared['client_id']}.jpg", data, "image/jpeg")},
                )
                per_photo.append(time.perf_counter() - t0)
                if sent.status_code != 201:
                    raise BenchError(f"photo upload answered {sent.status_code}: {sent.text[:500]}")

        await asyncio.gather(*(send(d, p) for d, p in zip(body["photos"], photos, strict=True)))
        total_s = time.perf_counter() - started
        stored = (await http.get(f"/api/v1/visits/{visit_id}")).json()
    stored_photos = stored.get("photos", [])
    if len(stored_photos) != len(photos) or stored.get("photos_missing") != []:
        raise BenchError(f"visit {visit_id}: {len(stored_photos)} photos stored, photos_missing={stored.get('photos_missing')}")
    megabytes = sum(len(p) for p in photos) / 1e6
    return {
        "visit_id": visit_id, "parallel": parallel, "photos": len(photos), "photo_mb": round(megabytes, 2),
        "report_s": round(report_s, 3), "total_s": round(total_s, 3),
        "photo_median_s": round(statistics.median(per_photo), 3), "photo_max_s": round(max(per_photo), 3),
        "mb_per_s": round(megabytes / total_s, 2), "photos_per_s": round(len(photos) / total_s, 2),
    }


def measure_submit(app: SigapApp, world: dict, photos: list[bytes], parallel: int) -> list[dict]:
    app.sign_in(INSPECTOR, PASSWORD)
    with httpx.Client(base_url=app.url, cookies=app.cookies, timeout=30) as http:
        if "sigap_csrf" not in http.cookies:
            http.get("/login")
        headers = {"X-CSRFToken": http.cookies.get("sigap_csrf") or ""}
        response = http.post("/api/v1/auth/tokens", json={"name": "bench tablet", "expires_in_days": 1}, headers=headers)
    if response.status_code != 201:
        raise BenchError(f"POST /api/v1/auth/tokens answered {response.status_code}: {response.text[:500]}")
    token = response.json()["token"]
    checklists = httpx.get(app.url + "/api/v1/checklists", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    if checklists.status_code != 200:
        raise BenchError(f"GET /api/v1/checklists answered {checklists.status_code}: {checklists.text[:500]}")
    lksa = next((c for c in checklists.json()["items"] if c["lks_kind"] == "lksa"), None)
    if lksa is None:
        raise BenchError("no LKSA checklist after `sigap migrate`")
    runs = []
    for task, width in zip(world["tasks"], (1, parallel), strict=True):
        ids = [f"bench-photo-{uuid.uuid4().hex[:12]}" for _ in photos]
        body = report_body(lksa, task["id"], world["lead_id"], ids)
        runs.append(asyncio.run(_file_report(app.url, token, body, photos, width)))
    return runs


# --- the run -------------------------------------------------------------------------


def print_results(results: dict) -> None:
    kb = lambda n: f"{n / 1024:,.1f}"
    first, reload = results["page"]["first"], results["page"]["reload"]
    print(f"\n  visit form page /tasks/{{id}}/visit, 1280x800 (target: under {PAGE_TARGET_KB} KB)")
    print(f"  {'load':<12} {'network KB':>11} {'SW served KB':>13} {'from SW cache KB':>17} {'requests':>9}")
    for label, phase in (("first", first), ("reload", reload)):
        print(f"  {label:<12} {kb(phase['network_bytes']):>11} {kb(phase['sw_served_bytes']):>13} "
              f"{kb(phase['sw_cache_bytes']):>17} {len(phase['requests']):>9}")
    verdict = "met" if first["network_bytes"] < PAGE_TARGET_KB * 1024 else "MISSED"
    print(f"  target: first load {kb(first['network_bytes'])} KB over the network -> {verdict}")
    print("\n  20-photo report, PostgreSQL + S3 (SeaweedFS), bearer token")
    print(f"  {'uploads':<12} {'photos':>6} {'MB':>6} {'report s':>9} {'total s':>8} {'median/photo s':>15} {'max s':>6} {'MB/s':>6} {'photos/s':>9}")
    for run in results["submit"]:
        label = "sequential" if run["parallel"] == 1 else f"{run['parallel']} parallel"
        print(f"  {label:<12} {run['photos']:>6} {run['photo_mb']:>6.1f} {run['report_s']:>9.3f} {run['total_s']:>8.2f} "
              f"{run['photo_median_s']:>15.3f} {run['photo_max_s']:>6.2f} {run['mb_per_s']:>6.2f} {run['photos_per_s']:>9.2f}")
    print("  (total: the report POST plus every photo upload; verified: photos_missing == [])")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.visits", description="SIGAP visit report benchmark")
    parser.add_argument("--photos", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=4, help="uploads at once in the second run (default 4)")
    parser.add_argument("--postgres-admin-url", default=DEFAULT_POSTGRES_ADMIN_URL)
    parser.add_argument("--json", type=Path, default=None, metavar="FILE")
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)  # the child process that seeds
    args = parser.parse_args(argv)
    if args.seed:
        print(json.dumps(asyncio.run(_seed())))
        return 0

    if not Path(CHROMIUM).is_file():
        print(f"bench.visits FAILED: Chromium not found at {CHROMIUM} (set SIGAP_CHROMIUM)", file=sys.stderr)
        return 1
    started = datetime.now(UTC)
    machine = {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
               "loadavg": round(os.getloadavg()[0], 2)}
    print(f"SIGAP visit report benchmark ({started:%Y-%m-%d %H:%M} UTC)")
    print(f"  machine: {machine['cores']} cores, python {machine['python']}, loadavg {machine['loadavg']:.2f}")
    workdir = Path(tempfile.mkdtemp(prefix="sigap-bench-visits-"))
    try:
        with ExitStack() as stack:
            s3 = stack.enter_context(s3_server(workdir))
            print(f"  S3: SeaweedFS on {s3.endpoint_url} (started in {s3.started_in:.1f} s)")
            app = stack.enter_context(sigap_server(workdir, "postgres", args.postgres_admin_url, extra_env=s3.env("bench")))
            print(f"  SIGAP: {app.url} on a fresh PostgreSQL database")
            world = seed(app)
            photos = make_photos(args.photos)
            sizes = sorted(len(p) for p in photos)
            print(f"  photos: {len(photos)} JPEG 1600x1200, {sizes[0] / 1024:.0f}-{sizes[-1] / 1024:.0f} KB, "
                  f"{sum(sizes) / 1e6:.1f} MB in all")
            page = measure_form_page(app, world["tasks"][0]["id"])
            submit = measure_submit(app, world, photos, args.parallel)
    except BenchError as exc:
        print(f"\nbench.visits FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results = {"started": started.isoformat(), "machine": machine, "page": page, "submit": submit,
               "page_target_kb": PAGE_TARGET_KB, "page_target_met": page["first"]["network_bytes"] < PAGE_TARGET_KB * 1024}
    print_results(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, default=str))
        print(f"\n  written: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
