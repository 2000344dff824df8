"""Scheduled work: APScheduler 3.x's AsyncIOScheduler inside the app process,
jobs defined in code. Each job is a plain async function taking ``now``;
``sigap jobs run NAME [--now ISO]`` runs the same function by hand.

Jobs must be idempotent (they may run twice, late, or in two processes):
the scheduler only decides *when*, never *whether twice is safe*.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from sigap.i18n import WIB

log = logging.getLogger("sigap.jobs")

JobFn = Callable[..., Awaitable[object]]


@dataclass(frozen=True)
class Job:
    name: str
    fn: JobFn
    cron: dict  # APScheduler CronTrigger fields, in WIB
    run_at_start: bool = True  # catch up a run missed while the app was down


JOBS: dict[str, Job] = {}


def register(name: str, fn: JobFn, *, run_at_start: bool = True, **cron: object) -> None:
    JOBS[name] = Job(name, fn, dict(cron), run_at_start)


async def run_job(name: str, *, now: datetime | None = None) -> object:
    job = JOBS[name]
    now = now or datetime.now(timezone.utc)
    result = await job.fn(now=now)
    log.info("job finished", extra={"job": name, "result": str(result)})
    return result


def start_scheduler():
    """Start the jobs in the running event loop; returns the scheduler."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.cron import CronTrigger

    scheduler = AsyncIOScheduler(timezone=WIB)
    for job in JOBS.values():

        async def _run(name: str = job.name) -> None:
            try:
                await run_job(name)
            except Exception:  # a failed run is logged; the next one tries again
                log.exception("job failed", extra={"job": name})

        scheduler.add_job(
            _run,
            CronTrigger(timezone=WIB, **job.cron),
            id=job.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
        )
        if job.run_at_start:
            scheduler.add_job(_run, id=f"{job.name}:startup", max_instances=1)
    scheduler.start()
    return scheduler
