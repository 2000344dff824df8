"""Document storage against the real things: a local folder and a real S3
server (SeaweedFS, started once per session by ``tests.s3``). No mocks."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from sigap.storage import (
    CHUNK_SIZE,
    InvalidKey,
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    Storage,
    StorageError,
    iter_reader,
    make_storage,
)
from tests.conftest import ROOT
from tests.s3 import S3Server, s3_server  # noqa: F401 - registers the fixture

MiB = 1024 * 1024


def run(fn, *args):
    return anyio.run(fn, *args)


def write_file(path: Path, size: int, seed: bytes = b"") -> str:
    """Write ``size`` pseudo-random bytes to ``path`` chunk by chunk; their SHA-256."""
    digest = hashlib.sha256()
    block = hashlib.sha256(seed or os.urandom(16)).digest() * (MiB // 32)
    counter = 0
    with path.open("wb") as out:
        while size > 0:
            counter += 1
            chunk = (counter.to_bytes(8, "big") + block)[: min(MiB, size)]
            out.write(chunk)
            digest.update(chunk)
            size -= len(chunk)
    return digest.hexdigest()


async def read_all(storage: Storage, key: str) -> bytes:
    return b"".join([chunk async for chunk in storage.iter_chunks(key)])


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path) -> Iterator[Storage]:
    """Each backend, empty: a folder in tmp_path or a fresh prefix in the bucket."""
    if request.param == "local":
        store: Storage = LocalStorage(tmp_path / "documents")
    else:
        server: S3Server = request.getfixturevalue("s3_server")
        store = server.storage()
    yield store
    store.close()


# --- the happy paths, on both backends -----------------------------------------


def test_check_passes(storage):
    run(storage.check)


def test_round_trip_of_a_few_megabytes(storage, tmp_path):
    # 9 MiB and a bit: a multipart upload on S3 (two 5 MiB parts).
    source = tmp_path / "scan.pdf"
    expected = write_file(source, 9 * MiB + 12345)

    async def scenario():
        with source.open("rb") as f:
            await storage.put("lks/12/documents/scan.pdf", f)
        assert await storage.exists("lks/12/documents/scan.pdf")
        reader = await storage.open("lks/12/documents/scan.pdf")
        digest, size = hashlib.sha256(), 0
        with reader:
            while chunk := await anyio.to_thread.run_sync(reader.read, MiB):
                digest.update(chunk)
                size += len(chunk)
        return digest.hexdigest(), size

    digest, size = run(scenario)
    assert size == 9 * MiB + 12345
    assert digest == expected


def test_iter_chunks_streams_in_several_chunks(storage, tmp_path):
    source = tmp_path / "photo.jpg"
    expected = write_file(source, 4 * CHUNK_SIZE + 7)

    async def scenario():
        with source.open("rb") as f:
            await storage.put("photo.jpg", f)
        default = [len(c) async for c in storage.iter_chunks("photo.jpg")]
        small = []
        digest = hashlib.sha256()
        async for chunk in storage.iter_chunks("photo.jpg", chunk_size=100_000):
            small.append(len(chunk))
            digest.update(chunk)
        return default, small, digest.hexdigest()

    default, small, digest = run(scenario)
    assert len(default) == 5 and max(default) <= CHUNK_SIZE and sum(default) == 4 * CHUNK_SIZE + 7
    assert len(small) >= 11 and max(small) <= 100_000
    assert digest == expected


def test_open_then_stream_stops_early_and_closes(storage, tmp_path):
    """The shape of a download handler: open (a missing object fails here,
    before any response is sent), stream, client goes away mid-way."""
    source = tmp_path / "report.pdf"
    write_file(source, 3 * CHUNK_SIZE)

    async def scenario():
        with pytest.raises(ObjectNotFound):
            await storage.open("missing.pdf")
        with source.open("rb") as f:
            await storage.put("report.pdf", f)
        reader = await storage.open("report.pdf")
        chunks = iter_reader(reader, CHUNK_SIZE)
        first = await chunks.__anext__()
        await chunks.aclose()
        return len(first), reader.closed

    assert run(scenario) == (CHUNK_SIZE, True)


def test_put_replaces_the_object(storage, tmp_path):
    first, second = tmp_path / "v1", tmp_path / "v2"
    first.write_bytes(b"first version, longer than the second one")
    second.write_bytes(b"second version")

    async def scenario():
        with first.open("rb") as f:
            await storage.put("akta.pdf", f)
        with second.open("rb") as f:
            await storage.put("akta.pdf", f)
        return await read_all(storage, "akta.pdf")

    assert run(scenario) == b"second version"
    if isinstance(storage, LocalStorage):
        # Written through a temporary file and renamed: nothing left over.
        assert sorted(p.name for p in storage.root.iterdir()) == ["akta.pdf"]
        assert (storage.root / "akta.pdf").stat().st_mode & 0o077 == 0


def test_put_reads_from_the_current_position(storage, tmp_path):
    source = tmp_path / "with-header"
    source.write_bytes(b"HEADER" + b"body")

    async def scenario():
        with source.open("rb") as f:
            f.read(6)
            await storage.put("body", f)
        return await read_all(storage, "body")

    assert run(scenario) == b"body"


def test_delete_then_exists_is_false_and_deleting_nothing_is_fine(storage, tmp_path):
    source = tmp_path / "x"
    source.write_bytes(b"x" * 1000)

    async def scenario():
        with source.open("rb") as f:
            await storage.put("a/b/c.txt", f)
        assert await storage.exists("a/b/c.txt")
        assert not await storage.exists("a/b")  # a "folder" is not an object
        await storage.delete("a/b/c.txt")
        assert not await storage.exists("a/b/c.txt")
        await storage.delete("a/b/c.txt")  # again: not an error
        await storage.delete("never/was/here.pdf")
        with pytest.raises(ObjectNotFound):
            await storage.open("a/b/c.txt")
        with pytest.raises(ObjectNotFound):
            await read_all(storage, "never/was/here.pdf")

    run(scenario)


BAD_KEYS = ["", "/etc/passwd", "../outside", "a/../../outside", "a//b", "a/./b", "a/", "a\\b", "a\x00b", "tab\there", "x" * 1000]


def test_bad_keys_are_rejected(storage, tmp_path):
    source = tmp_path / "payload"
    source.write_bytes(b"payload")

    async def scenario(key):
        with source.open("rb") as f:
            with pytest.raises(InvalidKey) as put_error:
                await storage.put(key, f)
        for operation in (storage.open, storage.exists, storage.delete):
            with pytest.raises(InvalidKey):
                await operation(key)
        with pytest.raises(InvalidKey):
            await read_all(storage, key)
        return put_error.value

    for key in BAD_KEYS:
        error = run(scenario, key)
        # Both a storage failure and a plain ValueError for callers that validate.
        assert isinstance(error, StorageError) and isinstance(error, ValueError), key
    if isinstance(storage, LocalStorage):
        assert not (tmp_path / "outside").exists() and not storage.root.exists()


def test_unicode_and_spaces_in_keys(storage, tmp_path):
    source = tmp_path / "payload"
    source.write_bytes(b"surat")
    key = "lks/36.71.11/Surat Keterangan Domisili — Kunciran (1).pdf"

    async def scenario():
        with source.open("rb") as f:
            await storage.put(key, f)
        return await storage.exists(key), await read_all(storage, key)

    assert run(scenario) == (True, b"surat")


# --- failures --------------------------------------------------------------------


def test_s3_on_a_closed_port_fails_quickly(tmp_path):
    source = tmp_path / "payload"
    source.write_bytes(b"payload")
    with socket.socket() as reserved:  # bound, not listening: connection refused
        reserved.bind(("127.0.0.1", 0))
        port = reserved.getsockname()[1]
        store = S3Storage("documents", "p", f"http://127.0.0.1:{port}", access_key="k", secret_key="the-secret-key")
        try:
            for attempt in (store.check, lambda: _put(store, "x", source), lambda: store.exists("x")):
                started = time.monotonic()
                with pytest.raises(StorageError) as error:
                    run(attempt)
                assert time.monotonic() - started < 15
                assert "the-secret-key" not in str(error.value)
                assert "EndpointConnectionError" in str(error.value)
        finally:
            store.close()


def test_s3_that_accepts_but_never_answers_fails_the_check_in_seconds():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # connections complete in the kernel; nobody answers
        store = S3Storage("documents", "", f"http://127.0.0.1:{silent.getsockname()[1]}", access_key="k", secret_key="s")
        try:
            started = time.monotonic()
            with pytest.raises(StorageError, match="ReadTimeoutError"):
                run(store.check)
            assert time.monotonic() - started < 10
        finally:
            store.close()


@pytest.mark.parametrize("wrong", ["secret", "access-key"])
def test_s3_with_wrong_credentials(s3_server, tmp_path, wrong):
    source = tmp_path / "payload"
    source.write_bytes(b"payload")
    bad_secret = "wrong-" + s3_server.secret_key if wrong == "secret" else s3_server.secret_key
    access_key = s3_server.access_key if wrong == "secret" else "nobody"
    store = s3_server.storage(access_key=access_key, secret_key=bad_secret)
    try:
        for attempt in (store.check, lambda: _put(store, "x", source), lambda: store.exists("x"), lambda: store.open("x")):
            started = time.monotonic()
            with pytest.raises(StorageError) as error:
                run(attempt)
            assert time.monotonic() - started < 5  # an authorisation error is not retried
            assert bad_secret not in str(error.value) and s3_server.secret_key not in str(error.value)
            assert not isinstance(error.value, ObjectNotFound)
    finally:
        store.close()


def test_s3_with_a_missing_bucket(s3_server):
    store = S3Storage(
        "no-such-bucket-here", "", s3_server.endpoint_url,
        access_key=s3_server.access_key, secret_key=s3_server.secret_key,
    )
    try:
        with pytest.raises(StorageError, match="no-such-bucket-here"):
            run(store.check)
    finally:
        store.close()


def test_local_folder_that_cannot_be_created(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("a regular file where the folder should be")
    source = tmp_path / "payload"
    source.write_bytes(b"payload")
    for root in (blocker, blocker / "documents"):
        store = LocalStorage(root)
        with pytest.raises(StorageError):
            run(store.check)
        with pytest.raises(StorageError):
            run(_put, store, "lks/1/akta.pdf", source)
        with pytest.raises(StorageError):
            run(store.open, "lks/1/akta.pdf")
        assert run(store.exists, "lks/1/akta.pdf") is False
    assert blocker.read_text().startswith("a regular file")


def test_local_put_of_a_failing_source_leaves_nothing(tmp_path):
    class Broken:
        def __init__(self):
            self.calls = 0

        def read(self, n=-1):
            self.calls += 1
            if self.calls > 2:
                raise OSError("the upload was cut off")
            return b"x" * 1000

    store = LocalStorage(tmp_path / "documents")
    with pytest.raises(StorageError, match="cut off"):
        run(store.put, "half.pdf", Broken())
    assert list((tmp_path / "documents").iterdir()) == []


async def _put(store: Storage, key: str, path: Path) -> None:
    with path.open("rb") as f:
        await store.put(key, f)


# --- configuration ----------------------------------------------------------------


def test_make_storage_reads_urls(tmp_path, monkeypatch):
    local = make_storage(f"file://{tmp_path}/docs%20here")
    assert isinstance(local, LocalStorage) and local.root == tmp_path / "docs here"
    monkeypatch.setenv("SIGAP_S3_ENDPOINT_URL", "http://127.0.0.1:1")
    import sigap.settings  # the settings read (and check) every SIGAP_* variable

    monkeypatch.setattr(sigap.settings, "_current", sigap.settings.Settings.from_env())
    s3 = make_storage("s3://bucket-name/some/prefix/")
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix, s3.endpoint_url) == ("bucket-name", "some/prefix", "http://127.0.0.1:1")
    s3.close()
    s3 = make_storage("s3://bucket-name", "http://127.0.0.1:2")
    assert (s3.prefix, s3.endpoint_url) == ("", "http://127.0.0.1:2")
    s3.close()
    for bad in ("ftp://x/y", "s3:///prefix", "documents", "s3://bucket/../up"):
        with pytest.raises(ValueError):
            make_storage(bad)


def test_the_app_reads_s3_settings_from_the_environment(s3_server, monkeypatch):
    """SIGAP_STORAGE_URL + SIGAP_S3_ENDPOINT_URL + AWS_* are all it takes."""
    import sigap.settings
    from litestar.testing import TestClient

    from sigap.app import create_app
    from sigap.settings import Settings

    env = s3_server.env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    previous = sigap.settings._current
    try:
        app = create_app(Settings.from_env())
        with TestClient(app) as client:
            r = client.get("/readyz")
            assert r.status_code == 200 and r.json()["checks"]["storage"] == "ok"
        store = app.state.storage
        assert isinstance(store, S3Storage) and store.endpoint_url == s3_server.endpoint_url
        store.close()
    finally:
        sigap.settings._current = previous  # create_app replaced the process settings


# --- streaming: memory stays flat ---------------------------------------------

RSS_SCRIPT = r"""
import hashlib, json, os, sys
import anyio
from sigap.storage import make_storage

