"""In-process timings of the main pages: less noisy than wrk on a busy
machine. Builds the demo world (bench/world.py) on a fresh database, then
sends N sequential requests per page through the ASGI app in this process
(no sockets, no workers) and prints, per page, the statements it runs,
the latency (median, p95) and the CPU per request, with the time spent
waiting for the database and rendering templates (CPU and those two: the
best of rounds of 20 requests, the round least disturbed by other work on
the machine); ``--cprofile DIR`` also writes a cProfile
file per page (read it with ``python -m pstats``).

    python -m bench.profile --database sqlite --requests 200
    python -m bench.profile --keep /tmp/world --pages lks_detail --cprofile /tmp/prof

``--keep DIR`` keeps the world in DIR and reuses it on the next run
(the demo data takes a while to load; on PostgreSQL DIR names the kept
database, dropped with ``--drop-kept``).

``--lks N`` first adds N generated LKS (bench/data.py, as ``bench.run
--registry``) and offers the register's pages at that scale: ``lks_list``,
``lks_search`` and ``lks_page`` each rotate through the queries of the wrk
scenarios of the same name (bench/registry_scenarios.py), ``map_api`` and
``map_page`` are the unfiltered map:

    python -m bench.profile --lks 100000 --keep /tmp/w100k --pages lks_list,lks_search,lks_page,map_api"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench.pages import PAGE_PATHS
from bench.registry_scenarios import lks_list_paths, lks_page_paths, lks_search_paths
from bench.servers import (
    DEFAULT_POSTGRES_ADMIN_URL, SERVER_SETTINGS, _pg_admin, _require_loopback, child_env, fill_lks, postgres_database,
    run_cli,
)

# The register at scale (--lks): name -> the paths a staff member's requests rotate through.
REGISTRY_PATHS: dict[str, list[str]] = {
    "lks_list": lks_list_paths(),
    "lks_search": lks_search_paths(),
    "lks_page": lks_page_paths(),
    "map_api": ["/api/v1/map/lks"],
    "map_page": ["/map"],
}


ROUND = 20  # requests per timed round


def _env(workdir: Path, database_url: str) -> dict[str, str]:
    return child_env(
        {
            "SIGAP_VAR_DIR": str(workdir / "var"),
            "SIGAP_DATABASE_URL": database_url,
            "SIGAP_STORAGE_URL": f"file://{workdir / 'documents'}",
            "SIGAP_SECRET_KEY": "bench-secret-key-not-for-production",
            **SERVER_SETTINGS,
            "SIGAP_LOG_LEVEL": "ERROR",
        }
    )


async def _call(app, method: str, path: str, body: bytes = b"", cookie: str = "") -> tuple[int, bytes, list[str]]:
    """One request straight through the ASGI app, in this event loop (a
    test client would run the app in another thread, out of the profiler's
    sight): status, body, the Set-Cookie values."""
    raw_path, _sep, query = path.partition("?")
    headers = [(b"host", b"127.0.0.1"), (b"accept", b"text/html,application/json")]
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": raw_path, "raw_path": raw_path.encode(), "query_string": query.encode(), "root_path": "",
        "headers": headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80), "state": {},
    }
    sent = False

    async def receive():
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    status, chunks, cookies = 0, [], []

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            cookies.extend(v.decode() for k, v in message.get("headers", []) if k.lower() == b"set-cookie")
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks), cookies


def _load_world(env: dict[str, str], lks: int = 0) -> None:
    from bench import world

    run_cli(["migrate"], env)
    if lks:  # as bench.run: the generated register first, then the demo world
        print(f"generating {lks:,} LKS ... {fill_lks(env, lks)}", flush=True)
    world.load(lambda *args: run_cli(list(args), env))


def _kept_postgres(admin_url: str, workdir: Path) -> tuple[str, bool]:
    """The kept PostgreSQL database named in ``workdir``: (its URL, whether
    it must be loaded first)."""
    import asyncio as _asyncio
    import uuid

    _require_loopback(admin_url)
    marker = workdir / "postgres_database"
    if marker.exists():
        return admin_url.rpartition("/")[0] + "/" + marker.read_text().strip(), False
    name = f"sigap_profile_{uuid.uuid4().hex[:10]}"
    _asyncio.run(_pg_admin(admin_url, f'CREATE DATABASE "{name}"'))
    marker.write_text(name)
    return admin_url.rpartition("/")[0] + "/" + name, True


async def _measure(env: dict[str, str], names: list[str], requests: int, profile_dir: Path | None) -> list[dict]:
    from bench.world import ROLES, _credentials
    from sigap.app import create_app
    from sigap.db import get_engine
    from sigap.settings import Settings

    os.environ.update(env)
    app = create_app(Settings.from_env(env))
    engine_class = type(get_engine())
    statements: list[str] = []
    run_querystring, run_ddl = engine_class.run_querystring, engine_class.run_ddl

    spent = {"db": 0.0, "render": 0.0}

    async def counted(self, querystring, *args, **kwargs):
        statements.append(querystring)  # made text only when shown
        started = time.perf_counter()
        try:
            return await run_querystring(self, querystring, *args, **kwargs)
        finally:
            spent["db"] += time.perf_counter() - started

    async def counted_ddl(self, ddl, *args, **kwargs):
        statements.append(ddl)
        return await run_ddl(self, ddl, *args, **kwargs)

    engine_class.run_querystring, engine_class.run_ddl = counted, counted_ddl
    import jinja2

    render = jinja2.Template.render

    def timed_render(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return render(self, *args, **kwargs)
        finally:
            spent["render"] += time.perf_counter() - started

    jinja2.Template.render = timed_render
    creds = _credentials(type("A", (), {"env": env})())
    out: list[dict] = []
    async with app.lifespan():
        cookies: dict[str, str] = {}
        for role in ROLES:
            status, body, headers = await _call(app, "POST", "/api/v1/auth/login", json.dumps(
                {"username": role, "password": creds[role]}).encode())
            assert status == 200, (role, status, body[:300])
            jar = [h.split(";", 1)[0] for h in headers if h]
            cookies[role] = "; ".join(jar)

        async def get(role: str, path: str) -> tuple[int, bytes]:
            status, body, _headers = await _call(app, "GET", path, cookie=cookies[role])
            return status, body

        ids = {
            "lks": json.loads((await get("manager", "/api/v1/auth/me"))[1])["user"]["lks_id"],
            "task": json.loads((await get("inspector", "/api/v1/tasks"))[1])["items"][0]["id"],
        }
        from bench.bare_app import app as bare

        times = []
        cpu_started = time.process_time()
        for _ in range(requests + 3):
            started = time.perf_counter()
            await _call(bare, "GET", "/")
            times.append((time.perf_counter() - started) * 1000)
        times = sorted(times[3:])
        print(f"{'bare':16} {'/':28} {0:3d} queries  {statistics.median(times):7.2f} ms median  "
              f"{times[int(len(times) * 0.95) - 1]:7.2f} ms p95  "
              f"{(time.process_time() - cpu_started) * 1000 / (requests + 3):7.2f} ms CPU", flush=True)
        for name in names:
            if name in REGISTRY_PATHS:
                role, rotation = "staff", REGISTRY_PATHS[name]
            else:
                role, path = PAGE_PATHS[name]
                rotation = [path.format(**ids)]
            path = rotation[0]
            for each in rotation:  # warm: first-use work is not the page's
                for _ in range(1 if len(rotation) > 1 else 3):
                    status, body = await get(role, each)
                    assert status == 200, (name, each, status, body[:300])
            statements.clear()
            await get(role, path)
            queries = [str(statement)[:200] for statement in statements]
            turn = 0
            per_path: dict[str, list[float]] = {each: [] for each in rotation}  # CPU ms of each request
            profiler = cProfile.Profile() if profile_dir else None
            times = []
            if profiler:
                profiler.enable()
            # Rounds of ROUND requests; each figure is the best round's: on a
            # machine others share, the best round is the least disturbed.
            best = {"cpu": float("inf"), "db": float("inf"), "render": float("inf")}
            done = 0
            while done < requests:
                batch = min(ROUND, requests - done)
                cpu_started = time.process_time()
                spent.update(db=0.0, render=0.0)
                for _ in range(batch):
                    each = rotation[turn % len(rotation)]
                    started, cpu_each = time.perf_counter(), time.process_time()
                    await get(role, each)
                    turn += 1
                    times.append((time.perf_counter() - started) * 1000)
                    per_path[each].append((time.process_time() - cpu_each) * 1000)
                best["cpu"] = min(best["cpu"], (time.process_time() - cpu_started) * 1000 / batch)
                best["db"] = min(best["db"], spent["db"] * 1000 / batch)
                best["render"] = min(best["render"], spent["render"] * 1000 / batch)
                done += batch
            cpu_ms = best["cpu"]
            if profiler:
                profiler.disable()
                profile_dir.mkdir(parents=True, exist_ok=True)
                profiler.dump_stats(profile_dir / f"{name}.prof")
            times.sort()
            out.append(
                {
                    "page": name,
                    "path": path,
                    "queries": len(queries),
                    "median_ms": round(statistics.median(times), 2),
                    "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
                    "cpu_ms": round(cpu_ms, 2),
                    "db_ms": round(best["db"], 2),
                    "render_ms": round(best["render"], 2),
                    "statements": queries,
                }
            )
            print(f"{name:16} {path:28} {len(queries):3d} queries  {out[-1]['median_ms']:7.2f} ms median  "
                  f"{out[-1]['p95_ms']:7.2f} ms p95  {cpu_ms:6.2f} ms CPU  (waiting for the database {out[-1]['db_ms']:6.2f} ms,"
                  f" templates {out[-1]['render_ms']:5.2f} ms)", flush=True)
            if len(rotation) > 1:  # which query of the rotation costs what (median CPU of its requests)
                for each, cpu in per_path.items():
                    if cpu:
                        print(f"    {statistics.median(cpu):7.2f} ms CPU  {each}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="SIGAP in-process page timings and query counts")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_ADMIN_URL)
    parser.add_argument("--requests", type=int, default=100, help="timed requests per page (default 100)")
    parser.add_argument("--pages", default="", help="comma-separated page names (default: all): " + ", ".join(PAGE_PATHS))
    parser.add_argument("--keep", type=Path, help="keep the world in this folder (PostgreSQL: a database it names) and reuse it")
    parser.add_argument("--drop-kept", action="store_true", help="PostgreSQL: drop the database --keep names, then stop")
    parser.add_argument("--lks", type=int, default=0, metavar="N",
                        help="add N generated LKS first (pages: " + ", ".join(REGISTRY_PATHS) + ")")
    parser.add_argument("--cprofile", type=Path, help="write NAME.prof per page into this folder")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--statements", action="store_true", help="print each page's statements")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.pages.split(",") if n.strip()] or list(PAGE_PATHS)
    unknown = [n for n in names if n not in PAGE_PATHS and n not in REGISTRY_PATHS]
    if unknown:
        parser.error(f"unknown pages: {', '.join(unknown)}")
    with ExitStack() as stack:
        if args.database == "postgres" and args.keep:
            workdir = args.keep.resolve()
            workdir.mkdir(parents=True, exist_ok=True)
            if args.drop_kept:
                marker = workdir / "postgres_database"
                if marker.exists():
                    asyncio.run(_pg_admin(args.postgres_url, f'DROP DATABASE IF EXISTS "{marker.read_text().strip()}" WITH (FORCE)'))
                    marker.unlink()
                return 0
            url, fresh = _kept_postgres(args.postgres_url, workdir)
            env = _env(workdir, url)
            if fresh:
                _load_world(env, args.lks)
        elif args.database == "postgres":
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sigap-profile-")))
            env = _env(workdir, stack.enter_context(postgres_database(args.postgres_url)))
            _load_world(env, args.lks)
        else:
            if args.keep:
                workdir = args.keep.resolve()
                workdir.mkdir(parents=True, exist_ok=True)
            else:
                workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sigap-profile-")))
            env = _env(workdir, f"sqlite:///{workdir / 'sigap.sqlite3'}")
            if not (workdir / "sigap.sqlite3").exists():
                _load_world(env, args.lks)
        results = asyncio.run(_measure(env, names, args.requests, args.cprofile))
    if args.statements:
        for result in results:
            print(f"\n{result['page']} ({result['queries']}):")
            for statement in result["statements"]:
                print("   ", statement)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
