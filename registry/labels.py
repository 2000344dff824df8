"""Labels of the registry's choices, and the template globals that show them."""

from __future__ import annotations

from registry import documents, services
from sigap.i18n import N_, labeller

DOC_STATE_LABELS = {
    "missing": N_("Missing"),
    "pending": N_("Awaiting verification"),
    "verified": N_("Verified"),
    "rejected": N_("Rejected"),
    "expired": N_("Expired"),
    "superseded": N_("Replaced"),
}
APPLICATION_LABELS = {"new": N_("Registration"), "renewal": N_("Renewal")}
STEP_LABELS = {
    "applied": N_("Applied"),
    "document_check": N_("Document check"),
    "field_verification": N_("Field verification"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
}


TEMPLATE_GLOBALS = {
    "status_label": labeller(services.STATUS_LABELS),
    "accreditation_label": labeller(services.ACCREDITATION_LABELS),
    "risk_label": labeller(services.RISK_LABELS),
    "kind_label": labeller(services.KIND_LABELS),
    "service_label": labeller(services.SERVICES),
    "doc_type_label": documents.type_label,
    "doc_state_label": labeller(DOC_STATE_LABELS),
    "application_label": labeller(APPLICATION_LABELS),
    "step_label": labeller(STEP_LABELS),
}
