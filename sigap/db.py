"""Database engine selection and the one way to write.

``SIGAP_DATABASE_URL`` picks SQLite (the embedded default) or PostgreSQL.
Every write in every domain goes through :func:`write_transaction`:

* on SQLite it takes this process's write lock, then ``BEGIN IMMEDIATE`` with
  a 30 s busy timeout on a WAL database, so concurrent writers queue instead
  of failing with "database is locked";
* on PostgreSQL it is an ordinary transaction from the pool.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit

from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString

from sigap.engine_guards import GuardedSQLiteTransaction, SigapPostgresEngine
from sigap.sqlite_inline import InlineReader
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType

SQLITE_BUSY_TIMEOUT_S = 30.0


class SigapSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine with two changes:

    * transactions close their connection however they end, a failed BEGIN
      or a cancelled COMMIT included (``sigap.engine_guards``);
    * between ``start_connection_pool`` and ``close_connection_pool`` (the
      app's lifespan) statements outside a transaction run on a small pool of
      kept connections instead of opening a new one (and a new thread) per
      query (~4 ms saved per query). Each aiosqlite connection has its own
      thread and WAL lets readers work at the same time, so reads no longer
      queue behind each other on one connection; writes still go through
      :func:`write_transaction` (one writer). Outside that window (CLI,
      scripts) nothing is kept open, so no aiosqlite thread can outlive its
      event loop;
    * in that window a SELECT outside a transaction first runs in the loop's
      own thread within a 2 ms budget (``sigap.sqlite_inline``), skipping
      the thread hop that cost more than the query; longer ones go to the pool.
    """

    __slots__ = ("_idle", "_pool", "_pool_loop", "_inline")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._idle: asyncio.Queue | None = None
        self._pool: list = []
        self._pool_loop = None
        self._inline: InlineReader | None = None

    async def start_connection_pool(self, size: int = 4, **_kwargs) -> None:
        if self._idle is not None:
            return
        connections = [await self.get_connection() for _ in range(max(1, size))]
        idle: asyncio.Queue = asyncio.Queue()
        for connection in connections:
            idle.put_nowait(connection)
        self._pool, self._idle, self._pool_loop = connections, idle, asyncio.get_running_loop()
        self._inline = InlineReader(self.connection_kwargs)

    async def close_connection_pool(self) -> None:
        connections, self._pool, self._idle = self._pool, [], None
        inline, self._inline = self._inline, None
        if inline is not None:
            inline.close()
        for connection in connections:
            await connection.close()

    async def _run_in_new_connection(self, query, args=None, query_type="generic", table=None):
        idle = self._idle
        if idle is None or asyncio.get_running_loop() is not self._pool_loop:
            return await super()._run_in_new_connection(query, args, query_type, table)
        inline = self._inline
        if inline is not None and inline.wants(query):
            rows = inline.run(query, args)
            if rows is not None:
                return rows
        connection = await idle.get()
        try:
            # Autocommit connections (isolation_level=None): each statement
            # commits on its own, as in Piccolo's per-query connections.
            async with connection.execute(query, args or []) as cursor:
                return await cursor.fetchall()
        finally:
            idle.put_nowait(connection)

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return GuardedSQLiteTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )


async def fetch(sql: str, *args) -> list[dict]:
    """Rows of one hand-written statement (``{}`` placeholders, the same
    SQL on both databases), straight to the engine: for the few hot paths
    where building the query costs more than running it (the session and
    its user on every request). Inside a transaction it joins it."""
    rows = await get_engine().run_querystring(QueryString(sql, *args), in_pool=True)
    return [row if isinstance(row, dict) else dict(row) for row in rows]


_select_all: dict[type, str] = {}


def select_all(table) -> str:
    """``SELECT`` of every column of ``table`` as ``table.select()`` names
    them, for :func:`fetch`: Piccolo builds that statement anew each time,
    about a millisecond for a table of forty columns (the read itself takes
    tens of microseconds). Append ``WHERE ...`` with ``{}`` placeholders."""
    sql = _select_all.get(table)
    if sql is None:
        name = table._meta.tablename
        columns = ", ".join(f'"{name}"."{c._meta.db_column_name}" AS "{c._meta.name}"' for c in table._meta.columns)
        sql = _select_all[table] = f'SELECT {columns} FROM "{name}"'
    return sql


