"""`make bench`: load-test the real SIGAP app against a bare Litestar app.

    python -m bench.run [--duration 10] [--connections 16] [--threads 1]
                        [--scenarios bare,dashboard] [--database sqlite|postgres]
                        [--registry] [--lks 100000]
                        [--json bench/results/run.json]

Starts SIGAP (``sigap migrate`` + ``sigap serve``) on a fresh database in a
temporary folder, creates a staff user with the CLI and signs in, starts the
bare baseline app, then runs wrk against each scenario (2 s warm-up, then the
measured run) and prints one table. Every server is stopped and the temporary
folder (and PostgreSQL database) removed at the end, whatever happened.

``--registry`` adds the registry scenarios (list, search and the list page
over ``--lks`` generated LKS, default 100,000, and a 200 MiB upload); they
are not in the default run because filling the database takes a while
(about half a minute for 100,000 LKS). Naming them in ``--scenarios`` works
too. The database is filled only when a selected scenario needs it.

Exits with status 1 when a scenario got responses outside 2xx (such figures
measure error pages, not the application) or an upload was not stored
intact. Targets missed (p95 over 100 ms, upload memory growth over 50 MiB)
are reported, not failed.
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
    LATENCY_TARGET_MS,
    SCENARIOS,
    Context,
    UploadResult,
    default_scenarios,
    registry_scenarios,
)
from bench.servers import DEFAULT_POSTGRES_ADMIN_URL, SERVER_SETTINGS, BenchError, bare_server, sigap_server
from bench.wrk import LoadSettings, WrkResult, wrk_version

BENCH_USER = "bench"
# >= 10 characters and not containing the user name, as accounts requires.
BENCH_PASSWORD = "Tolok-Ukur-2024"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description="SIGAP load benchmark (wrk)")
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per scenario (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up load per scenario (default 2)")
    parser.add_argument("--connections", type=int, default=16, help="open connections (default 16)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
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
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_ADMIN_URL,
        help="admin URL used to create and drop the benchmark database (loopback only)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON to PATH")
    args = parser.parse_args(argv)
    if args.scenarios is None:
        args.scenario_names = default_scenarios()
    else:
        args.scenario_names = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    if args.registry:
        args.scenario_names += [s for s in registry_scenarios() if s not in args.scenario_names]
    unknown = [s for s in args.scenario_names if s not in SCENARIOS]
    if unknown or not args.scenario_names:
        parser.error(f"unknown scenario(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(SCENARIOS)}")
    if min(args.duration, args.connections, args.threads) < 1 or args.warmup < 0:
        parser.error("--duration, --connections and --threads must be at least 1, --warmup at least 0")
    if args.lks < 1:
        parser.error("--lks must be at least 1")
    if args.threads > args.connections:
        parser.error("--threads cannot exceed --connections (wrk needs one connection per thread)")
    return args


def machine_info(database: str) -> dict[str, str]:
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
        "uvicorn": f"{version('uvicorn')} ({loop}, {http}, 1 worker, access log off)",
        "database": database,
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


def format_table(results: list[WrkResult]) -> str:
    base = next((r for r in results if r.scenario == BASELINE), None)
    header = ["scenario", "req/s", "p50 ms", "p95 ms", "p99 ms", "non-2xx", "sock err", "req/s ÷ bare", "p95 ÷ bare"]
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
            ]
        )
    return _format_rows(rows)


def run(args: argparse.Namespace) -> int:
    command = shlex.join([Path(sys.executable).name, "-m", "bench.run", *sys.argv[1:]])
    info = machine_info(args.database)
    print("SIGAP benchmark " + datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
    for key, value in info.items():
        print(f"  {key:9} {value}")
    print(f"  command   {command}")
    print(
        f"  load      wrk, {args.threads} thread(s), {args.connections} connections,"
        f" {args.warmup} s warm-up + {args.duration} s per scenario, 127.0.0.1 only"
    )

    specs = [SCENARIOS[name] for name in args.scenario_names]
    lks_rows = args.lks if any(spec.needs_lks for spec in specs) else 0
    server_env: dict[str, str] = {}
    for spec in specs:
        server_env.update(spec.env)
    if lks_rows:
        print(f"  data      {lks_rows:,} generated LKS (bench/data.py), loaded before the server starts")
    shown_settings = {**SERVER_SETTINGS, **server_env}
    print("  settings  " + " ".join(f"{k}={v}" for k, v in sorted(shown_settings.items())))

    load = LoadSettings(duration=args.duration, connections=args.connections, threads=args.threads, warmup=args.warmup)
    results: list[WrkResult] = []
    uploads: list[UploadResult] = []
    with ExitStack() as stack:  # unwinds in reverse: servers stop, then the folder goes
        workdir = Path(tempfile.mkdtemp(prefix="sigap-bench-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        print("\nstarting SIGAP and the bare app ...", flush=True)
        app = stack.enter_context(
            sigap_server(workdir, args.database, args.postgres_url, lks_rows=lks_rows, extra_env=server_env)
        )
        app.create_user(BENCH_USER, BENCH_PASSWORD, role="staff")
        app.sign_in(BENCH_USER, BENCH_PASSWORD)
        bare = stack.enter_context(bare_server(workdir))
        ctx = Context(app=app, bare=bare, load=load, workdir=workdir, lks_count=lks_rows)
        for name in args.scenario_names:
            print(f"  {name} ...", flush=True)
            result = SCENARIOS[name](ctx)
            if isinstance(result, UploadResult):
                print(f"    {result.detail}", flush=True)
                uploads.append(result)
            else:
                print(f"    {result.command}", flush=True)
                results.append(result)

    if results:
        print()
        print(format_table(results))
    if uploads:
        print()
        print(format_upload_table(uploads))
        print("(memory in MiB of the server process; VmHWM reset just before the upload" + (
            ", * where the reset failed: lifetime peak)" if not all(u.hwm_reset for u in uploads) else ")"
        ))
    registry = [r for r in results if SCENARIOS[r.scenario].needs_lks]
    if registry:
        print()
        for r in registry:
            verdict = "under" if r.p95_ms < LATENCY_TARGET_MS else "OVER"
            print(
                f"target: {r.scenario} p95 {r.p95_ms:.1f} ms at {args.connections} connections:"
                f" {verdict} {LATENCY_TARGET_MS:.0f} ms ({lks_rows:,} LKS, {args.database})"
            )
    for u in uploads:
        print(
            f"target: {u.scenario} server peak RSS growth {u.growth_mib:.1f} MiB:"
            f" {'under' if u.within_limit else 'OVER'} {u.limit_mib:.0f} MiB"
        )

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "command": command,
            "machine": info,
            "load": vars(load),
            "lks": lks_rows,
            "results": [r.to_dict() for r in results],
            "uploads": [u.to_dict() for u in uploads],
        }
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        print(f"\nresults written to {args.json}")

    status = 0
    for r in results:
        if r.socket_error_count:
            print(f"\nWARNING: {r.scenario}: socket errors {r.socket_errors}", file=sys.stderr)
        if r.require_2xx and r.non2xx:
            print(
                f"\nFAILED: {r.scenario} got {r.non2xx} responses outside 2xx out of {r.requests}:"
                " its figures measure error pages, not the application.",
                file=sys.stderr,
            )
            status = 1
    for u in uploads:
        if not u.verified:
            print(f"\nFAILED: {u.scenario}: {u.detail}", file=sys.stderr)
            status = 1
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
