"""`make bench`: load-test the real SIGAP app against a bare Litestar app.

    python -m bench.run [--duration 10] [--connections 16] [--threads 1]
                        [--scenarios bare,dashboard] [--database sqlite|postgres]
                        [--json bench/results/run.json]

Starts SIGAP (``sigap migrate`` + ``sigap serve``) on a fresh database in a
temporary folder, creates a staff user with the CLI and signs in, starts the
bare baseline app, then runs wrk against each scenario (2 s warm-up, then the
measured run) and prints one table. Every server is stopped and the temporary
folder (and PostgreSQL database) removed at the end, whatever happened.

Exits with status 1 when a scenario got responses outside 2xx: such figures
measure error pages, not the application.
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

from bench.scenarios import BASELINE, SCENARIOS, Context
from bench.servers import DEFAULT_POSTGRES_ADMIN_URL, BenchError, bare_server, sigap_server
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
        default=",".join(SCENARIOS),
        help=f"comma-separated, from: {', '.join(SCENARIOS)} (default: all)",
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--postgres-url",
        default=DEFAULT_POSTGRES_ADMIN_URL,
        help="admin URL used to create and drop the benchmark database (loopback only)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON to PATH")
    args = parser.parse_args(argv)
    args.scenario_names = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    unknown = [s for s in args.scenario_names if s not in SCENARIOS]
    if unknown or not args.scenario_names:
        parser.error(f"unknown scenario(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(SCENARIOS)}")
    if min(args.duration, args.connections, args.threads) < 1 or args.warmup < 0:
        parser.error("--duration, --connections and --threads must be at least 1, --warmup at least 0")
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
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [cell.rjust(w) for cell, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


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

    load = LoadSettings(duration=args.duration, connections=args.connections, threads=args.threads, warmup=args.warmup)
    results: list[WrkResult] = []
    with ExitStack() as stack:  # unwinds in reverse: servers stop, then the folder goes
        workdir = Path(tempfile.mkdtemp(prefix="sigap-bench-"))
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        print("\nstarting SIGAP and the bare app ...", flush=True)
        app = stack.enter_context(sigap_server(workdir, args.database, args.postgres_url))
        app.create_user(BENCH_USER, BENCH_PASSWORD, role="staff")
        app.sign_in(BENCH_USER, BENCH_PASSWORD)
        bare = stack.enter_context(bare_server(workdir))
        ctx = Context(app=app, bare=bare, load=load)
        for name in args.scenario_names:
            print(f"  {name} ...", flush=True)
            result = SCENARIOS[name](ctx)
            print(f"    {result.command}", flush=True)
            results.append(result)

    print()
    print(format_table(results))

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"command": command, "machine": info, "load": vars(load), "results": [r.to_dict() for r in results]}
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
