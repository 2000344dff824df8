"""Labels of joint monitoring's choices, and the template globals that show them."""

from __future__ import annotations

from inspections import services
from inspections.tables import FindingSeverity
from sigap.i18n import N_, labeller

FINDING_SEVERITY_LABELS = {
    FindingSeverity.minor: N_("Minor"),
    FindingSeverity.major: N_("Major"),
    FindingSeverity.critical: N_("Critical"),
}
INCIDENT_STATUS_LABELS = {"open": N_("Open"), "closed": N_("Closed")}


TEMPLATE_GLOBALS = {
    "task_kind_label": labeller(services.TASK_KIND_LABELS),
    "task_status_label": labeller(services.TASK_STATUS_LABELS),
    "visit_outcome_label": labeller(services.OUTCOME_LABELS),
    "agency_label": labeller(services.AGENCY_LABELS),
    "incident_source_label": labeller(services.SOURCE_LABELS),
    "incident_category_label": labeller(services.CATEGORY_LABELS),
    "incident_severity_label": labeller(services.SEVERITY_LABELS),
    "incident_status_label": labeller(INCIDENT_STATUS_LABELS),
    "incident_action_label": labeller(services.ACTION_LABELS),
    "referral_label": labeller(services.REFERRAL_LABELS),
    "finding_severity_label": labeller(FINDING_SEVERITY_LABELS),
}
