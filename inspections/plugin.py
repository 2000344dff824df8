"""Joint monitoring's one entry into the app and the CLI: its sub-domains'
menu entries, template globals, jobs, demo data, the risk panel on the
registry's LKS page, and (when an app is built) their controllers."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from inspections import audit_names
from inspections.alerts import jobs as alert_jobs
from inspections.findings import services as findings
from inspections.findings.home import manager_findings
from inspections.findings.labels import TEMPLATE_GLOBALS as FINDINGS_GLOBALS
from inspections.hooks import lazy_alert_sources, lazy_risk
from inspections.incidents import services as incidents
from inspections.planning import jobs as planning_jobs
from inspections.planning import services as planning
from inspections.planning.home import field_home
from inspections.planning.risk import risk_panel
from inspections.public_reports import audit_names as public_report_names
from inspections.public_reports import jobs as public_report_jobs
from inspections.teams import services as teams
from inspections.visits import gate
from inspections.visits.checklists import load_shipped_checklists
from inspections.visits.labels import TEMPLATE_GLOBALS as VISITS_GLOBALS
from registry.access import FIELD_ROLES, STAFF_ROLES
from registry.hooks import (
    FIELD_VERIFICATION_STARTED,
    LKS_DETAIL_PANELS,
    PARTNER_AREA,
    REGISTRATION_APPROVAL_CHECKS,
    UNREGISTERED_REPORTED,
)
from sigap import menu
from sigap.i18n import N_, labeller
from sigap.retention import RETENTION
from sigap.tables import Role
from sigap.wiring import (
    ACTION_LABELS,
    AFTER_MIGRATE,
    ENTITY_NAMES,
    HOME_PANELS,
    DomainPlugin,
    Wiring,
)

# Labels of joint monitoring's choices, for the templates.
TEMPLATE_GLOBALS = {
    "task_kind_label": labeller(planning.TASK_KIND_LABELS),
    "task_status_label": labeller(planning.TASK_STATUS_LABELS),
    "visit_outcome_label": labeller(planning.OUTCOME_LABELS),
    "finding_severity_label": labeller(findings.FINDING_SEVERITY_LABELS),
    "agency_label": labeller(teams.AGENCY_LABELS),
    "incident_source_label": labeller(incidents.SOURCE_LABELS),
    "incident_category_label": labeller(incidents.CATEGORY_LABELS),
    "incident_severity_label": labeller(incidents.SEVERITY_LABELS),
    "incident_status_label": labeller(incidents.STATUS_LABELS),
    "incident_action_label": labeller(incidents.ACTION_LABELS),
    "referral_label": labeller(incidents.REFERRAL_LABELS),
}


async def _demo(*, now: datetime, storage: Any, context: dict) -> None:
    from inspections.demo import load_inspections_demo

    await load_inspections_demo(now=now)


class InspectionsPlugin(DomainPlugin):
    name = "inspections"

    def wire(self, wiring: Wiring) -> None:
        wiring.add_menu(N_("Tasks"), "/tasks", STAFF_ROLES | FIELD_ROLES, order=20, group=menu.MONITORING)
        wiring.add_menu(N_("Alerts"), "/alerts", STAFF_ROLES | FIELD_ROLES | {Role.manager}, order=30)
        wiring.add_menu(N_("Incidents"), "/incidents", STAFF_ROLES, order=35, group=menu.INCIDENTS)
        wiring.add_menu(N_("Teams"), "/teams", STAFF_ROLES, order=40, group=menu.MONITORING)
        wiring.add_template_globals(**TEMPLATE_GLOBALS, **VISITS_GLOBALS, **FINDINGS_GLOBALS)
        wiring.contribute(AFTER_MIGRATE, load_shipped_checklists)
        # Other domains' risk factors and alert sources, read when the job runs.
        wiring.add_job("plan", partial(planning_jobs.plan, factors=lazy_risk(wiring)), hour=1, minute=0)
        wiring.add_job("alerts", partial(alert_jobs.raise_alerts, sources=lazy_alert_sources(wiring)), minute=0)
        wiring.add_job("notify", alert_jobs.notify, minute="*")
        wiring.add_demo("inspections", _demo, order=30)
        wiring.add_menu(N_("Visits"), "/visits", STAFF_ROLES, order=25, group=menu.MONITORING)
        wiring.add_menu(N_("Findings"), "/findings", STAFF_ROLES | {Role.manager}, order=32, group=menu.MONITORING)
        wiring.add_menu(N_("Checklists"), "/admin/checklists", {Role.admin}, order=920, group=menu.ADMINISTRATION)
        wiring.contribute(LKS_DETAIL_PANELS, risk_panel(lazy_risk(wiring)))
        wiring.contribute(LKS_DETAIL_PANELS, findings.findings_panel)
        wiring.contribute(REGISTRATION_APPROVAL_CHECKS, gate.verification_visit_problems)
        wiring.contribute(FIELD_VERIFICATION_STARTED, gate.create_verification_task)
        wiring.contribute(RETENTION, alert_jobs.purge_outbox)
        wiring.contribute(UNREGISTERED_REPORTED, planning.start_unregistered_check)
        wiring.contribute(PARTNER_AREA, teams.partner_area)
        for namer in audit_names.NAMERS:
            wiring.contribute(ENTITY_NAMES, namer)
        wiring.contribute(ACTION_LABELS, audit_names.ACTION_LABELS)
        wiring.contribute(HOME_PANELS, field_home)  # inspectors' and partners' home: their tasks
        wiring.contribute(HOME_PANELS, manager_findings)  # an LKS manager's home: findings to answer
        wiring.add_menu(N_("Public reports"), "/public-reports", STAFF_ROLES, order=36, group=menu.INCIDENTS)
        wiring.contribute(ENTITY_NAMES, public_report_names.NAMER)
        wiring.contribute(ACTION_LABELS, public_report_names.ACTION_LABELS)
        wiring.contribute(RETENTION, public_report_jobs.purge_contacts)

    def route_handlers(self) -> list[Any]:
        from inspections.alerts.controllers import route_handlers as alerts
        from inspections.findings.controllers import route_handlers as findings
        from inspections.incidents.controllers import route_handlers as incidents
        from inspections.planning.controllers import route_handlers as planning
        from inspections.public_reports.controllers import route_handlers as public_reports
        from inspections.teams.controllers import route_handlers as teams
        from inspections.visits.controllers import route_handlers as visits

        return [*teams, *planning, *incidents, *alerts, *visits, *findings, *public_reports]