_built: dict[str, str] = {}


def built_once(name: str, build) -> str:
    """The text of the Piccolo query ``build()`` makes (a SELECT of columns
    and joins, no values: no WHERE, ORDER or LIMIT), built once per process
    and kept under ``name``; :func:`fetch_where` adds the rest. For lists
    read on every view whose joins Piccolo took milliseconds to build."""
    sql = _built.get(name)
    if sql is None:
        querystring = build().querystrings[0]
        if querystring.compile_string()[1]:
            raise ValueError(f"{name}: the prebuilt part must hold no values")
        sql = _built[name] = str(querystring)
    return sql


def all_of(conditions: list):
    """The conditions joined with AND, or None when there are none (what
    :func:`fetch_where` takes)."""
    condition = None
    for one in conditions:
        condition = one if condition is None else condition & one
    return condition


async def fetch_where(sql: str, condition, tail: str = "", *args) -> list[dict]:
    """Rows of ``sql`` (from :func:`built_once`) ``WHERE condition`` (a
    Piccolo condition on the same tables and join aliases, or None) and
    ``tail`` (ORDER BY, LIMIT; ``{}`` placeholders for ``args``)."""
    if condition is None:
        querystring = QueryString(sql + tail, *args)
    else:
        querystring = QueryString(sql + " WHERE {}" + tail, condition.querystring, *args)
    rows = await get_engine().run_querystring(querystring, in_pool=True)
    return [row if isinstance(row, dict) else dict(row) for row in rows]


def key_is(column, value) -> WhereRaw:
    """``column == value`` for a foreign key ``column`` of the queried table,
    as Piccolo writes it but without Piccolo's ForeignKey attribute lookups
    (each lists the column's attributes: a condition on a key took ~0.1 ms
    to build, more than the read it limits)."""
    return WhereRaw(f"{column._meta.get_full_name(with_alias=False)} = {{}}", value)


def key_in(column, values: list) -> WhereRaw:
    """``column.is_in(values)`` for a foreign key ``column``, as :func:`key_is`."""
    if not values:
        raise ValueError("key_in needs at least one value")
    return WhereRaw(f"{column._meta.get_full_name(with_alias=False)} IN ({', '.join('{}' for _ in values)})", *values)


def sqlite_path(url: str) -> Path:
    """``sqlite:///relative/file`` or ``sqlite:////absolute/file`` → path."""
    if not url.startswith("sqlite:///"):
        raise ValueError(f"not a SQLite URL: {url!r}")
    return Path(url[len("sqlite:///") :])


def prepare_sqlite_file(path: Path) -> None:
    """Create the folder and switch the file to WAL (a persistent setting)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S)
    try:
        con.execute("PRAGMA journal_mode=WAL")
    finally:
        con.close()


def make_engine(url: str) -> Engine:
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        path = sqlite_path(url)
        try:
            prepare_sqlite_file(path)
        except (OSError, sqlite3.Error):
            # An unreachable database must not stop the process: /readyz
            # reports it and every query fails with a clear error.
            pass
        return SigapSQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_S)
    if scheme in {"postgresql", "postgres"}:
        return SigapPostgresEngine(config={"dsn": url})
    raise ValueError(f"unsupported SIGAP_DATABASE_URL scheme: {scheme!r}")


_engine: Engine | None = None


_engine_url: str | None = None


def get_engine() -> Engine:
    """The process's engine, made from the settings on first use (piccolo_conf
    exposes this same object as ``DB``)."""
    global _engine, _engine_url
    if _engine is None:
        from sigap.settings import get_settings

        _engine_url = get_settings().database_url
        _engine = make_engine(_engine_url)
    return _engine


def all_tables() -> list:
    """Every table of every app in piccolo_conf's registry."""
    from piccolo.conf.apps import Finder

    return Finder().get_table_classes()


def configure_engine(url: str) -> Engine:
    """Use ``url``: a new engine bound to every registered table (a no-op when
    the process already uses that URL)."""
    global _engine, _engine_url
    if _engine is not None and url == _engine_url:
        return _engine
    engine = make_engine(url)
    _engine, _engine_url = engine, url
    for table in all_tables():
        table._meta.db = engine
    return engine


