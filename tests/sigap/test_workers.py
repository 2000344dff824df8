"""`sigap serve --workers N`: several processes serve one database; sessions,
CSRF and uploads work whichever worker answers; the scheduler runs in exactly
one of them, and when that one dies a standby takes over (SQLite: a file
lock under SIGAP_VAR_DIR; PostgreSQL: an advisory lock)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid

import httpx
import pytest

from tests.conftest import BACKEND, LKS_DEFAULTS, ROOT, TMP, ServerProcess, free_port, password_for, pg_admin, pg_url

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + os.urandom(50_000)


@pytest.fixture
def two_workers():
    """Two workers on a database of their own, the scheduler on, retrying every 0.3 s."""
    folder = TMP / f"workers-{uuid.uuid4().hex[:6]}"
    env = {
        "SIGAP_VAR_DIR": str(folder / "var"),
        "SIGAP_STORAGE_URL": f"file://{folder / 'documents'}",
        "SIGAP_SCHEDULER": "1",
        "SIGAP_SCHEDULER_RETRY_S": "0.3",
        "SIGAP_WORKERS": "2",
        "SIGAP_LOG_LEVEL": "INFO",  # the scheduler says which role it took
    }
    dbname = f"sigap_workers_{uuid.uuid4().hex[:8]}"
    if BACKEND == "postgres":
        pg_admin(f'CREATE DATABASE "{dbname}"')
        env["SIGAP_DATABASE_URL"] = pg_url(dbname)
    else:
        env["SIGAP_DATABASE_URL"] = f"sqlite:///{folder / 'sigap.sqlite3'}"

    def sigap(*args: str, stdin: str | None = None) -> None:
        done = subprocess.run([sys.executable, "-m", "sigap.cli", *args], cwd=ROOT, env={**os.environ, **env},
                              input=stdin, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr

    sigap("migrate")
    sigap("user", "create", "--username", "petugas", "--role", "staff", "--password-stdin", stdin=password_for("petugas"))
    server = ServerProcess(env, free_port())
    try:
        server.wait_healthy(timeout=60)
        yield server
    finally:
        server.stop()
        if BACKEND == "postgres":
            pg_admin(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def _roles(server: ServerProcess) -> list[tuple[str, int]]:
    """(role, pid) from the scheduler's log lines, in order."""
    found = []
    for line in server.log_text().splitlines():
        m = re.search(r'"msg": "scheduler: (leader|standby|this process is now the leader)[^"]*", "pid": (\d+)', line)
        if m:
            found.append(("leader" if "leader" in m.group(1) else "standby", int(m.group(2))))
    return found


def _wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def _roles_when(server: ServerProcess, count: int) -> list[tuple[str, int]]:
    try:
        return _wait_for(lambda: (lambda r: r if len(r) >= count else None)(_roles(server)))
    except AssertionError:
        raise AssertionError(f"expected {count} scheduler log lines: {_roles(server)}\n{server.log_text()[-3000:]}") from None


def test_one_scheduler_among_workers_and_a_standby_takes_over(two_workers):
    server = two_workers
    roles = _roles_when(server, 2)
    assert sorted(role for role, _pid in roles) == ["leader", "standby"], roles
    leader = next(pid for role, pid in roles if role == "leader")
    standby = next(pid for role, pid in roles if role == "standby")
    assert leader != standby and server.proc.pid not in (leader, standby)  # both are workers, not the supervisor

    os.kill(leader, signal.SIGKILL)  # a crash: no clean shutdown, the lock goes with the process
    roles = _roles_when(server, 3)
    assert roles[2] == ("leader", standby), roles  # the standby took over
    # The supervisor starts a new worker, which waits as standby: still one leader.
    roles = _roles_when(server, 4)
    assert roles[3][0] == "standby" and roles[3][1] not in (leader, standby), roles
    time.sleep(1.0)  # several retry periods: nobody else claims it
    assert [pid for role, pid in _roles(server) if role == "leader"] == [leader, standby]


def test_sessions_csrf_and_uploads_work_whichever_worker_answers(two_workers):
    server = two_workers
    # A fresh connection per request: the kernel hands each to either worker.
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(base_url=server.url, limits=limits, timeout=30) as client:
        client.get("/login")
        csrf = client.cookies["sigap_csrf"]
        r = client.post("/login", data={"username": "petugas", "password": password_for("petugas"), "_csrf_token": csrf, "next": "/"})
        assert r.status_code in (200, 303), r.text
        headers = {"X-CSRFToken": client.cookies["sigap_csrf"]}
        lks = client.post("/api/v1/lks", json={**LKS_DEFAULTS, "name": "LKSA Dua Pekerja"}, headers=headers)
        assert lks.status_code == 201, lks.text
        up = client.post(f"/api/v1/lks/{lks.json()['id']}/documents", files={"file": ("akta.pdf", PDF, "application/pdf")},
                         data={"doc_type": "akta_pendirian"}, headers=headers)
        assert up.status_code == 201, up.text
        for _ in range(12):
            assert client.get("/api/v1/auth/me").status_code == 200
            got = client.get(f"/api/v1/documents/{up.json()['id']}/content")
            assert got.status_code == 200 and got.content == PDF
            page = client.get(f"/lks/{lks.json()['id']}")
            assert page.status_code == 200 and "LKSA Dua Pekerja" in page.text


def test_the_workers_listen_on_a_tcp_socket():
    """asyncio sets TCP_NODELAY only on connections accepted from an
    IPPROTO_TCP socket; uvicorn's own multi-worker socket has protocol 0 and
    every kept-alive answer then waits ~40 ms for a delayed ACK."""
    import socket

    from sigap.serving import tcp_socket

    sock = tcp_socket("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP and sock.get_inheritable()
    finally:
        sock.close()
