"""The benchmark scenarios: ``SCENARIOS`` maps a name to a function that
takes the :class:`Context` (running servers, signed-in cookies, load
settings) and returns a :class:`~bench.wrk.WrkResult`.

To add one, write a function below and decorate it with ``@scenario("name")``;
``--scenarios name`` then runs it, and it runs by default too. A scenario
should first check with one ordinary request that its target answers what a
person would see (a 200 page, not a redirect to /login), since a load test of
error pages measures nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bench.servers import BenchError, ServerProcess, SigapApp
from bench.wrk import LoadSettings, WrkResult, run_wrk

BASELINE = "bare"  # the scenario every other one is compared with


@dataclass
class Context:
    app: SigapApp  # the real app, already signed in as BENCH_USER
    bare: ServerProcess  # the bare Litestar baseline
    load: LoadSettings

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


Scenario = Callable[[Context], WrkResult]
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    def register(fn: Scenario) -> Scenario:
        SCENARIOS[name] = fn
        return fn

    return register


@scenario(BASELINE)
def bare(ctx: Context) -> WrkResult:
    """A Litestar handler returning "ok": the floor of any page's cost."""
    return run_wrk(BASELINE, ctx.bare.url + "/", ctx.load)


@scenario("dashboard")
def dashboard(ctx: Context) -> WrkResult:
    """GET / signed in: session looked up in the database, Jinja home page."""
    ctx.check_page("/", expect_text=ctx.app.username)
    return run_wrk("dashboard", ctx.app.url + "/", ctx.load, headers=ctx.signed_in_headers())
