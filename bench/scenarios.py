"""The benchmark scenarios: ``SCENARIOS`` maps a name to a :class:`Spec`,
whose function takes the :class:`Context` (running servers, signed-in
cookies, load settings) and returns a :class:`~bench.wrk.WrkResult` (or, for
the upload, an :class:`UploadResult`).

To add one, write a function below and decorate it with ``@scenario("name")``;
``--scenarios name`` then runs it, and it runs by default too unless it is
declared with ``default=False`` (heavy ones: ``--registry`` or ``--scenarios``
selects them). ``needs_lks=True`` makes the runner fill the database with the
generated LKS (bench/data.py, ``--lks N``) before the server starts; ``env``
gives the server the SIGAP_* settings the scenario needs. A scenario should
first check with one ordinary request that its target answers what a person
would see (a 200 page, not a redirect to /login), since a load test of error
pages measures nothing.

The registry scenarios (``lks_list``, ``lks_search``, ``lks_page``) rotate
through a list of realistic queries (bench/paths.lua) and also print each
query's unloaded latency (median of a few sequential requests), which shows
which query costs what. ``upload_200mb`` is not a wrk run: it streams one
200 MiB PDF to the document API and watches the server process's memory.
"""

from __future__ import annotations

import csv
import hashlib
import os
import statistics
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Union

import httpx

from bench.servers import ROOT, BenchError, ServerProcess, SigapApp
from bench.wrk import LoadSettings, WrkResult, run_wrk

BASELINE = "bare"  # the scenario every other one is compared with


@dataclass
class Context:
    app: SigapApp  # the real app, already signed in as BENCH_USER
    bare: ServerProcess  # the bare Litestar baseline
    load: LoadSettings
    workdir: Path | None = None  # the run's temporary folder (scenarios may put files there)
    lks_count: int = 0  # generated LKS in the database (0: none)

    def signed_in_headers(self) -> dict[str, str]:
        return {"Cookie": self.app.cookie_header}

    def check_page(self, path: str, expect_text: str = "") -> None:
        """One signed-in GET: it must be 200 (no redirect) and show ``expect_text``."""
        response = httpx.get(
            self.app.url + path, headers=self.signed_in_headers(), follow_redirects=False, timeout=30
        )
        if response.status_code != 200 or expect_text not in response.text:
            raise BenchError(
                f"GET {path} signed in answered {response.status_code}"
                f" {response.headers.get('location', '')} instead of the page: not benchmarking that"
            )

    def csrf_headers(self) -> dict[str, str]:
        """Signed-in headers for a state-changing request (the CSRF cookie echoed)."""
        token = self.app.cookies.get("sigap_csrf")
        if not token:
            raise BenchError("sign-in did not set the sigap_csrf cookie: cannot send a POST")
        return {**self.signed_in_headers(), "X-CSRFToken": token}

    def check_json(self, path: str) -> dict:
        """One signed-in GET of a JSON list: 200, with at least one item."""
        response = httpx.get(self.app.url + path, headers=self.signed_in_headers(), follow_redirects=False, timeout=60)
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict) or not body.get("items"):
            raise BenchError(
                f"GET {path} answered {response.status_code} {response.text[:300]!r}"
                " instead of a non-empty list: not benchmarking that"
            )
        return body

    def per_path_latency(self, paths: list[str], repeat: int = 5) -> dict[str, float]:
        """Each path's unloaded latency: the median of ``repeat`` sequential
        requests (after one untimed), in ms, on one keep-alive connection."""
        out: dict[str, float] = {}
        with httpx.Client(base_url=self.app.url, headers=self.signed_in_headers(), timeout=60) as client:
            for path in paths:
                client.get(path)
                times = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    client.get(path).raise_for_status()
                    times.append((time.perf_counter() - started) * 1000)
                out[path] = round(statistics.median(times), 2)
        return out


@dataclass
class UploadResult:
    """What ``upload_200mb`` measured (memory in MiB of the server process)."""

    scenario: str
    size_mib: float
    seconds: float
    mib_per_s: float
    rss_before_mib: float  # VmRSS after the warm-up, just before the upload
    peak_hwm_mib: float  # VmHWM after the upload (peak RSS, reset just before it)
    peak_sampled_mib: float  # highest VmRSS seen every 50 ms during the upload
    rss_after_mib: float
    growth_mib: float  # max(peak_hwm, peak_sampled) - rss_before
    client_growth_mib: float  # the same for the uploading (bench) process
    hwm_reset: bool  # whether /proc/PID/clear_refs reset VmHWM before the upload
    status: int
    verified: bool  # size and SHA-256 of the stored row (and object) match the file
    detail: str = ""
    limit_mib: float = 50.0

    @property
    def within_limit(self) -> bool:
        return self.growth_mib < self.limit_mib

    def to_dict(self) -> dict:
        return {**asdict(self), "within_limit": self.within_limit}


