"""Piccolo's transactions (SQLite, PostgreSQL) and PostgreSQL engine, giving
every connection back however a statement or transaction ends.

Piccolo gives a transaction's pooled connection back only after a COMMIT or
ROLLBACK that completed. A task cancelled while BEGIN, COMMIT or ROLLBACK
was on the wire (the scheduler cancelling a job at shutdown) kept its
connection checked out for ever; asyncpg's ``Pool.close()`` waits for every
connection to come back, so the app's shutdown waited for ever too. Here a
transaction that cannot end cleanly rolls back, ends its session and frees
its place in the pool, which opens a fresh connection when it next needs one. A statement on a connection of its own
(no pool: the CLI, scripts) closes it on every path, cancellation included.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import SQLiteTransaction

log = logging.getLogger("sigap.db")

DISCARD_WAIT_S = 2.0  # for the server to stop a cancelled statement before the session is cut


class GuardedSQLiteTransaction(SQLiteTransaction):
    """Piccolo's SQLite transaction, closing its connection however it ends.

    Piccolo opens the connection and then runs ``BEGIN``; when ``BEGIN
    IMMEDIATE`` times out it leaves the aiosqlite connection open, and that
    connection's thread keeps the process from exiting. The same when a
    task is cancelled during COMMIT or ROLLBACK (a job stopped at shutdown).
    """

    __slots__ = ()

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            await self.begin()
        except BaseException:
            await self.connection.close()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent is not None:
            return exception is None
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            try:
                await self.connection.close()  # an unfinished transaction rolls back
            finally:
                self.engine.current_transaction.reset(self.context)
        return exception is None


class GuardedPostgresTransaction(PostgresTransaction):
    """Piccolo's PostgreSQL transaction, giving its connection back however
    it ends (see the module's docstring)."""

    __slots__ = ("_pool",)

    async def get_connection(self):
        # The pool the connection came from, to give it back there (Piccolo
        # looks at the engine's pool again at the end, which may be gone).
        self._pool = self.engine.pool
        if self._pool is not None:
            return await self._pool.acquire()
        return await self.engine.get_new_connection()

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        self.transaction = self.connection.transaction()
        try:
            await self.begin()
        except BaseException:
            await self._discard()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type, exception, traceback) -> bool:
        if self._parent is not None:
            return exception is None
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        except BaseException:
            await self._discard()
            raise
        else:
            await self._give_back()
        finally:
            self.engine.current_transaction.reset(self.context)
        return exception is None

    async def _give_back(self) -> None:
        if self._pool is not None:
            await self._pool.release(self.connection)  # asyncpg shields this from cancellation
        else:
            await self.connection.close()

    async def _discard(self) -> None:
        """End the session whatever state it is in, and free its place in the
        pool. A ROLLBACK first: asyncpg sends it only once the server has
        stopped the statement that was cancelled, so nothing of it goes on
        running (and holding locks) on the server after the session ends."""
        try:
            await asyncio.wait_for(self.connection.execute("ROLLBACK"), timeout=DISCARD_WAIT_S)
        except asyncio.CancelledError:
            await self._terminate()
            raise
        except Exception:  # noqa: BLE001 - the connection goes anyway
            pass
        await self._terminate()

    async def _terminate(self) -> None:
        self.connection.terminate()
        if self._pool is not None:
            # Terminating already returns it in current asyncpg; releasing a
            # returned connection does nothing. A closed pool needs neither.
            with contextlib.suppress(asyncpg.InterfaceError):
                await self._pool.release(self.connection)


class SigapPostgresEngine(PostgresEngine):
    """Piccolo's PostgreSQL engine with the guarded transaction above, a
    statement on its own connection that never leaves it open, and a pool
    that closes in bounded time."""

    __slots__ = ()

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return GuardedPostgresTransaction(engine=self, allow_nested=allow_nested)

    async def _run_in_new_connection(self, query, args=None):
        connection = await self.get_new_connection()
        try:
            results = await connection.fetch(query, *(args or []))
        except asyncpg.PostgresError:
            await connection.close()
            raise
        except BaseException:
            connection.terminate()
            raise
        await connection.close()
        return results

    async def close_connection_pool(self, timeout_s: float = 5.0) -> None:
        """Close the pool once every connection is back; past ``timeout_s``
        terminate the ones still out (asyncpg does that when its graceful
        close is cancelled) rather than wait for ever."""
        pool = self.pool
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), timeout=timeout_s)
        except asyncio.TimeoutError:
            log.warning("database pool: connections still in use at shutdown were terminated",
                        extra={"after_s": timeout_s})
        finally:
            self.pool = None
