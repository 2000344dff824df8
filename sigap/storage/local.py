"""Documents in a local folder (the embedded default)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import BinaryIO

import anyio
import anyio.to_thread

from sigap.storage.base import (
    _COPY_BUFFER,
    CHUNK_SIZE,
    ObjectNotFound,
    StorageError,
    T,
    _iter_chunks,
    _os_error,
    _Reader,
    _safe_key,
)

# --- a local folder ------------------------------------------------------------


class LocalStorage:
    """Objects are files under ``root`` (created on first use). New files
    are written as ``0600`` temporary files in the target folder, flushed to
    disk (``fsync=True``) and renamed into place."""

    def __init__(self, root: Path | str, *, fsync: bool = True) -> None:
        self.root = Path(root)
        self.fsync = fsync

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root / _safe_key(key)

    async def _run(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return await anyio.to_thread.run_sync(fn)
        except StorageError:
            raise
        except OSError as exc:
            raise StorageError(f"local storage {what}: {_os_error(exc)}") from exc

    async def check(self) -> None:
        def _check() -> None:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".probe-") as probe:
                probe.write(b"ok")
                probe.flush()

        await self._run(f"check of {self.root}", _check)

    async def put(self, key: str, fileobj: BinaryIO) -> None:
        path = self._path(key)

        def _put() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as out:
                    while chunk := fileobj.read(_COPY_BUFFER):
                        out.write(chunk)
                    if self.fsync:
                        out.flush()
                        os.fsync(out.fileno())
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            if self.fsync:
                dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)

        await self._run(f"put of {key!r}", _put)

    async def open(self, key: str) -> BinaryIO:
        path = self._path(key)

        def _open() -> BinaryIO:
            try:
                return path.open("rb")
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
                raise ObjectNotFound(f"local storage: no object {key!r}") from exc

        raw = await self._run(f"open of {key!r}", _open)
        return _Reader(raw, (OSError,), f"local storage read of {key!r}", _os_error)  # type: ignore[return-value]

    def iter_chunks(self, key: str, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        return _iter_chunks(self, key, chunk_size)

    async def exists(self, key: str) -> bool:
        path = self._path(key)
        return await self._run(f"exists of {key!r}", path.is_file)

    async def keys(self, prefix: str = "") -> list[str]:
        def _keys() -> list[str]:
            if not self.root.is_dir():
                return []
            found = []
            for dirpath, _dirs, files in os.walk(self.root):
                for name in files:
                    if name.startswith((".upload-", ".probe-")):  # a write in progress
                        continue
                    key = (Path(dirpath) / name).relative_to(self.root).as_posix()
                    if key.startswith(prefix):
                        found.append(key)
            return sorted(found)

        return await self._run("listing", _keys)

    async def delete(self, key: str) -> None:
        path = self._path(key)

        def _delete() -> None:
            try:
                path.unlink()
            except (FileNotFoundError, NotADirectoryError):
                pass

        await self._run(f"delete of {key!r}", _delete)

    def close(self) -> None:
        pass
