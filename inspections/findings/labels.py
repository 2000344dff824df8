"""Labels of the findings' choices, for the templates (the severity's
``finding_severity_label`` is among joint monitoring's own globals)."""

from inspections.findings.services import FINDING_STATUS_LABELS, RESPONSIBLE_LABELS
from sigap.i18n import labeller

TEMPLATE_GLOBALS: dict = {
    "finding_status_label": labeller(FINDING_STATUS_LABELS),
    "responsible_label": labeller(RESPONSIBLE_LABELS),
}
