"""The accreditation domain's tables live in its sub-domains
(``instruments``, ``cycles``, ``assessments``); see ``piccolo_app.TABLE_MODULES``."""
