"""The overview's one entry into the app and the CLI: its menu entries, the
home page panels it adds, its jobs and (when an app is built) its routes."""

from __future__ import annotations

from typing import Any

from overview.dashboard.panel import DashboardPanel
from overview.monthly import audit_names as monthly_audit
from overview.monthly import jobs as monthly_jobs
from overview.monthly.document import month_title
from registry.access import STAFF_ROLES
from sigap import menu
from sigap.i18n import N_
from sigap.wiring import ACTION_LABELS, ENTITY_NAMES, HOME_PANELS, DomainPlugin, Wiring


class OverviewPlugin(DomainPlugin):
    name = "overview"

    def wire(self, wiring: Wiring) -> None:
        wiring.contribute(HOME_PANELS, DashboardPanel(wiring.render))  # its own cache, one per app
        wiring.add_menu(N_("Monthly reports"), "/reports/monthly", STAFF_ROLES, order=60)
        wiring.add_template_globals(monthly_report_month=month_title)
        # Last month's report on the 1st, 01:30 WIB (after the expiry jobs of 00:05 and 00:10).
        wiring.add_job("monthly-report", monthly_jobs.monthly_report, day=1, hour=1, minute=30)
        wiring.contribute(ENTITY_NAMES, monthly_audit.NAMER)
        wiring.contribute(ACTION_LABELS, monthly_audit.ACTION_LABELS)
        wiring.add_menu(N_("Map"), "/map", STAFF_ROLES, order=12, group=menu.LKS)

    def route_handlers(self) -> list[Any]:
        from overview.dashboard.controllers import route_handlers as dashboard
        from overview.map.controllers import route_handlers as map_handlers
        from overview.monthly.controllers import route_handlers as monthly_handlers

        return [*dashboard, *monthly_handlers, *map_handlers]
