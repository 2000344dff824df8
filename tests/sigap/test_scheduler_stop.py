"""Stopping the app while a scheduled job runs: the job finishes, or after a
grace period is cancelled and rolls back, and only then does the database
close. The app stops in bounded time and leaves no connection behind
(a run killed half-way once left a pooled connection checked out, and
the shutdown waited for it for ever)."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timezone

import pytest

from sigap import db
from sigap.scheduler import JobRunner
from sigap.tables import AuditEvent
from sigap.wiring import Job
from tests.conftest import BACKEND, DATABASE_URL

GRACE_S, CANCEL_WAIT_S = 0.3, 3.0


def _mark(action: str):
    return AuditEvent.insert(AuditEvent(at=datetime.now(timezone.utc), actor_username="test", action=action,
                                        entity_type="test", entity_id="1"))


def _runner(fn) -> JobRunner:
    # run_at_start: the scheduler starts it at once, nobody calls it by hand.
    job = Job("probe", fn, {"hour": 3}, True)
    return JobRunner(DATABASE_URL, {"probe": job}, stop_grace_s=GRACE_S, cancel_wait_s=CANCEL_WAIT_S)


def _aiosqlite_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if "_connection_worker_thread" in t.name}


async def _stop_and_check(runner: JobRunner) -> float:
    """Stop the runner, then the database as the app's lifespan does; the
    seconds it took. Every pooled connection must be back before the close."""
    started = time.monotonic()
    await runner.stop()
    assert runner.running == {}, f"jobs still running after stop(): {runner.running}"
    engine = db.get_engine()
    pool = getattr(engine, "pool", None)
    if pool is not None:
        assert pool.get_idle_size() == pool.get_size(), "a stopped job kept a pooled connection"
    await asyncio.wait_for(db.stop(), timeout=10)
    return time.monotonic() - started


def _run(scenario) -> object:
    before = _aiosqlite_threads()
    result = asyncio.run(asyncio.wait_for(scenario(), timeout=60))
    deadline = time.monotonic() + 5
    while _aiosqlite_threads() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _aiosqlite_threads() - before, "a SQLite connection was left open"
    return result


def test_stopping_lets_a_short_job_finish_first():
    async def short(*, now):
        await asyncio.sleep(0.1)
        async with db.write_transaction():
            await _mark("test.short-job")

    async def scenario():
        await db.start()
        runner = _runner(short)
        await runner.start()
        await asyncio.sleep(0.05)  # the run has begun
        assert runner.running, "the start-up run did not begin"
        took = await _stop_and_check(runner)
        return took, await AuditEvent.count().where(AuditEvent.action == "test.short-job")

    took, marks = _run(scenario)
    assert marks == 1
    assert took < GRACE_S + 3


def test_stopping_cancels_a_job_that_overstays_and_rolls_it_back():
    async def scenario():
        entered = asyncio.Event()

        async def overstays(*, now):
            async with db.write_transaction():
                await _mark("test.cancelled-job")
                entered.set()
                await asyncio.sleep(3600)

        await db.start()
        runner = _runner(overstays)
        await runner.start()
        await asyncio.wait_for(entered.wait(), timeout=10)
        took = await _stop_and_check(runner)
        return took, await AuditEvent.count().where(AuditEvent.action == "test.cancelled-job")

    took, marks = _run(scenario)
    assert marks == 0  # rolled back
    assert took < GRACE_S + CANCEL_WAIT_S + 3


@pytest.mark.postgres_only
def test_a_job_cancelled_during_its_commit_gives_its_connection_back():
    """The case that hung the shutdown: the cancellation lands while COMMIT
    is on the wire (here a deferred trigger makes COMMIT take 30 s)."""
    assert BACKEND == "postgres"

    async def scenario():
        committing = asyncio.Event()

        async def slow_commit(*, now):
            async with db.write_transaction() as tx:
                connection = tx.connection
                await connection.execute("CREATE TEMP TABLE slow_commit (id int) ON COMMIT DROP")
                await connection.execute(
                    "CREATE FUNCTION pg_temp.sleep_at_commit() RETURNS trigger LANGUAGE plpgsql"
                    " AS $$ BEGIN PERFORM pg_sleep(30); RETURN NULL; END $$")
                await connection.execute(
                    "CREATE CONSTRAINT TRIGGER sleep_at_commit AFTER INSERT ON slow_commit"
                    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pg_temp.sleep_at_commit()")
                await connection.execute("INSERT INTO slow_commit VALUES (1)")
                await _mark("test.commit-cancelled")
                committing.set()

        await db.start()
        runner = _runner(slow_commit)
        await runner.start()
        await asyncio.wait_for(committing.wait(), timeout=10)
        await asyncio.sleep(0.2)  # COMMIT is running the trigger
        took = await _stop_and_check(runner)
        return took, await AuditEvent.count().where(AuditEvent.action == "test.commit-cancelled")

    took, marks = _run(scenario)
    assert marks == 0  # the COMMIT was cancelled: nothing of the job stays
    assert took < GRACE_S + CANCEL_WAIT_S + 3
