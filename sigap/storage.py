"""Document storage behind one interface: a local folder (``file://PATH``,
the default) or S3-compatible object storage (``s3://bucket[/prefix]`` with
``SIGAP_S3_ENDPOINT_URL`` and the standard AWS variables) through boto3.

Files are streamed in both directions, never read whole into memory: ``put``
copies from a file object (local: into a temporary file in the same folder,
then an atomic rename; S3: ``upload_fileobj`` with a small, bounded number of
parts in memory), ``open`` gives a file object to read in chunks,
``iter_reader`` turns it into an async iterator of chunks for a streaming
response, and ``iter_chunks`` does both.

Blocking work (file system calls, boto3, which is synchronous) runs in a
worker thread through ``anyio.to_thread``, so the event loop never waits on
a disk or the network.

Every failure is a :class:`StorageError` (an unknown object is the subclass
:class:`ObjectNotFound`, a key that is not allowed :class:`InvalidKey`); its
message names the operation and the cause, never a credential.
"""

from __future__ import annotations

import functools
import io
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeVar
from urllib.parse import unquote, urlsplit

import anyio
import anyio.to_thread

T = TypeVar("T")

CHUNK_SIZE = 256 * 1024
"""Default chunk size of :meth:`Storage.iter_chunks` (256 KiB)."""

_COPY_BUFFER = 1024 * 1024
# S3 uploads: s3transfer copies each part of a multipart upload into memory
# (and reads the next one ahead). Parts of 5 MiB (S3's minimum), one part
# sent at a time. Measured peak RSS growth while uploading 64 MiB: ~17 MiB,
# the same for any larger file (8 MiB parts, two in flight: ~37 MiB; boto3's
# defaults, ten in flight: ~80 MiB). Files under 5 MiB go in one PutObject,
# streamed from the file object.
_S3_PART_SIZE = 5 * 1024 * 1024
_S3_MAX_PARTS_IN_MEMORY = 1
# "Storage down" must fail in seconds, not minutes: 2 s to connect, 10 s of
# silence on a socket, 3 attempts in all (botocore's standard mode waits at
# most 1 s, then 2 s, between them). Connection refused: ~0-3 s; a server
# that accepts but never answers: ~35 s for a transfer. The readiness probe
# (check) has its own client: 2 s of silence, one attempt (probes repeat).
_S3_CONNECT_TIMEOUT = 2
_S3_READ_TIMEOUT = 10
_S3_MAX_ATTEMPTS = 3
_S3_PROBE_READ_TIMEOUT = 2
_S3_PROBE_MAX_ATTEMPTS = 1
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


# --- S3-compatible object storage ----------------------------------------------


@functools.cache
def _shared_loader() -> Any:
    """botocore's data loader (service models, endpoint rules), read once
    per process; its caches are only ever filled with the same values."""
    import botocore.loaders

    return botocore.loaders.create_loader()


