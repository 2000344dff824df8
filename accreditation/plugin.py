"""The accreditation domain's entry (its pages and jobs come with its issue)."""

from __future__ import annotations

from typing import Any

from sigap.wiring import DomainPlugin, Wiring

# --- improvement plans and pembinaan (issue 12, items 4 and 7) -------------------------------
# The hooks joint monitoring offers (inspections.hooks): named here, not
# imported, since accreditation and inspections never import each other.
INSPECTIONS_ALERT_SOURCES = "inspections.alert_sources"
INSPECTIONS_RISK_FACTORS = "inspections.risk_factors"
INSPECTIONS_RISK_REASONS = "inspections.risk_reasons"


def _wire_improvement_and_training(wiring: Wiring) -> None:
    from accreditation.improvement import jobs as improvement_jobs
    from accreditation.improvement.labels import TEMPLATE_GLOBALS as IMPROVEMENT_GLOBALS
    from accreditation.improvement.panel import plan_panel
    from accreditation.training import jobs as training_jobs
    from accreditation.training.demo import load_training_demo
    from accreditation.training.labels import TEMPLATE_GLOBALS as TRAINING_GLOBALS
    from registry.access import STAFF_ROLES
    from registry.hooks import LKS_DETAIL_PANELS
    from sigap.i18n import N_
    from sigap.tables import Role

    wiring.add_menu(N_("Improvement plans"), "/accreditation/improvement", STAFF_ROLES | {Role.manager}, order=52)
    wiring.add_menu(N_("Training"), "/accreditation/training", STAFF_ROLES, order=54)
    wiring.add_template_globals(**IMPROVEMENT_GLOBALS, **TRAINING_GLOBALS)
    wiring.contribute(INSPECTIONS_ALERT_SOURCES, improvement_jobs.overdue_alerts)
    wiring.contribute(INSPECTIONS_RISK_FACTORS, training_jobs.untrained_risk)
    wiring.contribute(INSPECTIONS_RISK_REASONS, training_jobs.RISK_REASONS)
    wiring.contribute(LKS_DETAIL_PANELS, plan_panel)
    wiring.add_job("training-plan", training_jobs.plan_training, hour=0, minute=30)
    wiring.add_demo("training", load_training_demo, order=60)


def _improvement_and_training_routes() -> list[Any]:
    from accreditation.improvement.controllers import route_handlers as improvement
    from accreditation.training.controllers import route_handlers as training

    return [*improvement, *training]


class AccreditationPlugin(DomainPlugin):
    name = "accreditation"

    def wire(self, wiring: Wiring) -> None:
        _wire_improvement_and_training(wiring)

    def route_handlers(self) -> list[Any]:
        return [*_improvement_and_training_routes()]
