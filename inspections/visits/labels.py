"""Labels of the visit report's choices, for the templates."""

TEMPLATE_GLOBALS: dict = {}
