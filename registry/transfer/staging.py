"""Uploaded import files kept between the dry run and the commit (a browser
cannot send a file twice), in the document storage so that any app
instance can commit a file another one checked.

The file is stored under ``staging/import/<token>``; a row of
:class:`StagedImport` holds its token and age. A commit *claims* the file
by setting ``claimed_at`` in one conditional update, so of two concurrent
commits of the same token exactly one gets it (the database decides, not
the storage: S3 has no atomic rename). A file is kept for a day at most;
storing a new one removes the older ones.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import datetime, timedelta
from typing import BinaryIO

import anyio
import anyio.to_thread

from registry.transfer.tables import StagedImport
from sigap.db import write_transaction
from sigap.settings import Settings
from sigap.storage import ObjectNotFound, Storage, StorageError

UPLOAD_TTL = timedelta(days=1)
PREFIX = "staging/import/"
_TOKEN_RE = re.compile(r"[0-9a-f]{32}")


def storage_key(token: str) -> str:
    return PREFIX + token


def _live(token: str, now: datetime):
    return (StagedImport.token == token) & (StagedImport.created_at >= now - UPLOAD_TTL)


async def purge(storage: Storage, *, now: datetime) -> int:
    """Remove the files kept longer than a day (never applied, or left
    behind); returns how many."""
    old = await StagedImport.select(StagedImport.token).where(StagedImport.created_at < now - UPLOAD_TTL)
    for row in old:
        await discard(storage, row["token"])
    return len(old)


async def purge_for_retention(now: datetime, settings: Settings, storage: Storage) -> dict[str, int]:
    """The daily retention job's share (``sigap.retention.RETENTION``)."""
    return {"staged_imports": await purge(storage, now=now)}


async def stage(storage: Storage, content: bytes, *, now: datetime) -> str:
    """Keep ``content`` for its commit; returns its token. Raises
    :class:`StorageError` when the storage cannot take it."""
    await purge(storage, now=now)
    token = uuid.uuid4().hex
    # The row first: a file in storage always has a row that purges it.
    async with write_transaction():
        await StagedImport.insert(StagedImport(token=token, created_at=now))
    try:
        await storage.put(storage_key(token), io.BytesIO(content))
    except BaseException:
        with anyio.CancelScope(shield=True):
            await discard(storage, token)
        raise
    return token


async def peek(storage: Storage, token: str, *, now: datetime) -> BinaryIO | None:
    """A kept file, not yet claimed, opened for reading (the mapping step and
    the dry run); None when it is unknown, older than a day or claimed."""
    if not _TOKEN_RE.fullmatch(token or ""):
        return None
    live = await StagedImport.exists().where(_live(token, now) & StagedImport.claimed_at.is_null())
    if not live:
        return None
    try:
        return await storage.open(storage_key(token))
    except ObjectNotFound:
        return None


async def was_claimed(token: str) -> bool:
    """Whether a commit took (or is applying) this file: a second commit is a conflict."""
    if not _TOKEN_RE.fullmatch(token or ""):
        return False
    return await StagedImport.exists().where((StagedImport.token == token) & StagedImport.claimed_at.is_not_null())


async def set_mapping(token: str, mapping: str) -> None:
    """Keep the confirmed mapping of a file for its commit."""
    async with write_transaction():
        await StagedImport.update({StagedImport.mapping: mapping}).where(
            (StagedImport.token == token) & StagedImport.claimed_at.is_null()
        )


async def claim(storage: Storage, token: str, *, now: datetime) -> tuple[BinaryIO, str] | None:
    """Take a kept file for its commit: its content opened for reading
    (from a worker thread) and its confirmed mapping (JSON, "" for none), or
    None when it is unknown, older than a day or claimed by another commit.
    Give it back with :func:`release` if the commit fails, or mark it
    :func:`applied` once done."""
    if not _TOKEN_RE.fullmatch(token or ""):
        return None
    async with write_transaction():
        claimed = await (
            StagedImport.update({StagedImport.claimed_at: now})
            .where(_live(token, now) & StagedImport.claimed_at.is_null())
            .returning(StagedImport.id, StagedImport.mapping)
        )
    if not claimed:
        return None
    try:
        return await storage.open(storage_key(token)), claimed[0]["mapping"]
    except ObjectNotFound:
        await discard(storage, token)
        return None
    except BaseException:
        with anyio.CancelScope(shield=True):
            await release(token)
        raise


async def release(token: str) -> None:
    """Give back a claimed file whose commit failed (it can be retried)."""
    async with write_transaction():
        await StagedImport.update({StagedImport.claimed_at: None}).where(StagedImport.token == token)


async def close(reader: BinaryIO) -> None:
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(reader.close)


async def applied(storage: Storage, token: str, *, now: datetime) -> None:
    """An applied file: removed from the storage; its row stays (claimed)
    until the purge, so that a second commit is told it was applied."""
    try:
        await storage.delete(storage_key(token))
    except StorageError:
        pass  # the purge tries again
    async with write_transaction():
        await StagedImport.update({StagedImport.applied_at: now}).where(StagedImport.token == token)


async def discard(storage: Storage, token: str) -> None:
    """Remove a kept file (applied, or too old)."""
    try:
        await storage.delete(storage_key(token))
    except StorageError:
        return  # the row stays: the next purge tries again
    async with write_transaction():
        await StagedImport.delete().where(StagedImport.token == token)
