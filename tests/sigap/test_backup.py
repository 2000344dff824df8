"""Backups that restore: a running app is backed up while it takes writes,
the archive is restored into a fresh database and storage (SQLite and a
folder in the SQLite pass; PostgreSQL and S3 in the PostgreSQL pass), and
every row count and document hash is compared. A damaged archive or a
non-empty target is refused before anything changes."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import BACKEND, ROOT, TMP, password_for, pg_admin, pg_url
from tests.s3 import s3_server  # noqa: F401 - registers the fixture

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


class Place:
    """A database and a document storage of their own."""

    def __init__(self, tag: str, s3) -> None:
        self.folder = TMP / f"backup-{tag}-{uuid.uuid4().hex[:6]}"
        self.env = {"SIGAP_VAR_DIR": str(self.folder / "var"), "SIGAP_SCHEDULER": "0"}
        if BACKEND == "postgres":
            self.dbname = f"sigap_backup_{uuid.uuid4().hex[:8]}"
            pg_admin(f'CREATE DATABASE "{self.dbname}"')
            self.env["SIGAP_DATABASE_URL"] = pg_url(self.dbname)
            self.prefix = s3.unique_prefix("backup")
            self.env.update(s3.env(self.prefix))
            self.s3 = s3
        else:
            self.env["SIGAP_DATABASE_URL"] = f"sqlite:///{self.folder / 'sigap.sqlite3'}"
            self.env["SIGAP_STORAGE_URL"] = f"file://{self.folder / 'documents'}"

    def sigap(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        import os

        return subprocess.run([sys.executable, "-m", "sigap.cli", *args], cwd=ROOT, env={**os.environ, **self.env},
                              input=stdin, capture_output=True, text=True, timeout=300)

    def counts(self) -> dict[str, int]:
        if BACKEND == "postgres":
            async def count() -> dict[str, int]:
                import asyncpg

                con = await asyncpg.connect(self.env["SIGAP_DATABASE_URL"])
                try:
                    tables = [r[0] for r in await con.fetch(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'")]
                    return {t: await con.fetchval(f'SELECT count(*) FROM "{t}"') for t in tables}
                finally:
                    await con.close()

            return asyncio.run(count())
        if not (self.folder / "sigap.sqlite3").exists():
            return {}
        with sqlite3.connect(self.folder / "sigap.sqlite3") as con:
            tables = [r[0] for r in con.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_fts%'")]
            return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}

    def documents(self) -> list[tuple[str, str, int]]:
        if BACKEND == "postgres":
            async def rows():
                import asyncpg

                con = await asyncpg.connect(self.env["SIGAP_DATABASE_URL"])
                try:
                    return [tuple(r) for r in await con.fetch("SELECT storage_key, sha256, size FROM registry_document")]
                finally:
                    await con.close()

            return asyncio.run(rows())
        with sqlite3.connect(self.folder / "sigap.sqlite3") as con:
            return con.execute("SELECT storage_key, sha256, size FROM registry_document").fetchall()

    def stored(self, key: str) -> bytes:
        if BACKEND == "postgres":
            storage = self.s3.storage(self.prefix)
            try:
                async def read() -> bytes:
                    return b"".join([chunk async for chunk in storage.iter_chunks(key)])

                return asyncio.run(read())
            finally:
                storage.close()
        return (self.folder / "documents" / key).read_bytes()

    def drop(self) -> None:
        if BACKEND == "postgres":
            pg_admin(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')


@pytest.fixture
def places(request):
    s3 = request.getfixturevalue("s3_server") if BACKEND == "postgres" else None
    made: list[Place] = []

    def _make(tag: str) -> Place:
        made.append(Place(tag, s3))
        return made[-1]

    yield _make
    for place in made:
        place.drop()


def _client(url: str) -> httpx.Client:
    client = httpx.Client(base_url=url, timeout=30)
    client.get("/login")
    r = client.post("/api/v1/auth/login", json={"username": "rina", "password": password_for("rina")})
    assert r.status_code == 200, r.text
    return client


def _add_lks(client: httpx.Client, i: int) -> None:
    headers = {"X-CSRFToken": client.cookies["sigap_csrf"]}
    r = client.post("/api/v1/lks", headers=headers, json={
        "name": f"LKSA Cadangan {i:03d}", "kind": "lksa", "legal_entity": False, "address": "Jl. Melati 1",
        "rt": "001", "rw": "002", "kelurahan_code": "36.71.11.1005"})
    assert r.status_code == 201, r.text
    r = client.post(f"/api/v1/lks/{r.json()['id']}/documents", headers=headers, data={"doc_type": "npwp"},
                    files={"file": (f"Dokumen – {i}.pdf", PDF + str(i).encode() * 2000, "application/pdf")})
    assert r.status_code == 201, r.text


def test_a_backup_under_writes_restores_every_row_and_document(places, start_server):
    source = places("source")
    assert source.sigap("migrate").returncode == 0
    made = source.sigap("user", "create", "--username", "rina", "--role", "staff", "--password-stdin", stdin=password_for("rina"))
    assert made.returncode == 0, made.stderr
    server = start_server(source.env)
    client = _client(server.url)
    for i in range(5):
        _add_lks(client, i)
    before = source.counts()

    stop, written = threading.Event(), []

    def keep_writing() -> None:  # bounded: at most 200 records or until stopped
        writer = _client(server.url)
        for i in range(100, 300):
            if stop.is_set():
                break
            _add_lks(writer, i)
            written.append(i)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    time.sleep(0.5)
    archive_dir = source.folder / "backups"
    archive_dir.mkdir(parents=True)
    done = source.sigap("backup", str(archive_dir))
    stop.set()
    writer.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert written, "the app took writes while the backup ran"
    after = source.counts()
    [archive] = list(archive_dir.glob("sigap-*.tar"))
    assert archive.stat().st_mode & 0o077 == 0  # children's data: owner only

    target = places("target")
    restored = target.sigap("restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    counts = target.counts()
    assert counts.keys() == before.keys()
    for table, n in counts.items():
        assert before[table] <= n <= after[table], (table, before[table], n, after[table])
    # One writer thread: at most its last LKS was in the snapshot without its document yet.
    assert counts["registry_lks"] >= 5 and counts["registry_lks"] - 1 <= counts["registry_document"] <= counts["registry_lks"]
    for key, sha256, size in target.documents():
        data = target.stored(key)
        assert len(data) == size and hashlib.sha256(data).hexdigest() == sha256, key

    # Restoring over data is refused; nothing changes.
    again = target.sigap("restore", str(archive))
    assert again.returncode == 1 and "not empty" in again.stderr
    assert target.counts() == counts

    # The restored place serves: the same account signs in and sees the same register.
    restored_server = start_server(target.env)
    listing = _client(restored_server.url).get("/api/v1/lks").json()
    assert listing["total"] == counts["registry_lks"]


def test_a_damaged_archive_is_refused_before_anything_changes(places, tmp_path):
    source = places("damaged")
    assert source.sigap("migrate").returncode == 0
    archive = tmp_path / "sigap.tar"
    assert source.sigap("backup", str(archive)).returncode == 0
    with tarfile.open(archive) as tar:
        member = next(m for m in tar.getmembers() if m.name.startswith("database/"))
    data = bytearray(archive.read_bytes())
    data[member.offset_data + member.size // 2] ^= 0xFF  # one flipped byte inside the database
    Path(tmp_path / "damaged.tar").write_bytes(bytes(data))

    target = places("damaged-target")
    refused = target.sigap("restore", str(tmp_path / "damaged.tar"))
    assert refused.returncode == 1 and "SHA-256" in refused.stderr and "database/" in refused.stderr
    assert target.counts() == {}


def test_the_nightly_backup_keeps_the_newest_archives(call, tmp_path):
    from dataclasses import replace
    from datetime import datetime, timedelta, timezone

    from sigap import backup
    from sigap.settings import get_settings, set_settings

    before = get_settings()
    assert call(backup.nightly, now=datetime.now(timezone.utc)).startswith("SIGAP_BACKUP_DIR not set")
    set_settings(replace(before, backup_dir=tmp_path / "nightly", backup_keep=2))
    try:
        start = datetime(2026, 12, 1, 19, 30, tzinfo=timezone.utc)  # 02:30 WIB
        for day in range(3):
            assert "removed" in call(backup.nightly, now=start + timedelta(days=day))
    finally:
        set_settings(before)
    kept = sorted(p.name for p in (tmp_path / "nightly").glob("sigap-*.tar"))
    assert kept == ["sigap-20261203-023000.tar", "sigap-20261204-023000.tar"]
    for name in kept:
        backup.verify(tmp_path / "nightly" / name)
