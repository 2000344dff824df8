"""Labels of accreditation's choices, for the templates."""

from __future__ import annotations

from accreditation.assessments.services import STATUS_LABELS as ASSESSMENT_STATUS_LABELS
from accreditation.cycles.services import STAGE_LABELS
from sigap.i18n import labeller

TEMPLATE_GLOBALS = {
    "accreditation_stage_label": labeller(STAGE_LABELS),
    "assessment_status_label": labeller(ASSESSMENT_STATUS_LABELS),
}
