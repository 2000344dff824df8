"""Scheduled work of accreditation: grades past their validity expire
(daily, and at start to catch up a run missed while the app was down)."""

from __future__ import annotations

from datetime import datetime

from accreditation.cycles.services import expire_due


async def expire_grades(*, now: datetime) -> int:
    return await expire_due(now)
