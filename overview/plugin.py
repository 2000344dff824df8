"""The overview's one entry into the app and the CLI: its menu entries, the
home page panels it adds, its jobs and (when an app is built) its routes."""

from __future__ import annotations

from typing import Any

from overview.dashboard.panel import home_panel
from sigap.wiring import HOME_PANELS, DomainPlugin, Wiring


class OverviewPlugin(DomainPlugin):
    name = "overview"

    def wire(self, wiring: Wiring) -> None:
        wiring.contribute(HOME_PANELS, home_panel)

    def route_handlers(self) -> list[Any]:
        from overview.dashboard.controllers import route_handlers as dashboard

        return [*dashboard]
