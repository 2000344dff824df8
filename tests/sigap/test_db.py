"""The database layer: concurrent writes, SQLite's traps, migrations."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timezone

import pytest

from sigap import accounts, audit, db
from sigap.audit import Actor
from sigap.tables import AuditEvent, User
from tests.conftest import DATABASE_URL, ROOT


async def _hundred_writers(prefix: str, n: int = 100) -> list[BaseException | dict]:
    now = datetime.now(timezone.utc)

    async def one(i: int):
        # Each writer reads, inserts a user and an audit row in one transaction.
        return await accounts.create_user(
            Actor.system("load"), username=f"{prefix}{i:03d}", role="staff", password="Serentak-2026!", now=now
        )

    return await asyncio.gather(*(one(i) for i in range(n)), return_exceptions=True)


def test_100_concurrent_writes_all_succeed(call):
    results = call(_hundred_writers, "serentak")
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert call(User.count().where(User.username.like("serentak%")).run) == 100
    assert call(AuditEvent.count().where(AuditEvent.action == "user.create").run) == 100


@pytest.mark.sqlite_only
def test_concurrent_read_modify_write_loses_nothing(call, make_user):
    """100 concurrent 'read the version, write version+1' transactions: each
    sees the previous one's result, so the final version is exactly +100."""
    user = make_user("penghitung", "staff")

    async def bump(_i: int) -> None:
        async with db.write_transaction():
            row = await User.select(User.version).where(User.id == user["id"]).first()
            await asyncio.sleep(0)  # give the others every chance to interleave
            await User.update({User.version: row["version"] + 1}).where(User.id == user["id"])

    async def run_all():
        return await asyncio.gather(*(bump(i) for i in range(100)), return_exceptions=True)

    results = call(run_all)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert call(User.select(User.version).where(User.id == user["id"]).first().run)["version"] == user["version"] + 100


def test_concurrent_edits_with_the_same_version_let_exactly_one_win(call, make_user):
    """On both databases: 20 simultaneous edits from the same stale form."""
    from sigap.errors import Conflict

    user = make_user("rebutan", "staff")
    admin = Actor(user_id=None, username="adm")
    now = datetime.now(timezone.utc)

    async def run_all():
        return await asyncio.gather(
            *(accounts.update_user(admin, user["id"], version=user["version"], now=now, full_name=f"Nama {i}") for i in range(20)),
            return_exceptions=True,
        )

    results = call(run_all)
    winners = [r for r in results if isinstance(r, dict)]
    assert len(winners) == 1
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, dict))
    row = call(User.select().where(User.id == user["id"]).first().run)
    assert row["version"] == user["version"] + 1 and row["full_name"] == winners[0]["full_name"]


@pytest.mark.sqlite_only
def test_100_writers_across_four_processes_on_sqlite():
    """The per-process lock is not enough across processes: BEGIN IMMEDIATE
    with the busy timeout must make other processes wait, not fail."""
    script = textwrap.dedent(
        """
        import asyncio, sys
        from datetime import datetime, timezone
        from sigap import accounts
        from sigap.audit import Actor
        async def writers(prefix, n):
            now = datetime.now(timezone.utc)
            return await asyncio.gather(*(
                accounts.create_user(Actor.system("load"), username=f"{prefix}{i:03d}", role="staff",
                                     password="Serentak-2026!", now=now)
                for i in range(n)), return_exceptions=True)
        results = asyncio.run(writers(sys.argv[1], 25))
        errors = [repr(r) for r in results if isinstance(r, BaseException)]
        print(len(errors)); print("\\n".join(errors[:3]))
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, f"proc{p}-"], cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE, text=True)
        for p in range(4)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], outputs
    assert [o.splitlines()[0] for o in outputs] == ["0"] * 4, outputs

    async def count():
        return await User.count().where(User.username.like("proc%"))

    assert asyncio.run(count()) == 100


@pytest.mark.sqlite_only
def test_failed_begin_immediate_closes_its_connection(tmp_path):
    """When BEGIN IMMEDIATE times out, the connection (and its thread) must
    be closed, or the process cannot exit."""
    script = textwrap.dedent(
        f"""
        import asyncio, sqlite3, threading
        from sigap.db import SigapSQLiteEngine
        from piccolo.engine.sqlite import TransactionType
        path = {str(tmp_path / "locked.sqlite3")!r}
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("PRAGMA journal_mode=WAL")
        holder.execute("CREATE TABLE t (x INTEGER)")
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        engine = SigapSQLiteEngine(path=path, timeout=0.2)
        async def main():
            try:
                async with engine.transaction(transaction_type=TransactionType.immediate):
                    pass
            except sqlite3.OperationalError as exc:
                print("refused:", exc)
        asyncio.run(main())
        holder.rollback()
        # A closed connection's thread ends on its own; an open one never does.
        others = [t for t in threading.enumerate() if t is not threading.main_thread()]
        for t in others:
            t.join(5)
        print("threads:", sorted(t.name for t in others if t.is_alive()))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=20)
    assert result.returncode == 0, result.stderr
    assert "refused: database is locked" in result.stdout
    assert "threads: []" in result.stdout


def test_nested_write_transactions_join_the_outer_one(call):
    async def scenario():
        now = datetime.now(timezone.utc)
        with pytest.raises(RuntimeError):
            async with db.write_transaction():
                await audit.record(Actor.system("t"), "test.outer", "test", 1, now=now)
                async with db.write_transaction():
                    await audit.record(Actor.system("t"), "test.inner", "test", 2, now=now)
                raise RuntimeError("roll everything back")
        return await AuditEvent.count().where(AuditEvent.entity_type == "test")

    assert call(scenario) == 0


@pytest.mark.sqlite_only
def test_sqlite_file_is_in_wal_mode():
    import sqlite3

    con = sqlite3.connect(db.sqlite_path(DATABASE_URL))
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        con.close()


def test_migrations_match_the_tables():
    """Every table change has its migration: auto-migration finds nothing new."""
    result = subprocess.run(
        [sys.executable, "-m", "piccolo.main", "migrations", "new", "all", "--auto"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )
    out = result.stdout + result.stderr
    assert "No changes detected" in out or "No changes" in out, out


@pytest.mark.postgres_only
def test_pooled_connections_are_returned_without_a_reset_round_trip():
    """asyncpg's default pool reset sends a second statement after each one
    run outside a transaction; SIGAP's pool skips it (sigap.db.start). Seen
    from the database: a session setting made through the pool is still
    there on the next statement (the default reset's RESET ALL clears it),
    while an open transaction is still rolled back on release."""
    from piccolo.engine.postgres import PostgresEngine

    async def run() -> tuple[str, bool]:
        engine = PostgresEngine(config={"dsn": DATABASE_URL})
        await db.start(engine, pg_pool_size=1)
        try:
            await engine._run_in_pool("SELECT set_config('sigap.probe', 'kept', false)")
            kept = (await engine._run_in_pool("SELECT current_setting('sigap.probe', true) AS v"))[0]["v"]
            async with engine.pool.acquire() as connection:
                await connection.execute("BEGIN")
            async with engine.pool.acquire() as connection:
                in_transaction = connection.is_in_transaction()
            return kept, in_transaction
        finally:
            await db.stop(engine)

    kept, in_transaction = asyncio.run(run())
    assert kept == "kept"
    assert in_transaction is False
