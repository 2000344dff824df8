"""The registry at scale: ``lks_list``, ``lks_search`` and ``lks_page``
over the generated register (``--lks``, default 100,000 LKS; ``--registry``
selects them). Each rotates through a list of realistic queries
(bench/paths.lua) and also prints each query's unloaded latency (median of a
few sequential requests), which shows which query costs what."""

from __future__ import annotations

import csv

from bench.core import LATENCY_TARGET_MS, Context, scenario
from bench.servers import ROOT, BenchError
from bench.wrk import WrkResult, run_wrk

VILLAGES_CSV = ROOT / "registry" / "data" / "kota-tangerang" / "villages.csv"


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
        flag = f"  over {LATENCY_TARGET_MS:.0f} ms" if ms > LATENCY_TARGET_MS else ""
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




@scenario("dashboard_lks", default=False, needs_lks=True, registry=True)
def dashboard_lks(ctx: Context) -> WrkResult:
    """GET / (the staff dashboard) and GET /api/v1/dashboard over the
    generated register: figures counted in the database at every request."""
    import httpx

    _require_lks(ctx, "dashboard_lks")
    ctx.check_page("/", expect_text='data-figure="total_lks"')
    body = httpx.get(ctx.app.url + "/api/v1/dashboard", headers=ctx.signed_in_headers(), timeout=60).json()
    if body.get("total_lks", 0) < ctx.lks_count:
        raise BenchError(f"GET /api/v1/dashboard counts {body.get('total_lks')} LKS, expected {ctx.lks_count:,}")
    return _rotation(ctx, "dashboard_lks", ["/", "/api/v1/dashboard"])
