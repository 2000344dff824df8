"""Documents in S3-compatible object storage through boto3."""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator, Callable
from typing import Any, BinaryIO

import anyio
import anyio.to_thread

from sigap.storage.base import (
    CHUNK_SIZE,
    ObjectNotFound,
    StorageError,
    T,
    _iter_chunks,
    _Reader,
    _safe_key,
)

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

    async def keys(self, prefix: str = "") -> list[str]:
        base = f"{self.prefix}/" if self.prefix else ""

        def _keys() -> list[str]:
            found = []
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=base + prefix):
                found.extend(item["Key"][len(base):] for item in page.get("Contents", []))
            return sorted(found)

        return await self._run("listing", _keys)

    async def delete(self, key: str) -> None:
        name = self._key(key)
        await self._run(f"delete of {key!r}", lambda: self.client.delete_object(Bucket=self.bucket, Key=name))

    def close(self) -> None:
        self.client.close()
        self._probe.close()
