"""The accreditation domain's one entry into the app and the CLI: menu
entries, template globals, the expiry and training jobs, the instrument
loader, demo cycles and training, the panels on the LKS page, what it adds
to joint monitoring's alerts and risk, and (when an app is built) its routes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accreditation import jobs
from accreditation.cycles import services as cycles
from accreditation.cycles.panel import accreditation_panel
from accreditation.home import manager_accreditation
from accreditation.improvement import jobs as improvement_jobs
from accreditation.improvement.labels import TEMPLATE_GLOBALS as IMPROVEMENT_GLOBALS
from accreditation.improvement.panel import plan_panel
from accreditation.instruments.services import load_shipped_instruments
from accreditation.labels import TEMPLATE_GLOBALS
from accreditation.training import jobs as training_jobs
from accreditation.training.demo import load_training_demo
from accreditation.training.labels import TEMPLATE_GLOBALS as TRAINING_GLOBALS
from registry.access import STAFF_ROLES
from registry.hooks import ACCREDITATION_REPORTED, LKS_DETAIL_PANELS
from sigap import menu
from sigap.i18n import N_
from sigap.tables import Role
from sigap.wiring import AFTER_MIGRATE, HOME_PANELS, DomainPlugin, Wiring

# The hooks joint monitoring offers (inspections.hooks): named here, not
# imported, since accreditation and inspections never import each other.
INSPECTIONS_ALERT_SOURCES = "inspections.alert_sources"
INSPECTIONS_RISK_FACTORS = "inspections.risk_factors"
INSPECTIONS_RISK_REASONS = "inspections.risk_reasons"


async def _demo(*, now: datetime, storage: Any, context: dict) -> None:
    from accreditation.demo import load_accreditation_demo

    await load_accreditation_demo(now=now, context=context)


async def _reported(actor: Any, lks_id: int, *, status: str, grade: str | None, now: datetime, source: str) -> None:
    """An accreditation from the office's spreadsheet becomes a real cycle."""
    await cycles.record_external_grade(lks_id, grade, status, None, actor, now, source)


class AccreditationPlugin(DomainPlugin):
    name = "accreditation"

    def wire(self, wiring: Wiring) -> None:
        wiring.add_menu(N_("Accreditation"), "/accreditation", STAFF_ROLES, order=45, group=menu.ACCREDITATION)
        wiring.add_menu(N_("Self-assessment"), "/accreditation/self-assessment", {Role.manager}, order=45, group=menu.ACCREDITATION)
        wiring.add_menu(N_("Improvement plans"), "/accreditation/improvement", STAFF_ROLES | {Role.manager}, order=52, group=menu.ACCREDITATION)
        wiring.add_menu(N_("Training"), "/accreditation/training", STAFF_ROLES, order=54, group=menu.ACCREDITATION)
        wiring.add_menu(N_("Accreditation settings"), "/admin/accreditation", {Role.admin}, order=925, group=menu.ADMINISTRATION)
        wiring.add_template_globals(**TEMPLATE_GLOBALS, **IMPROVEMENT_GLOBALS, **TRAINING_GLOBALS)
        wiring.contribute(AFTER_MIGRATE, load_shipped_instruments)
        wiring.contribute(LKS_DETAIL_PANELS, accreditation_panel)
        wiring.contribute(LKS_DETAIL_PANELS, plan_panel)
        wiring.contribute(ACCREDITATION_REPORTED, _reported)
        wiring.contribute(INSPECTIONS_ALERT_SOURCES, improvement_jobs.overdue_alerts)
        wiring.contribute(INSPECTIONS_RISK_FACTORS, training_jobs.untrained_risk)
        wiring.contribute(INSPECTIONS_RISK_REASONS, training_jobs.RISK_REASONS)
        wiring.add_job("expire-accreditations", jobs.expire_grades, hour=0, minute=10)
        wiring.add_job("training-plan", training_jobs.plan_training, hour=0, minute=30)
        wiring.add_demo("accreditation", _demo, order=20)
        wiring.add_demo("training", load_training_demo, order=60)
        wiring.contribute(HOME_PANELS, manager_accreditation)  # an LKS manager's home: accreditation and actions

    def route_handlers(self) -> list[Any]:
        from accreditation.assessments.controllers import route_handlers as assessments
        from accreditation.board.controllers import route_handlers as board
        from accreditation.cycles.controllers import route_handlers as cycles
        from accreditation.improvement.controllers import route_handlers as improvement
        from accreditation.instruments.controllers import route_handlers as instruments
        from accreditation.training.controllers import route_handlers as training

        return [*board, *cycles, *assessments, *instruments, *improvement, *training]
