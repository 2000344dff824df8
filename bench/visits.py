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
import time
import uuid
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench.servers import (
    DEFAULT_POSTGRES_ADMIN_URL,
    ROOT,
    BenchError,
    SigapApp,
    sigap_server,
)
from bench.visit_form import (
    CHROMIUM,
    INSPECTOR,
    LKS_POINT,
    PAGE_TARGET_KB,
    PASSWORD,
    measure_form_page,
)

STAFF_USER = "petugas"
KECAMATAN = "36.71.11"  # Pinang
KELURAHAN = "36.71.11.1005"  # Kunciran Indah


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
