"""Visit report controllers: staff pages and review (``pages``), the JSON
API (``api``) and the tablet's offline form (``tablet``)."""

from inspections.visits.controllers.api import route_handlers as api
from inspections.visits.controllers.pages import route_handlers as pages
from inspections.visits.controllers.tablet import route_handlers as tablet

route_handlers = [*pages, *api, *tablet]
