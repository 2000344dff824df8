"""Scheduled work of the registry."""

from __future__ import annotations

from datetime import datetime

from registry import workflow


async def expire_registrations(*, now: datetime) -> int:
    """Registered or suspended LKS whose validity has ended become expired (idempotent)."""
    return await workflow.expire_registrations(now=now)


async def load_demo(*, now: datetime, storage, context: dict) -> None:
    """Demo LKS and their documents; the demo manager's LKS goes into ``context``."""
    from registry.demo import load_registry_demo

    context["manager_lks_id"] = await load_registry_demo(now=now, storage=storage, context=context)