def is_sqlite() -> bool:
    return isinstance(get_engine(), SQLiteEngine)


def _like_literal(text: str) -> str:
    """``text`` inside a LIKE pattern, matched as typed: ``%`` and ``_`` (and
    the escape character itself) are not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(column, text: str, *, ignore_case: bool = False):
    """``column`` contains ``text`` literally (a search for "%" finds a "%",
    not everything). PostgreSQL's LIKE escapes with a backslash by default
    (and its trigram index serves it); SQLite needs an ESCAPE clause.
    SQLite's LIKE already ignores ASCII case; PostgreSQL needs ILIKE."""
    pattern = f"%{_like_literal(text)}%"
    if not is_sqlite():
        return column.ilike(pattern) if ignore_case else column.like(pattern)
    name = f'"{column._meta.table._meta.tablename}"."{column._meta.db_column_name}"'
    return WhereRaw(name + " LIKE {} ESCAPE '\\'", pattern)


def icontains(column, text: str):
    """Case-insensitive :func:`contains`."""
    return contains(column, text, ignore_case=True)


SQLITE_MAX_PARAMS = 32_000  # SQLite >= 3.32 allows 32,766 bound parameters per statement


async def insert_many(
    table,
    columns: list,
    rows: list[tuple],
    *,
    conflict,
    returning=None,
    update: list | tuple = (),
    batch: int = 5000,
) -> list[dict]:
    """Set-based INSERT ... ON CONFLICT (conflict) DO NOTHING / DO UPDATE.
    Returns the RETURNING rows (on DO NOTHING: only the rows that were new).

    SQLite: one multi-row statement per ``batch`` rows (at most as many as
    fit SQLite's parameter limit: 1,684 tasks), each in its own short write
    transaction so that other writers wait at most one batch (tens of ms). The statement goes
    straight to the transaction's connection: Piccolo's ``raw()`` walks
    every argument through its query-string machinery, which at 100,000
    rows cost more than the database's own work. Values are adapted by
    the same sqlite3 adapters Piccolo registers.
    PostgreSQL: COPY into a temporary table, then one INSERT ... SELECT."""
    if not rows:
        return []
    if not is_sqlite():
        return await _pg_copy_insert(table, columns, rows, conflict=conflict, returning=returning, update=update)
    names = ", ".join(f'"{c._meta.db_column_name}"' for c in columns)
    one_row = "(" + ", ".join(["?"] * len(columns)) + ")"
    if update:
        action = "DO UPDATE SET " + ", ".join(
            f'"{c._meta.db_column_name}" = excluded."{c._meta.db_column_name}"' for c in update
        )
    else:
        action = "DO NOTHING"
    tail = f' RETURNING "{returning._meta.db_column_name}"' if returning is not None else ""
    batch = max(1, min(batch, SQLITE_MAX_PARAMS // len(columns)))
    json_columns = [n for n, c in enumerate(columns) if type(c).__name__ in ("JSON", "JSONB")]
    out: list[dict] = []
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        sql = (
            f'INSERT INTO "{table._meta.tablename}" ({names}) VALUES {", ".join([one_row] * len(chunk))} '
            f'ON CONFLICT ("{conflict._meta.db_column_name}") {action}{tail}'
        )
        params: list = [value for row in chunk for value in row]
        if json_columns:
            width = len(columns)
            for offset in range(0, len(params), width):
                for n in json_columns:
                    value = params[offset + n]
                    if value is not None and not isinstance(value, str):
                        params[offset + n] = json.dumps(value)
        async with write_transaction() as tx:
            cursor = await tx.connection.execute(sql, params)
            try:
                result = await cursor.fetchall() if returning is not None else []
            finally:
                await cursor.close()
        out.extend(result or [])
    return out


async def _pg_copy_insert(table, columns, rows, *, conflict, returning, update) -> list[dict]:
    """PostgreSQL: COPY the rows into a temporary table (binary, one round
    trip), then one INSERT ... SELECT ... ON CONFLICT: far faster than big
    VALUES lists."""
    import uuid

    column_names = [c._meta.db_column_name for c in columns]
    names = ", ".join(f'"{n}"' for n in column_names)
    temp = f"sigap_tmp_{uuid.uuid4().hex[:12]}"
    if update:
        action = "DO UPDATE SET " + ", ".join(f'"{c._meta.db_column_name}" = excluded."{c._meta.db_column_name}"' for c in update)
    else:
        action = "DO NOTHING"
    tail = f' RETURNING "{returning._meta.db_column_name}"' if returning is not None else ""
    json_columns = {c._meta.db_column_name for c in columns if type(c).__name__ in ("JSON", "JSONB")}
    if json_columns:
        records = [
            tuple(v if n not in json_columns or v is None or isinstance(v, str) else json.dumps(v) for n, v in zip(column_names, row))
            for row in rows
        ]
    else:  # no JSON column: the rows as they are (no per-value check, 100,000 rows x 19 columns)
        records = rows
    async with write_transaction() as tx:
        connection = tx.connection
        await connection.execute(
            f'CREATE TEMP TABLE "{temp}" ON COMMIT DROP AS SELECT {names} FROM "{table._meta.tablename}" WITH NO DATA'
        )
        await connection.copy_records_to_table(temp, records=records, columns=column_names)
        result = await connection.fetch(
            f'INSERT INTO "{table._meta.tablename}" ({names}) SELECT {names} FROM "{temp}" '
            f'ON CONFLICT ("{conflict._meta.db_column_name}") {action}{tail}'
        )
    return [dict(r) for r in result]


_write_locks: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]" = (
    weakref.WeakKeyDictionary()
)


