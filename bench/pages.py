"""The default scenarios of ``make bench``: the bare endpoint and every main
page and JSON list of SIGAP, signed in as the role that uses it, on the demo
world (bench/world.py: accounts of every role, 72 LKS, tasks and alerts
from the jobs)."""

from __future__ import annotations

import httpx

from bench.core import BASELINE, Context, scenario
from bench.servers import BenchError
from bench.wrk import WrkResult, run_wrk


@scenario(BASELINE)
def bare(ctx: Context) -> WrkResult:
    """A Litestar handler returning "ok": the floor of any page's cost."""
    return run_wrk(BASELINE, ctx.bare.url + "/", ctx.load)


@scenario("floor_app")
def floor_app(ctx: Context) -> WrkResult:
    """GET /healthz of SIGAP: the app's own middleware, guards and JSON,
    no session read and no database. No page can be faster than this."""
    return run_wrk("floor_app", ctx.app.url + "/healthz", ctx.load)


@scenario("floor_signed_in", needs_world=True)
def floor_signed_in(ctx: Context) -> WrkResult:
    """GET /api/v1/auth/me signed in as staff: the session and the user resolved,
    one read, a small JSON answer. The ceiling of any signed-in page."""
    answer = httpx.get(ctx.app.url + "/api/v1/auth/me", headers=ctx.signed_in_headers("staff"), timeout=30)
    if answer.status_code != 200 or "user" not in answer.json():
        raise BenchError(f"GET /api/v1/auth/me as staff answered {answer.status_code}: not benchmarking that")
    return run_wrk("floor_signed_in", ctx.app.url + "/api/v1/auth/me", ctx.load, headers=ctx.signed_in_headers("staff"))


# name -> (role, path) of every page scenario (bench.profile times the same pages in-process).
PAGE_PATHS: dict[str, tuple[str, str]] = {}


def _page(name: str, role: str, path: str, expect: str = "") -> WrkResult:
    """Register a page scenario: GET ``path`` (``{lks}``/``{task}`` filled
    from the world) signed in as ``role``."""
    PAGE_PATHS[name] = (role, path)

    def run(ctx: Context) -> WrkResult:
        url_path = path.format(**ctx.world)
        if url_path.startswith("/api/"):
            ctx.check_json(url_path, role=role)
        else:
            ctx.check_page(url_path, expect_text=expect, role=role)
        return run_wrk(name, ctx.app.url + url_path, ctx.load, headers=ctx.signed_in_headers(role))

    run.__doc__ = f"GET {path} signed in as the demo {role}."
    scenario(name, needs_world=True)(run)
    return run


PAGE_PATHS["floor_signed_in"] = ("staff", "/api/v1/auth/me")  # bench.profile times it too

# The home page of each role (its own dashboard).
for _role in ("staff", "admin", "inspector", "partner", "manager"):
    _page(f"home_{_role}", _role, "/")

_page("lks_list_page", "staff", "/lks")
_page("lks_detail", "staff", "/lks/{lks}")
_page("task_list", "staff", "/tasks")
_page("task_page", "staff", "/tasks/{task}")
_page("alerts_inbox", "staff", "/alerts")
_page("calendar", "staff", "/tasks/calendar")
_page("visit_form", "inspector", "/tasks/{task}/visit")
_page("api_lks", "staff", "/api/v1/lks")
_page("api_tasks", "staff", "/api/v1/tasks")
_page("api_alerts", "staff", "/api/v1/alerts")
