"""SQLite reads answered in the event loop's thread (sigap.sqlite_inline):
quick SELECTs there, long ones moved to the aiosqlite pool and remembered,
writes never, and a reader never waits for a writer."""

from __future__ import annotations

import asyncio

import pytest

from sigap import db
from sigap.sqlite_inline import InlineReader
from sigap.tables import User

pytestmark = pytest.mark.sqlite_only

# About a million VM instructions: far past the inline budget.
LONG = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {}) "
    "SELECT COUNT(*) AS c FROM n"
)


def test_a_long_read_moves_to_the_pool_and_its_shape_is_remembered(call):
    engine = db.get_engine()
    assert call(db.fetch, "SELECT 1 AS one") == [{"one": 1}]
    assert call(db.fetch, LONG, 200_000) == [{"c": 200_000}]
    inline = engine._inline
    assert inline is not None, "the app's lifespan keeps an inline reader"
    assert not inline.wants(LONG), "the long statement goes straight to the pool now"
    assert inline.wants("SELECT 1 AS one")
    assert call(db.fetch, LONG, 3) == [{"c": 3}]  # same shape, through the pool: still right


def test_the_inline_reader_takes_only_selects(tmp_path):
    reader = InlineReader({"database": str(tmp_path / "x.sqlite3"), "isolation_level": None})
    try:
        assert reader.wants("SELECT 1") and reader.wants("  select 1")
        for statement in ("INSERT INTO t VALUES (1)", "UPDATE t SET a = 1", "DELETE FROM t", "PRAGMA foreign_keys = 1"):
            assert not reader.wants(statement)
        assert reader.run("SELECT 2 AS two", []) == [{"two": 2}]
        assert reader.run("SELECT * FROM no_such_table", []) is None  # the pool runs it and raises
    finally:
        reader.close()


def test_a_broken_read_still_fails_as_before(call):
    import sqlite3

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        call(db.fetch, "SELECT * FROM no_such_table")


def test_a_read_during_an_open_write_transaction_sees_the_last_commit(call, make_user):
    """WAL: the read neither waits for the writer nor sees its uncommitted change."""
    user = make_user("rina", "staff", full_name="Rina Lama")

    async def scenario():
        writing, release = asyncio.Event(), asyncio.Event()

        async def writer():
            async with db.write_transaction():
                await User.update({User.full_name: "Rina Baru"}).where(User.id == user["id"])
                writing.set()
                await asyncio.wait_for(release.wait(), timeout=10)

        async def reader():
            await writing.wait()
            try:
                return await db.fetch('SELECT "full_name" FROM "sigap_user" WHERE "id" = {}', user["id"])
            finally:
                release.set()

        _, rows = await asyncio.gather(writer(), reader())
        after = await db.fetch('SELECT "full_name" FROM "sigap_user" WHERE "id" = {}', user["id"])
        return rows, after

    during, after = call(scenario)
    assert during == [{"full_name": "Rina Lama"}]
    assert after == [{"full_name": "Rina Baru"}]