def _write_lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _write_locks.get(loop)
    if lock is None:
        lock = _write_locks[loop] = asyncio.Lock()
    return lock


@asynccontextmanager
async def write_transaction() -> AsyncIterator[object]:
    """The transaction every write runs in (nested calls join the outer one)."""
    engine = get_engine()
    current = engine.current_transaction.get()
    if current is not None:
        yield current
        return
    if isinstance(engine, SQLiteEngine):
        async with _write_lock():
            async with engine.transaction(transaction_type=TransactionType.immediate) as tx:
                yield tx
    else:
        async with engine.transaction() as tx:
            yield tx


def unique_violation(exc: BaseException) -> bool:
    """A unique key refused an insert (SQLite or PostgreSQL): a concurrent
    copy of the same write got there first."""
    import asyncpg

    return isinstance(exc, sqlite3.IntegrityError | asyncpg.UniqueViolationError)


async def lock_row(table, row_id: int) -> None:
    """Inside a write transaction: make concurrent writers of this row wait
    for this one (PostgreSQL ``SELECT ... FOR UPDATE``), so a decision read
    from the row still holds when it is written. SQLite needs nothing: its
    write transactions (BEGIN IMMEDIATE) already run one at a time."""
    if not is_sqlite():
        await table.select(table._meta.primary_key).where(table._meta.primary_key == row_id).lock_rows()


async def _keep_session_state(_connection) -> None:
    """asyncpg's pool ``reset``: nothing beyond what asyncpg always does on
    release (roll back an open transaction, drop listener callbacks). Its
    default also sends ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL`` after every statement run outside a transaction: a second
    round trip for each one. SIGAP leaves no session state on a pooled
    connection (no SET, LISTEN, cursor outside a transaction or session
    advisory lock: the scheduler's leader lock has its own connection), so
    that statement had nothing to undo. tests/sigap/test_db.py asserts no
    such statement is sent."""


async def start(engine: Engine | None = None, *, sqlite_readers: int = 4, pg_pool_size: int = 10) -> None:
    """Open the pool: PostgreSQL connections, or SQLite read connections."""
    engine = engine or get_engine()
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(min_size=1, max_size=pg_pool_size, reset=_keep_session_state)
    elif isinstance(engine, SigapSQLiteEngine):
        await engine.start_connection_pool(size=sqlite_readers)


async def stop(engine: Engine | None = None) -> None:
    engine = engine or get_engine()
    if isinstance(engine, PostgresEngine | SigapSQLiteEngine):
        await engine.close_connection_pool()


async def ping() -> None:
    """Raise if the database cannot answer a trivial query."""
    await asyncio.wait_for(get_engine().run_ddl("SELECT 1"), timeout=5)
