"""Test harness: one pass of the suite runs on the database named by
``SIGAP_TEST_DB`` (``sqlite`` or ``postgres``); ``make test`` runs both.

The environment is set before anything imports SIGAP, so every engine,
storage and secret the code picks up is the test's own. Under ``CI=true`` an
unreachable PostgreSQL or Redis is an error, never a skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

BACKEND = os.environ.get("SIGAP_TEST_DB", "sqlite")
CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get("SIGAP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("SIGAP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"

TMP = Path(tempfile.mkdtemp(prefix=f"sigap-test-{BACKEND}-"))
PG_DBNAME = f"sigap_test_{uuid.uuid4().hex[:10]}"


def pg_url(dbname: str) -> str:
    base, _sep, _old = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{dbname}"


async def _pg_admin(sql: str) -> None:
    import asyncpg

    con = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await con.execute(sql)
    finally:
        await con.close()


def pg_admin(sql: str) -> None:
    asyncio.run(_pg_admin(sql))


if BACKEND == "postgres":
    try:
        pg_admin(f'CREATE DATABASE "{PG_DBNAME}"')
    except Exception as exc:  # noqa: BLE001 - reported below, in words
        message = f"PostgreSQL at {PG_ADMIN_URL} is not usable: {exc!r}"
        if CI:
            raise RuntimeError(message) from exc
        pytest.exit(f"{message} - the PostgreSQL pass did NOT run", returncode=1)
    DATABASE_URL = pg_url(PG_DBNAME)
elif BACKEND == "sqlite":
    DATABASE_URL = f"sqlite:///{TMP / 'sigap.sqlite3'}"
else:
    raise RuntimeError(f"SIGAP_TEST_DB must be sqlite or postgres, not {BACKEND!r}")

TEST_ENV = {
    "SIGAP_VAR_DIR": str(TMP / "var"),
    "SIGAP_DATABASE_URL": DATABASE_URL,
    "SIGAP_STORAGE_URL": f"file://{TMP / 'documents'}",
    "SIGAP_SECRET_KEY": "test-secret-key-not-for-production",
    "SIGAP_LOG_LEVEL": "WARNING",
    # Real argon2 with cheap parameters; test_passwords checks the default.
    "SIGAP_PASSWORD_HASH_PROFILE": "fast",
    # Jobs run when a test calls them, with its own `now` (test_jobs starts
    # the real scheduler on purpose).
    "SIGAP_SCHEDULER": "0",
    # The public pages' per-address limit is off: every test client has one
    # address; tests/registry/test_public_register.py turns it on.
    "SIGAP_PUBLIC_RATE_LIMIT": "0",
    # Servers the tests start run one worker: on a 2-core machine that also
    # runs Chromium, two cold workers per server made the browser tests'
    # timings depend on load. Several workers have their own tests
    # (tests/sigap/test_workers.py sets SIGAP_WORKERS=2).
    "SIGAP_WORKERS": "1",
}
os.environ.update(TEST_ENV)
for name in ("SIGAP_REDIS_URL", "SIGAP_SMTP_URL", "SIGAP_TRUST_PROXY"):
    os.environ.pop(name, None)


def pytest_report_header(config: pytest.Config) -> str:
    return f"SIGAP database backend: {BACKEND} ({DATABASE_URL})"


def pytest_configure(config: pytest.Config) -> None:
    # Marks the run in the junit/terminal summary for readers of CI logs.
    config.addinivalue_line("markers", "postgres_only: runs only in the PostgreSQL pass")
    config.addinivalue_line("markers", "sqlite_only: runs only in the SQLite pass")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A test that belongs to the other pass is deselected (not skipped): the
    # other pass runs it.
    keep, drop = [], []
    for item in items:
        other = "sqlite_only" if BACKEND == "postgres" else "postgres_only"
        (drop if item.get_closest_marker(other) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session", autouse=True)
def database() -> Iterator[str]:
    """A fresh database, migrated from empty by the real migrations."""
    from sigap.cli import main

    assert main(["migrate"]) == 0
    yield DATABASE_URL
    if BACKEND == "postgres":
        try:
            pg_admin(f'DROP DATABASE IF EXISTS "{PG_DBNAME}" WITH (FORCE)')
        except Exception:  # noqa: BLE001 - cleanup only
            pass


REFERENCE_TABLES = {"registry_region"}


async def _truncate() -> None:
    from sigap.db import all_tables, get_engine, is_sqlite

    engine = get_engine()
    # Reference data loaded by `sigap migrate` stays.
    names = [t._meta.tablename for t in all_tables() if t._meta.tablename not in REFERENCE_TABLES]
    if is_sqlite():
        for name in names:
            await engine.run_ddl(f'DELETE FROM "{name}"', in_pool=False)
    else:
        joined = ", ".join(f'"{n}"' for n in names)
        await engine.run_ddl(f"TRUNCATE {joined} RESTART IDENTITY CASCADE", in_pool=False)


def run_async_in_thread(fn: Callable[[], object]) -> object:
    """``asyncio.run(fn())`` in a fresh thread: usable even where an event
    loop is running in this thread (Playwright's sync API keeps one)."""
    result: list[object] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            result.append(asyncio.run(fn()))
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors.append(exc)

    thread = threading.Thread(target=target, name="sigap-test-async")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


@pytest.fixture(autouse=True)
def clean_database(database: str) -> Iterator[None]:
    yield
    run_async_in_thread(_truncate)


@pytest.fixture
def settings():
    from sigap.settings import Settings

    return Settings.from_env()


@pytest.fixture
def app(settings):
    from sigap.app import create_app

    return create_app(settings)


@pytest.fixture
def client(app):
    from litestar.testing import TestClient

    with TestClient(app, base_url="http://127.0.0.1:8000") as test_client:
        yield test_client


@pytest.fixture
def call(client) -> Callable:
    """Run an async function in the app's own event loop (where its
    database pool lives): ``call(service_fn, *args, **kwargs)``."""

    def _call(fn, *args, **kwargs):
        return call_in_portal(client.blocking_portal, fn, *args, **kwargs)

    return _call


CALL_TIMEOUT_S = 120.0


def call_in_portal(portal, fn, *args, **kwargs):
    """``portal.call(fn, ...)`` that gives up after CALL_TIMEOUT_S seconds
    with a clear failure, instead of waiting for ever on a stuck event loop."""
    import concurrent.futures

    future = portal.start_task_soon(functools.partial(fn, *args, **kwargs))
    try:
        return future.result(timeout=CALL_TIMEOUT_S)
    except concurrent.futures.TimeoutError:
        future.cancel()
        pytest.fail(f"{getattr(fn, '__qualname__', fn)!s} did not return within {CALL_TIMEOUT_S:.0f} s: "
                    "the app's event loop is stuck", pytrace=False)


def wait_until(read: Callable[[], object], done: Callable[[object], bool], *, what: str, timeout: float = 15.0) -> object:
    """Poll ``read()`` every 0.1 s until ``done(value)``; after ``timeout``
    seconds fail, saying what was awaited and the last value read."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"{what}: still not so after {timeout:.0f} s (last value: {value!r})", pytrace=False)
        time.sleep(0.1)


# --- accounts ------------------------------------------------------------------

def password_for(username: str) -> str:
    """A valid password for a test account (never containing the username)."""
    import hashlib

    return "Tangguh-" + hashlib.sha256(username.encode()).hexdigest()[:10]


LKS_DEFAULTS = {
    "kind": "lksa",
    "legal_entity": True,
    "yayasan_name": "Yayasan Uji Coba",
    "address": "Jl. Melati No. 1",
    "rt": "001",
    "rw": "002",
    "kelurahan_code": "36.71.11.1005",  # Kunciran Indah, Pinang
    "capacity": 30,
}


@pytest.fixture
def make_lks(call) -> Callable[..., dict]:
    """Register an LKS through the real service, as Dinsos staff."""
    from datetime import datetime, timezone

    from registry import services
    from sigap.audit import Actor
    from sigap.tables import Role

    counter = {"n": 0}

    def _make(name: str | None = None, **fields) -> dict:
        counter["n"] += 1
        data = {**LKS_DEFAULTS, "name": name or f"LKSA Uji {counter['n']}", **fields}
        row, _warnings = call(
            services.create_lks, Actor(user_id=None, username="test", role=Role.staff), data, now=datetime.now(timezone.utc)
        )
        return row

    return _make


def create_user(call, username: str, role: str = "staff", **extra) -> dict:
    """An account made through the real service; password: password_for(username)."""
    from datetime import datetime, timezone

    from sigap import accounts
    from sigap.audit import Actor

    return call(
        accounts.create_user,
        Actor.system("test"),
        username=username,
        role=role,
        password=password_for(username),
        now=datetime.now(timezone.utc),
        **extra,
    )


@pytest.fixture
def make_user(call, make_lks) -> Callable[..., dict]:
    """Create an account through the real service; password: password_for(username).
    A manager without ``lks_id`` gets a new LKS of their own."""

    def _make(username: str, role: str = "staff", **extra) -> dict:
        if role == "manager" and "lks_id" not in extra:
            extra["lks_id"] = make_lks(f"LKS milik {username}")["id"]
        return create_user(call, username, role, **extra)

    return _make


@contextlib.contextmanager
def app_client(app) -> Iterator[tuple]:
    """A client for an app a test builds itself, and a ``call`` bound to that
    app's event loop. One process has one database pool, so while this runs
    no other app may serve: a test using it takes neither the ``client`` nor
    the ``call`` fixture (nor those built on them, like ``make_user``)."""
    from litestar.testing import TestClient

    with TestClient(app, base_url="http://127.0.0.1:8000") as test_client:

        def _call(fn, *args, **kwargs):
            return call_in_portal(test_client.blocking_portal, fn, *args, **kwargs)

        yield test_client, _call


def csrf_token(client) -> str:
    """The CSRF cookie of ``client`` (fetching a page first if it has none)."""
    token = client.cookies.get("sigap_csrf")
    if not token:
        client.get("/login")
        token = client.cookies.get("sigap_csrf")
    assert token, "the server did not set a CSRF cookie"
    return token


def login(client, username: str, password: str | None = None):
    """Sign in through the HTML form, as a browser would."""
    client.cookies.delete("sigap_session") if "sigap_session" in client.cookies else None
    response = client.post(
        "/login",
        data={"username": username, "password": password or password_for(username), "_csrf_token": csrf_token(client), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return response


def form(client, path: str, data: dict | None = None, **kwargs):
    """POST an HTML form with the CSRF token."""
    payload = {"_csrf_token": csrf_token(client), **(data or {})}
    return client.post(path, data=payload, follow_redirects=False, **kwargs)


@pytest.fixture
def as_role(client, make_user) -> Callable[[str], dict]:
    """Sign ``client`` in as a fresh user of ``role``; returns the user row."""
    counter = {"n": 0}

    def _as(role: str, **extra) -> dict:
        counter["n"] += 1
        user = make_user(f"{role}{counter['n']}", role, **extra)
        client.cookies.clear()
        login(client, user["username"])
        return user

    return _as


# --- a real server process -----------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    def __init__(self, env: dict[str, str], port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = TMP / f"server-{port}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sigap.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def wait_healthy(self, timeout: float = 30) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self._log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def start_server() -> Iterator[Callable[..., ServerProcess]]:
    servers: list[ServerProcess] = []

    def _start(env: dict[str, str] | None = None, wait: bool = True) -> ServerProcess:
        server = ServerProcess(env or {}, free_port())
        servers.append(server)
        if wait:
            server.wait_healthy()
        return server

    yield _start
    for server in servers:
        server.stop()


class QueryCounter:
    """The SQL statements the app ran while counting (from every thread)."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __len__(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()


@pytest.fixture
def count_queries(monkeypatch) -> QueryCounter:
    """Counts every statement the database engine runs (queries through
    Piccolo and raw SQL), so that a test can assert a page's query count
    and that it does not grow with the rows shown (an N+1 fails)."""
    from sigap.db import get_engine

    counter = QueryCounter()
    engine_class = type(get_engine())
    run_querystring, run_ddl = engine_class.run_querystring, engine_class.run_ddl

    async def counted_querystring(self, querystring, *args, **kwargs):
        counter.statements.append(str(querystring)[:300])
        return await run_querystring(self, querystring, *args, **kwargs)

    async def counted_ddl(self, ddl, *args, **kwargs):
        counter.statements.append(str(ddl)[:300])
        return await run_ddl(self, ddl, *args, **kwargs)

    monkeypatch.setattr(engine_class, "run_querystring", counted_querystring)
    monkeypatch.setattr(engine_class, "run_ddl", counted_ddl)
    return counter
