"""Labels of the visit report's choices, for the templates."""

from inspections.visits.services import OUTCOME_LABELS, STATUS_LABELS
from sigap.i18n import labeller

TEMPLATE_GLOBALS: dict = {
    "report_outcome_label": labeller(OUTCOME_LABELS),
    "report_status_label": labeller(STATUS_LABELS),
}
