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

from pathlib import Path
from urllib.parse import unquote, urlsplit

from sigap.storage.base import (
    CHUNK_SIZE,
    InvalidKey,
    ObjectNotFound,
    Storage,
    StorageError,
    iter_reader,
)
from sigap.storage.local import LocalStorage
from sigap.storage.s3 import S3Storage

__all__ = [
    "CHUNK_SIZE", "InvalidKey", "LocalStorage", "ObjectNotFound", "S3Storage", "Storage", "StorageError", "iter_reader", "make_storage",
]


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
