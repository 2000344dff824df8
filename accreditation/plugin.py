"""The accreditation domain's one entry into the app and the CLI: menu
entries, template globals, the expiry job, the instrument loader, demo
cycles, the panel on the LKS page, and (when an app is built) its routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accreditation import jobs
from accreditation.cycles.panel import accreditation_panel
from accreditation.instruments.services import load_shipped_instruments
from accreditation.labels import TEMPLATE_GLOBALS
from registry.access import STAFF_ROLES
from registry.hooks import LKS_DETAIL_PANELS
from sigap.i18n import N_
from sigap.tables import Role
from sigap.wiring import AFTER_MIGRATE, DomainPlugin, Wiring


async def _demo(*, now: datetime, storage: Any, context: dict) -> None:
    from accreditation.demo import load_accreditation_demo

    await load_accreditation_demo(now=now, context=context)


class AccreditationPlugin(DomainPlugin):
    name = "accreditation"

    def wire(self, wiring: Wiring) -> None:
        wiring.add_menu(N_("Accreditation"), "/accreditation", STAFF_ROLES, order=45)
        wiring.add_menu(N_("Self-assessment"), "/accreditation/self-assessment", {Role.manager}, order=45)
        wiring.add_menu(N_("Accreditation settings"), "/admin/accreditation", {Role.admin}, order=895)
        wiring.add_template_globals(**TEMPLATE_GLOBALS)
        wiring.contribute(AFTER_MIGRATE, load_shipped_instruments)
        wiring.contribute(LKS_DETAIL_PANELS, accreditation_panel)
        wiring.add_job("expire-accreditations", jobs.expire_grades, hour=0, minute=10)
        wiring.add_demo("accreditation", _demo, order=20)

    def route_handlers(self) -> list[Any]:
        from accreditation.assessments.controllers import route_handlers as assessments
        from accreditation.board.controllers import route_handlers as board
        from accreditation.cycles.controllers import route_handlers as cycles
        from accreditation.instruments.controllers import route_handlers as instruments

        return [*board, *cycles, *assessments, *instruments]
