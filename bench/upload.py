"""``upload_200mb``: not a wrk run. It streams one 200 MiB PDF to the
document API and watches the server process's memory (peak RSS growth must
stay under 50 MiB). The server runs with one worker for it
(``SIGAP_WORKERS=1``): the memory watched is the process that holds the
listening socket, so it must be the one serving."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import httpx

from bench.core import Context, UploadResult, scenario
from bench.servers import BenchError

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


@scenario("upload_200mb", default=False, env={"SIGAP_MAX_UPLOAD_MB": "250", "SIGAP_WORKERS": "1"}, registry=True, once=True)
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
