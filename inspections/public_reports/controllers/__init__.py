"""Public reports: the public form and status (``public``) and staff's
triage (``staff``)."""

from inspections.public_reports.controllers.public import route_handlers as public
from inspections.public_reports.controllers.staff import route_handlers as staff

route_handlers = [*public, *staff]
