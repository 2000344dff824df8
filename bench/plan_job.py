"""The monitoring jobs at scale: ``plan`` (and ``alerts``) over N LKS.

    python -m bench.plan_job [--database sqlite|postgres] [--lks 100000] [--jobs plan,alerts]

A fresh database is migrated and filled with ``bench.data`` (set-based), one
joint team per kecamatan gets a lead, then each job runs as ``sigap jobs run``
would: a first run (which creates the tasks), a second one at the same time
(which must create nothing: the unique keys), and one 40 days later. Wall
times are printed per run, with the CPU time (user + system) of the job's
process, which a busy machine disturbs less than the wall time; the target
(issue 13) is under 10 s for the first run of ``plan`` and of ``alerts``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def run(cmd: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


async def _pg(sql: str) -> None:
    import asyncpg

    con = await asyncpg.connect(PG_ADMIN)
    try:
        await con.execute(sql)
    finally:
        await con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.plan_job")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--lks", type=int, default=100_000)
    parser.add_argument(
        "--jobs", default="plan,alerts,training-plan",
        help="comma-separated, from plan, alerts, training-plan (default: all three)",
    )
    args = parser.parse_args(argv)
    jobs = {j.strip() for j in args.jobs.split(",") if j.strip()}
    if not jobs or jobs - {"plan", "alerts", "training-plan"}:
        parser.error("--jobs: give some of plan, alerts, training-plan")

    tmp = Path(tempfile.mkdtemp(prefix="sigap-bench-plan-"))
    dbname = f"sigap_bench_plan_{uuid.uuid4().hex[:8]}"
    if args.database == "postgres":
        asyncio.run(_pg(f'CREATE DATABASE "{dbname}"'))
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{dbname}"
    else:
        url = f"sqlite:///{tmp / 'sigap.sqlite3'}"
    env = {
        **os.environ,
        "SIGAP_DATABASE_URL": url,
        "SIGAP_VAR_DIR": str(tmp / "var"),
        "SIGAP_STORAGE_URL": f"file://{tmp / 'documents'}",
        "SIGAP_SECRET_KEY": "bench",
        "SIGAP_LOG_LEVEL": "WARNING",
    }
    python = sys.executable
    try:
        print(f"SIGAP plan job benchmark: {args.lks:,} LKS on {args.database}  ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)")
        print(f"  machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, loadavg {os.getloadavg()[0]:.2f}")
        run([python, "-m", "sigap.cli", "migrate"], env)
        started = time.perf_counter()
        run([python, "-m", "bench.data", "--database-url", url, "--count", str(args.lks)], env)
        print(f"  data: {args.lks:,} LKS generated and inserted in {time.perf_counter() - started:.1f} s")
        run([python, "-c", SEED_TEAMS], env)
        now = datetime.now(timezone.utc).replace(microsecond=0)
        rows = []
        for label, job, when in (
            ("plan, first run", "plan", now),
            ("plan, same time again", "plan", now),
            ("plan, 40 days later", "plan", now + timedelta(days=40)),
            ("alerts, first run", "alerts", now + timedelta(days=40)),
            ("alerts, again", "alerts", now + timedelta(days=40)),
            ("training-plan, first run", "training-plan", now + timedelta(days=40)),
            ("training-plan, again", "training-plan", now + timedelta(days=40)),
        ):
            if job not in jobs and not (job == "plan" and jobs & {"alerts", "training-plan"}):
                continue  # the plan's tasks are what the alerts job looks at: it runs when they do
            started = time.perf_counter()
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            out = run([python, "-m", "sigap.cli", "jobs", "run", job, "--now", when.isoformat()], {**env, "SIGAP_LANG": "en"})
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            rows.append((label, time.perf_counter() - started, cpu, out.strip().splitlines()[-1]))
        print()
        print(f"  {'run':<24} {'seconds':>8} {'CPU s':>6}  result")
        for label, seconds, cpu, result in rows:
            print(f"  {label:<24} {seconds:>8.1f} {cpu:>6.1f}  {result}")
        print("\n  (each run is a whole `sigap jobs run` process: start-up, pool, the job itself;"
              " CPU s: that process's user + system time, the database server's not included)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if args.database == "postgres":
            asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
    return 0


SEED_TEAMS = """
import asyncio
from datetime import datetime, timezone
import inspections, registry
from inspections.teams import services
from registry import regions
from sigap import accounts, db
from sigap.audit import Actor
from sigap.tables import Role

async def main():
    await db.start()
    now = datetime.now(timezone.utc)
    staff = Actor(user_id=None, username="bench", role=Role.staff)
    for n, district in enumerate(await regions.districts("36.71")):
        team = await services.create_team(staff, name=f"Tim {district['name']}", area_code=district["code"], now=now)
        lead = await accounts.create_user(staff, username=f"inspektur{n:02d}", role="inspector", password="Bench-Lead-2026", now=now)
        await services.add_member(staff, team["id"], agency="dinsos", user_id=lead["id"], is_lead=True, now=now)
    await db.stop()

asyncio.run(main())
"""


if __name__ == "__main__":
    sys.exit(main())
