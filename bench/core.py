"""What every benchmark scenario shares: the :class:`Context` a scenario gets
(running servers, signed-in sessions, the seeded world's ids, load
settings), the :class:`Spec` registry ``SCENARIOS`` and its ``@scenario``
decorator, and :class:`UploadResult`.

To add a scenario, write a function in one of the scenario modules
(``bench.pages``, ``bench.registry_scenarios``, ``bench.upload``) and
decorate it with ``@scenario("name")``; ``--scenarios name`` then runs it,
and it runs by default too unless declared ``default=False`` (heavy ones:
``--registry`` or ``--scenarios`` selects them). ``needs_lks=True`` makes the
runner fill the database with the generated LKS (bench/data.py, ``--lks
N``) before the server starts; ``needs_world=True`` has it load the demo
data (``sigap demo``: accounts of every role, 72 LKS, teams) and run the
plan and alerts jobs, so tasks and alerts exist, and sign every role in;
``env`` gives the server the SIGAP_* settings the scenario needs. A
scenario first checks with one ordinary request that its target answers
what a person would see (a 200 page, not a redirect to /login), since a
load test of error pages measures nothing.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Union

import httpx

from bench.servers import BenchError, ServerProcess, SigapApp
from bench.wrk import LoadSettings, WrkResult

BASELINE = "bare"  # the scenario every other one is compared with
LATENCY_TARGET_MS = 50.0  # p95 of list, search and list page with one user (issue 13)
LATENCY_TARGET_MANY_MS = 100.0  # ... and with 16 users on the default workers


@dataclass
class Context:
    app: SigapApp  # the real app, already signed in as BENCH_USER (staff)
    bare: ServerProcess  # the bare Litestar baseline
    load: LoadSettings
    workdir: Path | None = None  # the run's temporary folder (scenarios may put files there)
    lks_count: int = 0  # generated LKS in the database (0: none)
    # role → cookies of a signed-in demo account (needs_world scenarios)
    sessions: dict[str, dict[str, str]] = field(default_factory=dict)
    world: dict[str, int] = field(default_factory=dict)  # ids the page scenarios open (bench.world)

    def signed_in_headers(self, role: str | None = None) -> dict[str, str]:
        if role is None:
            return {"Cookie": self.app.cookie_header}
        if role not in self.sessions:
            raise BenchError(f"no signed-in {role} session: the scenario needs the demo world")
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.sessions[role].items())}

    def check_page(self, path: str, expect_text: str = "", role: str | None = None) -> None:
        """One signed-in GET: it must be 200 (no redirect) and show ``expect_text``."""
        response = httpx.get(
            self.app.url + path, headers=self.signed_in_headers(role), follow_redirects=False, timeout=30
        )
        if response.status_code != 200 or expect_text not in response.text:
            raise BenchError(
                f"GET {path} signed in as {role or self.app.username} answered {response.status_code}"
                f" {response.headers.get('location', '')} instead of the page: not benchmarking that"
            )

    def csrf_headers(self) -> dict[str, str]:
        """Signed-in headers for a state-changing request (the CSRF cookie echoed)."""
        token = self.app.cookies.get("sigap_csrf")
        if not token:
            raise BenchError("sign-in did not set the sigap_csrf cookie: cannot send a POST")
        return {**self.signed_in_headers(), "X-CSRFToken": token}

    def check_json(self, path: str, role: str | None = None) -> dict:
        """One signed-in GET of a JSON list: 200, with at least one item."""
        response = httpx.get(
            self.app.url + path, headers=self.signed_in_headers(role), follow_redirects=False, timeout=60
        )
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

    def per_path_latency(
        self, paths: list[str], repeat: int = 5, headers: dict[str, str] | None = None
    ) -> dict[str, float]:
        """Each path's unloaded latency: the median of ``repeat`` sequential
        requests (after one untimed), in ms, on one keep-alive connection
        (signed in, unless ``headers`` are given: ``{}`` for a visitor)."""
        out: dict[str, float] = {}
        headers = self.signed_in_headers() if headers is None else headers
        with httpx.Client(base_url=self.app.url, headers=headers, timeout=60) as client:
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
    needs_world: bool = False  # needs the demo world (accounts of every role, tasks, alerts)
    once: bool = False  # not a wrk run: runs once, not per connection count

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
    needs_world: bool = False,
    once: bool = False,
) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        SCENARIOS[name] = Spec(
            name, fn, default=default, needs_lks=needs_lks, env=dict(env or {}), registry=registry,
            needs_world=needs_world, once=once,
        )
        return fn

    return register


def default_scenarios() -> list[str]:
    return [name for name, spec in SCENARIOS.items() if spec.default]


def registry_scenarios() -> list[str]:
    return [name for name, spec in SCENARIOS.items() if spec.registry]