Result = Union[WrkResult, UploadResult]
Scenario = Callable[[Context], Result]


@dataclass(frozen=True)
class Spec:
    name: str
    fn: Scenario
    default: bool = True  # runs when --scenarios is not given
    needs_lks: bool = False  # needs the generated LKS in the database
    env: Mapping[str, str] = field(default_factory=dict)  # server settings it needs
    registry: bool = False  # selected by --registry

    def __call__(self, ctx: Context) -> Result:
        return self.fn(ctx)


SCENARIOS: dict[str, Spec] = {}


def scenario(
    name: str,
    *,
    default: bool = True,
    needs_lks: bool = False,
    env: Mapping[str, str] | None = None,
    registry: bool = False,
) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        SCENARIOS[name] = Spec(name, fn, default=default, needs_lks=needs_lks, env=dict(env or {}), registry=registry)
        return fn

    return register


def default_scenarios() -> list[str]:
    return [name for name, spec in SCENARIOS.items() if spec.default]


def registry_scenarios() -> list[str]:
    return [name for name, spec in SCENARIOS.items() if spec.registry]


@scenario(BASELINE)
def bare(ctx: Context) -> WrkResult:
    """A Litestar handler returning "ok": the floor of any page's cost."""
    return run_wrk(BASELINE, ctx.bare.url + "/", ctx.load)


@scenario("dashboard")
def dashboard(ctx: Context) -> WrkResult:
    """GET / signed in: session looked up in the database, Jinja home page."""
    ctx.check_page("/", expect_text=ctx.app.username)
    return run_wrk("dashboard", ctx.app.url + "/", ctx.load, headers=ctx.signed_in_headers())


# --- the registry at scale (100,000 LKS) --------------------------------------------

VILLAGES_CSV = ROOT / "registry" / "data" / "kota-tangerang" / "villages.csv"
LATENCY_TARGET_MS = 100.0  # p95 of list and search, from the issue


def _kecamatan_codes() -> list[str]:
    with VILLAGES_CSV.open(newline="", encoding="utf-8") as fh:
        return sorted({row["district_code"] for row in csv.DictReader(fh)})


def lks_list_paths() -> list[str]:
    """What staff do with the register: first page, deep page, the filters
    of the list page, every sort order the page offers. Values rotate (kecamatan, kinds...)
    so that consecutive requests do not repeat one query."""
    kec = _kecamatan_codes()
    base = "/api/v1/lks"
    return [
        base,
        f"{base}?page=50",
        f"{base}?kecamatan={kec[10]}",
        f"{base}?kind=lksa&registration_status=registered",
        f"{base}?open_incident=1",
        f"{base}?documents_missing=1",
        f"{base}?sort=-name",
        f"{base}?sort=valid_until",
        f"{base}?kecamatan={kec[3]}&page=4",
        f"{base}?kind=elderly&registration_status=expired",
        f"{base}?kecamatan={kec[6]}&open_incident=1",
        f"{base}?kind=disability&documents_missing=1&sort=-name",
        f"{base}?sort=valid_until&page=20",
        f"{base}?kecamatan={kec[0]}&kind=lksa&registration_status=registered&sort=valid_until",
        f"{base}?accreditation_status=accredited&risk_level=high",
        f"{base}?page=2&per_page=100",
        f"{base}?sort=updated",
        f"{base}?sort=status&kind=elderly",
        f"{base}?sort=kecamatan&registration_status=registered&page=3",
    ]


# Search words: many matches (kasih ~9 %, werdha, nugroho), few (vincentius,
# modernland), two words, a number, and one with accents (thérèse: matches
# "Thérèse" stored as "therese" in search_text).
SEARCH_WORDS = ["kasih", "werdha", "nugroho", "thérèse", "vincentius", "kasih bunda", "daan mogot", "modernland", "harapan 12", "siregar"]


def lks_search_paths() -> list[str]:
    from urllib.parse import urlencode

    return [f"/api/v1/lks?{urlencode({'q': word})}" for word in SEARCH_WORDS]


def lks_page_paths() -> list[str]:
    kec = _kecamatan_codes()
    return [
        f"/lks?kecamatan={kec[10]}&kind=lksa",
        f"/lks?kecamatan={kec[2]}&registration_status=registered",
        "/lks?q=kasih&kind=elderly",
        f"/lks?kecamatan={kec[7]}&documents_missing=1&sort=valid_until",
        "/lks",
    ]


def _require_lks(ctx: Context, name: str) -> None:
    if not ctx.lks_count:
        raise BenchError(f"{name} needs the generated LKS (the runner adds them for this scenario)")


def _print_per_path(per_path: dict[str, float]) -> None:
    width = max(len(p) for p in per_path)
    for path, ms in per_path.items():
        flag = "  over 100 ms" if ms > LATENCY_TARGET_MS else ""
        print(f"      {path.ljust(width)}  {ms:8.2f} ms{flag}", flush=True)


