"""The overview's one entry into the app and the CLI: its menu entries, the
home page panels it adds, its jobs and (when an app is built) its routes."""

from __future__ import annotations

from typing import Any

from sigap.wiring import DomainPlugin, Wiring


class OverviewPlugin(DomainPlugin):
    name = "overview"

    def wire(self, wiring: Wiring) -> None:
        pass

    def route_handlers(self) -> list[Any]:
        return []
