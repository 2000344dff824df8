"""Scheduled work: APScheduler 3.x's AsyncIOScheduler inside the app process,
jobs defined in code. Each job is a plain async function taking ``now``;
``sigap jobs run NAME [--now ISO]`` runs the same function by hand.

Jobs must be idempotent (they may run twice, late, or in two processes):
the scheduler only decides *when*, never *whether twice is safe*.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timezone

from sigap.i18n import WIB
from sigap.wiring import Job

log = logging.getLogger("sigap.jobs")


async def run_job(job: Job, *, now: datetime | None = None) -> object:
    now = now or datetime.now(timezone.utc)
    result = await job.fn(now=now)
    log.info("job finished", extra={"job": job.name, "result": str(result)})
    return result


def start_scheduler(jobs: Mapping[str, Job]):
    """Start the jobs in the running event loop; returns the scheduler."""
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.cron import CronTrigger

    scheduler = AsyncIOScheduler(timezone=WIB)
    for job in jobs.values():

        async def _run(job: Job = job) -> None:
            try:
                await run_job(job)
            except Exception:  # a failed run is logged; the next one tries again
                log.exception("job failed", extra={"job": job.name})

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


ADVISORY_LOCK_KEY = 7_136_711  # "SIGAP scheduler": any fixed number shared by all instances


class JobRunner:
    """Runs the scheduler in this process, unless another instance already
    does: with PostgreSQL only the holder of a session-level advisory lock
    (kept on its own connection for the life of the process) runs jobs; the
    others retry every 30 s and take over when the leader goes away."""

    def __init__(self, database_url: str, jobs: Mapping[str, Job], retry_s: float = 30.0) -> None:
        self.database_url = database_url
        self.jobs = jobs
        self.retry_s = retry_s
        self.role = "off"
        self.scheduler = None
        self._lock_connection = None
        self._waiter = None

    async def start(self) -> None:
        import asyncio

        if not self.database_url.startswith(("postgresql:", "postgres:")):
            self._start_jobs()
            return
        if await self._try_lock():
            self._start_jobs()
        else:
            self.role = "standby"
            self._waiter = asyncio.get_running_loop().create_task(self._wait_for_leadership())

    async def _try_lock(self) -> bool:
        import asyncpg

        try:
            connection = await asyncpg.connect(self.database_url, timeout=5)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("scheduler: cannot reach the database for the leader lock", extra={"error": type(exc).__name__})
            return False
        if await connection.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY):
            self._lock_connection = connection
            return True
        await connection.close()
        return False

    async def _wait_for_leadership(self) -> None:
        import asyncio

        while True:
            await asyncio.sleep(self.retry_s)
            if await self._try_lock():
                log.info("scheduler: this instance is now the leader")
                self._start_jobs()
                return

    def _start_jobs(self) -> None:
        self.scheduler = start_scheduler(self.jobs)
        self.role = "leader"

    async def stop(self) -> None:
        if self._waiter is not None:
            self._waiter.cancel()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=False)
        if self._lock_connection is not None:
            await self._lock_connection.close()
        self.role = "off"