def _rotation(ctx: Context, name: str, paths: list[str]) -> WrkResult:
    print(f"    unloaded latency per query (median of 5 sequential requests, {ctx.lks_count:,} LKS):", flush=True)
    per_path = ctx.per_path_latency(paths)
    _print_per_path(per_path)
    result = run_wrk(name, ctx.app.url + paths[0], ctx.load, headers=ctx.signed_in_headers(), paths=paths)
    result.per_path_ms = per_path
    return result


@scenario("lks_list", default=False, needs_lks=True, registry=True)
def lks_list(ctx: Context) -> WrkResult:
    """GET /api/v1/lks: filters, sorts and pages over the generated register."""
    _require_lks(ctx, "lks_list")
    paths = lks_list_paths()
    first = ctx.check_json(paths[0])
    if first.get("total") != ctx.lks_count:
        raise BenchError(f"GET {paths[0]} counts {first.get('total')} LKS, expected {ctx.lks_count:,}")
    for path in paths[1:]:
        ctx.check_json(path)
    return _rotation(ctx, "lks_list", paths)


@scenario("lks_search", default=False, needs_lks=True, registry=True)
def lks_search(ctx: Context) -> WrkResult:
    """GET /api/v1/lks?q=word: search words matching thousands of LKS or a few."""
    _require_lks(ctx, "lks_search")
    paths = lks_search_paths()
    totals = []
    for path in paths:
        body = ctx.check_json(path)
        totals.append(body["total"])
    accented = paths[SEARCH_WORDS.index("thérèse")]
    for item in ctx.check_json(accented)["items"]:
        if "thérèse" not in (item["name"] + " " + item["yayasan_name"]).lower():
            raise BenchError(f"GET {accented} found {item['name']!r}, which has no Thérèse")
    print("    matches: " + ", ".join(f"{w!r} {t:,}" for w, t in zip(SEARCH_WORDS, totals)), flush=True)
    return _rotation(ctx, "lks_search", paths)


@scenario("lks_page", default=False, needs_lks=True, registry=True)
def lks_page(ctx: Context) -> WrkResult:
    """GET /lks?filters: the HTML list page (query, region names, Jinja)."""
    _require_lks(ctx, "lks_page")
    paths = lks_page_paths()
    for path in paths:
        api = ctx.check_json(path.replace("/lks", "/api/v1/lks", 1))
        ctx.check_page(path, expect_text=api["items"][0]["name"])
    return _rotation(ctx, "lks_page", paths)


# --- a 200 MB upload ----------------------------------------------------------------

UPLOAD_MIB = 200
MIB = 1024 * 1024
BENCH_LKS = {  # a valid LKS body (as tests/conftest.py LKS_DEFAULTS)
    "name": "LKSA Uji Unggah Besar",
    "kind": "lksa",
    "legal_entity": True,
    "yayasan_name": "Yayasan Uji Coba",
    "address": "Jl. Melati No. 1",
    "rt": "001",
    "rw": "002",
    "kelurahan_code": "36.71.11.1005",
    "capacity": 30,
}


def _status_kib(pid: int | str, key: str) -> int:
    """A ``VmRSS``/``VmHWM`` line of /proc/PID/status, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise BenchError(f"/proc/{pid}/status has no {key}")


def _reset_hwm(pid: int | str) -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return _status_kib(pid, "VmHWM") <= _status_kib(pid, "VmRSS") + 1024


def _listening_pid_check(pid: int, port: int) -> None:
    """The process we started must be the one listening on ``port`` (``sigap
    serve`` runs uvicorn in-process; no reloader, no worker children)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                inodes.add(fields[9])
    owned = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            owned.add(target[8:-1])
    if not inodes or not inodes & owned:
        raise BenchError(f"process {pid} does not hold the listening socket of port {port}: measuring the wrong process")
    children = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += (task / "children").read_text().split()
    if children:
        raise BenchError(f"process {pid} has children {children}: the server may run in one of them")


