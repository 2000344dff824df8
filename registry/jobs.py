"""Scheduled work of the registry."""

from __future__ import annotations

from datetime import datetime

from registry import services
from sigap import scheduler


async def expire_registrations(*, now: datetime) -> int:
    """Registered LKS whose validity has ended become expired (idempotent)."""
    return await services.expire_registrations(now=now)


scheduler.register("expire-registrations", expire_registrations, hour=0, minute=5)
