"""Backups that restore: ``sigap backup PATH`` writes one tar archive with a
consistent snapshot of the database (SQLite's online backup API, or
``pg_dump``) and every stored document (folder or S3), and a manifest of
SHA-256 sums; the app keeps serving meanwhile. ``sigap restore PATH`` checks
every sum first, then loads it all into an empty database and an empty
storage. A nightly job (``backup``) writes one into ``SIGAP_BACKUP_DIR`` and
keeps the newest ``SIGAP_BACKUP_KEEP``.

The database is copied before the documents are listed: a document row can
only exist after its file was stored, so every row in the snapshot finds its
file in the archive (files stored later are extra, and harmless)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import anyio.to_thread

from sigap.db import sqlite_path
from sigap.i18n import WIB
from sigap.settings import Settings
from sigap.storage import Storage

FORMAT = "sigap-backup/1"
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database/sigap.sqlite3"
PG_MEMBER = "database/sigap.pgdump"
DOCUMENTS = "documents/"
SKIPPED_PREFIXES = ("staging/",)  # import files waiting for a commit: transient
ARCHIVE_GLOB = "sigap-*.tar"
CHUNK = 1024 * 1024


class BackupError(Exception):
    """The backup or the restore cannot go on; the message says why."""


@dataclass
class BackupResult:
    path: Path
    documents: int
    size: int

    def __str__(self) -> str:
        return f"{self.path} ({self.documents} documents, {self.size / 1_048_576:.1f} MiB)"


def _sha256_file(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _copy_hashing(source: BinaryIO, target: BinaryIO) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        target.write(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgresql:", "postgres:"))


def _snapshot_sqlite(url: str, target: Path) -> None:
    """One consistent copy while others keep writing (WAL): the backup API
    copies every page within one read transaction."""
    source = sqlite3.connect(f"file:{sqlite_path(url)}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy, pages=-1)
    finally:
        copy.close()
        source.close()


def _run(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    except FileNotFoundError as exc:
        raise BackupError(f"{what}: {command[0]} is not installed (apt-get install postgresql-client)") from exc
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip()[:500]}")


async def _snapshot_database(settings: Settings, folder: Path) -> tuple[str, Path]:
    if _is_postgres(settings.database_url):
        target = folder / "sigap.pgdump"
        command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}", settings.database_url]
        await anyio.to_thread.run_sync(_run, command, "pg_dump")
        return PG_MEMBER, target
    target = folder / "sigap.sqlite3"
    await anyio.to_thread.run_sync(_snapshot_sqlite, settings.database_url, target)
    return SQLITE_MEMBER, target


async def backup(settings: Settings, storage: Storage, target: Path, *, now: datetime) -> BackupResult:
    """Write the archive to ``target`` (a file, or a folder to put
    ``sigap-YYYYmmdd-HHMMSS.tar`` in). Written beside and renamed into place:
    a crash never leaves a half archive under the final name."""
    if target.is_dir():
        target = target / f"sigap-{now.astimezone(WIB):%Y%m%d-%H%M%S}.tar"
    target.parent.mkdir(parents=True, exist_ok=True)
    members: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".backup-") as work:
        folder = Path(work)
        partial = folder / "archive.tar"
        db_member, db_file = await _snapshot_database(settings, folder)
        with tarfile.open(partial, "w") as tar:
            members[db_member] = {"sha256": await anyio.to_thread.run_sync(_sha256_file, db_file), "size": db_file.stat().st_size}
            await anyio.to_thread.run_sync(tar.add, db_file, db_member)
            db_file.unlink()
            keys = [k for k in await storage.keys() if not k.startswith(SKIPPED_PREFIXES)]
            for key in keys:
                members[DOCUMENTS + key] = await _add_document(storage, tar, key, folder)
            manifest = {
                "format": FORMAT, "created_at": now.isoformat(), "database": "postgresql" if db_member == PG_MEMBER else "sqlite",
                "documents": len(keys), "members": members,
            }
            data = json.dumps(manifest, indent=1, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(now.timestamp())
            with tempfile.TemporaryFile() as buffer:
                buffer.write(data)
                buffer.seek(0)
                tar.addfile(info, buffer)
        os.chmod(partial, 0o600)  # children's data: readable by the owner only
        os.replace(partial, target)
    return BackupResult(target, len(keys), target.stat().st_size)


async def _add_document(storage: Storage, tar: tarfile.TarFile, key: str, folder: Path) -> dict:
    """Stream one stored object into the archive through a temporary file
    (tar needs the size first); memory stays flat for any size."""
    spool = folder / "document"
    reader = await storage.open(key)
    try:
        with spool.open("wb") as out:
            sha256, size = await anyio.to_thread.run_sync(_copy_hashing, reader, out)
    finally:
        await anyio.to_thread.run_sync(reader.close)
    await anyio.to_thread.run_sync(tar.add, spool, DOCUMENTS + key)
    spool.unlink()
    return {"sha256": sha256, "size": size}


# --- restore -------------------------------------------------------------------


def _read_manifest(tar: tarfile.TarFile) -> dict:
    try:
        manifest = json.load(tar.extractfile(MANIFEST))
    except (KeyError, ValueError, TypeError) as exc:
        raise BackupError("not a SIGAP backup: no readable manifest.json") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def verify(archive: Path) -> dict:
    """Check every member against the manifest; return the manifest."""
    with tarfile.open(archive, "r") as tar:
        manifest = _read_manifest(tar)
        names = {m.name for m in tar.getmembers() if m.isfile()} - {MANIFEST}
        expected = set(manifest["members"])
        if names != expected:
            missing, extra = sorted(expected - names), sorted(names - expected)
            raise BackupError(f"the archive does not match its manifest (missing: {missing[:5]}, unexpected: {extra[:5]})")
        for name, meta in manifest["members"].items():
            digest = hashlib.sha256()
            source = tar.extractfile(name)
            while chunk := source.read(CHUNK):
                digest.update(chunk)
            if digest.hexdigest() != meta["sha256"]:
                raise BackupError(f"{name}: SHA-256 does not match the manifest (the archive is damaged)")
    return manifest


async def _database_is_empty(settings: Settings) -> bool:
    if _is_postgres(settings.database_url):
        import asyncpg

        connection = await asyncpg.connect(settings.database_url)
        try:
            count = await connection.fetchval("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        finally:
            await connection.close()
        return count == 0
    path = sqlite_path(settings.database_url)
    if not path.exists():
        return True
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0] == 0


def _restore_sqlite(tar_path: Path, url: str) -> None:
    path = sqlite_path(url)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tar_path, "r") as tar, tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as out:
        shutil.copyfileobj(tar.extractfile(SQLITE_MEMBER), out, CHUNK)
    with sqlite3.connect(out.name) as check:
        if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError("the database in the archive fails SQLite's integrity check")
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.replace(out.name, path)


def _restore_postgres(tar_path: Path, url: str) -> None:
    with tempfile.TemporaryDirectory() as work, tarfile.open(tar_path, "r") as tar:
        dump = Path(work) / "sigap.pgdump"
        with dump.open("wb") as out:
            shutil.copyfileobj(tar.extractfile(PG_MEMBER), out, CHUNK)
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={url}", str(dump)], "pg_restore")


async def restore(settings: Settings, storage: Storage, archive: Path) -> dict:
    """Everything back from ``archive`` into an empty database and storage,
    after every SHA-256 sum checked out. Returns the manifest."""
    manifest = await anyio.to_thread.run_sync(verify, archive)
    postgres = _is_postgres(settings.database_url)
    if (manifest["database"] == "postgresql") != postgres:
        raise BackupError(f"this archive holds a {manifest['database']} database; SIGAP_DATABASE_URL names another kind")
    if not await _database_is_empty(settings):
        raise BackupError("the database is not empty: restore only into a new, empty database")
    if await storage.keys():
        raise BackupError("the document storage is not empty: restore only into a new, empty storage")
    if postgres:
        await anyio.to_thread.run_sync(_restore_postgres, archive, settings.database_url)
    else:
        await anyio.to_thread.run_sync(_restore_sqlite, archive, settings.database_url)
    with tarfile.open(archive, "r") as tar:
        for name in manifest["members"]:
            if name.startswith(DOCUMENTS):
                source = tar.extractfile(name)
                await storage.put(name[len(DOCUMENTS):], source)
    return manifest


# --- the nightly job -------------------------------------------------------------


def prune(folder: Path, keep: int) -> list[Path]:
    """Remove all but the newest ``keep`` archives; return what was removed."""
    archives = sorted(folder.glob(ARCHIVE_GLOB), key=lambda p: p.name, reverse=True)
    removed = archives[keep:]
    for path in removed:
        path.unlink()
    return removed


async def nightly(*, now: datetime) -> str:
    """The ``backup`` job: one archive into SIGAP_BACKUP_DIR, the newest
    SIGAP_BACKUP_KEEP kept. Does nothing where no folder is configured."""
    from sigap.settings import get_settings
    from sigap.storage import make_storage

    settings = get_settings()
    if settings.backup_dir is None:
        return "SIGAP_BACKUP_DIR not set: no backup"
    storage = make_storage(settings.storage_url, settings.s3_endpoint_url)
    try:
        settings.backup_dir.mkdir(parents=True, exist_ok=True)
        result = await backup(settings, storage, settings.backup_dir, now=now)
    finally:
        storage.close()
    removed = prune(settings.backup_dir, settings.backup_keep)
    return f"{result}; {len(removed)} old archive(s) removed"
