"""Labels of pembinaan's choices, for the templates."""

from accreditation.training.services import ROLE_LABELS, TOPIC_LABELS
from sigap.i18n import labeller

TEMPLATE_GLOBALS: dict = {
    "training_topic_label": labeller(TOPIC_LABELS),
    "attendee_role_label": labeller(ROLE_LABELS),
}