class _Sampler(threading.Thread):
    """VmRSS of a process every ``interval`` s; keeps the highest."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kib = 0
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.peak_kib = max(self.peak_kib, _status_kib(self.pid, "VmRSS"))
                self.samples += 1
            except (OSError, BenchError):
                return
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)


def _make_pdf(path: Path, size: int) -> str:
    """A ``size``-byte file that starts like a PDF; returns its SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        head = b"%PDF-1.4\n"
        out.write(head)
        digest.update(head)
        left = size - len(head)
        while left > 0:
            chunk = os.urandom(min(MIB, left))
            out.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def _sha256_file(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _upload(client: httpx.Client, lks_id: int, path: Path, headers: dict[str, str]) -> httpx.Response:
    # httpx streams a file object of a multipart body in 64 KiB reads (its
    # length comes from seek/tell): the file is never in the client's memory.
    with path.open("rb") as fh:
        return client.post(
            f"/api/v1/lks/{lks_id}/documents",
            headers=headers,
            data={"doc_type": "other"},
            files={"file": (path.name, fh, "application/pdf")},
        )


@scenario("upload_200mb", default=False, env={"SIGAP_MAX_UPLOAD_MB": "250"}, registry=True)
def upload_200mb(ctx: Context) -> UploadResult:
    """POST /api/v1/lks/{id}/documents with a 200 MiB PDF, streamed; the server
    process's peak RSS must grow by less than 50 MiB."""
    if ctx.workdir is None:
        raise BenchError("upload_200mb needs a working folder")
    pid = ctx.app.server.pid
    _listening_pid_check(pid, ctx.app.server.port)
    headers = ctx.csrf_headers()
    size = UPLOAD_MIB * MIB
    with httpx.Client(base_url=ctx.app.url, timeout=httpx.Timeout(600, connect=10)) as client:
        created = client.post("/api/v1/lks", json=BENCH_LKS, headers=headers)
        if created.status_code != 201:
            raise BenchError(f"POST /api/v1/lks answered {created.status_code}: {created.text[:500]}")
        lks_id = created.json()["id"]

        big = ctx.workdir / "bench-upload-200mib.pdf"
        started = time.perf_counter()
        expected_sha = _make_pdf(big, size)
        print(f"    {UPLOAD_MIB} MiB file written in {time.perf_counter() - started:.1f} s", flush=True)

        # Warm-up: a 2 MiB upload through the same path (imports, thread
        # pool, multipart parser, a spooled file rolled to disk), so what
        # follows measures what the size costs, not first-use costs.
        small = ctx.workdir / "bench-upload-warmup.pdf"
        _make_pdf(small, 2 * MIB)
        warm = _upload(client, lks_id, small, headers)
        if warm.status_code != 201:
            raise BenchError(f"warm-up upload answered {warm.status_code}: {warm.text[:500]}")
        client.get(f"/api/v1/lks/{lks_id}/documents", headers=headers).raise_for_status()
        time.sleep(0.5)

        hwm_reset = _reset_hwm(pid)
        _reset_hwm("self")
        rss_before = _status_kib(pid, "VmRSS")
        client_before = _status_kib("self", "VmRSS")
        sampler = _Sampler(pid)
        sampler.start()
        started = time.perf_counter()
        try:
            response = _upload(client, lks_id, big, headers)
        finally:
            seconds = time.perf_counter() - started
            sampler.stop()
        peak_hwm = _status_kib(pid, "VmHWM")
        rss_after = _status_kib(pid, "VmRSS")
        client_peak = _status_kib("self", "VmHWM")

        problems = []
        if response.status_code != 201:
            problems.append(f"upload answered {response.status_code}: {response.text[:300]}")
        else:
            doc = response.json()
            listed = client.get(f"/api/v1/lks/{lks_id}/documents", headers=headers).json()["items"]
            row = next((d for d in listed if d["id"] == doc["id"]), None)
            if row is None:
                problems.append(f"document {doc['id']} is not in the LKS's list")
            else:
                if row["size"] != size:
                    problems.append(f"stored size {row['size']} != {size}")
                if row["sha256"] != expected_sha:
                    problems.append(f"stored SHA-256 {row['sha256']} != {expected_sha}")
                if row["content_type"] != "application/pdf":
                    problems.append(f"content type {row['content_type']}")
            stored = [p for p in (ctx.workdir / "documents" / "lks" / str(lks_id)).glob("*.pdf") if p.stat().st_size == size]
            if len(stored) != 1 or _sha256_file(stored[0]) != expected_sha:
                problems.append("the stored object is missing or differs from the file")
    big.unlink(missing_ok=True)
    small.unlink(missing_ok=True)

    mib = 1024.0
    peak = max(peak_hwm if hwm_reset else 0, sampler.peak_kib)
    return UploadResult(
        scenario="upload_200mb",
        size_mib=size / MIB,
        seconds=round(seconds, 2),
        mib_per_s=round(size / MIB / seconds, 1),
        rss_before_mib=round(rss_before / mib, 1),
        peak_hwm_mib=round(peak_hwm / mib, 1),
        peak_sampled_mib=round(sampler.peak_kib / mib, 1),
        rss_after_mib=round(rss_after / mib, 1),
        growth_mib=round((peak - rss_before) / mib, 1),
        client_growth_mib=round((client_peak - client_before) / mib, 1),
        hwm_reset=hwm_reset,
        status=response.status_code,
        verified=not problems,
        detail="; ".join(problems) or f"{sampler.samples} RSS samples; size and SHA-256 of row and object match",
    )
