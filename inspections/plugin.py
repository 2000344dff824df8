"""Joint monitoring's one entry into the app and the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from inspections import alerts, jobs, notify
from inspections.panels import risk_panel
from registry.hooks import LKS_DETAIL_PANELS
from sigap.i18n import N_
from sigap.tables import Role
from sigap.wiring import DomainPlugin, Wiring


async def _demo(*, now: datetime, storage: Any, context: dict) -> None:
    from inspections.demo import load_inspections_demo

    await load_inspections_demo(now=now)


class InspectionsPlugin(DomainPlugin):
    name = "inspections"

    def wire(self, wiring: Wiring) -> None:
        from inspections.labels import TEMPLATE_GLOBALS

        wiring.add_menu(N_("Tasks"), "/tasks", {Role.admin, Role.staff, Role.inspector, Role.partner}, order=20)
        wiring.add_menu(N_("Alerts"), "/alerts", {Role.admin, Role.staff, Role.inspector, Role.partner, Role.manager}, order=30)
        wiring.add_menu(N_("Incidents"), "/incidents", {Role.admin, Role.staff}, order=35)
        wiring.add_menu(N_("Teams"), "/teams", {Role.admin, Role.staff}, order=40)
        wiring.add_template_globals(**TEMPLATE_GLOBALS)
        wiring.add_job("plan", jobs.plan, hour=1, minute=0)
        wiring.add_job("alerts", alerts.raise_alerts, minute=0)
        wiring.add_job("notify", notify.notify, minute="*")
        wiring.add_demo("inspections", _demo, order=30)
        wiring.contribute(LKS_DETAIL_PANELS, risk_panel)

    def route_handlers(self) -> list[Any]:
        from inspections.alert_controllers import route_handlers as alert_routes
        from inspections.controllers import route_handlers

        return [*route_handlers, *alert_routes]
