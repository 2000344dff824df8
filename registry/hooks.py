"""Hooks the registry offers to the domains built on it.

``LKS_DETAIL_PANELS``: a provider ``async (actor, lks) -> dict | None``
returns ``{"template": ..., **context}`` for a panel on the LKS page, or
None when this viewer should see nothing. Another domain contributes one
with ``wiring.contribute(LKS_DETAIL_PANELS, provider)``; the registry never
imports it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

LKS_DETAIL_PANELS = "registry.lks_detail_panels"

DetailPanel = Callable[[Any, dict], Awaitable[dict | None]]
