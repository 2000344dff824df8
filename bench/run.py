"""`make bench`: load-test the real SIGAP app against a bare Litestar app.

    python -m bench.run [--duration 5] [--warmup 1] [--connections 1,16]
                        [--threads 1] [--workers N]
                        [--scenarios bare,home_staff,...]
                        [--database sqlite|postgres|both]
                        [--registry] [--lks 100000]
                        [--json bench/results/run.json]

For each database: starts SIGAP (``sigap migrate``, the demo world of
bench/world.py when a page scenario needs it, ``sigap serve --workers N``)
on a fresh database in a temporary folder, signs every role in, starts the
bare baseline app with the same number of workers (default: one per core,
as ``sigap serve``), then runs wrk against each scenario at each
connection count (warm-up, then the measured run) and prints one table per
database and connection count, with the ratio to the bare endpoint. Every
server is stopped and the temporary folder (and PostgreSQL database)
removed at the end, whatever happened.

``--registry`` adds the registry scenarios (list, search, the list page and
the public register's search over ``--lks`` generated LKS, default 100,000,
and a 200 MiB upload, which
runs on a server of its own with one worker); they are not in the default run because
filling the database takes a while. Naming them in ``--scenarios`` works
too. The database is filled only when a selected scenario needs it.

Exits with status 1 when a scenario got responses outside 2xx (such figures
measure error pages, not the application) or an upload was not stored
intact. Goals missed (issue 13: every page at >= 0.20x the bare req/s,
home >= 0.25x, p95 <= 50 ms at 16 connections; registry p95 under 50 ms with
one connection, 100 ms with more) are reported, not failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import signal
import sys
import tempfile
from contextlib import ExitStack
from datetime import datetime, timezone
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

from bench.scenarios import (
    BASELINE,
    LATENCY_TARGET_MANY_MS,
    LATENCY_TARGET_MS,
    SCENARIOS,
    Context,
    UploadResult,
    default_scenarios,
    registry_scenarios,
)
from bench.servers import (
    DEFAULT_POSTGRES_ADMIN_URL,
    SERVER_SETTINGS,
    BenchError,
    bare_server,
    sigap_server,
)
from bench.wrk import LoadSettings, WrkResult, wrk_version

BENCH_USER = "bench"
# >= 10 characters and not containing the user name, as accounts requires.
BENCH_PASSWORD = "Tolok-Ukur-2024"
PAGE_RATIO_GOAL = 0.20  # req/s of a page / req/s of the bare endpoint (issue 13)
HOME_RATIO_GOAL = 0.25
PAGE_P95_GOAL_MS = 50.0  # at 16 connections


def default_workers() -> int:
    """As ``sigap serve``: one worker per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _connection_counts(raw: str) -> list[int]:
    try:
        counts = [int(x) for x in raw.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r}: give connection counts like 1,16") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("connection counts must be at least 1")
    return counts


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description="SIGAP load benchmark (wrk)")
    parser.add_argument("--duration", type=int, default=5, help="seconds measured per scenario (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of warm-up load per scenario (default 1)")
    parser.add_argument(
        "--connections", type=_connection_counts, default=[1, 16],
        help="open connections, one run per count, comma-separated (default 1,16)",
    )
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument(
        "--workers", type=int, default=default_workers(),
        help=f"worker processes of SIGAP and of the bare app (default: the cores, here {default_workers()})",
    )
    parser.add_argument(
        "--scenarios",
        default=None,
        help=f"comma-separated, from: {', '.join(SCENARIOS)} (default: {', '.join(default_scenarios())})",
    )
    parser.add_argument(
        "--registry",
        action="store_true",
        help=f"add the registry scenarios: {', '.join(registry_scenarios())}",
    )
    parser.add_argument(
        "--lks", type=int, default=100_000, metavar="N", help="LKS generated for the registry scenarios (default 100000)"
    )
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_ADMIN_URL,
        help="admin URL used to create and drop the benchmark database (loopback only)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON to PATH")
    args = parser.parse_args(argv)
    if args.scenarios is None:
        args.scenario_names = default_scenarios()
        if args.registry:  # --registry alone: the register at scale, with the bare endpoint to compare
            args.scenario_names = [BASELINE]
    else:
        args.scenario_names = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if args.registry:
        args.scenario_names += [s for s in registry_scenarios() if s not in args.scenario_names]
    unknown = [s for s in args.scenario_names if s not in SCENARIOS]
    if unknown or not args.scenario_names:
        parser.error(f"unknown scenario(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(SCENARIOS)}")
    if min(args.duration, args.threads, args.workers) < 1 or args.warmup < 0:
        parser.error("--duration, --threads and --workers must be at least 1, --warmup at least 0")
    if args.lks < 1:
        parser.error("--lks must be at least 1")
    if args.threads > min(args.connections):
        parser.error("--threads cannot exceed --connections (wrk needs one connection per thread)")
    args.databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    return args


