"""Labels of accreditation's choices, for the templates."""

from __future__ import annotations

from babel.numbers import format_decimal

from accreditation.assessments.services import STATUS_LABELS as ASSESSMENT_STATUS_LABELS
from accreditation.cycles.services import STAGE_LABELS
from sigap.i18n import get_locale, labeller


def score_text(value: float | None) -> str:
    """A score with one decimal in the reader's language (68,3 / 68.3)."""
    return "—" if value is None else format_decimal(value, format="0.0", locale=get_locale())


TEMPLATE_GLOBALS = {
    "accreditation_stage_label": labeller(STAGE_LABELS),
    "assessment_status_label": labeller(ASSESSMENT_STATUS_LABELS),
    "score_text": score_text,
}
