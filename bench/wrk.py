"""Running wrk and reading its result line (printed by bench/report.lua)."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench.servers import HOST, BenchError

REPORT_LUA = Path(__file__).resolve().with_name("report.lua")
PATHS_LUA = Path(__file__).resolve().with_name("paths.lua")  # report.lua + a rotation of paths
MARKER = "BENCH_RESULT "


@dataclass(frozen=True)
class LoadSettings:
    duration: int  # seconds of measurement per scenario
    connections: int
    threads: int
    warmup: int = 2  # seconds of untimed load before the measurement
    # wrk drops a response slower than its timeout (default 2 s) from the
    # latency figures and counts it as a socket error: a long timeout keeps
    # slow responses in p95/p99 where they belong.
    timeout: int = 30


@dataclass
class WrkResult:
    scenario: str
    url: str
    command: str  # the wrk command line, cookie values elided
    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    non2xx: int
    socket_errors: dict[str, int] = field(default_factory=dict)  # connect, read, write, timeout
    require_2xx: bool = True  # a scenario that expects errors sets this False
    paths: list[str] = field(default_factory=list)  # the rotation, when the scenario has one
    # Unloaded latency of each path (median of a few sequential requests), in ms.
    per_path_ms: dict[str, float] = field(default_factory=dict)

    @property
    def socket_error_count(self) -> int:
        return sum(self.socket_errors.values())

    def to_dict(self) -> dict:
        return asdict(self)


def wrk_version() -> str:
    path = shutil.which("wrk")
    if not path:
        return "not installed"
    # `wrk -v` prints its version line and exits with status 1.
    out = subprocess.run([path, "-v"], capture_output=True, text=True).stdout
    return out.splitlines()[0].strip() if out else "unknown"


def _argv(
    url: str, seconds: int, load: LoadSettings, headers: dict[str, str], paths_file: Path | None = None
) -> list[str]:
    script = PATHS_LUA if paths_file else REPORT_LUA
    argv = ["wrk", f"-t{load.threads}", f"-c{load.connections}", f"-d{seconds}s", f"--timeout={load.timeout}s"]
    argv += ["--latency", "-s", str(script)]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    argv.append(url)
    if paths_file:
        argv += ["--", str(paths_file)]
    return argv


def _shown(argv: list[str]) -> str:
    """The command as printed: cookie values replaced by '…' (they are
    random session keys of a throw-away database, and long)."""
    shown = []
    for arg in argv:
        if arg.lower().startswith("cookie:"):
            pairs = [p.strip().split("=", 1)[0] + "=…" for p in arg.split(":", 1)[1].split(";")]
            arg = "Cookie: " + "; ".join(pairs)
        shown.append(arg)
    return (
        shlex.join(shown)
        .replace(str(REPORT_LUA), "bench/report.lua")
        .replace(str(PATHS_LUA), "bench/paths.lua")
    )


def _run(argv: list[str], seconds: int) -> dict:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 90)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk did not finish: {_shown(argv)}") from exc
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARKER)]
    if proc.returncode != 0 or not lines:
        raise BenchError(f"wrk failed ({proc.returncode}): {_shown(argv)}\n{proc.stdout}{proc.stderr}")
    return json.loads(lines[-1][len(MARKER) :])


def run_wrk(
    scenario: str,
    url: str,
    load: LoadSettings,
    headers: dict[str, str] | None = None,
    paths: list[str] | None = None,
) -> WrkResult:
    """Warm ``url`` up for ``load.warmup`` s (discarded), then measure it.

    With ``paths`` (each starting with "/"), every request asks for the next
    path of the list in turn (bench/paths.lua) on the host of ``url``."""
    if urlsplit(url).hostname != HOST:
        raise BenchError(f"benchmarks load {HOST} only, not {url}")
    if not shutil.which("wrk"):
        raise BenchError("wrk is not installed (scripts/bench-deps.sh installs it: apt-get install wrk)")
    headers = headers or {}
    if paths and not all(p.startswith("/") and "\n" not in p for p in paths):
        raise BenchError(f"{scenario}: every path must start with / and be one line")
    with tempfile.TemporaryDirectory(prefix="sigap-bench-paths-") as folder:
        paths_file = None
        if paths:
            paths_file = Path(folder) / f"{scenario}.paths"
            paths_file.write_text("\n".join(paths) + "\n")
        if load.warmup > 0:
            _run(_argv(url, load.warmup, load, headers, paths_file), load.warmup)
        argv = _argv(url, load.duration, load, headers, paths_file)
        raw = _run(argv, load.duration)
    duration_s = raw["duration_us"] / 1e6
    command = _shown(argv)
    if paths_file:
        command = command.replace(str(paths_file), f"{scenario}.paths")
    return WrkResult(
        scenario=scenario,
        url=url,
        command=command,
        requests=raw["requests"],
        duration_s=round(duration_s, 3),
        rps=raw["requests"] / duration_s if duration_s else 0.0,
        p50_ms=raw["p50_us"] / 1000,
        p95_ms=raw["p95_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        mean_ms=raw["mean_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        non2xx=raw["non2xx"],
        socket_errors={k: raw[f"errors_{k}"] for k in ("connect", "read", "write", "timeout")},
        paths=list(paths or []),
    )
