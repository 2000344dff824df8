"""Scheduled work of the public pages."""

from __future__ import annotations

import os
from datetime import datetime

from registry.public.services import rate_limit_folder
from sigap.settings import get_settings

STALE_S = 180  # the rate limit's window is a minute; every counted request rewrites its file


async def purge_rate_limits(*, now: datetime) -> int:
    """Remove the rate-limit files of addresses not seen for three minutes
    (the folder store keeps one small file per recent address, named by an
    HMAC of it; Redis expires its own keys)."""
    settings = get_settings()
    folder = rate_limit_folder(settings)
    if settings.redis_url or not folder.is_dir():
        return 0
    removed = 0
    cutoff = now.timestamp() - STALE_S
    for entry in os.scandir(folder):
        try:
            if entry.is_file() and entry.stat().st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:  # another worker's request rewrote or removed it
            continue
    return removed
