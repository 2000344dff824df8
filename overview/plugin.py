"""The overview's one entry into the app and the CLI: its menu entries, the
home page panels it adds, its jobs and (when an app is built) its routes."""

from __future__ import annotations

from typing import Any

from sigap.i18n import N_
from sigap.tables import Role
from sigap.wiring import DomainPlugin, Wiring


class OverviewPlugin(DomainPlugin):
    name = "overview"

    def wire(self, wiring: Wiring) -> None:
        wiring.add_menu(N_("Map"), "/map", {Role.admin, Role.staff}, order=12)  # overview/map

    def route_handlers(self) -> list[Any]:
        from overview.map.controllers import route_handlers as map_handlers

        return [*map_handlers]
