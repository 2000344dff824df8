"""The storage interface, its errors, keys and the streaming helpers both
backends share."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from typing import Any, BinaryIO, Protocol, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")

CHUNK_SIZE = 256 * 1024
"""Default chunk size of :meth:`Storage.iter_chunks` (256 KiB)."""

_COPY_BUFFER = 1024 * 1024
_MAX_KEY_BYTES = 900  # S3 allows 1024 bytes for prefix + key


class StorageError(Exception):
    """Storage could not be reached or refused the operation."""


class ObjectNotFound(StorageError):
    """No object is stored under this key."""


class InvalidKey(StorageError, ValueError):
    """The key is not a safe relative path (``..``, absolute, empty parts)."""


class Storage(Protocol):
    """What the rest of SIGAP may use. Keys are relative, ``/``-separated
    paths such as ``lks/12/documents/3f2a.pdf``."""

    async def check(self) -> None:
        """Raise :class:`StorageError` unless the storage is usable (readiness)."""

    async def put(self, key: str, fileobj: BinaryIO) -> None:
        """Store the rest of ``fileobj`` (read in chunks) under ``key``,
        replacing any object there; readers see the old or the new content,
        never a mix."""

    async def open(self, key: str) -> BinaryIO:
        """A binary file object of the stored content, to ``read(n)`` in
        chunks *from a worker thread* and close; in async code hand it to
        :func:`iter_reader`. A missing object raises :class:`ObjectNotFound`
        here, before anything is streamed."""

    def iter_chunks(self, key: str, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        """The stored content as an async iterator of byte chunks (each read
        in a worker thread). The object is opened on the first iteration, so
        :class:`ObjectNotFound` surfaces there; for an HTTP response use
        :meth:`open` and :func:`iter_reader`."""

    async def exists(self, key: str) -> bool: ...

    async def keys(self, prefix: str = "") -> list[str]:
        """Every stored key under ``prefix`` (for backups), sorted."""

    async def delete(self, key: str) -> None:
        """Remove the object; a missing object is not an error."""

    def close(self) -> None:
        """Release network connections (the object is unusable afterwards)."""


def _safe_key(key: str) -> str:
    """``key`` if it is a safe relative path, else :class:`InvalidKey`."""
    if not isinstance(key, str) or not key:
        raise InvalidKey(f"invalid storage key: {key!r}")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates
        raise InvalidKey(f"invalid storage key: {key!r}") from None
    if (
        size > _MAX_KEY_BYTES
        or key.startswith("/")
        or any(p in {"", ".", ".."} for p in key.split("/"))
        or "\\" in key
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in key)
    ):
        raise InvalidKey(f"invalid storage key: {key!r}")
    return key


class _Reader(io.RawIOBase):
    """A read-only binary file over a backend stream whose failures become
    :class:`StorageError`."""

    def __init__(self, raw: Any, errors: tuple[type[BaseException], ...], what: str, describe: Callable[[BaseException], str]) -> None:
        super().__init__()
        self._raw = raw
        self._errors = errors
        self._what = what
        self._describe = describe
        self.name = what

    def _fail(self, exc: BaseException) -> StorageError:
        return StorageError(f"{self._what}: {self._describe(exc)}")

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        try:
            if size is None or size < 0:
                return self._raw.read()
            return self._raw.read(size)
        except self._errors as exc:
            raise self._fail(exc) from exc

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        n = len(data)
        memoryview(buffer).cast("B")[:n] = data
        return n

    def seekable(self) -> bool:
        seekable = getattr(self._raw, "seekable", None)
        return bool(seekable and seekable())

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if not self.seekable():
            raise io.UnsupportedOperation("seek")
        try:
            return self._raw.seek(offset, whence)
        except self._errors as exc:
            raise self._fail(exc) from exc

    def tell(self) -> int:
        if not self.seekable():
            raise io.UnsupportedOperation("tell")
        return self._raw.tell()

    def close(self) -> None:
        if not self.closed:
            try:
                self._raw.close()
            except Exception:  # noqa: BLE001 - closing a reader never fails the caller
                pass
        super().close()


async def iter_reader(reader: BinaryIO, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
    """Chunks of an opened reader (from :meth:`Storage.open`), each read in a
    worker thread; the reader is closed at the end, on error or when the
    consumer stops early (a client that went away).

    For a Litestar response, open first, so that a missing object is a 404
    and not a stream that breaks after the headers went out::

        reader = await storage.open(key)   # ObjectNotFound -> 404
        return Stream(iter_reader(reader), media_type=...)
    """
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    try:
        while chunk := await anyio.to_thread.run_sync(reader.read, chunk_size):
            yield chunk
    finally:
        await _close(reader)


async def _close(reader: BinaryIO) -> None:
    # Closing an S3 body touches the socket: not on the event loop, and not
    # skipped when the consuming task is being cancelled.
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(reader.close)


async def _iter_chunks(storage: Storage, key: str, chunk_size: int) -> AsyncIterator[bytes]:
    if chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    reader = await storage.open(key)
    try:
        while chunk := await anyio.to_thread.run_sync(reader.read, chunk_size):
            yield chunk
    finally:
        await _close(reader)


def _os_error(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{type(exc).__name__}: {exc.strerror}" + (f" ({exc.filename})" if exc.filename else "")
    return f"{type(exc).__name__}: {exc}"
