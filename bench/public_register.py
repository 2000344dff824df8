"""The public register at scale (issue 8): ``public_register`` (the HTML
page ``/register?q=...``) and ``public_lks_api`` (``GET
/api/v1/public/lks?q=...``), searched by a visitor without a session over
the generated register (``--lks``, default 100,000 LKS; ``--registry``
selects them). The public pages are rate-limited per address; every wrk
request comes from 127.0.0.1, so the server runs with
``SIGAP_PUBLIC_RATE_LIMIT`` raised to its maximum (the limit is still
counted on every request: its cost is measured, its 429s are not)."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx

from bench.core import Context, scenario
from bench.registry_scenarios import _kecamatan_codes, _print_per_path, _require_lks
from bench.servers import BenchError
from bench.wrk import WrkResult, run_wrk

RATE_LIMIT_ENV = {"SIGAP_PUBLIC_RATE_LIMIT": "100000"}  # a minute, per address: the settings' maximum

# What the public types: a word of the name matching thousands of LKS
# (kasih, werdha) or a few (vincentius, benoît with its accent), two words,
# the number of one home, narrowed by kecamatan or kind, and a second page.
PUBLIC_SEARCHES: list[dict[str, str]] = [
    {"q": "kasih"},
    {"q": "panti werdha"},
    {"q": "vincentius"},
    {"q": "benoît"},
    {"q": "cahaya harapan"},
    {"q": "mentari", "kind": "lksa"},
    {"q": "bunda", "kecamatan": "{kec2}"},
    {"q": "asrama yatim", "page": "2"},
    {"q": "rumah lansia", "kecamatan": "{kec7}"},
    {"q": "harapan 123"},
]


def _queries() -> list[str]:
    kec = _kecamatan_codes()
    fill = {"kec2": kec[2], "kec7": kec[7]}
    return [urlencode({k: v.format(**fill) for k, v in search.items()}) for search in PUBLIC_SEARCHES]


def public_paths(api: bool) -> list[str]:
    base = "/api/v1/public/lks" if api else "/register"
    return [f"{base}?{query}" for query in _queries()]


def _check(ctx: Context, paths: list[str], api: bool) -> None:
    """Each query answers 200 to a visitor (no cookie) with results; the JSON
    and the page agree on the first name."""
    totals = []
    for path in paths:
        response = httpx.get(ctx.app.url + path, follow_redirects=False, timeout=60)
        if response.status_code != 200:
            raise BenchError(f"GET {path} answered {response.status_code}: not benchmarking that")
        if api:
            body = response.json()
            if not body.get("items"):
                raise BenchError(f"GET {path} found nothing: not benchmarking an empty search")
            totals.append(body["total"])
        else:
            api_path = path.replace("/register", "/api/v1/public/lks", 1)
            first = httpx.get(ctx.app.url + api_path, timeout=60).json()["items"][0]["name"]
            if first not in response.text:
                raise BenchError(f"GET {path} does not show {first!r}, the API's first match")
    if totals:
        print("    matches: " + ", ".join(f"{p.split('?', 1)[1]} {t:,}" for p, t in zip(paths, totals)), flush=True)


def _run(ctx: Context, name: str, api: bool) -> WrkResult:
    _require_lks(ctx, name)
    paths = public_paths(api)
    _check(ctx, paths, api)
    print(f"    unloaded latency per query (median of 5 sequential requests, {ctx.lks_count:,} LKS):", flush=True)
    per_path = ctx.per_path_latency(paths, headers={})
    _print_per_path(per_path)
    result = run_wrk(name, ctx.app.url + paths[0], ctx.load, paths=paths)
    result.per_path_ms = per_path
    return result


@scenario("public_register", default=False, needs_lks=True, registry=True, env=RATE_LIMIT_ENV)
def public_register(ctx: Context) -> WrkResult:
    """GET /register?q=...: the public register page, searched by a visitor."""
    return _run(ctx, "public_register", api=False)


@scenario("public_lks_api", default=False, needs_lks=True, registry=True, env=RATE_LIMIT_ENV)
def public_lks_api(ctx: Context) -> WrkResult:
    """GET /api/v1/public/lks?q=...: the public register's JSON, searched by a visitor."""
    return _run(ctx, "public_lks_api", api=True)
