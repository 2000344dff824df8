"""Server processes for the benchmarks: the real SIGAP app and the bare baseline.

Each server is a separate process (``python -m ...``) listening on a free
loopback port. Everything here is a context manager: leaving the ``with``
block, normally or by an exception, stops the process (SIGTERM, then SIGKILL
after a timeout) and drops what was created for it.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # every benchmark server listens here, and only here
LOOPBACK_NAMES = {"127.0.0.1", "localhost", "::1"}
DEFAULT_POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# Settings of every benchmarked SIGAP server (printed with the results).
SERVER_SETTINGS = {
    "SIGAP_LOG_LEVEL": "WARNING",
    # No scheduled jobs in the measured process: their catch-up runs at
    # start-up would compete with the load (at 100,000 LKS the monitoring
    # plan alone takes over a minute).
    "SIGAP_SCHEDULER": "0",
}


class BenchError(RuntimeError):
    """A benchmark could not run, or ran but its figures are worthless."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment without any SIGAP_* setting of the caller
    (a developer's Redis or SMTP must not leak in), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGAP_")}
    env.update(extra)
    return env


class ServerProcess:
    """One server process whose output goes to a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.port = port
        self.url = f"http://{HOST}:{port}"
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise BenchError(f"{self.name} is not running")
        return self.proc.pid

    def start(self) -> None:
        with self.log_path.open("wb") as log:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)

    def wait_ready(self, path: str, timeout: float = 120.0) -> None:
        """Poll ``GET path`` until it answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited during start-up:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + path, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise BenchError(f"{self.name} was not ready on {self.url}{path} after {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"


@contextmanager
def running(server: ServerProcess, ready_path: str) -> Iterator[ServerProcess]:
    try:
        server.start()
        server.wait_ready(ready_path)
        yield server
    finally:
        server.stop()


# --- the bare baseline -----------------------------------------------------------


@contextmanager
def bare_server(workdir: Path, workers: int = 1) -> Iterator[ServerProcess]:
    """The baseline, with as many worker processes as SIGAP gets (a fair ratio)."""
    port = free_port()
    server = ServerProcess(
        "bare Litestar app",
        [sys.executable, "-m", "bench.bare_app", "--port", str(port), "--workers", str(workers)],
        child_env({}),
        port,
        workdir / "bare.log",
    )
    with running(server, "/"):
        yield server


# --- the real app ------------------------------------------------------------------


def _require_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK_NAMES:
        raise BenchError(f"benchmarks talk to this machine only; refusing {host!r}")


async def _pg_admin(admin_url: str, sql: str) -> None:
    import asyncpg

    con = await asyncpg.connect(admin_url, timeout=5)
    try:
        await con.execute(sql)
    finally:
        await con.close()


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database; yields its URL, drops it after."""
    _require_loopback(admin_url)
    name = f"sigap_bench_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_pg_admin(admin_url, f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - reported in words
        raise BenchError(f"PostgreSQL at {admin_url} is not usable: {exc!r}") from exc
    try:
        yield admin_url.rpartition("/")[0] + "/" + name
    finally:
        # FORCE: a connection the app left behind must not keep the database.
        asyncio.run(_pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class SigapApp:
    server: ServerProcess
    env: dict[str, str]
    database: str  # "sqlite" or "postgres"
    username: str = ""  # who sign_in() signed in as
    cookies: dict[str, str] = field(default_factory=dict)  # set by sign_in()

    @property
    def url(self) -> str:
        return self.server.url

    def cli(self, *args: str, stdin: str | None = None) -> str:
        """Run ``python -m sigap.cli ARGS`` against this app's database."""
        return run_cli(list(args), self.env, stdin=stdin)

    def create_user(self, username: str, password: str, role: str) -> None:
        self.cli("user", "create", "--username", username, "--role", role, "--password-stdin", stdin=password + "\n")

    def sign_in(self, username: str, password: str) -> dict[str, str]:
        """Sign in through the JSON API; keeps and returns every cookie the
        response set (the session, and the CSRF and language cookies a browser
        would send back too)."""
        response = httpx.post(
            self.url + "/api/v1/auth/login", json={"username": username, "password": password}, timeout=30
        )
        if response.status_code != 200 or "sigap_session" not in response.cookies:
            raise BenchError(f"sign-in as {username} failed: HTTP {response.status_code} {response.text[:500]}")
        self.username = username
        self.cookies = dict(response.cookies)
        return self.cookies

    @property
    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


def run_cli(args: list[str], env: dict[str, str], stdin: str | None = None) -> str:
    argv = [sys.executable, "-m", "sigap.cli", *args]
    result = subprocess.run(argv, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise BenchError(f"`sigap {' '.join(args)}` failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout


def fill_lks(env: dict[str, str], count: int, timeout: float = 900) -> str:
    """Add ``count`` synthetic LKS to the (migrated, not yet served) database
    of ``env`` with ``python -m bench.data``; returns its report line."""
    argv = [sys.executable, "-m", "bench.data", "--database-url", env["SIGAP_DATABASE_URL"], "--count", str(count)]
    try:
        result = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"generating {count:,} LKS took more than {timeout:.0f} s") from exc
    if result.returncode != 0:
        raise BenchError(f"generating {count:,} LKS failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout.strip()


@contextmanager
def sigap_server(
    workdir: Path,
    database: str,
    postgres_admin_url: str,
    *,
    lks_rows: int = 0,
    extra_env: dict[str, str] | None = None,
    workers: int = 1,
    world: bool = False,
) -> Iterator[SigapApp]:
    """Migrate a fresh database, add ``lks_rows`` generated LKS (bench/data.py)
    and the demo world (bench/world.py) when asked, and serve SIGAP on it
    (``sigap serve`` with ``workers`` processes, unless ``extra_env`` sets
    SIGAP_WORKERS) with ``extra_env`` (SIGAP_* settings a scenario needs) on
    top of the benchmark's settings."""
    with ExitStack() as stack:  # exits in reverse: the server stops before its database is dropped
        if database == "postgres":
            database_url = stack.enter_context(postgres_database(postgres_admin_url))
        elif database == "sqlite":
            database_url = f"sqlite:///{workdir / 'sigap.sqlite3'}"  # four slashes: absolute path
        else:
            raise BenchError(f"unknown database {database!r}")
        env = child_env(
            {
                "SIGAP_VAR_DIR": str(workdir / "var"),
                "SIGAP_DATABASE_URL": database_url,
                "SIGAP_STORAGE_URL": f"file://{workdir / 'documents'}",
                "SIGAP_SECRET_KEY": "bench-secret-key-not-for-production",
                **SERVER_SETTINGS,
                "SIGAP_WORKERS": str(workers),
                **(extra_env or {}),
            }
        )
        run_cli(["migrate"], env)
        if lks_rows:
            print(f"  generating {lks_rows:,} LKS before the server starts ...", flush=True)
            print(f"    {fill_lks(env, lks_rows)}", flush=True)
        if world:
            from bench import world as demo_world

            print("  loading the demo world (sigap demo, then the plan and alerts jobs) ...", flush=True)
            demo_world.load(lambda *args: run_cli(list(args), env))
        port = free_port()
        server = ServerProcess(
            f"SIGAP ({database})",
            [sys.executable, "-m", "sigap.cli", "serve", "--port", str(port)],
            env,
            port,
            workdir / "sigap.log",
        )
        # /readyz answers 200 only once the database answers too.
        stack.enter_context(running(server, "/readyz"))
        yield SigapApp(server=server, env=env, database=database)
