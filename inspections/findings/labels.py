"""Labels of the findings' choices, for the templates."""

TEMPLATE_GLOBALS: dict = {}