class S3Storage:
    """Objects are ``prefix/key`` in ``bucket``. One boto3 client per
    instance (clients are thread-safe; sessions are not), path-style
    addressing and checksums only where the API requires them, so that
    MinIO, SeaweedFS and others behave like AWS. Credentials and region come
    from the arguments or boto3's usual chain (``AWS_ACCESS_KEY_ID``,
    ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``, ...)."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        *,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str | None = None,
        connect_timeout: float = _S3_CONNECT_TIMEOUT,
        read_timeout: float = _S3_READ_TIMEOUT,
        max_attempts: int = _S3_MAX_ATTEMPTS,
    ) -> None:
        import boto3.session
        import botocore.session
        from boto3.exceptions import Boto3Error
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        if not bucket:
            raise ValueError("S3 storage needs a bucket: s3://BUCKET[/prefix]")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            _safe_key(self.prefix)
        self.endpoint_url = endpoint_url
        # Never in a message (botocore's do not carry them; belt and braces).
        # Too short a "secret" would mangle ordinary words: real ones are long.
        candidates = (secret_key, os.environ.get("AWS_SECRET_ACCESS_KEY"), os.environ.get("AWS_SESSION_TOKEN"))
        self._secrets = [s for s in candidates if s and len(s) >= 8]
        self._errors: tuple[type[BaseException], ...] = (BotoCoreError, ClientError, Boto3Error, OSError)
        self._client_error = ClientError
        core = botocore.session.get_session()
        # Parsing S3's service model takes ~0.2 s: share it between instances
        # (the app makes one per create_app, the tests many).
        core.register_component("data_loader", _shared_loader())
        session = boto3.session.Session(
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=region,
            botocore_session=core,
        )

        def client(read: float, attempts: int, pool: int) -> Any:
            return session.client(
                "s3",
                endpoint_url=endpoint_url,
                config=Config(
                    s3={"addressing_style": "path"},
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                    retries={"total_max_attempts": attempts, "mode": "standard"},
                    connect_timeout=connect_timeout,
                    read_timeout=read,
                    max_pool_connections=pool,
                ),
            )

        # Both made here: a boto3 session must not be used from two threads.
        self.client = client(read_timeout, max_attempts, 20)
        self._probe = client(min(read_timeout, _S3_PROBE_READ_TIMEOUT), min(max_attempts, _S3_PROBE_MAX_ATTEMPTS), 2)
        self._transfer_config = TransferConfig(
            multipart_threshold=_S3_PART_SIZE,
            multipart_chunksize=_S3_PART_SIZE,
            max_concurrency=_S3_MAX_PARTS_IN_MEMORY,
            use_threads=True,
            # The CRT client (if awscrt is installed) ignores the settings
            # here and the client's configuration: never use it.
            preferred_transfer_client="classic",
        )
        # s3transfer's own setting, not among boto3's arguments (default 10).
        self._transfer_config.max_in_memory_upload_chunks = _S3_MAX_PARTS_IN_MEMORY

    def __repr__(self) -> str:
        where = f" at {self.endpoint_url}" if self.endpoint_url else ""
        return f"S3Storage('s3://{self.bucket}/{self.prefix}'{where})"

    def _key(self, key: str) -> str:
        key = _safe_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, self._client_error):
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = error.get("Code") or status or "error"
            message = error.get("Message") or ""
            text = f"{code} (HTTP {status})" + (f": {message}" if message and message != code else "")
        else:
            text = f"{type(exc).__name__}: {exc}"
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _is_not_found(self, exc: BaseException) -> bool:
        if not isinstance(exc, self._client_error):
            return False
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return code in {"NoSuchKey", "404", "NotFound"} or status == 404

    async def _run(self, what: str, fn: Callable[[], T]) -> T:
        try:
            return await anyio.to_thread.run_sync(fn)
        except StorageError:
            raise
        except self._errors as exc:
            raise StorageError(f"S3 {what} (bucket {self.bucket!r}): {self._describe(exc)}") from exc

    async def check(self) -> None:
        await self._run("check", lambda: self._probe.head_bucket(Bucket=self.bucket))

    async def put(self, key: str, fileobj: BinaryIO) -> None:
        name = self._key(key)
        await self._run(
            f"put of {key!r}",
            lambda: self.client.upload_fileobj(fileobj, self.bucket, name, Config=self._transfer_config),
        )

    async def open(self, key: str) -> BinaryIO:
        name = self._key(key)

        def _open() -> Any:
            try:
                return self.client.get_object(Bucket=self.bucket, Key=name)["Body"]
            except self._client_error as exc:
                if self._is_not_found(exc):
                    raise ObjectNotFound(f"S3 (bucket {self.bucket!r}): no object {key!r}") from exc
                raise

        body = await self._run(f"open of {key!r}", _open)
        return _Reader(body, self._errors, f"S3 read of {key!r} (bucket {self.bucket!r})", self._describe)  # type: ignore[return-value]

    def iter_chunks(self, key: str, chunk_size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        return _iter_chunks(self, key, chunk_size)

    async def exists(self, key: str) -> bool:
        name = self._key(key)

        def _exists() -> bool:
            try:
                self.client.head_object(Bucket=self.bucket, Key=name)
                return True
            except self._client_error as exc:
                if self._is_not_found(exc):
                    return False
                raise

        return await self._run(f"exists of {key!r}", _exists)

    async def delete(self, key: str) -> None:
        name = self._key(key)
        await self._run(f"delete of {key!r}", lambda: self.client.delete_object(Bucket=self.bucket, Key=name))

    def close(self) -> None:
        self.client.close()
        self._probe.close()


def make_storage(url: str, endpoint_url: str | None = None) -> Storage:
    """The storage named by ``SIGAP_STORAGE_URL``: ``file:///abs/path``
    (``file://relative/path`` is relative to the working directory) or
    ``s3://bucket[/prefix]``; the S3 endpoint defaults to
    ``SIGAP_S3_ENDPOINT_URL`` from the settings (unset: AWS)."""
    from sigap.settings import get_settings

    parts = urlsplit(url)
    if parts.scheme == "file":
        path = unquote(parts.netloc + parts.path) if parts.netloc else unquote(parts.path)
        if not path:
            raise ValueError(f"SIGAP_STORAGE_URL has no folder: {url!r}")
        return LocalStorage(Path(path))
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"SIGAP_STORAGE_URL has no bucket: {url!r}")
        return S3Storage(
            parts.netloc,
            unquote(parts.path),
            endpoint_url or get_settings().s3_endpoint_url,
        )
    raise ValueError(f"unsupported SIGAP_STORAGE_URL scheme: {parts.scheme!r}")
