"""Document storage behind one interface: a local folder (``file://PATH``,
the default) or S3-compatible object storage (``s3://bucket`` with
``SIGAP_S3_ENDPOINT_URL`` and the standard AWS variables) through boto3.

Files are streamed in both directions, never read whole into memory. boto3
is synchronous: its calls run in a worker thread.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlsplit

import anyio.to_thread


class StorageError(Exception):
    """Storage could not be reached or refused the operation."""


class Storage(Protocol):
    async def check(self) -> None: ...

    async def put(self, key: str, fileobj: BinaryIO) -> None: ...

    async def open(self, key: str) -> BinaryIO: ...

    async def delete(self, key: str) -> None: ...


def _safe_key(key: str) -> str:
    parts = [p for p in key.split("/") if p]
    if not parts or any(p in {".", ".."} for p in parts):
        raise ValueError(f"invalid storage key: {key!r}")
    return "/".join(parts)


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _safe_key(key)

    async def check(self) -> None:
        def _check() -> None:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".probe-"):
                pass

        try:
            await anyio.to_thread.run_sync(_check)
        except OSError as exc:
            raise StorageError(str(exc)) from exc

    async def put(self, key: str, fileobj: BinaryIO) -> None:
        path = self._path(key)

        def _put() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
            try:
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(fileobj, out, 1024 * 1024)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise

        try:
            await anyio.to_thread.run_sync(_put)
        except OSError as exc:
            raise StorageError(str(exc)) from exc

    async def open(self, key: str) -> BinaryIO:
        try:
            return await anyio.to_thread.run_sync(lambda: self._path(key).open("rb"))
        except OSError as exc:
            raise StorageError(str(exc)) from exc

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(lambda: self._path(key).unlink(missing_ok=True))


class S3Storage:
    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None) -> None:
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            config=Config(
                s3={"addressing_style": "path"},
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
            ),
        )

    def _key(self, key: str) -> str:
        key = _safe_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def _call(self, fn, *args, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(str(exc)) from exc

    async def check(self) -> None:
        await self._call(self.client.head_bucket, Bucket=self.bucket)

    async def put(self, key: str, fileobj: BinaryIO) -> None:
        await self._call(self.client.upload_fileobj, fileobj, self.bucket, self._key(key))

    async def open(self, key: str) -> BinaryIO:
        response = await self._call(self.client.get_object, Bucket=self.bucket, Key=self._key(key))
        return response["Body"]

    async def delete(self, key: str) -> None:
        await self._call(self.client.delete_object, Bucket=self.bucket, Key=self._key(key))


def make_storage(url: str, endpoint_url: str | None = None) -> Storage:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return LocalStorage(Path(parts.netloc + parts.path) if parts.netloc else Path(parts.path))
    if parts.scheme == "s3":
        return S3Storage(parts.netloc, parts.path, endpoint_url or os.environ.get("SIGAP_S3_ENDPOINT_URL"))
    raise ValueError(f"unsupported SIGAP_STORAGE_URL scheme: {parts.scheme!r}")
