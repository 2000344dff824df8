"""Labels of the registry's choices (English message ids, translated where
shown), and the template globals that show them."""

from __future__ import annotations

from registry import documents, services
from registry.tables import AccreditationStatus, LksKind, RegistrationStatus, RiskLevel
from sigap.i18n import N_, labeller

KIND_LABELS = {
    LksKind.lksa: N_("LKSA (children)"),
    LksKind.elderly: N_("Elderly"),
    LksKind.disability: N_("Persons with disabilities"),
    LksKind.rehabilitation: N_("Social rehabilitation / NAPZA"),
    LksKind.other: N_("Other"),
}
STATUS_LABELS = {
    RegistrationStatus.unregistered: N_("Unregistered"),
    RegistrationStatus.applied: N_("Applied"),
    RegistrationStatus.document_check: N_("Document check"),
    RegistrationStatus.field_verification: N_("Field verification"),
    RegistrationStatus.registered: N_("Registered"),
    RegistrationStatus.expired: N_("Expired"),
    RegistrationStatus.suspended: N_("Suspended"),
    RegistrationStatus.revoked: N_("Revoked"),
    RegistrationStatus.closed: N_("Closed"),
}
ACCREDITATION_LABELS = {
    AccreditationStatus.none: N_("Not accredited"),
    AccreditationStatus.in_process: N_("Accreditation in process"),
    AccreditationStatus.accredited: N_("Accredited"),
    AccreditationStatus.expired: N_("Accreditation expired"),
}
RISK_LABELS = {RiskLevel.high: N_("High risk"), RiskLevel.medium: N_("Medium risk"), RiskLevel.low: N_("Low risk")}
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
    "status_label": labeller(STATUS_LABELS),
    "accreditation_label": labeller(ACCREDITATION_LABELS),
    "risk_label": labeller(RISK_LABELS),
    "kind_label": labeller(KIND_LABELS),
    "service_label": labeller(services.SERVICES),
    "doc_type_label": documents.type_label,
    "doc_state_label": labeller(DOC_STATE_LABELS),
    "application_label": labeller(APPLICATION_LABELS),
    "step_label": labeller(STEP_LABELS),
}