def machine_info(databases: list[str], workers: int) -> dict[str, str]:
    def version(dist: str) -> str:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return "?"

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    # uvicorn's "auto" picks uvloop and httptools only when they are installed.
    loop = "uvloop" if find_spec("uvloop") else "asyncio"
    http = "httptools" if find_spec("httptools") else "h11"
    return {
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "wrk": wrk_version(),
        "litestar": version("litestar"),
        "uvicorn": f"{version('uvicorn')} ({loop}, {http}, {workers} worker(s) for SIGAP and bare, access log off)",
        "database": ", ".join(databases),
        # Anything else running on the machine skews the figures: say so.
        "loadavg": " ".join(f"{x:.2f}" for x in os.getloadavg()) + " (1/5/15 min, before the run)",
    }


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.2f}x" if base else "-"


def _format_rows(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_upload_table(results: list[UploadResult]) -> str:
    header = [
        "scenario", "MiB", "seconds", "MiB/s", "RSS before", "VmHWM", "RSS peak (50 ms)", "RSS after",
        "growth MiB", "< 50 MiB", "client growth", "stored intact",
    ]
    rows = [header]
    for r in results:
        rows.append(
            [
                r.scenario, f"{r.size_mib:.0f}", f"{r.seconds:.2f}", f"{r.mib_per_s:.1f}", f"{r.rss_before_mib:.1f}",
                f"{r.peak_hwm_mib:.1f}" + ("" if r.hwm_reset else "*"), f"{r.peak_sampled_mib:.1f}",
                f"{r.rss_after_mib:.1f}", f"{r.growth_mib:.1f}", "yes" if r.within_limit else "NO",
                f"{r.client_growth_mib:.1f}", "yes" if r.verified else "NO",
            ]
        )
    return _format_rows(rows)


def _goal(r: WrkResult, base: WrkResult | None, connections: int) -> str:
    """Issue 13's goal for a page: req/s ratio to bare (home >= 0.25x, others
    >= 0.20x) and, at 16 connections or more, p95 <= 50 ms."""
    if base is None or r is base or SCENARIOS[r.scenario].needs_lks or r.scenario.startswith("floor_"):
        return ""  # the floors are not pages: they show the best a page could do
    want = HOME_RATIO_GOAL if r.scenario.startswith("home_") else PAGE_RATIO_GOAL
    missed = []
    if base.rps and r.rps / base.rps < want:
        missed.append(f"<{want:.2f}x")
    if connections >= 16 and r.p95_ms > PAGE_P95_GOAL_MS:
        missed.append(f"p95>{PAGE_P95_GOAL_MS:.0f}")
    return "ok" if not missed else "MISSED " + ",".join(missed)


def format_table(results: list[WrkResult], connections: int = 0) -> str:
    base = next((r for r in results if r.scenario == BASELINE), None)
    header = [
        "scenario", "req/s", "p50 ms", "p95 ms", "p99 ms", "non-2xx", "sock err", "req/s ÷ bare", "p95 ÷ bare", "goal",
    ]
    rows = [header]
    for r in results:
        compare = base is not None and r is not base
        rows.append(
            [
                r.scenario,
                f"{r.rps:,.0f}",
                f"{r.p50_ms:.2f}",
                f"{r.p95_ms:.2f}",
                f"{r.p99_ms:.2f}",
                str(r.non2xx),
                str(r.socket_error_count),
                _ratio(r.rps, base.rps) if compare else "",
                _ratio(r.p95_ms, base.p95_ms) if compare else "",
                _goal(r, base, connections),
            ]
        )
    return _format_rows(rows)


def _start_app(stack: ExitStack, args: argparse.Namespace, database: str, workdir: Path, specs: list, env: dict[str, str]):
    """Serve SIGAP for ``specs`` (the data they need, the settings ``env``),
    signed in as the bench user; returns (app, sessions, ids, LKS rows)."""
    lks_rows = args.lks if any(spec.needs_lks for spec in specs) else 0
    world = any(spec.needs_world for spec in specs)
    workers = int(env.get("SIGAP_WORKERS", args.workers))
    if lks_rows:
        print(f"  data      {lks_rows:,} generated LKS (bench/data.py), loaded before the server starts")
    if world:
        print("  data      the demo world (sigap demo; plan and alerts jobs run once)")
    shown_settings = {**SERVER_SETTINGS, "SIGAP_WORKERS": str(workers), **env}
    print("  settings  " + " ".join(f"{k}={v}" for k, v in sorted(shown_settings.items())))
    workdir.mkdir(parents=True, exist_ok=True)
    print("starting SIGAP ...", flush=True)
    app = stack.enter_context(
        sigap_server(workdir, database, args.postgres_url, lks_rows=lks_rows, extra_env=env, workers=args.workers, world=world)
    )
    app.create_user(BENCH_USER, BENCH_PASSWORD, role="staff")
    app.sign_in(BENCH_USER, BENCH_PASSWORD)
    sessions, ids = ({}, {})
    if world:
        from bench import world as demo_world

        sessions, ids = demo_world.sign_in_all(app)
    return app, sessions, ids, lks_rows


def run_database(args: argparse.Namespace, database: str) -> tuple[dict[int, list[WrkResult]], list[UploadResult], int]:
    """Every selected scenario on one database, at each connection count.
    The scenarios that need server settings of their own (``env``: the
    200 MiB upload runs one worker) get a server of their own, after the
    others, so that those run with the default workers."""
    specs = [SCENARIOS[name] for name in args.scenario_names]
    groups: dict[tuple, list] = {}
    for spec in specs:
        groups.setdefault(tuple(sorted(spec.env.items())), []).append(spec)
    print(f"\n=== {database} ===")
    by_connections: dict[int, list[WrkResult]] = {c: [] for c in args.connections}
    uploads: list[UploadResult] = []
    lks_counts = [0]
    with ExitStack() as run_stack:
        workdir = Path(tempfile.mkdtemp(prefix="sigap-bench-"))
        run_stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        print("starting the bare app ...", flush=True)
        bare = run_stack.enter_context(bare_server(workdir, workers=args.workers))
        for number, (env_items, group) in enumerate(sorted(groups.items(), key=lambda item: bool(item[0]))):
            with ExitStack() as stack:  # this group's server stops before the next one starts
                if env_items:
                    print(f"  ({', '.join(spec.name for spec in group)}: a server of their own)")
                app, sessions, ids, lks_rows = _start_app(
                    stack, args, database, workdir / f"server-{number}", group, dict(env_items)
                )
                lks_counts.append(lks_rows)
                context_dir = workdir / f"server-{number}"
                for connections in args.connections:
                    load = LoadSettings(
                        duration=args.duration, connections=connections, threads=args.threads, warmup=args.warmup
                    )
                    ctx = Context(
                        app=app, bare=bare, load=load, workdir=context_dir, lks_count=lks_rows, sessions=sessions,
                        world=ids,
                    )
                    for spec in group:
                        if spec.once:
                            continue
                        print(f"  {spec.name} ({connections} conn) ...", flush=True)
                        result = spec(ctx)
                        print(f"    {result.command}", flush=True)
                        by_connections[connections].append(result)
                for spec in group:
                    if spec.once:
                        print(f"  {spec.name} ...", flush=True)
                        result = spec(Context(app=app, bare=bare, load=load, workdir=context_dir, lks_count=lks_rows))
                        print(f"    {result.detail}", flush=True)
                        uploads.append(result)
    return by_connections, uploads, max(lks_counts)


def run(args: argparse.Namespace) -> int:
    command = shlex.join([Path(sys.executable).name, "-m", "bench.run", *sys.argv[1:]])
    info = machine_info(args.databases, args.workers)
    print("SIGAP benchmark " + datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    for key, value in info.items():
        print(f"  {key:9} {value}")
    print(f"  command   {command}")
    print(
        f"  load      wrk, {args.threads} thread(s), {'/'.join(map(str, args.connections))} connections,"
        f" {args.warmup} s warm-up + {args.duration} s per scenario, 127.0.0.1 only"
    )
    measured: dict[str, tuple[dict[int, list[WrkResult]], list[UploadResult], int]] = {}
    for database in args.databases:
        measured[database] = run_database(args, database)

    status = 0
    for database, (by_connections, uploads, lks_rows) in measured.items():
        for connections, results in by_connections.items():
            if not results:
                continue
            print(f"\n{database}, {connections} connection(s), {args.workers} worker(s):")
            print(format_table(results, connections))
        if uploads:
            print()
            print(format_upload_table(uploads))
            print("(memory in MiB of the server process; VmHWM reset just before the upload" + (
                ", * where the reset failed: lifetime peak)" if not all(u.hwm_reset for u in uploads) else ")"
            ))
        for connections, results in by_connections.items():
            target = LATENCY_TARGET_MS if connections == 1 else LATENCY_TARGET_MANY_MS
            for r in results:
                if SCENARIOS[r.scenario].needs_lks:
                    verdict = "under" if r.p95_ms < target else "OVER"
                    print(
                        f"target: {r.scenario} p95 {r.p95_ms:.1f} ms at {connections} connection(s):"
                        f" {verdict} {target:.0f} ms ({lks_rows:,} LKS, {database})"
                    )
        for u in uploads:
            print(
                f"target: {u.scenario} server peak RSS growth {u.growth_mib:.1f} MiB:"
                f" {'under' if u.within_limit else 'OVER'} {u.limit_mib:.0f} MiB ({database})"
            )
        for results in by_connections.values():
            for r in results:
                if r.socket_error_count:
                    print(f"\nWARNING: {database} {r.scenario}: socket errors {r.socket_errors}", file=sys.stderr)
                if r.require_2xx and r.non2xx:
                    print(
                        f"\nFAILED: {database} {r.scenario} got {r.non2xx} responses outside 2xx out of {r.requests}:"
                        " its figures measure error pages, not the application.",
                        file=sys.stderr,
                    )
                    status = 1
        for u in uploads:
            if not u.verified:
                print(f"\nFAILED: {database} {u.scenario}: {u.detail}", file=sys.stderr)
                status = 1

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "command": command,
            "machine": info,
            "workers": args.workers,
            "databases": {
                database: {
                    "lks": lks_rows,
                    "results": {
                        str(c): [r.to_dict() for r in results] for c, results in by_connections.items()
                    },
                    "uploads": [u.to_dict() for u in uploads],
                }
                for database, (by_connections, uploads, lks_rows) in measured.items()
            },
        }
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        print(f"\nresults written to {args.json}")
    return status


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM (e.g. from a CI timeout) unwinds like Ctrl+C, so the finally
    # blocks still stop the servers and remove the temporary files.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return run(args)
    except BenchError as exc:
        print(f"\nbench: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
