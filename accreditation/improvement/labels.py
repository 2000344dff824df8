"""Labels of the improvement plans' choices, for the templates."""

from accreditation.improvement.services import ACTION_SOURCE_LABELS, ACTION_STATUS_LABELS, NOTE_KIND_LABELS
from sigap.i18n import labeller

TEMPLATE_GLOBALS: dict = {
    "action_status_label": labeller(ACTION_STATUS_LABELS),
    "action_source_label": labeller(ACTION_SOURCE_LABELS),
    "action_note_label": labeller(NOTE_KIND_LABELS),
}
