"""Scheduled work: APScheduler 3.x's AsyncIOScheduler inside the app process,
jobs defined in code. Each job is a plain async function taking ``now``;
``sigap jobs run NAME [--now ISO]`` runs the same function by hand.

Jobs must be idempotent (they may run twice, late, or in two processes):
the scheduler only decides *when*, never *whether twice is safe*.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path

from sigap.i18n import WIB
from sigap.wiring import Job

log = logging.getLogger("sigap.jobs")


async def run_job(job: Job, *, now: datetime | None = None) -> object:
    now = now or datetime.now(timezone.utc)
    result = await job.fn(now=now)
    log.info("job finished", extra={"job": job.name, "result": str(result)})
    return result


def start_scheduler(jobs: Mapping[str, Job], running: dict | None = None):
    """Start the jobs in the running event loop; returns the scheduler.
    ``running`` (if given) holds each run in progress, its task -> the job's
    name, so that whoever stops the scheduler can wait for them."""
    import asyncio

    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from apscheduler.triggers.cron import CronTrigger

    scheduler = AsyncIOScheduler(timezone=WIB)
    for job in jobs.values():

        async def _run(job: Job = job) -> None:
            task = asyncio.current_task()
            if running is not None:
                running[task] = job.name
            try:
                await run_job(job)
            except Exception:  # a failed run is logged; the next one tries again
                log.exception("job failed", extra={"job": job.name})
            finally:
                if running is not None:
                    running.pop(task, None)

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


async def finish_runs(running: dict, grace_s: float, cancel_wait_s: float) -> list[str]:
    """Let the runs in progress finish for up to ``grace_s`` seconds, then
    cancel the rest and wait up to ``cancel_wait_s`` for them to unwind
    (roll back, give their connection back). Returns the names of the jobs
    still running after that (none, unless one ignores cancellation)."""
    import asyncio

    pending = set(running)
    if pending:
        _done, pending = await asyncio.wait(pending, timeout=grace_s)
    if pending:
        log.warning("scheduler: cancelling jobs still running at shutdown", extra={"jobs": sorted(running.get(t, "?") for t in pending)})
        for task in pending:
            task.cancel()
        _done, pending = await asyncio.wait(pending, timeout=cancel_wait_s)
    if pending:
        log.error("scheduler: jobs did not stop after cancellation", extra={"jobs": sorted(running.get(t, "?") for t in pending)})
    return sorted(running.get(t, "?") for t in pending)


ADVISORY_LOCK_KEY = 7_136_711  # "SIGAP scheduler": any fixed number shared by all instances


class _FileLock:
    """An exclusive ``flock`` on a file under ``SIGAP_VAR_DIR``: the SQLite
    leader lock. The kernel drops it when the holding process dies, however
    it dies, so a standby worker can take over."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
            self._fd = None


class JobRunner:
    """Runs the scheduler in exactly one process among the workers and
    instances that share a database. The leader is whoever holds a lock:
    with PostgreSQL a session-level advisory lock (kept on its own connection
    for the life of the process), with SQLite an exclusive file lock on
    ``lock_path`` (next to the database, so only processes on this machine
    compete, which is all SQLite allows). The others are on standby, retry
    every ``retry_s`` seconds and take over when the leader goes away.

    :meth:`stop` lets a run in progress finish for ``stop_grace_s`` seconds,
    then cancels it (jobs are idempotent: the next run redoes what a
    cancelled one rolled back) and waits up to ``cancel_wait_s`` for it to
    unwind, so that the database closes after the last job is done with it."""

    def __init__(
        self,
        database_url: str,
        jobs: Mapping[str, Job],
        retry_s: float = 30.0,
        lock_path: Path | None = None,
        stop_grace_s: float = 5.0,
        cancel_wait_s: float = 3.0,
    ) -> None:
        self.database_url = database_url
        self.jobs = jobs
        self.retry_s = retry_s
        self.stop_grace_s = stop_grace_s
        self.cancel_wait_s = cancel_wait_s
        self.running: dict = {}  # task of a run in progress -> the job's name
        self.role = "off"
        self.scheduler = None
        self._lock_connection = None
        self._file_lock = _FileLock(lock_path) if lock_path is not None else None
        self._waiter = None

    @property
    def _postgres(self) -> bool:
        return self.database_url.startswith(("postgresql:", "postgres:"))

    async def start(self) -> None:
        import asyncio

        if not self._postgres and self._file_lock is None:
            self._start_jobs()  # a single process by construction (tests, scripts)
            return
        if await self._try_lock():
            self._start_jobs()
            log.info("scheduler: leader", extra={"pid": os.getpid()})
        else:
            self.role = "standby"
            log.info("scheduler: standby (another process runs the jobs)", extra={"pid": os.getpid()})
            self._waiter = asyncio.get_running_loop().create_task(self._wait_for_leadership())

    async def _try_lock(self) -> bool:
        if not self._postgres:
            assert self._file_lock is not None
            return self._file_lock.try_acquire()
        import asyncpg

        try:
            connection = await asyncpg.connect(self.database_url, timeout=5)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("scheduler: cannot reach the database for the leader lock", extra={"error": type(exc).__name__})
            return False
        try:
            locked = await connection.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY)
        except BaseException:  # cancelled (stop) or failed: the session and any lock it took go
            connection.terminate()
            raise
        if locked:
            self._lock_connection = connection
            return True
        await connection.close()
        return False

    async def _wait_for_leadership(self) -> None:
        import asyncio

        while True:
            await asyncio.sleep(self.retry_s)
            if await self._try_lock():
                log.info("scheduler: this process is now the leader", extra={"pid": os.getpid()})
                self._start_jobs()
                return

    def _start_jobs(self) -> None:
        self.scheduler = start_scheduler(self.jobs, self.running)
        self.role = "leader"

    async def stop(self) -> None:
        """Stop in the order that leaves nothing behind: no new run starts,
        the runs in progress finish (or are cancelled, see the class), then
        the leader lock goes. The caller closes the database after this."""
        import asyncio

        if self._waiter is not None:
            self._waiter.cancel()
            await asyncio.gather(self._waiter, return_exceptions=True)
            self._waiter = None
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.pause()  # from here on no run starts
            await finish_runs(self.running, self.stop_grace_s, self.cancel_wait_s)
            # APScheduler defers its own shutdown to the loop's next turn: give it that turn.
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)
        if self._lock_connection is not None:
            try:
                await asyncio.wait_for(self._lock_connection.close(), timeout=5)
            except Exception:
                self._lock_connection.terminate()  # the session ends: the server drops the lock
            self._lock_connection = None
        if self._file_lock is not None:
            self._file_lock.release()
        self.role = "off"