def hwm():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024

path, key = sys.argv[1], sys.argv[2]
storage = make_storage(os.environ["SIGAP_STORAGE_URL"])

async def main():
    await storage.check()
    baseline = hwm()
    with open(path, "rb") as f:
        await storage.put(key, f)
    after_put = hwm()
    digest = hashlib.sha256()
    async for chunk in storage.iter_chunks(key):
        digest.update(chunk)
    after_read = hwm()
    print(json.dumps({"baseline": baseline, "put": after_put - baseline,
                      "read": after_read - after_put, "sha256": digest.hexdigest()}))

anyio.run(main)
storage.close()
"""


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_put_of_64_mib_streams_without_growing_memory(backend, tmp_path, request):
    source = tmp_path / "big.bin"
    expected = write_file(source, 64 * MiB)
    if backend == "local":
        env = {"SIGAP_STORAGE_URL": f"file://{tmp_path / 'documents'}"}
    else:
        env = request.getfixturevalue("s3_server").env()
    result = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, str(source), "big/64mib.bin"],
        cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"{backend}: peak RSS growth put {measured['put'] / MiB:.1f} MiB, read {measured['read'] / MiB:.1f} MiB")
    assert measured["sha256"] == expected
    assert measured["put"] < 30 * MiB
    assert measured["read"] < 30 * MiB
